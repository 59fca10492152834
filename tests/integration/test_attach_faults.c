/* SPDX-License-Identifier: MIT */
/*
 * memalot attach when things go wrong: a target that exits as memalot
 * starts or while it runs, one whose main thread has exited, a refused
 * attach (already traced, not Python, too old), Ctrl-C mid-run. Also run
 * under ASan (MEMALOT_ASAN_TESTS): every error path must release what it
 * holds, and a LeakSanitizer report in memalot's stderr fails the test.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "../lib/start.h"

#define LABEL DEFAULT_PYTHON
/* How long memalot may take to end once its target died or it got a signal. */
#define PROMPT_MS 20000
/* How long a whole attach run of these tests may take (a loaded machine, ASan). */
#define RUN_MS 90000
/* How long the kernel may take to let go of a target after its tracer left. */
#define RELEASE_MS 2000
/* Milliseconds the target of the race waits between its ready line and its exit, one round each. */
static const int race_delays_ms[] = { 0, 0, 1, 2, 3, 5, 8, 12, 20, 30, 50 };

/* memalot's stderr shows no sanitizer report (ASan, LeakSanitizer, UBSan). */
static void assert_no_sanitizer(const struct run_result *r, const char *what)
{
	cr_assert(!strstr(r->err, "Sanitizer") && !strstr(r->err, "runtime error:"),
		  "%s: a sanitizer report: %s", what, r->err);
}

/* memalot's stderr is exactly one line starting with "memalot: ", and nothing else went wrong. */
static void assert_one_error_line(const struct run_result *r, const char *what)
{
	size_t n = strlen(r->err);
	const char *nl = strchr(r->err, '\n');

	assert_no_sanitizer(r, what);
	cr_assert(n > 0 && !strncmp(r->err, "memalot: ", 9), "%s: exit %d, stderr: '%s'", what, r->status,
		  r->err);
	cr_assert(nl && nl == r->err + n - 1, "%s: stderr is not one line: '%s'", what, r->err);
}

/* A new empty directory (the caller removes it with harness__remove_tree and frees the path). */
static char *new_dir(void)
{
	char tmpl[] = "/tmp/memalot-attach-faults-XXXXXX";

	cr_assert_not_null(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
	return strdup(tmpl);
}

/* How many saved reports (session directories) dir holds. */
static int count_reports(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, "memalot_report_", 15);
	closedir(d);
	return n;
}

