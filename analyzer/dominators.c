/* SPDX-License-Identifier: MIT */
/*
 * The dominator tree of the reference graph (Lengauer-Tarjan, with path
 * compression, every walk iterative) and retained sizes: see dominators.h for
 * the roots and the edges it follows.
 *
 * Numbering: the depth-first search gives every node a number from 2 on (the
 * super-root is 1, 0 means "none"); the semidominator and immediate
 * dominator arrays are indexed by these numbers, which keeps the inner loops
 * on arrays of 32-bit integers.
 */
#define _GNU_SOURCE
#include "dominators.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

/* Which reason wins when a node is a root for several: lower first. */
static int root_rank(uint8_t k)
{
	switch (k) {
	case ROOT_GLOBAL: return 1;
	case ROOT_CLASS_ATTRIBUTE: return 2;
	case ROOT_SYS_MODULES: return 3;
	case ROOT_LOCAL: return 4;
	case ROOT_GC_GARBAGE: return 5;
	case ROOT_PERMANENT: return 6;
	case ROOT_NATIVE: return 7;
	case ROOT_UNREACHABLE: return 8;
	default: return 100;
	}
}

static void set_root(uint8_t *root, uint32_t v, uint8_t k)
{
	if (root_rank(k) < root_rank(root[v]))
		root[v] = k;
}

/* Why each node is a child of the super-root (before the unreachable ones). */
static void classify_roots(const struct graph *g, uint8_t *root)
{
	bool permanent[SNAP_MAX_LISTS] = { false };
	size_t ntracked = 0;

	for (size_t i = 0; i < g->nroots; i++)
		if (g->roots[i].node < g->n)
			set_root(root, g->roots[i].node, ROOT_LOCAL);
	if (g->dict_owner)
		for (size_t u = 0; u < g->n; u++) {
			if (!g->dict_owner[u])
				continue;
			for (size_t k = g->fwd_start[u]; k < g->fwd_start[u + 1]; k++) {
				enum root_kind kind = graph__root_edge_kind(g, k);
				if (kind != ROOT_NONE)
					set_root(root, g->edges[k].to, (uint8_t)kind);
			}
		}
	if (g->snap) {
		for (int i = 0; i < g->snap->nlists && i < SNAP_MAX_LISTS; i++)
			permanent[i] = g->snap->lists[i].name && !strcmp(g->snap->lists[i].name, "permanent");
		ntracked = MIN(g->snap->n, g->n);
		for (size_t v = 0; v < ntracked; v++)
			if (g->snap->objs[v].list < SNAP_MAX_LISTS && permanent[g->snap->objs[v].list])
				set_root(root, (uint32_t)v, ROOT_PERMANENT);
	}
	for (size_t v = 0; v < g->n; v++)
		if (root[v] == ROOT_NONE && (g->nodes[v].immortal || g->nodes[v].refcnt > g->nodes[v].inbound))
			root[v] = ROOT_NATIVE;
}

struct lt {
	const struct graph *g;
	uint32_t *dfn;      /* node -> number (0: not reached yet) */
	uint32_t *vertex;   /* number -> node */
	uint32_t *parent;   /* number -> number of the DFS parent */
	uint32_t *semi;
	uint32_t *label;    /* (the DFS's edge cursor while searching) */
	uint32_t *ancestor;
	uint32_t *idom;     /* number -> number */
	uint32_t *stack;
	uint32_t count;     /* numbers given, the super-root's included */
};

/*
 * Carve count elements of size bytes off an arena (8-byte aligned). The big
 * arrays of a million-node graph live in two arenas in huge pages
 * (table_zalloc): a report computes the tree anew each time, and first
 * touching tens of megabytes in 4 KiB pages costs more page faults than
 * the search itself costs time.
 */
static void *carve(unsigned char **arena, size_t count, size_t size)
{
	void *p = *arena;

	*arena += (count * size + 7) & ~(size_t)7;
	return p;
}

/*
 * t->succ (see dominators.h): one pass over g's edges, in source order.
 * Searches then read one 4-byte entry a reference, in order, instead of a
 * 32-byte edge record.
 */
static void build_succ(struct dom_tree *t, const struct graph *g)
{
	size_t n = g->n, m = g->nedges;

	t->adj_bytes = (m ? m : 1) * sizeof(uint32_t);
	t->succ = t->adj = table_zalloc(t->adj_bytes);
	for (size_t k = 0; k < m; k++) {
		const struct gedge *e = &g->edges[k];

		t->succ[k] = e->kind == EDGE_TYPE_OF || e->to >= n ? DOM_SKIP : e->to | (e->derived ? DOM_DERIVED : 0);
	}
}

