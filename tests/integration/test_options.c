/* SPDX-License-Identifier: MIT */
/*
 * The options the README names do what it says they do: attach's run and
 * report options, snapshot's census and --why options. One target
 * (leaky_app.py) under the default interpreter: the point is the options,
 * not the matrix.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "../lib/start.h"

/* Run memalot with args, whose element 1 is the target's pid (filled in here). */
static void run_on(const struct target *t, char *args[], struct run_result *r)
{
	char pidstr[16];

	snprintf(pidstr, sizeof(pidstr), "%d", (int)t->pid);
	args[1] = pidstr;
	cr_assert_eq(memalot__run(args, r), 0);
	args[1] = NULL;
	cr_assert(!r->timed_out, "memalot timed out: %s", r->err);
}

/*
 * --duration ends the run, --warmup-period is --warmup-time's alias,
 * --max-types-in-leak-summary cuts the table (not the totals),
 * --str-max-length cuts representations, --no-referrers skips the graphs.
 */
Test(options, attach_run_and_report_options, .fini = harness__cleanup, .timeout = 120)
{
	char *args[] = { "attach", NULL, "--max-object-lifetime", "1", "--duration", "4", "--warmup-period",
			 "0.5", "--json", "--max-types-in-leak-summary", "1", "--str-max-length", "5",
			 "--no-referrers", "--max-object-details", "5", NULL };
	long long t0, took;
	size_t n, strs = 0;
	struct run_result r;
	struct target t;
	json_t *rep[16];

	start_target(&t, DEFAULT_PYTHON, "leaky_app.py", NULL);
	t0 = harness__now_ms();
	run_on(&t, args, &r);
	took = harness__now_ms() - t0;
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	/* --duration 4: a run of 4 s, not one that goes on (a loaded machine may add a second) */
	cr_assert(took >= 3900 && took < 30000, "--duration 4 ran %lld ms", took);
	cr_assert(strstr(r.err, "warm-up 0.5 s"), "--warmup-period 0.5 not taken: %s", r.err);
	n = json_lines("attach options", r.out, rep, 16);
	cr_assert_geq(n, 2, "%zu reports in 4 s with a 1 s lifetime and a 0.5 s warm-up", n);
	for (size_t i = 0; i < n; i++) {
		const json_t *ls = json_object_get(rep[i], "leak_summary"), *d;
		size_t k;

		cr_assert_leq(json_array_size(json_object_get(ls, "type_summaries")), 1,
			      "--max-types-in-leak-summary 1: %s", json_dumps(ls, 0));
		json_array_foreach(json_object_get(rep[i], "object_details_list"), k, d) {
			const char *type = json_string_value(json_object_get(d, "object_type_name"));
			const char *s = json_string_value(json_object_get(d, "object_str"));

			cr_assert(json_is_false(json_object_get(d, "referrers_checked")),
				  "--no-referrers, yet referrers checked: %s", json_dumps(d, 0));
			cr_assert(json_is_null(json_object_get(d, "referrer_graph")),
				  "--no-referrers, yet a graph: %s", json_dumps(d, 0));
			if (type && !strcmp(type, "builtins.str")) {
				/* 'reque' : five characters and the quotes */
				cr_assert(s && strlen(s) <= 7, "--str-max-length 5 gave %s", s ? s : "(null)");
				strs++;
			}
		}
	}
	/* the last report has a summary with more types than it lists */
	cr_assert_gt(json_integer_value(json_object_get(json_object_get(rep[n - 1], "leak_summary"), "total_types")),
		     1, "one leaked type only: the cut was not tested: %.300s", r.out);
	cr_assert_gt(strs, 0, "no str detailed: --str-max-length was not tested: %.500s", r.out);
	for (size_t i = 0; i < n; i++)
		json_decref(rep[i]);
	run_result__release(&r);
	target__stop(&t);
}

