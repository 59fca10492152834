/* SPDX-License-Identifier: MIT */
/* Unit tests of analyzer/lifetime.c: each identity rule and the leak decision, on hand-made snapshots. */
#include <criterion/criterion.h>
#include <inttypes.h>

#include "../../analyzer/lifetime.h"

#define T1 0x1111
#define T2 0x2222

/* An object of the list of its generation (one interpreter) */
#define OBJ(addr_, type_, gen_, rank_, content_) OBJF(addr_, type_, gen_, rank_, content_, 0)
/* ... on GC list list_ */
#define OBJL(addr_, type_, gen_, rank_, content_, list_) \
	{ .addr = (addr_), .type_key = (type_), .gen = (gen_), .rank = (rank_), .content = (content_), .list = (list_) }
/* ... with flags (LT_MAY_UNTRACK, LT_MAY_RETRACK) */
#define OBJF(addr_, type_, gen_, rank_, content_, flags_) \
	{ .addr = (addr_), .type_key = (type_), .gen = (gen_), .rank = (rank_), .content = (content_), \
	  .list = (uint16_t)((gen_) < 0 ? 0 : (gen_)), .flags = (flags_) }

static struct lifetimes lt;
static uint64_t seen[16];
static uint16_t checks[16];

static void setup(void)
{
	lifetimes__init(&lt);
}

static void teardown(void)
{
	lifetimes__release(&lt);
}

/* One update with counters c0, c1, c2 at time t. */
static void step(const struct lt_obj *o, size_t n, uint64_t c0, uint64_t c1, uint64_t c2, uint64_t t)
{
	const uint64_t c[3] = { c0, c1, c2 };

	lifetimes__update(&lt, o, n, NULL, c, true, t, seen, checks);
}

TestSuite(lifetime, .init = setup, .fini = teardown);

Test(lifetime, new_objects_start_now)
{
	struct lt_obj o[] = { OBJ(0x1000, T1, 2, 0, 0) };

	step(o, 1, 0, 0, 0, 100);
	cr_assert_eq(seen[0], 100);
}

Test(lifetime, an_old_object_keeps_its_age)
{
	struct lt_obj o[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T1, 2, 1, 0) };

	step(o, 2, 0, 0, 0, 100);
	step(o, 2, 5, 2, 0, 200);
	cr_assert_eq(seen[0], 100);
	cr_assert_eq(seen[1], 100);
	cr_assert_eq(lt.kept, 2);
	cr_assert_eq(checks[0], 2, "seen in %u snapshots, not 2", checks[0]);
	step(o, 2, 5, 2, 0, 300);
	cr_assert_eq(checks[1], 3);
}

Test(lifetime, another_type_at_the_address_is_new)
{
	struct lt_obj a[] = { OBJ(0x1000, T1, 2, 0, 0) }, b[] = { OBJ(0x1000, T2, 2, 0, 0) };

	step(a, 1, 0, 0, 0, 100);
	step(b, 1, 0, 0, 0, 200);
	cr_assert_eq(seen[0], 200);
	cr_assert_eq(lt.reused_type, 1);
}

Test(lifetime, still_in_gen0_after_a_gen0_collection_is_new)
{
	struct lt_obj o[] = { OBJ(0x1000, T1, 0, 0, 0) };

	step(o, 1, 10, 0, 0, 100);
	step(o, 1, 11, 0, 0, 200); /* a gen0 collection happened: a survivor would be in gen1 */
	cr_assert_eq(seen[0], 200);
	cr_assert_eq(lt.reused_collected, 1);
	step(o, 1, 11, 0, 0, 300); /* no collection since: the same object */
	cr_assert_eq(seen[0], 200);
}

Test(lifetime, promotion_needs_a_collection)
{
	struct lt_obj g0[] = { OBJ(0x1000, T1, 0, 0, 0) }, g1[] = { OBJ(0x1000, T1, 1, 0, 0) };

	step(g0, 1, 10, 0, 0, 100);
	step(g1, 1, 10, 0, 0, 200); /* in gen1 with no gen0 collection: cannot be the same */
	cr_assert_eq(seen[0], 200);
	step(g0, 1, 10, 0, 0, 300); /* younger again: new */
	cr_assert_eq(seen[0], 300);
	cr_assert_eq(lt.reused_gen, 1);
	step(g1, 1, 11, 0, 0, 400); /* promoted by a gen0 collection: kept */
	cr_assert_eq(seen[0], 300);
}

Test(lifetime, gen2_order_must_hold)
{
	struct lt_obj a[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T1, 2, 1, 0), OBJ(0x3000, T1, 2, 2, 0) };
	/* 0x1000 now after 0x3000: its address was reused by an object appended at the tail */
	struct lt_obj b[] = { OBJ(0x2000, T1, 2, 0, 0), OBJ(0x3000, T1, 2, 1, 0), OBJ(0x1000, T1, 2, 2, 0) };

	step(a, 3, 5, 5, 5, 100);
	step(b, 3, 6, 6, 5, 200);
	cr_assert_eq(seen[0], 100);
	cr_assert_eq(seen[1], 100);
	cr_assert_eq(seen[2], 200, "the reordered object kept its age");
	cr_assert_eq(lt.reused_order, 1);
}

