/* SPDX-License-Identifier: MIT */
/*
 * The Python package (python/memalot) on every interpreter of the matrix:
 * the seed README's two examples, function-based discovery's ages, the
 * context manager, async functions, output_func, bad options, stop(), and
 * the helper killed while it holds the program. On the host the package
 * runs from the checkout (PYTHONPATH, MEMALOT_BIN); in the sid chroot from
 * a copy with the engine and its libraries bundled as in the wheel, with
 * /proc mounted in a mount namespace of its own (the container case).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../lib/harness.h"
#include "../lib/start.h"

#define WAIT_MS 90000
#define MAX_REPORTS 64

/* One interpreter set up to run the package. */
struct pyrun {
	const struct interp *py;
	char *pkg_host;     /* the chroot's copy of the package (NULL on the host) */
	char *pkg_in;       /* PYTHONPATH, as the interpreter sees it */
	char *reports_host; /* MEMALOT_REPORT_DIRECTORY, seen from here */
	char *reports_in;   /* ... and as the interpreter sees it */
	char *script;       /* the target script, as the interpreter sees it */
};

static void run_ok(char *const argv[], const char *what)
{
	struct run_result r;

	cr_assert_eq(run__capture(argv, RUN_TIMEOUT, &r), 0, "%s: cannot run %s", what, argv[0]);
	cr_assert_eq(r.status, 0, "%s: %s exited %d: %s%s", what, argv[0], r.status, r.out, r.err);
	run_result__release(&r);
}

static void pyrun_setup(struct pyrun *p, const char *label, const char *script)
{
	char err[512];

	memset(p, 0, sizeof(*p));
	p->py = need_python(label);
	p->script = interp__script(p->py, script, err, sizeof(err));
	cr_assert_not_null(p->script, "%s %s: %s", label, script, err);
	if (p->py->root) {
		/* the package and the engine with its libraries, as a wheel installs them */
		char *bin, *src = xasprintf("%s/python/memalot", harness__srcdir());
		char *tool = xasprintf("%s/python/tools/bundle_engine.py", harness__srcdir());

		static int count;

		p->pkg_in = xasprintf("/tmp/memalot-pkg-%d-%d", (int)getpid(), ++count);
		p->pkg_host = xasprintf("%s%s", p->py->root, p->pkg_in);
		harness__remove_tree(p->pkg_host);
		cr_assert_eq(mkdir(p->pkg_host, 0700), 0, "%s: %s", p->pkg_host, strerror(errno));
		run_ok((char *[]){ "cp", "-r", src, p->pkg_host, NULL }, label);
		bin = xasprintf("%s/memalot/_bin", p->pkg_host);
		run_ok((char *[]){ "python3", tool, (char *)harness__memalot(), bin, NULL }, label);
		p->reports_in = xasprintf("%s/reports", p->pkg_in);
		p->reports_host = xasprintf("%s/reports", p->pkg_host);
		free(bin);
		free(src);
		free(tool);
	} else {
		p->pkg_in = xasprintf("%s/python", harness__srcdir());
		p->reports_host = scratch__file("reports");
		p->reports_in = xasprintf("%s", p->reports_host);
	}
}

static void pyrun_release(struct pyrun *p)
{
	if (p->pkg_host)
		harness__remove_tree(p->pkg_host);
	free(p->pkg_host);
	free(p->pkg_in);
	free(p->reports_host);
	free(p->reports_in);
	free(p->script);
}

/* The command that runs the script with arg (may be NULL) under the interpreter. Free with argv_free. */
static char **pyrun_argv(const struct pyrun *p, const char *arg)
{
	char **v = xcalloc(16, sizeof(*v));
	int n = 0;

	if (p->py->root) {
		v[n++] = xasprintf("unshare");
		v[n++] = xasprintf("-m");
		v[n++] = xasprintf("sh");
		v[n++] = xasprintf("-c");
		v[n++] = xasprintf("mount -t proc proc \"$0/proc\" && exec chroot \"$0\" \"$@\"");
		v[n++] = xasprintf("%s", p->py->root);
	}
	v[n++] = xasprintf("env");
	v[n++] = xasprintf("PYTHONPATH=%s", p->pkg_in);
	v[n++] = xasprintf("MEMALOT_REPORT_DIRECTORY=%s", p->reports_in);
	if (!p->py->root)
		v[n++] = xasprintf("MEMALOT_BIN=%s", harness__memalot());
	v[n++] = xasprintf("%s", p->py->root ? p->py->argv[2] : p->py->argv[0]);
	v[n++] = xasprintf("%s", p->script);
	if (arg)
		v[n++] = xasprintf("%s", arg);
	return v;
}

