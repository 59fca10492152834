/* SPDX-License-Identifier: MIT */
/* memalot attach finds the referrer issue's leak scenarios (tests/targets/attach_leak_*.py) in time, on every interpreter of the matrix. */
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

/*
 * memalot runs with a lifetime of 0.5 s and the default warm-up (the
 * lifetime) for two reports; each target keeps leaking one object every 0.1 s
 * after "ready", so the objects first seen in the first lifetime after the
 * warm-up are older than the lifetime at the second report. That report is
 * the latest one at which the issue allows a leak to be missing. (Half a
 * second, not 1 s: 168 runs of this file are a third of `make test`.)
 */
#define LIFETIME "0.5"
#define ITERATIONS 3
#define MAX_REPORTS 8
/* Longest text quoted in a failure message. */
#define TEXT_MAX 3000
#define MAX_EXPECT 2

/* One leaked type and what must keep it alive. */
struct expect {
	const char *type;          /* the exact object_type / object_type_name */
	const char *str_prefix;    /* only detailed objects whose object_str starts with this, or NULL */
	const char *root;          /* the exact label of one of its roots, or NULL */
	const char *root_kind;     /* the kind of a root, or NULL */
	const char *root_prefix;   /* that root's label starts with this (with root_kind) */
};

/* One leak scenario: a target and the types it leaks. */
struct scenario {
	const char *script;        /* in tests/targets/ */
	struct expect e[MAX_EXPECT];
};

/* The root labels are test_why.c's; a variant that keeps its leaks in a list names that list. */
static const struct scenario cache = {
	"attach_leak_cache.py",
	{ { "__main__.LeakedCacheEntry", NULL, "__main__._CACHE (global)", NULL, NULL } },
};
static const struct scenario handler_list = {
	"attach_leak_handler_list.py",
	{ { "__main__.LeakedRequest", NULL, "__main__.REQUESTS (global)", NULL, NULL } },
};
static const struct scenario class_registry = {
	"attach_leak_class_registry.py",
	{ { "__main__.Connection", NULL, "Connection._registry (class attribute)", NULL, NULL } },
};
static const struct scenario publisher = {
	"attach_leak_publisher.py",
	{ { "__main__.LeakedSubscriber", NULL, "__main__.publisher (global)", NULL, NULL } },
};
static const struct scenario closures = {
	"attach_leak_closures.py",
	{ { "__main__.LeakedBigObject", NULL, "__main__.HANDLERS (global)", NULL, NULL } },
};
/* str objects are untracked: memalot must find them as referents of NAMES */
static const struct scenario strings = {
	"attach_leak_strings.py",
	{ { "builtins.str", "'leaked-name-", "__main__.NAMES (global)", NULL, NULL } },
};
static const struct scenario native = {
	"attach_leak_native.py",
	{ { "__main__.LeakedNative", NULL, NULL, "native", "held by native code (1 references" } },
};
static const struct scenario lru_cache = {
	"attach_leak_lru_cache.py",
	{ { "__main__.LeakedResult", NULL, "__main__.compute (global)", NULL, NULL } },
};
static const struct scenario cycle_del = {
	"attach_leak_cycle_del.py",
	{ { "__main__.LeakedCycle", NULL,
	    "unreachable: only a reference cycle keeps it (the garbage collector has not freed it "
	    "yet; is gc disabled?)", "unreachable_cycle", NULL } },
};
static const struct scenario slots = {
	"attach_leak_slots.py",
	{ { "__main__.LeakedSlotted", NULL, "__main__.HOLDERS (global)", NULL, NULL } },
};
static const struct scenario managed_dict = {
	"attach_leak_managed_dict.py",
	{ { "__main__.LeakedInlineChild", NULL, "__main__.OWNERS (global)", NULL, NULL },
	  { "__main__.LeakedMaterialisedChild", NULL, "__main__.OWNERS (global)", NULL, NULL } },
};
/* the seed README's example: a local list of a function another thread is running */
static const struct scenario thread_local = {
	"attach_leak_thread_local.py",
	{ { "__main__.LeakedItem", NULL, NULL, "local", "worker.my_list (local) at attach_leak_thread_local.py:" } },
};

