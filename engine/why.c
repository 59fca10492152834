/* SPDX-License-Identifier: MIT */
/*
 * Object details for memalot snapshot --why and attach's reports: the
 * objects grouped by the root and path that hold them (analyzer/groups.c),
 * which of them to show (the biggest of each group, one of each type, then
 * by retained size), their sizes (sys.getsizeof, retained from the
 * dominator tree, the seed's deep size) and a short representation, and
 * their referrer graphs rendered as a tree from the object up to its roots.
 */
#define _GNU_SOURCE
#include "why.h"

#include "../reports/render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/pyobj.h"
#include "../analyzer/sizes.h"

#define DEEP_SIZE_MAX_NODES 4096
/* open addressing for the nodes a deep size has queued: a power of two over twice the bound */
#define DEEP_SEEN_SLOTS 16384

/* sys.getsizeof(obj) as the target would say it (an estimate where the layout lacks a field) */
static uint64_t shallow_size(const struct graph *g, const struct why_result *w, long node)
{
	uint64_t size = 0;

	if (w->node_size)
		return w->node_size[node];
	sizes__shallow(g->ctx.r, g->ctx.l, g->nodes[node].addr, g->snap->types.v[g->nodes[node].type].addr,
		       &size);
	return size;
}

/*
 * An estimate of what the object keeps alive (the seed's deep size): the
 * shallow sizes of what it reaches through references that nothing else
 * points at (a node with one referrer), breadth first, at most
 * DEEP_SIZE_MAX_NODES objects. Where the bound stops it, *complete is false
 * and the sum a lower bound: "≥ N bytes (stopped at M objects)".
 */
static uint64_t deep_size(const struct graph *g, const struct why_result *w, long node, bool *complete,
			  size_t *objects)
{
	long *queue = xmalloc(DEEP_SIZE_MAX_NODES * sizeof(*queue));
	uint32_t *seen = xcalloc(DEEP_SEEN_SLOTS, sizeof(*seen)); /* node + 1, 0 empty */
	size_t qn = 0, qh = 0;
	uint64_t total = 0;

	*complete = true;
	queue[qn++] = node;
	seen[((uint64_t)node * 0x9e3779b97f4a7c15ull >> 50) & (DEEP_SEEN_SLOTS - 1)] = (uint32_t)node + 1;
	while (qh < qn) {
		long v = queue[qh++];
		total += shallow_size(g, w, v);
		for (size_t k = g->fwd_start[v]; k < g->fwd_start[v + 1]; k++) {
			const struct gedge *e = &g->edges[k];
			size_t slot;

			if (e->kind == EDGE_TYPE_OF || e->derived || g->nodes[e->to].inbound != 1)
				continue;
			/* a node with one referrer can still be reached twice through a cycle */
			slot = ((uint64_t)e->to * 0x9e3779b97f4a7c15ull >> 50) & (DEEP_SEEN_SLOTS - 1);
			while (seen[slot] && seen[slot] != e->to + 1)
				slot = (slot + 1) & (DEEP_SEEN_SLOTS - 1);
			if (seen[slot])
				continue;
			if (qn == DEEP_SIZE_MAX_NODES) {
				*complete = false; /* one more object it holds alone: not counted */
				break;
			}
			seen[slot] = e->to + 1;
			queue[qn++] = e->to;
		}
	}
	*objects = qn;
	free(seen);
	free(queue);
	return total;
}

static char *short_repr(const struct graph *g, long node, int maxlen)
{
	const struct layout *l = g->ctx.l;
	struct remote *r = g->ctx.r;
	raddr_t addr = g->nodes[node].addr, type = g->snap->types.v[g->nodes[node].type].addr;
	const char *tn = g->snap->types.v[g->nodes[node].type].name;
	char buf[1024];
	int64_t iv;

	if (maxlen <= 0 || maxlen > (int)sizeof(buf) - 8)
		maxlen = (int)sizeof(buf) - 8;
	if (type == l->types[T_STR] && pyobj__str(r, l, addr, buf, (size_t)maxlen + 1) >= 0)
		return xasprintf("'%s'", utf8_sanitize(buf));
	if (type == l->types[T_INT] && !pyobj__int(r, l, addr, &iv))
		return xasprintf("%" PRId64, iv);
	return xasprintf("<%s object at 0x%llx>", tn ? tn : "?", (unsigned long long)addr);
}