static void argv_free(char **v)
{
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* Run the script with arg to its end; it must exit 0. */
static void pyrun(const struct pyrun *p, const char *arg, struct run_result *r)
{
	char **argv = pyrun_argv(p, arg);

	cr_assert_eq(run__capture(argv, RUN_TIMEOUT, r), 0, "%s: cannot start", p->py->label);
	cr_assert_eq(r->status, 0, "%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", p->py->label, arg ? arg : "",
		     r->status, r->out, r->err);
	cr_assert_null(strstr(r->err, "Traceback"), "%s %s: %s", p->py->label, arg ? arg : "", r->err);
	argv_free(argv);
}

/* The "REPORT_ID x" line's ID (static buffer). */
static const char *report_id(const struct pyrun *p, const char *out)
{
	static char id[32];
	const char *l = strstr(out, "REPORT_ID ");

	cr_assert_not_null(l, "%s: no REPORT_ID line in:\n%s", p->py->label, out);
	cr_assert_eq(sscanf(l, "REPORT_ID %31s", id), 1);
	return id;
}

/* The saved report's iterations, read back by memalot print --json. @return how many */
static size_t saved(const struct pyrun *p, const char *id, json_t **it, struct run_result *r)
{
	char *args[] = { "print", (char *)id, "--json", "--num-iterations", "0", "--report-directory", p->reports_host,
			 NULL };

	cr_assert_eq(memalot__run(args, r), 0);
	cr_assert_eq(r->status, 0, "%s: memalot print %s: %s", p->py->label, id, r->err);
	return json_lines(p->py->label, r->out, it, MAX_REPORTS);
}

/* ------------------------------------------------------------ the seed's examples */

/* The seed README's time-based example: the strings are held by my_function.my_list (local). */
static void seed_time(const char *label)
{
	struct pyrun p;
	struct bgrun b;
	struct run_result r;
	char **argv, buf[65536];
	bool found = false;
	long long start;

	pyrun_setup(&p, label, "pyapi_seed_time.py");
	argv = pyrun_argv(&p, NULL);
	cr_assert_eq(bgrun__start(&b, argv, NULL), 0);
	/* the reports it prints are the signal: read them as they come */
	for (start = harness__now_ms(); !found && harness__now_ms() - start < WAIT_MS;) {
		ssize_t n = pread(b.out_fd, buf, sizeof(buf) - 1, 0);

		buf[n > 0 ? n : 0] = 0;
		found = strstr(buf, "held by my_function.my_list (local)") != NULL;
		if (!found && bgrun__exited(&b, 200))
			break;
	}
	kill(b.pid, SIGTERM);
	bgrun__wait(&b, WAIT_MS, &r);
	cr_assert(found, "%s: no leak held by my_function.my_list (local) in:\n%s\nstderr:\n%s", label, r.out, r.err);
	cr_assert(strstr(r.out, "Warm-up report"), "%s: no warm-up report", label);
	cr_assert_null(strstr(r.err, "Traceback"), "%s: %s", label, r.err);
	run_result__release(&r);
	argv_free(argv);
	pyrun_release(&p);
}

/* The seed's @leak_monitor example: each call's leak, held by the module's list, reported and saved. */
static void seed_decorator(const char *label)
{
	struct pyrun p;
	struct run_result r, pr;
	json_t *it[MAX_REPORTS];
	size_t n;

	pyrun_setup(&p, label, "pyapi_seed_decorator.py");
	pyrun(&p, NULL, &r);
	cr_assert(strstr(r.out, "memalot: performing leak monitoring for __main__.function_that_leaks_memory"),
		  "%s: %s", label, r.out);
	cr_assert(strstr(r.out, "held by __main__._LEAKED (global)"), "%s:\n%s", label, r.out);
	n = saved(&p, report_id(&p, r.out), it, &pr);
	cr_assert_eq(n, 3, "%s: %zu reports saved for 3 calls", label, n);
	cr_assert(is_warmup_report(it[0]), "%s: the first call's report is not the warm-up report", label);
	for (size_t i = 1; i < n; i++) {
		cr_expect_eq(leak_count(it[i], "__main__.Request"), 1, "%s: call %zu: %lld Request leaked", label, i + 1,
			     leak_count(it[i], "__main__.Request"));
		json_decref(it[i]);
	}
	json_decref(it[0]);
	run_result__release(&pr);
	run_result__release(&r);
	pyrun_release(&p);
}

/*
 * Each call keeps a Forever for good, a OneCall until the next call and a
 * TwoCalls two calls more: with max_object_age_calls=N, each report from
 * call N+1 on lists exactly the objects of call k-N+1 alive N calls later.
 */
static void ages(const char *label, int age)
{
	static const char *const types[] = { "__main__.Forever", "__main__.OneCall", "__main__.TwoCalls" };
	/* how long each type lives, in calls, its own included */
	static const int lives[] = { 1000, 1, 2 };
	struct pyrun p;
	struct run_result r, pr;
	json_t *it[MAX_REPORTS];
	char mode[16];
	size_t n;

	snprintf(mode, sizeof(mode), "ages%d", age);
	pyrun_setup(&p, label, "pyapi_calls.py");
	pyrun(&p, mode, &r);
	n = saved(&p, report_id(&p, r.out), it, &pr);
	cr_assert_eq(n, 6, "%s: %zu reports for 6 calls", label, n);
	for (size_t i = 0; i < n; i++) {
		long long call = json_integer_value(json_object_get(it[i], "call_number"));

		cr_assert_eq(call, (long long)i + 1, "%s: report %zu is of call %lld", label, i + 1, call);
		cr_assert_eq(is_warmup_report(it[i]), i == 0, "%s: call %lld", label, call);
		for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
			/* made in call call-age+1 (after the warm-up call 1), alive at the exit of call */
			long long want = call - age + 1 >= 2 && lives[t] >= age ? 1 : 0;

			cr_expect_eq(leak_count(it[i], types[t]), want, "%s: max_object_age_calls=%d, call %lld: %lld %s, not %lld",
				     label, age, call, leak_count(it[i], types[t]), types[t], want);
		}
		cr_expect_eq(json_array_size(json_object_get(json_object_get(it[i], "leak_summary"), "type_summaries")),
			     (size_t)(call - age + 1 >= 2 ? (age == 1 ? 3 : age == 2 ? 2 : 1) : 0),
			     "%s: call %lld: other types reported: %s", label, call, json_dumps(json_object_get(it[i], "leak_summary"), 0));
		json_decref(it[i]);
	}
	run_result__release(&pr);
	run_result__release(&r);
	pyrun_release(&p);
}

