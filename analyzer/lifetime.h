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
};

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
	size_t kept, reused_type, reused_gen, reused_collected, reused_order, reused_content, fresh;
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
 * (saturating at 65535). objs need not be sorted.
 */
void lifetimes__update(struct lifetimes *lt, const struct lt_obj *objs, size_t n,
		       const uint64_t collections[3], bool have_collections, uint64_t now_ns,
		       uint64_t *first_seen, uint16_t *checks);

#endif
