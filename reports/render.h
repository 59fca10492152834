/* SPDX-License-Identifier: MIT */
/*
 * Reports as people read them. Everything is rendered from the JSON
 * documents of store.h, live and saved alike, so that `memalot print` gives
 * the very bytes `memalot attach` printed.
 */
#ifndef MEMALOT_RENDER_H
#define MEMALOT_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* One iteration as text (the header, the leak table, object details). */
void render__iteration_text(FILE *f, const json_t *iteration, bool summary_only);

/* One iteration as one line of JSON. */
void render__iteration_json(FILE *f, const json_t *iteration);

/* An object_details_list as text, headed by how many matched. */
void render__details_text(FILE *f, const json_t *details, long long matched_objects, long long matched_types);

/*
 * The referrer graphs of the object details of iterations (a JSON array) as
 * one Graphviz digraph, a cluster per object.
 */
void render__graph_dot(FILE *f, const json_t *iterations);

/* A copy of iteration keeping only the types whose name contains one of types[]. */
json_t *render__filter_types(const json_t *iteration, char *const *types, size_t ntypes);

#endif
