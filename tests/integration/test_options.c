/* SPDX-License-Identifier: MIT */
/*
 * The options the README names do what it says they do: attach's run and
 * report options, snapshot's census and --why options. One target
 * (leaky_app.py) under the default interpreter: the point is the options,
 * not the matrix.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <ctype.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
		char *want = xasprintf("memalot %s: --report-directory takes a directory; see 'memalot %s --help'\n",
				       cmds[i][0], cmds[i][0]);

		cr_assert_str_eq(r.err, want, "%s: %s", cmds[i][0], r.err);
		free(want);
		run_result__release(&r);
	}
}

/*
 * One CLI: every subcommand takes -h/--help, -v/-q and --no-color/--force-terminal;
 * every usage error is one line, "memalot CMD: ...; see 'memalot CMD --help'", exit 2.
 */
Test(options, every_subcommand_has_the_common_flags_and_one_line_usage_errors)
{
	/* a command and its usage errors: an unknown option, a missing value, a stray or missing argument */
	static const char *const cmds[][6] = {
		{ "attach", "1", "--bogus", "--max-object-lifetime", "attach needs a PID", NULL },
		{ "run", "--", "--bogus", "--max-object-lifetime", "run needs a program", NULL },
		{ "snapshot", "1", "--bogus", "--top", "snapshot needs a PID", NULL },
		{ "list", NULL, "--bogus", "--num-reports", NULL, "extra" },
		{ "print", "abcd-1234", "--bogus", "--num-iterations", "which report?", NULL },
		{ "mcp", NULL, "--bogus", "--report-directory", NULL, "extra" },
		{ "options", NULL, "--bogus", NULL, NULL, "extra" },
	};
	char *reports = scratch__file("reports");

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *cmd = cmds[i][0];
		char *prefix = xasprintf("memalot %s: ", cmd), *see = xasprintf("; see 'memalot %s --help'\n", cmd);
		char *usage = xasprintf("usage: memalot %s", cmd);
		struct run_result r;
		/* the usage errors */
		char *bad[4][6] = {
			{ (char *)cmd, (char *)cmds[i][2], NULL },
			{ (char *)cmd, (char *)cmds[i][3], NULL },
			{ (char *)cmd, NULL },
			{ (char *)cmd, (char *)cmds[i][1], (char *)cmds[i][5], NULL },
		};

		for (size_t k = 0; k < 4; k++) {
			if ((k == 1 && !cmds[i][3]) || (k == 2 && !cmds[i][4]) || (k == 3 && !cmds[i][5]))
				continue;
			if (k == 3 && !cmds[i][1])
				bad[3][1] = (char *)cmds[i][5], bad[3][2] = NULL;
			cr_assert_eq(memalot__run(bad[k], &r), 0);
			cr_assert_eq(r.status, 2, "%s usage error %zu: exit %d; stderr: %s", cmd, k, r.status, r.err);
			cr_assert(!strncmp(r.err, prefix, strlen(prefix)) && strchr(r.err, '\n') == r.err + strlen(r.err) - 1 &&
				  strlen(r.err) > strlen(see) && !strcmp(r.err + strlen(r.err) - strlen(see), see),
				  "%s usage error %zu is not one line '%s...%s': '%s'", cmd, k, prefix, see, r.err);
			if (k == 2)
				cr_assert(strstr(r.err, cmds[i][4]), "%s: %s", cmd, r.err);
			/* the option named as given, and what is wrong with it */
			if (k < 2) {
				char *what = xasprintf(k ? "option '%s' needs a value" : "unknown option '%s'", bad[k][1]);
				cr_assert(strstr(r.err, what), "%s: no \"%s\" in: %s", cmd, what, r.err);
				free(what);
			}
			cr_assert_str_empty(r.out, "%s: %s", cmd, r.out);
			run_result__release(&r);
		}
		/* -h and --help, with the common flags before them */
		{
			char *help[] = { (char *)cmd, "-v", "-q", "--no-color", "--force-terminal", "--help", NULL };
			char *h[] = { (char *)cmd, "-h", NULL };

			cr_assert_eq(memalot__run(help, &r), 0);
			cr_assert_eq(r.status, 0, "%s --help: exit %d: %s", cmd, r.status, r.err);
			cr_assert(!strncmp(r.out, usage, strlen(usage)), "%s --help: %s", cmd, r.out);
			cr_assert(strstr(r.out, "--no-color") && strstr(r.out, "--quiet"), "%s --help lacks the common flags: %s",
				  cmd, r.out);
			run_result__release(&r);
			cr_assert_eq(memalot__run(h, &r), 0);
			cr_assert_eq(r.status, 0, "%s -h: exit %d", cmd, r.status);
			cr_assert(!strncmp(r.out, usage, strlen(usage)), "%s -h: %s", cmd, r.out);
			run_result__release(&r);
		}
		free(prefix);
		free(see);
		free(usage);
	}
	/* the common flags are taken where the command runs, too */
	{
		char *list[] = { "list", "-v", "-q", "--no-color", "--force-terminal", "--report-directory", reports, NULL };
		char *opts[] = { "options", "-q", "--no-color", "--json", NULL };
		struct run_result r;

		cr_assert_eq(memalot__run(list, &r), 0);
		cr_assert_eq(r.status, 0, "list: %s", r.err);
		cr_assert(strstr(r.out, "No reports found in "), "%s", r.out);
		run_result__release(&r);
		cr_assert_eq(memalot__run(opts, &r), 0);
		cr_assert_eq(r.status, 0, "options: %s", r.err);
		run_result__release(&r);
	}
	free(reports);
}