/* The figure of metric in the "GROWTH test metric=N ..." line of leak_testcase.py, or -1. */
static long long growth_of(const char *out, const char *test, const char *metric)
{
	char *line = xasprintf("GROWTH %s ", test), *key = xasprintf(" %s=", metric);
	const char *at = strstr(out, line), *end, *m;
	long long v = -1;

	if (at) {
		end = strchr(at, '\n');
		m = strstr(at, key);
		if (m && (!end || m < end))
			v = strtoll(m + strlen(key), NULL, 10);
	}
	free(line);
	free(key);
	return v;
}

/*
 * psleak's MemoryLeakTestCase (memalot.testing): the native, fd, object and
 * thread leaks each fail with their error, the clean functions pass.
 */
static void leak_testcase(const char *label)
{
	static const char *const want[][2] = {
		{ "test_native_leak", "MemoryLeakError: memory kept increasing" },
		{ "test_native_mmap_leak", "MemoryLeakError: memory kept increasing" },
		{ "test_native_within_tolerance", "ok" },
		{ "test_malloc_info", "ok" },
		{ "test_fd_leak", "UnclosedFdError: detected 1 unclosed fd" },
		{ "test_object_leak", "ObjectLeakError: memalot: leak_objects leaked Python objects" },
		{ "test_thread_leak", "UnclosedPythonThreadError:" },
		{ "test_garbage_leak", "UncollectableGarbageError: 'leak_garbage' left 1 uncollectable object" },
		{ "test_clean_native", "ok" },
		{ "test_clean_python", "ok" },
		{ "test_bad_times", "ValueError: times must be" },
	};
	struct pyrun p;
	struct run_result r;

	pyrun_setup(&p, label, "leak_testcase.py");
	pyrun(&p, NULL, &r);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		char *line = xasprintf("RESULT %s %s", want[i][0], want[i][1]);

		cr_assert(strstr(r.out, line), "%s: no '%s' in:\n%s\nstderr:\n%s", label, line, r.out, r.err);
		free(line);
	}
	/* the object leak's chain goes to its root */
	cr_assert(strstr(r.err, "__main__._REGISTRY (global) \xe2\x86\x92 list[*]"), "%s: no chain in:\n%s", label, r.err);
	/* MemoryLeakError.growth: 100 calls of 16 KiB from the heap, 10 of 256 KiB mapped, in every run */
	cr_assert_geq(growth_of(r.out, "test_native_leak", "heap"), 100 * 16384 * 9 / 10, "%s:\n%s", label, r.out);
	cr_assert_geq(growth_of(r.out, "test_native_mmap_leak", "mmap"), 10 * 262144, "%s:\n%s", label, r.out);
	cr_assert(strstr(r.out, "\ndone\n"), "%s: did not end:\n%s", label, r.out);
	run_result__release(&r);
	pyrun_release(&p);
}