Test(lifetime, gen2_order_is_not_checked_across_a_full_collection)
{
	struct lt_obj a[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T1, 2, 1, 0) };
	struct lt_obj b[] = { OBJ(0x2000, T1, 2, 0, 0), OBJ(0x1000, T1, 2, 1, 0) };

	step(a, 2, 5, 5, 5, 100);
	step(b, 2, 6, 6, 6, 200); /* a full collection may move objects to the tail */
	cr_assert_eq(seen[0], 100);
	cr_assert_eq(seen[1], 100);
}

/* One reference for rule 8: object to is referred to by object from, by a reference hashing to edge. */
struct ref {
	uint32_t to, from;
	uint64_t edge;
};

/* One update as step() does, with the references refs[0 .. nrefs) between o's objects. */
static void step_refs(const struct lt_obj *o, size_t n, const struct ref *refs, size_t nrefs, uint64_t c0,
		      uint64_t c1, uint64_t c2, uint64_t t)
{
	const uint64_t c[3] = { c0, c1, c2 };
	size_t start[17] = { 0 };
	uint32_t from[32];
	uint64_t edge[32];
	struct lt_refs r = { start, from, edge };
	size_t k = 0;

	cr_assert(n < 16 && nrefs <= 32);
	for (uint32_t i = 0; i < n; i++) { /* by object, as lt_refs wants them */
		start[i] = k;
		for (size_t j = 0; j < nrefs; j++)
			if (refs[j].to == i) {
				from[k] = refs[j].from;
				edge[k++] = refs[j].edge;
			}
	}
	start[n] = k;
	lifetimes__update(&lt, o, n, &r, c, true, t, seen, checks);
}

/*
 * Rule 8: a queue (list 0) holds a tuple (1) that holds a request (2) with a
 * __dict__ (3). A full collection came between two checks, and the tuple at
 * the same address with the same items sits at another index of the list:
 * the one freed from the head and the one appended since. The tuple is new,
 * and with it what only it held.
 */
Test(lifetime, a_full_collection_needs_the_same_references)
{
	struct lt_obj o[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T2, 2, 1, 77), OBJ(0x3000, T1, 2, 2, 0),
			      OBJ(0x4000, T2, 2, 3, 0) };
	const struct ref head[] = { { 1, 0, 100 }, { 2, 1, 201 }, { 3, 2, 300 } };
	const struct ref tail[] = { { 1, 0, 199 }, { 2, 1, 201 }, { 3, 2, 300 } };

	step_refs(o, 4, head, 3, 5, 5, 5, 100);
	step_refs(o, 4, tail, 3, 6, 6, 6, 200);
	cr_assert_eq(seen[0], 100, "the queue itself has no referrer to check: it keeps its age");
	cr_assert_eq(seen[1], 200, "the tuple at another index kept its age");
	cr_assert_eq(seen[2], 200, "the request of a new tuple kept its age");
	cr_assert_eq(seen[3], 200, "the __dict__ of a new request kept its age");
	cr_assert_eq(lt.reused_referrers, 3);
	cr_assert_eq(checks[2], 1);
}

/* ... the same references (and no collection of gen2: its order vouches) keep every age */
Test(lifetime, the_same_references_keep_ages)
{
	struct lt_obj o[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T2, 2, 1, 77), OBJ(0x3000, T1, 2, 2, 0) };
	const struct ref refs[] = { { 1, 0, 100 }, { 2, 1, 201 } };
	const struct ref moved[] = { { 1, 0, 199 }, { 2, 1, 201 } };

	step_refs(o, 3, refs, 2, 5, 5, 5, 100);
	step_refs(o, 3, refs, 2, 6, 6, 6, 200); /* a full collection */
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(seen[i], 100, "object %zu", i);
	step_refs(o, 3, moved, 2, 6, 6, 6, 300); /* gen2's order held: references are not asked */
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(seen[i], 100, "object %zu (ordered)", i);
	cr_assert_eq(lt.reused_referrers, 0);
}

/* One reference left of several is enough; a referrer younger than before is not the same one. */
Test(lifetime, one_reference_left_is_enough)
{
	struct lt_obj a[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T1, 2, 1, 0), OBJ(0x3000, T2, 2, 2, 0),
			      OBJ(0x5000, T2, 2, 3, 0) };
	/* the referrer 0x1000 is another type now: new, so its reference to 0x5000 is not the same */
	struct lt_obj b[] = { OBJ(0x1000, T2, 2, 0, 0), OBJ(0x2000, T1, 2, 1, 0), OBJ(0x3000, T2, 2, 2, 0),
			      OBJ(0x5000, T2, 2, 3, 0) };
	const struct ref before[] = { { 2, 0, 1 }, { 2, 1, 2 }, { 3, 0, 5 } };
	const struct ref after[] = { { 2, 1, 2 }, { 2, 3, 9 }, { 3, 0, 5 } };

	step_refs(a, 4, before, 3, 5, 5, 5, 100);
	step_refs(b, 4, after, 3, 6, 6, 6, 200);
	cr_assert_eq(seen[2], 100, "one reference of the two was still there");
	cr_assert_eq(seen[3], 200, "held by a new object at its old referrer's address");
}

