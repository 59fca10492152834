/* SPDX-License-Identifier: MIT */
/* memalot snapshot when things go wrong: targets that die, memalot killed, no permission, already traced. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/harness.h"

/* Every fault test runs one interpreter (pyenv 3.12, else another, else Debian's 3.11): the point is memalot's behaviour, not the matrix. */
#define LABEL DEFAULT_PYTHON
/* Objects in the large-heap target: enough for a walk of a few hundred milliseconds. */
#define LARGE_HEAP "2000000"
/* How long memalot may take to end once its target died or it got a signal. */
#define PROMPT_MS 10000
/* How long a snapshot of a target may take at all (a loaded machine is slow). */
#define SNAPSHOT_MS 60000
/* How long the kernel may take to let go of a target after its tracer left. */
#define RELEASE_MS 2000
/* How long a target may take to answer a request. */
#define REPLY_MS 10000
/* Rounds of test 2: memalot killed at random moments. */
#define KILL_ROUNDS 50
/* Still objects next to the busy threads: about half of a snapshot is then the walk. */
#define BUSY_BALLAST "1000000"
/* Rounds of killing a small target at random moments. */
#define EARLY_ROUNDS 8

static const struct interp *python(void)
{
	const struct interp *py = interp__get(LABEL);

	cr_assert_not_null(py, "no interpreter called '%s' in the matrix", LABEL);
	if (py->skip)
		cr_skip_test("%s: %s", LABEL, py->skip);
	return py;
}

/* Start tests/targets/script under the test interpreter; the arguments end with NULL. */
static void start_target(struct target *t, const char *script, char *const extra[])
{
	const struct interp *py = python();
	char err[512], *path = interp__script(py, script, err, sizeof(err));
	int ret;

	cr_assert_not_null(path, "%s: %s", LABEL, err);
	ret = target__start(t, py, path, extra);
	cr_assert_eq(ret, 0, "%s: %s", LABEL, t->err);
	free(path);
}

static void start_large_heap(struct target *t)
{
	char *extra[] = { LARGE_HEAP, NULL };

	start_target(t, "large_heap.py", extra);
	cr_assert_str_eq(t->ready, "ready " LARGE_HEAP, "large_heap.py said '%s'", t->ready);
}

/* Start `memalot snapshot PID --json` in the background, as o says. */
static void start_memalot(struct bgrun *m, const char *memalot, pid_t pid, const struct bgrun_opts *o)
{
	char pidstr[16];
	char *argv[] = { (char *)memalot, "snapshot", pidstr, "--json", NULL };
	int ret;

	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	ret = bgrun__start(m, argv, o);
	cr_assert_eq(ret, 0, "cannot run %s: %s", memalot, strerror(-ret));
}

/* memalot's stderr must be exactly one line, starting with "memalot: ". */
static void assert_one_error_line(const struct run_result *r, const char *what)
{
	size_t n = strlen(r->err);
	const char *nl = strchr(r->err, '\n');

	cr_assert(n > 0, "%s: memalot (exit %d) wrote nothing on stderr", what, r->status);
	cr_assert(!strncmp(r->err, "memalot: ", 9), "%s: stderr does not start with 'memalot: ': %s",
		  what, r->err);
	cr_assert(nl && nl == r->err + n - 1,
		  "%s: stderr is not exactly one line ending with a newline: '%s'", what, r->err);
}

/* Show memalot's error line in the verbose output. */
static void log_error_line(const char *test, const struct run_result *r)
{
	cr_log_info("%s: exit %d: %.*s", test, r->status, (int)strcspn(r->err, "\n"), r->err);
}

static bool killed_by(int wstatus, int sig)
{
	return WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == sig;
}

static bool exited_with(int wstatus, int code)
{
	return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == code;
}

/* memalot printed a snapshot: a whole one, or a partial one when the GC lists kept changing. */
static bool finished(int wstatus)
{
	return exited_with(wstatus, 0) || exited_with(wstatus, 9);
}

/*
 * Wait until memalot has the target frozen (its main thread in ptrace stop 't'),
 * pacing the look at /proc on memalot's exit.
 * @return 1 frozen with memalot running, 0 memalot exited first, -ETIMEDOUT
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
	return -ETIMEDOUT;
}

/* The target answers a request, with the reply starting with prefix. */
static void assert_answers(struct target *t, const char *prefix, char *reply, size_t len)
{
	int ret = target__request(t, "ping\n", reply, len, REPLY_MS);

	cr_assert_eq(ret, 0, "pid %d does not answer (state '%c'): %s", (int)t->pid,
		     proc__state(t->pid) ? proc__state(t->pid) : '-', strerror(-ret));
	cr_assert(!strncmp(reply, prefix, strlen(prefix)), "pid %d answered '%s', not '%s...'",
		  (int)t->pid, reply, prefix);
}