static void matrix_case(const char *label)
{
	leak_testcase(label);
	seed_time(label);
	seed_decorator(label);
	ages(label, 2);
	ages(label, 3);
}

#define PYAPI(id, label) \
	Test(pyapi_matrix, id, .fini = scratch__cleanup, .timeout = 600) { matrix_case(label); }
PYAPI(pyenv_3_8, "pyenv-3.8")
PYAPI(pyenv_3_9, "pyenv-3.9")
PYAPI(pyenv_3_10, "pyenv-3.10")
PYAPI(pyenv_3_11, "pyenv-3.11")
PYAPI(pyenv_3_12, "pyenv-3.12")
PYAPI(pyenv_3_13, "pyenv-3.13")
PYAPI(debian_3_11, "debian-3.11")
PYAPI(debian_3_11d, "debian-3.11d")
PYAPI(sid_3_13, "sid-3.13")
PYAPI(sid_3_13d, "sid-3.13d")
PYAPI(sid_3_14, "sid-3.14")
PYAPI(sid_3_14d, "sid-3.14d")
PYAPI(sid_3_15, "sid-3.15")
PYAPI(sid_3_15d, "sid-3.15d")

/* ------------------------------------------------------------ the API, on the default interpreter and 3.15 */

/* MCP's get_leak_report serves a function-based report like any other. */
static void mcp_serves(const struct pyrun *p, const char *id)
{
	struct run_result r;
	char *cmd = xasprintf(
		"printf '%%s\\n' "
		"'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
		"\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}' "
		"'{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}' "
		"'{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"get_leak_report\","
		"\"arguments\":{\"report_id\":\"%s\",\"num_iterations\":0}}}' | '%s' mcp --report-directory '%s'",
		id, harness__memalot(), p->reports_host);
	json_t *reply = NULL, *sc;
	const char *last;

	cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 60, &r), 0);
	cr_assert_eq(r.status, 0, "memalot mcp: %s", r.err);
	last = strstr(r.out, "{\"jsonrpc\":\"2.0\",\"id\":2");
	cr_assert_not_null(last, "no answer to get_leak_report:\n%s", r.out);
	reply = json_loads(last, JSON_DISABLE_EOF_CHECK, NULL);
	sc = json_object_get(json_object_get(reply, "result"), "structuredContent");
	cr_assert(json_is_object(sc), "get_leak_report: %s", last);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(sc, "summary"), "discovery")), "function");
	cr_assert_eq(json_array_size(json_object_get(sc, "iterations")), 4, "%s", last);
	json_decref(reply);
	run_result__release(&r);
	free(cmd);
}

