/* SPDX-License-Identifier: MIT */
/*
 * The pytest plugin (python/memalot/pytest_plugin.py) on Debian's pytest and
 * pytest-xdist with /usr/bin/python3.11, on the sample suite of
 * tests/pytest_sample: a test that leaks objects into a module cache, one
 * that leaks a descriptor, one that leaks malloc'd memory, one that fills a
 * cache on its first call, one that keeps only its last result, and clean
 * tests. Exactly the leaking tests fail, with the leaked type and the root.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../lib/harness.h"
#include "../lib/start.h"

#define PYTEST_TIMEOUT 300

static const char *const leaking_all[] = { "test_leaks_into_cache", "test_leaks_fd", "test_leaks_native", NULL };
static const char *const leaking_objects[] = { "test_leaks_into_cache", NULL };
static const char *const sample_tests[] = {
	"test_leaks_into_cache", "test_leaks_fd", "test_leaks_native", "test_cache_filled_once",
	"test_keeps_last_only", "test_clean_containers", "test_clean_native", "test_clean_file",
	"test_clean_parametrized[1]", "test_clean_parametrized[2]", "test_clean_method", NULL,
};

/* Debian's pytest on Debian's python3.11 (the only pytest here), or skip. */
static const char *pytest_python(void)
{
	static const char *py = "/usr/bin/python3.11";
	struct run_result r;

	if (access(py, X_OK))
		cr_skip_test("%s is not installed", py);
	cr_assert_eq(run__capture((char *[]){ (char *)py, "-c", "import pytest, xdist", NULL }, 60, &r), 0);
	if (r.status) {
		run_result__release(&r);
		cr_skip_test("python3-pytest and python3-pytest-xdist are not installed (make setup-deps)");
	}
	run_result__release(&r);
	return py;
}

/* A copy of the sample suite in the scratch directory (pytest writes beside the tests). */
static char *sample_copy(void)
{
	char *dir = scratch__file("sample"), *cmd;
	struct run_result r;

	cmd = xasprintf("mkdir -p '%s' && cp -r '%s/tests/pytest_sample/.' '%s/'", dir, harness__srcdir(), dir);
	cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 60, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result__release(&r);
	free(cmd);
	return dir;
}

/* Run pytest on the sample with the plugin and args (a shell word list); r has its output. */
static void run_pytest(const char *dir, const char *args, struct run_result *r)
{
	char *reports = scratch__file("reports");
	char *cmd = xasprintf("cd '%s' && PYTHONPATH='%s/python' MEMALOT_BIN='%s' MEMALOT_REPORT_DIRECTORY='%s' "
			      "PYTHONDONTWRITEBYTECODE=1 exec '%s' -m pytest -p memalot.pytest_plugin -p no:cacheprovider "
			      "-rfE %s",
			      dir, harness__srcdir(), harness__memalot(), reports, pytest_python(), args);

	cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, PYTEST_TIMEOUT, r), 0);
	free(cmd);
	free(reports);
}

static bool listed(const char *const *names, const char *name)
{
	for (; *names; names++)
		if (!strcmp(*names, name))
			return true;
	return false;
}

/* Every sample test failed if and only if it is in leaking (pytest's "FAILED path::name" lines). */
static void assert_verdicts(const struct run_result *r, const char *const *leaking, const char *what)
{
	for (const char *const *t = sample_tests; *t; t++) {
		char *line = xasprintf("FAILED test_sample.py::%s", *t);
		const char *at = strstr(r->out, line);
		bool failed = at && (at[strlen(line)] == '\n' || at[strlen(line)] == ' ');

		cr_assert_eq(failed, listed(leaking, *t), "%s: %s %s:\n%s\n%s", what, *t,
			     failed ? "failed" : "passed", r->out, r->err);
		free(line);
	}
}

static void assert_leak_messages(const struct run_result *r, bool all, const char *what)
{
	cr_assert(strstr(r->out, "test_leaks_into_cache leaked Python objects"), "%s:\n%s", what, r->out);
	cr_assert(strstr(r->out, "myapp.cache.Response"), "%s: the leaked type is not named:\n%s", what, r->out);
	cr_assert(strstr(r->out, "myapp/cache.py:10: myapp.cache._CACHE (global) \xe2\x86\x92 list[*]"),
		  "%s: the root and its line are not named:\n%s", what, r->out);
	if (all) {
		cr_assert(strstr(r->out, "test_leaks_fd leaked file descriptors"), "%s:\n%s", what, r->out);
		cr_assert(strstr(r->out, "-> /dev/null"), "%s: the descriptor's file:\n%s", what, r->out);
		cr_assert(strstr(r->out, "test_leaks_native leaked native memory"), "%s:\n%s", what, r->out);
	}
	/* the session's summary, with the saved report's ID */
	cr_assert(strstr(r->out, "11 tests checked for leaks"), "%s: no summary:\n%s", what, r->out);
	cr_assert(strstr(r->out, "memalot report"), "%s: no report ID:\n%s", what, r->out);
	cr_assert_null(strstr(r->out, "INTERNALERROR"), "%s:\n%s", what, r->out);
}

