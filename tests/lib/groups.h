/* SPDX-License-Identifier: MIT */
/*
 * For Criterion tests of leak groups: memalot attach on
 * tests/targets/leak_groups.py (a module-level cache dict that gets 5,000
 * objects and a list local to a running thread that gets 200, once memalot's
 * first report is out), and the check of the leak_groups of its reports,
 * live, printed or served over MCP.
 */
#ifndef MEMALOT_TEST_GROUPS_H
#define MEMALOT_TEST_GROUPS_H

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../reports/store.h"
#include "harness.h"
#include "start.h"

#define GROUPS_SCRIPT "leak_groups.py"
#define GROUPS_CACHE_COUNT 5000
#define GROUPS_QUEUE_COUNT 200
#define GROUPS_CACHE_ROOT "__main__._RESPONSE_CACHE (global)"
#define GROUPS_CACHE_PATH GROUPS_CACHE_ROOT " \u2192 dict[*]"
#define GROUPS_CACHE_TYPE "__main__.CachedResponse"
#define GROUPS_QUEUE_ROOT "worker.items (local) at leak_groups.py:"
#define GROUPS_QUEUE_TYPE "__main__.QueuedItem"
/*
 * Reports: the first, then the target fills its cache and list; with a
 * lifetime of 1 s and checks every 0.2 s the objects are leaks 1 s and four
 * checks later, in the second or third report; two more for a slow machine.
 */
#define GROUPS_ITERATIONS "5"
#define GROUPS_MAX_REPORTS 8

/* One run of memalot attach on leak_groups.py. */
struct groups_run {
	struct target t;          /* still running after groups_run__start */
	struct run_result r;      /* memalot attach's output */
	json_t *rep[GROUPS_MAX_REPORTS];
	size_t n;
	long long sum;            /* sys.getsizeof summed over the cached objects, as the target said */
	unsigned long long dict;  /* id(_RESPONSE_CACHE) */
};

/*
 * Start leak_groups.py under label's interpreter and memalot attach --json on
 * it (saving under report_dir, or --no-save-reports when NULL), its leaks
 * taken among the target's own types (--included-type-names __main__.: the
 * interpreter's objects are the churn tests' business, the grouping of
 * known leaks this one's); once memalot
 * has printed its first report, have the target fill its cache and list;
 * then wait for memalot's last report. The target is left running.
 */
static inline void groups_run__start_details(struct groups_run *g, const char *label, const char *report_dir,
					     const char *details)
{
	char pidstr[16], reply[256];
	char *argv[] = { (char *)harness__memalot(), "attach", pidstr, "--max-object-lifetime", "1",
			 "--check-interval", "0.2", "--iterations", GROUPS_ITERATIONS, "--json",
			 "--max-object-details", (char *)details, "--included-type-names", "__main__.",
			 report_dir ? "--report-directory" : "--no-save-reports",
			 (char *)report_dir, NULL };
	struct bgrun m;
	bool first = false;
	int ret;

	memset(g, 0, sizeof(*g));
	start_target(&g->t, label, GROUPS_SCRIPT, NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)g->t.pid);
	cr_assert_eq(bgrun__start(&m, argv, NULL), 0, "%s: cannot start memalot attach", label);
	/* the first report: a whole line on memalot's stdout */
	for (int i = 0; i < 1200 && !first; i++) {
		char buf[65536];
		ssize_t k = pread(m.out_fd, buf, sizeof(buf) - 1, 0);

		first = k > 0 && memchr(buf, '\n', (size_t)k);
		if (!first && bgrun__exited(&m, 50))
			break;
	}
	if (!first) {
		bgrun__wait(&m, 10000, &g->r);
		cr_assert_fail("%s: memalot attach printed no report within a minute (exit %d): %s", label,
			       g->r.status, g->r.err);
	}
	ret = target__request(&g->t, "fill\n", reply, sizeof(reply), 60000);
	cr_assert_eq(ret, 0, "%s: the target did not fill its cache: %s", label, strerror(-ret));
	cr_assert_eq(sscanf(reply, "filled %lld %llu", &g->sum, &g->dict), 2, "%s: the target answered '%s'", label,
		     reply);
	cr_assert_eq(bgrun__wait(&m, 120000, &g->r), 0);
	cr_assert(!g->r.timed_out, "%s: memalot attach did not end after %s reports: %s", label,
		  GROUPS_ITERATIONS, g->r.err);
	cr_assert_eq(g->r.status, 0, "%s: memalot attach exited %d: %s", label, g->r.status, g->r.err);
	g->n = json_lines(label, g->r.out, g->rep, GROUPS_MAX_REPORTS);
	cr_assert_eq(g->n, (size_t)atoi(GROUPS_ITERATIONS), "%s: %zu reports, not %s: %s", label, g->n,
		     GROUPS_ITERATIONS, g->r.err);
}