/* Depth-first from node s, a child of the super-root, over the edges that count. */
static void dfs_from(struct lt *lt, const struct dom_tree *t, uint32_t s)
{
	uint32_t *cur = lt->label;
	size_t sp = 0;

	lt->dfn[s] = ++lt->count;
	lt->vertex[lt->count] = s;
	lt->parent[lt->count] = 1;
	cur[lt->count] = 0;
	lt->stack[sp++] = lt->count;
	while (sp) {
		uint32_t i = lt->stack[sp - 1], v = lt->vertex[i], w = 0;
		size_t k = lt->g->fwd_start[v] + cur[i], hi = lt->g->fwd_start[v + 1];

		for (; k < hi; k++) {
			uint32_t x = t->succ[k];
			if (!(x & DOM_DERIVED) && !lt->dfn[x]) { /* DOM_SKIP has the bit too */
				w = x;
				break;
			}
		}
		if (k >= hi) {
			sp--;
			continue;
		}
		cur[i] = (uint32_t)(k - lt->g->fwd_start[v] + 1);
		lt->dfn[w] = ++lt->count;
		lt->vertex[lt->count] = w;
		lt->parent[lt->count] = i;
		cur[lt->count] = 0;
		lt->stack[sp++] = lt->count;
	}
}

/* Whether v has no referrer but itself over the edges that count. */
static bool no_referrer(const struct graph *g, uint32_t v)
{
	for (size_t k = g->rev_start[v]; k < g->rev_start[v + 1]; k++)
		if (g->edges[g->rev[k]].from != v && dominators__edge_counts(&g->edges[g->rev[k]]))
			return false;
	return true;
}

/* The node of the forest with the lowest semidominator on v's path up (path compression, no recursion). */
static uint32_t eval(struct lt *lt, uint32_t v)
{
	uint32_t *anc = lt->ancestor, *label = lt->label, *semi = lt->semi;
	size_t sp = 0;
	uint32_t x = v;

	if (!anc[v])
		return v;
	while (anc[anc[x]]) {
		lt->stack[sp++] = x;
		x = anc[x];
	}
	while (sp) {
		uint32_t y = lt->stack[--sp], a = anc[y];
		if (semi[label[a]] < semi[label[y]])
			label[y] = label[a];
		anc[y] = anc[a];
	}
	return label[v];
}

static inline uint64_t size_of(const uint64_t *node_size, uint32_t v)
{
	return node_size ? node_size[v] : 1;
}