/* --top N lists N types and says how many more; --top 0 lists them all. */
Test(options, snapshot_top, .fini = harness__cleanup, .timeout = 60)
{
	char *args[] = { "snapshot", NULL, "--top", "3", NULL };
	char *all[] = { "snapshot", NULL, "--top", "0", NULL };
	struct run_result r, ra;
	const char *p;
	struct target t;
	int rows = 0, more = 0, rows_all = 0;

	start_target(&t, DEFAULT_PYTHON, "leaky_app.py", NULL);
	run_on(&t, args, &r);
	run_on(&t, all, &ra);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_eq(ra.status, 0, "exit %d: %s", ra.status, ra.err);
	/* a type row is five numbers and a dotted name */
	for (p = r.out; (p = strchr(p, '\n')); p++) {
		long a, b, c, d, e;
		char name[256];

		if (sscanf(p + 1, "%ld %ld %ld %ld %ld %255s", &a, &b, &c, &d, &e, name) == 6)
			rows++;
		else
			sscanf(p + 1, "... %d more types", &more);
	}
	for (p = ra.out; (p = strchr(p, '\n')); p++) {
		long a, b, c, d, e;
		char name[256];

		if (sscanf(p + 1, "%ld %ld %ld %ld %ld %255s", &a, &b, &c, &d, &e, name) == 6)
			rows_all++;
	}
	cr_assert_eq(rows, 3, "--top 3 printed %d rows: %s", rows, r.out);
	cr_assert_gt(more, 0, "--top 3 does not say how many more: %s", r.out);
	cr_assert_eq(rows_all, 3 + more, "--top 0 printed %d rows, --top 3 said 3 + %d", rows_all, more);
	run_result__release(&r);
	run_result__release(&ra);
	target__stop(&t);
}