/* groups_run__start_details with 10 object details */
static inline void groups_run__start(struct groups_run *g, const char *label, const char *report_dir)
{
	groups_run__start_details(g, label, report_dir, "10");
}

static inline void groups_run__release(struct groups_run *g)
{
	for (size_t i = 0; i < g->n; i++)
		json_decref(g->rep[i]);
	run_result__release(&g->r);
}

static inline const char *groups__str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "(none)";
}

/* "path: N objects, B bytes; ..." for a failure message, into buf. */
static inline void groups__describe(json_t *const *rep, size_t n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && len + 1 < size; i++) {
		const json_t *g;
		size_t k;

		len += (size_t)snprintf(buf + len, size - len, "%sreport %zu: ", i ? " | " : "", i + 1);
		json_array_foreach(json_object_get(rep[i], "leak_groups"), k, g) {
			if (len + 1 >= size)
				break;
			len += (size_t)snprintf(buf + len, size - len, "%s%s: %lld objects, %lld bytes", k ? "; " : "",
						groups__str(g, "path"),
						(long long)json_integer_value(json_object_get(g, "object_count")),
						(long long)json_integer_value(json_object_get(g, "retained_size_bytes")));
		}
	}
}

/*
 * The leak_groups of the reports rep[n] of a groups_run (what: where they
 * come from, for messages): the first report has none; over all of them
 * exactly two groups, the cache's (GROUPS_CACHE_PATH, 5,000 CachedResponse)
 * and the thread's list's ("worker.items (local) at leak_groups.py:N →
 * list[*]", 200 QueuedItem), each report's sorted by retained bytes, the
 * cache's retaining at least sum bytes (the getsizeof of its objects). A
 * group's objects normally are leaks in one report; where a check fell in
 * the middle of the fill, their counts add up over two.
 */
