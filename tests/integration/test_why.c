/* SPDX-License-Identifier: MIT */
/* memalot snapshot --why on the leak scenarios of tests/targets/why_*.py, on every interpreter of the matrix. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "../lib/start.h"

/* Longest list of node names quoted in a failure message. */
#define NAMES_MAX 6000
#define MAX_FRAGMENTS 4

/* One leak scenario: a target, what to ask memalot, and what it must answer. */
struct scenario {
	const char *script;        /* in tests/targets/ */
	const char *why;           /* --why TYPE, or NULL for --object with the id on the ready line */
	const char *max_details;   /* --max-object-details, NULL for the default */
	const char *type;          /* the object_type_name of the object checked */
	const char *object_str;    /* check the object with this object_str, not the first one */
	const char *root;          /* the exact label of one of its roots, or NULL */
	const char *root_kind;     /* the kind of a root, or NULL */
	const char *root_prefix;   /* that root's label starts with this (with root_kind) */
	bool no_root;              /* unreachable: no root may say what keeps it alive */
	const char *fragments[MAX_FRAGMENTS]; /* each in the name of some node of the graph */
};

static const struct scenario cache = {
	"why_cache.py", "LeakedCacheEntry", NULL, "__main__.LeakedCacheEntry", NULL,
	"__main__._CACHE (global)", NULL, NULL, false, { "dict key='user:" },
};
static const struct scenario handler_list = {
	"why_handler_list.py", "LeakedRequest", NULL, "__main__.LeakedRequest", NULL,
	"__main__.REQUESTS (global)", NULL, NULL, false, { "list index=" },
};
/* "Connection" alone would also match builtins such as ConnectionError */
static const struct scenario class_registry = {
	"why_class_registry.py", "__main__.Connection", NULL, "__main__.Connection", NULL,
	"Connection._registry (class attribute)", NULL, NULL, false, { "list index=" },
};
static const struct scenario publisher = {
	"why_publisher.py", "LeakedSubscriber", NULL, "__main__.LeakedSubscriber", NULL,
	"__main__.publisher (global)", NULL, NULL, false,
	{ "bound method __self__", "Publisher._handlers (instance attribute)" },
};
static const struct scenario closures = {
	"why_closures.py", "LeakedBigObject", NULL, "__main__.LeakedBigObject", NULL,
	"__main__.HANDLERS (global)", NULL, NULL, false,
	{ "make_handler.<locals>.handler.big (closure)", "function __closure__", "list index=" },
};
/*
 * str objects are untracked: memalot must find them as referents of NAMES.
 * --why builtins.str would list thousands of interned names first, so the
 * target says which string (id(NAMES[7])) and the test asks with --object.
 */
static const struct scenario strings = {
	"why_strings.py", NULL, NULL, "builtins.str", "'leaked-name-7'",
	"__main__.NAMES (global)", NULL, NULL, false, { "list index=7" },
};
static const struct scenario native = {
	"why_native.py", "LeakedNative", NULL, "__main__.LeakedNative", NULL,
	NULL, "native", "held by native code (1 references", false, { NULL },
};
static const struct scenario lru_cache = {
	"why_lru_cache.py", "LeakedResult", NULL, "__main__.LeakedResult", NULL,
	"__main__.compute (global)", NULL, NULL, false, { "_lru_cache_wrapper.cache", "dict key=" },
};
static const struct scenario cycle_del = {
	"why_cycle_del.py", "LeakedCycle", NULL, "__main__.LeakedCycle", NULL,
	"unreachable: only a reference cycle keeps it (the garbage collector has not freed it "
	"yet; is gc disabled?)", "unreachable_cycle", NULL, true,
	{ "LeakedCycle.other (instance attribute)" },
};
/* a local of the main thread, blocked at a known line */
static const struct scenario main_local = {
	"why_main_local.py", "LeakedMainItem", NULL, "__main__.LeakedMainItem", NULL,
	"main.keep (local) at why_main_local.py:16", NULL, NULL, false, { "list index=" },
};
/* the seed README's example: a local list of a function another thread is running */
static const struct scenario thread_local = {
	"why_thread_local.py", "LeakedItem", NULL, "__main__.LeakedItem", NULL,
	NULL, "local", "worker.my_list (local) at why_thread_local.py:", false, { "list index=" },
};
static const struct scenario slots = {
	"why_slots.py", "LeakedSlotted", NULL, "__main__.LeakedSlotted", NULL,
	"__main__.HOLDER (global)", NULL, NULL, false, { "LeakedSlotHolder.item (slot)" },
};
static const struct scenario managed_dict = {
	"why_managed_dict.py", "LeakedInlineChild", NULL, "__main__.LeakedInlineChild", NULL,
	"__main__.OWNER (global)", NULL, NULL, false, { "Owner.child (instance attribute)" },
};
static const struct scenario materialised_dict = {
	"why_managed_dict.py", "LeakedMaterialisedChild", NULL, "__main__.LeakedMaterialisedChild",
	NULL, "__main__.OWNER2 (global)", NULL, NULL, false, { "Owner.child2 (instance attribute)" },
};