static void assert_released(pid_t pid, const char *what)
{
	char why[256] = "";
	int ret = proc__wait_released(pid, RELEASE_MS, why, sizeof(why));

	cr_assert_eq(ret, 0, "%s: pid %d not released within %d ms: %s", what, (int)pid, RELEASE_MS,
		     ret == -ETIMEDOUT ? why : strerror(-ret));
}

/* ------------------------------------------------------------ 1. target killed */

/*
 * SIGKILL the large-heap target while memalot has it frozen and walks its
 * heap. The target stays a zombie (we reap it only afterwards), as it would
 * under a parent that is slow to reap. A kill that lands after the walk
 * already read everything lets memalot succeed: that round is repeated with
 * a new target.
 */
Test(faults, target_killed_mid_walk, .fini = harness__cleanup, .timeout = 120)
{
	const char *memalot = harness__memalot();
	struct run_result r = { 0 };
	int attempt;

	for (attempt = 1; attempt <= 3; attempt++) {
		struct target t;
		struct bgrun m;
		long long killed_ms, took;
		int frozen = 0, st;

		start_large_heap(&t);
		for (int run = 0; run < 5 && frozen != 1; run++) {
			start_memalot(&m, memalot, t.pid, NULL);
			frozen = wait_frozen(&m, t.pid, SNAPSHOT_MS);
			if (frozen != 1) {
				/* it finished before we saw the freeze: try again on the same target */
				bgrun__wait(&m, SNAPSHOT_MS, &r);
				cr_log_info("target_killed_mid_walk: memalot ended (exit %d) before the freeze was "
					    "seen; again", r.status);
				run_result__release(&r);
			}
		}
		cr_assert_eq(frozen, 1, "never saw memalot freeze pid %d", (int)t.pid);

		cr_assert_eq(kill(t.pid, SIGKILL), 0, "kill %d: %s", (int)t.pid, strerror(errno));
		killed_ms = harness__now_ms();
		bgrun__wait(&m, PROMPT_MS, &r);
		took = harness__now_ms() - killed_ms;
		st = target__stop(&t);
		cr_assert_eq(st, 128 + SIGKILL, "the target ended with %d, not SIGKILL: %s", st, t.err);

		cr_assert(!r.timed_out, "memalot still ran %d ms after its target was killed (killed it); "
			  "stderr: %s", PROMPT_MS, r.err);
		if (finished(m.wstatus)) {
			cr_log_info("target_killed_mid_walk: attempt %d: the kill came after the walk; again",
				    attempt);
			run_result__release(&r);
			continue;
		}
		/* README: "8 the target exited meanwhile", never 3 ("no such process") */
		cr_assert(exited_with(m.wstatus, 8), "memalot ended with status %d (0x%x), not 8; stderr: %s",
			  r.status, m.wstatus, r.err);
		assert_one_error_line(&r, "target killed mid-walk");
		cr_log_info("target_killed_mid_walk: memalot ended %lld ms after the kill", took);
		log_error_line("target_killed_mid_walk", &r);
		break;
	}
	cr_assert_leq(attempt, 3, "in 3 attempts the kill never landed while memalot walked the heap");
	run_result__release(&r);
}

/*
 * SIGKILL a small target at random moments between 0 and the length of a
 * whole snapshot after memalot starts: while memalot reads its maps, finds
 * its layout, freezes or walks it.
 */
Test(faults, target_killed_early, .fini = harness__cleanup, .timeout = 120)
{
	const char *memalot = harness__memalot();
	uint64_t seed = harness__seed(), rnd = seed;
	char *extra[] = { "1000", NULL };
	long long snap_ms = 0;
	int done = 0;

	cr_log_info("target_killed_early: seed %llu (MEMALOT_FAULT_SEED repeats it)",
		    (unsigned long long)seed);
	for (int round = 0; round <= EARLY_ROUNDS; round++) {
		int delay_ms = round ? (int)(harness__random(&rnd) % (uint64_t)(snap_ms + 1)) : 0;
		struct run_result r;
		struct target t;
		struct bgrun m;
		int st;

		start_target(&t, "large_heap.py", extra);
		start_memalot(&m, memalot, t.pid, NULL);
		if (!round) {
			/* round 0: one whole snapshot, how long the random delays may be */
			bgrun__wait(&m, SNAPSHOT_MS, &r);
			snap_ms = harness__now_ms() - m.start_ms;
			cr_assert(finished(m.wstatus), "a snapshot of large_heap.py 1000 ended "
				  "with %d: %s", r.status, r.err);
			run_result__release(&r);
			cr_assert_eq(target__stop(&t), 0, "the target did not exit cleanly: %s", t.err);
			continue;
		}
		bgrun__exited(&m, delay_ms); /* the random moment, cut short if memalot is done */
		kill(t.pid, SIGKILL);
		bgrun__wait(&m, PROMPT_MS, &r);
		st = target__stop(&t);
		cr_assert_eq(st, 128 + SIGKILL, "the target ended with %d, not SIGKILL: %s", st, t.err);
		cr_assert(!r.timed_out, "round %d (seed %llu, %d ms): memalot still ran %d ms after its "
			  "target was killed; stderr: %s", round, (unsigned long long)seed, delay_ms,
			  PROMPT_MS, r.err);
		if (finished(m.wstatus)) {
			/* the snapshot was done before the kill */
			done++;
			run_result__release(&r);
			continue;
		}
		/* the target is a zombie until we reap it: it existed, so 8 and never 3 */
		cr_assert(exited_with(m.wstatus, 8),
			  "round %d (seed %llu, kill after %d ms): memalot ended with status %d (0x%x), not "
			  "8; stderr: %s", round, (unsigned long long)seed, delay_ms, r.status, m.wstatus, r.err);
		assert_one_error_line(&r, "target killed early");
		run_result__release(&r);
	}
	cr_log_info("target_killed_early: %d rounds, delays up to %lld ms; %d snapshots finished first",
		    EARLY_ROUNDS, snap_ms, done);
}