/* A collection moved it to another generation: the references are asked, even with gen2 in order */
Test(lifetime, a_promoted_object_needs_the_same_references)
{
	struct lt_obj a[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T2, 1, 0, 0) };
	struct lt_obj b[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T2, 2, 1, 0) };
	const struct ref before[] = { { 1, 0, 10 } }, after[] = { { 1, 0, 11 } };

	step_refs(a, 2, before, 1, 5, 5, 5, 100);
	step_refs(b, 2, after, 1, 5, 6, 5, 200); /* a gen1 collection */
	cr_assert_eq(seen[0], 100);
	cr_assert_eq(seen[1], 200, "promoted, by another reference: kept its age");
	cr_assert_eq(lt.reused_referrers, 1);
}

/* Held by nothing that was seen (a frame's local, the interpreter): rule 8 has nothing to ask */
Test(lifetime, no_referrer_no_question)
{
	struct lt_obj a[] = { OBJ(0x1000, T1, 1, 0, 0) }, b[] = { OBJ(0x1000, T1, 2, 0, 0) };

	step_refs(a, 1, NULL, 0, 5, 5, 5, 100);
	step_refs(b, 1, NULL, 0, 6, 6, 6, 200);
	cr_assert_eq(seen[0], 100);
}

Test(lifetime, immutable_content_must_match)
{
	struct lt_obj a[] = { OBJ(0x1000, T1, LT_UNTRACKED, 0, 42) }, b[] = { OBJ(0x1000, T1, LT_UNTRACKED, 0, 43) };

	step(a, 1, 0, 0, 0, 100);
	step(a, 1, 1, 1, 1, 200);
	cr_assert_eq(seen[0], 100, "same content, untracked: the same str");
	step(b, 1, 1, 1, 1, 300);
	cr_assert_eq(seen[0], 300);
	cr_assert_eq(lt.reused_content, 1);
}

Test(lifetime, a_gap_resets_the_age)
{
	struct lt_obj o[] = { OBJ(0x1000, T1, 2, 0, 0) };

	step(o, 1, 0, 0, 0, 100);
	step(NULL, 0, 0, 0, 0, 200);
	step(o, 1, 0, 0, 0, 300);
	cr_assert_eq(seen[0], 300);
	cr_assert_eq(checks[0], 1);
}

/* Up to 3.13 only the collected generation's counter moves, yet gen0 is emptied too. */
Test(lifetime, an_older_collection_empties_gen0_too)
{
	struct lt_obj o[] = { OBJ(0x1000, T1, 0, 0, 0) }, g1[] = { OBJ(0x1000, T1, 1, 0, 0) };

	step(o, 1, 10, 3, 0, 100);
	step(o, 1, 10, 4, 0, 200); /* a gen1 collection: a survivor would be in gen2 */
	cr_assert_eq(seen[0], 200);
	cr_assert_eq(lt.reused_collected, 1);
	step(g1, 1, 10, 5, 0, 300); /* in gen1 after a gen1 collection only: not the same */
	cr_assert_eq(seen[0], 300);
	step(g1, 1, 11, 5, 1, 400); /* stays in gen1 only without a gen1 or gen2 collection */
	cr_assert_eq(seen[0], 400);
}

Test(lifetime, gen2_is_reached_only_through_a_gen1_or_gen2_collection)
{
	struct lt_obj g0[] = { OBJ(0x1000, T1, 0, 0, 0) }, g2[] = { OBJ(0x1000, T1, 2, 0, 0) };

	step(g0, 1, 10, 0, 0, 100);
	step(g2, 1, 12, 0, 0, 200); /* gen0 collections only move gen0 to gen1 */
	cr_assert_eq(seen[0], 200);
	step(g0, 1, 12, 0, 0, 300);
	step(g2, 1, 13, 1, 0, 400);
	cr_assert_eq(seen[0], 300);
	step(g0, 1, 13, 1, 0, 500);
	step(g2, 1, 13, 1, 1, 600);
	cr_assert_eq(seen[0], 500);
}

/*
 * The requests of a service: all of them replaced between two snapshots by
 * new ones at the same addresses, promoted to gen2 in the same order. The
 * order alone cannot tell; that one of them is new at its address can: all
 * that was appended after it is new as well.
 */