/*
 * Run memalot with args (NULL-terminated, at most 16), its stdout redirected
 * as redir says (">/dev/full", ">&-" closed), and its stdin from input.
 */
static void run_redirected(char *const args[], const char *redir, const char *input, struct run_result *r)
{
	char *script, *argv[24] = { "sh", "-c", NULL, (char *)harness__memalot() };
	int n = 4;

	cr_assert(asprintf(&script, "printf '%%s' \"$MEMALOT_TEST_INPUT\" | exec \"$0\" \"$@\" %s", redir) > 0);
	argv[2] = script;
	while (*args && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	setenv("MEMALOT_TEST_INPUT", input ? input : "", 1);
	cr_assert_eq(run__capture(argv, RUN_TIMEOUT, r), 0);
	unsetenv("MEMALOT_TEST_INPUT");
	free(script);
}

/*
 * What memalot writes but cannot (a full disk, a closed stdout, an --output
 * file on a full disk) is exit 1 with one line "error writing WHAT: REASON",
 * for every command: never a silent exit 0, or 1 without a word.
 */
Test(options, write_errors_are_reported, .fini = harness__cleanup, .timeout = 180)
{
	static const char full[] = "memalot: error writing standard output: No space left on device\n";
	static const char closed[] = "memalot: error writing standard output: Bad file descriptor\n";
	static const char mcp_init[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
				       "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":"
				       "{\"name\":\"t\",\"version\":\"1\"}}}\n";
	char dir[] = "/tmp/memalot-write-errors-XXXXXX", pidstr[16], id[16] = "";
	char *attach_q[] = { "attach", pidstr, "--max-object-lifetime", "0.5", "--warmup-time", "0", "--iterations",
			     "2", "--report-directory", dir, "-q", NULL };
	char *list[] = { "list", "--report-directory", dir, NULL }, *help[] = { "--help", NULL };
	char *snap[] = { "snapshot", pidstr, "--json", NULL }, *snap_text[] = { "snapshot", pidstr, "--top", "0", NULL };
	char *print[] = { "print", id, "--report-directory", dir, NULL };
	char *mcp[] = { "mcp", "--report-directory", dir, "-q", NULL };
	char *attach_out[] = { "attach", pidstr, "--max-object-lifetime", "0.5", "--warmup-time", "0", "--iterations",
			       "2", "--no-save-reports", "-q", "--output", "/dev/full", NULL };
	char **cmds[] = { attach_q, list, help, snap, snap_text, print, mcp };
	const char *redirs[] = { ">/dev/full", ">&-" };
	struct run_result r;
	struct target t;
	json_t *listed;

	cr_assert_not_null(mkdtemp(dir));
	start_target(&t, DEFAULT_PYTHON, "leaky_app.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	/* a saved report for print */
	{
		char *save[] = { "attach", pidstr, "--max-object-lifetime", "0.5", "--warmup-time", "0",
				 "--iterations", "1", "--report-directory", dir, "-q", "--json", NULL };
		char *ls[] = { "list", "--report-directory", dir, "--json", NULL };

		cr_assert_eq(memalot__run(save, &r), 0);
		cr_assert_eq(r.status, 0, "attach: exit %d: %s", r.status, r.err);
		run_result__release(&r);
		cr_assert_eq(memalot__run(ls, &r), 0);
		listed = json_loads(r.out, 0, NULL);
		cr_assert_eq(json_array_size(listed), 1, "%s", r.out);
		snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(json_array_get(listed, 0), "report_id")));
		json_decref(listed);
		run_result__release(&r);
	}
	for (size_t k = 0; k < sizeof(redirs) / sizeof(redirs[0]); k++)
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			const char *want = k ? closed : full;

			run_redirected(cmds[i], redirs[k], cmds[i] == mcp ? mcp_init : NULL, &r);
			cr_assert(!r.timed_out, "memalot %s %s timed out: %s", cmds[i][0], redirs[k], r.err);
			cr_assert_eq(r.status, 1, "memalot %s %s: exit %d; stderr: %s", cmds[i][0], redirs[k], r.status,
				     r.err);
			cr_assert_str_eq(r.err, want, "memalot %s %s: stderr is not one line '%.*s': %s", cmds[i][0],
					 redirs[k], (int)strlen(want) - 1, want, r.err);
			run_result__release(&r);
		}
	/* --output on a full disk, and with --tee-console a full stdout too: one line each */
	cr_assert_eq(memalot__run(attach_out, &r), 0);
	cr_assert_eq(r.status, 1, "--output /dev/full: exit %d; stderr: %s", r.status, r.err);
	cr_assert_str_eq(r.err, "memalot: error writing '/dev/full': No space left on device\n", "%s", r.err);
	run_result__release(&r);
	assert_running_free(t.pid, "after writing to a full disk");
	target__stop(&t);
	harness__remove_tree(dir);
}