/* ------------------------------------------------------------ 2. memalot killed */

/*
 * SIGKILL memalot at random moments of a snapshot of a busy target, and, every
 * other round, the moment it is seen holding the target frozen: the random
 * moments alone hit the freeze too rarely to count on (under ASan, start-up is
 * most of a snapshot). The target must be released and run on each time.
 */
Test(faults, memalot_killed_randomly, .fini = harness__cleanup, .timeout = 120)
{
	const char *memalot = harness__memalot();
	uint64_t seed = harness__seed(), rnd = seed;
	char *extra[] = { "4", BUSY_BALLAST, NULL }, reply[128];
	long long before, after, snap_ms;
	int while_frozen = 0, done = 0;
	struct run_result r;
	struct target t;
	struct bgrun m;

	cr_log_info("memalot_killed_randomly: seed %llu (MEMALOT_FAULT_SEED repeats it)",
		    (unsigned long long)seed);
	start_target(&t, "busy_threads.py", extra);
	cr_assert_str_eq(t.ready, "ready 4", "busy_threads.py said '%s'", t.ready);
	assert_answers(&t, "count ", reply, sizeof(reply));
	before = atoll(reply + 6);

	/* one whole snapshot: how long the random delays may be */
	start_memalot(&m, memalot, t.pid, NULL);
	bgrun__wait(&m, SNAPSHOT_MS, &r);
	snap_ms = harness__now_ms() - m.start_ms;
	cr_assert(finished(m.wstatus), "a snapshot of the busy target ended with %d: %s",
		  r.status, r.err);
	run_result__release(&r);
	assert_released(t.pid, "after a whole snapshot");

	for (int round = 0; round < KILL_ROUNDS; round++) {
		int delay_ms = (int)(harness__random(&rnd) % (uint64_t)(snap_ms + 1));
		char what[96];

		snprintf(what, sizeof(what), "round %d (seed %llu, kill after %d ms)", round,
			 (unsigned long long)seed, delay_ms);
		start_memalot(&m, memalot, t.pid, NULL);
		if (round % 2) {
			/* every other round kills it as soon as the target is seen frozen */
			snprintf(what, sizeof(what), "round %d (killed once frozen)", round);
			if (wait_frozen(&m, t.pid, SNAPSHOT_MS) == 1)
				while_frozen++;
		} else if (!bgrun__exited(&m, delay_ms) && proc__state(t.pid) == 't') {
			while_frozen++;
		}
		kill(m.pid, SIGKILL);
		bgrun__wait(&m, PROMPT_MS, &r);
		cr_assert(!r.timed_out, "%s: memalot did not die of SIGKILL", what);
		if (finished(m.wstatus))
			done++;
		else
			cr_assert(killed_by(m.wstatus, SIGKILL), "%s: memalot ended with status %d (0x%x): %s",
				  what, r.status, m.wstatus, r.err);
		run_result__release(&r);
		assert_released(t.pid, what);
	}
	cr_log_info("memalot_killed_randomly: %d rounds, delays up to %lld ms; %d kills while the target "
		    "was frozen, %d snapshots finished first", KILL_ROUNDS, snap_ms, while_frozen, done);
	/* the case that matters: memalot dies holding the target */
	cr_assert_gt(while_frozen, 0, "seed %llu: no kill landed while the target was frozen",
		     (unsigned long long)seed);

	assert_answers(&t, "count ", reply, sizeof(reply));
	after = atoll(reply + 6);
	cr_assert_gt(after, before, "the workers made no progress: %lld rounds before, %lld after", before,
		     after);
	cr_assert_eq(target__stop(&t), 0, "busy_threads.py did not exit cleanly: %s", t.err);
}

