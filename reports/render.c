/* SPDX-License-Identifier: MIT */
/* Text, JSON and Graphviz renderings of report documents (see render.h). */
#define _GNU_SOURCE
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "doc.h"

/* ANSI colours of the text: what leaks, what holds it, how big; off unless render__set_color */
static bool color;
#define SGR(code) (color ? "\033[" code "m" : "")
#define C_OFF SGR("0")
#define C_HEAD SGR("1")      /* headings */
#define C_ALERT SGR("1;31")  /* "Possible New Leaks" */
#define C_TYPE SGR("36")     /* type names */
#define C_ROOT SGR("35")     /* what holds a leak */
#define C_SIZE SGR("1;33")   /* counts and sizes of leaks */
#define C_DIM SGR("2")       /* secondary figures */

bool render__want_color(FILE *f)
{
	return color_wanted(fileno(f));
}

void render__set_color(bool on)
{
	color = on;
}

const char *render__style(enum render_style s)
{
	switch (s) {
	case STYLE_HEAD: return C_HEAD;
	case STYLE_ALERT: return C_ALERT;
	case STYLE_TYPE: return C_TYPE;
	case STYLE_ROOT: return C_ROOT;
	case STYLE_SIZE: return C_SIZE;
	case STYLE_DIM: return C_DIM;
	default: return C_OFF;
	}
}

#define MAX_TREE_DEPTH 60
#define MAX_KIDS 256

/* Print the nodes that refer to node i, as a tree growing towards the roots. */
static void print_tree(FILE *f, const json_t *nodes, size_t i, const char *prefix, bool *seen, int depth)
{
	size_t kids[MAX_KIDS], nk = 0, n = json_array_size(nodes);

	for (size_t j = 0; j < n && nk < MAX_KIDS; j++) {
		const json_t *refs = json_object_get(json_array_get(nodes, j), "referent_ids"), *r;
		size_t k;

		json_array_foreach(refs, k, r)
			if (json_is_integer(r) && json_integer_value(r) == (json_int_t)i) {
				kids[nk++] = j;
				break;
			}
	}
	for (size_t k = 0; k < nk; k++) {
		const json_t *c = json_array_get(nodes, kids[k]);
		bool last = k + 1 == nk, root = json_object_get(c, "kind") != NULL;
		char *next;

		fprintf(f, "%s%s %s%s%s%s\n", prefix, last ? "`--" : "|--", root ? C_ROOT : "", str_of(c, "name", "?"),
			root ? C_OFF : "", seen[kids[k]] && !root ? " (see above)" : "");
		if (seen[kids[k]] || depth > MAX_TREE_DEPTH)
			continue;
		seen[kids[k]] = true;
		next = xasprintf("%s%s", prefix, last ? "    " : "|   ");
		print_tree(f, nodes, kids[k], next, seen, depth + 1);
		free(next);
	}
}

static void print_object(FILE *f, const json_t *d)
{
	const json_t *g = json_object_get(d, "referrer_graph"), *nodes = json_object_get(g, "graph_nodes");
	json_int_t target = json_integer_value(json_array_get(json_object_get(g, "target_ids"), 0));
	size_t n = json_array_size(nodes);

	fprintf(f, "\n%s%s%s at 0x%llx: %llu bytes", C_TYPE, str_of(d, "object_type_name", "?"), C_OFF,
		(unsigned long long)int_of(d, "object_id"), (unsigned long long)int_of(d, "shallow_size_bytes"));
	/* schema 1.1: the retained size, and whether the deep size's bound stopped it */
	if (json_is_integer(json_object_get(d, "retained_size_bytes")))
		fprintf(f, ", %llu bytes retained", (unsigned long long)int_of(d, "retained_size_bytes"));
	if (json_is_false(json_object_get(d, "deep_size_complete")))
		fprintf(f, ", \u2265 %llu bytes deep (stopped at %lld objects)",
			(unsigned long long)int_of(d, "deep_size_bytes"), int_of(d, "deep_size_objects"));
	else
		fprintf(f, ", ~%llu bytes deep", (unsigned long long)int_of(d, "deep_size_bytes"));
	fprintf(f, "\n  %s\n", str_of(d, "object_str", ""));
	if (!json_is_true(json_object_get(d, "referrers_checked"))) {
		fprintf(f, "  (referrers not checked: --no-referrers)\n");
		return;
	}
	if (target < 0 || (size_t)target >= n) {
		fprintf(f, "  (no referrer graph)\n");
		return;
	}
	{
		bool *seen = xcalloc(n + 1, sizeof(*seen));
		fprintf(f, "  referrers:\n  %s\n", str_of(json_array_get(nodes, (size_t)target), "name", "?"));
		seen[target] = true;
		print_tree(f, nodes, (size_t)target, "  ", seen, 0);
		if (!json_array_size(json_object_get(g, "root_ids")))
			fprintf(f, "  (no root found)\n");
		free(seen);
	}
}

