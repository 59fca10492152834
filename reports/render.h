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

/* Whether text written to f is coloured (color_wanted of its descriptor, common/util.h). */
bool render__want_color(FILE *f);

/* A size as people read it: "512 bytes", "3.2 KiB", "3.2 MiB", "1.1 GiB" (buf, returned). */
const char *render__human_bytes(long long b, char *buf, size_t size);
/* Colour (ANSI SGR) in the text renderings from now on, or not (the default). */
void render__set_color(bool on);
/* The escape sequence of a style while colour is on (render__set_color), else "". */
enum render_style { STYLE_OFF, STYLE_HEAD, STYLE_ALERT, STYLE_TYPE, STYLE_ROOT, STYLE_SIZE, STYLE_DIM };
const char *render__style(enum render_style s);

/*
 * A report as one self-contained HTML page (reports/html.c): the answer
 * first (the biggest group and its holder), the leak groups table of the
 * newest iteration with leaks, charts over the iterations (leaked objects,
 * RSS and USS, descriptors and threads) as inline SVG, graph_svg (the
 * merged referrer graph as Graphviz's SVG, or NULL), the object details.
 * No script, no network (its Content-Security-Policy forbids any).
 */
void render__html(FILE *f, const json_t *summary, const json_t *iterations, const char *graph_svg);

/*
 * render__html into path, written beside it (0600: a report holds what the
 * target's memory held) and renamed over it; the graph of the newest
 * iteration with object details through Graphviz's dot when it is there.
 * @return 0, or -1 after the message
 */
int render__html_file(const char *path, const json_t *summary, const json_t *iterations);

/*
 * One iteration's merged graph into path: DOT for format "dot", else
 * rendered by Graphviz's dot -Tformat (svg, png, pdf). @return 0 or -1 after
 * the message
 */
int render__graph_file(const char *path, const char *format, const json_t *iteration);

/* One iteration as one line of JSON. */
void render__iteration_json(FILE *f, const json_t *iteration);

/*
 * leak_groups as text: "5,011 objects, 3.2 MiB, held by __main__._CACHE
 * (global) → dict[*]" and the counts per type under each, headed by how many
 * objects and groups there are (total_groups; the list may hold fewer).
 * matching: the objects are --why's matches, not leaks. Nothing for an
 * empty or absent list.
 */
void render__groups_text(FILE *f, const json_t *groups, long long total_groups, long long objects, bool matching);

/* An object_details_list as text, headed by how many matched. */
void render__details_text(FILE *f, const json_t *details, long long matched_objects, long long matched_types);

/*
 * One iteration's referrer graphs merged into one Graphviz DOT graph: every
 * object once (shared holders too), each leak group a cluster labelled with
 * its count and retained size, roots coloured by kind, leaked objects
 * orange, edges labelled with the key, index or attribute that holds; more
 * than a few leaked siblings under one holder collapse into "... N more".
 */
void render__graph_dot(FILE *f, const json_t *iteration);

/*
 * The leaked objects alive at an iteration: total_alive_objects (the leaks of
 * every window since the warm-up), or total_objects in reports written
 * before windows (cumulative then).
 */
long long render__alive_leaks(const json_t *iteration);

/*
 * Keep, in iteration's leak_groups (in place), the groups with a type whose
 * name contains one of types[], whole; total_leak_groups follows.
 */
void render__filter_groups(json_t *iteration, char *const *types, size_t ntypes);

/* A copy of iteration keeping only the types whose name contains one of types[]. */
json_t *render__filter_types(const json_t *iteration, char *const *types, size_t ntypes);

#endif