/*
 * Every duration of every command is a number of seconds that can be
 * counted in nanoseconds: inf, nan, 1e300, negative values, and anything
 * over 10 years are a usage error naming the option, before any target is
 * touched (1e300 once made a run that never ended).
 */
/* --max-memory takes sizes as people write them (512M, 2G), and nothing else: one usage line */
Test(options, max_memory_takes_a_size)
{
	static const char *const bad[] = { "", "lots", "-1", "5X", "1e30", "nan" };
	struct run_result r;

	for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
		for (int snap = 0; snap < 2; snap++) {
			char *args[] = { snap ? "snapshot" : "attach", "1", "--max-memory", (char *)bad[b], NULL };

			cr_assert_eq(memalot__run(args, &r), 0);
			cr_assert_eq(r.status, 2, "%s --max-memory '%s': exit %d; stderr: %s", args[0], bad[b], r.status,
				     r.err);
			cr_assert(strstr(r.err, "--max-memory") && strstr(r.err, "512M") &&
				  strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
				  "%s --max-memory '%s': stderr: %s", args[0], bad[b], r.err);
			run_result__release(&r);
		}
}

Test(options, absurd_durations_are_usage_errors, .fini = harness__cleanup, .timeout = 60)
{
	static const char *const attach_opts[] = { "--max-object-lifetime", "--check-interval", "--warmup-time",
						   "--warmup-period", "--duration", "--referrers-search-timeout" };
	static const char *const bad[] = { "inf", "-inf", "nan", "1e300", "-1", "315360001", "1e9", "5s", "" };
	struct run_result r;
	char want[96];

	for (size_t o = 0; o < sizeof(attach_opts) / sizeof(attach_opts[0]) + 1; o++)
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			bool snap = o == sizeof(attach_opts) / sizeof(attach_opts[0]);
			const char *opt = snap ? "--referrers-search-timeout" : attach_opts[o];
			char *args[] = { snap ? "snapshot" : "attach", "1", (char *)opt, (char *)bad[b], NULL };

			cr_assert_eq(memalot__run(args, &r), 0);
			cr_assert_eq(r.status, 2, "%s %s '%s': exit %d; stderr: %s", args[0], opt, bad[b], r.status,
				     r.err);
			snprintf(want, sizeof(want), "memalot %s: %s takes a ", args[0], opt);
			cr_assert(!strncmp(r.err, want, strlen(want)) && strstr(r.err, "10 years") &&
				  strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
				  "%s %s '%s': stderr: %s", args[0], opt, bad[b], r.err);
			run_result__release(&r);
		}
	/* the biggest and smallest that are taken: a check interval of 1 ms, a warm-up of 0 */
	{
		char *sleep_argv[] = { "sleep", "1000", NULL }, pidstr[16];
		char *args[] = { "attach", pidstr, "--max-object-lifetime", "315360000", "--check-interval", "0.001",
				 "--warmup-time", "0", "--duration", "315360000", "--no-save-reports", NULL };
		char *tiny[] = { "attach", "1", "--max-object-lifetime", "1e-9", "--check-interval", "1e-9", NULL };
		struct run_result sr;
		struct bgrun s;

		/* sleep is no Python: past the options, the attach itself is refused with 6 */
		cr_assert_eq(bgrun__start(&s, sleep_argv, NULL), 0);
		snprintf(pidstr, sizeof(pidstr), "%d", (int)s.pid);
		cr_assert_eq(memalot__run(args, &r), 0);
		cr_assert_eq(r.status, 6, "the largest durations: exit %d, not 6: %s", r.status, r.err);
		run_result__release(&r);
		kill(s.pid, SIGKILL);
		bgrun__wait(&s, 10000, &sr);
		run_result__release(&sr);
		cr_assert_eq(memalot__run(tiny, &r), 0);
		cr_assert_eq(r.status, 2, "a 1 ns check interval: exit %d: %s", r.status, r.err);
		cr_assert(strstr(r.err, "--check-interval") && strstr(r.err, "at least 0.001 s"), "%s", r.err);
		run_result__release(&r);
	}
}