/* n with a comma every three digits: "5,011". */
static const char *thousands(long long n, char *buf, size_t size)
{
	char digits[32];
	int len = snprintf(digits, sizeof(digits), "%lld", n < 0 ? -n : n), k = 0;
	size_t o = 0;

	if (n < 0 && o + 1 < size)
		buf[o++] = '-';
	for (int i = 0; i < len && o + 2 < size; i++) {
		buf[o++] = digits[i];
		k = len - i - 1;
		if (k && k % 3 == 0)
			buf[o++] = ',';
	}
	buf[o] = 0;
	return buf;
}

/* A size as people read it: "512 bytes", "3.2 KiB", "3.2 MiB", "1.1 GiB". */
const char *render__human_bytes(long long b, char *buf, size_t size)
{
	if (b < 1024)
		snprintf(buf, size, "%lld bytes", b);
	else if (b < 1024ll * 1024)
		snprintf(buf, size, "%.1f KiB", b / 1024.0);
	else if (b < 1024ll * 1024 * 1024)
		snprintf(buf, size, "%.1f MiB", b / 1048576.0);
	else
		snprintf(buf, size, "%.1f GiB", b / 1073741824.0);
	return buf;
}

#define GROUP_TYPES_SHOWN 6

void render__groups_text(FILE *f, const json_t *groups, long long total_groups, long long objects, bool matching)
{
	const json_t *gr;
	char a[48], b[48];
	size_t i;

	if (!json_array_size(groups))
		return;
	if (total_groups <= (long long)json_array_size(groups)) {
		/* every group is here (print --filter-types keeps whole groups): count what they hold */
		long long sum = 0;

		total_groups = (long long)json_array_size(groups);
		json_array_foreach(groups, i, gr)
			sum += int_of(gr, "object_count");
		objects = sum;
	}
	fprintf(f, "\n%s%s%s: %s objects in %lld group%s, most retained first\n", C_HEAD,
		matching ? "Groups of the matching objects (by what holds them)" : "Leak groups (by what holds them)",
		C_OFF, thousands(objects, a, sizeof(a)), total_groups, total_groups == 1 ? "" : "s");
	json_array_foreach(groups, i, gr) {
		const json_t *types = json_object_get(gr, "types"), *t;
		long long ntypes = json_is_integer(json_object_get(gr, "total_types")) ?
					   int_of(gr, "total_types") : (long long)json_array_size(types);
		size_t k;

		fprintf(f, "  %s%s object%s, %s%s%s, held by %s%s%s\n", C_SIZE,
			thousands(int_of(gr, "object_count"), a, sizeof(a)), int_of(gr, "object_count") == 1 ? "" : "s",
			json_is_false(json_object_get(gr, "retained_size_exact")) ? "\u2265 " : "",
			render__human_bytes(int_of(gr, "retained_size_bytes"), b, sizeof(b)), C_OFF, C_ROOT,
			str_of(gr, "path", "?"), C_OFF);
		fprintf(f, "     ");
		json_array_foreach(types, k, t) {
			if (k == GROUP_TYPES_SHOWN)
				break;
			fprintf(f, "%s%s %s%s%s", k ? ", " : " ", thousands(int_of(t, "count"), a, sizeof(a)), C_TYPE,
				str_of(t, "object_type", "?"), C_OFF);
		}
		if (ntypes > (long long)MIN(k, (size_t)GROUP_TYPES_SHOWN))
			fprintf(f, ", and %lld more type%s", ntypes - (long long)MIN(k, (size_t)GROUP_TYPES_SHOWN),
				ntypes - (long long)MIN(k, (size_t)GROUP_TYPES_SHOWN) == 1 ? "" : "s");
		fputc('\n', f);
	}
	if (total_groups > (long long)json_array_size(groups))
		fprintf(f, "  ... %lld more groups\n", total_groups - (long long)json_array_size(groups));
}