/* Start memalot with args (NULL-terminated, without argv[0]) in the background. */
static void start_memalot(struct bgrun *m, char *const args[])
{
	char *argv[24] = { (char *)harness__memalot() };
	int n = 1, ret;

	while (*args && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	ret = bgrun__start(m, argv, NULL);
	cr_assert_eq(ret, 0, "cannot run %s: %s", argv[0], strerror(-ret));
}

/*
 * Wait until text shows in the stderr of m (a memory file), pacing on its
 * exit. @return 1 when it showed, 0 when m exited first or timeout_ms passed
 */
static int wait_stderr(struct bgrun *m, const char *text, int timeout_ms)
{
	long long deadline = harness__now_ms() + timeout_ms;
	static char buf[65536];

	while (harness__now_ms() < deadline) {
		ssize_t n = pread(m->err_fd, buf, sizeof(buf) - 1, 0);

		if (n > 0) {
			buf[n] = 0;
			if (strstr(buf, text))
				return 1;
		}
		if (bgrun__exited(m, 5))
			return 0;
	}
	return 0;
}

/*
 * Wait until memalot has the target frozen (a thread in ptrace stop 't').
 * @return 1 frozen, 0 memalot exited first or timeout_ms passed
 */
static int wait_frozen(struct bgrun *m, pid_t target, int timeout_ms)
{
	long long deadline = harness__now_ms() + timeout_ms;

	while (harness__now_ms() < deadline) {
		if (proc__state(target) == 't')
			return 1;
		if (bgrun__exited(m, 1))
			return 0;
	}
	return 0;
}

static void assert_released(pid_t pid, const char *what)
{
	char why[256] = "";
	int ret = proc__wait_released(pid, RELEASE_MS, why, sizeof(why));

	cr_assert_eq(ret, 0, "%s: pid %d not released within %d ms: %s", what, (int)pid, RELEASE_MS,
		     ret == -ETIMEDOUT ? why : strerror(-ret));
}

/* The target answers a ping with a reply starting with prefix. */
static void assert_answers(struct target *t, const char *prefix)
{
	char reply[128];
	int ret = target__request(t, "ping\n", reply, sizeof(reply), 10000);

	cr_assert_eq(ret, 0, "pid %d does not answer: %s", (int)t->pid, strerror(-ret));
	cr_assert(!strncmp(reply, prefix, strlen(prefix)), "pid %d answered '%s', not '%s...'", (int)t->pid, reply,
		  prefix);
}

/* ------------------------------------------------------------ the target exits */

/*
 * A target that exits on its own right after its ready line, at a growing
 * delay (the interpreter torn down the normal way, or os._exit), with
 * memalot attach started at once: whichever moment of memalot's start-up
 * the exit hits (maps, layout discovery, the first freeze), the answer is
 * 8 with one line that says it exited, or 0 when the first snapshot was
 * taken before it went ("monitoring ends"). Never "not a Python process",
 * "interpreter list not readable" or "no process": the target stays a
 * zombie until the test reaps it. A report is saved only for the runs that
 * took a snapshot.
 */
Test(attach_faults, target_exits_as_attach_starts, .fini = harness__cleanup, .timeout = 300)
{
	char *dir = new_dir();
	int exited = 0, watched = 0, round = 0;

	for (size_t i = 0; i < sizeof(race_delays_ms) / sizeof(race_delays_ms[0]); i++)
		for (int hard = 0; hard <= 1; hard++, round++) {
			char delay[16], pidstr[16], what[96];
			char *extra[] = { "20000", delay, hard ? "hard" : "soft", NULL };
			char *args[] = { "attach", pidstr, "--max-object-lifetime", "1", "--duration", "10",
					 "--report-directory", dir, NULL };
			struct run_result r;
			struct target t;
			int st;

			snprintf(delay, sizeof(delay), "%d", race_delays_ms[i]);
			snprintf(what, sizeof(what), "round %d (exit %s %d ms after ready)", round,
				 hard ? "with os._exit" : "through Py_Finalize", race_delays_ms[i]);
			start_target(&t, LABEL, "exit_soon.py", extra);
			snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
			cr_assert_eq(memalot__run(args, &r), 0);
			cr_assert(!r.timed_out, "%s: memalot timed out: %s", what, r.err);
			st = target__stop(&t);
			cr_assert_eq(st, 0, "%s: the target ended with %d: %s", what, st, t.err);
			if (r.status == 8) {
				assert_one_error_line(&r, what);
				cr_assert(strstr(r.err, "exited"), "%s: exit 8 without saying so: %s", what, r.err);
				exited++;
			} else {
				cr_assert_eq(r.status, 0, "%s: exit %d, not 0 or 8: %s", what, r.status, r.err);
				assert_no_sanitizer(&r, what);
				cr_assert(strstr(r.err, "exited; monitoring ends"), "%s: %s", what, r.err);
				watched++;
			}
			run_result__release(&r);
		}
	cr_log_info("target_exits_as_attach_starts: %d rounds: %d exit 8, %d exit 0", round, exited, watched);
	cr_assert_gt(exited, 0, "no round had the target exit before the first snapshot: the race was not run");
	cr_assert_eq(count_reports(dir), watched, "%d reports saved for %d runs that took a snapshot",
		     count_reports(dir), watched);
	harness__remove_tree(dir);
	free(dir);
}

/*
 * The target is SIGKILLed once attach watches it: the run ends with 0
 * ("the target exiting ends the run"), promptly, and releases what the
 * failed snapshot held (ASan).
 */
Test(attach_faults, target_exits_mid_run, .fini = harness__cleanup, .timeout = 180)
{
	char *extra[] = { "300000", NULL }, pidstr[16];
	char *args[] = { "attach", pidstr, "--max-object-lifetime", "1", "--no-save-reports", NULL };
	long long killed;
	struct run_result r;
	struct target t;
	struct bgrun m;

	start_target(&t, LABEL, "large_heap.py", extra);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	start_memalot(&m, args);
	cr_assert(wait_stderr(&m, "watching pid", RUN_MS), "attach never started watching");
	/* the next check is then on its way: kill the target when memalot has it frozen, if it can be seen */
	wait_frozen(&m, t.pid, 5000);
	cr_assert_eq(kill(t.pid, SIGKILL), 0, "kill: %s", strerror(errno));
	killed = harness__now_ms();
	bgrun__wait(&m, PROMPT_MS, &r);
	cr_assert(!r.timed_out, "memalot still ran %d ms after its target was killed: %s", PROMPT_MS, r.err);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	assert_no_sanitizer(&r, "target killed mid-run");
	cr_assert(strstr(r.err, "exited; monitoring ends"), "%s", r.err);
	cr_log_info("target_exits_mid_run: memalot ended %lld ms after the kill", harness__now_ms() - killed);
	run_result__release(&r);
	cr_assert_eq(target__stop(&t), 128 + SIGKILL, "%s", t.err);
}

/*
 * Ctrl-C while memalot has the target frozen, in its first snapshot and in
 * a later one: the target is released at once and runs on, memalot ends
 * with 0 and releases the interrupted snapshot (ASan).
 */
Test(attach_faults, sigint_mid_run, .fini = harness__cleanup, .timeout = 240)
{
	char *extra[] = { "2000000", NULL }, pidstr[16];
	char *args[] = { "attach", pidstr, "--max-object-lifetime", "2", "--no-save-reports", NULL };
	struct target t;
	int landed = 0;

	start_target(&t, LABEL, "large_heap.py", extra);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	for (int later = 0; later <= 1; later++) {
		const char *what = later ? "Ctrl-C in a later check" : "Ctrl-C in the first snapshot";
		struct run_result r;
		struct bgrun m;
		int frozen;

		start_memalot(&m, args);
		if (later)
			cr_assert(wait_stderr(&m, "watching pid", RUN_MS), "%s: attach never started watching", what);
		frozen = wait_frozen(&m, t.pid, RUN_MS);
		cr_assert_eq(kill(m.pid, SIGINT), 0, "kill: %s", strerror(errno));
		bgrun__wait(&m, PROMPT_MS, &r);
		cr_assert(!r.timed_out, "%s: memalot still ran %d ms later: %s", what, PROMPT_MS, r.err);
		cr_assert_eq(r.status, 0, "%s: exit %d: %s", what, r.status, r.err);
		assert_no_sanitizer(&r, what);
		landed += frozen;
		run_result__release(&r);
		assert_released(t.pid, what);
	}
	cr_assert_gt(landed, 0, "no Ctrl-C landed while the target was frozen");
	assert_answers(&t, "alive 2000000");
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
}

/* ------------------------------------------------------------ the main thread exited */

/*
 * A live Python whose main thread called pthread_exit while a worker runs
 * on (tests/targets/main_thread_exit.py): /proc/PID/maps and PID's
 * process_vm_readv see no memory, the worker's do. snapshot and attach read
 * it through the worker: never "no process with pid N".
 */
Test(attach_faults, main_thread_exited, .fini = harness__cleanup, .timeout = 120)
{
	char *extra[] = { "1000", NULL }, pidstr[16];
	char *snap[] = { "snapshot", pidstr, "--json", NULL };
	char *attach[] = { "attach", pidstr, "--max-object-lifetime", "1", "--warmup-time", "0", "--duration", "2",
			   "--json", "--no-save-reports", NULL };
	struct run_result r;
	struct target t;
	json_t *doc;

	start_target(&t, LABEL, "main_thread_exit.py", extra);
	cr_assert_eq(proc__state(t.pid), 'Z', "the main thread of pid %d is not a zombie", (int)t.pid);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);

	cr_assert_eq(memalot__run(snap, &r), 0);
	cr_assert_eq(r.status, 0, "snapshot: exit %d: %s", r.status, r.err);
	assert_no_sanitizer(&r, "snapshot");
	doc = json_loads(r.out, 0, NULL);
	cr_assert_not_null(doc, "%.300s", r.out);
	cr_assert_geq(snap__type_count(doc, "builtins.list"), 1000, "the worker's 1000 lists are missing: %.300s",
		      r.out);
	cr_assert_eq(json_integer_value(json_object_get(doc, "pid")), t.pid, "%.300s", r.out);
	json_decref(doc);
	run_result__release(&r);
	assert_released(t.pid, "after a snapshot");

	cr_assert_eq(memalot__run(attach, &r), 0);
	cr_assert_eq(r.status, 0, "attach: exit %d: %s", r.status, r.err);
	assert_no_sanitizer(&r, "attach");
	cr_assert(strstr(r.err, "watching pid"), "%s", r.err);
	cr_assert(strstr(r.out, "\"iteration_number\""), "attach printed no report: %s", r.out);
	run_result__release(&r);
	assert_released(t.pid, "after attach");
	assert_answers(&t, "alive 1000");
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
}

