/* SPDX-License-Identifier: MIT */
/* memalot snapshot --why: object details with referrer graphs, as text and JSON. */
#ifndef MEMALOT_WHY_H
#define MEMALOT_WHY_H

#include <jansson.h>
#include <stdio.h>

#include "../analyzer/graph.h"

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
	bool referrers_checked;
	struct rgraph rg;
};

struct why_result {
	struct why_object *v;
	size_t n;
	size_t matched_types, matched_objects;
	size_t unknown_objects;      /* --object addresses that are not objects of the snapshot */
	uint64_t graph_ns, search_ns;
};

/*
 * How many objects of each type to detail, types sorted by count (most
 * first): at least one per type, the rest shared by count, budget in all.
 */
void why__share(const size_t *counts, size_t ntypes, int budget, size_t *shown);

/* Pick objects and search their referrers. @return 0 or -errno */
int why__run(struct graph *g, const struct why_opts *o, struct why_result *out);
void why__release(struct why_result *w);
void why__print(FILE *f, const struct graph *g, const struct why_result *w);
json_t *why__json(const struct graph *g, const struct why_result *w);

#endif