void render__details_text(FILE *f, const json_t *details, long long matched_objects, long long matched_types)
{
	const json_t *d;
	size_t i;

	fprintf(f, "\n%sObject details%s: %zu of %lld objects of %lld matching type%s\n", C_HEAD, C_OFF,
		json_array_size(details), matched_objects, matched_types, matched_types == 1 ? "" : "s");
	json_array_foreach(details, i, d)
		print_object(f, d);
}

/*
 * The native figures (schema 1.2; absent in older reports): each with its
 * growth since the warm-up and in the window, what Python objects do not
 * explain, and the descriptors opened since the warm-up.
 */
static void native_text(FILE *f, const json_t *it)
{
	static const struct {
		const char *key, *label;
	} mem[] = { { "uss_bytes", "USS" }, { "pss_bytes", "PSS" }, { "anon_bytes", "anon" },
		    { "heap_bytes", "heap" }, { "swap_bytes", "swap" } };
	const json_t *n = json_object_get(it, "native"), *g = json_object_get(it, "native_growth"),
		     *w = json_object_get(it, "native_window_growth"), *fds = json_object_get(g, "new_fds"), *fd;
	long long total_fds = int_of(g, "total_new_fds");
	size_t i;

	if (!json_is_object(n) || !json_is_object(g) || !json_is_object(w))
		return;
	fprintf(f, "%snative:%s", C_HEAD, C_OFF);
	for (i = 0; i < sizeof(mem) / sizeof(mem[0]); i++)
		fprintf(f, "%s %s %.1f MiB (%+.1f)", i ? "," : "", mem[i].label, num_of(n, mem[i].key) / 1048576.0,
			num_of(g, mem[i].key) / 1048576.0);
	fprintf(f, ", fds %lld (%+lld), threads %lld (%+lld)   (change since the warm-up)\n", int_of(n, "fds"),
		int_of(g, "fds"), int_of(n, "threads"), int_of(g, "threads"));
	fprintf(f, "not explained by Python objects: %+.1f MiB of RSS since the warm-up, %+.1f MiB in this window "
		   "(Python objects %.1f MiB, %+.1f)\n",
		num_of(g, "unexplained_bytes") / 1048576.0, num_of(w, "unexplained_bytes") / 1048576.0,
		num_of(n, "python_object_bytes") / 1048576.0, num_of(g, "python_object_bytes") / 1048576.0);
	if (total_fds > 0) {
		fprintf(f, "file descriptors opened since the warm-up: %lld\n", total_fds);
		json_array_foreach(fds, i, fd)
			fprintf(f, "  fd %lld -> %s\n", int_of(fd, "fd"), str_of(fd, "target", "?"));
		if ((long long)json_array_size(fds) < total_fds)
			fprintf(f, "  ... and %lld more\n", total_fds - (long long)json_array_size(fds));
	}
}

