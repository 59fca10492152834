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
 *     (gen0 -> gen1 -> gen2, and gc.freeze() to the permanent one). It
 *     never becomes untracked or tracked again, with two exceptions:
 *     the collector untracks exact tuples and dicts that hold only atoms
 *     (so a tracked object seen untracked keeps its age only if it is an
 *     exact tuple or dict and a collection went through its generation
 *     since), and an insert of a container tracks such a dict again, into
 *     the young generation (so an untracked object seen tracked keeps its
 *     age only if it is an exact dict, in gen0 or where a collection since
 *     could have moved it, as rule 3 says). A tuple vouches for
 *     itself with its contents (rule 5), a dict with its holder (rule 7).
 *     Any other change is a new object: the safe side.
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
 *  7. Holder identity, for dicts no GC list orders: untracked (a dict of
 *     atoms on 3.8-3.13), or moved between untracked and tracked. The dict
 *     free list hands a new dict the address of the last one freed at once,
 *     so type and address say nothing. Such a dict is only reachable
 *     through references, so it is compared with what holds it: among its
 *     referrers of a smaller depth (for a tracked object, the tracked
 *     ones), the one with the lowest address, then the lowest hash of the
 *     reference (its kind, list index, dict key object, attribute name),
 *     strong references only. It keeps its age only if that holder is at
 *     the same address with the same age (so the holder itself passed
 *     every rule, and was not replaced) and holds it by the same
 *     reference. A dict of atoms in the attribute of a short-lived
 *     instance dies with it; the next instance's dict at the same address
 *     has a new holder (the new instance), so it is new. Holders are
 *     settled in order of depth, so a holder's age is known first.
 *  8. Referrers, for the tracked objects whose order rule 4 could not
 *     check: those in a list a collection reordered (gen2 across a full
 *     collection, 3.14's old spaces) and those a collection moved to
 *     another list. A full collection reorders all of gen2 and moves
 *     every younger object into it, so without this rule a request freed
 *     from a queue and the next one made at its address would pass for one
 *     object whenever a full collection (a gc.collect() call, say) came
 *     between two checks. Each snapshot keeps, per tracked object, the
 *     LT_REFERRER_KEYS lowest keys of the references to it, a key hashing
 *     the referrer's address and age and the reference (kind, index, key
 *     object, attribute name). Such an object keeps its age only if one of
 *     those references is still there: same referrer, same age, same
 *     reference. An object with no referrer then (only frames or the
 *     interpreter held it) is not checked. Ages settle as rejections
 *     spread: a referrer this rule rejects no longer vouches for what it
 *     holds, so the freed tuple's successor in the queue (another list
 *     index) takes its request, the request's __dict__ and what that
 *     holds with it. A long-lived object whose only references all changed
 *     since the last check (a list item whose index moved, in a queue) and
 *     that a collection moved or reordered starts again: a later leak, not
 *     a false one. (Not so when ages count monitored calls: restarted at a
 *     call's exit, an object looks made during that call. There the
 *     monitor gives no references, and this rule is off.)
 *
 * Limits: a mutable object of the same type at a reused address passes
 * checks 1-3 and 5 whenever the order (4) cannot be checked (when it is in
 * an older generation than the dead object was, or in gen2 across a full
 * collection) and the dead one had no referrer, or the new one has the
 * same referrer by the same reference (rule 8). It passes 4
 * too when it is the first object appended to its list since the last
 * snapshot and the dead one came after every survivor before it: a queue of
 * requests freed oldest first, each new one allocated where the last one
 * died, does that now and then. Each such pass is one comparison; a leak
 * needs LEAK_MIN_CHECKS in a row (lifetime.h), and the default check
 * interval (a fifth of the lifetime) asks for more. Rule 7 is passed by an
 * object that replaced a dead one at the same address in the same
 * attribute, list slot or dict entry of the same holder: the old one must
 * have been freed before the new one was made (not `h.d = {...}`, which
 * makes the new dict first, but `del h.d` then `h.d = {...}`), and again at
 * every check. A dict whose holder changes (a list item whose index moves,
 * a dict reached first through another referrer) starts again: that delays
 * its leak, but a dict made during the warm-up then counts as made after
 * it, so a long-lived one whose holder changes after the warm-up can be
 * reported. Other untracked objects (None and the other singletons, code
 * objects, locks, a bytearray) are matched by type and address only, as
 * before: their holders change all the time (None's most of all), and
 * rarely does the next one of a type take a freed one's address in the
 * same place. One case does: a loop of Event.wait(timeout) makes a lock per
 * wait, in the same slot of the condition's deque of waiters, and pymalloc
 * hands each the last one's address, so with a timeout under the lifetime
 * that lock is reported as one old lock (rule 8 cannot tell: the deque
 * slot is the same reference).
 */
#define _GNU_SOURCE
#include "lifetime.h"

#include <stdlib.h>
#include <string.h>

struct lt_prev {
	raddr_t addr;
	uint64_t type_key;
	uint64_t content;
	uint64_t holder_key;
	uint64_t refkeys[LT_REFERRER_KEYS]; /* rule 8: the lowest keys of the references to it, 0: none */
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
	bool collected[4]; /* a collection went through gen g (so it may have untracked some of it) */
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
				    { !any, false, false, true }, { any, any, any, false } };
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
	m.collected[0] = any;
	m.collected[1] = changed[1] || changed[2];
	m.collected[2] = changed[2];
	m.collected[3] = false; /* the permanent generation is never collected */
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

/* What a referrer puts in the keys of its references (rules 7 and 8): its address and age. */
static uint64_t ref_base(raddr_t from, uint64_t from_first_seen)
{
	uint64_t k = (from * 0x9e3779b97f4a7c15ull) ^ (from_first_seen + 0x94d049bb133111ebull);

	return (k ^ (k >> 31)) * 0xbf58476d1ce4e5b9ull;
}

/* The key of a reference (rules 7 and 8): its referrer's ref_base() and the reference's hash; never 0. */
static uint64_t ref_key(uint64_t base, uint64_t edge)
{
	uint64_t k = base ^ edge;

	k ^= k >> 29;
	return k ? k : 1;
}

/*
 * Rule 7's key of object i: its holder's address and age and the reference
 * from it; 0 when it has none, or the holder's age is not settled yet.
 */
static uint64_t holder_key(const struct lt_obj *objs, size_t n, size_t i, const uint64_t *first_seen,
			   const bool *settled)
{
	size_t h = objs[i].holder;

	if (!h || h > n || h - 1 == i || !settled[h - 1])
		return 0;
	return ref_key(ref_base(objs[h - 1].addr, first_seen[h - 1]), objs[i].edge);
}

/* The ref_base() of each object, with the ages in first_seen: one read per reference after. */
static uint64_t *ref_bases(const struct lt_obj *objs, size_t n, const uint64_t *first_seen)
{
	uint64_t *base = xmalloc((n ? n : 1) * sizeof(*base));

	for (size_t i = 0; i < n; i++)
		base[i] = ref_base(objs[i].addr, first_seen[i]);
	return base;
}

/* Object i's LT_REFERRER_KEYS lowest distinct reference keys (rule 8); base: ref_bases() */
static void lowest_ref_keys(const struct lt_refs *refs, size_t i, const uint64_t *base,
			    uint64_t keys[LT_REFERRER_KEYS])
{
	memset(keys, 0, LT_REFERRER_KEYS * sizeof(*keys));
	for (size_t r = refs->start[i]; r < refs->start[i + 1]; r++) {
		uint64_t k = ref_key(base[refs->from[r]], refs->edge[r]);
		int at = LT_REFERRER_KEYS;

		while (at > 0 && (!keys[at - 1] || keys[at - 1] > k))
			at--;
		if (at > 0 && keys[at - 1] == k)
			continue;
		if (at == LT_REFERRER_KEYS)
			continue;
		memmove(&keys[at + 1], &keys[at], (LT_REFERRER_KEYS - 1 - (size_t)at) * sizeof(*keys));
		keys[at] = k;
	}
}

/* Bit s of which keys of the last snapshot's refkeys (lowest first) reference r of object i matches. */
static unsigned matched_key(const struct lt_prev *p, uint64_t k)
{
	for (int s = 0; s < LT_REFERRER_KEYS && p->refkeys[s]; s++)
		if (p->refkeys[s] == k)
			return 1u << s;
	return 0;
}

/*
 * Rule 8 over the objects still kept whose order was not checked
 * (subject[i]: index + 1 of their entry in lt->prev); @return how many it
 * rejected. First each is matched against the ages the other rules left;
 * then every rejection withdraws the references it made, which may leave
 * an object it held with none, and so on down.
 */
static size_t check_referrers(const struct lifetimes *lt, const struct lt_obj *objs, size_t n,
			      const struct lt_refs *refs, const size_t *subject, bool *ok, uint64_t *first_seen,
			      uint64_t now_ns)
{
	uint64_t *before = ref_bases(objs, n, first_seen); /* ref_base() with the ages before this rule */
	uint8_t *mask = xcalloc(n ? n : 1, sizeof(*mask));
	uint32_t *stack = NULL, *out = NULL, *to = NULL;
	size_t *out_start = NULL, nstack = 0, rejected = 0, nrefs = n ? refs->start[n] : 0;

	for (size_t i = 0; i < n; i++) {
		const struct lt_prev *p;

		if (!subject[i] || !ok[i])
			continue;
		p = &lt->prev[subject[i] - 1];
		for (size_t r = refs->start[i]; r < refs->start[i + 1]; r++)
			mask[i] |= (uint8_t)matched_key(p, ref_key(before[refs->from[r]], refs->edge[r]));
		if (!mask[i]) {
			if (!stack)
				stack = xmalloc((n ? n : 1) * sizeof(*stack));
			stack[nstack++] = (uint32_t)i;
		}
	}
	if (nstack) {
		/* the references by referrer: out[out_start[f] ..] are the references r from f, to[r] their object */
		out_start = xcalloc(n + 1, sizeof(*out_start));
		out = xmalloc((nrefs ? nrefs : 1) * sizeof(*out));
		to = xmalloc((nrefs ? nrefs : 1) * sizeof(*to));
		for (size_t r = 0; r < nrefs; r++)
			out_start[refs->from[r] + 1]++;
		for (size_t f = 0; f < n; f++)
			out_start[f + 1] += out_start[f];
		for (size_t i = 0, r = 0; i < n; i++)
			for (; r < refs->start[i + 1]; r++) {
				size_t *at = &out_start[refs->from[r]];
				out[(*at)++] = (uint32_t)r;
				to[r] = (uint32_t)i;
			}
		for (size_t f = n; f > 0; f--) /* back to the starts the fill moved on */
			out_start[f] = out_start[f - 1];
		out_start[0] = 0;
	}
	for (size_t k = 0; k < nstack; k++) { /* each rejected object is stacked once */
		ok[stack[k]] = false;
		first_seen[stack[k]] = now_ns;
		rejected++;
	}
	while (nstack) {
		uint32_t f = stack[--nstack];

		for (size_t o = out_start[f]; o < out_start[f + 1]; o++) {
			size_t r = out[o], i = to[r];

			if (!subject[i] || !ok[i])
				continue;
			mask[i] &= (uint8_t)~matched_key(&lt->prev[subject[i] - 1], ref_key(before[f], refs->edge[r]));
			if (!mask[i]) {
				ok[i] = false;
				first_seen[i] = now_ns;
				rejected++;
				stack[nstack++] = (uint32_t)i;
			}
		}
	}
	free(before);
	free(mask);
	free(stack);
	free(out);
	free(to);
	free(out_start);
	return rejected;
}

void lifetimes__update(struct lifetimes *lt, const struct lt_obj *objs, size_t n, const struct lt_refs *refs,
		       const uint64_t collections[3], bool have_collections, uint64_t now_ns,
		       uint64_t *first_seen, uint16_t *checks)
{
	struct moves m = allowed_moves(lt, collections, have_collections);
	struct order_item *items = NULL;
	size_t nitems = 0, cap = 0, nlevel[257] = { 0 };
	bool *ok = xcalloc(n ? n : 1, sizeof(*ok)), *same = xcalloc(n ? n : 1, sizeof(*same));
	bool *settled = xcalloc(n ? n : 1, sizeof(*settled));
	uint32_t *order = by_address(objs, n), *prank = xcalloc(n ? n : 1, sizeof(*prank));
	uint32_t *by_depth = xmalloc((n ? n : 1) * sizeof(*by_depth));
	size_t *defer = xcalloc(n ? n : 1, sizeof(*defer)); /* index + 1 into lt->prev: rule 7 decides */
	uint16_t *nseen = xcalloc(n ? n : 1, sizeof(*nseen));
	uint64_t *hkey = xcalloc(n ? n : 1, sizeof(*hkey));
	size_t *subject = refs ? xcalloc(n ? n : 1, sizeof(*subject)) : NULL; /* index + 1 into lt->prev: rule 8 */
	uint64_t *base;
	struct lt_prev *next;

	lt->kept = lt->reused_type = lt->reused_gen = lt->reused_collected = 0;
	lt->reused_order = lt->reused_content = lt->reused_holder = lt->reused_referrers = lt->fresh = 0;
	/* a merge of this snapshot with the last, both in address order */
	for (size_t k = 0, j = 0; k < n; k++) {
		size_t i = order[k];
		const struct lt_obj *o = &objs[i];
		const struct lt_prev *p = NULL;
		bool tracked = o->gen >= 0 && o->gen <= LT_PERMANENT;
		bool was_tracked, retracked;

		while (j < lt->nprev && lt->prev[j].addr < o->addr)
			j++;
		if (lt->have_prev && j < lt->nprev && lt->prev[j].addr == o->addr)
			p = &lt->prev[j];
		first_seen[i] = now_ns;
		if (!p) {
			lt->fresh++;
			continue;
		}
		was_tracked = p->gen >= 0 && p->gen <= LT_PERMANENT;
		/* a dict the collector may have untracked since, and an insert tracked again (rule 2) */
		retracked = (o->flags & LT_MAY_RETRACK) && tracked && (o->gen == 0 || m.promote[o->gen]) &&
			    (!was_tracked || m.collected[p->gen]);
		if (p->type_key != o->type_key) { /* rule 1 */
			lt->reused_type++;
		} else if (was_tracked && !tracked &&
			   (!(o->flags & LT_MAY_UNTRACK) || !m.collected[p->gen])) { /* rule 2: untracked */
			lt->reused_gen++;
		} else if (!was_tracked && tracked && !retracked) { /* rule 2: tracked again */
			lt->reused_gen++;
		} else if (tracked && was_tracked && o->gen < p->gen && !retracked) { /* rule 2: never younger */
			lt->reused_gen++;
		} else if (tracked && was_tracked && !retracked &&
			   ((o->gen == p->gen && !m.stay[o->gen]) ||
			    (o->gen > p->gen && !m.promote[o->gen]))) { /* rule 3 */
			lt->reused_collected++;
		} else if (tracked && was_tracked && retracked &&
			   (o->gen < p->gen || (o->gen == p->gen && !m.stay[o->gen]) ||
			    (o->gen > p->gen && !m.promote[o->gen]))) {
			defer[i] = j + 1; /* rules 2 and 3 allow it only if untracked and tracked again since: rule 7 */
		} else if (p->content != o->content) { /* rule 5 */
			lt->reused_content++;
		} else if (!o->content && (!tracked || !was_tracked) && (o->flags & LT_MAY_RETRACK)) {
			defer[i] = j + 1; /* an untracked or just re-tracked dict: rule 7 */
		} else {
			ok[i] = true;
			first_seen[i] = p->first_seen;
			prank[i] = p->rank;
			nseen[i] = p->checks;
			same[i] = p->gen == o->gen && p->list == o->list;
			if (subject && tracked && (!same[i] || !m.ordered[o->gen]) && p->refkeys[0])
				subject[i] = j + 1; /* the order cannot vouch for it: rule 8 */
		}
	}
	/* the ordered lists' objects, in node order: by list and rank already, as a rule */
	for (size_t i = 0; i < n; i++) {
		const struct lt_obj *o = &objs[i];
		/* a re-tracked dict (rule 7) was appended: old stays false */
		if (o->gen >= 0 && o->gen <= LT_PERMANENT && m.ordered[o->gen]) {
			GROW(items, cap, nitems + 1);
			items[nitems++] = (struct order_item){ i, o->rank, prank[i], o->list, ok[i] && same[i] };
		}
	}
	lt->reused_order = check_order(items, nitems, ok, first_seen, now_ns);
	/* rule 8 before rule 7: a re-tracked dict's holder may be an object it rejects */
	if (refs)
		lt->reused_referrers = check_referrers(lt, objs, n, refs, subject, ok, first_seen, now_ns);
	/*
	 * Rule 7, in order of depth so that a holder's age is settled before
	 * the objects it holds are compared (a holder has a smaller depth, or
	 * is tracked like the re-tracked dict it holds).
	 */
	for (size_t i = 0; i < n; i++) {
		settled[i] = !defer[i];
		nlevel[(size_t)objs[i].depth + 1]++;
	}
	for (size_t d = 1; d < 257; d++)
		nlevel[d] += nlevel[d - 1];
	for (size_t i = 0; i < n; i++)
		by_depth[nlevel[objs[i].depth]++] = (uint32_t)i;
	for (size_t k = 0; k < n; k++) {
		size_t i = by_depth[k];
		const struct lt_prev *p;
		uint64_t key;

		if (!defer[i])
			continue;
		p = &lt->prev[defer[i] - 1];
		key = holder_key(objs, n, i, first_seen, settled);
		settled[i] = true;
		if (!key || key != p->holder_key) {
			lt->reused_holder++;
			continue;
		}
		ok[i] = true;
		first_seen[i] = p->first_seen;
		nseen[i] = p->checks;
	}
	for (size_t i = 0; i < n; i++) {
		hkey[i] = holder_key(objs, n, i, first_seen, settled);
		lt->kept += ok[i];
		nseen[i] = ok[i] ? (uint16_t)(nseen[i] + (nseen[i] < UINT16_MAX)) : 1;
		if (checks)
			checks[i] = nseen[i];
	}
	/* this snapshot becomes the previous one, in address order */
	next = xmalloc((n ? n : 1) * sizeof(*next));
	base = refs ? ref_bases(objs, n, first_seen) : NULL;
	for (size_t k = 0; k < n; k++) {
		const struct lt_obj *o = &objs[order[k]];
		next[k] = (struct lt_prev){ o->addr, o->type_key, o->content, hkey[order[k]], { 0 },
					    first_seen[order[k]], o->rank, o->list, nseen[order[k]], o->gen };
		if (refs && o->gen >= 0 && o->gen <= LT_PERMANENT)
			lowest_ref_keys(refs, order[k], base, next[k].refkeys);
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
	free(settled);
	free(prank);
	free(by_depth);
	free(defer);
	free(nseen);
	free(hkey);
	free(subject);
	free(base);
}

/* Calls an object created during a call has lived (its own included), or 0 when not created during one. */
static uint64_t age_in_calls(const struct lt_ages *a, size_t i)
{
	uint64_t first = a->first_seen[i];

	if (!(first & 1) || first > a->now)
		return 0; /* first seen at an entry: created between calls */
	return (a->now - first) / 2 + 1;
}

/*
 * The count is what stands against the limits above when checks are far
 * apart (LEAK_MIN_CHECKS in lifetime.h says why four); with the default
 * interval, an object older than the lifetime has been matched at six checks
 * in a row anyway.
 */
bool lifetime__is_leak(const struct lt_ages *a, size_t i)
{
	if (a->age_calls)
		return a->first_seen[i] >= a->warmup_end && age_in_calls(a, i) >= a->age_calls;
	return a->first_seen[i] >= a->warmup_end && a->now - a->first_seen[i] > a->life_ns &&
	       a->checks[i] >= LEAK_MIN_CHECKS;
}

bool lifetime__is_new_leak(const struct lt_ages *a, size_t i)
{
	uint64_t first = a->first_seen[i];
	uint32_t then;

	if (!lifetime__is_leak(a, i))
		return false;
	if (a->age_calls) /* at the one exit where it reaches the age */
		return age_in_calls(a, i) == a->age_calls;
	if (!a->prev_now || a->checks[i] <= a->checks_since || first > a->prev_now)
		return true; /* no report yet, or not the same object at the last one */
	then = (uint32_t)a->checks[i] - a->checks_since;
	return !(a->prev_now - first > a->life_ns && then >= LEAK_MIN_CHECKS);
}
