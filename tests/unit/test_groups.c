/* SPDX-License-Identifier: MIT */
/*
 * Leak groups end to end on a synthetic CPython heap (fuzz/graph_image.h,
 * laid out with the committed offset tables of 3.8, 3.11, 3.12 and 3.13):
 * walked, decoded into a graph with its roots (module globals through
 * sys.modules, a running frame's locals), dominators, then groups. A module
 * global cache holding 5,000 Responses (each holding a Request) and a
 * frame's list holding 200 objects give exactly two groups, with the roots'
 * own labels, sorted by retained bytes.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* room for 5,000 instances and their dict */
#define GI_SEG_CAP ((size_t)1 << 24)
#include "../../fuzz/graph_image.h"

#include "../../analyzer/dominators.h"
#include "../../analyzer/graph.h"
#include "../../analyzer/groups.h"
#include "../../analyzer/snapshot.h"

#define NRESP 5000
#define NITEMS 200

struct heap {
	raddr_t module, mdict, sysmods, cache, list;
	raddr_t resp[NRESP], req[NRESP], item[NITEMS];
};

/* A dict keys object of general entries for n items (the decoders read nentries entries after the indices). */
static raddr_t big_keys(struct gi_image *im, const raddr_t *keys, const raddr_t *values, size_t n)
{
	const struct layout *l = &im->l;
	bool modern = layout__has(l, F_DK_LOG2_SIZE);
	unsigned log2 = 3;
	size_t esize = (size_t)l->v[F_DK_ENTRY_SIZE], ibytes;
	raddr_t k, e;

	while ((1ull << log2) * 2 < n * 3)
		log2++;
	ibytes = ((size_t)1 << log2) * (log2 < 8 ? 1 : log2 < 16 ? 2 : 4);
	k = gi_alloc(im, 1, (size_t)l->v[F_DK_INDICES] + ibytes + n * esize);
	gi_put(im, k, 1);
	if (modern) {
		unsigned lib = 0;
		while (((size_t)1 << lib) < ibytes)
			lib++;
		gi_put8(im, k + (raddr_t)l->v[F_DK_LOG2_SIZE], (uint8_t)log2);
		gi_put8(im, k + (raddr_t)l->v[F_DK_LOG2_INDEX_BYTES], (uint8_t)lib);
		gi_put8(im, k + (raddr_t)l->v[F_DK_KIND], 0);
	} else
		gi_put_f(im, k, F_DK_SIZE, (uint64_t)1 << log2);
	gi_put_f(im, k, F_DK_NENTRIES, n);
	memset(gi_at(im, k + (raddr_t)l->v[F_DK_INDICES], ibytes), 0xff, ibytes);
	e = k + (raddr_t)l->v[F_DK_INDICES] + ibytes;
	for (size_t i = 0; i < n; i++, e += esize) {
		gi_put(im, e, 0x5150 + i);
		gi_put(im, e + 8, keys[i]);
		gi_put(im, e + 16, values[i]);
	}
	return k;
}

