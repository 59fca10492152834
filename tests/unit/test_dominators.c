/* SPDX-License-Identifier: MIT */
/*
 * analyzer/dominators.c and analyzer/groups.c on reference graphs built in
 * memory (nodes, edges and frame roots, indexed the way graph__index does):
 * dominators of chains, diamonds, cycles, shared and unreachable objects,
 * retained sizes of objects and of sets, checked against a brute force on
 * random graphs; and leak groups with their paths, counts and order.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/dominators.h"
#include "../../analyzer/groups.h"

enum { TY_OBJ, TY_DICT, TY_LIST, TY_RESPONSE, TY_REQUEST, TY_STR, TY_COUNT };
static const char *const type_names[TY_COUNT] = {
	"app.Obj", "builtins.dict", "builtins.list", "app.Response", "app.Request", "builtins.str",
};

struct tg {
	struct graph g;
	struct snapshot snap;
	uint64_t *size;
};

static void tg_init(struct tg *t, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->snap.types.v = xcalloc(TY_COUNT, sizeof(*t->snap.types.v));
	for (int i = 0; i < TY_COUNT; i++)
		t->snap.types.v[i] = (struct type_entry){ 0x1000 + (raddr_t)i * 0x100, xstrdup(type_names[i]), true };
	t->snap.types.n = t->snap.types.cap = TY_COUNT;
	t->g.snap = &t->snap;
	GROW(t->g.names, t->g.names_cap, 1);
	t->g.names[t->g.nnames++] = xstrdup("");
	t->g.nodes = xcalloc(n ? n : 1, sizeof(*t->g.nodes));
	t->g.n = t->g.cap = n;
	for (size_t i = 0; i < n; i++)
		t->g.nodes[i] = (struct gnode){ 0x100000 + 64 * (raddr_t)i, TY_OBJ, 0, 0, false, false, 0 };
	t->size = xcalloc(n ? n : 1, sizeof(*t->size));
	for (size_t i = 0; i < n; i++)
		t->size[i] = 1;
}

static uint32_t tg_name(struct tg *t, const char *name)
{
	if (!name || !*name)
		return 0;
	for (size_t i = 1; i < t->g.nnames; i++)
		if (!strcmp(t->g.names[i], name))
			return (uint32_t)i;
	GROW(t->g.names, t->g.names_cap, t->g.nnames + 1);
	t->g.names[t->g.nnames] = xstrdup(name);
	return (uint32_t)t->g.nnames++;
}

static void tg_edge_full(struct tg *t, uint32_t from, uint32_t to, enum edge_kind kind, int32_t index,
			 const char *name, bool derived)
{
	GROW(t->g.edges, t->g.ecap, t->g.nedges + 1);
	t->g.edges[t->g.nedges++] = (struct gedge){ from, to, (uint8_t)kind, index, 0, tg_name(t, name), derived };
	if (!derived)
		t->g.nodes[to].inbound++;
}

static void tg_edge(struct tg *t, uint32_t from, uint32_t to)
{
	tg_edge_full(t, from, to, EDGE_OTHER, -1, "ref", false);
}

static void tg_local(struct tg *t, uint32_t node, const char *label)
{
	GROW(t->g.roots, t->g.roots_cap, t->g.nroots + 1);
	t->g.roots[t->g.nroots++] = (struct groot){ node, ROOT_LOCAL, xstrdup(label) };
	t->g.nodes[node].inbound++;
}

static int cmp_root(const void *a, const void *b)
{
	const struct groot *x = a, *y = b;
	return x->node < y->node ? -1 : x->node > y->node;
}

/* The indexes graph__index builds (no owners: no module or class dicts here). */
static void tg_index(struct tg *t)
{
	struct graph *g = &t->g;

	g->dict_owner = xcalloc(g->n + 1, sizeof(*g->dict_owner));
	g->owner_is_type = xcalloc(g->n + 1, sizeof(*g->owner_is_type));
	if (g->nroots)
		qsort(g->roots, g->nroots, sizeof(*g->roots), cmp_root);
	graph__index_edges(g);
	g->indexed = true;
}

static void tg_free(struct tg *t)
{
	for (size_t i = 0; i < t->snap.types.n; i++)
		free(t->snap.types.v[i].name);
	free(t->snap.types.v);
	graph__release(&t->g);
	free(t->size);
}

static void compute(struct tg *t, struct dom_tree *d)
{
	tg_index(t);
	cr_assert_eq(dominators__compute(d, &t->g, t->size), 0);
}