Test(lifetime, after_an_appended_object_all_are_appended)
{
	struct lt_obj a[] = { OBJ(0x100, T1, 2, 0, 0), OBJ(0x1000, T1, 2, 1, 0), OBJ(0x2000, T1, 2, 2, 0),
			      OBJ(0x3000, T1, 2, 3, 0) };
	struct lt_obj b[] = { OBJ(0x100, T1, 2, 0, 0), OBJ(0x4000, T1, 2, 1, 0), OBJ(0x1000, T1, 2, 2, 0),
			      OBJ(0x2000, T1, 2, 3, 0), OBJ(0x3000, T1, 2, 4, 0) };

	step(a, 4, 5, 5, 5, 100);
	step(b, 5, 9, 7, 5, 200);
	cr_assert_eq(seen[0], 100, "the survivor before the appended ones kept its age");
	cr_assert_eq(seen[1], 200);
	cr_assert_eq(seen[2], 200, "an object after an appended one kept its age");
	cr_assert_eq(seen[3], 200);
	cr_assert_eq(seen[4], 200);
	cr_assert_eq(lt.reused_order, 3);
	cr_assert_eq(lt.kept, 1);
}

/* Objects promoted from younger generations are appended too, and may be old. */
Test(lifetime, promoted_survivors_are_appended)
{
	struct lt_obj a[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T1, 1, 1, 0), OBJ(0x3000, T1, 2, 2, 0) };
	struct lt_obj b[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T1, 2, 1, 0), OBJ(0x3000, T1, 2, 2, 0) };

	step(a, 3, 5, 5, 5, 100);
	step(b, 3, 6, 6, 5, 200);
	cr_assert_eq(seen[0], 100);
	cr_assert_eq(seen[1], 100, "a promoted survivor lost its age");
	cr_assert_eq(seen[2], 200, "0x3000 was before 0x2000 in gen2, so it is new");
}

/* The tail rule works per list: another interpreter's list is not after this one's. */
Test(lifetime, each_list_has_its_own_order)
{
	struct lt_obj a[] = { OBJL(0x1000, T1, 2, 0, 0, 2), OBJL(0x2000, T1, 2, 1, 0, 5) };
	struct lt_obj b[] = { OBJL(0x1000, T1, 2, 0, 0, 2), OBJL(0x3000, T1, 2, 1, 0, 2), OBJL(0x2000, T1, 2, 2, 0, 5) };

	step(a, 2, 5, 5, 5, 100);
	step(b, 3, 5, 5, 5, 200);
	cr_assert_eq(seen[0], 100);
	cr_assert_eq(seen[2], 100, "a new object of one list reset another list's");
}

/* 3.14: the old spaces are exchanged both ways; young is emptied by every collection. */
Test(lifetime, incremental_collector)
{
	struct lt_obj y[] = { OBJL(0x1000, T1, 0, 0, 0, 0) }, o1[] = { OBJL(0x1000, T1, 2, 0, 0, 2) },
		      o0[] = { OBJL(0x1000, T1, 2, 0, 0, 1) };

	lt.incremental = true;
	step(y, 1, 10, 10, 0, 100);
	step(y, 1, 10, 11, 0, 200); /* an increment empties the young list */
	cr_assert_eq(seen[0], 200);
	step(o1, 1, 10, 12, 0, 300); /* to an old space */
	cr_assert_eq(seen[0], 200);
	step(o0, 1, 10, 13, 0, 400); /* and to the other */
	cr_assert_eq(seen[0], 200);
	step(o1, 1, 10, 13, 0, 500);
	cr_assert_eq(seen[0], 200);
	cr_assert_eq(lt.kept, 1);
}

/* The GC untracks tuples of atoms: such a tuple keeps its age; a dict does not (no contents to check). */
Test(lifetime, a_tuple_the_gc_untracks_keeps_its_age)
{
	struct lt_obj t[] = { OBJF(0x1000, T1, 2, 0, 77, LT_MAY_UNTRACK) };
	struct lt_obj u[] = { OBJF(0x1000, T1, LT_UNTRACKED, 0, 77, LT_MAY_UNTRACK) };
	struct lt_obj d[] = { OBJ(0x2000, T2, 0, 0, 0) }, du[] = { OBJ(0x2000, T2, LT_UNTRACKED, 0, 0) };

	step(t, 1, 5, 5, 5, 100);
	step(u, 1, 6, 6, 6, 200);
	cr_assert_eq(seen[0], 100, "an untracked tuple lost its age");
	step(t, 1, 6, 6, 6, 300); /* tracked again: never for a tuple, so a new one */
	cr_assert_eq(seen[0], 300);
	step(d, 1, 5, 5, 5, 400);
	step(du, 1, 6, 6, 6, 500);
	cr_assert_eq(seen[0], 500);
}

/*
 * The leak decision, driven through the real tracker. Times are in
 * nanoseconds: a lifetime of LIFE, the warm-up ending at WARMUP_END, and
 * checks every DRIFT, a little over the lifetime the way checks once a
 * lifetime drift: an object is older than the lifetime at its second check.
 */
#define LIFE 1000
#define WARMUP_END 10000
#define DRIFT 1010

/* Is object i of the last step a leak at time now? */
static bool leak(size_t i, uint64_t now)
{
	struct lt_ages a = { seen, checks, WARMUP_END, now, LIFE, 0, 0, 0 };

	return lifetime__is_leak(&a, i);
}

