/* SPDX-License-Identifier: MIT */
/*
 * Saved reports: what `memalot attach` saves, `memalot list` and `memalot
 * print` read back, byte for byte; a run killed mid-iteration; damaged
 * files; IDs that must not lead outside the report directory.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../reports/store.h"
#include "../lib/groups.h"
#include "../lib/harness.h"
#include "../lib/start.h"

#define LABEL DEFAULT_PYTHON

/* The temporary directories new_dir made in this test, removed by cleanup. */
static char *made_dirs[8];
static size_t n_made;

/*
 * .fini of every test here: kill what the harness started (so that nothing
 * writes there any more), then remove the test's report directories, also
 * when it failed.
 */
static void cleanup(void)
{
	harness__cleanup();
	for (size_t i = 0; i < n_made; i++) {
		harness__remove_tree(made_dirs[i]);
		free(made_dirs[i]);
	}
	n_made = 0;
}

/* A fresh report directory for one test: not yet created, so that memalot makes it. */
static char *new_dir(void)
{
	char tmpl[] = "/tmp/memalot-reports-XXXXXX", *dir;

	cr_assert_lt(n_made, sizeof(made_dirs) / sizeof(*made_dirs), "new_dir: too many directories");
	cr_assert_not_null(mkdtemp(tmpl));
	made_dirs[n_made++] = xstrdup(tmpl);
	dir = xasprintf("%s/reports", tmpl);
	return dir;
}

#define path_of(dir, name) xasprintf("%s/%s", dir, name)

/* The one session directory under dir: its ID into id. */
static void only_report(const char *dir, char *id)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d, "no report directory %s", dir);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "memalot_report_", 15)) {
			snprintf(id, STORE_ID_LEN + 1, "%s", de->d_name + 15);
			n++;
		}
	closedir(d);
	cr_assert_eq(n, 1, "%d reports in %s", n, dir);
	cr_assert(store__valid_id(id), "%s", id);
}

static int run(struct run_result *r, const char *a0, const char *a1, const char *a2, const char *a3,
	       const char *a4, const char *a5)
{
	/* print shows every iteration here: what attach printed live (its default is the newest) */
	bool print = !strcmp(a0, "print");
	char *args[] = { (char *)a0, (char *)a1, print ? "--num-iterations" : (char *)a2, print ? "0" : (char *)a3,
			 print ? (char *)a2 : (char *)a4, print ? (char *)a3 : (char *)a5, print ? (char *)a4 : NULL,
			 print ? (char *)a5 : NULL, NULL };
	return memalot__run(args, r);
}

/* Whether a missing tool may skip a test rather than fail it: MEMALOT_ALLOW_SKIP=1, as in tests/run-tests.sh. */
static bool allow_skip(void)
{
	const char *env = getenv("MEMALOT_ALLOW_SKIP");

	return env && !strcmp(env, "1");
}

