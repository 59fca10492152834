/* SPDX-License-Identifier: MIT */
/*
 * The reference graph and the referrer search. Every object of a snapshot is
 * decoded into edges (analyzer/refs.c) on the copy taken with the snapshot;
 * untracked referents (str, int, tuples of atoms) become nodes up to a depth.
 * The search walks reverse edges from a target up to what keeps it alive:
 * a module global, a class attribute, sys.modules, or references that no
 * Python object accounts for ("held by native code").
 */
#define _GNU_SOURCE
#include "graph.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyobj.h"
#include "roots.h"

#define MAX_NODES (1u << 30)
/* edges are numbered in 32 bits (graph.rev) */
#define MAX_EDGES (UINT32_MAX - 1)
/* gslot.inb: the node is an instance's __dict__ (the rest of it counts strong references) */
#define SLOT_INSTANCE_DICT (1u << 31)
#define TPFLAGS_TYPE_SUBCLASS (1ul << 31)
/* ob_refcnt at or above this is an immortal object (3.12+ use 2^32 - 1 and up) */
#define IMMORTAL_REFCNT 0xffffffffull

enum owner_kind { OWN_NONE, OWN_MODULE, OWN_TYPE, OWN_SYS_MODULES, OWN_GC_GARBAGE };
/* dict_owner values that name no node */
#define OWNER_SYS_MODULES UINT32_MAX
#define OWNER_GC_GARBAGE (UINT32_MAX - 1)

static const char *const root_names[] = {
	[ROOT_NONE] = "none",
	[ROOT_GLOBAL] = "global",
	[ROOT_CLASS_ATTRIBUTE] = "class_attribute",
	[ROOT_LOCAL] = "local",
	[ROOT_CLOSURE] = "closure",
	[ROOT_NATIVE] = "native",
	[ROOT_SYS_MODULES] = "sys_modules",
	[ROOT_GC_GARBAGE] = "gc_garbage",
	[ROOT_PERMANENT] = "permanent",
	[ROOT_LIMIT] = "limit",
	[ROOT_UNREACHABLE] = "unreachable_cycle",
};

const char *root_kind__name(enum root_kind k)
{
	return k < ARRAY_SIZE(root_names) ? root_names[k] : "?";
}