/*
 * --duration ends the run on time even when no check is due before it: with
 * a lifetime of 300 s the checks are a minute apart, and a run of 1 s once
 * lasted 60 s.
 */
Test(options, duration_ends_between_checks, .fini = harness__cleanup, .timeout = 60)
{
	char *args[] = { "attach", NULL, "--max-object-lifetime", "300", "--duration", "1", "--no-save-reports", NULL };
	struct run_result r;
	struct target t;
	long long t0, took;

	start_target(&t, DEFAULT_PYTHON, "leaky_app.py", NULL);
	t0 = harness__now_ms();
	run_on(&t, args, &r);
	took = harness__now_ms() - t0;
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert(took >= 900 && took < 15000, "--duration 1 with checks a minute apart ran %lld ms", took);
	cr_assert(strstr(r.err, "check every 60 s"), "%s", r.err);
	run_result__release(&r);
	assert_running_free(t.pid, "after --duration");
	target__stop(&t);
}

/*
 * One table of options (engine/options.c): `memalot options --json` lists
 * it; attach's and run's --help list every option of theirs from it; each
 * of the seed's keywords is there once, with the seed's default; a usage
 * error is one line.
 */
Test(options, one_table_for_parsing_help_and_seed_keywords, .timeout = 60)
{
	static const struct {
		const char *seed, *dflt;
	} seed[] = {
		{ "max_object_lifetime", "60" }, { "warmup_period", NULL }, { "included_type_names", NULL },
		{ "excluded_type_names", NULL }, { "max_types_in_leak_summary", "500" },
		{ "compute_size_in_leak_summary", NULL }, { "max_object_details", "30" }, { "check_referrers", NULL },
		{ "referrers_max_depth", "50" }, { "referrers_search_timeout", "300" },
		{ "single_object_referrer_limit", "100" }, { "referrers_module_prefixes", NULL },
		{ "save_reports", NULL }, { "report_directory", NULL }, { "str_max_length", "100" },
		{ "force_terminal", NULL }, { "tee_console", NULL }, { "color", NULL },
		{ "max_untracked_search_depth", "3" },
	};
	char *list[] = { "options", "--json", NULL }, *ah[] = { "attach", "--help", NULL }, *rh[] = { "run", "--help", NULL };
	char *bad[] = { "attach", "--no-such-option", "1", NULL };
	struct run_result r, a, h, b;
	json_error_t e;
	json_t *t, *d;
	size_t i;

	cr_assert_eq(memalot__run(list, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	t = json_loads(r.out, 0, &e);
	cr_assert(json_is_array(t), "%s", e.text);
	cr_assert_eq(memalot__run(ah, &a), 0);
	cr_assert_eq(a.status, 0);
	cr_assert_eq(memalot__run(rh, &h), 0);
	cr_assert_eq(h.status, 0);
	json_array_foreach(t, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));
		const json_t *cmds = json_object_get(d, "commands"), *c;
		char *flag = NULL;
		size_t k;

		cr_assert_not_null(name);
		if (json_is_null(json_object_get(d, "help")))
			continue; /* an alias, said in its option's help */
		cr_assert_geq(asprintf(&flag, "  --%s ", name), 0);
		json_array_foreach(cmds, k, c) {
			const char *out = !strcmp(json_string_value(c), "attach") ? a.out : h.out;
			cr_assert_not_null(strstr(out, flag), "%s --help does not list --%s", json_string_value(c), name);
		}
		free(flag);
	}
	for (size_t s = 0; s < sizeof(seed) / sizeof(*seed); s++) {
		size_t found = 0;

		json_array_foreach(t, i, d) {
			const char *k = json_string_value(json_object_get(d, "seed"));
			if (!k || strcmp(k, seed[s].seed))
				continue;
			found++;
			if (seed[s].dflt)
				cr_assert_str_eq(json_string_value(json_object_get(d, "default")) ?: "(none)", seed[s].dflt,
						 "%s's default", seed[s].seed);
		}
		cr_assert_eq(found, 1, "the seed's %s is in the table %zu times", seed[s].seed, found);
	}
	cr_assert_eq(memalot__run(bad, &b), 0);
	cr_assert_eq(b.status, 2);
	cr_assert(!strncmp(b.err, "memalot attach: ", 16) && strchr(b.err, '\n') == b.err + strlen(b.err) - 1,
		  "a usage error is not one line: %s", b.err);
	json_decref(t);
	run_result__release(&r);
	run_result__release(&a);
	run_result__release(&h);
	run_result__release(&b);
}