/* Fill in one detailed object: sizes, representation, referrers. */
static void detail(struct graph *g, const struct why_opts *o, long node, struct why_result *out)
{
	struct why_object *wo = &out->v[out->n++];
	uint64_t t0 = now_ns();

	wo->node = node;
	wo->group = -1;
	wo->type_name = xstrdup(g->snap->types.v[g->nodes[node].type].name);
	wo->str = short_repr(g, node, o->str_max_length);
	wo->shallow = shallow_size(g, out, node);
	wo->deep = deep_size(g, out, node, &wo->deep_complete, &wo->deep_objects);
	wo->retained = out->have_dom ? out->dom.retained[node] : wo->shallow;
	if (!o->no_referrers) {
		graph__referrers(g, node, &o->ref, &wo->rg);
		wo->referrers_checked = true;
	}
	out->search_ns += now_ns() - t0;
}

/* --object ADDR: exactly the objects asked for. */
static int why_objects(struct graph *g, const struct why_opts *o, struct why_result *out)
{
	out->v = xcalloc(o->nobjects + 1, sizeof(*out->v));
	for (size_t i = 0; i < o->nobjects; i++) {
		long node = graph__find(g, o->objects[i]);

		if (node < 0) {
			log_err("0x%llx is not an object memalot found (tracked, or referred to by one)",
				(unsigned long long)o->objects[i]);
			out->unknown_objects++;
			continue;
		}
		out->matched_objects++;
		detail(g, o, node, out);
	}
	/* how many types among them */
	for (size_t i = 0; i < out->n; i++) {
		bool again = false;
		for (size_t j = 0; j < i && !again; j++)
			again = g->nodes[out->v[j].node].type == g->nodes[out->v[i].node].type;
		out->matched_types += !again;
	}
	return 0;
}

/* sys.getsizeof of every node of g into size[0 .. g->n) (0 where it cannot be read); @return their sum */
static uint64_t node_sizes(const struct graph *g, uint64_t *size)
{
	struct sizes_cache *c = sizes__cache_new();
	/* the size of each type whose objects all have the same: those are not read */
	size_t nt = g->snap->types.n;
	uint64_t *fixed = xcalloc(nt + 1, sizeof(*fixed)), sum = 0;

	for (size_t t = 0; t < nt; t++)
		if (sizes__fixed(c, g->ctx.r, g->ctx.l, g->snap->types.v[t].addr, &fixed[t]))
			fixed[t] = 0;
	for (size_t v = 0; v < g->n; v++) {
		uint32_t t = g->nodes[v].type;

		size[v] = t < nt ? fixed[t] : 0;
		if (!size[v])
			sizes__shallow_cached(c, g->ctx.r, g->ctx.l, g->nodes[v].addr, g->snap->types.v[t].addr,
					      &size[v]);
		sum += size[v];
	}
	free(fixed);
	sizes__cache_free(c);
	return sum;
}

uint64_t why__object_bytes(const struct graph *g, const struct why_result *w)
{
	size_t n = g->n ? g->n : 1;
	uint64_t *size, sum;

	if (w && w->have_dom)
		return w->dom.total;
	size = table_zalloc(n * sizeof(*size));
	sum = node_sizes(g, size);
	table_free(size, n * sizeof(*size));
	return sum;
}