/* Fibonacci hashing: the product's top bits, as many as the table needs. */
static size_t hash_addr(raddr_t a, size_t nslots)
{
	unsigned bits = (unsigned)__builtin_ctzll(nslots);

	return (size_t)(((a >> 3) * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

static void rehash(struct graph *g)
{
	size_t n = g->nslots ? g->nslots * 2 : 1 << 16;
	struct gslot *old = g->slots;

	g->slots = table_zalloc(n * sizeof(*g->slots));
	for (size_t i = 0; old && i < g->nslots; i++) {
		size_t j;

		if (!old[i].idx)
			continue;
		j = hash_addr(old[i].addr, n);
		while (g->slots[j].idx)
			j = (j + 1) & (n - 1);
		g->slots[j] = old[i];
	}
	table_free(old, g->nslots * sizeof(*old));
	g->nslots = n;
}

static struct gslot *find_slot(const struct graph *g, raddr_t addr)
{
	for (size_t j = hash_addr(addr, g->nslots); g->slots[j].idx; j = (j + 1) & (g->nslots - 1))
		if (g->slots[j].addr == addr)
			return &g->slots[j];
	return NULL;
}

long graph__find(const struct graph *g, raddr_t addr)
{
	const struct gslot *s = g->nslots ? find_slot(g, addr) : NULL;

	return s ? (long)s->idx - 1 : -1;
}

static struct gslot *add_node(struct graph *g, raddr_t addr, uint32_t type, uint8_t depth)
{
	size_t j;

	if (g->n >= MAX_NODES)
		return NULL;
	if ((g->n + 1) * 2 > g->nslots)
		rehash(g);
	GROW(g->nodes, g->cap, g->n + 1);
	g->nodes[g->n] = (struct gnode){ addr, type, 0, depth, false, false, 0 };
	j = hash_addr(addr, g->nslots);
	while (g->slots[j].idx)
		j = (j + 1) & (g->nslots - 1);
	g->slots[j] = (struct gslot){ addr, (uint32_t)(g->n + 1), 0 };
	g->n++;
	return &g->slots[j];
}

static uint32_t intern_name(struct graph *g, const char *name)
{
	if (!name || !name[0])
		return 0;
	/* names repeat (attribute names): a short linear look-back keeps this cheap */
	for (size_t i = g->nnames; i > 1 && i + 64 > g->nnames; i--)
		if (!strcmp(g->names[i - 1], name))
			return (uint32_t)(i - 1);
	GROW(g->names, g->names_cap, g->nnames + 1);
	g->names[g->nnames] = xstrdup(name);
	return (uint32_t)g->nnames++;
}

static bool is_known(raddr_t addr, void *arg)
{
	return graph__find(arg, addr) >= 0;
}

/*
 * The edges of one object, decoded but not yet looked up. The look-ups are
 * the cost of a build (a cache miss each in a table of tens of MiB), so the
 * decoder's callback only records the edge and prefetches its slot; the
 * look-ups follow once the object is decoded, their misses overlapping.
 */
struct pending_edge {
	raddr_t to, key;
	int32_t index;
	uint32_t name;
	uint8_t kind;
	bool derived;
};

struct build_cb {
	struct graph *g;
	uint32_t from;
	int max_depth;
	struct pending_edge *pending;
	size_t npending, cap;
};

static int on_edge(const struct edge *e, void *arg)
{
	struct build_cb *b = arg;
	struct graph *g = b->g;

	if (e->kind == EDGE_WEAK || !e->to)
		return 0; /* a weak reference never keeps anything alive */
	GROW(b->pending, b->cap, b->npending + 1);
	b->pending[b->npending++] = (struct pending_edge){ e->to, e->key, (int32_t)e->index, intern_name(g, e->name),
							   (uint8_t)e->kind, e->derived };
	__builtin_prefetch(&g->slots[hash_addr(e->to, g->nslots)]);
	return 0;
}

/*
 * Look up (or add, if untracked and within the depth) the targets of the
 * pending edges, and keep the edges. The node's counts go into its slot,
 * where the look-up has just been, not into the node: one cache miss an
 * edge instead of two (count_inbound moves them to the nodes).
 */
static void add_pending_edges(struct build_cb *b)
{
	struct graph *g = b->g;

	for (size_t k = 0; k < b->npending; k++) {
		const struct pending_edge *e = &b->pending[k];
		struct gslot *to;

		if (g->nedges >= MAX_EDGES)
			break;
		to = find_slot(g, e->to);
		if (!to) {
			uint8_t depth = (uint8_t)(g->nodes[b->from].depth + 1);
			raddr_t type;
			long ti;

			if (depth > b->max_depth || pyobj__type(g->ctx.r, g->ctx.l, e->to, &type))
				continue;
			ti = type_table__intern(&g->snap->types, g->ctx.r, g->ctx.l, type);
			if (ti < 0)
				continue;
			to = add_node(g, e->to, (uint32_t)ti, depth);
			if (!to)
				continue;
		}
		GROW(g->edges, g->ecap, g->nedges + 1);
		g->edges[g->nedges++] = (struct gedge){ b->from, to->idx - 1, e->kind, e->index, e->key, e->name,
							e->derived };
		if (e->kind == EDGE_INSTANCE_DICT)
			to->inb |= SLOT_INSTANCE_DICT;
		if (!e->derived && (to->inb & ~SLOT_INSTANCE_DICT) < ~SLOT_INSTANCE_DICT)
			to->inb++;
	}
	b->npending = 0;
}

/* The counts add_pending_edges kept in the slots, into the nodes. */
static void count_inbound(struct graph *g)
{
	for (size_t j = 0; j < g->nslots; j++) {
		const struct gslot *s = &g->slots[j];

		if (!s->idx)
			continue;
		g->nodes[s->idx - 1].inbound = s->inb & ~SLOT_INSTANCE_DICT;
		g->nodes[s->idx - 1].instance_dict = s->inb & SLOT_INSTANCE_DICT;
	}
}

static int cmp_root(const void *a, const void *b)
{
	const struct groot *x = a, *y = b;
	return x->node < y->node ? -1 : x->node > y->node;
}

static void set_owner(struct graph *g, raddr_t dict, uint32_t owner, enum owner_kind kind)
{
	long d = dict ? graph__find(g, dict) : -1;

	if (d >= 0 && !g->dict_owner[d]) {
		g->dict_owner[d] = owner + 1;
		g->owner_is_type[d] = kind == OWN_TYPE;
		if (kind == OWN_SYS_MODULES)
			g->dict_owner[d] = OWNER_SYS_MODULES;
		else if (kind == OWN_GC_GARBAGE)
			g->dict_owner[d] = OWNER_GC_GARBAGE;
	}
}

/* Which dicts belong to a module, a class, or are sys.modules. */
static void find_owners(struct graph *g)
{
	const struct layout *l = g->ctx.l;
	struct remote *r = g->ctx.r;
	raddr_t interp, modules = 0;

	g->dict_owner = xcalloc(g->n ? g->n : 1, sizeof(*g->dict_owner));
	g->owner_is_type = xcalloc(g->n ? g->n : 1, sizeof(*g->owner_is_type));
	for (size_t i = 0; i < g->n; i++) {
		raddr_t type = g->snap->types.v[g->nodes[i].type].addr, dict = 0;
		uint64_t flags = 0;

		if (type == l->types[T_MODULE] && layout__has(l, F_MODULE_DICT)) {
			if (!remote__u64(r, g->nodes[i].addr + (raddr_t)l->v[F_MODULE_DICT], &dict))
				set_owner(g, dict, (uint32_t)i, OWN_MODULE);
		} else if (!remote__u64(r, type + (raddr_t)l->v[F_TP_FLAGS], &flags) &&
			   (flags & TPFLAGS_TYPE_SUBCLASS)) {
			if (!remote__u64(r, g->nodes[i].addr + (raddr_t)l->v[F_TP_DICT], &dict))
				set_owner(g, dict, (uint32_t)i, OWN_TYPE);
		}
	}
	if (!layout__first_interp(l, r, &interp) && interp) {
		if (layout__has(l, F_INTERP_IMPORTS_MODULES))
			remote__u64(r, interp + (raddr_t)l->v[F_INTERP_IMPORTS_MODULES], &modules);
		else if (layout__has(l, F_INTERP_MODULES))
			remote__u64(r, interp + (raddr_t)l->v[F_INTERP_MODULES], &modules);
		set_owner(g, modules, 0, OWN_SYS_MODULES);
		if (layout__has(l, F_GC_GARBAGE)) {
			raddr_t garbage = 0;
			remote__u64(r, layout__gc_state(l, interp) + (raddr_t)l->v[F_GC_GARBAGE], &garbage);
			set_owner(g, garbage, 0, OWN_GC_GARBAGE);
		}
	}
}

int graph__build_nodes(struct graph *g, struct snapshot *snap, struct remote *r, const struct layout *l,
		       const struct graph_opts *opts)
{
	struct build_cb b = { g, 0, opts ? opts->untracked_depth : 3, NULL, 0, 0 };
	uint64_t t0 = now_ns();

	memset(g, 0, sizeof(*g));
	g->snap = snap;
	g->ctx = (struct refs_ctx){ r, l, is_known, g };
	GROW(g->names, g->names_cap, 1);
	g->names[0] = xstrdup("");
	g->nnames = 1;
	/* the walk checked every link, so no object is on two lists: no look-up needed */
	g->nslots = 1;
	while (g->nslots < 2 * (snap->n + snap->n / 4 + 16))
		g->nslots *= 2;
	g->nslots /= 2; /* rehash() doubles it */
	rehash(g);
	GROW(g->nodes, g->cap, snap->n + snap->n / 4 + 16);
	for (size_t i = 0; i < snap->n; i++)
		add_node(g, snap->objs[i].addr, snap->objs[i].type, 0);
	/* g->n grows while we go: untracked referents are decoded in turn */
	for (size_t i = 0; i < g->n; i++) {
		raddr_t type = snap->types.v[g->nodes[i].type].addr;
		uint64_t refcnt = 0;

		b.from = (uint32_t)i;
		refs__each(&g->ctx, g->nodes[i].addr, type, on_edge, &b);
		add_pending_edges(&b);
		if (remote__u64(r, g->nodes[i].addr + (raddr_t)l->v[F_OB_REFCNT], &refcnt))
			continue;
		g->nodes[i].refcnt = (uint32_t)refcnt;
		if (l->minor >= 12 && (refcnt & 0xffffffffull) >= (IMMORTAL_REFCNT >> 1))
			g->nodes[i].immortal = true;
	}
	free(b.pending);
	count_inbound(g);
	type_table__name_all(&snap->types, r, l);
	g->build_ns = now_ns() - t0;
	return 0;
}


/*
 * The edges of a build are in source order already (node by node, each
 * object's references as decoded): the forward index is their counts, and
 * the reverse one an array of 4-byte edge numbers by target, stable, so a
 * node's referrers come in source order. Moving the 32-byte edges into
 * target order instead cost more than the rest of the build, a random
 * write each. Edges made another way (tests) are put in source order first.
 */
void graph__index_edges(struct graph *g)
{
	size_t n = g->n, m = g->nedges;
	bool by_source = true;

	for (size_t e = 1; e < m && by_source; e++)
		by_source = g->edges[e].from >= g->edges[e - 1].from;
	g->fwd_start = xcalloc(n + 2, sizeof(*g->fwd_start));
	for (size_t e = 0; e < m; e++)
		g->fwd_start[g->edges[e].from + 1]++;
	for (size_t i = 1; i <= n; i++)
		g->fwd_start[i] += g->fwd_start[i - 1];
	if (!by_source) {
		struct gedge *sorted = xmalloc((m + 1) * sizeof(*sorted));
		size_t *at = xmalloc((n + 1) * sizeof(*at));

		memcpy(at, g->fwd_start, (n + 1) * sizeof(*at));
		for (size_t e = 0; e < m; e++)
			sorted[at[g->edges[e].from]++] = g->edges[e];
		free(at);
		free(g->edges);
		g->edges = sorted;
		g->ecap = m + 1;
	}
	g->rev_start = xcalloc(n + 2, sizeof(*g->rev_start));
	for (size_t e = 0; e < m; e++)
		g->rev_start[g->edges[e].to + 2]++;
	for (size_t i = 2; i < n + 2; i++)
		g->rev_start[i] += g->rev_start[i - 1];
	g->rev = xmalloc((m + 1) * sizeof(*g->rev));
	for (size_t e = 0; e < m; e++)
		g->rev[g->rev_start[g->edges[e].to + 1]++] = (uint32_t)e;
}

void graph__index(struct graph *g)
{
	uint64_t t0 = now_ns();

	if (g->indexed)
		return;
	g->indexed = true;
	find_owners(g);
	roots__frames(g);
	if (g->nroots)
		qsort(g->roots, g->nroots, sizeof(*g->roots), cmp_root);
	graph__index_edges(g);
	g->build_ns += now_ns() - t0;
}

int graph__build(struct graph *g, struct snapshot *snap, struct remote *r, const struct layout *l,
		 const struct graph_opts *opts)
{
	int ret = graph__build_nodes(g, snap, r, l, opts);

	if (!ret)
		graph__index(g);
	return ret;
}

void graph__release(struct graph *g)
{
	for (size_t i = 0; i < g->nnames; i++)
		free(g->names[i]);
	free(g->names);
	free(g->nodes);
	free(g->edges);
	free(g->rev_start);
	free(g->rev);
	free(g->fwd_start);
	table_free(g->slots, g->nslots * sizeof(*g->slots));
	free(g->dict_owner);
	free(g->owner_is_type);
	for (size_t i = 0; i < g->nroots; i++)
		free(g->roots[i].label);
	free(g->roots);
	memset(g, 0, sizeof(*g));
}

static const char *type_name(const struct graph *g, long node)
{
	const char *n = g->snap->types.v[g->nodes[node].type].name;
	return n ? n : "?";
}

char *graph__describe(const struct graph *g, long node)
{
	return xasprintf("%s at 0x%llx", type_name(g, node), (unsigned long long)g->nodes[node].addr);
}

/*
 * The closure variable a cell is: the function whose __closure__ tuple holds
 * the cell at index i names it in its code's free variables, the last ones
 * of co_localsplusnames (3.11+) or co_freevars. "make.<locals>.f.conn (closure)"
 */
static bool closure_label(const struct graph *g, uint32_t cell, char *buf, size_t size)
{
	const struct layout *l = g->ctx.l;
	struct remote *r = g->ctx.r;

	for (size_t k = g->rev_start[cell]; k < g->rev_start[cell + 1]; k++) {
		const struct gedge *te = &g->edges[g->rev[k]];

		if (te->kind != EDGE_TUPLE_INDEX)
			continue;
		for (size_t j = g->rev_start[te->from]; j < g->rev_start[te->from + 1]; j++) {
			const struct gedge *fe = &g->edges[g->rev[j]];
			raddr_t f = g->nodes[fe->from].addr, code, names, name, qual;
			uint64_t nclosure = 0, nnames = 0;
			char var[128], func[256];

			if (fe->kind != EDGE_FUNC || strcmp(g->names[fe->name], "__closure__") ||
			    remote__u64(r, f + (raddr_t)l->v[F_FUNC_CODE], &code) ||
			    remote__u64(r, g->nodes[te->from].addr + (raddr_t)l->v[F_VAR_OB_SIZE], &nclosure))
				continue;
			if (layout__has(l, F_CODE_LOCALSPLUSNAMES)) {
				if (remote__u64(r, code + (raddr_t)l->v[F_CODE_LOCALSPLUSNAMES], &names))
					continue;
				remote__u64(r, names + (raddr_t)l->v[F_VAR_OB_SIZE], &nnames);
				if (nnames < nclosure || (uint64_t)te->index >= nclosure)
					continue;
				/* the free variables come last */
				if (remote__u64(r, names + (raddr_t)l->v[F_TUPLE_ITEMS] +
						       (nnames - nclosure + (uint64_t)te->index) * 8, &name))
					continue;
			} else if (!layout__has(l, F_CODE_FREEVARS) ||
				   remote__u64(r, code + (raddr_t)l->v[F_CODE_FREEVARS], &names) ||
				   remote__u64(r, names + (raddr_t)l->v[F_TUPLE_ITEMS] + (uint64_t)te->index * 8,
					       &name))
				continue;
			if (pyobj__str(r, l, name, var, sizeof(var)) < 0)
				continue;
			if (remote__u64(r, f + (raddr_t)l->v[F_FUNC_QUALNAME], &qual) ||
			    pyobj__str(r, l, qual, func, sizeof(func)) < 0)
				snprintf(func, sizeof(func), "?");
			{
				char *label = xasprintf("%s.%s (closure)", func, var);
				snprintf(buf, size, "%s", utf8_sanitize(label));
				free(label);
			}
			return true;
		}
	}
	return false;
}

static void edge_label(const struct graph *g, const struct gedge *e, char *buf, size_t size)
{
	struct edge ed = { g->nodes[e->to].addr, (enum edge_kind)e->kind, e->index, e->key, "", false };

	if (e->kind == EDGE_CELL && closure_label(g, e->from, buf, size))
		return;
	snprintf(ed.name, sizeof(ed.name), "%s", g->names[e->name]);
	refs__label(&g->ctx, &ed, type_name(g, e->from), buf, size);
}

/* ------------------------------------------------------------ the search */

static size_t rg_add(struct rgraph *rg, long node, char *name, enum root_kind root)
{
	GROW(rg->nodes, rg->cap, rg->n + 1);
	rg->nodes[rg->n] = (struct rnode){ node, name, root, NULL, 0, 0 };
	return rg->n++;
}

static void rg_link(struct rgraph *rg, size_t from, size_t to)
{
	struct rnode *n = &rg->nodes[from];

	for (size_t i = 0; i < n->nref; i++)
		if (n->referents[i] == to)
			return;
	GROW(n->referents, n->refcap, n->nref + 1);
	n->referents[n->nref++] = to;
}

static void rg_root(struct rgraph *rg, size_t ri)
{
	GROW(rg->roots, rg->rootcap, rg->nroots + 1);
	rg->roots[rg->nroots++] = ri;
}

static bool prefix_ok(const struct referrer_opts *o, const char *module)
{
	if (!o->module_prefixes || !o->module_prefixes[0])
		return true;
	for (char **p = o->module_prefixes; *p; p++)
		if (!strncmp(module, *p, strlen(*p)))
			return true;
	return false;
}

/* The module's __name__, or "?" (caller frees). */
static char *module_name(const struct graph *g, uint32_t module)
{
	const struct layout *l = g->ctx.l;
	raddr_t dict, name;
	char buf[256];

	if (!remote__u64(g->ctx.r, g->nodes[module].addr + (raddr_t)l->v[F_MODULE_DICT], &dict) &&
	    !pyobj__dict_get_str(g->ctx.r, l, dict, "__name__", &name) &&
	    pyobj__str(g->ctx.r, l, name, buf, sizeof(buf)) >= 0)
		return utf8_sanitize(xstrdup(buf));
	return xstrdup("?");
}

static char *key_text(const struct graph *g, raddr_t key)
{
	char buf[256];

	if (key && pyobj__str(g->ctx.r, g->ctx.l, key, buf, sizeof(buf)) >= 0)
		return utf8_sanitize(xstrdup(buf));
	return xasprintf("<key at 0x%llx>", (unsigned long long)key);
}

static char *short_name(const char *qualified)
{
	const char *dot = strrchr(qualified, '.');
	return xstrdup(dot ? dot + 1 : qualified);
}

/* The label of a root made by edge e (from an owned dict), or NULL. */
static char *root_label(const struct graph *g, const struct gedge *e, const struct referrer_opts *o,
			enum root_kind *kind)
{
	uint32_t owner = g->dict_owner[e->from];
	char *key, *mod, *cls, *label;

	if (owner == OWNER_GC_GARBAGE && e->kind == EDGE_LIST_INDEX) {
		*kind = ROOT_GC_GARBAGE;
		return xasprintf("gc.garbage[%d]", (int)e->index);
	}
	if (!owner || owner == OWNER_GC_GARBAGE || e->kind != EDGE_DICT_VALUE)
		return NULL;
	key = key_text(g, e->key);
	if (owner == OWNER_SYS_MODULES) {
		*kind = ROOT_SYS_MODULES;
		label = xasprintf("sys.modules['%s']", key);
	} else if (g->owner_is_type[e->from]) {
		/* the class's own name, from the type object itself */
		char *q = type__qualified_name(g->ctx.r, g->ctx.l, g->nodes[owner - 1].addr);
		cls = short_name(utf8_sanitize(q));
		free(q);
		*kind = ROOT_CLASS_ATTRIBUTE;
		label = xasprintf("%s.%s (class attribute)", cls, key);
		free(cls);
	} else {
		mod = module_name(g, owner - 1);
		if (!prefix_ok(o, mod)) {
			free(mod);
			free(key);
			return NULL;
		}
		*kind = ROOT_GLOBAL;
		label = xasprintf("%s.%s (global)", mod, key);
		free(mod);
	}
	free(key);
	return label;
}

enum root_kind graph__root_edge_kind(const struct graph *g, size_t edge)
{
	const struct gedge *e = &g->edges[edge];
	uint32_t owner = g->dict_owner ? g->dict_owner[e->from] : 0;

	if (owner == OWNER_GC_GARBAGE)
		return e->kind == EDGE_LIST_INDEX ? ROOT_GC_GARBAGE : ROOT_NONE;
	if (!owner || e->kind != EDGE_DICT_VALUE)
		return ROOT_NONE;
	if (owner == OWNER_SYS_MODULES)
		return ROOT_SYS_MODULES;
	return g->owner_is_type[e->from] ? ROOT_CLASS_ATTRIBUTE : ROOT_GLOBAL;
}

char *graph__root_label(const struct graph *g, size_t edge, enum root_kind *kind)
{
	static const struct referrer_opts all = { 0 };

	*kind = ROOT_NONE;
	if (!g->dict_owner || edge >= g->nedges)
		return NULL;
	return root_label(g, &g->edges[edge], &all, kind);
}

bool graph__closure_label(const struct graph *g, uint32_t cell, char *buf, size_t size)
{
	return g->rev_start && cell < g->n && closure_label(g, cell, buf, size);
}

/* The first root entry of node v (g->roots is sorted by node). */
static size_t first_root(const struct graph *g, size_t v)
{
	size_t lo = 0, hi = g->nroots;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->roots[mid].node < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int graph__referrers(struct graph *g, long target, const struct referrer_opts *o,
		     struct rgraph *rg)
{
	uint64_t deadline = now_ns() + (uint64_t)(o->timeout_s * 1e9);
	size_t *queue = NULL, qcap = 0, qhead = 0, qn = 0, rcap = 0;
	long *seen; /* graph node -> rgraph node + 1 */
	int *depth;
	size_t t;

	memset(rg, 0, sizeof(*rg));
	if (target < 0 || (size_t)target >= g->n)
		return -EINVAL;
	seen = xcalloc(g->n, sizeof(*seen));
	depth = xcalloc(g->n, sizeof(*depth));
	t = rg_add(rg, target, graph__describe(g, target), ROOT_NONE);
	GROW(rg->targets, rcap, 1);
	rg->targets[rg->ntargets++] = t;
	seen[target] = (long)t + 1;
	GROW(queue, qcap, 1);
	queue[qn++] = (size_t)target;
	while (qhead < qn) {
		size_t v = queue[qhead++], rv = (size_t)seen[v] - 1, found = 0;
		size_t lo = g->rev_start[v], hi = g->rev_start[v + 1];

		if (now_ns() > deadline) {
			rg_link(rg, rg_add(rg, -1, xstrdup("search stopped: --referrers-search-timeout"),
					   ROOT_LIMIT), rv);
			rg->stopped = true;
			break;
		}
		if (depth[v] >= o->max_depth) {
			size_t li = rg_add(rg, -1, xstrdup("search stopped: --referrers-max-depth"), ROOT_LIMIT);
			rg_link(rg, li, rv);
			rg->stopped = true;
			continue;
		}
		/* gc.freeze() moved it to the permanent generation: never collected */
		if (v < g->snap->n && !strcmp(g->snap->lists[g->snap->objs[v].list].name, "permanent")) {
			size_t ri = rg_add(rg, -1, xstrdup("permanent generation (gc.freeze)"), ROOT_PERMANENT);
			rg_link(rg, ri, rv);
			rg_root(rg, ri);
		}
		/* locals of running frames that hold v */
		for (size_t k = first_root(g, v); k < g->nroots && g->roots[k].node == v; k++) {
			size_t ri = rg_add(rg, -1, xstrdup(g->roots[k].label), (enum root_kind)g->roots[k].kind);
			rg_link(rg, ri, rv);
			rg_root(rg, ri);
			found++;
		}
		/*
		 * An attribute held in an instance's __dict__ shows up twice: as the
		 * instance's attribute (derived) and as a dict entry. Keep the former.
		 */
		bool via_attr = false;
		for (size_t k = lo; k < hi && !via_attr; k++)
			via_attr = g->edges[g->rev[k]].derived;
		for (size_t k = lo; k < hi; k++) {
			const struct gedge *e = &g->edges[g->rev[k]];
			enum root_kind kind;
			char *label, lab[256];
			size_t ri;

			if (e->from == v || e->kind == EDGE_TYPE_OF)
				continue; /* self references and "instance keeps its class" */
			if (via_attr && g->nodes[e->from].instance_dict && e->kind == EDGE_DICT_VALUE)
				continue;
			if ((int)found >= o->single_object_limit) {
				size_t li = rg_add(rg, -1, xasprintf("%zu more referrers not shown "
								     "(--single-object-referrer-limit)",
								     hi - k), ROOT_LIMIT);
				rg_link(rg, li, rv);
				rg->stopped = true;
				break;
			}
			found++;
			label = root_label(g, e, o, &kind);
			if (label) {
				ri = rg_add(rg, -1, label, kind);
				rg_link(rg, ri, rv);
				rg_root(rg, ri);
				continue;
			}
			if (seen[e->from]) {
				rg_link(rg, (size_t)seen[e->from] - 1, rv);
				continue;
			}
			edge_label(g, e, lab, sizeof(lab));
			{
				char *desc = graph__describe(g, e->from);
				ri = rg_add(rg, e->from, xasprintf("%s, %s", desc, lab), ROOT_NONE);
				free(desc);
			}
			rg_link(rg, ri, rv);
			seen[e->from] = (long)ri + 1;
			depth[e->from] = depth[v] + 1;
			GROW(queue, qcap, qn + 1);
			queue[qn++] = e->from;
		}
		if (!found && !g->nodes[v].immortal) {
			/* nothing in Python refers to it: native code, or a frame we do not decode */
			uint64_t refcnt = 0;
			remote__u64(g->ctx.r, g->nodes[v].addr + (raddr_t)g->ctx.l->v[F_OB_REFCNT], &refcnt);
			refcnt &= 0xffffffffull;
			if (refcnt > g->nodes[v].inbound) {
				size_t ri = rg_add(rg, -1, xasprintf("held by native code (%llu references "
								     "not found in Python objects)",
								     (unsigned long long)(refcnt - g->nodes[v].inbound)),
						   ROOT_NATIVE);
				rg_link(rg, ri, rv);
				rg_root(rg, ri);
			}
		}
	}
	if (!rg->nroots && !rg->stopped) {
		/* every reference is accounted for and none leads to a root */
		size_t ri = rg_add(rg, -1, xstrdup("unreachable: only a reference cycle keeps it "
						   "(the garbage collector has not freed it yet; "
						   "is gc disabled?)"), ROOT_UNREACHABLE);
		rg_link(rg, ri, t);
		rg_root(rg, ri);
	}
	free(queue);
	free(seen);
	free(depth);
	return 0;
}

void rgraph__release(struct rgraph *rg)
{
	for (size_t i = 0; i < rg->n; i++) {
		free(rg->nodes[i].name);
		free(rg->nodes[i].referents);
	}
	free(rg->nodes);
	free(rg->targets);
	free(rg->roots);
	memset(rg, 0, sizeof(*rg));
}