/*
 * pytest with args over the sample suite: it exits 1, exactly the tests of
 * leaking fail, with their messages (all: the fd and native ones too) and the
 * summary. r keeps pytest's output for more checks.
 */
static void sample_verdicts(const char *args, const char *const *leaking, bool all, const char *what,
			    struct run_result *r)
{
	char *dir = sample_copy();

	run_pytest(dir, args, r);
	cr_assert_eq(r->status, 1, "%s: pytest exited %d:\n%s\n%s", what, r->status, r->out, r->err);
	assert_verdicts(r, leaking, what);
	assert_leak_messages(r, all, what);
	free(dir);
}

/* --memalot --memalot-fail-on objects,fds,native: the three leaking tests fail, the rest pass. */
Test(pytest_plugin, every_kind_fails_exactly_the_leaking_tests, .fini = scratch__cleanup, .timeout = 600)
{
	struct run_result r;

	sample_verdicts("--memalot --memalot-fail-on objects,fds,native test_sample.py", leaking_all, true, "fail on all",
			&r);
	cr_assert(strstr(r.out, "3 failed, 8 passed"), "%s", r.out);
	run_result__release(&r);
}

/* The default fails on objects only: the cache test. */
Test(pytest_plugin, objects_by_default, .fini = scratch__cleanup, .timeout = 600)
{
	struct run_result r;

	sample_verdicts("--memalot test_sample.py", leaking_objects, false, "fail on objects", &r);
	run_result__release(&r);
}

/* The same verdicts under pytest-xdist: each worker has its own engine. */
Test(pytest_plugin, xdist_two_workers, .fini = scratch__cleanup, .timeout = 600)
{
	struct run_result r;

	sample_verdicts("--memalot --memalot-fail-on objects,fds,native -n 2 test_sample.py", leaking_all, true, "-n 2",
			&r);
	/* two workers, two engines, two saved reports */
	cr_assert(strstr(r.out, "memalot reports: "), "-n 2: one report for two workers?\n%s", r.out);
	run_result__release(&r);
}

/* The summary's report ID names a report `memalot print` reads from the session's report directory. */
static void assert_report_saved(const struct run_result *r, const char *what)
{
	const char *at = strstr(r->out, "memalot report: "), *many = strstr(r->out, "memalot reports: ");
	char id[64] = "", *reports = scratch__file("reports");
	struct run_result pr;

	/* the first of them when several engines ran (tests with options of their own) */
	cr_assert((at && sscanf(at, "memalot report: %63[a-z0-9-]", id) == 1) ||
		  (many && sscanf(many, "memalot reports: %63[a-z0-9-]", id) == 1), "%s: no report ID:\n%s", what,
		  r->out);
	cr_assert_eq(run__capture((char *[]){ (char *)harness__memalot(), "print", id, "--report-directory", reports,
					      "--json", NULL }, 60, &pr), 0);
	cr_assert_eq(pr.status, 0, "%s: memalot print %s: exit %d:\n%s", what, id, pr.status, pr.err);
	/* a report of the engine's monitored calls, at the plugin's age */
	cr_assert(strstr(pr.out, "\"max_object_age_calls\":2"), "%s: report %s:\n%.2000s", what, id, pr.out);
	run_result__release(&pr);
	free(reports);
}