Test(lifetime, a_leak_takes_four_checks_in_a_row)
{
	struct lt_obj o[] = { OBJ(0x1000, T1, 2, 0, 0) };
	uint64_t t = WARMUP_END;

	for (int k = 1; k <= 3; k++, t += DRIFT) {
		step(o, 1, 5, 5, 5, t);
		cr_assert_eq(checks[0], k);
		cr_assert_not(leak(0, t), "a leak at %d checks in a row, %llu ns old", k,
			      (unsigned long long)(t - seen[0]));
	}
	step(o, 1, 5, 5, 5, t);
	cr_assert(leak(0, t), "not a leak at 4 checks in a row");
	step(o, 1, 5, 5, 5, t + DRIFT);
	cr_assert(leak(0, t + DRIFT), "not a leak at 5 checks");
}

Test(lifetime, objects_of_the_warm_up_are_never_leaks)
{
	struct lt_obj before[] = { OBJ(0x1000, T1, 2, 0, 0) };
	struct lt_obj both[] = { OBJ(0x1000, T1, 2, 0, 0), OBJ(0x2000, T1, 2, 1, 0) };
	uint64_t t = WARMUP_END;

	step(before, 1, 5, 5, 5, WARMUP_END - 1);
	for (int k = 0; k < 10; k++, t += DRIFT) {
		step(both, 2, 5, 5, 5, t);
		cr_assert_eq(seen[0], WARMUP_END - 1);
		cr_assert_not(leak(0, t), "an object of the warm-up is a leak");
		cr_assert_eq(seen[1], WARMUP_END);
		cr_assert_eq(leak(1, t), k >= 3, "first seen as the warm-up ends: leak %d at check %d", leak(1, t), k + 1);
	}
}

/* The edges of the decision: strictly older than the lifetime, from the warm-up's end on, four checks. */
Test(lifetime, is_leak_boundaries)
{
	uint64_t first[] = { WARMUP_END, WARMUP_END, WARMUP_END - 1, WARMUP_END, WARMUP_END };
	uint16_t n[] = { 9, 9, 9, 4, 3 };
	struct lt_ages a = { first, n, WARMUP_END, WARMUP_END + LIFE, LIFE, 0, 0, 0 };

	cr_assert_not(lifetime__is_leak(&a, 0), "exactly the lifetime old is not older than it");
	a.now++;
	cr_assert(lifetime__is_leak(&a, 1), "first seen exactly as the warm-up ends, older than the lifetime");
	cr_assert_not(lifetime__is_leak(&a, 2), "first seen 1 ns before the warm-up's end");
	cr_assert(lifetime__is_leak(&a, 3), "matched at exactly LEAK_MIN_CHECKS checks");
	cr_assert_not(lifetime__is_leak(&a, 4), "matched at 3 checks");
	cr_assert_eq(LEAK_MIN_CHECKS, 4, "the README says four checks in a row");
}

/* A reused address in a younger generation: a new object, whose count starts again at 1. */
Test(lifetime, a_younger_generation_restarts_the_count)
{
	struct lt_obj g2[] = { OBJ(0x1000, T1, 2, 0, 0) }, g0[] = { OBJ(0x1000, T1, 0, 0, 0) };
	uint64_t t = WARMUP_END;

	for (int k = 0; k < 3; k++, t += DRIFT)
		step(g2, 1, 5, 5, 5, t);
	cr_assert_eq(checks[0], 3);
	step(g0, 1, 5, 5, 5, t);
	cr_assert_eq(checks[0], 1);
	cr_assert_eq(seen[0], t);
	for (int k = 2; k <= 4; k++) {
		t += DRIFT;
		step(g0, 1, 5, 5, 5, t); /* no collection: it stays in gen0 */
		cr_assert_eq(checks[0], k);
		cr_assert_eq(leak(0, t), k == 4, "leak %d at %d checks since the reuse", leak(0, t), k);
	}
}

/* An object missing from one snapshot is a new one when it is back (at the tail, where new ones go). */
Test(lifetime, a_missed_check_restarts_the_count)
{
	struct lt_obj o[] = { OBJ(0x2000, T2, 2, 0, 0), OBJ(0x1000, T1, 2, 1, 0) };
	uint64_t t = WARMUP_END;

	for (int k = 0; k < 3; k++, t += DRIFT)
		step(o, 2, 5, 5, 5, t);
	step(o, 1, 5, 5, 5, t); /* 0x1000 not seen */
	for (int k = 1; k <= 4; k++) {
		t += DRIFT;
		step(o, 2, 5, 5, 5, t);
		cr_assert_eq(checks[1], k);
		cr_assert_eq(leak(1, t), k == 4, "leak %d at %d checks after the gap", leak(1, t), k);
		cr_assert(leak(0, t), "the object seen at every check is not a leak");
	}
}

/*
 * Why four checks: a new object at a dead one's address each time, moved
 * gen0 -> gen1 -> gen2 by the collections in between, passes every check
 * (a collection reorders what it moves, so the order cannot tell), three
 * checks in a row and older than the lifetime. The fourth comparison is
 * checked against the order: in gen2 after an object appended since, it is
 * a new object.
 */