static void api_case(const char *label)
{
	struct pyrun p;
	struct run_result r, pr;
	json_t *it[MAX_REPORTS];
	size_t n;

	pyrun_setup(&p, label, "pyapi_calls.py");

	ages(label, 1);

	/* a context manager reused: each with-block is a call */
	pyrun(&p, "context_manager", &r);
	n = saved(&p, report_id(&p, r.out), it, &pr);
	cr_assert_eq(n, 4, "%s: context manager: %zu reports for 4 blocks", label, n);
	cr_assert(strstr(r.out, "OK closed helper_exit=0 tracer=0"), "%s: close():\n%s\n%s", label, r.out, r.err);
	mcp_serves(&p, report_id(&p, r.out));
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(leak_count(it[i], "__main__.Forever"), i ? 1 : 0, "%s: block %zu", label, i + 1);
		cr_expect_eq(leak_count(it[i], "__main__.OneCall"), 0, "%s: included_type_names let OneCall in", label);
		json_decref(it[i]);
	}
	run_result__release(&pr);
	run_result__release(&r);

	/* the decorator without parentheses, and on an async function */
	pyrun(&p, "plain_decorator", &r);
	cr_assert(strstr(r.out, "held by __main__._FOREVER (global)"), "%s:\n%s", label, r.out);
	run_result__release(&r);
	pyrun(&p, "async", &r);
	n = saved(&p, report_id(&p, r.out), it, &pr);
	cr_assert_eq(n, 3, "%s: async: %zu reports", label, n);
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(leak_count(it[i], "__main__.Forever"), i ? 1 : 0, "%s: async call %zu", label, i + 1);
		json_decref(it[i]);
	}
	run_result__release(&pr);
	run_result__release(&r);

	/* output_func gets the reports; the console too only with tee_console */
	pyrun(&p, "output", &r);
	cr_assert(strstr(r.err, "LOG: ==== memalot report"), "%s: output_func got no report:\n%s", label, r.err);
	cr_assert_null(strstr(r.out, "==== memalot report"), "%s: a report on the console without tee_console",
		       label);
	cr_assert(strstr(r.out, "REPORT_ID None"), "%s: save_reports=False saved a report", label);
	run_result__release(&r);
	pyrun(&p, "output_tee", &r);
	cr_assert(strstr(r.err, "LOG: ==== memalot report"), "%s: output_func got no report", label);
	cr_assert(strstr(r.out, "==== memalot report"), "%s: tee_console printed nothing:\n%s", label, r.out);
	run_result__release(&r);

	/* bad values raise before anything starts: 12 of them, no helper started */
	pyrun(&p, "bad_options", &r);
	cr_assert_null(strstr(r.out, "NOT RAISED"), "%s:\n%s", label, r.out);
	n = 0;
	for (const char *l = r.out; (l = strstr(l, "RAISED ")); l++)
		n++;
	cr_assert_eq(n, 12, "%s: %zu options refused:\n%s", label, n, r.out);
	cr_assert(strstr(r.out, "OK children=0 tracer=0"), "%s:\n%s", label, r.out);
	run_result__release(&r);

	/* stop() detaches, the helper exits 0, the program runs on */
	pyrun(&p, "stop", &r);
	cr_assert(strstr(r.out, "OK stopped helper_exit=0 tracer=0"), "%s:\n%s%s", label, r.out, r.err);
	cr_assert(strstr(r.out, "OK runs on"), "%s", label);
	run_result__release(&r);

	/* a forked child's calls: an engine of its own (its warm-up, then one leak), the parent's goes on */
	pyrun(&p, "forked", &r);
	cr_assert(strstr(r.out, "OK forked child_status=0 parent_calls=2"), "%s:\n%s%s", label, r.out, r.err);
	run_result__release(&r);

	/* time-based monitoring ends with the program: its helper is gone (reaped at the exit) */
	pyrun(&p, "exit_time", &r);
	{
		int helper = 0;
		const char *l = strstr(r.out, "HELPER ");

		cr_assert(l && sscanf(l, "HELPER %d", &helper) == 1 && helper > 0, "%s:\n%s", label, r.out);
		cr_assert(kill(helper, 0) && errno == ESRCH, "%s: helper %d outlived the program", label, helper);
	}
	run_result__release(&r);

	/* the helper SIGKILLed while it holds the program: said once, the program not stopped, calls go on */
	pyrun(&p, "kill_helper", &r);
	cr_assert(strstr(r.out, "OK survived tracer=0"), "%s:\n%s%s", label, r.out, r.err);
	cr_assert(strstr(r.err, "memalot engine is gone"), "%s: the lost engine was not said:\n%s", label, r.err);
	run_result__release(&r);
	pyrun_release(&p);
}