int dominators__compute(struct dom_tree *t, const struct graph *g, const uint64_t *node_size)
{
	uint64_t t0 = now_ns();
	size_t n = g->n, slots, nn, work_bytes;
	struct lt lt = { .g = g };
	uint32_t *sub, *next, *pre_d, *bhead, *bnext;
	unsigned char *a, *work;

	memset(t, 0, sizeof(*t));
	if (!g->indexed || !g->rev_start || !g->fwd_start || !g->rev)
		return -EINVAL;
	if (n >= DOM_DERIVED - 2 || g->nedges >= UINT32_MAX)
		return -E2BIG;
	slots = n + 2; /* numbers 1 (the super-root) .. n + 1 */
	nn = n ? n : 1;
	t->n = n;
	/* the tree: idom, pre, end (4 bytes a node), retained (8), root (1); zeroed */
	t->arena_bytes = 3 * ((nn * 4 + 7) & ~(size_t)7) + nn * 8 + ((nn + 7) & ~(size_t)7);
	a = t->arena = table_zalloc(t->arena_bytes);
	t->idom = carve(&a, nn, sizeof(*t->idom));
	t->pre = carve(&a, nn, sizeof(*t->pre));
	t->end = carve(&a, nn, sizeof(*t->end));
	t->retained = carve(&a, nn, sizeof(*t->retained));
	t->root = carve(&a, nn, sizeof(*t->root));

	classify_roots(g, t->root);
	build_succ(t, g);

	/* the search's arrays, zeroed: dfn by node, nine more by number */
	work_bytes = ((nn * 4 + 7) & ~(size_t)7) + 9 * ((slots * 4 + 7) & ~(size_t)7);
	a = work = table_zalloc(work_bytes);
	lt.dfn = carve(&a, nn, sizeof(*lt.dfn));
	lt.vertex = carve(&a, slots, sizeof(*lt.vertex));
	lt.parent = carve(&a, slots, sizeof(*lt.parent));
	lt.semi = carve(&a, slots, sizeof(*lt.semi));
	lt.label = carve(&a, slots, sizeof(*lt.label));
	lt.ancestor = carve(&a, slots, sizeof(*lt.ancestor));
	lt.idom = carve(&a, slots, sizeof(*lt.idom));
	lt.stack = carve(&a, slots, sizeof(*lt.stack));
	bhead = carve(&a, slots, sizeof(*bhead));
	bnext = carve(&a, slots, sizeof(*bnext));
	lt.count = 1;
	lt.vertex[1] = DOM_SUPER;
	lt.parent[1] = 0;

	/* the roots, then what no root reaches: sources first, then the rest (cycles) in node order */
	for (size_t v = 0; v < n; v++)
		if (t->root[v] != ROOT_NONE && !lt.dfn[v])
			dfs_from(&lt, t, (uint32_t)v);
	for (int pass = 0; pass < 2 && lt.count < n + 1; pass++)
		for (size_t v = 0; v < n; v++) {
			if (lt.dfn[v] || (pass == 0 && !no_referrer(g, (uint32_t)v)))
				continue;
			t->root[v] = ROOT_UNREACHABLE;
			t->nunreachable++;
			dfs_from(&lt, t, (uint32_t)v);
		}

	/* semidominators, then immediate dominators through the buckets of nodes by semidominator */
	{
		for (uint32_t i = 1; i <= lt.count; i++) {
			lt.semi[i] = i;
			lt.label[i] = i;
		}
		for (uint32_t i = lt.count; i >= 2; i--) {
			uint32_t w = lt.vertex[i], p = lt.parent[i], s = lt.semi[i];

			if (t->root[w] != ROOT_NONE)
				s = 1; /* the super-root refers to it */
			for (size_t k = g->rev_start[w]; k < g->rev_start[w + 1] && s > 1; k++) {
				const struct gedge *e = &g->edges[g->rev[k]];
				uint32_t u;

				if (!dominators__edge_counts(e))
					continue;
				u = eval(&lt, lt.dfn[e->from]);
				if (lt.semi[u] < s)
					s = lt.semi[u];
			}
			lt.semi[i] = s;
			bnext[i] = bhead[s];
			bhead[s] = i;
			lt.ancestor[i] = p; /* link */
			for (uint32_t v = bhead[p]; v; v = bnext[v]) {
				uint32_t u = eval(&lt, v);
				lt.idom[v] = lt.semi[u] < lt.semi[v] ? u : p;
			}
			bhead[p] = 0;
		}
		for (uint32_t i = 2; i <= lt.count; i++)
			if (lt.idom[i] != lt.semi[i])
				lt.idom[i] = lt.idom[lt.idom[i]];
	}

	/* retained sizes: children have higher numbers than their dominators */
	for (size_t v = 0; v < n; v++) {
		t->retained[v] = size_of(node_size, (uint32_t)v);
		t->total += t->retained[v];
		if (t->root[v] != ROOT_NONE)
			t->nroots++;
	}
	for (uint32_t i = lt.count; i >= 2; i--) {
		uint32_t v = lt.vertex[i], d = lt.idom[i];

		if (d > 1) {
			t->idom[v] = lt.vertex[d];
			t->retained[lt.vertex[d]] += t->retained[v];
		} else
			t->idom[v] = DOM_SUPER;
	}

	/* a preorder of the dominator tree: subtree sizes, then each child gets the next block of its parent's */
	sub = lt.semi;
	next = lt.label;
	pre_d = lt.ancestor;
	for (uint32_t i = 1; i <= lt.count; i++)
		sub[i] = 1;
	for (uint32_t i = lt.count; i >= 2; i--)
		sub[lt.idom[i]] += sub[i];
	pre_d[1] = 0;
	next[1] = 1;
	for (uint32_t i = 2; i <= lt.count; i++) {
		uint32_t d = lt.idom[i];
		pre_d[i] = next[d];
		next[d] += sub[i];
		next[i] = pre_d[i] + 1;
	}
	for (size_t v = 0; v < n; v++) {
		uint32_t i = lt.dfn[v];
		t->pre[v] = pre_d[i];
		t->end[v] = pre_d[i] + sub[i] - 1;
	}

	table_free(work, work_bytes);
	t->ns = now_ns() - t0;
	return 0;
}