/* ------------------------------------------------------------ 3.-6. refusals */

Test(faults, not_python, .fini = harness__cleanup, .timeout = 60)
{
	char *sleep_argv[] = { "sleep", "1000", NULL };
	char pidstr[16], *args[] = { "snapshot", pidstr, NULL };
	struct run_result r, sr;
	struct bgrun s;
	int ret;

	ret = bgrun__start(&s, sleep_argv, NULL);
	cr_assert_eq(ret, 0, "cannot run sleep: %s", strerror(-ret));
	snprintf(pidstr, sizeof(pidstr), "%d", (int)s.pid);
	ret = memalot__run(args, &r);
	cr_assert_eq(ret, 0, "cannot run %s: %s", harness__memalot(), strerror(-ret));
	cr_assert(!r.timed_out, "memalot timed out; stderr: %s", r.err);
	cr_assert_eq(r.status, 6, "memalot on sleep exited %d, not %d; stderr: %s", r.status,
		     6, r.err);
	assert_one_error_line(&r, "not python");
	log_error_line("not_python", &r);
	cr_assert(strstr(r.err, "not a Python process"), "stderr: %s", r.err);
	cr_assert_eq(proc__state(s.pid) == 'S' || proc__state(s.pid) == 'R', true,
		     "sleep is in state '%c' after memalot", proc__state(s.pid));
	run_result__release(&r);
	kill(s.pid, SIGKILL);
	bgrun__wait(&s, PROMPT_MS, &sr);
	run_result__release(&sr);
}

Test(faults, no_such_pid, .fini = harness__cleanup, .timeout = 60)
{
	char pidstr[16], want[64], *args[] = { "snapshot", pidstr, "--json", NULL };
	struct run_result r;
	pid_t pid = -1;
	int ret;

	/* the pid of a child that exited and was reaped; again if it was reused at once */
	for (int i = 0; i < 10; i++) {
		int st;

		pid = fork();
		cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
		if (!pid)
			_exit(0);
		cr_assert_eq(waitpid(pid, &st, 0), pid, "waitpid: %s", strerror(errno));
		if (kill(pid, 0) && errno == ESRCH)
			break;
		pid = -1;
	}
	cr_assert_gt(pid, 0, "every reaped pid was reused at once");
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	ret = memalot__run(args, &r);
	cr_assert_eq(ret, 0, "cannot run %s: %s", harness__memalot(), strerror(-ret));
	cr_assert_eq(r.status, 3, "memalot on a gone pid exited %d, not %d; stderr: %s",
		     r.status, 3, r.err);
	assert_one_error_line(&r, "no such pid");
	log_error_line("no_such_pid", &r);
	snprintf(want, sizeof(want), "no process with pid %d", (int)pid);
	cr_assert(strstr(r.err, want), "stderr does not say '%s': %s", want, r.err);
	cr_assert_str_eq(r.out, "", "memalot printed on stdout: %s", r.out);
	run_result__release(&r);
}

/* Can uid/gid execute path? Asked of a child that became them. */
static bool can_exec_as(const char *path, uid_t uid, gid_t gid)
{
	pid_t pid = fork();
	int st;

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (!pid) {
		if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
			_exit(2);
		_exit(access(path, X_OK) ? 1 : 0);
	}
	while (waitpid(pid, &st, 0) < 0)
		cr_assert_eq(errno, EINTR, "waitpid: %s", strerror(errno));
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}