/* ------------------------------------------------------------ dominators */

Test(dominators, chain)
{
	struct tg t;
	struct dom_tree d;

	tg_init(&t, 4);
	tg_local(&t, 0, "f.r (local) at a.py:1");
	tg_edge(&t, 0, 1);
	tg_edge(&t, 1, 2);
	tg_edge(&t, 2, 3);
	for (int i = 0; i < 4; i++)
		t.size[i] = 1u << i;
	compute(&t, &d);
	cr_assert_eq(d.idom[0], DOM_SUPER);
	cr_assert_eq(d.idom[1], 0);
	cr_assert_eq(d.idom[2], 1);
	cr_assert_eq(d.idom[3], 2);
	cr_assert_eq(d.retained[0], 15);
	cr_assert_eq(d.retained[1], 14);
	cr_assert_eq(d.retained[2], 12);
	cr_assert_eq(d.retained[3], 8);
	cr_assert_eq(d.root[0], ROOT_LOCAL);
	cr_assert_eq(d.root[1], ROOT_NONE);
	cr_assert_eq(d.nroots, 1);
	cr_assert_eq(d.total, 15);
	cr_assert(dominators__dominates(&d, 1, 3));
	cr_assert(!dominators__dominates(&d, 3, 1));
	dominators__release(&d);
	tg_free(&t);
}

/* A million-node chain: no recursion anywhere. */
Test(dominators, deep_chain)
{
	const size_t n = 1000000;
	struct tg t;
	struct dom_tree d;
	bool exact;

	tg_init(&t, n);
	tg_local(&t, 0, "f.head (local) at a.py:1");
	for (size_t i = 0; i + 1 < n; i++)
		tg_edge(&t, (uint32_t)i, (uint32_t)i + 1);
	tg_edge(&t, (uint32_t)n - 1, 0); /* and back: a cycle through the root */
	compute(&t, &d);
	cr_assert_eq(d.retained[0], n);
	cr_assert_eq(d.retained[n / 2], n - n / 2);
	cr_assert_eq(d.idom[n - 1], n - 2);
	cr_assert_eq(dominators__group_retained(&d, &t.g, t.size, (uint32_t[]){ 10, 20 }, 2, n, &exact, NULL),
		     n - 10);
	cr_assert(exact);
	dominators__release(&d);
	tg_free(&t);
}

/* A shared object is dominated by the common ancestor only. */
Test(dominators, diamond)
{
	struct tg t;
	struct dom_tree d;
	bool exact;
	size_t visited;

	/* r -> a, r -> b, a -> s, b -> s, s -> x */
	tg_init(&t, 5);
	tg_local(&t, 0, "f.r (local) at a.py:1");
	tg_edge(&t, 0, 1);
	tg_edge(&t, 0, 2);
	tg_edge(&t, 1, 3);
	tg_edge(&t, 2, 3);
	tg_edge(&t, 3, 4);
	t.size[0] = 1;
	t.size[1] = 10;
	t.size[2] = 100;
	t.size[3] = 1000;
	t.size[4] = 10000;
	compute(&t, &d);
	cr_assert_eq(d.idom[1], 0);
	cr_assert_eq(d.idom[2], 0);
	cr_assert_eq(d.idom[3], 0, "the shared object's idom is %u, not the root", d.idom[3]);
	cr_assert_eq(d.idom[4], 3);
	cr_assert_eq(d.retained[1], 10);
	cr_assert_eq(d.retained[2], 100);
	cr_assert_eq(d.retained[3], 11000);
	cr_assert_eq(d.retained[0], 11111);
	/* both holders together free the shared object; either alone does not */
	cr_assert_eq(dominators__group_retained(&d, &t.g, t.size, (uint32_t[]){ 1, 2 }, 2, 100, &exact, &visited),
		     11110);
	cr_assert(exact);
	cr_assert_eq(visited, 1, "only the common dominator is still reached, not %zu", visited);
	cr_assert_eq(dominators__union_retained(&d, (uint32_t[]){ 1, 2 }, 2), 110);
	cr_assert_eq(dominators__group_retained(&d, &t.g, t.size, (uint32_t[]){ 1 }, 1, 100, &exact, NULL), 10);
	/* a member dominating the others: its retained size */
	cr_assert_eq(dominators__group_retained(&d, &t.g, t.size, (uint32_t[]){ 3, 4, 3 }, 3, 100, &exact, NULL),
		     11000);
	/* too big a search: the lower bound */
	cr_assert_eq(dominators__group_retained(&d, &t.g, t.size, (uint32_t[]){ 1, 2 }, 2, 2, &exact, NULL), 110);
	cr_assert(!exact);
	dominators__release(&d);
	tg_free(&t);
}