static void check_modes(const char *dir, const char *id)
{
	char *sess = xasprintf("%s/memalot_report_%s", dir, id), *sum = path_of(sess, "summary.msgpack");
	char *it1 = path_of(sess, "iteration_000001.msgpack");
	struct stat st;

	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700, "report directory mode %o", st.st_mode & 0777);
	cr_assert_eq(stat(sess, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700, "session directory mode %o", st.st_mode & 0777);
	cr_assert_eq(stat(sum, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "summary mode %o", st.st_mode & 0777);
	cr_assert_eq(stat(it1, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "iteration mode %o", st.st_mode & 0777);
	free(sess);
	free(sum);
	free(it1);
}

/* print gives the bytes attach printed, as text and as JSON. */
static void print_is_live(bool json)
{
	char pidstr[16], id[STORE_ID_LEN + 1], *dir = new_dir();
	char *args[] = { "attach", pidstr, "--max-object-lifetime", "1", "--iterations", "2", "--max-object-details",
			 "3", "--report-directory", dir, json ? "--json" : "--no-color", NULL };
	struct run_result live, printed, listed;
	struct target t;

	start_target(&t, LABEL, "leaky_app.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(memalot__run(args, &live), 0);
	cr_assert_eq(live.status, 0, "attach exit %d: %s", live.status, live.err);
	cr_assert(strstr(live.out, json ? "__main__.Session" : "Possible New Leaks"), "%s", live.out);
	only_report(dir, id);
	check_modes(dir, id);
	cr_assert(strstr(live.err, id), "the report ID is not on stderr: %s", live.err);
	cr_assert_eq(run(&printed, "print", id, "--report-directory", dir, json ? "--json" : NULL, NULL), 0);
	cr_assert_eq(printed.status, 0, "print exit %d: %s", printed.status, printed.err);
	cr_assert_str_eq(printed.out, live.out, "print differs from the live output");
	cr_assert_str_empty(printed.err, "%s", printed.err);
	/* copied elsewhere (as with scp or rsync), it reads the same */
	{
		char *sess = xasprintf("%s/memalot_report_%s", dir, id), *other = new_dir();
		char *cp[] = { "cp", "-a", sess, other, NULL };
		struct run_result c, again;

		cr_assert_eq(mkdir(other, 0700), 0);
		cr_assert_eq(run__capture(cp, 60, &c), 0);
		cr_assert_eq(c.status, 0, "cp: %s", c.err);
		cr_assert_eq(run(&again, "print", id, "--report-directory", other, json ? "--json" : NULL, NULL), 0);
		cr_assert_eq(again.status, 0, "%s", again.err);
		cr_assert_str_eq(again.out, live.out, "a copied report prints differently");
		run_result__release(&c);
		run_result__release(&again);
		free(sess);
		free(other);
	}
	cr_assert_eq(run(&listed, "list", "--report-directory", dir, NULL, NULL, NULL), 0);
	cr_assert_eq(listed.status, 0);
	cr_assert(strstr(listed.out, id), "%s", listed.out);
	cr_assert(strstr(listed.out, "leaky_app.py"), "%s", listed.out);
	run_result__release(&live);
	run_result__release(&printed);
	run_result__release(&listed);
	target__stop(&t);
	free(dir);
}

Test(reports, print_is_the_live_text, .fini = cleanup, .timeout = 120) { print_is_live(false); }
Test(reports, print_is_the_live_json, .fini = cleanup, .timeout = 120) { print_is_live(true); }

/* A run SIGKILLed mid-iteration: the iterations that finished are listed and printed. */
Test(reports, a_killed_run_keeps_its_finished_iterations, .fini = cleanup, .timeout = 180)
{
	char pidstr[16], id[STORE_ID_LEN + 1], why[256], *dir = new_dir(), *second;
	char *argv[] = { (char *)harness__memalot(), "attach", pidstr, "--max-object-lifetime", "1",
			 "--report-directory", dir, NULL };
	struct run_result r, printed, listed;
	struct bgrun m;
	struct target t;
	bool found = false;

	start_target(&t, LABEL, "leaky_app.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(bgrun__start(&m, argv, NULL), 0);
	/* the signal: the second iteration's file appears (renamed into place, complete) */
	for (int i = 0; i < 1200 && !found && !bgrun__exited(&m, 50); i++) {
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (!strncmp(de->d_name, "memalot_report_", 15)) {
				char *sess = path_of(dir, de->d_name);
				second = path_of(sess, "iteration_000002.msgpack");
				found = access(second, F_OK) == 0;
				free(second);
				free(sess);
			}
		if (d)
			closedir(d);
	}
	cr_assert(found, "no second iteration within a minute");
	kill(m.pid, SIGKILL);
	cr_assert_eq(bgrun__wait(&m, 30000, &r), 0);
	cr_assert_eq(proc__wait_released(t.pid, 10000, why, sizeof(why)), 0, "target held: %s", why);
	only_report(dir, id);
	cr_assert_eq(run(&listed, "list", "--report-directory", dir, "--json", NULL, NULL), 0);
	cr_assert_eq(listed.status, 0, "%s", listed.err);
	cr_assert(strstr(listed.out, id), "%s", listed.out);
	cr_assert_str_empty(listed.err, "a complete file was reported damaged: %s", listed.err);
	cr_assert_eq(run(&printed, "print", id, "--report-directory", dir, "--summary-only", NULL), 0);
	cr_assert_eq(printed.status, 0, "print exit %d: %s", printed.status, printed.err);
	cr_assert(strstr(printed.out, "iteration 2 ===="), "%s", printed.out);
	cr_assert_str_empty(printed.err, "%s", printed.err);
	run_result__release(&r);
	run_result__release(&printed);
	run_result__release(&listed);
	target__stop(&t);
	free(dir);
}

/*
 * The child of parent (strace) once it is memalot: strace forks it, then
 * it execs. @return its pid, or -1 when there is none after timeout_ms
 */
static pid_t memalot_child(pid_t parent, int timeout_ms)
{
	long long deadline = harness__now_ms() + timeout_ms;
	char path[64], comm[32];

	do {
		FILE *f;
		int child = 0;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
		if ((f = fopen(path, "r"))) {
			if (fscanf(f, "%d", &child) != 1)
				child = 0;
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%d/comm", child);
		if (child > 0 && (f = fopen(path, "r"))) {
			bool is_memalot = fgets(comm, sizeof(comm), f) && !strcmp(comm, "memalot\n");
			fclose(f);
			if (is_memalot)
				return child;
		}
		usleep(1000);
	} while (harness__now_ms() < deadline);
	return -1;
}

/*
 * The one session a killed run left in dir, if any (its ID into id), with
 * only files the store writes: summary.msgpack and iteration_NNNNNN.msgpack,
 * no temporary file. @return the number of iteration files, -1 for no session
 */
static int killed_session(const char *dir, char *id, uint64_t seed, int round)
{
	DIR *d = opendir(dir), *sd;
	struct dirent *de;
	char *sess;
	int n = 0;

	if (!d && errno == ENOENT)
		return -1; /* killed before it made the report directory */
	cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
	id[0] = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cr_assert(!strncmp(de->d_name, "memalot_report_", 15) && !id[0],
			  "seed %llu, round %d: %s/%s is not the one session directory",
			  (unsigned long long)seed, round, dir, de->d_name);
		snprintf(id, STORE_ID_LEN + 1, "%s", de->d_name + 15);
	}
	closedir(d);
	if (!id[0])
		return -1;
	sess = xasprintf("%s/memalot_report_%s", dir, id);
	sd = opendir(sess);
	cr_assert_not_null(sd, "%s: %s", sess, strerror(errno));
	while ((de = readdir(sd))) {
		const char *name = de->d_name;
		bool iteration = strlen(name) == 24 && !strncmp(name, "iteration_", 10) &&
				 strspn(name + 10, "0123456789") == 6 && !strcmp(name + 16, ".msgpack");

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		cr_assert(iteration || !strcmp(name, "summary.msgpack"),
			  "seed %llu, round %d: a SIGKILL left %s/%s (a temporary file?)",
			  (unsigned long long)seed, round, sess, name);
		n += iteration;
	}
	closedir(sd);
	free(sess);
	return n;
}

/* Rounds of the random-kill test, at most, and the time they may take in all. */
#define KILL_ROUNDS 40
#define KILL_BUDGET_MS 40000
/* A kill lands this long after memalot starts, at most: startup, the summary, some iterations. */
#define KILL_WINDOW_MS 1500
/* A fresh target every so many rounds: leaky_app.py's heap grows all the time. */
#define KILL_TARGET_ROUNDS 10

/*
 * SIGKILL `memalot attach` at random moments while it saves a report every
 * 0.2 s (no warm-up, so that they start at once); after each kill, list and
 * print read every file it left without a word on stderr, and it left no
 * temporary file. It runs under strace, which delays every write(2) by
 * 40 ms, so that the moments in which a file is being written are long: a
 * store that writes a file in place, or leaves a named temp file when
 * killed, fails here (in about one round in five).
 */
Test(reports, random_kills_leave_whole_files_and_no_temp_files, .fini = cleanup, .timeout = 120)
{
	uint64_t seed = harness__seed(), rnd = seed;
	char pidstr[16], *root = new_dir();
	long long start = harness__now_ms();
	int round, saved = 0, iterations = 0;
	struct target t = { .pid = -1 };
	bool has_strace;

	cr_log_info("random_kills_leave_whole_files_and_no_temp_files: seed %llu (MEMALOT_FAULT_SEED repeats it)",
		    (unsigned long long)seed);
	{
		char *version[] = { "strace", "-V", NULL };
		struct run_result v;

		has_strace = run__capture(version, 60, &v) == 0 && v.status == 0;
		run_result__release(&v);
	}
	if (!has_strace) {
		if (allow_skip()) {
			cleanup(); /* a skipped test runs no .fini */
			cr_skip_test("strace is not installed");
		}
		cr_assert_fail("strace is not installed (tests/setup-deps.sh installs it; MEMALOT_ALLOW_SKIP=1 skips)");
	}
	cr_assert_eq(mkdir(root, 0700), 0, "%s: %s", root, strerror(errno));
	for (round = 0; round < KILL_ROUNDS && harness__now_ms() - start < KILL_BUDGET_MS; round++) {
		int delay_ms = (int)(harness__random(&rnd) % KILL_WINDOW_MS), n;
		char id[STORE_ID_LEN + 1], why[256], *dir = xasprintf("%s/%d", root, round);
		char *argv[] = { "strace", "-f", "--seccomp-bpf", "-o", "/dev/null", "-e", "trace=write", "-e",
				 "inject=write:delay_enter=40000", (char *)harness__memalot(), "attach", pidstr,
				 "--max-object-lifetime", "0.2", "--check-interval", "0.05", "--warmup-time", "0",
				 "--max-object-details", "5", "--report-directory", dir, NULL };
		struct run_result r, listed, printed;
		struct bgrun m;
		pid_t child;

		if (round % KILL_TARGET_ROUNDS == 0) {
			if (t.pid > 0)
				target__stop(&t);
			start_target(&t, LABEL, "leaky_app.py", NULL);
			snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
		}
		n = bgrun__start(&m, argv, NULL);
		cr_assert_eq(n, 0, "strace: %s", strerror(-n));
		child = memalot_child(m.pid, 10000);
		cr_assert_gt(child, 0, "strace started no memalot");
		if (bgrun__exited(&m, delay_ms)) {
			bgrun__wait(&m, 0, &r);
			cr_assert_fail("seed %llu, round %d: memalot ended (exit %d) before the kill at %d ms: %s",
				       (unsigned long long)seed, round, r.status, delay_ms, r.err);
		}
		cr_assert_eq(kill(child, SIGKILL), 0, "kill %d: %s", (int)child, strerror(errno));
		cr_assert_eq(bgrun__wait(&m, 30000, &r), 0);
		run_result__release(&r);
		cr_assert_eq(proc__wait_released(t.pid, 10000, why, sizeof(why)), 0, "target held: %s", why);

		n = killed_session(dir, id, seed, round);
		cr_assert_eq(run(&listed, "list", "--report-directory", dir, "--json", NULL, NULL), 0);
		cr_assert_eq(listed.status, 0, "seed %llu, round %d: list exit %d: %s", (unsigned long long)seed,
			     round, listed.status, listed.err);
		cr_assert_str_empty(listed.err, "seed %llu, round %d (killed at %d ms): list: %s",
				    (unsigned long long)seed, round, delay_ms, listed.err);
		if (n >= 0) {
			json_t *v = json_loads(listed.out, 0, NULL);
			json_t *count = json_object_get(json_array_get(v, 0), "iterations");

			cr_assert(json_array_size(v) == 1 && json_integer_value(count) == n,
				  "seed %llu, round %d: %d iteration files, list says: %s", (unsigned long long)seed,
				  round, n, listed.out);
			json_decref(v);
		}
		if (n > 0) {
			int lines = 0;

			cr_assert_eq(run(&printed, "print", id, "--report-directory", dir, "--json", NULL), 0);
			cr_assert_eq(printed.status, 0, "seed %llu, round %d: print exit %d: %s",
				     (unsigned long long)seed, round, printed.status, printed.err);
			cr_assert_str_empty(printed.err, "seed %llu, round %d (killed at %d ms): print: %s",
					    (unsigned long long)seed, round, delay_ms, printed.err);
			for (const char *p = printed.out; (p = strchr(p, '\n')); p++)
				lines++;
			cr_assert_eq(lines, n, "seed %llu, round %d: %d iteration files, %d printed",
				     (unsigned long long)seed, round, n, lines);
			run_result__release(&printed);
			iterations += n;
		}
		saved += n >= 0;
		run_result__release(&listed);
		free(dir);
	}
	if (t.pid > 0)
		target__stop(&t);
	cr_log_info("random_kills_leave_whole_files_and_no_temp_files: %d rounds in %lld ms, %d with a report, "
		    "%d iterations read back",
		    round, harness__now_ms() - start, saved, iterations);
	free(root);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert(fd >= 0, "%s: %m", path);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;

	cr_assert_not_null(f, "%s", path);
	*len = 0;
	cr_assert_gt(getdelim(&buf, len, EOF, f), 0);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fclose(f);
	return buf;
}

static bool has_line(const char *text, const char *a, const char *b)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, n);
		bool ok = strstr(line, a) && strstr(line, b);
		free(line);
		if (ok)
			return true;
		p += n + (nl != NULL);
	}
	return false;
}

/*
 * Damaged files: truncated, corrupt, of a future schema version, and not
 * readable as files (a symbolic link out of the directory, a directory).
 * Each gets a one-line error naming it; the rest still reads.
 */
Test(reports, damaged_files_get_one_line_each, .fini = cleanup, .timeout = 120)
{
	char pidstr[16], id[STORE_ID_LEN + 1], *dir = new_dir(), *sess, *p;
	char *args[] = { "attach", pidstr, "--max-object-lifetime", "1", "--iterations", "1", "--max-object-details",
			 "1", "--report-directory", dir, NULL };
	struct run_result r, printed, listed;
	struct target t;
	size_t len;
	char *good;

	start_target(&t, LABEL, "leaky_app.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	target__stop(&t);
	only_report(dir, id);
	sess = xasprintf("%s/memalot_report_%s", dir, id);
	p = path_of(sess, "iteration_000001.msgpack");
	good = read_all(p, &len);
	free(p);
	/* 2: truncated; 3: a future major version; 4: garbage; 5: a link out; 6: a directory */
	p = path_of(sess, "iteration_000002.msgpack");
	write_file(p, good, len / 2);
	free(p);
	p = path_of(sess, "iteration_000003.msgpack");
	good[36] = 2; /* the schema_major value, after the "format" entry and the key */
	write_file(p, good, len);
	good[36] = 1;
	free(p);
	p = path_of(sess, "iteration_000004.msgpack");
	write_file(p, "\xc1garbage", 8);
	free(p);
	p = path_of(sess, "iteration_000005.msgpack");
	cr_assert_eq(symlink("/etc/passwd", p), 0);
	free(p);
	p = path_of(sess, "iteration_000006.msgpack");
	cr_assert_eq(mkdir(p, 0700), 0);
	free(p);

	cr_assert_eq(run(&printed, "print", id, "--report-directory", dir, "--summary-only", NULL), 0);
	cr_assert_eq(printed.status, 0, "print exit %d: %s", printed.status, printed.err);
	cr_assert(strstr(printed.out, "iteration 1 ===="), "%s", printed.out);
	cr_assert(has_line(printed.err, "iteration_000002.msgpack", "truncated"), "%s", printed.err);
	cr_assert(has_line(printed.err, "iteration_000003.msgpack", "schema version 2"), "%s", printed.err);
	cr_assert(has_line(printed.err, "iteration_000004.msgpack", "msgpack"), "%s", printed.err);
	cr_assert(has_line(printed.err, "iteration_000005.msgpack", "symbolic link"), "%s", printed.err);
	cr_assert(has_line(printed.err, "iteration_000006.msgpack", "not a regular file"), "%s", printed.err);
	cr_assert_null(strstr(printed.out, "root:"), "read through the link");

	/* a report whose every file is damaged is still listed, next to the good one */
	{
		char *bad = path_of(dir, "memalot_report_zzzz-0000");
		cr_assert_eq(mkdir(bad, 0700), 0);
		p = path_of(bad, "summary.msgpack");
		write_file(p, good, 20);
		free(p);
		free(bad);
	}
	cr_assert_eq(run(&listed, "list", "--report-directory", dir, NULL, NULL, NULL), 0);
	cr_assert_eq(listed.status, 0, "%s", listed.err);
	cr_assert(strstr(listed.out, id), "%s", listed.out);
	cr_assert(strstr(listed.out, "zzzz-0000"), "%s", listed.out);
	cr_assert(has_line(listed.err, "zzzz-0000/summary.msgpack", "truncated"), "%s", listed.err);
	free(good);
	free(sess);
	run_result__release(&r);
	run_result__release(&printed);
	run_result__release(&listed);
	free(dir);
}

/* IDs: malformed or unknown is a one-line error and exit 1; nothing outside the directory is read. */
Test(reports, bad_ids_and_empty_directories, .fini = cleanup)
{
	char *dir = new_dir();
	struct run_result r;
	const char *bad[] = { "../../etc", "abcd-123", "ABCD-1234", "abcd/1234", "zzzz-9999" };

	cr_assert_eq(run(&r, "list", "--report-directory", dir, NULL, NULL, NULL), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	{
		char *want = xasprintf("No reports found in %s\n", dir);

		cr_assert_str_eq(r.out, want);
		free(want);
	}
	run_result__release(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_eq(run(&r, "print", bad[i], "--report-directory", dir, NULL, NULL), 0);
		cr_assert_eq(r.status, 1, "%s: exit %d", bad[i], r.status);
		cr_assert_str_empty(r.out);
		cr_assert(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "not one line: %s", r.err);
		/* abcd-123 could be the start of an ID: none starts with it */
		cr_assert(strstr(r.err, i == 4 || i == 1 ? "no report" : "is not a report ID"), "%s", r.err);
		run_result__release(&r);
	}
	free(dir);
}

/*
 * --no-save-reports saves nothing; --graph writes DOT, and SVG through
 * Graphviz (which tests/setup-deps.sh installs: without its dot the test
 * fails, unless MEMALOT_ALLOW_SKIP=1 lets it skip).
 */
Test(reports, no_save_and_graphs, .fini = cleanup, .timeout = 120)
{
	char pidstr[16], id[STORE_ID_LEN + 1], *dir = new_dir(), *dot, *svg;
	char *nosave[] = { "attach", pidstr, "--max-object-lifetime", "1", "--iterations", "2", "--report-directory",
			   dir, "--no-save-reports", "--max-object-details", "2", NULL };
	struct run_result r;
	struct target t;
	struct stat st;
	size_t len;
	char *text;

	start_target(&t, LABEL, "leaky_app.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(memalot__run(nosave, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_neq(stat(dir, &st), 0, "--no-save-reports made %s", dir);
	run_result__release(&r);
	nosave[8] = "--json"; /* now saving */
	cr_assert_eq(memalot__run(nosave, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result__release(&r);
	target__stop(&t);
	only_report(dir, id);
	dot = path_of(dir, "graph.dot");
	/* the newest iteration (print's default): the file itself */
	cr_assert_eq(memalot__run((char *[]){ "print", id, "--report-directory", dir, "--graph", dot, NULL }, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result__release(&r);
	text = read_all(dot, &len);
	cr_assert(strstr(text, "digraph memalot"), "%s", text);
	cr_assert(strstr(text, "__main__.Session"), "%s", text);
	cr_assert(strstr(text, " -> "), "no edges: %s", text);
	free(text);
	svg = path_of(dir, "graph.svg");
	cr_assert_eq(memalot__run((char *[]){ "print", id, "--report-directory", dir, "--graph", svg, NULL }, &r), 0);
	if (r.status && strstr(r.err, "'dot' is not installed")) {
		if (allow_skip()) {
			cleanup(); /* a skipped test runs no .fini */
			cr_skip_test("Graphviz's dot is not installed: the SVG of --graph is not tested");
		}
		cr_assert_fail("Graphviz's dot is not installed (tests/setup-deps.sh installs it; "
			       "MEMALOT_ALLOW_SKIP=1 skips): %s", r.err);
	}
	cr_assert_eq(r.status, 0, "print --graph %s: exit %d: %s", svg, r.status, r.err);
	cr_assert_str_empty(r.err, "%s", r.err);
	text = read_all(svg, &len);
	cr_assert(strstr(text, "<svg"), "%s", text);
	cr_assert(strstr(text, "__main__.Session"), "%s", text);
	free(text);
	run_result__release(&r);
	free(dot);
	free(svg);
	free(dir);
}

/*
 * print --html: one self-contained page (0600), opened in headless Chromium
 * (tests/setup-deps.sh installs Debian's chromium): it loads with no console
 * error (a request its Content-Security-Policy refused would be one) and
 * refers to nothing outside itself; the DOM has the groups table, the
 * answer and the charts; the screenshot is kept beside memalot
 * (html-report.png).
 */
Test(reports, html_report_in_chromium, .fini = cleanup, .timeout = 240)
{
	char id[STORE_ID_LEN + 1], *dir = new_dir(), *html = path_of(dir, "report.html"), *profile = path_of(dir, "chrome");
	char *shot = xasprintf("%s", harness__memalot()), *cmd, *text;
	struct groups_run g;
	struct run_result r;
	struct stat st;
	size_t len;

	if (access("/usr/bin/chromium", X_OK)) {
		if (allow_skip())
			cr_skip_test("chromium is not installed: the HTML report is not opened");
		cr_assert_fail("/usr/bin/chromium is not installed (tests/setup-deps.sh installs it; MEMALOT_ALLOW_SKIP=1 skips)");
	}
	*strrchr(shot, '/') = 0;
	{
		char *p = xasprintf("%s/html-report.png", shot);
		free(shot);
		shot = p;
	}
	groups_run__start_details(&g, LABEL, dir, "40");
	cr_assert_eq(target__stop(&g.t), 0, "%s", g.t.err);
	only_report(dir, id);
	cr_assert_eq(memalot__run((char *[]){ "print", id, "--report-directory", dir, "--html", html, NULL }, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_empty(r.out, "--html printed the report too");
	run_result__release(&r);
	cr_assert_eq(stat(html, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "the page's mode is %o", st.st_mode & 0777);
	text = read_all(html, &len);
	/* nothing outside the file: no src or href to anywhere, scripts forbidden */
	cr_assert(!strstr(text, "src=") && !strstr(text, "href=\"http") && !strstr(text, "<script") &&
		  strstr(text, "Content-Security-Policy"), "the page refers outside itself");
	free(text);
	/* the DOM Chromium built, and its console */
	cmd = xasprintf("chromium --headless --no-sandbox --disable-gpu --user-data-dir='%s' --enable-logging=stderr "
			"--v=0 --virtual-time-budget=2000 --dump-dom 'file://%s'",
			profile, html);
	cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 120, &r), 0);
	cr_assert_eq(r.status, 0, "chromium: %s", r.err);
	cr_assert(strstr(r.out, "<table id=\"leak-groups\">") && strstr(r.out, GROUPS_CACHE_PATH),
		  "no groups table in the DOM: %.2000s", r.out);
	cr_assert(strstr(r.out, "id=\"answer\"") && strstr(r.out, "5000 objects"), "no answer: %.2000s", r.out);
	cr_assert(strstr(r.out, "<figure class=\"chart\"><svg"), "no chart in the DOM");
	/* the merged referrer graph inline (Graphviz is installed by make setup-deps), the object details */
	if (!access("/usr/bin/dot", X_OK))
		cr_assert(strstr(r.out, "<div class=\"graph\"><svg") || strstr(r.out, "<div class=\"graph\">\n<svg"),
			  "no inline graph in the DOM");
	cr_assert(strstr(r.out, "<details class=\"obj\">") && strstr(r.out, "CachedResponse"), "no object details");
	cr_assert_null(strstr(r.err, "CONSOLE"), "console messages: %s", r.err);
	cr_assert_null(strstr(r.err, "Refused"), "a request was refused: %s", r.err);
	run_result__release(&r);
	free(cmd);
	cmd = xasprintf("chromium --headless --no-sandbox --disable-gpu --user-data-dir='%s' --hide-scrollbars "
			"--window-size=1200,1800 --screenshot='%s' 'file://%s'",
			profile, shot, html);
	cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 120, &r), 0);
	cr_assert_eq(r.status, 0, "chromium --screenshot: %s", r.err);
	cr_assert_eq(stat(shot, &st), 0, "no screenshot %s", shot);
	cr_assert_gt(st.st_size, 10000, "the screenshot is %lld bytes", (long long)st.st_size);
	run_result__release(&r);
	groups_run__release(&g);
	free(cmd);
	free(shot);
	free(profile);
	free(html);
	free(dir);
}

/*
 * Progress: on a terminal attach keeps one status line (checks, objects,
 * when the next report is due) that each report replaces; piped, stderr has
 * no such line; the start line says when the first report comes.
 */
Test(reports, attach_status_line_on_a_terminal, .fini = cleanup, .timeout = 120)
{
	char pidstr[16], *cmd, *dir = new_dir(), *html = xasprintf("%s.html", dir), *text;
	char *piped[] = { "attach", pidstr, "--max-object-lifetime", "1", "--duration", "2.5", "--no-save-reports",
			  "--max-object-details", "0", "--html", html, NULL };
	struct stat st;
	size_t len;
	struct run_result r;
	struct target t;

	start_target(&t, LABEL, "leaky_app.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cmd = xasprintf("script -qec \"'%s' attach %s --max-object-lifetime 1 --duration 2.5 --no-save-reports "
			"--max-object-details 0\" /dev/null",
			harness__memalot(), pidstr);
	cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 60, &r), 0);
	cr_assert_eq(r.status, 0, "%s: %s", cmd, r.err);
	cr_assert(strstr(r.out, "(the warm-up report in "), "no first-report time: %s", r.out);
	cr_assert(strstr(r.out, "\r\033[Kmemalot: pid ") && strstr(r.out, " objects, ") && strstr(r.out, "next report in "),
		  "no status line on a terminal: %s", r.out);
	cr_assert(strstr(r.out, "; making report "), "no status while a report is made: %s", r.out);
	cr_assert(strstr(r.out, "==== memalot report"), "%s", r.out);
	run_result__release(&r);
	cr_assert_eq(memalot__run(piped, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.err, "\r"), "a status line into a pipe: %s", r.err);
	cr_assert(strstr(r.err, "(the warm-up report in "), "%s", r.err);
	run_result__release(&r);
	/* long work says where it is on a terminal: snapshot --why */
	free(cmd);
	cmd = xasprintf("script -qec \"'%s' snapshot %s --why Session --max-object-details 1\" /dev/null",
			harness__memalot(), pidstr);
	cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 60, &r), 0);
	cr_assert_eq(r.status, 0, "%s: %s", cmd, r.err);
	cr_assert(strstr(r.out, "\r\033[Kmemalot: pid ") && strstr(r.out, "building the reference graph"),
		  "no progress on a terminal: %s", r.out);
	run_result__release(&r);
	/* --html: the page rewritten at each report, 0600 */
	cr_assert_eq(stat(html, &st), 0, "attach --html wrote no %s", html);
	cr_assert_eq(st.st_mode & 0777, 0600);
	text = read_all(html, &len);
	cr_assert(text && strstr(text, "<h1>memalot report ") && strstr(text, "<figure class=\"chart\">"), "%.500s",
		  text ? text : "");
	free(text);
	target__stop(&t);
	free(cmd);
	free(html);
	free(dir);
}

/*
 * --graph on 120 detailed objects of one group: one merged graph per
 * iteration where the cache dict and its root appear once, the group a
 * cluster with its count, the leaked siblings beyond the first few one node
 * "... N more"; it renders with rsvg-convert at a bounded width; .png and
 * .pdf are real PNG and PDF files; the text report is not printed.
 */
Test(reports, graph_of_a_big_group, .fini = cleanup, .timeout = 240)
{
	char id[STORE_ID_LEN + 1], *dir = new_dir(), *base = path_of(dir, "g.dot"), *svgs = path_of(dir, "g.svg");
	char *png = path_of(dir, "one.png"), *pdf = path_of(dir, "one.pdf"), *bad = path_of(dir, "g.jpg");
	struct groups_run g;
	struct run_result r;
	char *dot = NULL, *svg = NULL, dict[64];
	size_t len;

	groups_run__start_details(&g, LABEL, dir, "120");
	cr_assert_eq(target__stop(&g.t), 0, "%s", g.t.err);
	only_report(dir, id);
	snprintf(dict, sizeof(dict), "label=\"builtins.dict at 0x%llx\"", g.dict);
	cr_assert_eq(run(&r, "print", id, "--report-directory", dir, "--graph", base), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_empty(r.out, "--graph printed the report too: %.300s", r.out);
	run_result__release(&r);
	/* the iteration with the cache's leaks */
	for (int k = 1; k <= atoi(GROUPS_ITERATIONS) && !dot; k++) {
		char *p = xasprintf("%s/g-%d.dot", dir, k), *text = read_all(p, &len);

		if (text && strstr(text, "5,000 \u00d7 __main__.CachedResponse")) {
			dot = text;
			svg = xasprintf("%s/g-%d.svg", dir, k);
		} else {
			free(text);
		}
		free(p);
	}
	cr_assert_not_null(dot, "no graph has the cache's group");
	/* shared holders once */
	cr_assert(strstr(dot, dict) && !strstr(strstr(dot, dict) + 1, dict), "the cache dict is not drawn once: %s", dot);
	cr_assert(strstr(dot, "label=\"__main__._RESPONSE_CACHE (global)\"") &&
		  !strstr(strstr(dot, "label=\"__main__._RESPONSE_CACHE (global)\"") + 1,
			  "label=\"__main__._RESPONSE_CACHE (global)\""),
		  "the root is not drawn once");
	cr_assert(strstr(dot, " more __main__.CachedResponse"), "siblings not collapsed: %s", dot);
	cr_assert(strstr(dot, "subgraph cluster_g"), "no cluster per group");
	/* the worker's list, another group: a cluster of its own, not folded into the cache's */
	cr_assert(strstr(dot, " \u00d7 __main__.QueuedItem, "), "the queue's group has no cluster: %s", dot);
	cr_assert(strstr(dot, "dict key="), "edges without the key that holds: %s", dot);
	free(dot);
	/* SVG through dot, readable by rsvg-convert, not wider than a screen or two */
	cr_assert_eq(run(&r, "print", id, "--report-directory", dir, "--graph", svgs), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result__release(&r);
	{
		char *out = path_of(dir, "render.png");
		char *cmd = xasprintf("rsvg-convert '%s' -o '%s' && file '%s'", svg, out, out);
		unsigned w = 0, h = 0;

		cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 60, &r), 0);
		cr_assert_eq(r.status, 0, "rsvg-convert: %s %s", r.out, r.err);
		cr_assert(sscanf(strstr(r.out, "PNG image data, ") ? strstr(r.out, "PNG image data, ") + 16 : "", "%u x %u",
				 &w, &h) == 2, "%s", r.out);
		cr_assert(w > 200 && w < 4000 && h < 4000, "the graph is %u x %u", w, h);
		run_result__release(&r);
		free(cmd);
		free(out);
	}
	/* the newest iteration as PNG and PDF: real files */
	{
		const char *files[] = { png, pdf }, *magic[] = { "\x89PNG", "%PDF" };

		/* the newest alone (print's default) is the file itself */
		for (int k = 0; k < 2; k++) {
			char *args[] = { "print", id, "--report-directory", dir, "--graph", (char *)files[k], NULL };
			char *text;

			cr_assert_eq(memalot__run(args, &r), 0);
			cr_assert_eq(r.status, 0, "%s: %s", files[k], r.err);
			text = read_all(files[k], &len);
			cr_assert(text && len > 100 && !memcmp(text, magic[k], strlen(magic[k])), "%s is not a %s file",
				  files[k], k ? "PDF" : "PNG");
			free(text);
			run_result__release(&r);
		}
	}
	/* an extension dot cannot write is a usage error */
	cr_assert_eq(run(&r, "print", id, "--report-directory", dir, "--graph", bad), 0);
	cr_assert_eq(r.status, 2, "%s", r.err);
	run_result__release(&r);
	groups_run__release(&g);
	free(svg);
	free(base);
	free(svgs);
	free(png);
	free(pdf);
	free(bad);
	free(dir);
}

/*
 * Leak groups are saved (schema 1.1): print --json gives attach's JSON with
 * its leak_groups, the text leads with them, and --filter-types keeps the
 * groups that hold a type it names.
 */
Test(reports, print_shows_leak_groups, .fini = cleanup, .timeout = 180)
{
	char id[STORE_ID_LEN + 1], *dir = new_dir();
	struct run_result printed, text, filtered;
	struct groups_run g;
	json_t *rep[GROUPS_MAX_REPORTS];
	size_t n;

	groups_run__start(&g, LABEL, dir);
	cr_assert_eq(target__stop(&g.t), 0, "%s", g.t.err);
	only_report(dir, id);
	cr_assert_eq(run(&printed, "print", id, "--report-directory", dir, "--json", NULL), 0);
	cr_assert_eq(printed.status, 0, "print exit %d: %s", printed.status, printed.err);
	cr_assert_str_eq(printed.out, g.r.out, "print --json differs from the live output");
	n = json_lines("print --json", printed.out, rep, GROUPS_MAX_REPORTS);
	groups__check("memalot print --json", rep, n, g.sum);
	for (size_t i = 0; i < n; i++)
		json_decref(rep[i]);
	cr_assert_eq(run(&text, "print", id, "--report-directory", dir, NULL, NULL), 0);
	cr_assert_eq(text.status, 0, "print exit %d: %s", text.status, text.err);
	cr_assert(strstr(text.out, "Leak groups (by what holds them)") &&
		  strstr(text.out, " objects, ") && strstr(text.out, "held by " GROUPS_CACHE_PATH "\n") &&
		  strstr(text.out, "held by " GROUPS_QUEUE_ROOT),
		  "the text does not lead with the groups: %s", text.out);
	/* the groups come before the table of types */
	cr_assert_lt(strstr(text.out, "Leak groups") - text.out,
		     strstr(strstr(text.out, "Leak groups"), "Possible New Leaks") - text.out);
	cr_assert_eq(run(&filtered, "print", id, "--report-directory", dir, "--filter-types", "QueuedItem"), 0);
	cr_assert_eq(filtered.status, 0, "%s", filtered.err);
	cr_assert(strstr(filtered.out, "held by " GROUPS_QUEUE_ROOT) && !strstr(filtered.out, GROUPS_CACHE_PATH),
		  "--filter-types QueuedItem: %s", filtered.out);
	/* the heading counts what the groups shown hold: the queue's 200 items and their list's slots */
	{
		const char *h = strstr(filtered.out, "Leak groups (by what holds them): ");
		long long heading = -1, group = -2;

		cr_assert(h && sscanf(h, "Leak groups (by what holds them): %lld objects in 1 group", &heading) == 1,
			  "%s", filtered.out);
		cr_assert(sscanf(strchr(h, '\n') + 1, " %lld object", &group) == 1, "%s", filtered.out);
		cr_assert_eq(heading, group, "the heading's count is not the group's: %s", filtered.out);
	}
	/* the seed matches types in any case */
	{
		struct run_result lower;

		cr_assert_eq(run(&lower, "print", id, "--report-directory", dir, "--filter-types", "queueditem"), 0);
		cr_assert_eq(lower.status, 0, "%s", lower.err);
		cr_assert_str_eq(lower.out, filtered.out, "--filter-types queueditem differs from QueuedItem");
		run_result__release(&lower);
	}
	/* colour on a terminal (script(1) gives one), none piped, NO_COLOR or --no-color; --force-terminal into a pipe */
	{
		static const struct {
			const char *env, *flags;
			bool pty, colour;
		} cases[] = {
			{ "", "", true, true },           { "NO_COLOR=1", "", true, false },
			{ "", "--no-color", true, false }, { "", "--no-color --force-terminal", true, false },
			{ "", "", false, false },         { "", "--force-terminal", false, true },
		};

		/* print, and list's table */
		for (size_t k = 0; k < 2 * sizeof(cases) / sizeof(cases[0]); k++) {
			size_t c0 = k / 2;
			bool list = k % 2;
			char *inner = list ? xasprintf("%s '%s' list --report-directory '%s' %s", cases[c0].env, harness__memalot(),
						       dir, cases[c0].flags) :
					     xasprintf("%s '%s' print %s --num-iterations 0 --report-directory '%s' %s",
						       cases[c0].env, harness__memalot(), id, dir, cases[c0].flags);
			char *cmd = cases[c0].pty ? xasprintf("script -qec \"%s\" /dev/null", inner) : xasprintf("%s", inner);
			struct run_result c;

			cr_assert_eq(run__capture((char *[]){ "sh", "-c", cmd, NULL }, 60, &c), 0);
			cr_assert_eq(c.status, 0, "%s: %s", cmd, c.err);
			cr_assert(strstr(c.out, list ? "ITERATIONS" : "Leak groups"), "%s: %s", cmd, c.out);
			cr_assert_eq(strstr(c.out, "\033[") != NULL, cases[c0].colour, "%s: %s", cmd, c.out);
			if (cases[c0].colour && !list)
				cr_assert(strstr(c.out, "\033[35m" GROUPS_CACHE_PATH), "the holder is not coloured: %s", c.out);
			run_result__release(&c);
			free(cmd);
			free(inner);
		}
	}
	/* 'latest' and a prefix of the ID name it; by default the newest iteration only */
	{
		char *newest[] = { "print", id, "--report-directory", dir, NULL };
		char *latest[] = { "print", "latest", "--report-directory", dir, NULL };
		char prefix[5];
		char *pre[] = { "print", prefix, "--report-directory", dir, NULL };
		char *none[] = { "print", "zzzz", "--report-directory", dir, NULL };
		struct run_result a, b, c, d;

		snprintf(prefix, sizeof(prefix), "%.4s", id);
		cr_assert_eq(memalot__run(newest, &a), 0);
		cr_assert_eq(a.status, 0, "%s", a.err);
		cr_assert(strstr(text.out, a.out) && strlen(a.out) < strlen(text.out) &&
			  !strstr(strstr(a.out, "==== memalot report") + 1, "==== memalot report"),
			  "print ID is not the newest iteration alone:\n%s", a.out);
		cr_assert_eq(memalot__run(latest, &b), 0);
		cr_assert_str_eq(b.out, a.out, "print latest: %s", b.err);
		cr_assert_eq(memalot__run(pre, &c), 0);
		cr_assert_str_eq(c.out, a.out, "print %s: %s", prefix, c.err);
		cr_assert_eq(memalot__run(none, &d), 0);
		cr_assert_eq(d.status, 1);
		cr_assert(strstr(d.err, "no report ID starts with 'zzzz'"), "%s", d.err);
		run_result__release(&a);
		run_result__release(&b);
		run_result__release(&c);
		run_result__release(&d);
	}
	run_result__release(&printed);
	run_result__release(&text);
	run_result__release(&filtered);
	groups_run__release(&g);
	free(dir);
}

/*
 * A report written before schema 1.1 (schema_minor 0: no leak_groups, no
 * retained or bounded deep sizes) still lists and prints, as text and JSON,
 * without a warning, as it printed then.
 */
Test(reports, schema_1_0_reports_still_read, .fini = cleanup, .timeout = 60)
{
	char id[STORE_ID_LEN + 1], *dir = new_dir();
	struct run_result text, json, listed;
	json_t *doc;

	groups__report_1_0(dir, id);
	cr_assert_eq(run(&text, "print", id, "--report-directory", dir, NULL, NULL), 0);
	cr_assert_eq(text.status, 0, "print exit %d: %s", text.status, text.err);
	cr_assert_str_empty(text.err, "%s", text.err);
	cr_assert(strstr(text.out, "__main__.Session at 0x7f0000001000: 56 bytes, ~56 bytes deep\n"),
		  "the details of a 1.0 report: %s", text.out);
	cr_assert(!strstr(text.out, "Leak groups") && !strstr(text.out, "retained"), "%s", text.out);
	cr_assert(strstr(text.out, "__main__.Session"), "%s", text.out);
	cr_assert_eq(run(&json, "print", id, "--report-directory", dir, "--json", NULL), 0);
	cr_assert_eq(json.status, 0, "print --json exit %d: %s", json.status, json.err);
	cr_assert_str_empty(json.err, "%s", json.err);
	doc = json_loads(json.out, 0, NULL);
	cr_assert_not_null(doc, "%s", json.out);
	cr_assert_null(json_object_get(doc, "leak_groups"), "print added leak_groups to a 1.0 report");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "leak_summary"), "total_objects")), 7);
	json_decref(doc);
	cr_assert_eq(run(&listed, "list", "--report-directory", dir, NULL, NULL, NULL), 0);
	cr_assert_eq(listed.status, 0, "%s", listed.err);
	cr_assert_str_empty(listed.err, "%s", listed.err);
	cr_assert(strstr(listed.out, id), "%s", listed.out);
	run_result__release(&text);
	run_result__release(&json);
	run_result__release(&listed);
	free(dir);
}