/* sys.modules {"__main__": module}, module.__dict__ {"__name__", "_RESPONSE_CACHE": cache}, a frame's items = list. */
static void build_heap(struct gi_image *im, struct heap *h)
{
	const struct layout *l = &im->l;
	int g2 = im->nlists >= 3 ? 2 : 0;
	raddr_t *keys = malloc(NRESP * sizeof(*keys)), k[2], v[2], main_str = gi_str(im, 1, "__main__");

	for (int i = 0; i < NRESP; i++) {
		h->req[i] = gi_add(im, 0, im->types[GI_T_SLOTTED], 32);
		h->resp[i] = gi_add_node(im, 0, 0, 0, h->req[i]);
		keys[i] = gi_int(im, 1, (uint32_t)i);
	}
	h->cache = gi_add(im, g2, l->dict_type, 48);
	gi_dict_at(im, h->cache, l->dict_type, big_keys(im, keys, h->resp, NRESP), 0, NRESP);
	for (int i = 0; i < NITEMS; i++)
		h->item[i] = gi_add_node(im, 0, 0, 0, 0);
	h->list = gi_add_list(im, g2, h->item, NITEMS);

	h->module = gi_add(im, g2, l->types[T_MODULE], 64);
	k[0] = gi_str(im, 1, "__name__");
	v[0] = main_str;
	k[1] = gi_str(im, 1, "_RESPONSE_CACHE");
	v[1] = h->cache;
	h->mdict = gi_add_dict(im, g2, GI_KEYS_UNICODE, k, v, 2);
	gi_put_f(im, h->module, F_MODULE_DICT, h->mdict);
	gi_put_f(im, h->module, F_MODULE_NAME, main_str);
	k[0] = main_str;
	v[0] = h->module;
	h->sysmods = gi_add_dict(im, g2, GI_KEYS_GENERAL, k, v, 1);
	gi_put_f(im, GI_INTERP, F_INTERP_MODULES, h->sysmods);
	gi_put_f(im, GI_INTERP, F_INTERP_IMPORTS_MODULES, h->sysmods);

	/* the running frame: handle(self=NULL, items=list, x=NULL) */
	if (layout__has(l, F_IFRAME_LOCALSPLUS)) {
		enum field_id fcode = layout__has(l, F_IFRAME_EXECUTABLE) ? F_IFRAME_EXECUTABLE : F_IFRAME_CODE;
		enum field_id fip = layout__has(l, F_IFRAME_INSTR_PTR) ? F_IFRAME_INSTR_PTR : F_IFRAME_PREV_INSTR;
		raddr_t locals = GI_FRAME + (raddr_t)l->v[F_IFRAME_LOCALSPLUS];

		gi_put_f(im, GI_FRAME, fcode, im->code);
		gi_put_f(im, GI_FRAME, F_IFRAME_PREVIOUS, 0);
		gi_put_f(im, GI_FRAME, fip, im->code + (raddr_t)l->v[F_CODE_CODE_ADAPTIVE] + 4);
		gi_put8(im, GI_FRAME + (raddr_t)l->v[F_IFRAME_OWNER], 0);
		gi_put(im, locals + 8, h->list);
	} else {
		raddr_t locals = GI_FRAME + (raddr_t)l->v[F_FRAME_LOCALSPLUS];

		gi_put_f(im, GI_FRAME, F_OB_REFCNT, 1);
		gi_put_f(im, GI_FRAME, F_OB_TYPE, l->types[T_FRAME]);
		gi_put_f(im, GI_FRAME, F_FRAME_BACK, 0);
		gi_put_f(im, GI_FRAME, F_FRAME_CODE, im->code);
		gi_put32(im, GI_FRAME + (raddr_t)l->v[F_FRAME_LASTI], 6);
		gi_put(im, locals + 8, h->list);
	}
	free(keys);
}

/* A stand-in for sys.getsizeof: tp_basicsize + tp_itemsize * |ob_size|. */
static uint64_t basic_size(const struct graph *g, size_t v)
{
	const struct layout *l = g->ctx.l;
	raddr_t type = g->snap->types.v[g->nodes[v].type].addr;
	uint64_t basic = 0, item = 0, n = 0;

	remote__u64(g->ctx.r, type + (raddr_t)l->v[F_TP_BASICSIZE], &basic);
	remote__u64(g->ctx.r, type + (raddr_t)l->v[F_TP_ITEMSIZE], &item);
	if (item && layout__has(l, F_VAR_OB_SIZE))
		remote__u64(g->ctx.r, g->nodes[v].addr + (raddr_t)l->v[F_VAR_OB_SIZE], &n);
	if ((int64_t)n < 0)
		n = -n;
	return basic + item * MIN(n, (uint64_t)1 << 32) + 16;
}

static uint32_t node_of(const struct graph *g, raddr_t a)
{
	long v = graph__find(g, a);

	cr_assert_geq(v, 0, "object 0x%llx is not in the graph", (unsigned long long)a);
	return (uint32_t)v;
}