/*
 * The bash completion (made from memalot's help by cli/gen_docs.py, beside
 * the binary in share/) completes subcommands and each one's options; the
 * man page renders with the commands and the exit status.
 */
Test(options, completion_and_man_page, .fini = scratch__cleanup)
{
	static const char *const cases[][3] = {
		{ "memalot at", "1", "attach" },
		{ "memalot pr", "1", "print" },
		{ "memalot print --num", "2", "--num-iterations" },
		{ "memalot attach --max-object-l", "2", "--max-object-lifetime" },
		{ "memalot snapshot --wh", "2", "--why" },
		{ "memalot list --no-c", "2", "--no-color" },
		{ "memalot mcp --allow", "2", "--allow-attach" },
	};
	char *dir = xasprintf("%s", harness__memalot()), *slash = strrchr(dir, '/');
	char *bash, *man;
	struct run_result r;

	cr_assert_not_null(slash);
	*slash = 0;
	bash = xasprintf("%s/share/memalot.bash", dir);
	man = xasprintf("%s/share/memalot.1", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *script = xasprintf(". '%s'; COMP_WORDS=(%s); COMP_CWORD=%s; _memalot; echo \"${COMPREPLY[*]}\"", bash,
					 cases[i][0], cases[i][1]);
		char want[64];

		snprintf(want, sizeof(want), "%s\n", cases[i][2]);
		cr_assert_eq(run__capture((char *[]){ "bash", "-c", script, NULL }, 30, &r), 0);
		cr_assert_eq(r.status, 0, "%s: %s", cases[i][0], r.err);
		cr_assert_str_eq(r.out, want, "'%s<TAB>' completes to '%s'", cases[i][0], r.out);
		run_result__release(&r);
		free(script);
	}
	cr_assert_eq(run__capture((char *[]){ "man", "-P", "cat", "-l", man, NULL }, 30, &r), 0);
	cr_assert_eq(r.status, 0, "man -l %s: %s", man, r.err);
	cr_assert(strstr(r.out, "COMMANDS") && strstr(r.out, "EXIT STATUS") && strstr(r.out, "--max-object-lifetime"),
		  "%s", r.out);
	run_result__release(&r);
	/* make install puts them where bash, zsh and man look (all is built: -o all keeps make from rebuilding it) */
	{
		char *dest = scratch__file("dest");
		char *cmd = xasprintf("make -s -C '%s' BUILD='%s' -o all install DESTDIR='%s' PREFIX=/usr", harness__srcdir(),
				      dir, dest);
		static const char *const files[][2] = {
			{ "/usr/bin/memalot", "755" },
			{ "/usr/share/man/man1/memalot.1", "644" },
			{ "/usr/share/bash-completion/completions/memalot", "644" },
			{ "/usr/share/zsh/site-functions/_memalot", "644" },
		};

		cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 120, &r), 0);
		cr_assert_eq(r.status, 0, "%s: %s %s", cmd, r.out, r.err);
		run_result__release(&r);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char *path = xasprintf("%s%s", dest, files[i][0]), mode[8];
			struct stat st;

			cr_assert_eq(stat(path, &st), 0, "make install did not install %s", files[i][0]);
			snprintf(mode, sizeof(mode), "%o", st.st_mode & 0777);
			cr_assert_str_eq(mode, files[i][1], "%s: mode %s", files[i][0], mode);
			free(path);
		}
		/*
		 * zsh loads the installed completion under compinit and it completes
		 * (zsh's bashcompinit hands the function 0-based words, ksharrays;
		 * zsh itself then keeps the candidates that match what was typed)
		 */
		if (!access("/usr/bin/zsh", X_OK)) {
			char *zsh = xasprintf("autoload -U compinit && compinit -u -D && source '%s/usr/share/zsh/site-functions/"
					      "_memalot' && setopt ksharrays && COMP_WORDS=(memalot attach --max-object-l) && "
					      "COMP_CWORD=2 && _memalot && print -l -- $COMPREPLY",
					      dest);
			cr_assert_eq(run__capture((char *[]){ "zsh", "-fc", zsh, NULL }, 30, &r), 0);
			cr_assert_eq(r.status, 0, "zsh: %s", r.err);
			cr_assert(strstr(r.out, "\n--max-object-lifetime\n") || !strncmp(r.out, "--max-object-lifetime\n", 22),
				  "zsh: no --max-object-lifetime in: %s", r.out);
			cr_assert_str_empty(r.err, "zsh: %s", r.err);
			run_result__release(&r);
			free(zsh);
		} else {
			cr_log_warn("zsh is not installed (make setup-deps): its completion is not tried");
		}
		free(cmd);
		free(dest);
	}
	free(bash);
	free(man);
	free(dir);
}

