/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the walk, the reference graph, the referrer search, the
 * referent decoders and the frame roots over a memory image of 3.8, 3.11,
 * 3.12 or 3.13 made of the fuzz input (format in graph_image.h), so that
 * garbage in the target's memory can never crash, leak or hang them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/dominators.h"
#include "../analyzer/graph.h"
#include "../analyzer/groups.h"
#include "../analyzer/pyobj.h"
#include "../analyzer/refs.h"
#include "../analyzer/roots.h"
#include "../analyzer/snapshot.h"
#include "../analyzer/types.h"
#include "../attach/freeze.h"
#include "graph_image.h"

#define MAX_OBJECTS 20000
#define UNTRACKED_DEPTH 3
#define EDGES_KEPT 16    /* edges of one decode that get a label */
#define SEARCHES 4       /* referrer searches per input */
#define LEAKED_MAX 64    /* nodes taken for leaks by the grouping */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* A property the code must keep whatever the input: stop here when it does not. */
static void require(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_graph: broken invariant: %s\n", what);
		abort();
	}
}

/* The builtin types every probe is decoded under (with the image's own GI_T_* types). */
static const enum layout_type_sym probe_builtins[] = {
	T_LIST, T_TUPLE, T_DICT, T_SET, T_FROZENSET, T_CELL, T_FUNCTION, T_METHOD, T_MODULE,
	T_TYPE, T_WEAKREF, T_MEMBERDESCR, T_PROPERTY, T_CLASSMETHOD, T_OBJECT, T_ODICT, T_CODE,
	T_STR, T_INT, T_FRAME,
};

/* FUZZ_GRAPH_DEBUG=1 prints what each input gave (to check the seeds by eye). */
static bool debug;

struct edges {
	struct edge v[EDGES_KEPT];
	int n;
	size_t total;
};

static int collect(const struct edge *e, void *arg)
{
	struct edges *es = arg;

	require(e->to && !(e->to & 7), "edges point at aligned, non-NULL addresses");
	require(memchr(e->name, 0, sizeof(e->name)) != NULL, "edge name terminated");
	if (es->n < EDGES_KEPT)
		es->v[es->n++] = *e;
	es->total++;
	return 0;
}

static void label(const struct refs_ctx *ctx, const struct edge *e, const char *owner)
{
	char buf[200], tiny[6];

	refs__label(ctx, e, owner, buf, sizeof(buf));
	require(strnlen(buf, sizeof(buf)) < sizeof(buf), "label terminated");
	refs__label(ctx, e, owner, tiny, sizeof(tiny));
	require(strnlen(tiny, sizeof(tiny)) < sizeof(tiny), "cut label terminated");
}

/* refs__each on obj as an instance of type, then a label for each edge kept. */
static void decode_as(const struct refs_ctx *ctx, raddr_t obj, raddr_t type)
{
	struct edges es = { .n = 0 };
	char *owner, buf[200];
	int ret;

	ret = refs__each(ctx, obj, type, collect, &es);
	require(ret <= 0, "refs__each returns 0 or -errno");
	if (!es.n)
		return;
	owner = type__qualified_name(ctx->r, ctx->l, type);
	require(owner != NULL, "type name");
	for (int i = 0; i < es.n; i++)
		label(ctx, &es.v[i], owner);
	if (debug) {
		fprintf(stderr, "  0x%llx as %s: %zu edges, ret %d\n", (unsigned long long)obj, owner, es.total, ret);
		for (int i = 0; i < es.n; i++) {
			refs__label(ctx, &es.v[i], owner, buf, sizeof(buf));
			fprintf(stderr, "    -> 0x%llx %s\n", (unsigned long long)es.v[i].to, buf);
		}
	}
	free(owner);
}

