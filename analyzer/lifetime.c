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
 *     dicts that CPython untracks when it finds only atoms in them (and
 *     dicts it tracks again). A tuple that is no longer tracked keeps its
 *     age, its contents (rule 5) vouching for it: a tuple made during the
 *     warm-up and untracked after it must not pass for a new one. Any other
 *     change is treated as a new object: the safe side.
 *  3. Survivors move up. Up to 3.13 every collection of generation g
 *     merges the younger generations into g and moves what survives to
 *     g+1 (g < 2); only the counter of g counts it. So an object stays in
 *     gen g < 2 only if no collection of g or older ran, reaches gen1 only
 *     through a gen0 collection, and gen2 only through a collection of
 *     gen1 or gen2. In 3.14's incremental collector every collection
 *     (young, increment, full) empties the young list into the old
 *     spaces, and objects move between the two old spaces both ways, so
 *     there the rule is: young stays young only if nothing was collected,
 *     and gets old only if something was.
 *  4. A generation list keeps its order: objects are appended to its tail
 *     (new objects to the young list, survivors of a collection to the
 *     next list) and removed anywhere. So while no collection could have
 *     reordered a list (none of its generation or an older one), the list
 *     is the survivors of the last snapshot's list, in their old order,
 *     followed by everything appended since. Hence two checks:
 *     a. after the first object that was certainly appended (new at its
 *        address, another type, or in another list last time), every
 *        object is appended, so none of them is an old one: this is what
 *        catches a whole population of short-lived objects replaced at
 *        the same addresses by the next one;
 *     b. before it, the old order must hold.
 *     3.14's old spaces are exchanged by incremental collections, so they
 *     get no order check.
 *  5. Immutable contents do not change: for tuples and str (and other
 *     atoms) the content hash must match.
 *  6. Continuity: an object must be seen in every snapshot in between; the
 *     tracker only compares with the last snapshot, so a gap resets it.
 *
 * Limits: a mutable object of the same type at a reused address passes
 * checks 1-3 and 5 whenever the order (4) cannot be checked: when it is in
 * an older generation than the dead object was (a collection moved it, in
 * an order of its own), or in gen2 across a full collection. It passes 4
 * too when it is the first object appended to its list since the last
 * snapshot and the dead one came after every survivor before it: a queue of
 * requests freed oldest first, each new one allocated where the last one
 * died, does that now and then. Each such pass is one comparison; a leak
 * needs LEAK_MIN_CHECKS in a row (lifetime.h), and the default check
 * interval (a fifth of the lifetime) asks for more. An untracked mutable
 * object (a dict of atoms) is matched by type and address only.
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
	uint16_t list;
	uint16_t checks;
	int8_t gen;
};

void lifetimes__init(struct lifetimes *lt)
{
	memset(lt, 0, sizeof(*lt));
}

void lifetimes__release(struct lifetimes *lt)
{
	free(lt->prev);
	lt->prev = NULL;
	lt->nprev = 0;
	lt->have_prev = false;
}

/*
 * The indices of objs in address order: an LSD radix sort, 16 bits a pass,
 * as many passes as the highest address needs (three for user space).
 * Linear, where a comparison sort of a million objects was a good part of
 * a check.
 */
static uint32_t *by_address(const struct lt_obj *objs, size_t n)
{
	uint32_t *idx = xmalloc((n ? n : 1) * sizeof(*idx)), *tmp = xmalloc((n ? n : 1) * sizeof(*tmp));
	size_t *count = xmalloc(65536 * sizeof(*count));
	raddr_t all = 0;

	for (size_t i = 0; i < n; i++) {
		idx[i] = (uint32_t)i;
		all |= objs[i].addr;
	}
	for (int shift = 0; shift < 64 && (all >> shift); shift += 16) {
		size_t sum = 0;
		uint32_t *t;

		memset(count, 0, 65536 * sizeof(*count));
		for (size_t i = 0; i < n; i++)
			count[(objs[idx[i]].addr >> shift) & 0xffff]++;
		for (size_t d = 0; d < 65536; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(objs[idx[i]].addr >> shift) & 0xffff]++] = idx[i];
		t = idx;
		idx = tmp;
		tmp = t;
	}
	free(tmp);
	free(count);
	return idx;
}