void render__iteration_text(FILE *f, const json_t *it, bool summary_only)
{
	const json_t *mu = json_object_get(it, "memory_usage"), *ls = json_object_get(it, "leak_summary");
	const json_t *rows = json_object_get(ls, "type_summaries"), *row, *details;
	bool sized = json_is_true(json_object_get(ls, "size_computed"));
	long long total_types = int_of(ls, "total_types");
	size_t k;

	fprintf(f, "\n%s==== memalot report %s, iteration %lld ====%s\n", C_HEAD, str_of(it, "report_id", "?"),
		int_of(it, "iteration_number"), C_OFF);
	fprintf(f, "target: pid %lld (%s)\n", int_of(it, "pid"), str_of(it, "command", "?"));
	fprintf(f, "time: %s to %s\n", str_of(it, "start_time", "?"), str_of(it, "end_time", "?"));
	fprintf(f, "memory: RSS %.1f MiB (%+.1f MiB), peak %.1f MiB (%+.1f MiB)\n",
		num_of(mu, "rss_bytes") / 1048576.0, num_of(mu, "rss_change_bytes") / 1048576.0,
		num_of(mu, "peak_rss_bytes") / 1048576.0, num_of(mu, "peak_rss_change_bytes") / 1048576.0);
	native_text(f, it);
	/* what holds the leaks leads the report (schema 1.1; absent in older reports) */
	render__groups_text(f, json_object_get(it, "leak_groups"), int_of(it, "total_leak_groups"),
			    int_of(ls, "total_objects"), false);
	if (json_is_integer(json_object_get(it, "max_object_age_calls"))) {
		/* function-based (@leak_monitor): the clock counts calls */
		long long age = int_of(it, "max_object_age_calls");

		if (json_is_true(json_object_get(it, "warmup_report"))) {
			fprintf(f, "\n%sWarm-up report%s (call %lld): objects created during the warm-up calls are never "
				   "reported;\nthe next reports list the objects created during a monitored call that are "
				   "still alive %lld call%s later.\n",
				C_HEAD, C_OFF, int_of(it, "call_number"), age, age == 1 ? "" : "s");
			return;
		}
		if (age == 1)
			fprintf(f, "\n%sPossible New Leaks%s (created during call %lld and still alive at its exit)\n",
				C_ALERT, C_OFF, int_of(it, "call_number"));
		else
			fprintf(f, "\n%sPossible New Leaks%s (created during call %lld and still alive at the exit of "
				   "call %lld)\n",
				C_ALERT, C_OFF, int_of(it, "call_number") - age + 1, int_of(it, "call_number"));
	} else if (json_is_true(json_object_get(it, "warmup_report"))) {
		fprintf(f, "\n%sWarm-up report%s: the warm-up is over. Objects that exist now are never reported;\n"
			   "the next reports list the objects made since that live longer than %g s.\n",
			C_HEAD, C_OFF, num_of(it, "max_object_lifetime"));
		return;
	} else {
		fprintf(f, "\n%sPossible New Leaks%s (became older than %g s since the last report)\n", C_ALERT, C_OFF,
			num_of(it, "max_object_lifetime"));
	}
	if (json_is_integer(json_object_get(ls, "total_alive_objects")))
		fprintf(f, "  %lld new, %lld leaked objects alive in all since the warm-up\n", int_of(ls, "total_objects"),
			int_of(ls, "total_alive_objects"));
	if (!json_array_size(rows)) {
		fprintf(f, "  none\n");
	} else {
		fprintf(f, "  %-50s %10s%s\n", "type", "count", sized ? "  shallow size" : "");
		json_array_foreach(rows, k, row) {
			fprintf(f, "  %s%-50s%s %s%10lld%s", C_TYPE, str_of(row, "object_type", "?"), C_OFF, C_SIZE,
				int_of(row, "count"), C_OFF);
			if (sized)
				fprintf(f, "  %12llu", (unsigned long long)int_of(row, "shallow_size_bytes"));
			fputc('\n', f);
		}
		if (total_types > (long long)json_array_size(rows))
			fprintf(f, "  ... %lld more types (--max-types-in-leak-summary)\n",
				total_types - (long long)json_array_size(rows));
	}
	details = json_object_get(it, "object_details_list");
	if (!summary_only && json_array_size(details))
		render__details_text(f, details, int_of(it, "details_matched_objects"),
				     int_of(it, "details_matched_types"));
}

void render__iteration_json(FILE *f, const json_t *it)
{
	json_dumpf(it, f, JSON_COMPACT | JSON_ENSURE_ASCII);
	fputc('\n', f);
}

/* s as the inside of a DOT double-quoted string */
static void dot_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* ------------------------------------------------------------ the merged referrer graph */

#define GRAPH_MAX_NODES 4096  /* nodes drawn at most; the rest is said in the graph's label */
#define GRAPH_MAX_SIBLINGS 5  /* leaked objects drawn under one holder; the others in one node "... N more" */
#define GRAPH_MAX_EDGES 16384
#define GRAPH_MAX_LOOKUPS 200000 /* node look-ups (each a scan): a hostile report's graph stays a bounded job */

struct gnode_r {
	char *key;        /* "o:ADDR" for an object, "r:NAME" for a root that is not one */
	char *label;      /* what the node is: the node name up to its ", how it holds" part */
	const char *kind; /* a root's kind, or NULL */
	bool target;      /* a leaked (detailed) object */
	int group;        /* the leak group of a target, -1 */
	long more;        /* > 0: a node that stands for this many leaked objects not drawn */
};