Test(pyapi, api_default_python, .fini = scratch__cleanup, .timeout = 600)
{
	api_case(DEFAULT_PYTHON);
}

Test(pyapi, api_sid_3_15, .fini = scratch__cleanup, .timeout = 600)
{
	api_case("sid-3.15");
}

/* 3.6 and 3.7: import works, and a monitor says why it cannot run, before any call. */
static void unsupported(const char *label)
{
	struct pyrun p;
	struct run_result r;

	pyrun_setup(&p, label, "pyapi_calls.py");
	pyrun(&p, "unsupported", &r);
	cr_assert(strstr(r.out, "RAISED EngineError | Python 3."), "%s:\n%s%s", label, r.out, r.err);
	cr_assert(strstr(r.out, "is not supported"), "%s:\n%s", label, r.out);
	run_result__release(&r);
	pyrun_release(&p);
}

Test(pyapi, unsupported_3_6, .fini = scratch__cleanup, .timeout = 120)
{
	unsupported("pyenv-3.6");
}

Test(pyapi, unsupported_3_7, .fini = scratch__cleanup, .timeout = 120)
{
	unsupported("pyenv-3.7");
}

/* The package's keywords are made from the engine's option table: the committed file is current. */
Test(pyapi, options_file_is_made_from_the_table, .fini = scratch__cleanup, .timeout = 60)
{
	char *out = scratch__file("options.py"), *cmd;
	struct run_result r;

	cmd = xasprintf("'%s' options --json | python3 '%s/python/tools/gen_options.py' >'%s' && "
			"diff -u '%s/python/memalot/_options.py' '%s'",
			harness__memalot(), harness__srcdir(), out, harness__srcdir(), out);
	cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 60, &r), 0);
	cr_assert_eq(r.status, 0, "python/memalot/_options.py is not what 'make python-options' makes:\n%s%s", r.out,
		     r.err);
	run_result__release(&r);
	free(cmd);
	free(out);
}