/* What a built graph must look like, whatever it was built from. */
static void check_graph(const struct graph *g, const struct snapshot *s)
{
	require(g->n >= s->n, "every walked object is a node");
	for (size_t i = 0; i < g->n; i++) {
		require(g->nodes[i].type < s->types.n, "node type index");
		require(i >= s->n || g->nodes[i].addr == s->objs[i].addr, "walked objects come first");
		require(g->nodes[i].depth <= UNTRACKED_DEPTH, "untracked depth respected");
		{
			/* (an object on two lists is two nodes: find gives one of them) */
			long f = graph__find(g, g->nodes[i].addr);
			require(f >= 0 && g->nodes[f].addr == g->nodes[i].addr, "find gives the node back");
		}
	}
	require(g->rev_start[0] == 0 && g->rev_start[g->n] == g->nedges, "reverse index bounds");
	require(g->fwd_start[0] == 0 && g->fwd_start[g->n] == g->nedges, "forward index bounds");
	for (size_t i = 0; i < g->n; i++) {
		require(g->rev_start[i] <= g->rev_start[i + 1], "reverse index sorted");
		for (size_t k = g->rev_start[i]; k < g->rev_start[i + 1]; k++)
			require(g->rev[k] < g->nedges && g->edges[g->rev[k]].to == i,
				"reverse index points at the node's edges");
		for (size_t k = g->fwd_start[i]; k < g->fwd_start[i + 1]; k++)
			require(g->edges[k].from == i, "forward index points at the node's edges");
	}
	for (size_t e = 0; e < g->nedges; e++)
		require(g->edges[e].from < g->n && g->edges[e].to < g->n && g->edges[e].name < g->nnames,
			"edge ends and name");
	for (size_t i = 0; i < g->nroots; i++) {
		require(g->roots[i].node < g->n && g->roots[i].label, "root node and label");
		require(!i || g->roots[i - 1].node <= g->roots[i].node, "roots sorted");
	}
}

static void search(struct graph *g, long target)
{
	struct referrer_opts o = { .max_depth = 20, .timeout_s = 1, .single_object_limit = 10 };
	struct rgraph rg;

	if (target < 0 || (size_t)target >= g->n)
		return;
	require(!graph__referrers(g, target, &o, &rg), "referrer search");
	require(rg.ntargets == 1 && rg.targets[0] < rg.n, "one target");
	require(rg.nroots > 0 || rg.stopped, "a search ends at a root or a limit");
	for (size_t i = 0; i < rg.n; i++) {
		const struct rnode *rn = &rg.nodes[i];

		require(rn->name != NULL, "referrer node named");
		require(rn->node >= -1 && rn->node < (long)g->n, "referrer node in the graph");
		for (size_t k = 0; k < rn->nref; k++)
			require(rn->referents[k] < rg.n, "referent index");
	}
	for (size_t i = 0; i < rg.nroots; i++)
		require(rg.roots[i] < rg.n, "root index");
	if (debug) {
		fprintf(stderr, "  referrers of node %ld: %zu nodes%s\n", target, rg.n, rg.stopped ? " (stopped)" : "");
		for (size_t i = 0; i < rg.n; i++)
			fprintf(stderr, "    %s%s\n", rg.nodes[i].root ? "root: " : "", rg.nodes[i].name);
	}
	rgraph__release(&rg);
}