struct gedge_r {
	int from, to;
	char *label; /* how from holds to ("key 'x'", "index 3"), or NULL */
};

struct rgraph_r {
	struct gnode_r *n;
	size_t nn, ncap;
	struct gedge_r *e;
	size_t ne, ecap;
	size_t dropped; /* nodes not drawn (GRAPH_MAX_NODES) */
	size_t lookups;
};

static int rg_node(struct rgraph_r *g, const char *key, const json_t *nd)
{
	const char *name = str_of(nd, "name", "?"), *comma = strstr(name, ", ");
	size_t i;

	if (++g->lookups > GRAPH_MAX_LOOKUPS) {
		g->dropped++;
		return -1;
	}
	for (i = 0; i < g->nn; i++)
		if (!strcmp(g->n[i].key, key))
			return (int)i;
	if (g->nn >= GRAPH_MAX_NODES) {
		g->dropped++;
		return -1;
	}
	GROW(g->n, g->ncap, g->nn + 1);
	g->n[g->nn] = (struct gnode_r){ xstrdup(key),
					comma && json_is_integer(json_object_get(nd, "object_id")) ?
						xstrndup(name, (size_t)(comma - name)) :
						xstrdup(name),
					json_string_value(json_object_get(nd, "kind")), false, -1, 0 };
	return (int)g->nn++;
}

static void rg_edge(struct rgraph_r *g, int from, int to, const char *how)
{
	if (from < 0 || to < 0 || from == to || g->ne >= GRAPH_MAX_EDGES)
		return;
	for (size_t i = 0; i < g->ne; i++)
		if (g->e[i].from == from && g->e[i].to == to)
			return;
	GROW(g->e, g->ecap, g->ne + 1);
	g->e[g->ne++] = (struct gedge_r){ from, to, how && *how ? xstrdup(how) : NULL };
}

static char *node_key(const json_t *nd)
{
	const json_t *id = json_object_get(nd, "object_id");

	return json_is_integer(id) ? xasprintf("o:%llx", (unsigned long long)json_integer_value(id)) :
				     xasprintf("r:%s", str_of(nd, "name", "?"));
}

/*
 * The leak group of a detailed object d: its leak_group, or in files before
 * it, the first group whose root and path are one of its referrer graph's
 * roots; -1 for none.
 */
static int group_of(const json_t *groups, const json_t *d)
{
	const json_t *rg = json_object_get(d, "referrer_graph"), *nodes = json_object_get(rg, "graph_nodes"), *gr, *r;
	const json_t *lg = json_object_get(d, "leak_group");
	size_t i, k;

	if (json_is_integer(lg))
		return json_integer_value(lg) >= 0 && (size_t)json_integer_value(lg) < json_array_size(groups) ?
			       (int)json_integer_value(lg) : -1;
	json_array_foreach(groups, i, gr)
		json_array_foreach(json_object_get(rg, "root_ids"), k, r)
			if (!strcmp(str_of(json_array_get(nodes, (size_t)json_integer_value(r)), "name", ""),
				    str_of(gr, "root", "\x01")))
				return (int)i;
	return -1;
}

static const char *root_color(const char *kind)
{
	if (!kind)
		return "white";
	if (!strcmp(kind, "global") || !strcmp(kind, "class_attribute") || !strcmp(kind, "sys_modules"))
		return "lightskyblue";
	if (!strcmp(kind, "local") || !strcmp(kind, "closure"))
		return "palegreen";
	if (!strcmp(kind, "native") || !strcmp(kind, "permanent"))
		return "lightgrey";
	if (!strcmp(kind, "unreachable_cycle") || !strcmp(kind, "gc_garbage"))
		return "pink";
	return "khaki";
}