/* a suspended generator's frame keeps its locals (a frame object of its own up to 3.10) */
static const struct scenario generator = {
	"why_generator.py", "LeakedHeld", NULL, "__main__.LeakedHeld", NULL,
	"__main__.G (global)", NULL, NULL, false, { "local 'items'", "list index=" },
};

/* Root kinds that claim the object is reachable: wrong for an unreachable cycle. */
static const char *const reachable_kinds[] = {
	"global", "class_attribute", "local", "closure", "native", "sys_modules", "gc_garbage",
	"permanent",
};

static const char *str_field(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "(none)";
}

/* The node of graph whose "id" is id, or NULL. */
static const json_t *graph_node(const json_t *graph, json_int_t id)
{
	const json_t *nodes = json_object_get(graph, "graph_nodes"), *n;
	size_t i;

	json_array_foreach(nodes, i, n)
		if (json_is_integer(json_object_get(n, "id")) &&
		    json_integer_value(json_object_get(n, "id")) == id)
			return n;
	return NULL;
}

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* "[kind] name; ..." for the roots of graph, into buf. */
static void root_names(const json_t *graph, char *buf, size_t size)
{
	const json_t *ids = json_object_get(graph, "root_ids"), *id;
	size_t i;

	buf[0] = 0;
	json_array_foreach(ids, i, id) {
		const json_t *n = graph_node(graph, json_integer_value(id));
		append(buf, size, "%s[%s] %s", i ? "; " : "", n ? str_field(n, "kind") : "?",
		       n ? str_field(n, "name") : "(no node with this id)");
	}
	if (!buf[0])
		append(buf, size, "(none)");
}

/* Every node name of graph, " | "-separated, into buf. */
static void all_names(const json_t *graph, char *buf, size_t size)
{
	const json_t *nodes = json_object_get(graph, "graph_nodes"), *n;
	size_t i;

	buf[0] = 0;
	json_array_foreach(nodes, i, n)
		append(buf, size, "%s%s", i ? " | " : "", str_field(n, "name"));
	if (!buf[0])
		append(buf, size, "(no nodes)");
}

/* Whether a root of graph is called name exactly. */
static bool has_root(const json_t *graph, const char *name)
{
	const json_t *ids = json_object_get(graph, "root_ids"), *id;
	size_t i;

	json_array_foreach(ids, i, id) {
		const json_t *n = graph_node(graph, json_integer_value(id));
		if (n && !strcmp(str_field(n, "name"), name))
			return true;
	}
	return false;
}

/* Whether a root of graph is of kind and its name starts with prefix. */
static bool has_root_kind(const json_t *graph, const char *kind, const char *prefix)
{
	const json_t *ids = json_object_get(graph, "root_ids"), *id;
	size_t i;

	json_array_foreach(ids, i, id) {
		const json_t *n = graph_node(graph, json_integer_value(id));
		if (n && !strcmp(str_field(n, "kind"), kind) &&
		    (!prefix || !strncmp(str_field(n, "name"), prefix, strlen(prefix))))
			return true;
	}
	return false;
}

