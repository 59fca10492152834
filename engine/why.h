/* SPDX-License-Identifier: MIT */
/* memalot snapshot --why: object details with referrer graphs, as text and JSON. */
#ifndef MEMALOT_WHY_H
#define MEMALOT_WHY_H

#include <jansson.h>
#include <stdio.h>

#include "../analyzer/dominators.h"
#include "../analyzer/graph.h"
#include "../analyzer/groups.h"

struct why_opts {
	const char *type_substring;  /* --why TYPE, or NULL */
	raddr_t *objects;            /* --object ADDR (repeatable), or NULL */
	size_t nobjects;
	int max_object_details;      /* --max-object-details (30) */
	int untracked_depth;         /* --max-untracked-search-depth (3) */
	bool no_referrers;           /* --no-referrers */
	int str_max_length;          /* --str-max-length (100) */
	struct referrer_opts ref;
};

struct why_object {
	long node;
	char *type_name;      /* owned */
	char *str;            /* owned: a short representation */
	uint64_t shallow, deep;
	uint64_t retained;    /* from the dominator tree (valid with why_result.have_dom) */
	bool deep_complete;   /* false: the bound stopped the deep size, a lower bound */
	size_t deep_objects;  /* objects the deep size counted */
	bool referrers_checked;
	struct rgraph rg;
	long group;           /* its leak group (index into why_result.groups), -1: none */
};

struct why_result {
	struct why_object *v;
	size_t n;
	size_t matched_types, matched_objects;
	size_t unknown_objects;      /* --object addresses that are not objects of the snapshot */
	uint64_t graph_ns, search_ns;
	/*
	 * Sizes: every node's sys.getsizeof (owned, NULL until computed) and
	 * the dominator tree that gives retained sizes; the groups of the
	 * matched objects by what holds them (--why TYPE, attach's leaks).
	 */
	uint64_t *node_size;
	size_t nsizes;               /* node_size's length (table_zalloc) */
	struct dom_tree dom;
	bool have_dom, have_groups;
	struct leak_groups groups;
	uint64_t sizes_ns, dom_ns, groups_ns;
};

/*
 * Pick objects and search their referrers: --object's objects, or the
 * objects of the types --why names, grouped (why__run_nodes). g must be
 * indexed. @return 0 or -errno
 */
int why__run(struct graph *g, const struct why_opts *o, struct why_result *out);

/*
 * The objects nodes[n] (e.g. attach's leaks), grouped by the root and path
 * that hold them (analyzer/groups.h), and details for up to
 * o->max_object_details of them: the biggest (by retained size) of each
 * group first, most retained group first, then one of each type not shown
 * yet, then the rest by retained size. o->objects is not used. g must be
 * indexed. @return 0 or -errno
 */
int why__run_nodes(struct graph *g, const struct why_opts *o, const uint32_t *nodes, size_t n,
		   struct why_result *out);

/*
 * Every node's sys.getsizeof into out->node_size (one cache of type facts
 * for them all), then the dominator tree (out->dom, out->have_dom). Done by
 * why__run and why__run_nodes; idempotent. @return 0 or -errno (sizes are
 * there even when the tree could not be computed)
 */
int why__sizes(struct graph *g, struct why_result *out);

/*
 * The bytes of every object of g (sys.getsizeof summed): w's when it has
 * them (why__sizes ran), else read now (w may be NULL).
 */
uint64_t why__object_bytes(const struct graph *g, const struct why_result *w);

void why__release(struct why_result *w);
void why__print(FILE *f, const struct graph *g, const struct why_result *w);
/* The object details (object_details, object_details_list). */
json_t *why__json(const struct graph *g, const struct why_result *w);
/*
 * The groups, [{root, root_kind, path, object_count, retained_size_bytes,
 * retained_size_exact, types: [{object_type, count}]}], most retained
 * first, at most WHY_GROUPS_MAX (json_array() when not grouped).
 */
json_t *why__groups_json(const struct graph *g, const struct why_result *w);

/* The most groups a report lists, and the most types each group lists. */
#define WHY_GROUPS_MAX 100
#define WHY_GROUP_TYPES_MAX 20

#endif