/* python -m memalot runs the engine's command line; its version is the package's. */
Test(pyapi, python_m_memalot_is_the_cli, .fini = scratch__cleanup, .timeout = 60)
{
	const struct interp *py = need_python(DEFAULT_PYTHON);
	char *pp = xasprintf("PYTHONPATH=%s/python", harness__srcdir());
	char *bin = xasprintf("MEMALOT_BIN=%s", harness__memalot());
	struct run_result r, v;

	cr_assert_eq(run__capture((char *[]){ "env", pp, bin, py->argv[0], "-m", "memalot", "--version", NULL }, 60, &r),
		     0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(run__capture((char *[]){ "env", pp, py->argv[0], "-c",
					      "import memalot; print('memalot', memalot.__version__)", NULL },
				  60, &v),
		     0);
	cr_assert_str_eq(r.out, v.out, "python -m memalot --version says %s, the package %s", r.out, v.out);
	run_result__release(&r);
	run_result__release(&v);
	free(pp);
	free(bin);
}

/*
 * The wheel carries the engine and its libraries: installed with pip and no
 * index into a fresh venv, it monitors with no MEMALOT_BIN and no memalot on
 * PATH; `pip install ./python` builds with the in-tree backend, no index.
 */
Test(pyapi, wheel_installs_without_index, .fini = scratch__cleanup, .timeout = 300)
{
	const struct interp *py = need_python("pyenv-3.12");
	char *dir = scratch__file("src"), *venv = scratch__file("venv"), *pure = scratch__file("pure");
	char *cmd, *script = scratch__file("app.py");
	struct run_result r;
	FILE *f;

	if (py->root)
		cr_skip_test("the wheel test runs a host interpreter");
	f = fopen(script, "w");
	cr_assert_not_null(f);
	fputs("import memalot\n_KEEP = []\n\n@memalot.leak_monitor(save_reports=False)\ndef work():\n"
	      "    _KEEP.append(bytearray(10))\n\nfor _ in range(3):\n    work()\n",
	      f);
	fclose(f);
	cmd = xasprintf("set -e; mkdir -p '%s'; cp -r '%s/python' '%s/'; rm -rf '%s/python/memalot/_bin'; "
			"python3 '%s/python/tools/bundle_engine.py' '%s' '%s/python/memalot/_bin'; "
			"cd '%s/python' && whl=$(python3 -c 'import sys; sys.path.insert(0, \"_build\"); import backend; "
			"print(backend.build_wheel(\"..\"))') && rm -rf memalot/_bin && cd .. && "
			"'%s' -m venv '%s' && '%s/bin/pip' install -q --no-index \"$whl\" && "
			"'%s' -m venv '%s' && '%s/bin/pip' install -q --no-index '%s/python/' && "
			"unset MEMALOT_BIN; cd / && PATH=/usr/bin:/bin '%s/bin/python' '%s' && "
			"'%s/bin/python' -c 'import memalot._engine as e; print(\"pure\", e._bundled())' && "
			"'%s/bin/python' -c 'from importlib.metadata import entry_points as e; "
			"print(\"pytest11\", [p.value for p in e(group=\"pytest11\")])' && "
			/* Debian's pytest loads the plugin by its entry point alone (no -p) */
			"if /usr/bin/python3.11 -c 'import pytest' 2>/dev/null; then "
			"'%s/bin/pip' install -q --no-index --no-deps --target '%s/site' '%s/'\"$whl\" && "
			"cp -r '%s/tests/pytest_sample' '%s/sample' && cd '%s/sample' && "
			"PYTHONPATH='%s/site' PYTHONDONTWRITEBYTECODE=1 MEMALOT_REPORT_DIRECTORY='%s/reports' "
			"/usr/bin/python3.11 -m pytest -p no:cacheprovider --memalot test_sample.py -k leaks_into_cache "
			"|| echo \"pytest exit $?\"; fi",
			dir, harness__srcdir(), dir, dir, dir, harness__memalot(), dir, dir, py->argv[0], venv, venv,
			py->argv[0], pure, pure, dir, venv, script, pure, venv, venv, dir, dir, harness__srcdir(), dir, dir,
			dir, dir);
	cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 240, &r), 0);
	cr_assert_eq(r.status, 0, "exit %d:\n%s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "held by __main__._KEEP (global)"), "the wheel's engine reported no leak:\n%s\n%s",
		  r.out, r.err);
	cr_assert(strstr(r.out, "pure None"), "pip install ./python carried an engine:\n%s", r.out);
	/* pytest finds the plugin by its entry point */
	cr_assert(strstr(r.out, "pytest11 ['memalot.pytest_plugin']"), "no pytest11 entry point:\n%s", r.out);
	if (!access("/usr/bin/python3.11", X_OK) && strstr(r.out, "test session starts")) {
		cr_assert(strstr(r.out, "test_leaks_into_cache leaked Python objects") && strstr(r.out, "pytest exit 1"),
			  "pytest did not load the installed plugin by its entry point:\n%s\n%s", r.out, r.err);
	}
	run_result__release(&r);
	free(cmd);
	free(dir);
	free(venv);
	free(pure);
	free(script);
}