/* The first root of graph whose kind says the object is reachable, or NULL. */
static const json_t *reachable_root(const json_t *graph)
{
	const json_t *ids = json_object_get(graph, "root_ids"), *id;
	size_t i;

	json_array_foreach(ids, i, id) {
		const json_t *n = graph_node(graph, json_integer_value(id));
		if (!n)
			continue;
		for (size_t k = 0; k < sizeof(reachable_kinds) / sizeof(*reachable_kinds); k++)
			if (!strcmp(str_field(n, "kind"), reachable_kinds[k]))
				return n;
	}
	return NULL;
}

/* Whether some node of graph has fragment in its name. */
static bool has_fragment(const json_t *graph, const char *fragment)
{
	const json_t *nodes = json_object_get(graph, "graph_nodes"), *n;
	size_t i;

	json_array_foreach(nodes, i, n)
		if (strstr(str_field(n, "name"), fragment))
			return true;
	return false;
}

/* The detailed object to check: the first, or the one whose object_str is want. */
static const json_t *pick_object(const json_t *details, const char *want)
{
	const json_t *d;
	size_t i;

	if (!want)
		return json_array_get(details, 0);
	json_array_foreach(details, i, d)
		if (!strcmp(str_field(d, "object_str"), want))
			return d;
	return NULL;
}

/*
 * Start the scenario's target under the interpreter called label, run
 * memalot snapshot --json --why on it, and check the referrer graph of the
 * object the scenario names.
 */
static void why(const char *label, const char *name, const struct scenario *sc)
{
	const struct interp *py = interp__get(label);
	char err[512], pidstr[16], *script;
	char *args[] = { "snapshot", pidstr, "--json", "--why", (char *)sc->why, "--max-object-details",
			 (char *)sc->max_details, NULL };
	static char roots[NAMES_MAX], names[NAMES_MAX];
	const json_t *details, *obj, *graph, *bad;
	struct run_result r;
	struct target t;
	json_error_t jerr;
	json_t *snap;
	int ret;

	cr_assert_not_null(py, "no interpreter called '%s' in the matrix", label);
	if (py->skip)
		cr_skip_test("%s: %s", label, py->skip);
	script = interp__script(py, sc->script, err, sizeof(err));
	cr_assert_not_null(script, "%s %s: %s", label, name, err);
	ret = target__start(&t, py, script, NULL);
	cr_assert_eq(ret, 0, "%s %s: %s", label, name, t.err);

	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	if (!sc->max_details)
		args[5] = NULL;
	if (!sc->why) {
		char *id = strchr(t.ready, ' ');
		cr_assert_not_null(id, "%s %s: no id on the ready line '%s'", label, name, t.ready);
		args[3] = "--object";
		args[4] = id + 1;
	}
	ret = memalot__run(args, &r);
	cr_assert_eq(ret, 0, "%s %s: cannot run %s: %s", label, name, harness__memalot(), strerror(-ret));
	assert_running_free(t.pid, name);
	cr_assert(!r.timed_out, "%s %s: memalot timed out after %d s; stderr: %s", label, name,
		  RUN_TIMEOUT, r.err);
	cr_assert_eq(r.status, 0, "%s %s: memalot exited %d; stderr: %s", label, name, r.status, r.err);
	snap = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(snap, "%s %s: memalot printed no JSON (%s): %.200s", label, name, jerr.text,
			   r.out);

	details = json_object_get(snap, "object_details");
	cr_assert(json_is_array(details), "%s %s: no \"object_details\" list in the JSON", label, name);
	cr_assert_gt(json_array_size(details), 0, "%s %s: --why %s detailed no object (layout %s)", label,
		     name, sc->why, str_field(snap, "layout_source"));
	obj = pick_object(details, sc->object_str);
	if (!obj) {
		const json_t *d;
		size_t i;

		names[0] = 0;
		json_array_foreach(details, i, d) {
			if (i == 10)
				break;
			append(names, sizeof(names), "%s%s", i ? ", " : "", str_field(d, "object_str"));
		}
		cr_assert_fail("%s %s: no object detailed with object_str %s among %zu objects of "
			       "--why %s (the first ones: %s)", label, name, sc->object_str,
			       json_array_size(details), sc->why, names);
	}
	cr_assert_str_eq(str_field(obj, "object_type_name"), sc->type,
			 "%s %s: the object detailed is a %s, not a %s", label, name,
			 str_field(obj, "object_type_name"), sc->type);
	cr_assert(json_is_true(json_object_get(obj, "referrers_checked")),
		  "%s %s: referrers not checked", label, name);
	graph = json_object_get(obj, "referrer_graph");
	cr_assert(json_is_object(graph), "%s %s: no referrer_graph", label, name);
	cr_assert_gt(json_array_size(json_object_get(graph, "target_ids")), 0, "%s %s: no target_ids",
		     label, name);

	root_names(graph, roots, sizeof(roots));
	all_names(graph, names, sizeof(names));
	cr_log_info("%s %s: roots: %s", label, name, roots);
	if (sc->no_root)
		cr_log_info("%s %s: graph nodes (stopped_by_limit %s): %s", label, name,
			    json_is_true(json_object_get(graph, "stopped_by_limit")) ? "true" : "false",
			    names);

	if (sc->root)
		cr_expect(has_root(graph, sc->root), "%s %s: no root called '%s'; roots: %s; nodes: %s",
			  label, name, sc->root, roots, names);
	if (sc->root_kind)
		cr_expect(has_root_kind(graph, sc->root_kind, sc->root_prefix),
			  "%s %s: no root of kind '%s' called '%s...'; roots: %s; nodes: %s", label, name,
			  sc->root_kind, sc->root_prefix ? sc->root_prefix : "", roots, names);
	if (sc->no_root) {
		bad = reachable_root(graph);
		cr_expect_null(bad, "%s %s: an unreachable cycle has the root [%s] '%s'; roots: %s; nodes: %s",
			       label, name, bad ? str_field(bad, "kind") : "", bad ? str_field(bad, "name") : "",
			       roots, names);
	}
	for (int k = 0; k < MAX_FRAGMENTS && sc->fragments[k]; k++)
		cr_expect(has_fragment(graph, sc->fragments[k]),
			  "%s %s: no node name contains \"%s\"; nodes: %s", label, name, sc->fragments[k],
			  names);

	ret = target__stop(&t);
	cr_assert_eq(ret, 0, "%s %s: the target ended with status %d after the snapshot %s", label, name,
		     ret, t.err);
	json_decref(snap);
	run_result__release(&r);
	free(script);
}