struct world {
	struct gi_image im;
	struct heap h;
	struct remote r;
	struct snapshot s;
	struct graph g;
	struct dom_tree d;
	uint64_t *size;
};

static void world_build(struct world *w, int version)
{
	struct snapshot_opts so = { .max_objects = 100000 };
	struct graph_opts go = { .untracked_depth = 3 };
	struct remote_segment segs[2];

	cr_assert_eq(gi_init(&w->im, version), 0, "no offset table for %s", GI_VERSIONS[version]);
	build_heap(&w->im, &w->h);
	segs[0] = (struct remote_segment){ GI_STATIC, w->im.seg[0], w->im.len[0] };
	segs[1] = (struct remote_segment){ GI_HEAP, w->im.seg[1], w->im.len[1] };
	cr_assert_eq(remote__open_image(&w->r, segs, 2), 0);
	cr_assert_eq(snapshot__walk(&w->r, &w->im.l, &so, &w->s), 0);
	cr_assert(!w->s.partial, "%s: partial walk: %s", GI_VERSIONS[version], w->s.partial_reason);
	for (size_t i = 0; i < w->r.maps.n; i++)
		remote__prefetch(&w->r, w->r.maps.v[i].start, (size_t)(w->r.maps.v[i].end - w->r.maps.v[i].start));
	w->r.sealed = true;
	cr_assert_eq(graph__build(&w->g, &w->s, &w->r, &w->im.l, &go), 0);
	w->size = malloc(w->g.n * sizeof(*w->size));
	for (size_t v = 0; v < w->g.n; v++)
		w->size[v] = basic_size(&w->g, v);
	cr_assert_eq(dominators__compute(&w->d, &w->g, w->size), 0);
}