/* One iteration's detailed objects as one graph: every object once, shared holders once. */
static void graph_build(struct rgraph_r *g, const json_t *it)
{
	const json_t *groups = json_object_get(it, "leak_groups"), *d;
	size_t k;

	json_array_foreach(json_object_get(it, "object_details_list"), k, d) {
		const json_t *rg = json_object_get(d, "referrer_graph"), *nodes = json_object_get(rg, "graph_nodes");
		const json_t *nd, *tid = json_array_get(json_object_get(rg, "target_ids"), 0);
		size_t n = json_array_size(nodes), j;
		int *map = xcalloc(n + 1, sizeof(*map)), grp = group_of(groups, d), t;

		json_array_foreach(nodes, j, nd) {
			char *key = node_key(nd);
			map[j] = rg_node(g, key, nd);
			free(key);
		}
		if (!n) {
			/* no referrer graph: the object alone */
			char *key = xasprintf("o:%llx", (unsigned long long)int_of(d, "object_id"));
			json_t *fake = json_pack("{s:s}", "name", str_of(d, "object_type_name", "?"));
			t = rg_node(g, key, fake);
			json_decref(fake);
			free(key);
		} else {
			t = json_is_integer(tid) && (size_t)json_integer_value(tid) < n ? map[json_integer_value(tid)] : -1;
		}
		if (t >= 0) {
			g->n[t].target = true;
			g->n[t].group = grp;
			free(g->n[t].label);
			g->n[t].label = xasprintf("%s at 0x%llx", str_of(d, "object_type_name", "?"),
						  (unsigned long long)int_of(d, "object_id"));
		}
		json_array_foreach(nodes, j, nd) {
			const char *name = str_of(nd, "name", ""), *comma = strstr(name, ", ");
			const json_t *r;
			size_t m;

			json_array_foreach(json_object_get(nd, "referent_ids"), m, r)
				if (json_is_integer(r) && (size_t)json_integer_value(r) < n)
					rg_edge(g, map[j], map[json_integer_value(r)],
						comma && json_is_integer(json_object_get(nd, "object_id")) ? comma + 2 :
													    NULL);
		}
		free(map);
	}
}

/* A holder's leaked children of one type and group, for graph_collapse: counted, and their "more" node. */
struct sibling_set {
	char *key; /* "more:HOLDER:GROUP:TYPE" */
	size_t count;
	int more;  /* the node standing for those not drawn, -1 */
};

/* FNV-1a of len bytes of s */
static uint64_t str_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

/* How much of a leaked object's label is its type: up to " at 0x". */
static size_t type_len(const char *label)
{
	const char *at = strstr(label, " at 0x");

	return at ? (size_t)(at - label) : strlen(label);
}

/*
 * More than GRAPH_MAX_SIBLINGS leaked objects of one type and leak group
 * under one holder, holding nothing drawn themselves: the first few stay,
 * the others become one node "... N more TYPE" (a cache of thousands stays
 * narrow; a dict's keys and its values, two groups, stay apart).
 */
static void graph_collapse(struct rgraph_r *g)
{
	size_t n0 = g->nn, ne0 = g->ne, nsets = 1;
	bool *gone = xcalloc(n0 + 1, sizeof(*gone)), *holds = xcalloc(n0 + 1, sizeof(*holds));
	struct sibling_set *sets;

	while (nsets < 2 * ne0 + 2)
		nsets *= 2;
	sets = xcalloc(nsets, sizeof(*sets));
	for (size_t i = 0; i < ne0; i++)
		holds[g->e[i].from] = true;
	/* one pass over the edges there were: each holder's leaked children beyond the first few */
	for (size_t i = 0; i < ne0; i++) {
		int p = g->e[i].from, c = g->e[i].to;
		const char *label;
		struct sibling_set *set;
		char *key;
		size_t j;

		if (p < 0 || !g->n[c].target || holds[c] || gone[c])
			continue;
		label = g->n[c].label;
		key = xasprintf("more:%d:%d:%.*s", p, g->n[c].group, (int)type_len(label), label);
		for (j = str_hash(key, strlen(key)) & (nsets - 1); sets[j].key && strcmp(sets[j].key, key); j = (j + 1) & (nsets - 1))
			;
		set = &sets[j];
		if (!set->key) {
			*set = (struct sibling_set){ key, 0, -1 };
			key = NULL;
		}
		free(key);
		if (set->count++ < GRAPH_MAX_SIBLINGS)
			continue;
		gone[c] = true;
		if (set->more < 0) {
			json_t *fake = json_pack("{s:s%}", "name", label, type_len(label));
			int m = rg_node(g, set->key, fake);

			json_decref(fake);
			if (m < 0) {
				gone[c] = false;
				continue;
			}
			set->more = m;
			g->n[m].target = true;
			g->n[m].group = g->n[c].group;
			rg_edge(g, p, m, NULL);
		}
		g->n[set->more].more++;
	}
	/* the collapsed nodes and their edges go */
	for (size_t i = 0; i < g->ne; i++)
		if (g->e[i].to >= 0 && (size_t)g->e[i].to < n0 && gone[g->e[i].to])
			g->e[i].from = g->e[i].to = -1;
	for (size_t i = 0; i < n0; i++)
		if (gone[i])
			g->n[i].key[0] = 0; /* not drawn */
	for (size_t j = 0; j < nsets; j++)
		free(sets[j].key);
	free(sets);
	free(gone);
	free(holds);
}