#define WHY(sc, id, label) \
	Test(why_##sc, id, .fini = harness__cleanup, .timeout = 300) { why(label, #sc, &sc); }
#define WHY_MATRIX(sc) \
	WHY(sc, pyenv_3_8, "pyenv-3.8") \
	WHY(sc, pyenv_3_9, "pyenv-3.9") \
	WHY(sc, pyenv_3_10, "pyenv-3.10") \
	WHY(sc, pyenv_3_11, "pyenv-3.11") \
	WHY(sc, pyenv_3_12, "pyenv-3.12") \
	WHY(sc, pyenv_3_13, "pyenv-3.13") \
	WHY(sc, debian_3_11, "debian-3.11") \
	WHY(sc, debian_3_11d, "debian-3.11d") \
	WHY(sc, sid_3_13, "sid-3.13") \
	WHY(sc, sid_3_13d, "sid-3.13d") \
	WHY(sc, sid_3_14, "sid-3.14") \
	WHY(sc, sid_3_14d, "sid-3.14d") \
	WHY(sc, sid_3_15, "sid-3.15") \
	WHY(sc, sid_3_15d, "sid-3.15d")

WHY_MATRIX(cache)
WHY_MATRIX(handler_list)
WHY_MATRIX(class_registry)
WHY_MATRIX(publisher)
WHY_MATRIX(closures)
WHY_MATRIX(strings)
WHY_MATRIX(generator)
WHY_MATRIX(thread_local)
WHY_MATRIX(main_local)
WHY_MATRIX(native)
WHY_MATRIX(lru_cache)
WHY_MATRIX(cycle_del)
WHY_MATRIX(slots)
WHY_MATRIX(managed_dict)
WHY_MATRIX(materialised_dict)
