/* SPDX-License-Identifier: MIT */
/*
 * Leak groups (see groups.h): one breadth-first search gives every object
 * its path from a root; leaked objects are grouped by the path of their
 * head, paths being interned as a trie of collapsed elements so that the
 * objects of one container share one path without building its string again.
 */
#define _GNU_SOURCE
#include "groups.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

#define NONE UINT32_MAX
/* par[] values that are not edges */
#define PAR_UNSEEN UINT32_MAX
#define PAR_ROOT (UINT32_MAX - 1)
#define LABEL_MAX 256

/* ------------------------------------------------------------ small tables */

/* Open addressing, uint64 key -> uint32 value; keys are stored + 1 (0 = empty). */
struct u64map {
	uint64_t *keys;
	uint32_t *vals;
	size_t cap, n;
};

static size_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

static void u64map_grow(struct u64map *m)
{
	struct u64map old = *m;

	m->cap = old.cap ? old.cap * 2 : 256;
	m->keys = xcalloc(m->cap, sizeof(*m->keys));
	m->vals = xmalloc(m->cap * sizeof(*m->vals));
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i]) {
			size_t j = mix(old.keys[i]) & (m->cap - 1);
			while (m->keys[j])
				j = (j + 1) & (m->cap - 1);
			m->keys[j] = old.keys[i];
			m->vals[j] = old.vals[i];
			m->n++;
		}
	free(old.keys);
	free(old.vals);
}