int why__sizes(struct graph *g, struct why_result *out)
{
	uint64_t t0 = now_ns();
	int ret;

	if (out->node_size)
		return out->have_dom ? 0 : -EINVAL;
	graph__index(g);
	out->nsizes = g->n ? g->n : 1;
	out->node_size = table_zalloc(out->nsizes * sizeof(*out->node_size));
	node_sizes(g, out->node_size);
	out->sizes_ns = now_ns() - t0;
	ret = dominators__compute(&out->dom, g, out->node_size);
	out->have_dom = !ret;
	out->dom_ns = out->dom.ns;
	if (ret)
		log_err("warning: no retained sizes: %s", me_strerror(ret));
	return ret;
}

/* A candidate for details: a node, its group, its place in the group. */
struct pick {
	uint32_t node, group, pos;
	bool taken;
	uint64_t retained;
};

/* By retained size (most first), then group, then place. */
static int cmp_pick(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->retained != y->retained)
		return x->retained > y->retained ? -1 : 1;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* The order details are shown in: group by group, each by retained size. */
static int cmp_shown(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return cmp_pick(a, b);
}

/*
 * Which members of the groups get details, at most budget: the most
 * retained head of each group (groups most retained first), then the most
 * retained object of each type no pick has yet, then the rest by retained
 * size. @return how many, in *out (caller frees), in the order to show them
 */
static size_t pick_details(const struct graph *g, const struct why_result *w, int budget, struct pick **out)
{
	const struct leak_groups *gs = &w->groups;
	size_t n = 0, npicked = 0, want = budget > 0 ? (size_t)budget : 0;
	struct pick *all, *picked;
	bool *type_shown = xcalloc(g->snap->types.n + 1, sizeof(*type_shown));

	for (size_t gi = 0; gi < gs->n; gi++)
		n += gs->v[gi].object_count;
	all = xmalloc((n ? n : 1) * sizeof(*all));
	picked = xmalloc((MIN(want, n) + 1) * sizeof(*picked));
	n = 0;
	for (size_t gi = 0; gi < gs->n; gi++)
		for (size_t k = 0; k < gs->v[gi].object_count; k++) {
			uint32_t v = gs->v[gi].members[k];
			all[n++] = (struct pick){ v, (uint32_t)gi, (uint32_t)k, false,
						  w->have_dom ? w->dom.retained[v] : w->node_size[v] };
		}
	/* the best head of each group: its heads are its first members */
	for (size_t gi = 0, base = 0; gi < gs->n && npicked < want; base += gs->v[gi++].object_count) {
		size_t best = base, heads = MIN(MAX(gs->v[gi].nheads, (size_t)1), gs->v[gi].object_count);

		if (!heads)
			continue;
		for (size_t k = base; k < base + heads; k++)
			if (all[k].retained > all[best].retained)
				best = k;
		all[best].taken = true;
		type_shown[g->nodes[all[best].node].type] = true;
		picked[npicked++] = all[best];
	}
	if (npicked < want)
		qsort(all, n, sizeof(*all), cmp_pick);
	/* then one of each type not shown, the most retained of it */
	for (size_t k = 0; k < n && npicked < want; k++) {
		uint32_t type = g->nodes[all[k].node].type;

		if (type_shown[type] || all[k].taken)
			continue;
		type_shown[type] = all[k].taken = true;
		picked[npicked++] = all[k];
	}
	/* the rest by retained size */
	for (size_t k = 0; k < n && npicked < want; k++)
		if (!all[k].taken) {
			all[k].taken = true;
			picked[npicked++] = all[k];
		}
	qsort(picked, npicked, sizeof(*picked), cmp_shown);
	free(all);
	free(type_shown);
	*out = picked;
	return npicked;
}

int why__run_nodes(struct graph *g, const struct why_opts *o, const uint32_t *nodes, size_t n,
		   struct why_result *out)
{
	struct pick *picked = NULL;
	size_t npicked;
	uint64_t t0;
	int ret;