Test(dominators, cycle)
{
	struct tg t;
	struct dom_tree d;

	/* r -> a -> b -> c -> a, c -> x */
	tg_init(&t, 5);
	tg_local(&t, 0, "f.r (local) at a.py:1");
	tg_edge(&t, 0, 1);
	tg_edge(&t, 1, 2);
	tg_edge(&t, 2, 3);
	tg_edge(&t, 3, 1);
	tg_edge(&t, 3, 4);
	compute(&t, &d);
	cr_assert_eq(d.idom[1], 0);
	cr_assert_eq(d.idom[2], 1);
	cr_assert_eq(d.idom[3], 2);
	cr_assert_eq(d.idom[4], 3);
	cr_assert_eq(d.retained[1], 4);
	cr_assert_eq(d.retained[2], 3);
	dominators__release(&d);
	tg_free(&t);
}

/* Two roots sharing an object: only the super-root dominates it. */
Test(dominators, two_roots_share)
{
	struct tg t;
	struct dom_tree d;
	bool exact;

	tg_init(&t, 4);
	tg_local(&t, 0, "f.a (local) at a.py:1");
	tg_local(&t, 1, "g.b (local) at a.py:2");
	tg_edge(&t, 0, 2);
	tg_edge(&t, 1, 2);
	tg_edge(&t, 2, 3);
	compute(&t, &d);
	cr_assert_eq(d.idom[2], DOM_SUPER);
	cr_assert_eq(d.idom[3], 2);
	cr_assert_eq(d.retained[0], 1);
	cr_assert_eq(d.retained[1], 1);
	cr_assert_eq(d.retained[2], 2);
	cr_assert_eq(d.nroots, 2);
	/* both roots: everything (the common dominator is the super-root) */
	cr_assert_eq(dominators__group_retained(&d, &t.g, t.size, (uint32_t[]){ 0, 1 }, 2, 100, &exact, NULL), 4);
	cr_assert(exact);
	dominators__release(&d);
	tg_free(&t);
}

/* What no root reaches hangs from the super-root: sources first, then cycles in node order. */
Test(dominators, unreachable)
{
	struct tg t;
	struct dom_tree d;

	/* 0: a root alone; 1 <-> 2 a cycle; 3 -> 1 (3 has no referrer); 4 <-> 5 a cycle alone */
	tg_init(&t, 6);
	tg_local(&t, 0, "f.r (local) at a.py:1");
	tg_edge(&t, 1, 2);
	tg_edge(&t, 2, 1);
	tg_edge(&t, 3, 1);
	tg_edge(&t, 5, 4);
	tg_edge(&t, 4, 5);
	tg_edge(&t, 4, 4);
	compute(&t, &d);
	cr_assert_eq(d.root[3], ROOT_UNREACHABLE);
	cr_assert_eq(d.root[1], ROOT_NONE, "the cycle is reached from its source, not a root itself");
	cr_assert_eq(d.idom[1], 3);
	cr_assert_eq(d.idom[2], 1);
	cr_assert_eq(d.retained[3], 3);
	cr_assert_eq(d.root[4], ROOT_UNREACHABLE);
	cr_assert_eq(d.idom[5], 4);
	cr_assert_eq(d.nunreachable, 2);
	cr_assert_eq(d.nroots, 3);
	for (int i = 0; i < 6; i++)
		cr_assert(d.idom[i] == DOM_SUPER || d.idom[i] < 6);
	dominators__release(&d);
	tg_free(&t);
}