Test(faults, other_user, .fini = harness__cleanup, .timeout = 60)
{
	const char *memalot = harness__memalot();
	char tmpdir[] = "/tmp/memalot-faults.XXXXXX", copy[sizeof(tmpdir) + 16], want[64], reply[64];
	char *extra[] = { "1000", NULL };
	struct bgrun_opts as_nobody;
	bool copied = false;
	struct run_result r;
	struct passwd *pw;
	struct target t;
	struct bgrun m;

	python();
	if (geteuid() != 0)
		cr_skip_test("becoming another user needs root (running as uid %d)", (int)geteuid());
	pw = getpwnam("nobody");
	if (!pw)
		cr_skip_test("there is no user 'nobody' to run memalot as");
	cr_assert_neq(pw->pw_uid, 0, "'nobody' is uid 0");
	as_nobody = (struct bgrun_opts){ .set_ids = true, .uid = pw->pw_uid, .gid = pw->pw_gid };
	start_target(&t, "large_heap.py", extra);

	if (!can_exec_as(memalot, pw->pw_uid, pw->pw_gid)) {
		/* the build tree is not open to nobody: a copy in a directory that is */
		int ret;

		cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
		cr_assert_eq(chmod(tmpdir, 0755), 0, "chmod %s: %s", tmpdir, strerror(errno));
		snprintf(copy, sizeof(copy), "%s/memalot", tmpdir);
		ret = harness__copy_file(memalot, copy, 0755);
		cr_assert_eq(ret, 0, "copying %s to %s: %s", memalot, copy, strerror(-ret));
		copied = true;
		memalot = copy;
		cr_assert(can_exec_as(memalot, pw->pw_uid, pw->pw_gid), "nobody cannot run %s either",
			  memalot);
	}

	start_memalot(&m, memalot, t.pid, &as_nobody);
	bgrun__wait(&m, SNAPSHOT_MS, &r);
	if (copied) {
		unlink(copy);
		rmdir(tmpdir);
	}
	cr_assert(!r.timed_out, "memalot as nobody timed out; stderr: %s", r.err);
	cr_assert_eq(r.status, 4, "memalot as nobody against a root process exited %d, not "
		     "%d; stderr: %s", r.status, 4, r.err);
	assert_one_error_line(&r, "other user");
	log_error_line("other_user", &r);
	snprintf(want, sizeof(want), "uid %d", (int)pw->pw_uid);
	cr_assert(strstr(r.err, "uid 0") && strstr(r.err, want) && strstr(r.err, "CAP_SYS_PTRACE"),
		  "stderr does not name uid 0, %s and CAP_SYS_PTRACE: %s", want, r.err);
	run_result__release(&r);
	assert_released(t.pid, "after a refused attach");
	assert_answers(&t, "alive 1000", reply, sizeof(reply));
	cr_assert_eq(target__stop(&t), 0, "the target did not exit cleanly: %s", t.err);
}

Test(faults, already_traced, .fini = harness__cleanup, .timeout = 60)
{
	char *extra[] = { "1000", NULL }, pidstr[16], want[64], reply[64];
	char *strace_argv[] = { "strace", "-p", pidstr, "-o", "/dev/null", NULL };
	char *args[] = { "snapshot", pidstr, "--json", NULL };
	struct run_result r, sr;
	struct target t;
	struct bgrun s;
	long long deadline;
	int ret, tracer = 0;

	start_target(&t, "large_heap.py", extra);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	ret = bgrun__start(&s, strace_argv, NULL);
	if (ret == -ENOENT)
		cr_skip_test("strace is not installed (apt-get install strace)");
	cr_assert_eq(ret, 0, "cannot run strace: %s", strerror(-ret));

	/* strace attaches on its own time: wait until the kernel shows it as the tracer */
	deadline = harness__now_ms() + 20000;
	while ((tracer = proc__tracer(t.pid)) <= 0 && harness__now_ms() < deadline)
		if (bgrun__exited(&s, 2))
			break;
	if (tracer != s.pid) {
		bgrun__wait(&s, PROMPT_MS, &sr);
		cr_assert_fail("strace -p %d did not become its tracer (TracerPid %d, strace status %d): %s",
			       (int)t.pid, tracer, sr.status, sr.err);
	}

	ret = memalot__run(args, &r);
	cr_assert_eq(ret, 0, "cannot run %s: %s", harness__memalot(), strerror(-ret));
	cr_assert_eq(r.status, 5, "memalot against a traced process exited %d, not %d; stderr: %s",
		     r.status, 5, r.err);
	assert_one_error_line(&r, "already traced");
	log_error_line("already_traced", &r);
	snprintf(want, sizeof(want), "traced by pid %d (strace)", (int)s.pid);
	cr_assert(strstr(r.err, want), "stderr does not say '%s': %s", want, r.err);
	cr_assert_eq(proc__tracer(t.pid), s.pid, "strace is no longer the tracer after memalot");
	run_result__release(&r);

	kill(s.pid, SIGKILL);
	bgrun__wait(&s, PROMPT_MS, &sr);
	run_result__release(&sr);
	assert_released(t.pid, "after strace was killed");
	assert_answers(&t, "alive 1000", reply, sizeof(reply));
	cr_assert_eq(target__stop(&t), 0, "the target did not exit cleanly: %s", t.err);
}

/*
 * strace -p on one worker thread only (the main thread untraced): still 5,
 * "already traced", naming the thread and the tracer, never a permission error.
 */