/* ------------------------------------------------------------ refused attaches */

/*
 * strace holds the target: attach is exit 5, one line naming the tracer,
 * and saves no report that `memalot list` would show.
 */
Test(attach_faults, failed_attach_saves_no_report, .fini = harness__cleanup, .timeout = 60)
{
	char *extra[] = { "1000", NULL }, pidstr[16], want[64];
	char *strace_argv[] = { "strace", "-p", pidstr, "-o", "/dev/null", NULL };
	char *dir = new_dir();
	char *args[] = { "attach", pidstr, "--max-object-lifetime", "1", "--report-directory", dir, NULL };
	char *list[] = { "list", "--report-directory", dir, "--json", NULL };
	struct run_result r, sr;
	long long deadline;
	struct target t;
	struct bgrun s;
	int ret;

	start_target(&t, LABEL, "large_heap.py", extra);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	ret = bgrun__start(&s, strace_argv, NULL);
	if (ret == -ENOENT)
		cr_skip_test("strace is not installed (apt-get install strace)");
	cr_assert_eq(ret, 0, "cannot run strace: %s", strerror(-ret));
	deadline = harness__now_ms() + 20000;
	while (proc__tracer(t.pid) != s.pid && harness__now_ms() < deadline)
		if (bgrun__exited(&s, 2))
			break;
	cr_assert_eq(proc__tracer(t.pid), s.pid, "strace -p %d did not become its tracer", (int)t.pid);

	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 5, "attach to a traced process: exit %d, not 5: %s", r.status, r.err);
	assert_one_error_line(&r, "already traced");
	snprintf(want, sizeof(want), "traced by pid %d (strace)", (int)s.pid);
	cr_assert(strstr(r.err, want), "stderr does not say '%s': %s", want, r.err);
	run_result__release(&r);
	cr_assert_eq(count_reports(dir), 0, "a failed attach left %d report(s) in %s", count_reports(dir), dir);
	cr_assert_eq(memalot__run(list, &r), 0);
	cr_assert_eq(r.status, 0, "list: exit %d: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "[]\n", "memalot list shows a report of the failed attach: %s", r.out);
	run_result__release(&r);

	kill(s.pid, SIGKILL);
	bgrun__wait(&s, PROMPT_MS, &sr);
	run_result__release(&sr);
	assert_released(t.pid, "after strace was killed");
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
	harness__remove_tree(dir);
	free(dir);
}