Test(lifetime, two_promotions_never_make_a_leak)
{
	struct lt_obj c1[] = { OBJ(0x100, T2, 2, 0, 0), OBJ(0x1000, T1, 0, 0, 0) };
	struct lt_obj c2[] = { OBJ(0x100, T2, 2, 0, 0), OBJ(0x1000, T1, 1, 0, 0) };
	struct lt_obj c3[] = { OBJ(0x100, T2, 2, 0, 0), OBJ(0x1000, T1, 2, 1, 0) };
	struct lt_obj c4[] = { OBJ(0x100, T2, 2, 0, 0), OBJ(0x2000, T1, 2, 1, 0), OBJ(0x1000, T1, 2, 2, 0) };
	uint64_t t = WARMUP_END;

	step(c1, 2, 10, 0, 0, t);
	step(c2, 2, 11, 0, 0, t += DRIFT); /* a gen0 collection */
	step(c3, 2, 11, 1, 0, t += DRIFT); /* a gen1 collection */
	cr_assert_eq(checks[1], 3, "the promotions were not taken on trust");
	cr_assert_not(leak(1, t), "three checks resting on two moves made a leak");
	step(c4, 3, 12, 2, 0, t += DRIFT);
	cr_assert_eq(checks[2], 1, "an object after an appended one kept its count");
	cr_assert_not(leak(2, t));
}

/*
 * The limit (README, "Time-based leak discovery"): a new object appended
 * right where a survivor would be, with nothing appended before it, passes
 * the order check. One such pass is not a leak; it takes one of them and
 * two moves, or several of them in a row.
 */
Test(lifetime, a_reuse_at_the_head_of_the_appended_passes_once)
{
	struct lt_obj a[] = { OBJ(0x100, T2, 0, 0, 0), OBJ(0x1000, T1, 0, 1, 0), OBJ(0x2000, T1, 0, 2, 0) };
	/* 0x1000 and 0x2000 died; new objects at 0x1000, then at a fresh address */
	struct lt_obj b[] = { OBJ(0x100, T2, 0, 0, 0), OBJ(0x1000, T1, 0, 1, 0), OBJ(0x3000, T1, 0, 2, 0) };
	uint64_t t = WARMUP_END;

	step(a, 3, 10, 0, 0, t);
	step(b, 3, 10, 0, 0, t += DRIFT);
	cr_assert_eq(checks[1], 2, "a reuse at the head of the appended objects is told apart now: "
		     "update this test and the README");
	cr_assert_eq(checks[2], 1);
	cr_assert_not(leak(1, t), "one comparison made a leak");
}

/*
 * Rule 7: an untracked object (depth > 0) is its holder's: holder is an
 * index + 1 into the same snapshot, edge the hash of the reference.
 */
#define HELD(addr_, type_, gen_, holder_, edge_, depth_, flags_) \
	{ .addr = (addr_), .type_key = (type_), .gen = (gen_), .holder = (holder_), .edge = (edge_), \
	  .depth = (depth_), .list = (uint16_t)((gen_) < 0 ? 0 : (gen_)), .flags = (flags_) }
#define DICT (LT_MAY_UNTRACK | LT_MAY_RETRACK)

Test(lifetime, an_untracked_dict_keeps_its_age_with_its_holder)
{
	struct lt_obj o[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, LT_UNTRACKED, 1, 7, 1, DICT) };

	step(o, 2, 5, 5, 5, 100);
	step(o, 2, 5, 5, 5, 200);
	cr_assert_eq(seen[1], 100, "the same holder by the same reference: the same dict");
	cr_assert_eq(checks[1], 2);
	step(o, 2, 9, 9, 9, 300); /* collections do not matter to an untracked object */
	cr_assert_eq(seen[1], 100);
	cr_assert_eq(lt.reused_holder, 0);
}

Test(lifetime, a_dict_at_a_reused_address_with_a_new_holder_is_new)
{
	/* a short-lived instance's self.d: the next instance is elsewhere, its dict where the last one's was */
	struct lt_obj a[] = { OBJ(0x1000, T1, 0, 0, 0), HELD(0x5000, T2, LT_UNTRACKED, 1, 7, 1, DICT) };
	struct lt_obj b[] = { OBJ(0x1100, T1, 0, 0, 0), HELD(0x5000, T2, LT_UNTRACKED, 1, 7, 1, DICT) };

	step(a, 2, 5, 5, 5, 100);
	step(b, 2, 5, 5, 5, 200);
	cr_assert_eq(seen[1], 200, "a dict whose holder moved kept the dead dict's age");
	cr_assert_eq(lt.reused_holder, 1);
}

Test(lifetime, a_holder_replaced_at_its_address_makes_its_dict_new)
{
	/* the holder's address is reused by an object of another type: it is new, so is what it holds */
	struct lt_obj a[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, LT_UNTRACKED, 1, 7, 1, DICT) };
	struct lt_obj b[] = { OBJ(0x1000, T2, 2, 0, 0), HELD(0x5000, T2, LT_UNTRACKED, 1, 7, 1, DICT) };

	step(a, 2, 5, 5, 5, 100);
	step(b, 2, 5, 5, 5, 200);
	cr_assert_eq(seen[0], 200);
	cr_assert_eq(seen[1], 200, "a dict of a new holder kept its age");
}

