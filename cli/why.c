/* SPDX-License-Identifier: MIT */
/*
 * Object details for memalot snapshot --why: which instances to show (at
 * least one per matching type, the rest shared by count, like the seed's
 * memalot), their sizes and a short representation, and their referrer
 * graphs rendered as a tree from the object up to its roots.
 */
#define _GNU_SOURCE
#include "why.h"

#include "../reports/render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/pyobj.h"

#define DEEP_SIZE_MAX_NODES 4096

/* tp_basicsize + tp_itemsize * ob_size, as sys.getsizeof would say without the GC header */
static uint64_t shallow_size(const struct graph *g, long node)
{
	const struct layout *l = g->ctx.l;
	raddr_t type = g->snap->types.v[g->nodes[node].type].addr;
	uint64_t basic = 0, item = 0, n = 0;

	remote__u64(g->ctx.r, type + (raddr_t)l->v[F_TP_BASICSIZE], &basic);
	remote__u64(g->ctx.r, type + (raddr_t)l->v[F_TP_ITEMSIZE], &item);
	if (item && layout__has(l, F_VAR_OB_SIZE))
		remote__u64(g->ctx.r, g->nodes[node].addr + (raddr_t)l->v[F_VAR_OB_SIZE], &n);
	if (n > (1ull << 32))
		n = 0;
	return basic + item * n;
}

/*
 * An estimate of what the object keeps alive: the shallow sizes of what it
 * reaches through references that nothing else points at (a node with one
 * referrer), breadth first, bounded.
 */
static uint64_t deep_size(const struct graph *g, long node)
{
	long *queue = xmalloc(DEEP_SIZE_MAX_NODES * sizeof(*queue));
	size_t qn = 0, qh = 0;
	uint64_t total = 0;

	queue[qn++] = node;
	while (qh < qn) {
		long v = queue[qh++];
		total += shallow_size(g, v);
		for (size_t k = g->fwd_start[v]; k < g->fwd_start[v + 1] && qn < DEEP_SIZE_MAX_NODES; k++) {
			const struct gedge *e = &g->edges[g->fwd[k]];
			bool seen = false;

			if (e->kind == EDGE_TYPE_OF || e->derived || g->nodes[e->to].inbound != 1)
				continue;
			/* a node with one referrer can still be reached twice through a cycle */
			for (size_t i = 0; i < qn && !seen; i++)
				seen = queue[i] == (long)e->to;
			if (!seen)
				queue[qn++] = e->to;
		}
	}
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

static int cmp_count(const void *a, const void *b)
{
	const size_t *x = a, *y = b;
	return x[1] < y[1] ? 1 : x[1] > y[1] ? -1 : 0;
}

/* Fill in one detailed object: sizes, representation, referrers. */
static void detail(struct graph *g, const struct why_opts *o, long node, struct why_result *out)
{
	struct why_object *wo = &out->v[out->n++];
	uint64_t t0 = now_ns();

	wo->node = node;
	wo->type_name = xstrdup(g->snap->types.v[g->nodes[node].type].name);
	wo->str = short_repr(g, node, o->str_max_length);
	wo->shallow = shallow_size(g, node);
	wo->deep = deep_size(g, node);
	if (!o->no_referrers) {
		graph__referrers(g, node, &o->ref, &wo->rg);
		wo->referrers_checked = true;
	}
	out->search_ns += now_ns() - t0;
}

void why__share(const size_t *counts, size_t ntypes, int budget, size_t *shown)
{
	size_t total = 0;
	int all = budget;

	for (size_t t = 0; t < ntypes; t++) {
		total += counts[t];
		shown[t] = 0;
	}
	/* at least one object per type (most common first), the rest by count */
	for (size_t t = 0; t < ntypes && budget > 0; t++, budget--)
		shown[t] = 1;
	for (size_t t = 0; t < ntypes && budget > 0; t++) {
		size_t share = total ? (size_t)all * counts[t] / total : 0;
		size_t more = MIN(share > shown[t] ? share - shown[t] : 0, counts[t] - shown[t]);
		more = MIN(more, (size_t)budget);
		shown[t] += more;
		budget -= (int)more;
	}
	for (size_t t = 0; t < ntypes && budget > 0; t++) {
		size_t more = MIN(counts[t] - shown[t], (size_t)budget);
		shown[t] += more;
		budget -= (int)more;
	}
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

int why__run(struct graph *g, const struct why_opts *o, struct why_result *out)
{
	size_t ntypes = g->snap->types.n, (*per)[2], npicked = 0;
	size_t *shown, *seen_of_type;
	long **members;

	memset(out, 0, sizeof(*out));
	if (o->nobjects)
		return why_objects(g, o, out);
	per = xcalloc(ntypes ? ntypes : 1, sizeof(*per));
	for (size_t t = 0; t < ntypes; t++)
		per[t][0] = t;
	for (size_t i = 0; i < g->n; i++) {
		const char *name = g->snap->types.v[g->nodes[i].type].name;
		if (name && strstr(name, o->type_substring))
			per[g->nodes[i].type][1]++;
	}
	qsort(per, ntypes, sizeof(*per), cmp_count);
	while (out->matched_types < ntypes && per[out->matched_types][1])
		out->matched_objects += per[out->matched_types++][1];
	shown = xcalloc(out->matched_types + 1, sizeof(*shown));
	{
		size_t *counts = xcalloc(out->matched_types + 1, sizeof(*counts));
		for (size_t t = 0; t < out->matched_types; t++)
			counts[t] = per[t][1];
		why__share(counts, out->matched_types, o->max_object_details, shown);
		free(counts);
	}
	/* the first objects of each type: GC-list order, then untracked ones as found */
	members = xcalloc(out->matched_types + 1, sizeof(*members));
	seen_of_type = xcalloc(out->matched_types + 1, sizeof(*seen_of_type));
	for (size_t t = 0; t < out->matched_types; t++)
		members[t] = xcalloc(shown[t] + 1, sizeof(long));
	for (size_t i = 0; i < g->n; i++) {
		for (size_t t = 0; t < out->matched_types; t++)
			if (per[t][0] == g->nodes[i].type && seen_of_type[t] < shown[t])
				members[t][seen_of_type[t]++] = (long)i;
	}
	for (size_t t = 0; t < out->matched_types; t++)
		npicked += seen_of_type[t];
	out->v = xcalloc(npicked + 1, sizeof(*out->v));
	for (size_t t = 0; t < out->matched_types; t++) {
		for (size_t k = 0; k < seen_of_type[t]; k++)
			detail(g, o, members[t][k], out);
		free(members[t]);
	}
	free(members);
	free(seen_of_type);
	free(shown);
	free(per);
	return 0;
}

void why__release(struct why_result *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].type_name);
		free(w->v[i].str);
		rgraph__release(&w->v[i].rg);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

void why__print(FILE *f, const struct graph *g, const struct why_result *w)
{
	json_t *details = why__json(g, w);

	render__details_text(f, details, (long long)w->matched_objects, (long long)w->matched_types);
	json_decref(details);
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
		json_object_set_new(d, "referrers_checked", json_boolean(o->referrers_checked));
		json_object_set_new(d, "referrer_graph",
				    o->referrers_checked ? rgraph_json(g, &o->rg) : json_null());
		json_array_append_new(list, d);
	}
	return list;
}