/* Not a Python process (sleep): 6, one line, the layout's memory released (ASan). */
Test(attach_faults, not_python, .fini = harness__cleanup, .timeout = 60)
{
	char *sleep_argv[] = { "sleep", "1000", NULL }, pidstr[16];
	char *args[] = { "attach", pidstr, "--max-object-lifetime", "1", NULL };
	struct run_result r, sr;
	struct bgrun s;

	cr_assert_eq(bgrun__start(&s, sleep_argv, NULL), 0);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)s.pid);
	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 6, "attach to sleep: exit %d, not 6: %s", r.status, r.err);
	assert_one_error_line(&r, "not python");
	cr_assert(strstr(r.err, "not a Python process"), "%s", r.err);
	run_result__release(&r);
	kill(s.pid, SIGKILL);
	bgrun__wait(&s, PROMPT_MS, &sr);
	run_result__release(&sr);
}

/* CPython 3.7: 7 ("not supported"), one line, the layout's memory released (ASan). */
Test(attach_faults, python_3_7_is_refused, .fini = harness__cleanup, .timeout = 60)
{
	char *extra[] = { "1000", NULL }, pidstr[16];
	char *args[] = { "attach", pidstr, "--max-object-lifetime", "1", NULL };
	struct run_result r;
	struct target t;

	start_target(&t, "pyenv-3.7", "large_heap.py", extra);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 7, "attach to 3.7: exit %d, not 7: %s", r.status, r.err);
	assert_one_error_line(&r, "python 3.7");
	cr_assert(strstr(r.err, "Python 3.7") && strstr(r.err, "not supported"), "%s", r.err);
	run_result__release(&r);
	assert_released(t.pid, "after refusing 3.7");
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
}