/* --max-objects N stops the walk at N objects: a partial result, exit 9, that says why. */
Test(options, snapshot_max_objects, .fini = harness__cleanup, .timeout = 60)
{
	char *args[] = { "snapshot", NULL, "--max-objects", "100", "--json", NULL };
	struct run_result r;
	struct target t;
	json_t *snap;

	start_target(&t, DEFAULT_PYTHON, "leaky_app.py", NULL);
	run_on(&t, args, &r);
	cr_assert_eq(r.status, 9, "exit %d, not 9: %s", r.status, r.err);
	snap = json_loads(r.out, 0, NULL);
	cr_assert_not_null(snap, "%.300s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(snap, "total_objects")), 100, "%.300s", r.out);
	cr_assert(json_is_true(json_object_get(snap, "partial")), "%.300s", r.out);
	cr_assert(strstr(json_string_value(json_object_get(snap, "partial_reason")) ?: "", "--max-objects"),
		  "%.400s", r.out);
	json_decref(snap);
	run_result__release(&r);
	assert_running_free(t.pid, "after --max-objects");
	target__stop(&t);
}

/*
 * --why TYPE details up to --max-object-details instances; --referrers-max-depth 1
 * stops each chain after one referrer with a `limit` node; --no-referrers
 * details without a graph.
 */
Test(options, snapshot_why_limits, .fini = harness__cleanup, .timeout = 60)
{
	char *depth[] = { "snapshot", NULL, "--why", "__main__.Session", "--max-object-details", "2",
			  "--referrers-max-depth", "1", "--json", NULL };
	char *norefs[] = { "snapshot", NULL, "--why", "__main__.Session", "--max-object-details", "1",
			   "--no-referrers", "--json", NULL };
	struct run_result r;
	const json_t *d, *n;
	struct target t;
	json_t *snap;
	size_t i, k;

	start_target(&t, DEFAULT_PYTHON, "leaky_app.py", NULL);
	run_on(&t, depth, &r);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	snap = json_loads(r.out, 0, NULL);
	cr_assert_not_null(snap, "%.300s", r.out);
	cr_assert_eq(json_array_size(json_object_get(snap, "object_details")), 2, "--max-object-details 2: %.600s",
		     r.out);
	json_array_foreach(json_object_get(snap, "object_details"), i, d) {
		const json_t *g = json_object_get(d, "referrer_graph");
		bool limit = false;

		cr_assert(json_is_true(json_object_get(g, "stopped_by_limit")), "%s", json_dumps(g, 0));
		json_array_foreach(json_object_get(g, "graph_nodes"), k, n) {
			const char *kind = json_string_value(json_object_get(n, "kind"));
			limit |= kind && !strcmp(kind, "limit");
		}
		cr_assert(limit, "--referrers-max-depth 1, yet no limit node: %s", json_dumps(g, 0));
		/* the target, one referrer (the cache dict) and the limit */
		cr_assert_leq(json_array_size(json_object_get(g, "graph_nodes")), 3, "%s", json_dumps(g, 0));
	}
	json_decref(snap);
	run_result__release(&r);

	run_on(&t, norefs, &r);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	snap = json_loads(r.out, 0, NULL);
	cr_assert_not_null(snap, "%.300s", r.out);
	d = json_array_get(json_object_get(snap, "object_details"), 0);
	cr_assert_not_null(d, "no object detailed: %.300s", r.out);
	cr_assert(json_is_false(json_object_get(d, "referrers_checked")), "%s", json_dumps(d, 0));
	json_decref(snap);
	run_result__release(&r);
	target__stop(&t);
}

/* An empty --report-directory is a usage error everywhere, read by nobody (it once read past the string). */
Test(options, empty_report_directory_is_a_usage_error)
{
	char *attach[] = { "attach", "1", "--report-directory", "", NULL };
	char *list[] = { "list", "--report-directory", "", NULL };
	char *print[] = { "print", "abcd-1234", "--report-directory", "", NULL };
	char *mcp[] = { "mcp", "--report-directory", "", NULL };
	char **cmds[] = { attach, list, print, mcp };
	struct run_result r;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		cr_assert_eq(memalot__run(cmds[i], &r), 0);
		cr_assert_eq(r.status, 2, "%s --report-directory '': exit %d; stderr: %s", cmds[i][0], r.status,
			     r.err);
		cr_assert_str_eq(r.err, "memalot: --report-directory takes a directory\n", "%s: %s", cmds[i][0],
				 r.err);
		run_result__release(&r);
	}
}

/* Run memalot with args (NULL-terminated, at most 8) and its stdout on /dev/full. */
static void run_to_full_disk(char *const args[], struct run_result *r)
{
	char *argv[12] = { "sh", "-c", "exec \"$0\" \"$@\" >/dev/full", (char *)harness__memalot() };
	int n = 4;

	while (*args && n < 11)
		argv[n++] = *args++;
	argv[n] = NULL;
	cr_assert_eq(run__capture(argv, RUN_TIMEOUT, r), 0);
}

/* A report that cannot be written is an error with one line, not a silent exit 0 or 1. */
Test(options, write_errors_are_reported, .fini = harness__cleanup, .timeout = 60)
{
	char pidstr[16], *list[] = { "list", NULL }, *help[] = { "--help", NULL };
	char *snap[] = { "snapshot", pidstr, "--json", NULL }, **cmds[] = { list, help, snap };
	struct run_result r;
	struct target t;

	start_target(&t, DEFAULT_PYTHON, "leaky_app.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		run_to_full_disk(cmds[i], &r);
		cr_assert_eq(r.status, 1, "memalot %s > /dev/full: exit %d; stderr: %s", cmds[i][0], r.status, r.err);
		cr_assert(strstr(r.err, "memalot: cannot write to standard output"), "memalot %s > /dev/full: %s",
			  cmds[i][0], r.err);
		cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "not one line: %s", r.err);
		run_result__release(&r);
	}
	assert_running_free(t.pid, "after a snapshot to a full disk");
	target__stop(&t);
}