/* Native code (ob_refcnt above the references found), immortal objects and gc.freeze() make roots too. */
Test(dominators, native_immortal_and_permanent_roots)
{
	struct tg t;
	struct dom_tree d;
	struct snap_object objs[5];

	/* r -> a -> b, a -> c, a -> p; b's refcnt says someone else holds it; c is immortal; p is frozen */
	tg_init(&t, 5);
	tg_local(&t, 0, "f.r (local) at a.py:1");
	tg_edge(&t, 0, 1);
	tg_edge(&t, 1, 2);
	tg_edge(&t, 1, 3);
	tg_edge(&t, 1, 4);
	for (int i = 0; i < 5; i++) {
		t.g.nodes[i].refcnt = t.g.nodes[i].inbound;
		objs[i] = (struct snap_object){ t.g.nodes[i].addr, TY_OBJ, 0, 0 };
	}
	objs[4].list = 1;
	t.snap.objs = objs;
	t.snap.n = 5;
	t.snap.nlists = 2;
	t.snap.lists[0].name = "gen2";
	t.snap.lists[1].name = "permanent";
	t.g.nodes[2].refcnt = 2;
	t.g.nodes[3].immortal = true;
	compute(&t, &d);
	cr_assert_eq(d.root[1], ROOT_NONE);
	cr_assert_eq(d.idom[1], 0);
	cr_assert_eq(d.root[2], ROOT_NATIVE);
	cr_assert_eq(d.idom[2], DOM_SUPER, "what native code holds is not freed with its Python holder");
	cr_assert_eq(d.root[3], ROOT_NATIVE);
	cr_assert_eq(d.root[4], ROOT_PERMANENT);
	cr_assert_eq(d.retained[1], 1);
	cr_assert_eq(d.nroots, 4);
	dominators__release(&d);
	t.snap.objs = NULL;
	tg_free(&t);
}

/* An instance's class (EDGE_TYPE_OF) and its attributes read through __dict__ (derived) do not count. */
Test(dominators, type_of_and_derived_edges)
{
	struct tg t;
	struct dom_tree d;

	/* r -> inst; inst -> cls (type of); inst -> d (__dict__); d -> v (dict value); inst -> v (derived) */
	tg_init(&t, 5);
	tg_local(&t, 0, "f.r (local) at a.py:1");
	tg_edge(&t, 0, 1);
	tg_edge_full(&t, 1, 2, EDGE_TYPE_OF, -1, NULL, false);
	tg_edge_full(&t, 1, 3, EDGE_INSTANCE_DICT, -1, "__dict__", false);
	tg_edge_full(&t, 3, 4, EDGE_DICT_VALUE, -1, NULL, false);
	tg_edge_full(&t, 1, 4, EDGE_ATTR, -1, "v", true);
	compute(&t, &d);
	cr_assert_eq(d.root[2], ROOT_UNREACHABLE, "a class is not held by its instances");
	cr_assert_eq(d.idom[2], DOM_SUPER);
	cr_assert_eq(d.idom[4], 3, "the value is held by the __dict__, not through the derived edge");
	cr_assert_eq(d.retained[1], 3);
	dominators__release(&d);
	tg_free(&t);
}

/* A dict of N unshared objects retains at least the sum of their sizes. */
Test(dominators, dict_of_n)
{
	const uint32_t n = 1000;
	struct tg t;
	struct dom_tree d;
	uint32_t *members = xmalloc(n * sizeof(*members));
	uint64_t sum = 0;
	bool exact;

	/* 0: a root list, 1: the dict, 2..n+1 its values, n+2..2n+1 a str each value holds, 2n+2 a shared str */
	tg_init(&t, 2 * n + 3);
	tg_local(&t, 0, "f.r (local) at a.py:1");
	tg_edge(&t, 0, 1);
	t.size[1] = 4696;
	for (uint32_t i = 0; i < n; i++) {
		tg_edge_full(&t, 1, 2 + i, EDGE_DICT_VALUE, -1, NULL, false);
		tg_edge_full(&t, 2 + i, n + 2 + i, EDGE_ATTR, -1, "name", false);
		tg_edge_full(&t, 2 + i, 2 * n + 2, EDGE_ATTR, -1, "kind", false);
		t.size[2 + i] = 48 + i % 7;
		t.size[n + 2 + i] = 60;
		sum += t.size[2 + i];
		members[i] = 2 + i;
	}
	t.size[2 * n + 2] = 100000;
	tg_local(&t, 2 * n + 2, "f.kind (local) at a.py:2");
	compute(&t, &d);
	cr_assert_geq(d.retained[1], sum + t.size[1]);
	cr_assert_eq(d.retained[1], t.size[1] + sum + 60 * n, "shared str excluded: %llu",
		     (unsigned long long)d.retained[1]);
	cr_assert_eq(dominators__group_retained(&d, &t.g, t.size, members, n, 1u << 20, &exact, NULL), sum + 60 * n);
	cr_assert(exact);
	dominators__release(&d);
	tg_free(&t);
	free(members);
}