Test(faults, worker_thread_traced, .fini = harness__cleanup, .timeout = 60)
{
	char tidstr[16], pidstr[16], want[96], reply[64];
	char *strace_argv[] = { "strace", "-p", tidstr, "-o", "/dev/null", NULL };
	char *args[] = { "snapshot", pidstr, "--json", NULL };
	struct run_result r, sr;
	long long deadline;
	struct target t;
	struct bgrun s;
	int ret, tid;

	start_target(&t, "worker_thread.py", NULL);
	cr_assert_eq(sscanf(t.ready, "ready %d", &tid), 1, "worker_thread.py said '%s'", t.ready);
	snprintf(tidstr, sizeof(tidstr), "%d", tid);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	ret = bgrun__start(&s, strace_argv, NULL);
	cr_assert_eq(ret, 0, "cannot run strace: %s (apt-get install strace)", strerror(-ret));
	deadline = harness__now_ms() + 20000;
	while (proc__tracer(tid) != s.pid && harness__now_ms() < deadline)
		if (bgrun__exited(&s, 2))
			break;
	cr_assert_eq(proc__tracer(tid), s.pid, "strace -p %d did not become the thread's tracer", tid);
	cr_assert_eq(proc__tracer(t.pid), 0, "the main thread is traced too");

	ret = memalot__run(args, &r);
	cr_assert_eq(ret, 0);
	cr_assert_eq(r.status, 5, "a traced worker thread gave exit %d, not 5; stderr: %s", r.status, r.err);
	assert_one_error_line(&r, "worker thread traced");
	snprintf(want, sizeof(want), "thread %d of process %d is already traced by pid %d (strace)", tid,
		 (int)t.pid, (int)s.pid);
	cr_assert(strstr(r.err, want), "stderr does not say '%s': %s", want, r.err);
	run_result__release(&r);
	cr_assert_eq(proc__tracer(tid), s.pid, "strace is no longer the thread's tracer after memalot");

	kill(s.pid, SIGKILL);
	bgrun__wait(&s, PROMPT_MS, &sr);
	run_result__release(&sr);
	assert_released(t.pid, "after strace was killed");
	assert_answers(&t, "alive", reply, sizeof(reply));
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
}

/* ------------------------------------------------------------ 7. memalot interrupted */

/*
 * Send sig to memalot while it has the large-heap target frozen. Its handler
 * detaches every thread at once and the snapshot ends with "interrupted":
 * exit 130 (130) for SIGINT and SIGTERM alike, never a death by
 * the signal. A signal that lands after the snapshot's last check lets it
 * finish normally: that round is repeated.
 */
static void signal_mid_snapshot(int sig)
{
	const char *memalot = harness__memalot();
	struct run_result r = { 0 };
	char reply[64];
	struct target t;
	int run;

	start_large_heap(&t);
	for (run = 1; run <= 5; run++) {
		long long sent_ms = 0, took;
		struct bgrun m;
		int frozen;

		start_memalot(&m, memalot, t.pid, NULL);
		frozen = wait_frozen(&m, t.pid, SNAPSHOT_MS);
		if (frozen == 1) {
			cr_assert_eq(kill(m.pid, sig), 0, "kill: %s", strerror(errno));
			sent_ms = harness__now_ms();
		}
		bgrun__wait(&m, PROMPT_MS, &r);
		took = harness__now_ms() - sent_ms;
		cr_assert(!r.timed_out, "memalot still ran %d ms after %s (killed it); stderr: %s",
			  PROMPT_MS, strsignal(sig), r.err);
		if (frozen != 1 || finished(m.wstatus)) {
			cr_assert(finished(m.wstatus), "memalot ended with %d; stderr: %s",
				  r.status, r.err);
			cr_log_info("%s: run %d: the snapshot was over before the signal; again",
				    strsignal(sig), run);
			run_result__release(&r);
			assert_released(t.pid, "after a snapshot");
			continue;
		}
		cr_assert(exited_with(m.wstatus, 130),
			  "memalot got %s mid-snapshot and ended with status %d (0x%x), not exit %d; stderr: %s",
			  strsignal(sig), r.status, m.wstatus, 130, r.err);
		assert_one_error_line(&r, strsignal(sig));
		log_error_line(strsignal(sig), &r);
		cr_log_info("%s: memalot ended %lld ms after the signal", strsignal(sig), took);
		cr_assert(strstr(r.err, "interrupted"), "stderr: %s", r.err);
		cr_assert_str_eq(r.out, "", "an interrupted memalot printed on stdout: %.200s", r.out);
		break;
	}
	cr_assert_leq(run, 5, "the signal never landed during a snapshot");
	run_result__release(&r);
	assert_released(t.pid, strsignal(sig));
	assert_answers(&t, "alive " LARGE_HEAP, reply, sizeof(reply));
	cr_assert_eq(target__stop(&t), 0, "the target did not exit cleanly: %s", t.err);
}

Test(faults, sigint_mid_snapshot, .fini = harness__cleanup, .timeout = 120)
{
	signal_mid_snapshot(SIGINT);
}

Test(faults, sigterm_mid_snapshot, .fini = harness__cleanup, .timeout = 120)
{
	signal_mid_snapshot(SIGTERM);
}

/*
 * Threads that start and exit while memalot freezes the target must not
 * break the freeze: every snapshot succeeds, and the target is released and
 * keeps starting threads afterwards.
 */