/* An object of a list whose order is checked (rule 4). */
struct order_item {
	size_t i;        /* index into objs */
	uint32_t rank;   /* rank now */
	uint32_t prank;  /* rank in the previous snapshot */
	uint16_t list;
	bool old;        /* a candidate old object of this same list */
};

static int cmp_list_rank(const void *a, const void *b)
{
	const struct order_item *x = a, *y = b;
	if (x->list != y->list)
		return x->list < y->list ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* What the collections since the last snapshot allow (rules 3 and 4). */
struct moves {
	bool stay[4];      /* an object may still be in gen g */
	bool promote[4];   /* an object of a younger generation may have moved to gen g */
	bool ordered[4];   /* gen g's lists kept their order */
};

static struct moves allowed_moves(const struct lifetimes *lt, const uint64_t collections[3],
				  bool have_collections)
{
	bool changed[3] = { true, true, true }, any;
	struct moves m;

	if (lt->have_prev && have_collections && lt->have_collections)
		for (int g = 0; g < 3; g++)
			changed[g] = collections[g] != lt->collections[g];
	any = changed[0] || changed[1] || changed[2];
	if (lt->incremental) {
		m = (struct moves){ { !any, false, true, true }, { false, false, any, true },
				    { !any, false, false, true } };
		return m;
	}
	m.stay[0] = !any;
	m.stay[1] = !changed[1] && !changed[2];
	m.stay[2] = m.stay[3] = true;
	m.promote[0] = false;
	m.promote[1] = changed[0];
	m.promote[2] = changed[1] || changed[2];
	m.promote[3] = true; /* gc.freeze() is not counted */
	m.ordered[0] = m.stay[0];
	m.ordered[1] = m.stay[1];
	m.ordered[2] = !changed[2];
	m.ordered[3] = true;
	return m;
}

/* Rule 4 over the objects of the ordered lists; @return how many it rejected */
static size_t check_order(struct order_item *items, size_t n, bool *ok, uint64_t *first_seen,
			  uint64_t now_ns)
{
	size_t rejected = 0;
	bool sorted = true;

	for (size_t k = 1; k < n && sorted; k++)
		sorted = cmp_list_rank(&items[k - 1], &items[k]) <= 0;
	if (!sorted)
		qsort(items, n, sizeof(*items), cmp_list_rank);
	for (size_t k = 0; k < n;) {
		size_t end = k;
		bool appended = false;
		uint32_t max = 0;
		bool any = false;

		while (end < n && items[end].list == items[k].list)
			end++;
		for (; k < end; k++) {
			if (!items[k].old) {
				appended = true; /* 4a: all that follows was appended */
				continue;
			}
			if (appended || (any && items[k].prank < max)) {
				ok[items[k].i] = false;
				first_seen[items[k].i] = now_ns;
				rejected++;
				continue;
			}
			max = items[k].prank;
			any = true;
		}
	}
	return rejected;
}

void lifetimes__update(struct lifetimes *lt, const struct lt_obj *objs, size_t n,
		       const uint64_t collections[3], bool have_collections, uint64_t now_ns,
		       uint64_t *first_seen, uint16_t *checks)
{
	struct moves m = allowed_moves(lt, collections, have_collections);
	struct order_item *items = NULL;
	size_t nitems = 0, cap = 0;
	bool *ok = xcalloc(n ? n : 1, sizeof(*ok)), *same = xcalloc(n ? n : 1, sizeof(*same));
	uint32_t *order = by_address(objs, n), *prank = xcalloc(n ? n : 1, sizeof(*prank));
	uint16_t *nseen = xcalloc(n ? n : 1, sizeof(*nseen));
	struct lt_prev *next;

	lt->kept = lt->reused_type = lt->reused_gen = lt->reused_collected = 0;
	lt->reused_order = lt->reused_content = lt->fresh = 0;
	/* a merge of this snapshot with the last, both in address order */
	for (size_t k = 0, j = 0; k < n; k++) {
		size_t i = order[k];
		const struct lt_obj *o = &objs[i];
		const struct lt_prev *p = NULL;
		bool tracked = o->gen >= 0 && o->gen <= LT_PERMANENT;

		while (j < lt->nprev && lt->prev[j].addr < o->addr)
			j++;
		if (lt->have_prev && j < lt->nprev && lt->prev[j].addr == o->addr)
			p = &lt->prev[j];
		first_seen[i] = now_ns;
		if (!p) {
			lt->fresh++;
		} else if (p->type_key != o->type_key) { /* rule 1 */
			lt->reused_type++;
		} else if (((p->gen == LT_UNTRACKED) != (o->gen == LT_UNTRACKED) &&
			    !(o->gen == LT_UNTRACKED && o->content)) ||
			   (tracked && o->gen < p->gen)) { /* rule 2 (contents: a tuple the GC untracked) */
			lt->reused_gen++;
		} else if (tracked && ((o->gen == p->gen && !m.stay[o->gen]) ||
				       (o->gen > p->gen && !m.promote[o->gen]))) { /* rule 3 */
			lt->reused_collected++;
		} else if (p->content != o->content) { /* rule 5 */
			lt->reused_content++;
		} else {
			ok[i] = true;
			first_seen[i] = p->first_seen;
			prank[i] = p->rank;
			nseen[i] = p->checks;
			same[i] = p->gen == o->gen && p->list == o->list;
		}
	}
	/* the ordered lists' objects, in node order: by list and rank already, as a rule */
	for (size_t i = 0; i < n; i++) {
		const struct lt_obj *o = &objs[i];
		if (o->gen >= 0 && o->gen <= LT_PERMANENT && m.ordered[o->gen]) {
			GROW(items, cap, nitems + 1);
			items[nitems++] = (struct order_item){ i, o->rank, prank[i], o->list, ok[i] && same[i] };
		}
	}
	lt->reused_order = check_order(items, nitems, ok, first_seen, now_ns);
	for (size_t i = 0; i < n; i++) {
		lt->kept += ok[i];
		nseen[i] = ok[i] ? (uint16_t)(nseen[i] + (nseen[i] < UINT16_MAX)) : 1;
		if (checks)
			checks[i] = nseen[i];
	}
	/* this snapshot becomes the previous one, in address order */
	next = xmalloc((n ? n : 1) * sizeof(*next));
	for (size_t k = 0; k < n; k++) {
		const struct lt_obj *o = &objs[order[k]];
		next[k] = (struct lt_prev){ o->addr, o->type_key, o->content, first_seen[order[k]], o->rank, o->list,
					    nseen[order[k]], o->gen };
	}
	free(order);
	free(lt->prev);
	lt->prev = next;
	lt->nprev = n;
	memcpy(lt->collections, collections, sizeof(lt->collections));
	lt->have_collections = have_collections;
	lt->have_prev = true;
	free(items);
	free(ok);
	free(same);
	free(prank);
	free(nseen);
}

/*
 * The count is what stands against the limits above when checks are far
 * apart (LEAK_MIN_CHECKS in lifetime.h says why four); with the default
 * interval, an object older than the lifetime has been matched at six checks
 * in a row anyway.
 */
bool lifetime__is_leak(const struct lt_ages *a, size_t i)
{
	return a->first_seen[i] >= a->warmup_end && a->now - a->first_seen[i] > a->life_ns &&
	       a->checks[i] >= LEAK_MIN_CHECKS;
}