Test(lifetime, another_reference_from_the_same_holder_is_new)
{
	struct lt_obj a[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, LT_UNTRACKED, 1, 7, 1, DICT) };
	struct lt_obj b[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, LT_UNTRACKED, 1, 8, 1, DICT) };

	step(a, 2, 5, 5, 5, 100);
	step(b, 2, 5, 5, 5, 200);
	cr_assert_eq(seen[0], 100);
	cr_assert_eq(seen[1], 200);
}

Test(lifetime, an_object_without_a_holder_is_new_every_time)
{
	struct lt_obj o[] = { HELD(0x5000, T2, LT_UNTRACKED, 0, 0, 1, DICT) };
	struct lt_obj none[] = { HELD(0x6000, T1, LT_UNTRACKED, 0, 0, 1, 0) };

	step(o, 1, 5, 5, 5, 100);
	step(o, 1, 5, 5, 5, 200);
	cr_assert_eq(seen[0], 200, "nothing vouches for an unheld untracked dict");
	/* not a dict (None, a code object, a lock): type and address, whatever holds it */
	step(none, 1, 5, 5, 5, 300);
	step(none, 1, 5, 5, 5, 400);
	cr_assert_eq(seen[0], 300);
}

Test(lifetime, holders_are_settled_before_what_they_hold)
{
	/* gen2 list -> untracked dict (depth 1) -> untracked dict (depth 2); listed deepest first */
	struct lt_obj a[] = { HELD(0x6000, T2, LT_UNTRACKED, 3, 9, 2, DICT), HELD(0x5000, T2, LT_UNTRACKED, 3, 7, 1, DICT),
			      OBJ(0x1000, T1, 2, 0, 0) };
	struct lt_obj b[] = { HELD(0x6000, T2, LT_UNTRACKED, 2, 9, 2, DICT), HELD(0x5000, T2, LT_UNTRACKED, 3, 7, 1, DICT),
			      OBJ(0x1000, T1, 2, 0, 0) };
	struct lt_obj c[] = { HELD(0x6000, T2, LT_UNTRACKED, 2, 9, 2, DICT), HELD(0x5000, T2, LT_UNTRACKED, 3, 8, 1, DICT),
			      OBJ(0x1000, T1, 2, 0, 0) };

	step(a, 3, 5, 5, 5, 100);
	step(b, 3, 5, 5, 5, 200); /* the inner dict's holder is now the middle one: another holder */
	cr_assert_eq(seen[0], 200);
	cr_assert_eq(seen[1], 100);
	step(b, 3, 5, 5, 5, 300);
	cr_assert_eq(seen[0], 200, "held by an old dict by the same reference");
	step(c, 3, 5, 5, 5, 400); /* the middle dict is replaced: the inner one with it */
	cr_assert_eq(seen[1], 400);
	cr_assert_eq(seen[0], 400, "a dict held by a new dict kept its age");
}

Test(lifetime, a_dict_the_gc_untracks_keeps_its_age_with_its_holder)
{
	struct lt_obj t[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, 2, 1, 7, 0, DICT) };
	struct lt_obj u[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, LT_UNTRACKED, 1, 7, 1, DICT) };

	step(t, 2, 5, 5, 5, 100);
	step(u, 2, 5, 5, 5, 200); /* no collection: the collector cannot have untracked it */
	cr_assert_eq(seen[1], 200);
	step(t, 2, 5, 5, 5, 300);
	step(u, 2, 6, 6, 6, 400); /* a full collection untracked it */
	cr_assert_eq(seen[1], 300, "a dict the collector untracked lost its age");
}

Test(lifetime, a_list_is_never_untracked)
{
	struct lt_obj t[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, 2, 1, 7, 0, 0) };
	struct lt_obj u[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, LT_UNTRACKED, 1, 7, 1, 0) };

	step(t, 2, 5, 5, 5, 100);
	step(u, 2, 6, 6, 6, 200);
	cr_assert_eq(seen[1], 200);
}

Test(lifetime, a_dict_tracked_again_keeps_its_age_in_the_young_generation)
{
	struct lt_obj u[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, LT_UNTRACKED, 1, 7, 1, DICT) };
	struct lt_obj y[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, 0, 1, 7, 0, DICT) };
	struct lt_obj o[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x5000, T2, 2, 1, 7, 0, DICT) };

	step(u, 2, 5, 5, 5, 100);
	step(y, 2, 5, 5, 5, 200); /* an insert of a container tracked it: it is appended to gen0 */
	cr_assert_eq(seen[1], 100, "a dict tracked again lost its age");
	step(u, 2, 5, 5, 5, 300);
	step(o, 2, 5, 5, 5, 400); /* straight into gen2, no collection: not the same dict */
	cr_assert_eq(seen[1], 400);
	step(u, 2, 6, 6, 6, 500); /* a full collection untracked the dict of 400 */
	cr_assert_eq(seen[1], 400);
	step(y, 2, 6, 6, 6, 600);
	step(y, 2, 6, 6, 6, 700);
	cr_assert_eq(seen[1], 400, "tracked in gen0 and still there: the ordinary rules");
	/* a list found tracked where an untracked list was is new: lists are never untracked */
	struct lt_obj lu[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x7000, T2, LT_UNTRACKED, 1, 7, 1, 0) };
	struct lt_obj ly[] = { OBJ(0x1000, T1, 2, 0, 0), HELD(0x7000, T2, 0, 1, 7, 0, 0) };
	step(lu, 2, 6, 6, 6, 800);
	step(ly, 2, 6, 6, 6, 900);
	cr_assert_eq(seen[1], 900);
}