/* ------------------------------------------------------------ brute force */

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Nodes reached from the super-root's children without the removed ones. */
static void reach(const struct tg *t, const struct dom_tree *d, const bool *removed, bool *seen)
{
	size_t n = t->g.n, qn = 0, qh = 0;
	uint32_t *q = xmalloc(n * sizeof(*q) + 1);

	memset(seen, 0, n * sizeof(*seen));
	for (size_t v = 0; v < n; v++)
		if (d->root[v] != ROOT_NONE && !removed[v]) {
			seen[v] = true;
			q[qn++] = (uint32_t)v;
		}
	while (qh < qn) {
		uint32_t v = q[qh++];
		for (size_t k = t->g.fwd_start[v]; k < t->g.fwd_start[v + 1]; k++) {
			const struct gedge *e = &t->g.edges[k];
			if (dominators__edge_counts(e) && !seen[e->to] && !removed[e->to]) {
				seen[e->to] = true;
				q[qn++] = e->to;
			}
		}
	}
	free(q);
}

Test(dominators, random_graphs_against_brute_force)
{
	for (int round = 0; round < 200; round++) {
		size_t n = 2 + rnd(40), nedges = rnd((uint32_t)(3 * n));
		struct tg t;
		struct dom_tree d;
		bool *removed, *seen, **dom;

		tg_init(&t, n);
		for (size_t i = 0; i < n; i++)
			t.size[i] = 1 + rnd(1000);
		for (size_t r = 0, nr = rnd(3); r < nr; r++)
			tg_local(&t, rnd((uint32_t)n), "f.x (local) at a.py:1");
		for (size_t e = 0; e < nedges; e++) {
			uint32_t k = rnd(10);
			tg_edge_full(&t, rnd((uint32_t)n), rnd((uint32_t)n), k == 0 ? EDGE_TYPE_OF : EDGE_OTHER, -1,
				     NULL, k == 1);
		}
		compute(&t, &d);
		removed = xcalloc(n, sizeof(*removed));
		seen = xcalloc(n, sizeof(*seen));
		dom = xcalloc(n, sizeof(*dom)); /* dom[x][v]: x dominates v */
		reach(&t, &d, removed, seen);
		for (size_t v = 0; v < n; v++)
			cr_assert(seen[v], "round %d: node %zu not under the super-root", round, v);
		for (size_t x = 0; x < n; x++) {
			dom[x] = xcalloc(n, sizeof(**dom));
			removed[x] = true;
			reach(&t, &d, removed, seen);
			removed[x] = false;
			for (size_t v = 0; v < n; v++)
				dom[x][v] = v == x || !seen[v];
		}
		for (size_t v = 0; v < n; v++) {
			uint64_t retained = 0;
			size_t best = SIZE_MAX, best_count = 0;

			for (size_t w = 0; w < n; w++)
				if (dom[v][w])
					retained += t.size[w];
			cr_assert_eq(d.retained[v], retained, "round %d: retained[%zu] %llu, brute force %llu", round, v,
				     (unsigned long long)d.retained[v], (unsigned long long)retained);
			/* the immediate dominator: the strict dominator with the most dominators of its own */
			for (size_t x = 0; x < n; x++) {
				size_t c = 0;
				if (x == v || !dom[x][v])
					continue;
				for (size_t y = 0; y < n; y++)
					c += dom[y][x];
				if (best == SIZE_MAX || c > best_count) {
					best = x;
					best_count = c;
				}
			}
			cr_assert_eq(d.idom[v], best == SIZE_MAX ? DOM_SUPER : (uint32_t)best,
				     "round %d: idom[%zu] %u, brute force %zu", round, v, d.idom[v], best);
			for (size_t x = 0; x < n; x++)
				cr_assert_eq(dominators__dominates(&d, (uint32_t)x, (uint32_t)v), dom[x][v]);
		}
		/* sets: removed together, what is no longer reached */
		for (int s = 0; s < 5; s++) {
			uint32_t m[4];
			size_t k = 1 + rnd(4);
			uint64_t want = 0, got;
			bool exact;

			memset(removed, 0, n * sizeof(*removed));
			for (size_t i = 0; i < k; i++) {
				m[i] = rnd((uint32_t)n);
				removed[m[i]] = true;
			}
			reach(&t, &d, removed, seen);
			for (size_t v = 0; v < n; v++)
				if (!seen[v])
					want += t.size[v];
			got = dominators__group_retained(&d, &t.g, t.size, m, k, n, &exact, NULL);
			cr_assert(exact);
			cr_assert_eq(got, want, "round %d: set of %zu: %llu, brute force %llu", round, k,
				     (unsigned long long)got, (unsigned long long)want);
			cr_assert_leq(dominators__union_retained(&d, m, k), want);
			memset(removed, 0, n * sizeof(*removed));
		}
		for (size_t x = 0; x < n; x++)
			free(dom[x]);
		free(dom);
		free(removed);
		free(seen);
		dominators__release(&d);
		tg_free(&t);
	}
}

