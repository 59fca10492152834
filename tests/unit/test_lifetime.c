/* SPDX-License-Identifier: MIT */
/* Unit tests of analyzer/lifetime.c: each identity rule, on hand-made snapshots. */
#include <criterion/criterion.h>

#include "../../analyzer/lifetime.h"

#define T1 0x1111
#define T2 0x2222

static struct lifetimes lt;
static uint64_t seen[16];

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

	lifetimes__update(&lt, o, n, c, true, t, seen);
}

TestSuite(lifetime, .init = setup, .fini = teardown);

Test(lifetime, new_objects_start_now)
{
	struct lt_obj o[] = { { 0x1000, T1, 2, 0, 0 } };

	step(o, 1, 0, 0, 0, 100);
	cr_assert_eq(seen[0], 100);
}

Test(lifetime, an_old_object_keeps_its_age)
{
	struct lt_obj o[] = { { 0x1000, T1, 2, 0, 0 }, { 0x2000, T1, 2, 1, 0 } };

	step(o, 2, 0, 0, 0, 100);
	step(o, 2, 5, 2, 0, 200);
	cr_assert_eq(seen[0], 100);
	cr_assert_eq(seen[1], 100);
	cr_assert_eq(lt.kept, 2);
}

Test(lifetime, another_type_at_the_address_is_new)
{
	struct lt_obj a[] = { { 0x1000, T1, 2, 0, 0 } }, b[] = { { 0x1000, T2, 2, 0, 0 } };

	step(a, 1, 0, 0, 0, 100);
	step(b, 1, 0, 0, 0, 200);
	cr_assert_eq(seen[0], 200);
	cr_assert_eq(lt.reused_type, 1);
}

Test(lifetime, still_in_gen0_after_a_gen0_collection_is_new)
{
	struct lt_obj o[] = { { 0x1000, T1, 0, 0, 0 } };

	step(o, 1, 10, 0, 0, 100);
	step(o, 1, 11, 0, 0, 200); /* a gen0 collection happened: a survivor would be in gen1 */
	cr_assert_eq(seen[0], 200);
	cr_assert_eq(lt.reused_collected, 1);
	step(o, 1, 11, 0, 0, 300); /* no collection since: the same object */
	cr_assert_eq(seen[0], 200);
}

Test(lifetime, promotion_needs_a_collection)
{
	struct lt_obj g0[] = { { 0x1000, T1, 0, 0, 0 } }, g1[] = { { 0x1000, T1, 1, 0, 0 } };

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
	struct lt_obj a[] = { { 0x1000, T1, 2, 0, 0 }, { 0x2000, T1, 2, 1, 0 }, { 0x3000, T1, 2, 2, 0 } };
	/* 0x1000 now after 0x3000: its address was reused by an object appended at the tail */
	struct lt_obj b[] = { { 0x2000, T1, 2, 0, 0 }, { 0x3000, T1, 2, 1, 0 }, { 0x1000, T1, 2, 2, 0 } };

	step(a, 3, 5, 5, 5, 100);
	step(b, 3, 6, 6, 5, 200);
	cr_assert_eq(seen[0], 100);
	cr_assert_eq(seen[1], 100);
	cr_assert_eq(seen[2], 200, "the reordered object kept its age");
	cr_assert_eq(lt.reused_order, 1);
}

Test(lifetime, gen2_order_is_not_checked_across_a_full_collection)
{
	struct lt_obj a[] = { { 0x1000, T1, 2, 0, 0 }, { 0x2000, T1, 2, 1, 0 } };
	struct lt_obj b[] = { { 0x2000, T1, 2, 0, 0 }, { 0x1000, T1, 2, 1, 0 } };

	step(a, 2, 5, 5, 5, 100);
	step(b, 2, 6, 6, 6, 200); /* a full collection may move objects to the tail */
	cr_assert_eq(seen[0], 100);
	cr_assert_eq(seen[1], 100);
}

Test(lifetime, immutable_content_must_match)
{
	struct lt_obj a[] = { { 0x1000, T1, LT_UNTRACKED, 0, 42 } }, b[] = { { 0x1000, T1, LT_UNTRACKED, 0, 43 } };

	step(a, 1, 0, 0, 0, 100);
	step(a, 1, 1, 1, 1, 200);
	cr_assert_eq(seen[0], 100, "same content, untracked: the same str");
	step(b, 1, 1, 1, 1, 300);
	cr_assert_eq(seen[0], 300);
	cr_assert_eq(lt.reused_content, 1);
}

Test(lifetime, a_gap_resets_the_age)
{
	struct lt_obj o[] = { { 0x1000, T1, 2, 0, 0 } };

	step(o, 1, 0, 0, 0, 100);
	step(NULL, 0, 0, 0, 0, 200);
	step(o, 1, 0, 0, 0, 300);
	cr_assert_eq(seen[0], 300);
}