/*
 * Per-window reports: objects made one every other check, a report every
 * third check; each leaked object is new at exactly one report, and the
 * leaks alive at a report are those new at it or at an earlier one.
 */
Test(lifetime, each_leak_is_new_at_one_report)
{
	struct lt_obj o[8];
	int new_at[8] = { 0 }, times_new[8] = { 0 };
	uint64_t t = WARMUP_END, prev_now = 0;
	uint32_t since = 0;
	size_t n = 0;

	for (int k = 0; k < 40; k++, t += DRIFT / 2) {
		if (k % 2 == 0 && n < 8) {
			o[n] = (struct lt_obj)OBJ(0x1000 + 0x100 * n, T1, 2, (uint32_t)n, 0);
			n++;
		}
		step(o, n, 5, 5, 5, t);
		since++;
		if (k % 3 != 2)
			continue;
		struct lt_ages a = { seen, checks, WARMUP_END, t, LIFE, prev_now, since, 0 };
		size_t alive = 0, fresh = 0, before = 0;
		for (size_t i = 0; i < n; i++) {
			alive += lifetime__is_leak(&a, i);
			if (lifetime__is_new_leak(&a, i)) {
				fresh++;
				times_new[i]++;
				new_at[i] = k;
			} else if (lifetime__is_leak(&a, i)) {
				before++;
				cr_assert(times_new[i] == 1, "object %zu a leak at check %d, never new", i, k + 1);
			}
		}
		cr_assert_eq(alive, fresh + before);
		prev_now = t;
		since = 0;
	}
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(times_new[i], 1, "object %zu new at %d reports (last at check %d)", i, times_new[i],
			     new_at[i] + 1);
}

/* An object that lost its age (a reuse) and became a leak again is new again: another object. */
Test(lifetime, a_leak_seen_again_after_a_gap_is_new_again)
{
	uint64_t first[] = { WARMUP_END };
	uint16_t n[] = { 9 };
	struct lt_ages a = { first, n, WARMUP_END, WARMUP_END + 3 * LIFE, LIFE, WARMUP_END + 2 * LIFE, 3, 0 };

	cr_assert_not(lifetime__is_new_leak(&a, 0), "a leak at the last report (6 checks then) is new again");
	a.checks_since = 6;
	cr_assert(lifetime__is_new_leak(&a, 0), "3 checks at the last report: not a leak then, so new now");
	a.checks_since = 9;
	cr_assert(lifetime__is_new_leak(&a, 0), "not seen at the last report: new");
	a.checks_since = 3;
	a.prev_now = WARMUP_END + LIFE;
	cr_assert(lifetime__is_new_leak(&a, 0), "exactly the lifetime old at the last report: new now");
	a.prev_now = 0;
	cr_assert(lifetime__is_new_leak(&a, 0), "the first report after the warm-up: every leak is new");
}

/*
 * Function-based discovery: the clock counts calls (call k's entry at 2k,
 * its exit at 2k + 1). An object first seen at an exit was created during
 * that call; with max_object_age_calls N it is a leak at the exit of the
 * N-th call of its life and after, and new at exactly that one. An object
 * first seen at an entry (made between calls) or during the warm-up never is.
 */
Test(lifetime, calls_clock_ages)
{
	/* made during calls 1 (warm-up), 2, 3, 4; one made between calls 2 and 3 */
	uint64_t first[] = { 3, 5, 7, 9, 6 };
	uint16_t checks[] = { 9, 7, 5, 3, 5 };

	for (uint32_t age = 1; age <= 3; age++) {
		for (uint64_t call = 2; call <= 4; call++) {
			struct lt_ages a = { first, checks, 2 * (1 + 1), 2 * call + 1, 0, 0, 0, age };

			for (size_t i = 0; i < ARRAY_SIZE(first); i++) {
				uint64_t made = (first[i] - 1) / 2, lived = call - made + 1;
				bool in_call = first[i] & 1, after_warmup = made >= 2 && in_call;
				bool want = after_warmup && first[i] <= a.now && lived >= age;

				cr_expect_eq(lifetime__is_leak(&a, i), want, "age %u, exit of call %" PRIu64 ", object %zu",
					     age, call, i);
				cr_expect_eq(lifetime__is_new_leak(&a, i), want && lived == age,
					     "age %u, exit of call %" PRIu64 ", object %zu (new)", age, call, i);
			}
		}
	}
}