static inline void groups__check(const char *what, json_t *const *rep, size_t n, long long sum)
{
	long long cache = 0, queue = 0, cache_bytes = 0;
	char text[4000];

	groups__describe(rep, n, text, sizeof(text));
	cr_log_info("%s: %s", what, text);
	cr_assert_gt(n, 0, "%s: no reports", what);
	cr_assert_eq(json_array_size(json_object_get(rep[0], "leak_groups")), 0,
		     "%s: groups in the first report, before the target made anything: %s", what, text);
	for (size_t i = 0; i < n; i++) {
		const json_t *groups = json_object_get(rep[i], "leak_groups"), *g, *details, *d;
		long long last = -1;
		bool detailed_cache = false, detailed_queue = false, have_cache = false, have_queue = false;
		size_t k;

		cr_assert(json_is_array(groups), "%s: report %zu has no leak_groups list", what, i + 1);
		cr_assert_eq(json_integer_value(json_object_get(rep[i], "total_leak_groups")),
			     (json_int_t)json_array_size(groups), "%s: report %zu: total_leak_groups", what, i + 1);
		json_array_foreach(groups, k, g) {
			const char *path = groups__str(g, "path"), *root = groups__str(g, "root");
			const json_t *types = json_object_get(g, "types"), *t0 = json_array_get(types, 0);
			long long count = json_integer_value(json_object_get(g, "object_count"));
			long long bytes = json_integer_value(json_object_get(g, "retained_size_bytes"));
			bool is_cache = !strcmp(path, GROUPS_CACHE_PATH);
			char queue_path[256];

			snprintf(queue_path, sizeof(queue_path), "%s \u2192 list[*]", root);
			cr_assert(json_is_integer(json_object_get(g, "object_count")) &&
				  json_is_integer(json_object_get(g, "retained_size_bytes")) &&
				  json_is_boolean(json_object_get(g, "retained_size_exact")) && json_is_array(types),
				  "%s: report %zu, group %zu lacks a member: %s", what, i + 1, k + 1,
				  json_dumps(g, JSON_COMPACT));
			cr_assert(last < 0 || bytes <= last, "%s: report %zu: groups not sorted by retained bytes: %s",
				  what, i + 1, text);
			last = bytes;
			if (is_cache) {
				cr_assert_str_eq(root, GROUPS_CACHE_ROOT, "%s: the cache group's root", what);
				cr_assert_str_eq(groups__str(g, "root_kind"), "global", "%s: the cache's root kind", what);
				cr_assert_str_eq(groups__str(t0, "object_type"), GROUPS_CACHE_TYPE, "%s: %s", what, text);
				cache += count;
				cache_bytes += bytes;
				have_cache = true;
			} else {
				cr_assert(!strncmp(root, GROUPS_QUEUE_ROOT, strlen(GROUPS_QUEUE_ROOT)) &&
					  !strcmp(path, queue_path),
					  "%s: report %zu has a group that is neither the cache's (%s) nor the "
					  "thread's (%s... \u2192 list[*]): %s", what, i + 1, GROUPS_CACHE_PATH,
					  GROUPS_QUEUE_ROOT, text);
				cr_assert_str_eq(groups__str(g, "root_kind"), "local", "%s: the list's root kind", what);
				cr_assert_str_eq(groups__str(t0, "object_type"), GROUPS_QUEUE_TYPE, "%s: %s", what, text);
				queue += count;
				have_queue = true;
			}
			cr_assert_eq(json_array_size(types), 1, "%s: group %s has %zu types", what, path,
				     json_array_size(types));
			cr_assert_eq(json_integer_value(json_object_get(t0, "count")), count,
				     "%s: group %s: its type's count is not its object count", what, path);
		}
		/* details: at least one of each group, each with its retained size */
		details = json_object_get(rep[i], "object_details_list");
		json_array_foreach(details, k, d) {
			const char *type = groups__str(d, "object_type_name");

			cr_assert(json_is_integer(json_object_get(d, "retained_size_bytes")) &&
				  json_integer_value(json_object_get(d, "retained_size_bytes")) >=
				  json_integer_value(json_object_get(d, "shallow_size_bytes")),
				  "%s: report %zu: a detail's retained size: %s", what, i + 1, json_dumps(d, JSON_COMPACT));
			cr_assert(json_is_boolean(json_object_get(d, "deep_size_complete")) &&
				  json_is_integer(json_object_get(d, "deep_size_objects")),
				  "%s: report %zu: a detail without deep_size_complete/objects", what, i + 1);
			detailed_cache |= !strcmp(type, GROUPS_CACHE_TYPE);
			detailed_queue |= !strcmp(type, GROUPS_QUEUE_TYPE);
		}
		cr_assert(detailed_cache == have_cache && detailed_queue == have_queue,
			  "%s: report %zu: not one detailed object per group (cache %d/%d, list %d/%d)", what, i + 1,
			  detailed_cache, have_cache, detailed_queue, have_queue);
	}
	cr_assert_eq(cache, GROUPS_CACHE_COUNT, "%s: the cache's group has %lld objects, not %d: %s", what, cache,
		     GROUPS_CACHE_COUNT, text);
	cr_assert_eq(queue, GROUPS_QUEUE_COUNT, "%s: the thread's list's group has %lld objects, not %d: %s", what,
		     queue, GROUPS_QUEUE_COUNT, text);
	cr_assert_geq(cache_bytes, sum, "%s: the cache's group retains %lld bytes, less than the %lld bytes of "
		      "sys.getsizeof of its objects", what, cache_bytes, sum);
}