Test(faults, threads_start_and_exit_during_freeze, .fini = harness__cleanup, .timeout = 120)
{
	char pidstr[16], reply[64], *args[] = { "snapshot", pidstr, "--json", NULL };
	long before, after;
	struct target t;
	int done = 0;

	start_target(&t, "thread_churn.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	assert_answers(&t, "count ", reply, sizeof(reply));
	before = atol(reply + 6);
	for (int i = 0; i < 20; i++) {
		struct run_result r;

		cr_assert_eq(memalot__run(args, &r), 0);
		cr_assert(!r.timed_out, "memalot timed out; stderr: %s", r.err);
		cr_assert(r.status == 0 || r.status == 9,
			  "snapshot %d of a thread-churning target exited %d: %s", i, r.status, r.err);
		done += r.status == 0;
		run_result__release(&r);
		assert_released(t.pid, "after a snapshot of a thread-churning target");
	}
	cr_assert_geq(done, 15, "only %d of 20 snapshots were complete", done);
	assert_answers(&t, "count ", reply, sizeof(reply));
	after = atol(reply + 6);
	cr_assert_gt(after, before, "the target started no thread after the snapshots");
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
}

/* ------------------------------------------------------------ 8. the README's exit codes, each forced */

/*
 * The exit codes are a promise to scripts: these tests assert the README's
 * literal numbers, never cli.h's names, and this one that the README still
 * says what they mean.
 */
Test(faults, exit_codes_are_the_readmes)
{
	static const char *const promised[] = {
		"0 done", "2 usage", "3 no such process", "4 not allowed to trace", "5 already traced",
		"6 not a Python process", "7 unsupported build or no layout for it", "8 the target exited",
		"9 partial result", "130 interrupted", "1 anything else",
	};
	char *path, *text = NULL, *flat;
	size_t len = 0;
	FILE *f;

	cr_assert(asprintf(&path, "%s/README.md", harness__srcdir()) > 0);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert(getdelim(&text, &len, 0, f) > 0, "%s is empty", path);
	fclose(f);
	/* the paragraph is wrapped: read it as one line */
	for (flat = text; *flat; flat++)
		if (*flat == '\n')
			*flat = ' ';
	flat = strstr(text, "Exit status: ");
	cr_assert_not_null(flat, "README.md has no 'Exit status: ' paragraph");
	for (size_t i = 0; i < sizeof(promised) / sizeof(promised[0]); i++)
		cr_assert_not_null(strstr(flat, promised[i]), "README.md's exit status no longer says '%s'",
				   promised[i]);
	free(text);
	free(path);
}

Test(faults, usage_error_is_2)
{
	char *args[] = { "snapshot", "--no-such-flag", "1", NULL };
	struct run_result r;

	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 2, "a bad flag exited %d; stderr: %s", r.status, r.err);
	run_result__release(&r);
}

/* 7: an interpreter older than 3.8, refused before anything is read from it */
static void unsupported_version(const char *label, const char *version)
{
	const struct interp *py = interp__get(label);
	char *extra[] = { "1000", NULL }, pidstr[16], *args[] = { "snapshot", pidstr, NULL };
	char err[512], reply[64], want[64], *path;
	struct run_result r;
	struct target t;

	cr_assert_not_null(py, "no interpreter called '%s' in the matrix", label);
	if (py->skip)
		cr_skip_test("%s: %s", label, py->skip);

	path = interp__script(py, "large_heap.py", err, sizeof(err));
	cr_assert_not_null(path, "%s: %s", label, err);
	cr_assert_eq(target__start(&t, py, path, extra), 0, "%s: %s", label, t.err);
	free(path);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 7, "%s: exit %d, not 7; stderr: %s", label, r.status, r.err);
	assert_one_error_line(&r, label);
	snprintf(want, sizeof(want), "Python %s", version);
	cr_assert(strstr(r.err, want) && strstr(r.err, "not supported"), "stderr: %s", r.err);
	run_result__release(&r);
	assert_released(t.pid, label);
	assert_answers(&t, "alive 1000", reply, sizeof(reply));
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
}

Test(faults, python_3_6_is_refused, .fini = harness__cleanup, .timeout = 60)
{
	unsupported_version("pyenv-3.6", "3.6");
}

Test(faults, python_3_7_is_refused, .fini = harness__cleanup, .timeout = 60)
{
	unsupported_version("pyenv-3.7", "3.7");
}