/* Without --memalot only marked tests are checked, with the marker's limits and options. */
Test(pytest_plugin, marker_limits_and_options, .fini = scratch__cleanup, .timeout = 600)
{
	char *dir = sample_copy();
	struct run_result r;

	run_pytest(dir, "test_marker.py test_sample.py", &r);
	cr_assert_eq(r.status, 1, "pytest exited %d:\n%s\n%s", r.status, r.out, r.err);
	/* unmarked leaking tests are not checked */
	cr_assert_null(strstr(r.out, "FAILED test_sample.py"), "%s", r.out);
	cr_assert(strstr(r.out, "FAILED test_marker.py::test_marked_leak\n") ||
		  strstr(r.out, "FAILED test_marker.py::test_marked_leak "), "%s", r.out);
	cr_assert(strstr(r.out, "FAILED test_marker.py::test_marked_fd_leak"), "%s", r.out);
	cr_assert_null(strstr(r.out, "FAILED test_marker.py::test_within_max_objects"), "%s", r.out);
	cr_assert_null(strstr(r.out, "FAILED test_marker.py::test_other_types_only"), "%s", r.out);
	cr_assert(strstr(r.out, "FAILED test_marker.py::test_over_max_bytes"), "%s", r.out);
	/* warmup_calls and calls: each test fails if its count is not the one the marker gives */
	cr_assert_null(strstr(r.out, "FAILED test_marker.py::test_warmup_covers_the_filling"), "%s", r.out);
	cr_assert_null(strstr(r.out, "FAILED test_marker.py::test_more_calls_see_the_filling_end"), "%s", r.out);
	cr_assert(strstr(r.out, "test_marked_leak leaked Python objects"), "%s", r.out);
	cr_assert(strstr(r.out, "7 tests checked for leaks"), "%s", r.out);
	assert_report_saved(&r, "marker");
	run_result__release(&r);
	free(dir);
}

/* MemoryLeakTestCase and the plugin in one pytest process share one engine (one tracer at a time). */
Test(pytest_plugin, memory_leak_test_case_beside_the_plugin, .fini = scratch__cleanup, .timeout = 600)
{
	char *dir = sample_copy();
	struct run_result r;

	run_pytest(dir, "--memalot test_unittest_case.py", &r);
	cr_assert_eq(r.status, 1, "pytest exited %d:\n%s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "2 passed") && strstr(r.out, "1 failed"), "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "FAILED test_unittest_case.py::test_plugin_checked_leak_after_the_case"), "%s", r.out);
	cr_assert_null(strstr(r.out, "already traced"), "%s", r.out);
	run_result__release(&r);
	free(dir);
}

/* Bad options are pytest usage errors (exit 4), before any test runs. */
Test(pytest_plugin, bad_options_are_usage_errors, .fini = scratch__cleanup, .timeout = 300)
{
	static const char *const bad[][2] = {
		{ "--memalot --memalot-fail-on objects,leaks test_sample.py", "--memalot-fail-on" },
		{ "--memalot --memalot-calls 0 test_sample.py", "--memalot-calls must be 1 or more" },
		{ "test_bad_marker.py", "unknown option 'no_such_option'" },
	};
	char *dir = sample_copy();

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct run_result r;

		run_pytest(dir, bad[i][0], &r);
		cr_assert_eq(r.status, i < 2 ? 4 : 1, "%s: exit %d:\n%s\n%s", bad[i][0], r.status, r.out, r.err);
		cr_assert(strstr(r.out, bad[i][1]) || strstr(r.err, bad[i][1]), "%s: no '%s':\n%s\n%s", bad[i][0],
			  bad[i][1], r.out, r.err);
		run_result__release(&r);
	}
	free(dir);
}

/*
 * memalot run -- python3 -m pytest: the suite runs under memalot, which
 * watches the pytest process from outside and reports the leak of
 * test_run_leak.py (that test leaks until a saved report names a leak).
 */
Test(pytest_plugin, under_memalot_run, .fini = scratch__cleanup, .timeout = 600)
{
	char *dir = sample_copy(), *reports = scratch__file("run-reports");
	char *cmd = xasprintf("cd '%s' && PYTHONPATH='%s/python' PYTHONDONTWRITEBYTECODE=1 MEMALOT_BIN='%s' "
			      "MEMALOT_WAIT_REPORTS='%s' exec '%s' run --max-object-lifetime 1 --report-directory '%s' -- "
			      "'%s' -m pytest -p no:cacheprovider -q test_sample.py test_run_leak.py -k "
			      "'clean or until_reported'",
			      dir, harness__srcdir(), harness__memalot(), reports, harness__memalot(), reports,
			      pytest_python());
	struct run_result r;

	cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, PYTEST_TIMEOUT, &r), 0);
	cr_assert_eq(r.status, 0, "memalot run exited %d:\n%s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "7 passed"), "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "myapp.cache._CACHE (global)") || strstr(r.err, "myapp.cache._CACHE (global)"),
		  "memalot run did not report the leak's root:\n%s\n%s", r.out, r.err);
	cr_assert(strstr(r.err, "memalot: summary: 1 process watched"), "%s", r.err);
	run_result__release(&r);
	free(cmd);
	free(reports);
	free(dir);
}