void dominators__release(struct dom_tree *t)
{
	table_free(t->arena, t->arena_bytes);
	table_free(t->adj, t->adj_bytes);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------ groups of nodes */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t dominators__union_retained(const struct dom_tree *t, const uint32_t *members, size_t n)
{
	uint64_t *v = xmalloc((n ? n : 1) * sizeof(*v)), sum = 0; /* preorder number << 32 | node */
	size_t k = 0;
	bool have = false;
	uint32_t end = 0;

	for (size_t i = 0; i < n; i++)
		if (members[i] < t->n)
			v[k++] = (uint64_t)t->pre[members[i]] << 32 | members[i];
	qsort(v, k, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < k; i++) {
		uint32_t m = (uint32_t)v[i];

		if (have && t->pre[m] <= end)
			continue; /* inside the subtree of a member counted already */
		sum += t->retained[m];
		end = t->end[m];
		have = true;
	}
	free(v);
	return sum;
}

/*
 * The lowest common dominator of the members (DOM_SUPER: the super-root),
 * from *first and the last of them in preorder; *first = DOM_SUPER when no
 * member is in the tree.
 */
static uint32_t group_lca(const struct dom_tree *t, const uint32_t *members, size_t n, uint32_t *first)
{
	uint32_t a = DOM_SUPER, b = DOM_SUPER, l;

	for (size_t i = 0; i < n; i++) {
		uint32_t m = members[i];
		if (m >= t->n)
			continue;
		if (a == DOM_SUPER || t->pre[m] < t->pre[a])
			a = m;
		if (b == DOM_SUPER || t->pre[m] > t->pre[b])
			b = m;
	}
	*first = a;
	if (a == DOM_SUPER)
		return DOM_SUPER;
	for (l = a; l != DOM_SUPER && !dominators__dominates(t, l, b); l = t->idom[l])
		;
	return l;
}

size_t dominators__group_region(const struct dom_tree *t, const uint32_t *members, size_t n)
{
	uint32_t a, l = group_lca(t, members, n, &a);

	if (a == DOM_SUPER || l == a)
		return 0;
	return l == DOM_SUPER ? t->n : (size_t)(t->end[l] - t->pre[l]) + 1;
}

#define BIT_SET(b, i) ((b)[(i) >> 6] |= 1ull << ((i) & 63))
#define BIT_GET(b, i) (((b)[(i) >> 6] >> ((i) & 63)) & 1)

uint64_t dominators__group_retained(const struct dom_tree *t, const struct graph *g, const uint64_t *node_size,
				    const uint32_t *members, size_t n, size_t max_visit, bool *exact,
				    size_t *visited)
{
	uint32_t a, l, lo, hi, *queue;
	uint64_t *member, *seen, base, reached = 0;
	size_t region, qn = 0, qh = 0;
	bool dummy;

	if (!exact)
		exact = &dummy;
	*exact = true;
	if (visited)
		*visited = 0;
	/* the lowest common dominator of the set is that of its first and last in preorder */
	l = group_lca(t, members, n, &a);
	if (a == DOM_SUPER)
		return 0;
	if (l == a)
		return t->retained[a]; /* a member dominates all the others */
	if (l == DOM_SUPER) {
		lo = 1;
		hi = (uint32_t)t->n;
		base = t->total;
	} else {
		lo = t->pre[l];
		hi = t->end[l];
		base = t->retained[l];
	}
	region = (size_t)(hi - lo) + 1;
	if (region > max_visit || g->n != t->n) {
		*exact = false;
		return dominators__union_retained(t, members, n);
	}
	/*
	 * What l (or the roots) still reaches without the members, within its
	 * dominator subtree: a path that left the subtree could not come back
	 * without passing l. The rest of the subtree is freed with the members.
	 */
	member = xcalloc(t->n / 64 + 1, sizeof(*member));
	seen = xcalloc(t->n / 64 + 1, sizeof(*seen));
	queue = xmalloc(region * sizeof(*queue));
	for (size_t i = 0; i < n; i++)
		if (members[i] < t->n)
			BIT_SET(member, members[i]);
	if (l != DOM_SUPER) {
		BIT_SET(seen, l);
		queue[qn++] = l;
	} else
		for (uint32_t v = 0; v < t->n; v++)
			if (t->root[v] != ROOT_NONE && !BIT_GET(member, v)) {
				BIT_SET(seen, v);
				queue[qn++] = v;
			}
	while (qh < qn) {
		uint32_t v = queue[qh++];

		reached += size_of(node_size, v);
		for (size_t k = g->fwd_start[v]; k < g->fwd_start[v + 1]; k++) {
			uint32_t w = t->succ[k];

			if ((w & DOM_DERIVED) || BIT_GET(seen, w) || BIT_GET(member, w) || t->pre[w] < lo ||
			    t->pre[w] > hi)
				continue;
			BIT_SET(seen, w);
			queue[qn++] = w;
		}
	}
	if (visited)
		*visited = qn;
	free(member);
	free(seen);
	free(queue);
	return base >= reached ? base - reached : 0;
}