/* ------------------------------------------------------------ groups */

/*
 * cache (a local) -> dict -> nresp Responses, each -> Request (.request);
 * pending (a local in another frame) -> list -> nitems Objs.
 * @return through the arguments: the first Response, Request, item
 */
static void build_leaks(struct tg *t, uint32_t nresp, uint32_t nitems, uint32_t *resp, uint32_t *req,
			uint32_t *item)
{
	uint32_t n = 2 + 2 * nresp + nitems, dict = 0, list = 1 + 2 * nresp;

	tg_init(t, n);
	*resp = 1;
	*req = 1 + nresp;
	*item = list + 1;
	t->g.nodes[dict].type = TY_DICT;
	t->g.nodes[list].type = TY_LIST;
	tg_local(t, dict, "handler.cache (local) at app.py:10");
	tg_local(t, list, "worker.pending (local) at app.py:20");
	t->size[dict] = 200000;
	t->size[list] = 1656;
	for (uint32_t i = 0; i < nresp; i++) {
		t->g.nodes[*resp + i].type = TY_RESPONSE;
		t->g.nodes[*req + i].type = TY_REQUEST;
		t->size[*resp + i] = 56;
		t->size[*req + i] = 72;
		GROW(t->g.edges, t->g.ecap, t->g.nedges + 1);
		/* every value under its own key: the keys collapse */
		t->g.edges[t->g.nedges++] = (struct gedge){ dict, *resp + i, EDGE_DICT_VALUE, -1, 0x7000 + 8 * (raddr_t)i,
							     0, false };
		t->g.nodes[*resp + i].inbound++;
		tg_edge_full(t, *resp + i, *req + i, EDGE_ATTR, -1, "request", false);
	}
	for (uint32_t i = 0; i < nitems; i++) {
		t->size[*item + i] = 32;
		tg_edge_full(t, list, *item + i, EDGE_LIST_INDEX, (int32_t)i, NULL, false);
	}
}

static void check_group(const struct leak_group *gr, const char *path, size_t count, enum root_kind kind)
{
	cr_assert_str_eq(gr->path, path);
	cr_assert_eq(gr->object_count, count, "%s: %zu objects, not %zu", gr->path, gr->object_count, count);
	cr_assert_eq(gr->root_kind, kind);
}

Test(groups, a_cache_and_a_list_give_two_groups)
{
	const uint32_t nresp = 5000, nitems = 200;
	struct tg t;
	struct dom_tree d;
	struct leak_groups gs;
	uint32_t resp, req, item, *leaked = xmalloc((nresp + nitems) * sizeof(*leaked));
	size_t nl = 0;

	build_leaks(&t, nresp, nitems, &resp, &req, &item);
	/* the list's items first: the order of the input must not decide the order of the groups */
	for (uint32_t i = 0; i < nitems; i++)
		leaked[nl++] = item + i;
	for (uint32_t i = 0; i < nresp; i++)
		leaked[nl++] = resp + i;
	compute(&t, &d);
	cr_assert_eq(groups__build(&t.g, &d, t.size, leaked, nl, NULL, &gs), 0);
	cr_assert_eq(gs.n, 2);
	check_group(&gs.v[0], "handler.cache (local) at app.py:10 \u2192 dict[*]", nresp, ROOT_LOCAL);
	check_group(&gs.v[1], "worker.pending (local) at app.py:20 \u2192 list[*]", nitems, ROOT_LOCAL);
	cr_assert_str_eq(gs.v[0].root_label, "handler.cache (local) at app.py:10");
	cr_assert_eq(gs.v[0].root_node, 0);
	cr_assert_eq(gs.v[1].root_node, item - 1);
	/* a Response with its Request each */
	cr_assert_eq(gs.v[0].retained_bytes, (uint64_t)nresp * (56 + 72));
	cr_assert(gs.v[0].retained_exact);
	cr_assert_eq(gs.v[1].retained_bytes, (uint64_t)nitems * 32);
	cr_assert_gt(gs.v[0].retained_bytes, gs.v[1].retained_bytes);
	cr_assert_eq(gs.v[0].ntypes, 1);
	cr_assert_str_eq(gs.v[0].types[0].name, "app.Response");
	cr_assert_eq(gs.v[0].types[0].count, nresp);
	cr_assert_eq(gs.v[0].nheads, nresp);
	cr_assert_eq(gs.v[0].members[0], resp);
	cr_assert_eq(gs.v[1].members[nitems - 1], item + nitems - 1);
	cr_assert_eq(gs.nleaked, nresp + nitems);
	groups__release(&gs);
	dominators__release(&d);
	tg_free(&t);
	free(leaked);
}