/*
 * The completions and the man page are made from each command's --help: every
 * option a help names is one its parser knows (not "unknown option"), so
 * they cannot drift apart. (attach and run take theirs from the option table.)
 */
Test(options, every_option_in_a_help_is_parsed, .fini = scratch__cleanup)
{
	static const char *const cmds[] = { "attach", "run", "snapshot", "list", "print", "mcp", "options" };
	char *reports = scratch__file("reports");
	size_t checked = 0;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct run_result h;
		const char *p;

		cr_assert_eq(memalot__run((char *[]){ (char *)cmds[i], "--help", NULL }, &h), 0);
		cr_assert_eq(h.status, 0, "%s --help: %s", cmds[i], h.err);
		for (p = strstr(h.out, "--"); p; p = strstr(p + 2, "--")) {
			char opt[64];
			size_t n = 2;
			struct run_result r;
			char *cmd;

			if (p > h.out && (p[-1] == '-' || isalnum((unsigned char)p[-1])))
				continue;
			while (n < sizeof(opt) - 1 && (isalnum((unsigned char)p[n]) || p[n] == '-'))
				n++;
			if (n < 4 || !isalpha((unsigned char)p[2]))
				continue;
			memcpy(opt, p, n);
			opt[n] = 0;
			cmd = xasprintf("MEMALOT_REPORT_DIRECTORY='%s' timeout 20 '%s' %s %s </dev/null", reports,
					harness__memalot(), cmds[i], opt);
			cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 30, &r), 0);
			cr_assert_null(strstr(r.err, "unknown option"), "%s names %s, which it does not know: %s", cmds[i], opt,
				       r.err);
			checked++;
			run_result__release(&r);
			free(cmd);
		}
		run_result__release(&h);
	}
	cr_assert_gt(checked, 60, "only %zu options found in the helps", checked);
	free(reports);
}
