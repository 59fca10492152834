/* SPDX-License-Identifier: MIT */
/*
 * Identity over time. Snapshots only show addresses, and CPython reuses
 * them at once (free lists for dicts, lists, tuples, frames; pymalloc pools
 * for the rest), so "same address" alone would let a stream of short-lived
 * objects at one address look like one old object. An object at an address
 * keeps the age recorded there only if it passes every check below, each
 * resting on something the interpreter guarantees:
 *
 *  1. Same type (type address and name). A type object can itself be reused,
 *     hence the name as well.
 *  2. Never younger: a GC-tracked object only moves to older generations
 *     (gen0 -> gen1 -> gen2, and gc.freeze() to the permanent one), and a
 *     tracked object never becomes untracked or back, except tuples and
 *     dicts that CPython untracks once (we treat that as a new object:
 *     the safe side).
 *  3. Survivors move up: every collection of generation g moves the objects
 *     that survive it from g to g+1 (g < 2). So an object found in the same
 *     young generation after a collection of that generation is a different
 *     object, and one that moved from g to an older generation needs a
 *     collection of g in between.
 *  4. A generation list keeps its order: objects are appended to its tail
 *     (new objects to gen0, survivors of a collection of g to g+1) and
 *     removed anywhere, so among objects seen in the same generation both
 *     times, the old order must hold. A collection of that generation can
 *     move objects back to the tail (and moves survivors out), so the check
 *     only runs for a generation that was not collected in between. This is
 *     what catches an address reused by an object that was then promoted
 *     into a generation the old object was in.
 *  5. Immutable contents do not change: for tuples and str (and other
 *     atoms) the content hash must match.
 *  6. Continuity: an object must be seen in every snapshot in between; the
 *     tracker only compares with the last snapshot, so a gap resets it.
 *
 * Limits: between two snapshots with a full collection, an address reused
 * by an object that was promoted all the way to gen2 passes checks 1-3 and 5
 * (for a mutable type); the check interval (a fraction of the lifetime)
 * and the need to pass again at every later snapshot make that rare. An
 * untracked mutable object (a dict of atoms) is matched by type and address
 * only.
 */
#define _GNU_SOURCE
#include "lifetime.h"

#include <stdlib.h>
#include <string.h>

struct lt_prev {
	raddr_t addr;
	uint64_t type_key;
	uint64_t content;
	uint64_t first_seen;
	uint32_t rank;
	int8_t gen;
};

void lifetimes__init(struct lifetimes *lt)
{
	memset(lt, 0, sizeof(*lt));
}

void lifetimes__release(struct lifetimes *lt)
{
	free(lt->prev);
	memset(lt, 0, sizeof(*lt));
}

static const struct lt_prev *find_prev(const struct lifetimes *lt, raddr_t addr)
{
	size_t lo = 0, hi = lt->nprev;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (lt->prev[mid].addr == addr)
			return &lt->prev[mid];
		if (lt->prev[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct lt_prev *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct gen2_item {
	size_t i;        /* index into objs */
	uint32_t rank;   /* rank now */
	uint32_t prank;  /* rank in the previous snapshot */
	int8_t gen;
};

static int cmp_rank(const void *a, const void *b)
{
	const struct gen2_item *x = a, *y = b;
	if (x->gen != y->gen)
		return x->gen - y->gen;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

void lifetimes__update(struct lifetimes *lt, const struct lt_obj *objs, size_t n,
		       const uint64_t collections[3], bool have_collections, uint64_t now_ns,
		       uint64_t *first_seen)
{
	bool collected[3] = { true, true, true };
	struct gen2_item *g2 = NULL;
	size_t ng2 = 0, g2cap = 0;
	bool *ok = xcalloc(n ? n : 1, sizeof(*ok));
	struct lt_prev *next;

	if (lt->have_prev && have_collections && lt->have_collections)
		for (int g = 0; g < 3; g++)
			collected[g] = collections[g] != lt->collections[g];
	lt->kept = lt->reused_type = lt->reused_gen = lt->reused_collected = 0;
	lt->reused_order = lt->reused_content = lt->fresh = 0;
	for (size_t i = 0; i < n; i++) {
		const struct lt_obj *o = &objs[i];
		const struct lt_prev *p = lt->have_prev ? find_prev(lt, o->addr) : NULL;

		first_seen[i] = now_ns;
		if (!p) {
			lt->fresh++;
			continue;
		}
		if (p->type_key != o->type_key) { /* rule 1 */
			lt->reused_type++;
			continue;
		}
		if ((p->gen == LT_UNTRACKED) != (o->gen == LT_UNTRACKED) ||
		    (o->gen != LT_UNTRACKED && o->gen < p->gen)) { /* rule 2 */
			lt->reused_gen++;
			continue;
		}
		if (o->gen >= 0 && o->gen <= 1 && p->gen <= 1) { /* rule 3 */
			/* still in g after a collection of g, or promoted without one */
			if ((o->gen == p->gen && collected[p->gen]) ||
			    (o->gen > p->gen && !collected[p->gen])) {
				lt->reused_collected++;
				continue;
			}
		} else if (o->gen == 2 && p->gen <= 1 && !collected[p->gen]) {
			lt->reused_collected++;
			continue;
		}
		if (p->content != o->content) { /* rule 5 */
			lt->reused_content++;
			continue;
		}
		if (o->gen >= 0 && o->gen <= 2 && p->gen == o->gen && !collected[o->gen]) {
			GROW(g2, g2cap, ng2 + 1);
			g2[ng2++] = (struct gen2_item){ i, o->rank, p->rank, o->gen };
		}
		ok[i] = true;
		first_seen[i] = p->first_seen;
	}
	/* rule 4: in each generation, old ranks must increase along the new order */
	qsort(g2, ng2, sizeof(*g2), cmp_rank);
	{
		uint32_t max = 0;
		bool any = false;
		for (size_t k = 0; k < ng2; k++) {
			if (k && g2[k].gen != g2[k - 1].gen)
				any = false;
			if (any && g2[k].prank < max) {
				ok[g2[k].i] = false;
				first_seen[g2[k].i] = now_ns;
				lt->reused_order++;
				continue;
			}
			max = g2[k].prank;
			any = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		lt->kept += ok[i];
	/* this snapshot becomes the previous one */
	next = xmalloc((n ? n : 1) * sizeof(*next));
	for (size_t i = 0; i < n; i++)
		next[i] = (struct lt_prev){ objs[i].addr, objs[i].type_key, objs[i].content, first_seen[i],
					    objs[i].rank, objs[i].gen };
	qsort(next, n, sizeof(*next), cmp_addr);
	free(lt->prev);
	lt->prev = next;
	lt->nprev = n;
	memcpy(lt->collections, collections, sizeof(lt->collections));
	lt->have_collections = have_collections;
	lt->have_prev = true;
	free(g2);
	free(ok);
}