/* ------------------------------------------------------------ reports of schema 1.0 */

/* Write doc, encoded for kind, to path with schema_minor 0 in its envelope, as memalot before 1.1 did. */
static inline void groups__write_1_0(const char *path, const json_t *doc, const char *kind)
{
	static const char key[] = "\xac" "schema_minor"; /* fixstr of 12 bytes, then a positive fixint */
	size_t len;
	unsigned char *buf = store__encode(doc, kind, &len), *p;
	FILE *f;

	p = memmem(buf, len, key, sizeof(key) - 1);
	cr_assert(p && p + sizeof(key) - 1 < buf + len && p[sizeof(key) - 1] == STORE_SCHEMA_MINOR,
		  "no schema_minor %d in the envelope", STORE_SCHEMA_MINOR);
	p[sizeof(key) - 1] = 0;
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	free(buf);
}

/*
 * A report as memalot wrote it before schema 1.1, under root: no leak_groups
 * and no retained or bounded deep sizes; one iteration with a
 * __main__.Session leak and its details. Its ID into id.
 */
static inline void groups__report_1_0(const char *root, char *id)
{
	struct store_session ss;
	char err[256], *path;
	json_t *summary, *it;

	cr_assert_eq(store__create(root, &ss, err, sizeof(err)), 0, "%s", err);
	summary = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:s}", "report_id", ss.id, "pid",
			    4242, "command", "python3 old.py", "executable", "/usr/bin/python3", "python_version",
			    "3.12.1", "host_name", "test", "start_time", "2026-01-01T00:00:00Z", "memalot_version",
			    "0.9", "max_object_lifetime", 1.0, "check_interval", 0.2, "warmup_time", 1.0,
			    "schema_version", "1.0");
	it = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:f, s:{s:i, s:i, s:i, s:i},"
		       " s:{s:[{s:s, s:i, s:n}], s:i, s:i, s:b},"
		       " s:[{s:s, s:I, s:s, s:i, s:i, s:b, s:n}], s:i, s:i}",
		       "report_id", ss.id, "iteration_number", 1, "pid", 4242, "command", "python3 old.py",
		       "start_time", "2026-01-01T00:00:00Z", "end_time", "2026-01-01T00:00:01Z", "max_object_lifetime",
		       1.0, "memory_usage", "rss_bytes", 1048576, "peak_rss_bytes", 1048576, "rss_change_bytes", 0,
		       "peak_rss_change_bytes", 0, "leak_summary", "type_summaries", "object_type", "__main__.Session",
		       "count", 7, "shallow_size_bytes", "total_objects", 7, "total_types", 1, "size_computed", 0,
		       "object_details_list", "object_type_name", "__main__.Session", "object_id",
		       (json_int_t)0x7f0000001000LL, "object_str", "<__main__.Session object>", "shallow_size_bytes",
		       56, "deep_size_bytes", 56, "referrers_checked", 0, "referrer_graph", "details_matched_objects",
		       7, "details_matched_types", 1);
	cr_assert(summary && it, "json_pack");
	path = xasprintf("%s/summary.msgpack", ss.path);
	groups__write_1_0(path, summary, "summary");
	free(path);
	path = xasprintf("%s/iteration_000001.msgpack", ss.path);
	groups__write_1_0(path, it, "iteration");
	free(path);
	snprintf(id, STORE_ID_LEN + 1, "%s", ss.id);
	json_decref(summary);
	json_decref(it);
	store__close(&ss);
}

#endif