static void world_free(struct world *w)
{
	dominators__release(&w->d);
	graph__release(&w->g);
	snapshot__release(&w->s);
	remote__release(&w->r);
	gi_release(&w->im);
	free(w->size);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

Test(groups_image, global_cache_and_local_list)
{
	for (int ver = 0; ver < GI_NVERSIONS; ver++) {
		static struct world w;
		struct leak_groups gs;
		uint32_t leaked[2 * NRESP + NITEMS], cache, list;
		uint64_t sum = 0, subtrees = 0;
		size_t nl = 0;
		const char *vs = GI_VERSIONS[ver];

		world_build(&w, ver);
		cache = node_of(&w.g, w.h.cache);
		list = node_of(&w.g, w.h.list);
		cr_assert_eq(w.d.root[cache], ROOT_GLOBAL, "%s: the cache is a module global", vs);
		cr_assert_eq(w.d.root[list], ROOT_LOCAL, "%s: the list is a frame's local", vs);
		cr_assert_eq(w.d.root[node_of(&w.g, w.h.module)], ROOT_SYS_MODULES, "%s", vs);
		cr_assert_eq(w.d.root[node_of(&w.g, w.h.sysmods)], ROOT_NATIVE,
			     "%s: sys.modules is held by the interpreter only", vs);
		for (int i = 0; i < NITEMS; i++)
			leaked[nl++] = node_of(&w.g, w.h.item[i]);
		for (int i = 0; i < NRESP; i++) {
			uint32_t r = node_of(&w.g, w.h.resp[i]), q = node_of(&w.g, w.h.req[i]);

			leaked[nl++] = r;
			cr_assert_eq(w.d.idom[r], cache, "%s: a Response is dominated by the cache", vs);
			cr_assert(dominators__dominates(&w.d, r, q), "%s: and dominates its Request", vs);
			sum += w.size[r];
			subtrees += w.d.retained[r];
		}
		cr_assert_geq(w.d.retained[cache], sum + w.size[cache], "%s: the dict retains its values", vs);

		cr_assert_eq(groups__build(&w.g, &w.d, w.size, leaked, nl, NULL, &gs), 0);
		if (getenv("DEBUG_GROUPS")) {
			fprintf(stderr, "%s: %zu nodes %zu edges %zu roots (%zu unreachable)\n", vs, w.g.n, w.g.nedges, w.d.nroots, w.d.nunreachable);
			for (size_t i = 0; i < gs.n; i++)
				fprintf(stderr, "  %s: %zu objects, %llu bytes (cache retains %llu, is %llu)\n", gs.v[i].path, gs.v[i].object_count,
					(unsigned long long)gs.v[i].retained_bytes, (unsigned long long)w.d.retained[cache], (unsigned long long)w.size[cache]);
		}
		cr_assert_eq(gs.n, 2, "%s: %zu groups", vs, gs.n);
		cr_assert_str_eq(gs.v[0].path, "__main__._RESPONSE_CACHE (global) \u2192 dict[*]", "%s", vs);
		cr_assert_str_eq(gs.v[0].root_label, "__main__._RESPONSE_CACHE (global)");
		cr_assert_eq(gs.v[0].root_kind, ROOT_GLOBAL);
		cr_assert_eq(gs.v[0].root_node, cache);
		cr_assert_eq(gs.v[0].object_count, NRESP);
		cr_assert_eq(gs.v[0].ntypes, 1);
		cr_assert_str_eq(gs.v[0].types[0].name, "app.Node", "%s", vs);
		cr_assert_geq(gs.v[0].retained_bytes, sum, "%s: a group retains at least its members", vs);
		/*
		 * the Responses' subtrees, and what they share (3.8: the key "peer"
		 * of their __dict__s), but neither the dict nor its keys
		 */
		cr_assert_geq(gs.v[0].retained_bytes, subtrees, "%s: the cache's values and all they hold: %llu < %llu",
			      vs, (unsigned long long)gs.v[0].retained_bytes, (unsigned long long)subtrees);
		cr_assert_leq(gs.v[0].retained_bytes, subtrees + 64, "%s", vs);
		cr_assert_lt(gs.v[0].retained_bytes, w.d.retained[cache] - w.size[cache], "%s: not the dict's keys", vs);
		cr_assert(gs.v[0].retained_exact);
		/* (co_qualname from 3.11) */
		cr_assert(!strncmp(gs.v[1].path, ver ? "Server.handle.items (local) at main.py:" :
						       "handle.items (local) at main.py:", ver ? 39 : 32), "%s: %s", vs,
			  gs.v[1].path);
		cr_assert(ends_with(gs.v[1].path, " \u2192 list[*]"), "%s: %s", vs, gs.v[1].path);
		cr_assert_eq(gs.v[1].root_kind, ROOT_LOCAL);
		cr_assert_eq(gs.v[1].root_node, list);
		cr_assert_eq(gs.v[1].object_count, NITEMS);
		cr_assert_lt(gs.v[1].retained_bytes, gs.v[0].retained_bytes);
		groups__release(&gs);

		/* the Requests too: in the group of the Responses that hold them */
		for (int i = 0; i < NRESP; i++)
			leaked[i] = node_of(&w.g, w.h.req[i]);
		cr_assert_eq(groups__build(&w.g, &w.d, w.size, leaked, NRESP, NULL, &gs), 0);
		cr_assert_eq(gs.n, 1);
		cr_assert_str_eq(gs.v[0].path, "__main__._RESPONSE_CACHE (global) \u2192 dict[*] \u2192 Node.peer",
				 "%s", vs);
		groups__release(&gs);
		nl = 0;
		for (int i = 0; i < NRESP; i++) {
			leaked[nl++] = node_of(&w.g, w.h.req[i]);
			leaked[nl++] = node_of(&w.g, w.h.resp[i]);
		}
		cr_assert_eq(groups__build(&w.g, &w.d, w.size, leaked, nl, NULL, &gs), 0);
		cr_assert_eq(gs.n, 1);
		cr_assert_str_eq(gs.v[0].path, "__main__._RESPONSE_CACHE (global) \u2192 dict[*]", "%s", vs);
		cr_assert_eq(gs.v[0].object_count, 2 * NRESP);
		cr_assert_eq(gs.v[0].nheads, NRESP);
		cr_assert_eq(gs.v[0].ntypes, 2);
		groups__release(&gs);
		world_free(&w);
	}
}