/* 7: a free-threaded build (a process carrying its marks: tests/targets/freethreaded_marker.c) */
Test(faults, free_threaded_build_is_refused, .fini = harness__cleanup, .timeout = 60)
{
	char self[4096], *marker, pidstr[16], *args[] = { "snapshot", pidstr, "--json", NULL };
	char *argv[2] = { NULL, NULL };
	struct run_result r;
	struct target t;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	cr_assert_gt(n, 0, "readlink /proc/self/exe: %s", strerror(errno));
	self[n] = 0;
	*strrchr(self, '/') = 0;
	cr_assert(asprintf(&marker, "%s/python3.13t", self) > 0);
	cr_assert_eq(access(marker, X_OK), 0, "%s: %s (make tests builds it)", marker, strerror(errno));
	argv[0] = marker;
	cr_assert_eq(target__start_argv(&t, argv), 0, "%s: %s", marker, t.err);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 7, "exit %d, not 7; stderr: %s", r.status, r.err);
	assert_one_error_line(&r, "free-threaded");
	cr_assert(strstr(r.err, "free-threaded"), "stderr does not say free-threaded: %s", r.err);
	cr_assert_str_empty(r.out, "stdout: %.200s", r.out);
	run_result__release(&r);
	assert_released(t.pid, "after refusing a free-threaded build");
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
	free(marker);
}

/*
 * A snapshot leaves the target's memory as it was: the copy takes the pages
 * that are there and leaves the rest of each thread's stack alone. Copying
 * whole mappings faulted in every page of 20 stacks of 8 MiB: the target's
 * RSS went from 37 to 202 MiB, and 193 MiB were copied instead of 31.
 */
Test(faults, a_snapshot_does_not_grow_the_target, .fini = harness__cleanup, .timeout = 60)
{
	char *extra[] = { "20", NULL }, pidstr[16], *args[] = { "snapshot", pidstr, "--json", NULL };
	long rss0, rss1, hwm;
	struct run_result r;
	struct target t;
	json_t *snap;

	start_target(&t, "idle_threads.py", extra);
	cr_assert_eq(proc__rss(t.pid, &rss0, &hwm), 0);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(memalot__run(args, &r), 0);
		cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
		snap = json_loads(r.out, 0, NULL);
		cr_assert_not_null(snap, "%.200s", r.out);
		cr_assert_lt(json_integer_value(json_object_get(snap, "copied_bytes")), 20 * 8 << 20,
			     "copied %lld bytes: the whole stacks", (long long)json_integer_value(json_object_get(snap, "copied_bytes")));
		json_decref(snap);
		run_result__release(&r);
	}
	cr_assert_eq(proc__rss(t.pid, &rss1, &hwm), 0);
	cr_assert_lt(rss1 - rss0, 16 * 1024, "the target's RSS went from %ld to %ld KiB", rss0, rss1);
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
}

/* 8, not 3: the process is there, but as a zombie its parent has not reaped */
Test(faults, zombie_target_is_8, .fini = harness__cleanup, .timeout = 60)
{
	char *extra[] = { "1000", NULL }, pidstr[16], *args[] = { "snapshot", pidstr, "--json", NULL };
	long long deadline;
	struct run_result r;
	struct target t;

	start_target(&t, "large_heap.py", extra);
	cr_assert_eq(kill(t.pid, SIGKILL), 0, "kill: %s", strerror(errno));
	deadline = harness__now_ms() + PROMPT_MS;
	while (proc__state(t.pid) != 'Z' && harness__now_ms() < deadline)
		usleep(1000);
	cr_assert_eq(proc__state(t.pid), 'Z', "pid %d did not become a zombie", (int)t.pid);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 8, "memalot on a zombie exited %d, not 8; stderr: %s", r.status, r.err);
	assert_one_error_line(&r, "zombie");
	cr_assert(strstr(r.err, "has exited"), "stderr: %s", r.err);
	run_result__release(&r);
	cr_assert_eq(target__stop(&t), 128 + SIGKILL, "%s", t.err);
}

/*
 * 9: a target that is always in the middle of a collection (tests/targets/
 * gc_busy.py): every try finds the GC lists being rebuilt, and memalot
 * prints what it has, marked partial.
 */
Test(faults, always_collecting_is_partial_9, .fini = harness__cleanup, .timeout = 120)
{
	char pidstr[16], reply[64], *args[] = { "snapshot", pidstr, "--json", NULL };
	struct run_result r;
	json_error_t jerr;
	struct target t;
	json_t *snap;

	start_target(&t, "gc_busy.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 9, "exit %d, not 9; stderr: %s", r.status, r.err);
	snap = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(snap, "no JSON (%s): %.200s", jerr.text, r.out);
	cr_assert(json_is_true(json_object_get(snap, "partial")), "not marked partial: %.300s", r.out);
	cr_assert(json_is_string(json_object_get(snap, "partial_reason")), "no partial_reason: %.300s", r.out);
	cr_assert_gt(json_integer_value(json_object_get(snap, "tries")), 1, "%.300s", r.out);
	cr_assert(strstr(r.err, "partial result"), "stderr: %s", r.err);
	json_decref(snap);
	run_result__release(&r);
	assert_released(t.pid, "after a partial snapshot");
	assert_answers(&t, "collections ", reply, sizeof(reply));
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
}