static uint32_t u64map_get(const struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return NONE;
	for (size_t j = mix(key + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
		if (m->keys[j] == key + 1)
			return m->vals[j];
	return NONE;
}

static void u64map_put(struct u64map *m, uint64_t key, uint32_t val)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap)
		u64map_grow(m);
	for (j = mix(key + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
		if (m->keys[j] == key + 1) {
			m->vals[j] = val;
			return;
		}
	m->keys[j] = key + 1;
	m->vals[j] = val;
	m->n++;
}

static void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* Interned strings: the path elements. */
struct strtab {
	char **v;
	size_t n, cap;
	struct u64map by_hash; /* hash -> first id; collisions chain through next */
	uint32_t *next;
	size_t next_cap;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static uint32_t strtab_intern(struct strtab *t, const char *s)
{
	uint64_t h = hash_str(s);
	uint32_t id = u64map_get(&t->by_hash, h);

	for (uint32_t i = id; i != NONE; i = t->next[i])
		if (!strcmp(t->v[i], s))
			return i;
	GROW(t->v, t->cap, t->n + 1);
	GROW(t->next, t->next_cap, t->n + 1);
	t->v[t->n] = xstrdup(s);
	t->next[t->n] = id;
	u64map_put(&t->by_hash, h, (uint32_t)t->n);
	return (uint32_t)t->n++;
}

static void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->next);
	u64map_free(&t->by_hash);
}

/*
 * Paths as a trie: each entry is its parent path plus one element (a root
 * label at depth 1). Equal paths are one entry, so a path's id is its key.
 */
struct pnode {
	uint32_t parent; /* NONE for a root */
	uint32_t elem;   /* strtab id */
	uint16_t depth;  /* elements, the root's label included */
	bool repeated;   /* the element repeats */
};

struct trie {
	struct pnode *v;
	size_t n, cap;
	struct u64map index; /* (parent, elem, repeated) -> id */
	uint32_t ellipsis;   /* strtab id of "…" */
};

static uint32_t trie_get(struct trie *t, uint32_t parent, uint32_t elem, bool repeated)
{
	uint64_t key = ((uint64_t)parent << 32) ^ ((uint64_t)elem << 1) ^ (repeated ? 1 : 0);
	uint32_t id = u64map_get(&t->index, key);

	if (id != NONE)
		return id;
	GROW(t->v, t->cap, t->n + 1);
	t->v[t->n] = (struct pnode){ parent, elem, (uint16_t)(parent == NONE ? 1 : t->v[parent].depth + 1), repeated };
	u64map_put(&t->index, key, (uint32_t)t->n);
	return (uint32_t)t->n++;
}

/* Path p followed by element e: runs collapse, and past GROUP_PATH_MAX the middle becomes "…". */
static uint32_t trie_append(struct trie *t, uint32_t p, uint32_t e)
{
	const struct pnode *pn = &t->v[p];

	if (pn->elem == e && pn->parent != NONE)
		return pn->repeated ? p : trie_get(t, pn->parent, e, true);
	if (pn->depth >= GROUP_PATH_MAX && pn->parent != NONE && t->v[pn->parent].parent != NONE) {
		/* keep the first GROUP_PATH_MAX - 2 elements, then "…" and the last */
		uint32_t stem = t->v[pn->parent].parent;
		while (t->v[stem].depth > GROUP_PATH_MAX - 2 && t->v[stem].parent != NONE)
			stem = t->v[stem].parent;
		return trie_get(t, trie_get(t, stem, t->ellipsis, false), e, false);
	}
	return trie_get(t, p, e, false);
}

/* The string of path p (caller frees). */
static char *trie_string(const struct trie *t, const struct strtab *s, uint32_t p)
{
	uint32_t chain[GROUP_PATH_MAX + 4];
	size_t n = 0, len = 1;
	char *out, *q;

	for (uint32_t x = p; x != NONE && n < ARRAY_SIZE(chain); x = t->v[x].parent)
		chain[n++] = x;
	for (size_t i = 0; i < n; i++)
		len += strlen(s->v[t->v[chain[i]].elem]) + 16;
	out = q = xmalloc(len);
	*q = 0;
	for (size_t i = n; i-- > 0;) {
		const struct pnode *pn = &t->v[chain[i]];
		q += sprintf(q, "%s%s%s", i + 1 < n ? " \u2192 " : "", s->v[pn->elem], pn->repeated ? " (repeated)" : "");
	}
	return out;
}

/* ------------------------------------------------------------ labels */

static const char *type_name(const struct graph *g, uint32_t v)
{
	const char *n = g->snap && g->nodes[v].type < g->snap->types.n ? g->snap->types.v[g->nodes[v].type].name : NULL;
	return n ? n : "?";
}

static const char *short_type(const struct graph *g, uint32_t v)
{
	const char *n = type_name(g, v), *dot = strrchr(n, '.');
	return dot && dot[1] ? dot + 1 : n;
}

void groups__edge_label(const struct graph *g, size_t edge, char *buf, size_t size)
{
	const struct gedge *e = &g->edges[edge];
	const char *owner = short_type(g, e->from);
	const char *name = e->name < g->nnames && g->names[e->name][0] ? g->names[e->name] : "?";

	if (!size)
		return;
	switch (e->kind) {
	case EDGE_DICT_VALUE:
	case EDGE_LIST_INDEX:
	case EDGE_TUPLE_INDEX:
	case EDGE_DEQUE_INDEX:
		snprintf(buf, size, "%s[*]", owner);
		break;
	case EDGE_SET_MEMBER:
		snprintf(buf, size, "%s{*}", owner);
		break;
	case EDGE_DICT_KEY:
		snprintf(buf, size, "%s (key)", owner);
		break;
	case EDGE_INSTANCE_DICT:
		snprintf(buf, size, "%s.__dict__", owner);
		break;
	case EDGE_CELL:
		if (!graph__closure_label(g, e->from, buf, size))
			snprintf(buf, size, "%s.cell_contents", owner);
		break;
	case EDGE_SCANNED:
		snprintf(buf, size, "%s (scanned)", owner);
		break;
	case EDGE_FRAME_LOCAL:
		snprintf(buf, size, "%s local %s", owner, name);
		break;
	case EDGE_MODULE_DICT:
		snprintf(buf, size, "%s.__dict__", owner);
		break;
	default: /* attributes, slots, function, method, type and other fields */
		snprintf(buf, size, "%s.%s", owner, name);
		break;
	}
	utf8_sanitize(buf);
}

/* The first frame root of node v (g->roots is sorted by node). */
static const char *local_label(const struct graph *g, uint32_t v)
{
	size_t lo = 0, hi = g->nroots;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->roots[mid].node < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->nroots && g->roots[lo].node == v ? g->roots[lo].label : NULL;
}

/* The label of root object r (caller frees). */
static char *root_label(const struct graph *g, const struct dom_tree *t, uint32_t r)
{
	enum root_kind kind = (enum root_kind)t->root[r], k2;
	const char *s;

	switch (kind) {
	case ROOT_GLOBAL:
	case ROOT_CLASS_ATTRIBUTE:
	case ROOT_SYS_MODULES:
	case ROOT_GC_GARBAGE:
		for (size_t k = g->rev_start[r]; k < g->rev_start[r + 1]; k++)
			if (graph__root_edge_kind(g, g->rev[k]) == kind) {
				char *l = graph__root_label(g, g->rev[k], &k2);
				if (l)
					return l;
			}
		return xasprintf("%s (%s)", root_kind__name(kind), type_name(g, r));
	case ROOT_LOCAL:
		s = local_label(g, r);
		return s ? xstrdup(s) : xasprintf("local (%s)", type_name(g, r));
	case ROOT_PERMANENT:
		return xasprintf("permanent generation (%s)", type_name(g, r));
	case ROOT_NATIVE:
		return xasprintf("held by native code (%s)", type_name(g, r));
	case ROOT_UNREACHABLE:
		return xasprintf("unreachable: reference cycle (%s)", type_name(g, r));
	default:
		return xasprintf("? (%s)", type_name(g, r));
	}
}

/* ------------------------------------------------------------ the search */

/* Which search a root starts: Python roots, then the permanent generation, native code, cycles. */
static int root_phase(uint8_t k)
{
	switch (k) {
	case ROOT_NONE: return -1;
	case ROOT_PERMANENT: return 1;
	case ROOT_NATIVE: return 2;
	case ROOT_UNREACHABLE: return 3;
	default: return 0;
	}
}

#define BIT_SET(b, i) ((b)[(i) >> 6] |= 1ull << ((i) & 63))
#define BIT_GET(b, i) (((b)[(i) >> 6] >> ((i) & 63)) & 1)

/*
 * par[v]: the edge v was first reached by, PAR_ROOT for a root. Stops once
 * every leaked node is reached. @return the nodes reached
 */
static size_t shortest_paths(const struct graph *g, const struct dom_tree *t, const uint64_t *leaked,
			     size_t nleaked, uint32_t *par, uint32_t *queue)
{
	size_t qn = 0, qh = 0, found = 0;

	for (size_t v = 0; v < g->n; v++)
		par[v] = PAR_UNSEEN;
	for (int phase = 0; phase < 4 && found < nleaked; phase++) {
		for (size_t v = 0; v < g->n; v++)
			if (par[v] == PAR_UNSEEN && root_phase(t->root[v]) == phase) {
				par[v] = PAR_ROOT;
				queue[qn++] = (uint32_t)v;
				found += BIT_GET(leaked, v);
			}
		while (qh < qn && found < nleaked) {
			uint32_t v = queue[qh++];

			/* the targets of v's references, in t's compact list */
			for (size_t k = g->fwd_start[v]; k < g->fwd_start[v + 1]; k++) {
				uint32_t w = t->succ[k] & ~DOM_DERIVED;

				if (t->succ[k] == DOM_SKIP || par[w] != PAR_UNSEEN)
					continue;
				par[w] = (uint32_t)k;
				queue[qn++] = w;
				found += BIT_GET(leaked, w);
			}
		}
	}
	return qn;
}

static inline uint32_t parent_of(const struct graph *g, const uint32_t *par, uint32_t v)
{
	return par[v] < PAR_ROOT ? g->edges[par[v]].from : NONE;
}

struct build {
	const struct graph *g;
	const struct dom_tree *t;
	const uint32_t *par;
	struct strtab strs;
	struct trie trie;
	uint32_t *node_path;     /* node -> trie id, NONE: not known yet */
	struct u64map labels;    /* (type, kind, name) -> strtab id of the edge's label */
	uint32_t *stack;
	size_t stack_cap;
};

/* The strtab id of the label of edge ei: the same for every edge of a kind and name from a type. */
static uint32_t edge_elem(struct build *b, size_t ei)
{
	const struct gedge *e = &b->g->edges[ei];
	uint64_t key = ((uint64_t)b->g->nodes[e->from].type << 32) | ((uint64_t)e->kind << 24) | e->name;
	bool cached = e->kind != EDGE_CELL && e->name < (1u << 24);
	uint32_t id = cached ? u64map_get(&b->labels, key) : NONE;
	char buf[LABEL_MAX];

	if (id != NONE)
		return id;
	groups__edge_label(b->g, ei, buf, sizeof(buf));
	id = strtab_intern(&b->strs, buf);
	if (cached)
		u64map_put(&b->labels, key, id);
	return id;
}

/* The trie id of the path from its root to node v. */
static uint32_t path_of(struct build *b, uint32_t v)
{
	const struct graph *g = b->g;
	size_t sp = 0;
	uint32_t x = v, p;

	/* up to a node whose path is known, or to the root */
	for (;;) {
		p = b->node_path[x];
		if (p != NONE)
			break;
		GROW(b->stack, b->stack_cap, sp + 1);
		b->stack[sp++] = x;
		if (parent_of(g, b->par, x) == NONE) {
			char *l = root_label(g, b->t, x);
			p = trie_get(&b->trie, NONE, strtab_intern(&b->strs, utf8_sanitize(l)), false);
			free(l);
			b->node_path[x] = p;
			sp--;
			break;
		}
		x = parent_of(g, b->par, x);
	}
	/* and down again */
	while (sp) {
		x = b->stack[--sp];
		p = trie_append(&b->trie, p, edge_elem(b, b->par[x]));
		b->node_path[x] = p;
	}
	return p;
}

/* ------------------------------------------------------------ groups */

static int cmp_type(const void *a, const void *b)
{
	const struct group_type *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_group(const void *a, const void *b)
{
	const struct leak_group *x = a, *y = b;

	if (x->retained_bytes != y->retained_bytes)
		return x->retained_bytes > y->retained_bytes ? -1 : 1;
	if (x->object_count != y->object_count)
		return x->object_count > y->object_count ? -1 : 1;
	return strcmp(x->path, y->path);
}

struct lower { uint64_t bytes; size_t group; };

static int cmp_lower(const void *a, const void *b)
{
	const struct lower *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->group < y->group ? -1 : x->group > y->group;
}

static void count_types(const struct graph *g, struct leak_group *gr)
{
	struct u64map idx = { 0 }; /* type -> index into gr->types */
	size_t cap = 0;

	for (size_t i = 0; i < gr->object_count; i++) {
		uint32_t type = g->nodes[gr->members[i]].type, k = u64map_get(&idx, type);

		if (k == NONE) {
			GROW(gr->types, cap, gr->ntypes + 1);
			gr->types[gr->ntypes] = (struct group_type){
				type, g->snap && type < g->snap->types.n && g->snap->types.v[type].name ?
					      g->snap->types.v[type].name : "?", 0 };
			k = (uint32_t)gr->ntypes++;
			u64map_put(&idx, type, k);
		}
		gr->types[k].count++;
	}
	qsort(gr->types, gr->ntypes, sizeof(*gr->types), cmp_type);
	u64map_free(&idx);
}

int groups__build(const struct graph *g, const struct dom_tree *t, const uint64_t *node_size,
		  const uint32_t *leaked, size_t nleaked, const struct group_opts *opts, struct leak_groups *out)
{
	static const struct group_opts defaults = GROUP_OPTS_DEFAULT;
	uint64_t t0 = now_ns();
	size_t n = g->n, nlk = 0, budget, small, nbig = 0, needed = 0;
	uint64_t *is_leaked;
	uint32_t *lk, *par, *queue, *head, *group_of_path = NULL, *gid;
	size_t gop_cap = 0, cap = 0, work_bytes;
	struct build b = { .g = g, .t = t };
	struct lower *lower;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	if (!g->indexed || t->n != n || !t->root)
		return -EINVAL;
	if (n >= UINT32_MAX - 2 || g->nedges >= PAR_ROOT)
		return -E2BIG;

	/* the distinct leaked nodes, in input order */
	is_leaked = xcalloc(n / 64 + 1, sizeof(*is_leaked));
	lk = xmalloc((nleaked ? nleaked : 1) * sizeof(*lk));
	for (size_t i = 0; i < nleaked; i++)
		if (leaked[i] < n && !BIT_GET(is_leaked, leaked[i])) {
			BIT_SET(is_leaked, leaked[i]);
			lk[nlk++] = leaked[i];
		}
	out->nleaked = nlk;
	if (!nlk) {
		free(is_leaked);
		free(lk);
		out->ns = now_ns() - t0;
		return 0;
	}

	/*
	 * three arrays over every node, in one mapping in huge pages: touched
	 * page by page in 4 KiB pages, their faults would cost more than the search
	 */
	work_bytes = 3 * (n ? n : 1) * sizeof(uint32_t);
	par = table_zalloc(work_bytes);
	queue = par + (n ? n : 1);
	head = queue + (n ? n : 1);
	shortest_paths(g, t, is_leaked, nlk, par, queue);

	/* heads: up the path while the holder is leaked too (queue is the stack now) */
	for (size_t i = 0; i < nlk; i++)
		head[lk[i]] = NONE;
	for (size_t i = 0; i < nlk; i++) {
		uint32_t x = lk[i], h, p;
		size_t sp = 0;

		if (head[x] != NONE)
			continue;
		for (;;) {
			queue[sp++] = x;
			p = par[x] == PAR_UNSEEN ? NONE : parent_of(g, par, x);
			if (p == NONE || !BIT_GET(is_leaked, p) || sp >= nlk) {
				h = x;
				break;
			}
			if (head[p] != NONE) {
				h = head[p];
				break;
			}
			x = p;
		}
		while (sp)
			head[queue[--sp]] = h;
	}

	/* a group per path of a head */
	b.par = par;
	b.node_path = queue; /* free again */
	for (size_t v = 0; v < n; v++)
		queue[v] = NONE;
	b.trie.ellipsis = strtab_intern(&b.strs, "\u2026");
	gid = xmalloc(nlk * sizeof(*gid)); /* group of lk[i] */
	for (size_t i = 0; i < nlk; i++) {
		uint32_t v = lk[i], pid, gi;
		struct leak_group *gr;

		if (head[v] != v)
			continue;
		pid = par[v] == PAR_UNSEEN ? trie_get(&b.trie, NONE, strtab_intern(&b.strs, "?"), false)
					  : path_of(&b, v);
		if (pid >= gop_cap) {
			size_t old = gop_cap;
			GROW(group_of_path, gop_cap, (size_t)pid + 1);
			for (size_t k = old; k < gop_cap; k++)
				group_of_path[k] = NONE;
		}
		if (group_of_path[pid] == NONE) {
			uint32_t r = v;
			while (parent_of(g, par, r) != NONE)
				r = parent_of(g, par, r);
			GROW(out->v, cap, out->n + 1);
			gr = &out->v[out->n];
			memset(gr, 0, sizeof(*gr));
			gr->path = trie_string(&b.trie, &b.strs, pid);
			{
				uint32_t top = pid;
				while (b.trie.v[top].parent != NONE)
					top = b.trie.v[top].parent;
				gr->root_label = xstrdup(b.strs.v[b.trie.v[top].elem]);
			}
			gr->root_kind = (enum root_kind)t->root[r];
			gr->root_node = r;
			group_of_path[pid] = (uint32_t)out->n++;
		}
		gi = group_of_path[pid];
		gid[i] = gi;
		out->v[gi].nheads++;
	}
	/* followers: the group of their head (heads are leaked nodes, so in lk: map through a node index) */
	{
		struct u64map head_group = { 0 };

		for (size_t i = 0; i < nlk; i++)
			if (head[lk[i]] == lk[i])
				u64map_put(&head_group, lk[i], gid[i]);
		for (size_t i = 0; i < nlk; i++)
			if (head[lk[i]] != lk[i])
				gid[i] = u64map_get(&head_group, head[lk[i]]);
		u64map_free(&head_group);
	}
	for (size_t i = 0; i < nlk; i++)
		out->v[gid[i]].object_count++;
	for (size_t gi = 0; gi < out->n; gi++) {
		struct leak_group *gr = &out->v[gi];
		gr->members = xmalloc(gr->object_count * sizeof(*gr->members));
		gr->object_count = 0;
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < nlk; i++)
			if ((head[lk[i]] == lk[i]) == (pass == 0)) {
				struct leak_group *gr = &out->v[gid[i]];
				gr->members[gr->object_count++] = lk[i];
			}
	for (size_t gi = 0; gi < out->n; gi++)
		count_types(g, &out->v[gi]);

	/*
	 * retained bytes: exact when the search is small; the big ones get the
	 * budget, by their lower bound when it cannot cover them all
	 */
	small = MAX(n / 16, (size_t)65536);
	budget = (size_t)opts->max_full_passes * n;
	lower = xmalloc((out->n ? out->n : 1) * sizeof(*lower));
	for (size_t gi = 0; gi < out->n; gi++) {
		struct leak_group *gr = &out->v[gi];
		size_t region = dominators__group_region(t, gr->members, gr->object_count);

		if (region <= small) {
			gr->retained_bytes = dominators__group_retained(t, g, node_size, gr->members, gr->object_count,
									small, &gr->retained_exact, NULL);
			continue;
		}
		lower[nbig++] = (struct lower){ 0, gi };
		needed += region;
	}
	if (needed > budget) {
		for (size_t k = 0; k < nbig; k++) {
			struct leak_group *gr = &out->v[lower[k].group];
			lower[k].bytes = dominators__union_retained(t, gr->members, gr->object_count);
		}
		qsort(lower, nbig, sizeof(*lower), cmp_lower);
	}
	for (size_t k = 0; k < nbig; k++) {
		struct leak_group *gr = &out->v[lower[k].group];
		size_t visited = 0;

		gr->retained_bytes = dominators__group_retained(t, g, node_size, gr->members, gr->object_count,
								budget, &gr->retained_exact, &visited);
		budget -= MIN(budget, visited);
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_group);

	free(lower);
	free(gid);
	free(group_of_path);
	table_free(par, work_bytes);
	free(lk);
	free(is_leaked);
	free(b.stack);
	strtab_free(&b.strs);
	free(b.trie.v);
	u64map_free(&b.trie.index);
	u64map_free(&b.labels);
	out->ns = now_ns() - t0;
	return 0;
}

void groups__release(struct leak_groups *gs)
{
	for (size_t i = 0; i < gs->n; i++) {
		free(gs->v[i].root_label);
		free(gs->v[i].path);
		free(gs->v[i].types);
		free(gs->v[i].members);
	}
	free(gs->v);
	memset(gs, 0, sizeof(*gs));
}