static void graph_release(struct rgraph_r *g)
{
	for (size_t i = 0; i < g->nn; i++) {
		free(g->n[i].key);
		free(g->n[i].label);
	}
	for (size_t i = 0; i < g->ne; i++)
		free(g->e[i].label);
	free(g->n);
	free(g->e);
}

/* A leaked object's colour, by its type (the label up to " at 0x"): the same type, the same colour. */
static const char *type_color(const char *label)
{
	static const char *const palette[] = { "orange", "gold", "salmon", "plum", "sandybrown", "lightcoral",
					       "wheat", "peachpuff" };
	return palette[str_hash(label, type_len(label)) % ARRAY_SIZE(palette)];
}

/* A group's cluster label: "5,011 × app.Response, 3.2 MiB retained", or with its types "1,113 objects: 371 × a, ..." */
static void cluster_label(FILE *f, const json_t *gr)
{
	const json_t *types = json_object_get(gr, "types"), *t;
	long long total = int_of(gr, "total_types");
	char a[48], b[48];
	size_t i;

	if (json_array_size(types) == 1 && total <= 1) {
		fprintf(f, "%s \u00d7 ", thousands(int_of(gr, "object_count"), a, sizeof(a)));
		dot_str(f, str_of(json_array_get(types, 0), "object_type", "?"));
	} else {
		fprintf(f, "%s objects:", thousands(int_of(gr, "object_count"), a, sizeof(a)));
		json_array_foreach(types, i, t) {
			if (i == 3)
				break;
			fprintf(f, "%s %s \u00d7 ", i ? "," : "", thousands(int_of(t, "count"), a, sizeof(a)));
			dot_str(f, str_of(t, "object_type", "?"));
		}
		if (MAX(total, (long long)json_array_size(types)) > 3)
			fprintf(f, " and %lld more types", MAX(total, (long long)json_array_size(types)) - 3);
	}
	fprintf(f, ", %s retained", render__human_bytes(int_of(gr, "retained_size_bytes"), b, sizeof(b)));
}

void render__graph_dot(FILE *f, const json_t *it)
{
	const json_t *groups = json_object_get(it, "leak_groups");
	struct rgraph_r g = { 0 };

	graph_build(&g, it);
	graph_collapse(&g);
	fprintf(f, "digraph memalot {\n\trankdir=LR;\n\tnewrank=true;\n\tlabel=\"");
	dot_str(f, str_of(it, "report_id", "?"));
	fprintf(f, ", iteration %lld: what holds the leaked objects (holders point to what they hold)%s\";\n",
		int_of(it, "iteration_number"), g.dropped ? " (more nodes than drawn)" : "");
	fprintf(f, "\tnode [shape=box, style=filled, fillcolor=white, fontname=\"Helvetica\", fontsize=10];\n"
		   "\tedge [fontname=\"Helvetica\", fontsize=9, color=gray40];\n");
	/* each leak group a cluster of its leaked objects, with its count and retained size */
	for (size_t grp = 0; grp <= json_array_size(groups); grp++) {
		const json_t *gr = json_array_get(groups, grp);
		bool any = false;

		for (size_t i = 0; i < g.nn; i++) {
			if (!g.n[i].key[0] || !g.n[i].target || g.n[i].group != (grp < json_array_size(groups) ? (int)grp : -1))
				continue;
			if (!any && gr) {
				fprintf(f, "\tsubgraph cluster_g%zu {\n\t\tstyle=\"rounded,filled\"; fillcolor=\"#fff4e0\"; "
					   "color=darkorange;\n\t\tlabel=\"", grp);
				cluster_label(f, gr);
				fprintf(f, "\";\n");
			}
			any = true;
			fprintf(f, "%sn%zu [label=\"", gr ? "\t\t" : "\t", i);
			if (g.n[i].more)
				fprintf(f, "... %ld more ", g.n[i].more);
			dot_str(f, g.n[i].label);
			fprintf(f, "\", fillcolor=\"%s\"];\n", type_color(g.n[i].label));
		}
		if (any && gr)
			fprintf(f, "\t}\n");
	}
	for (size_t i = 0; i < g.nn; i++) {
		if (!g.n[i].key[0] || g.n[i].target)
			continue;
		fprintf(f, "\tn%zu [label=\"", i);
		dot_str(f, g.n[i].label);
		fprintf(f, "\"%s%s%s];\n", g.n[i].kind ? ", shape=box, style=\"filled,bold\", fillcolor=" : "",
			g.n[i].kind ? root_color(g.n[i].kind) : "", "");
	}
	for (size_t i = 0; i < g.ne; i++) {
		if (g.e[i].from < 0)
			continue;
		fprintf(f, "\tn%d -> n%d", g.e[i].from, g.e[i].to);
		if (g.e[i].label) {
			fprintf(f, " [label=\"");
			dot_str(f, g.e[i].label);
			fprintf(f, "\"]");
		}
		fprintf(f, ";\n");
	}
	fprintf(f, "}\n");
	graph_release(&g);
}