static const char *str_field(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "(none)";
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

/* "type count, ..." of a report's leak summary, into buf. */
static void summary(const json_t *rep, char *buf, size_t size)
{
	const json_t *ts = json_object_get(json_object_get(rep, "leak_summary"), "type_summaries"), *t;
	size_t i;

	buf[0] = 0;
	json_array_foreach(ts, i, t)
		append(buf, size, "%s%s %lld", i ? ", " : "", str_field(t, "object_type"),
		       (long long)json_integer_value(json_object_get(t, "count")));
	if (!buf[0])
		append(buf, size, "(no leaks)");
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

/* Whether a root of graph is what e asks for. */
static bool root_matches(const json_t *graph, const struct expect *e)
{
	const json_t *ids = json_object_get(graph, "root_ids"), *id;
	bool exact = !e->root, kind = !e->root_kind;
	size_t i;

	json_array_foreach(ids, i, id) {
		const json_t *n = graph_node(graph, json_integer_value(id));
		const char *name = n ? str_field(n, "name") : "";

		if (!n)
			continue;
		if (e->root && !strcmp(name, e->root))
			exact = true;
		if (e->root_kind && !strcmp(str_field(n, "kind"), e->root_kind) &&
		    (!e->root_prefix || !strncmp(name, e->root_prefix, strlen(e->root_prefix))))
			kind = true;
	}
	return exact && kind;
}

/* Whether the detailed object d is one that e is about. */
static bool is_candidate(const json_t *d, const struct expect *e)
{
	if (strcmp(str_field(d, "object_type_name"), e->type))
		return false;
	return !e->str_prefix || !strncmp(str_field(d, "object_str"), e->str_prefix, strlen(e->str_prefix));
}

/* "[kind] name; ..." for the roots of the first few candidates of a report, into buf. */
static void candidate_roots(const json_t *rep, const struct expect *e, char *buf, size_t size)
{
	const json_t *list = json_object_get(rep, "object_details_list"), *d;
	size_t i, shown = 0, total = 0, types = 0;

	json_array_foreach(list, i, d) {
		const json_t *g = json_object_get(d, "referrer_graph"), *id;
		size_t k;

		if (!strcmp(str_field(d, "object_type_name"), e->type))
			types++;
		if (!is_candidate(d, e))
			continue;
		if (total++ >= 2)
			continue;
		append(buf, size, "%sobject %s: roots ", shown++ ? "; " : "", str_field(d, "object_str"));
		json_array_foreach(json_object_get(g, "root_ids"), k, id) {
			const json_t *n = graph_node(g, json_integer_value(id));
			append(buf, size, "%s[%s] %s", k ? ", " : "", n ? str_field(n, "kind") : "?",
			       n ? str_field(n, "name") : "(no node with this id)");
		}
		if (!json_array_size(json_object_get(g, "root_ids")))
			append(buf, size, "(none)");
	}
	append(buf, size, "%s(%zu of %zu detailed objects are %s, %zu of them candidates)", shown ? " " : "",
	       types, json_array_size(list), e->type, total);
}

/* Whether some detailed candidate object of rep has the root e asks for. */
static bool has_expected_root(const json_t *rep, const struct expect *e)
{
	const json_t *list = json_object_get(rep, "object_details_list"), *d;
	size_t i;

	json_array_foreach(list, i, d)
		if (is_candidate(d, e) && root_matches(json_object_get(d, "referrer_graph"), e))
			return true;
	return false;
}

static void check(const char *label, const char *name, json_t *const *rep, size_t n, const struct expect *e)
{
	char text[TEXT_MAX], roots[TEXT_MAX];
	const char *want = e->root ? e->root : e->root_prefix;
	size_t first = n;
	bool rooted = false;

	for (size_t i = 0; i < n && first == n; i++)
		if (leak_count(rep[i], e->type) > 0)
			first = i;
	text[0] = 0;
	for (size_t i = 0; i < n; i++) {
		char s[TEXT_MAX / 2];

		summary(rep[i], s, sizeof(s));
		append(text, sizeof(text), "%sreport %zu: %s", i ? "; " : "", i + 1, s);
	}
	cr_log_info("%s %s: %s", label, name, text);
	if (first == n) {
		cr_expect_fail("%s %s: %s is not reported as a leak by report %zu (lifetime " LIFETIME " s, warm-up " LIFETIME " s); %s",
			       label, name, e->type, n, text);
		return;
	}
	roots[0] = 0;
	for (size_t i = first; i < n && !rooted; i++)
		rooted = has_expected_root(rep[i], e);
	if (!rooted)
		for (size_t i = first; i < n; i++) {
			append(roots, sizeof(roots), "%sreport %zu: ", i > first ? " | " : "", i + 1);
			candidate_roots(rep[i], e, roots, sizeof(roots));
		}
	cr_expect(rooted, "%s %s: %s is reported from report %zu on, but no detailed %s%s%s has the root %s%s%s'%s'%s; %s",
		  label, name, e->type, first + 1, e->type, e->str_prefix ? " starting " : "",
		  e->str_prefix ? e->str_prefix : "", e->root_kind ? "of kind '" : "",
		  e->root_kind ? e->root_kind : "", e->root_kind ? "' " : "", want,
		  e->root ? "" : "...", roots);
}

static void attach_leak(const char *label, const char *name, const struct scenario *sc)
{
	const struct interp *py = interp__get(label);
	char err[512], pidstr[16], *script;
	char *args[] = { "attach", pidstr, "--max-object-lifetime", LIFETIME, "--iterations", "3", "--json",
			 "--max-object-details", "30", NULL };
	json_t *rep[MAX_REPORTS];
	struct run_result r;
	struct target t;
	long long t0;
	size_t n;
	int ret;

	cr_assert_not_null(py, "unknown interpreter %s", label);
	if (py->skip)
		cr_skip_test("%s: %s", label, py->skip);
	script = interp__script(py, sc->script, err, sizeof(err));
	cr_assert_not_null(script, "%s %s: %s", label, name, err);
	ret = target__start(&t, py, script, NULL);
	cr_assert_eq(ret, 0, "%s %s: %s", label, name, t.err);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);

	t0 = harness__now_ms();
	ret = memalot__run(args, &r);
	cr_assert_eq(ret, 0, "%s %s: cannot run %s: %s", label, name, harness__memalot(), strerror(-ret));
	cr_log_info("%s %s: memalot attach took %lld ms", label, name, harness__now_ms() - t0);
	cr_assert(!r.timed_out, "%s %s: memalot attach timed out; stderr: %s", label, name, r.err);
	cr_assert_eq(r.status, 0, "%s %s: memalot attach exited with %d; stderr: %s", label, name, r.status,
		     r.err);
	{
		char what[128];
		snprintf(what, sizeof(what), "%s %s", label, name);
		n = json_lines(what, r.out, rep, MAX_REPORTS);
	}
	cr_assert_eq(n, ITERATIONS, "%s %s: %zu reports, not %d; stderr: %s", label, name, n, ITERATIONS, r.err);

	for (int k = 0; k < MAX_EXPECT && sc->e[k].type; k++)
		check(label, name, rep, n, &sc->e[k]);

	ret = target__stop(&t);
	cr_expect_eq(ret, 0, "%s %s: the target ended with status %d after memalot attach %s", label, name,
		     ret, t.err);
	for (size_t i = 0; i < n; i++)
		json_decref(rep[i]);
	run_result__release(&r);
	free(script);
}

#define LEAK(sc, id, label) \
	Test(attach_leak_##sc, id, .fini = harness__cleanup, .timeout = 180) { attach_leak(label, #sc, &sc); }
#define LEAK_MATRIX(sc) \
	LEAK(sc, pyenv_3_8, "pyenv-3.8") \
	LEAK(sc, pyenv_3_9, "pyenv-3.9") \
	LEAK(sc, pyenv_3_10, "pyenv-3.10") \
	LEAK(sc, pyenv_3_11, "pyenv-3.11") \
	LEAK(sc, pyenv_3_12, "pyenv-3.12") \
	LEAK(sc, pyenv_3_13, "pyenv-3.13") \
	LEAK(sc, debian_3_11, "debian-3.11") \
	LEAK(sc, debian_3_11d, "debian-3.11d") \
	LEAK(sc, sid_3_13, "sid-3.13") \
	LEAK(sc, sid_3_13d, "sid-3.13d") \
	LEAK(sc, sid_3_14, "sid-3.14") \
	LEAK(sc, sid_3_14d, "sid-3.14d") \
	LEAK(sc, sid_3_15, "sid-3.15") \
	LEAK(sc, sid_3_15d, "sid-3.15d")

LEAK_MATRIX(cache)
LEAK_MATRIX(handler_list)
LEAK_MATRIX(class_registry)
LEAK_MATRIX(publisher)
LEAK_MATRIX(closures)
LEAK_MATRIX(strings)
LEAK_MATRIX(native)
LEAK_MATRIX(lru_cache)
LEAK_MATRIX(cycle_del)
LEAK_MATRIX(slots)
LEAK_MATRIX(managed_dict)
LEAK_MATRIX(thread_local)