	why__sizes(g, out);
	t0 = now_ns();
	if (out->have_dom) {
		ret = groups__build(g, &out->dom, out->node_size, nodes, n, NULL, &out->groups);
		out->have_groups = !ret;
		if (ret)
			log_err("warning: no leak groups: %s", me_strerror(ret));
	}
	out->groups_ns = now_ns() - t0;
	if (!out->have_groups) {
		/* no tree: one group of them all, so that details are still picked */
		struct leak_group *gr = xcalloc(1, sizeof(*gr));

		gr->members = xmalloc((n ? n : 1) * sizeof(*gr->members));
		for (size_t i = 0; i < n; i++)
			if (nodes[i] < g->n)
				gr->members[gr->object_count++] = nodes[i];
		gr->nheads = gr->object_count;
		out->groups.v = gr;
		out->groups.n = 1;
	}
	{
		/* matched: the distinct nodes and their types */
		bool *type_seen = xcalloc(g->snap->types.n + 1, sizeof(*type_seen));

		for (size_t gi = 0; gi < out->groups.n; gi++)
			for (size_t k = 0; k < out->groups.v[gi].object_count; k++) {
				uint32_t t = g->nodes[out->groups.v[gi].members[k]].type;
				out->matched_objects++;
				out->matched_types += !type_seen[t];
				type_seen[t] = true;
			}
		free(type_seen);
	}
	npicked = pick_details(g, out, o->max_object_details, &picked);
	if (!out->have_groups) {
		groups__release(&out->groups);
		memset(&out->groups, 0, sizeof(out->groups));
	}
	out->v = xcalloc(npicked + 1, sizeof(*out->v));
	for (size_t k = 0; k < npicked; k++) {
		detail(g, o, picked[k].node, out);
		out->v[out->n - 1].group = out->have_groups ? (long)picked[k].group : -1;
	}
	free(picked);
	return 0;
}

int why__run(struct graph *g, const struct why_opts *o, struct why_result *out)
{
	uint32_t *nodes;
	bool *match;
	size_t n = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (o->nobjects) {
		why__sizes(g, out);
		return why_objects(g, o, out);
	}
	match = xcalloc(g->snap->types.n + 1, sizeof(*match));
	for (size_t t = 0; t < g->snap->types.n; t++)
		match[t] = g->snap->types.v[t].name && strstr(g->snap->types.v[t].name, o->type_substring);
	nodes = xmalloc((g->n ? g->n : 1) * sizeof(*nodes));
	for (size_t i = 0; i < g->n; i++)
		if (match[g->nodes[i].type])
			nodes[n++] = (uint32_t)i;
	ret = why__run_nodes(g, o, nodes, n, out);
	free(nodes);
	free(match);
	return ret;
}

void why__release(struct why_result *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].type_name);
		free(w->v[i].str);
		rgraph__release(&w->v[i].rg);
	}
	free(w->v);
	table_free(w->node_size, w->nsizes * sizeof(*w->node_size));
	if (w->have_dom)
		dominators__release(&w->dom);
	groups__release(&w->groups);
	memset(w, 0, sizeof(*w));
}

void why__print(FILE *f, const struct graph *g, const struct why_result *w)
{
	json_t *details = why__json(g, w), *groups = why__groups_json(g, w);

	if (w->have_groups)
		render__groups_text(f, groups, (long long)w->groups.n, (long long)w->matched_objects, true);
	render__details_text(f, details, (long long)w->matched_objects, (long long)w->matched_types);
	json_decref(details);
	json_decref(groups);
}