static bool type_wanted(const char *name, char *const *types, size_t ntypes)
{
	for (size_t i = 0; name && i < ntypes; i++)
		if (strcasestr(name, types[i]))
			return true;
	return false;
}

long long render__alive_leaks(const json_t *iteration)
{
	const json_t *ls = json_object_get(iteration, "leak_summary"), *x = json_object_get(ls, "total_alive_objects");

	if (!json_is_integer(x))
		x = json_object_get(ls, "total_objects");
	return json_integer_value(x);
}

void render__filter_groups(json_t *iteration, char *const *types, size_t ntypes)
{
	json_t *groups = json_object_get(iteration, "leak_groups");

	if (!json_is_array(groups))
		return;
	/* a group stays whole (its count and retained size are the whole group's) if a type matches */
	for (size_t k = json_array_size(groups); k-- > 0;) {
		const json_t *t;
		bool wanted = false;
		size_t i;

		json_array_foreach(json_object_get(json_array_get(groups, k), "types"), i, t)
			wanted = wanted || type_wanted(json_string_value(json_object_get(t, "object_type")), types,
						       ntypes);
		if (!wanted) {
			json_t *d;
			size_t j;

			json_array_remove(groups, k);
			/* the details' leak_group indexes follow */
			json_array_foreach(json_object_get(iteration, "object_details_list"), j, d) {
				json_int_t lg = json_integer_value(json_object_get(d, "leak_group"));

				if (!json_is_integer(json_object_get(d, "leak_group")) || lg < (json_int_t)k)
					continue;
				json_object_set_new(d, "leak_group", json_integer(lg == (json_int_t)k ? -1 : lg - 1));
			}
		}
	}
	if (json_object_get(iteration, "total_leak_groups"))
		json_object_set_new(iteration, "total_leak_groups", json_integer((json_int_t)json_array_size(groups)));
}

json_t *render__filter_types(const json_t *iteration, char *const *types, size_t ntypes)
{
	json_t *it = json_deep_copy(iteration), *ls = json_object_get(it, "leak_summary");
	json_t *rows = json_object_get(ls, "type_summaries"), *details = json_object_get(it, "object_details_list");
	json_int_t total = 0;

	for (size_t k = json_array_size(rows); k-- > 0;) {
		const json_t *row = json_array_get(rows, k);
		if (type_wanted(json_string_value(json_object_get(row, "object_type")), types, ntypes))
			total += json_integer_value(json_object_get(row, "count"));
		else
			json_array_remove(rows, k);
	}
	for (size_t k = json_array_size(details); k-- > 0;)
		if (!type_wanted(json_string_value(json_object_get(json_array_get(details, k), "object_type_name")),
				 types, ntypes))
			json_array_remove(details, k);
	render__filter_groups(it, types, ntypes);
	if (ls) {
		json_object_set_new(ls, "total_objects", json_integer(total));
		json_object_set_new(ls, "total_types", json_integer((json_int_t)json_array_size(rows)));
		json_object_del(ls, "total_alive_objects"); /* counted over every type */
	}
	return it;
}
