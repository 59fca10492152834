/* SPDX-License-Identifier: MIT */
/* Object lifetimes across snapshots: when each object was first seen, robust to address reuse. */
#ifndef MEMALOT_LIFETIME_H
#define MEMALOT_LIFETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/util.h"

#define LT_UNTRACKED (-1)
#define LT_PERMANENT 3

/* One object of a snapshot, as the tracker sees it. */
struct lt_obj {
	raddr_t addr;
	uint64_t type_key;   /* the same type in every snapshot: its address and a name hash */
	int8_t gen;          /* 0-2 generation, LT_PERMANENT, or LT_UNTRACKED */
	uint32_t rank;       /* position in its GC list (oldest generation order) */
	uint64_t content;    /* content hash of an immutable object, or 0 */
	uint16_t list;       /* which GC list (interpreter and generation) */
	/*
	 * Holder identity (rule 7 in lifetime.c): the object that holds this
	 * one (index + 1 into the same array, 0: none), chosen among its
	 * referrers of a smaller depth (a tracked object: among tracked ones)
	 * the same way in every snapshot, and a hash of the reference's kind,
	 * index, key and name.
	 */
	uint32_t holder;
	uint64_t edge;
	uint8_t depth;       /* 0 on a GC list; n: untracked, found n references below one */
	uint8_t flags;       /* LT_MAY_UNTRACK, LT_MAY_RETRACK */
};

/*
 * The references between the objects of a snapshot, for rule 8 of
 * lifetime.c: for object i, its referrers from[start[i] .. start[i + 1])
 * (indices into the same array of objects) and a hash of each reference
 * (its kind, index, key object and name, as for a holder). Strong
 * references only; an object may appear more than once.
 */
struct lt_refs {
	const size_t *start; /* n + 1 */
	const uint32_t *from;
	const uint64_t *edge;
};

/* How many of an object's references a snapshot keeps for rule 8 (the ones of lowest key). */
#define LT_REFERRER_KEYS 3

/* An exact dict or tuple: CPython's collector may untrack it (when it holds only atoms). */
#define LT_MAY_UNTRACK 1
/* An exact dict: an insert of a container tracks it again (in the young generation). */
#define LT_MAY_RETRACK 2

struct lt_prev;

struct lifetimes {
	struct lt_prev *prev;       /* the last snapshot's objects, sorted by address */
	size_t nprev;
	uint64_t collections[3];
	bool have_prev, have_collections;
	/*
	 * Set before the first update for 3.14's incremental collector: gen 0
	 * is the young list, gen 2 both old spaces (objects move between them
	 * in any order), gen 1 unused. Otherwise the classic three generations.
	 */
	bool incremental;
	/* statistics of the last update, for tests and -v */
	size_t kept, reused_type, reused_gen, reused_collected, reused_order, reused_content, reused_holder,
		reused_referrers, fresh;
};

void lifetimes__init(struct lifetimes *lt);
void lifetimes__release(struct lifetimes *lt);

/*
 * Match the objects of a new snapshot (taken at now_ns, with the GC's
 * collection counters) against the previous one and fill first_seen[i] for
 * each. An object keeps the age of the object at its address only when
 * nothing the interpreter guarantees contradicts it being the same object
 * (see lifetime.c); otherwise its life starts now. checks (if not NULL)
 * gets in how many snapshots in a row each was seen, this one included
 * (saturating at 65535). objs need not be sorted. refs: the references
 * between objs (rule 8), or NULL when they are not known (rule 8 then
 * vouches for nothing and rejects nothing).
 */
void lifetimes__update(struct lifetimes *lt, const struct lt_obj *objs, size_t n, const struct lt_refs *refs,
		       const uint64_t collections[3], bool have_collections, uint64_t now_ns,
		       uint64_t *first_seen, uint16_t *checks);

/*
 * How many snapshots in a row an object must have been matched at (this
 * one included) to count as leaked. Age alone is not enough when checks are
 * far apart: checking once a lifetime, an object is older than the lifetime
 * at its second check. And two kinds of comparison take a new object at a
 * dead one's address for it (see lifetime.c): a move to an older generation
 * (a collection reorders what it moves, so the order cannot vouch for it),
 * and an object appended since the last check at exactly the place in its
 * list a survivor would have, with nothing appended before it. An object
 * moves at most twice (gen0, gen1, gen2), so of three comparisons in a row
 * at least one is checked against the order (a list a collection did not
 * reorder: not gen2 across a full collection, nor 3.14's old spaces), where
 * a reuse passes only in that second, rare case.
 */
#define LEAK_MIN_CHECKS 4

/* The ages of one snapshot's objects, as lifetimes__update() filled them, at a report. */
struct lt_ages {
	const uint64_t *first_seen;   /* per object */
	const uint16_t *checks;       /* per object */
	uint64_t warmup_end;          /* objects first seen before it are never leaks */
	uint64_t now;                 /* when the snapshot was taken */
	uint64_t life_ns;             /* --max-object-lifetime */
	/* the window: when the last report's snapshot was taken (0: no report yet), and snapshots since */
	uint64_t prev_now;
	uint32_t checks_since;        /* lifetimes__update() calls since that report's, this one included */
	/*
	 * Function-based discovery (0: time-based): the clock counts monitored
	 * calls, call k's entry snapshot taken at 2k and its exit at 2k + 1,
	 * and warmup_end is the entry of the first call after the warm-up. An
	 * object first seen at an exit was created during that call; it is a
	 * leak once it has lived age_calls calls (its own included).
	 */
	uint32_t age_calls;
};

/*
 * Does object i count as leaked? Function-based: created during a call
 * after the warm-up and alive at the exit of the age_calls-th call since.
 * Time-based: only if it was first seen at or after the
 * warm-up's end, is older than the lifetime (strictly), and was matched at
 * LEAK_MIN_CHECKS snapshots in a row or more.
 */
bool lifetime__is_leak(const struct lt_ages *a, size_t i);

/*
 * Did object i become a leak in this window: a leak now (lifetime__is_leak)
 * that was not one at the last report? An object seen in every snapshot
 * since then (checks above checks_since) was one if it was then older than
 * the lifetime and matched at LEAK_MIN_CHECKS snapshots in a row. So each
 * leaked object is new at exactly one report, until its age is lost.
 */
bool lifetime__is_new_leak(const struct lt_ages *a, size_t i);

#endif