static json_t *rgraph_json(const struct graph *g, const struct rgraph *rg)
{
	json_t *root = json_object(), *t = json_array(), *r = json_array(), *nodes = json_array();

	for (size_t i = 0; i < rg->ntargets; i++)
		json_array_append_new(t, json_integer((json_int_t)rg->targets[i]));
	for (size_t i = 0; i < rg->nroots; i++)
		json_array_append_new(r, json_integer((json_int_t)rg->roots[i]));
	for (size_t i = 0; i < rg->n; i++) {
		const struct rnode *n = &rg->nodes[i];
		json_t *o = json_object(), *refs = json_array();

		json_object_set_new(o, "id", json_integer((json_int_t)i));
		json_object_set_new(o, "name", json_string(n->name));
		json_object_set_new(o, "object_id", n->node >= 0 ?
				    json_integer((json_int_t)g->nodes[n->node].addr) : json_null());
		for (size_t k = 0; k < n->nref; k++)
			json_array_append_new(refs, json_integer((json_int_t)n->referents[k]));
		json_object_set_new(o, "referent_ids", refs);
		if (n->root)
			json_object_set_new(o, "kind", json_string(root_kind__name(n->root)));
		json_array_append_new(nodes, o);
	}
	json_object_set_new(root, "target_ids", t);
	json_object_set_new(root, "root_ids", r);
	json_object_set_new(root, "graph_nodes", nodes);
	json_object_set_new(root, "stopped_by_limit", json_boolean(rg->stopped));
	return root;
}

json_t *why__json(const struct graph *g, const struct why_result *w)
{
	json_t *list = json_array();

	for (size_t i = 0; i < w->n; i++) {
		const struct why_object *o = &w->v[i];
		json_t *d = json_object();

		json_object_set_new(d, "object_type_name", json_string(o->type_name));
		json_object_set_new(d, "object_id", json_integer((json_int_t)g->nodes[o->node].addr));
		json_object_set_new(d, "object_str", json_string(o->str));
		json_object_set_new(d, "shallow_size_bytes", json_integer((json_int_t)o->shallow));
		json_object_set_new(d, "deep_size_bytes", json_integer((json_int_t)o->deep));
		json_object_set_new(d, "deep_size_complete", json_boolean(o->deep_complete));
		json_object_set_new(d, "deep_size_objects", json_integer((json_int_t)o->deep_objects));
		json_object_set_new(d, "retained_size_bytes",
				    w->have_dom ? json_integer((json_int_t)o->retained) : json_null());
		json_object_set_new(d, "referrers_checked", json_boolean(o->referrers_checked));
		json_object_set_new(d, "referrer_graph",
				    o->referrers_checked ? rgraph_json(g, &o->rg) : json_null());
		if (o->group >= 0 && o->group < WHY_GROUPS_MAX)
			json_object_set_new(d, "leak_group", json_integer((json_int_t)o->group));
		json_array_append_new(list, d);
	}
	return list;
}

json_t *why__groups_json(const struct graph *g, const struct why_result *w)
{
	json_t *list = json_array();

	(void)g;
	for (size_t i = 0; w->have_groups && i < w->groups.n && i < WHY_GROUPS_MAX; i++) {
		const struct leak_group *gr = &w->groups.v[i];
		json_t *o = json_object(), *types = json_array();

		json_object_set_new(o, "root", json_string(gr->root_label));
		json_object_set_new(o, "root_kind", json_string(root_kind__name(gr->root_kind)));
		json_object_set_new(o, "path", json_string(gr->path));
		json_object_set_new(o, "object_count", json_integer((json_int_t)gr->object_count));
		json_object_set_new(o, "retained_size_bytes", json_integer((json_int_t)gr->retained_bytes));
		json_object_set_new(o, "retained_size_exact", json_boolean(gr->retained_exact));
		for (size_t k = 0; k < gr->ntypes && k < WHY_GROUP_TYPES_MAX; k++)
			json_array_append_new(types, json_pack("{s:s, s:I}", "object_type", gr->types[k].name,
							       "count", (json_int_t)gr->types[k].count));
		json_object_set_new(o, "types", types);
		json_object_set_new(o, "total_types", json_integer((json_int_t)gr->ntypes));
		json_array_append_new(list, o);
	}
	return list;
}