/* The dominator tree, retained sizes and leak groups of g: bounded, and consistent. */
static void dominate(const struct graph *g, const raddr_t *probes)
{
	struct dom_tree t;
	struct leak_groups gs;
	struct group_opts go = { 1 };
	uint64_t *size = malloc((g->n + 1) * sizeof(*size)), roots = 0, check = 0;
	uint32_t leaked[LEAKED_MAX];
	size_t nl = 0, grouped = 0;
	bool exact;

	require(size != NULL, "memory");
	for (size_t v = 0; v < g->n; v++)
		size[v] = 16 + (g->nodes[v].addr >> 3) % 97;
	require(!dominators__compute(&t, g, size), "dominators");
	require(t.n == g->n, "a tree of the graph");
	for (size_t v = 0; v < g->n; v++) {
		require(t.idom[v] == DOM_SUPER || t.idom[v] < g->n, "idom in the graph");
		require(t.idom[v] != v, "no node is its own idom");
		require(t.root[v] == ROOT_NONE || t.idom[v] == DOM_SUPER, "a root hangs from the super-root");
		require(t.retained[v] >= size[v], "retained covers the node");
		require(t.pre[v] >= 1 && t.pre[v] <= t.end[v] && t.end[v] <= g->n, "preorder bounds");
		if (t.idom[v] != DOM_SUPER) {
			require(dominators__dominates(&t, t.idom[v], (uint32_t)v), "idom dominates");
			require(t.retained[t.idom[v]] >= t.retained[v] + size[t.idom[v]], "a dominator retains more");
		} else
			roots += t.retained[v];
		check += size[v];
	}
	require(check == t.total && roots == t.total, "the super-root's children retain everything");
	for (size_t v = 0; v < g->n && nl < LEAKED_MAX / 2; v += 1 + g->n / (LEAKED_MAX / 2))
		leaked[nl++] = (uint32_t)v;
	for (int i = 0; i < GI_PROBE_OBJECTS && nl < LEAKED_MAX; i++) {
		long v = graph__find(g, probes[i]);
		if (v >= 0)
			leaked[nl++] = (uint32_t)v;
	}
	if (nl < LEAKED_MAX && g->n)
		leaked[nl++] = (uint32_t)g->n - 1;
	if (nl < LEAKED_MAX)
		leaked[nl++] = (uint32_t)g->n; /* out of range: skipped */
	{
		uint64_t lower = dominators__union_retained(&t, leaked, nl);
		uint64_t r = dominators__group_retained(&t, g, size, leaked, nl, g->n, &exact, NULL);
		require(exact && r >= lower && r <= t.total, "a set retains at least the union of its subtrees");
		require(dominators__group_retained(&t, g, size, leaked, nl, 0, &exact, NULL) == lower || exact,
			"the lower bound when the search is too big");
	}
	require(!groups__build(g, &t, size, leaked, nl, &go, &gs), "groups");
	for (size_t i = 0; i < gs.n; i++) {
		const struct leak_group *gr = &gs.v[i];
		size_t types = 0;

		require(gr->path && gr->root_label && !strncmp(gr->path, gr->root_label, strlen(gr->root_label)),
			"a path starts with its root's label");
		require(gr->object_count && gr->nheads && gr->nheads <= gr->object_count, "heads and members");
		require(gr->root_node < g->n, "root node");
		for (size_t k = 0; k < gr->object_count; k++)
			require(gr->members[k] < g->n, "members in the graph");
		for (size_t k = 0; k < gr->ntypes; k++) {
			require(!k || gr->types[k - 1].count >= gr->types[k].count, "types by count");
			types += gr->types[k].count;
		}
		require(types == gr->object_count, "types count the members");
		require(!i || gs.v[i - 1].retained_bytes >= gr->retained_bytes, "groups by retained bytes");
		if (debug)
			fprintf(stderr, "  group %s: %zu objects, %llu bytes%s\n", gr->path, gr->object_count,
				(unsigned long long)gr->retained_bytes, gr->retained_exact ? "" : " (at least)");
		grouped += gr->object_count;
	}
	require(grouped == gs.nleaked && gs.nleaked <= nl, "every leaked node in one group");
	groups__release(&gs);
	dominators__release(&t);
	free(size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gi_image images[GI_NVERSIONS];
	static bool built[GI_NVERSIONS];
	static unsigned char *st;
	struct snapshot_opts opts = { .max_objects = MAX_OBJECTS };
	struct graph_opts gopts = { .untracked_depth = UNTRACKED_DEPTH };
	struct remote_segment segs[2];
	const struct gi_image *im;
	const struct layout *l;
	raddr_t probes[GI_PROBES] = { 0 };
	struct gi_input in;
	struct snapshot s;
	struct remote r;
	struct graph g;
	long targets[SEARCHES];
	char *desc;
	size_t n = 1;

	if (gi_decode(data, size, &in))
		return 0;
	debug = getenv("FUZZ_GRAPH_DEBUG") != NULL;
	if (!built[in.version]) {
		require(!gi_init(&images[in.version], in.version), "offset table for the image");
		built[in.version] = true;
	}
	im = &images[in.version];
	l = &im->l;
	if (!st)
		st = malloc(GI_SEG_CAP);
	require(st != NULL, "memory");
	memcpy(st, im->seg[0], im->len[0]);
	gi_patch(st, im->len[0], &in);
	segs[0] = (struct remote_segment){ GI_STATIC, st, im->len[0] };
	if (in.heap_len)
		segs[n++] = (struct remote_segment){ GI_HEAP, in.heap, in.heap_len };
	require(!remote__open_image(&r, segs, n), "open image");

	require(!snapshot__walk(&r, l, &opts, &s), "walk of an image returns 0");
	require(s.n <= MAX_OBJECTS, "max_objects respected");
	/* the copy the real flow takes while the target is frozen, then sealed */
	for (size_t i = 0; i < r.maps.n; i++)
		remote__prefetch(&r, r.maps.v[i].start, (size_t)(r.maps.v[i].end - r.maps.v[i].start));
	r.sealed = true;

	require(!graph__build(&g, &s, &r, l, &gopts), "graph build");
	check_graph(&g, &s);
	if (debug)
		fprintf(stderr, "%s: %zu objects%s%s%s, %zu nodes, %zu edges, %zu roots\n", l->version, s.n,
			s.partial ? " (partial: " : "", s.partial ? s.partial_reason : "", s.partial ? ")" : "",
			g.n, g.nedges, g.nroots);

	for (int i = 0; i < GI_PROBES; i++)
		remote__u64(&r, GI_HEAP + 8 * (raddr_t)i, &probes[i]);
	targets[0] = 0;
	targets[1] = (long)s.n - 1;
	targets[2] = (long)g.n - 1;
	targets[3] = graph__find(&g, probes[0]);
	for (int i = 0; i < SEARCHES; i++)
		search(&g, targets[i]);
	dominate(&g, probes);
	{
		struct referrer_opts o = { .max_depth = 20, .timeout_s = 1, .single_object_limit = 10 };
		struct rgraph rg;
		require(graph__referrers(&g, (long)g.n, &o, &rg) == -EINVAL, "a target outside the graph");
	}
	if (g.n) {
		desc = graph__describe(&g, (long)g.n - 1);
		require(desc != NULL, "describe");
		free(desc);
	}

	/* every probe under every builtin and synthetic type, and under its own type */
	for (int i = 0; i < GI_PROBE_OBJECTS; i++) {
		raddr_t own;

		if (!probes[i])
			continue;
		for (size_t t = 0; t < sizeof(probe_builtins) / sizeof(probe_builtins[0]); t++)
			decode_as(&g.ctx, probes[i], l->types[probe_builtins[t]]);
		for (int t = 0; t < GI_T__COUNT; t++)
			decode_as(&g.ctx, probes[i], im->types[t]);
		if (!pyobj__type(&r, l, probes[i], &own))
			decode_as(&g.ctx, probes[i], own);
	}
	roots__code_line(&r, l, probes[GI_PROBE_OBJECTS], (int64_t)probes[GI_PROBE_OBJECTS + 1]);
	/* the frame roots once more, directly (graph__build found them first): the same walk */
	{
		size_t before = g.nroots, added = roots__frames(&g);
		require(g.nroots == before + added, "frame roots counted");
	}

	graph__release(&g);
	snapshot__release(&s);
	remote__release(&r);
	return 0;
}