/* Requests held only by leaked Responses join the Responses' group. */
Test(groups, objects_held_by_leaks_join_their_holders_group)
{
	const uint32_t nresp = 300, nitems = 20;
	struct tg t;
	struct dom_tree d;
	struct leak_groups gs;
	uint32_t resp, req, item, leaked[2 * 300 + 20 + 5];
	size_t nl = 0;

	build_leaks(&t, nresp, nitems, &resp, &req, &item);
	for (uint32_t i = 0; i < nresp; i++) {
		leaked[nl++] = req + i; /* followers before their heads */
		leaked[nl++] = resp + i;
	}
	for (uint32_t i = 0; i < nitems; i++)
		leaked[nl++] = item + i;
	leaked[nl++] = resp;          /* repeated */
	leaked[nl++] = (uint32_t)t.g.n; /* out of range */
	compute(&t, &d);
	cr_assert_eq(groups__build(&t.g, &d, t.size, leaked, nl, NULL, &gs), 0);
	cr_assert_eq(gs.nleaked, 2 * nresp + nitems);
	cr_assert_eq(gs.n, 2);
	check_group(&gs.v[0], "handler.cache (local) at app.py:10 \u2192 dict[*]", 2 * nresp, ROOT_LOCAL);
	cr_assert_eq(gs.v[0].nheads, nresp);
	cr_assert_eq(gs.v[0].ntypes, 2);
	/* as many of each: by name */
	cr_assert_str_eq(gs.v[0].types[0].name, "app.Request");
	cr_assert_str_eq(gs.v[0].types[1].name, "app.Response");
	cr_assert_eq(gs.v[0].types[1].count, nresp);
	for (size_t i = 0; i < gs.v[0].nheads; i++)
		cr_assert_eq(t.g.nodes[gs.v[0].members[i]].type, TY_RESPONSE, "heads first");
	cr_assert_eq(gs.v[0].retained_bytes, (uint64_t)nresp * (56 + 72));
	groups__release(&gs);

	/* Requests alone: their own group, under the Response's attribute */
	nl = 0;
	for (uint32_t i = 0; i < nresp; i++)
		leaked[nl++] = req + i;
	cr_assert_eq(groups__build(&t.g, &d, t.size, leaked, nl, NULL, &gs), 0);
	cr_assert_eq(gs.n, 1);
	check_group(&gs.v[0], "handler.cache (local) at app.py:10 \u2192 dict[*] \u2192 Response.request", nresp,
		    ROOT_LOCAL);
	cr_assert_eq(gs.v[0].retained_bytes, (uint64_t)nresp * 72);
	groups__release(&gs);
	dominators__release(&d);
	tg_free(&t);
}

/* Labels: indices and keys collapse, attributes keep their names, runs collapse, long paths are cut. */
Test(groups, labels_collapse)
{
	const uint32_t chain = 60;
	struct tg t;
	struct dom_tree d;
	struct leak_groups gs;
	uint32_t leaked[3];
	char buf[64];

	/* 0 (local) -> 1 tuple[3] -> 2 set member -> 3 .items (slot) -> 4 list[7] -> 5 ... -> 4 + chain (.next) */
	tg_init(&t, 5 + chain + 1);
	tg_local(&t, 0, "main.root (local) at app.py:1");
	t.g.nodes[1].type = TY_LIST;
	tg_edge_full(&t, 0, 1, EDGE_TUPLE_INDEX, 3, NULL, false);
	tg_edge_full(&t, 1, 2, EDGE_SET_MEMBER, -1, NULL, false);
	tg_edge_full(&t, 2, 3, EDGE_SLOT, -1, "items", false);
	t.g.nodes[3].type = TY_LIST;
	tg_edge_full(&t, 3, 4, EDGE_LIST_INDEX, 7, NULL, false);
	for (uint32_t i = 4; i < 4 + chain; i++)
		tg_edge_full(&t, i, i + 1, EDGE_ATTR, -1, "next", false);
	tg_edge_full(&t, 0, 5 + chain, EDGE_DICT_KEY, -1, NULL, false);
	compute(&t, &d);
	groups__edge_label(&t.g, t.g.rev[t.g.rev_start[1]], buf, sizeof(buf));
	cr_assert_str_eq(buf, "Obj[*]");
	leaked[0] = 3;
	leaked[1] = 4 + chain;
	leaked[2] = 5 + chain;
	cr_assert_eq(groups__build(&t.g, &d, t.size, leaked, 3, NULL, &gs), 0);
	cr_assert_eq(gs.n, 3);
	/* by retained bytes first: 3 holds the whole chain */
	check_group(&gs.v[0], "main.root (local) at app.py:1 \u2192 Obj[*] \u2192 list{*} \u2192 Obj.items", 1,
		    ROOT_LOCAL);
	/* then by path */
	check_group(&gs.v[1], "main.root (local) at app.py:1 \u2192 Obj (key)", 1, ROOT_LOCAL);
	check_group(&gs.v[2], "main.root (local) at app.py:1 \u2192 Obj[*] \u2192 list{*} \u2192 Obj.items"
			      " \u2192 list[*] \u2192 Obj.next (repeated)", 1, ROOT_LOCAL);
	groups__release(&gs);
	dominators__release(&d);
	tg_free(&t);
}

/* A path longer than GROUP_PATH_MAX keeps its start and its end. */
Test(groups, long_paths_are_cut)
{
	const uint32_t n = 100;
	struct tg t;
	struct dom_tree d;
	struct leak_groups gs;
	uint32_t leaked[1] = { n - 1 };
	char name[16];
	size_t arrows = 0;

	tg_init(&t, n);
	tg_local(&t, 0, "main.root (local) at app.py:1");
	for (uint32_t i = 0; i + 1 < n; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		tg_edge_full(&t, i, i + 1, EDGE_ATTR, -1, name, false);
	}
	compute(&t, &d);
	cr_assert_eq(groups__build(&t.g, &d, t.size, leaked, 1, NULL, &gs), 0);
	cr_assert_eq(gs.n, 1);
	for (const char *p = gs.v[0].path; (p = strstr(p, "\u2192")); p++)
		arrows++;
	cr_assert_eq(arrows, GROUP_PATH_MAX - 1, "%zu elements in %s", arrows + 1, gs.v[0].path);
	cr_assert(strstr(gs.v[0].path, "Obj.f0 \u2192 Obj.f1 \u2192"), "%s", gs.v[0].path);
	cr_assert(strstr(gs.v[0].path, "\u2026 \u2192 Obj.f98"), "%s", gs.v[0].path);
	cr_assert_eq(gs.v[0].retained_bytes, 1);
	groups__release(&gs);
	dominators__release(&d);
	tg_free(&t);
}

/* Leaked objects nothing reaches: one group per root object's type, behind the reachable ones. */
Test(groups, unreachable_leaks)
{
	struct tg t;
	struct dom_tree d;
	struct leak_groups gs;
	uint32_t leaked[] = { 1, 2, 3 };

	/* 0 local; 1 <-> 2 a cycle nothing holds; 3 held by the root */
	tg_init(&t, 4);
	tg_local(&t, 0, "main.root (local) at app.py:1");
	tg_edge(&t, 1, 2);
	tg_edge(&t, 2, 1);
	tg_edge(&t, 0, 3);
	t.g.nodes[1].type = TY_RESPONSE;
	t.size[1] = t.size[2] = 500;
	compute(&t, &d);
	cr_assert_eq(groups__build(&t.g, &d, t.size, leaked, 3, NULL, &gs), 0);
	cr_assert_eq(gs.n, 2);
	check_group(&gs.v[0], "unreachable: reference cycle (app.Response)", 2, ROOT_UNREACHABLE);
	cr_assert_eq(gs.v[0].retained_bytes, 1000);
	check_group(&gs.v[1], "main.root (local) at app.py:1 \u2192 Obj.ref", 1, ROOT_LOCAL);
	groups__release(&gs);
	cr_assert_eq(groups__build(&t.g, &d, t.size, leaked, 0, NULL, &gs), 0);
	cr_assert_eq(gs.n, 0);
	groups__release(&gs);
	dominators__release(&d);
	tg_free(&t);
}
