/* SPDX-License-Identifier: MIT */
/*
 * memalot run -- PROGRAM, and attach with several targets: the workers of a
 * multiprocessing pool are watched and their leak found with its root while
 * the parent reports none; --fail-on-leak; PROGRAM's exit status and its
 * standard output pass through untouched; attach --children picks up a
 * worker forked after it started. Real processes (tests/targets/run_*.py,
 * children_master.py), waited on through what they and memalot write.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
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

/* The whole reports of memalot's --output file (a line still being written is left for later). */
static size_t reports_in(const char *path, json_t **rep, size_t max)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;

	if (!f)
		return 0;
	while (n < max && (len = getline(&line, &cap, f)) > 0) {
		json_error_t e;

		if (line[len - 1] != '\n')
			break;
		rep[n] = json_loads(line, 0, &e);
		cr_assert_not_null(rep[n], "not JSON in %s: %s (%s)", path, line, e.text);
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

static void release_reports(json_t **rep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(rep[i]);
}

/* The root of a leak group of rep held by root whose types include type, or false. */
static bool group_with(const json_t *rep, const char *root, const char *type)
{
	const json_t *g, *t;
	size_t i, k;

	json_array_foreach(json_object_get(rep, "leak_groups"), i, g) {
		if (strcmp(json_string_value(json_object_get(g, "root")) ?: "", root))
			continue;
		json_array_foreach(json_object_get(g, "types"), k, t)
			if (!strcmp(json_string_value(json_object_get(t, "object_type")) ?: "", type))
				return true;
	}
	return false;
}

static long long pid_of(const json_t *rep)
{
	return json_integer_value(json_object_get(rep, "pid"));
}

/* memalot run ARGS... -- python script script_args..., its stdin a pipe (*in_w: the end to close). */
static void start_run(struct bgrun *b, int *in_w, char *const args[], const char *script, char *const script_args[])
{
	const struct interp *py = need_python(DEFAULT_PYTHON);
	char err[512], *path = interp__script(py, script, err, sizeof(err)), *argv[64];
	struct bgrun_opts o = { 0 };
	size_t n = 0;
	int p[2];

	cr_assert_not_null(path, "%s", err);
	argv[n++] = (char *)harness__memalot();
	argv[n++] = "run";
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n++] = "--";
	for (size_t i = 0; py->argv[i]; i++)
		argv[n++] = py->argv[i];
	argv[n++] = path;
	for (size_t i = 0; script_args && script_args[i]; i++)
		argv[n++] = script_args[i];
	argv[n] = NULL;
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	o.stdin_fd = p[0];
	cr_assert_eq(bgrun__start(b, argv, &o), 0);
	close(p[0]);
	*in_w = p[1];
	free(path);
}

/* The end of a run: PROGRAM's stdin closed, memalot waited for. @return memalot's exit status */
static int end_run(struct bgrun *b, int in_w, struct run_result *r)
{
	if (in_w >= 0)
		close(in_w);
	cr_assert_eq(bgrun__wait(b, WAIT_MS, r), 0);
	cr_assert_not(r->timed_out, "memalot run did not end: %s", r->err);
	return r->status;
}

/* The parent of pid, or -1. */
static pid_t ppid_of(pid_t pid)
{
	pid_t pp;
	return proc__stat(pid, &pp, NULL) ? -1 : pp;
}

/*
 * A pool's forked workers leak into a module-level list: memalot run finds
 * the leak in a worker, with the exact root; the parent has reports, none
 * with a leak held by module state; the summary names every process; exit
 * 0, PROGRAM's.
 */
Test(run, pool_workers_leak_parent_does_not, .fini = scratch__cleanup, .timeout = 180)
{
	char *out = scratch__file("reports.jsonl"), *html = scratch__file("page.html");
	char *args[] = { "--json", "--output", out, "--max-object-lifetime", "1", "--no-save-reports", "--html", html, NULL };
	struct bgrun b;
	struct run_result r;
	json_t *rep[512];
	long long parent = -1, worker = -1, start = harness__now_ms();
	size_t n = 0, parent_reports = 0;
	int in_w;

	start_run(&b, &in_w, args, "run_pool.py", NULL);
	/* until a worker's leak is reported and the parent has had three reports */
	while (harness__now_ms() - start < WAIT_MS && (worker < 0 || parent_reports < 3)) {
		usleep(100000);
		release_reports(rep, n);
		n = reports_in(out, rep, ARRAY_SIZE(rep));
		parent_reports = 0;
		for (size_t i = 0; i < n; i++) {
			pid_t pid = (pid_t)pid_of(rep[i]);

			if (ppid_of(pid) == b.pid)
				parent = pid;
			if (pid == parent)
				parent_reports++;
			else if (group_with(rep[i], "__main__.WORKER_LEAKS (global)", "__main__.WorkerLeak"))
				worker = pid;
		}
	}
	cr_assert_gt(worker, 0, "no worker's leak reported in %d s: %zu reports", WAIT_MS / 1000, n);
	cr_assert_gt(parent, 0, "no report of the parent");
	cr_assert_geq(parent_reports, 3);
	cr_assert_eq(ppid_of((pid_t)worker), (pid_t)parent, "the leaking process is not one of the parent's workers");
	cr_assert_eq(end_run(&b, in_w, &r), 0, "exit %d: %s", r.status, r.err);
	/*
	 * The parent keeps nothing in module state. (A thread of the pool
	 * blocked in Connection._recv keeps that call's BytesIO as long as it
	 * waits: at a lifetime of 1 s, a local of its frame can outlive it.)
	 */
	for (size_t i = 0; i < n; i++) {
		const json_t *g;
		size_t k;

		if (pid_of(rep[i]) != parent)
			continue;
		cr_assert_eq(leak_count(rep[i], "__main__.WorkerLeak"), 0, "a worker's leak in the parent's report");
		json_array_foreach(json_object_get(rep[i], "leak_groups"), k, g)
			cr_assert_str_neq(json_string_value(json_object_get(g, "root_kind")) ?: "", "global",
					  "the parent leaked into %s", json_string_value(json_object_get(g, "root")));
	}
	cr_assert_not_null(strstr(r.err, "memalot: summary: "), "%s", r.err);
	{
		char *line = xasprintf("pid %lld (", worker);
		cr_assert_not_null(strstr(r.err, line), "the summary does not name the worker: %s", r.err);
		free(line);
	}
	release_reports(rep, n);
	run_result__release(&r);
	/* --html: the first process (the parent) has FILE, each other FILE-PID; 0600; no temporary file left */
	{
		char *page = xasprintf("%.*s-%lld.html", (int)(strlen(html) - 5), html, worker), *text, *dir, *slash;
		struct stat st;
		size_t len;
		DIR *d;
		struct dirent *de;

		cr_assert_eq(stat(html, &st), 0, "run --html wrote no %s", html);
		cr_assert_eq(st.st_mode & 0777, 0600);
		cr_assert_eq(stat(page, &st), 0, "run --html wrote no %s for the worker", page);
		cr_assert_eq(st.st_mode & 0777, 0600);
		{
			FILE *f = fopen(page, "r");

			cr_assert_not_null(f);
			text = xcalloc(1 << 22, 1);
			len = fread(text, 1, (1 << 22) - 1, f);
			fclose(f);
		}
		cr_assert(len && strstr(text, "<h1>memalot report ") && strstr(text, "WorkerLeak"), "%.500s", text ? text : "");
		free(text);
		dir = xstrdup(html);
		slash = strrchr(dir, '/');
		*slash = 0;
		cr_assert_not_null(d = opendir(dir));
		while ((de = readdir(d)))
			cr_assert(!strstr(de->d_name, ".html."), "a temporary page was left: %s", de->d_name);
		closedir(d);
		free(dir);
		free(page);
	}
	free(html);
	free(out);
}

/* Run program mode until its reports say enough (want_leak: a RunLeak leak, else three reports). */
static int run_until(const char *mode, bool want_leak, char *const extra_args[], struct run_result *r)
{
	char *out = scratch__file(mode);
	char *args[16] = { "--json", "--output", out, "--max-object-lifetime", "1", "--no-save-reports" };
	char *sargs[] = { (char *)mode, NULL };
	struct bgrun b;
	json_t *rep[64];
	size_t n = 0, k = 6;
	bool done = false;
	long long start = harness__now_ms();
	int in_w;

	for (size_t i = 0; extra_args && extra_args[i]; i++)
		args[k++] = extra_args[i];
	args[k] = NULL;
	start_run(&b, &in_w, args, "run_exit.py", sargs);
	while (!done && harness__now_ms() - start < WAIT_MS) {
		usleep(100000);
		release_reports(rep, n);
		n = reports_in(out, rep, ARRAY_SIZE(rep));
		done = want_leak ? n && leaks_over(rep, n, "__main__.RunLeak") > 0 : n >= 3;
	}
	cr_assert(done, "%s: %zu reports in %d s", mode, n, WAIT_MS / 1000);
	if (!want_leak)
		cr_assert_eq(leaks_over(rep, n, "__main__.RunLeak"), 0);
	release_reports(rep, n);
	free(out);
	return end_run(&b, in_w, r);
}

/* --fail-on-leak: a leaking program gives 10; a program with a cache filled once and churn gives 0. */
Test(run, fail_on_leak, .fini = scratch__cleanup, .timeout = 180)
{
	char *fail[] = { "--fail-on-leak", NULL };
	struct run_result r;

	cr_assert_eq(run_until("leak", true, fail, &r), 10, "leak: exit %d: %s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, "<- fails the run"), "%s", r.err);
	run_result__release(&r);
	cr_assert_eq(run_until("cache", false, fail, &r), 0, "cache: exit %d: %s", r.status, r.err);
	cr_assert_null(strstr(r.err, "<- fails the run"), "%s", r.err);
	run_result__release(&r);
	/* without --fail-on-leak a leak does not change the status */
	cr_assert_eq(run_until("leak", true, NULL, &r), 0, "leak: exit %d: %s", r.status, r.err);
	run_result__release(&r);
}

/* PROGRAM's status passes through: 0, 3, killed by SIGTERM (143); and 127, 126 when it cannot run. */
Test(run, exit_status_passes_through, .fini = scratch__cleanup, .timeout = 120)
{
	char *args[] = { "--max-object-lifetime", "1", "--no-save-reports", NULL };
	char *exit0[] = { "exit", "0", NULL }, *exit3[] = { "exit", "3", NULL }, *term[] = { "term", NULL };
	char *const *modes[] = { exit0, exit3, term };
	const int want[] = { 0, 3, 143 };
	char *missing[] = { "run", "--", "/nonexistent/memalot-program", NULL };
	char *plain = scratch__file("not-executable"), *notexec[] = { "run", "--", plain, NULL };
	struct run_result r;
	FILE *f = fopen(plain, "w");

	cr_assert_not_null(f);
	fputs("echo this must not run\n", f);
	fclose(f);
	cr_assert_eq(chmod(plain, 0644), 0);

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		struct bgrun b;
		int in_w;

		start_run(&b, &in_w, args, "run_exit.py", modes[i]);
		cr_assert_eq(end_run(&b, in_w, &r), want[i], "%s: exit %d: %s", modes[i][0], r.status, r.err);
		run_result__release(&r);
	}
	/* a program that never starts Python runs as it would, and memalot says so once */
	{
		char *sh[] = { "run", "--no-save-reports", "--", "sh", "-c", "sleep 0.6; exit 4", NULL };

		cr_assert_eq(memalot__run(sh, &r), 0);
		cr_assert_eq(r.status, 4, "%d: %s", r.status, r.err);
		cr_assert_str_eq(r.err, "memalot: no Python process was seen among sh and its descendants\n");
		run_result__release(&r);
	}
	cr_assert_eq(memalot__run(missing, &r), 0);
	cr_assert_eq(r.status, 127, "%d: %s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, "command not found"), "%s", r.err);
	run_result__release(&r);
	cr_assert_eq(memalot__run(notexec, &r), 0);
	cr_assert_eq(r.status, 126, "%d: %s", r.status, r.err);
	cr_assert_str_empty(r.out);
	run_result__release(&r);
	free(plain);
}

/* Everything PROGRAM writes on stdout, read from b's memory file once it exited. */
static char *stdout_of(struct bgrun *b, size_t *len)
{
	struct stat st;
	char *buf;

	cr_assert_eq(bgrun__exited(b, WAIT_MS), 1);
	cr_assert_eq(fstat(b->out_fd, &st), 0);
	*len = (size_t)st.st_size;
	buf = xmalloc(*len + 1);
	cr_assert_eq(pread(b->out_fd, buf, *len, 0), (ssize_t)*len);
	return buf;
}

/* 1 MiB of every byte value on stdout: the same bytes with and without memalot run. */
Test(run, stdout_is_byte_identical, .fini = scratch__cleanup, .timeout = 120)
{
	const struct interp *py = need_python(DEFAULT_PYTHON);
	char err[512], *path = interp__script(py, "run_exit.py", err, sizeof(err));
	char *direct[] = { py->argv[0], path, "print", "1048576", NULL };
	char *under[] = { (char *)harness__memalot(), "run", "--max-object-lifetime", "1", "--no-save-reports", "--",
			  py->argv[0], path, "print", "1048576", NULL };
	struct bgrun a, b;
	struct run_result r;
	char *x, *y;
	size_t nx, ny;

	cr_assert_null(py->argv[1], "DEFAULT_PYTHON runs on the host");
	cr_assert_eq(bgrun__start(&a, direct, NULL), 0);
	x = stdout_of(&a, &nx);
	cr_assert_eq(bgrun__start(&b, under, NULL), 0);
	y = stdout_of(&b, &ny);
	cr_assert_eq(nx, 1048576);
	cr_assert_eq(ny, nx, "%zu bytes under memalot run, %zu without", ny, nx);
	cr_assert_eq(memcmp(x, y, nx), 0, "the bytes differ");
	for (size_t i = 0; i < nx; i++)
		cr_assert_eq((unsigned char)x[i], (unsigned char)(i % 256));
	cr_assert_eq(bgrun__wait(&a, WAIT_MS, &r), 0);
	cr_assert_eq(r.status, 0);
	run_result__release(&r);
	cr_assert_eq(bgrun__wait(&b, WAIT_MS, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result__release(&r);
	free(x);
	free(y);
	free(path);
}

/* attach --children: a worker the master forks after memalot started is watched and its leak found. */
Test(run, attach_children_picks_up_a_new_worker, .fini = scratch__cleanup, .timeout = 180)
{
	char *out = scratch__file("children.jsonl"), pidstr[16], reply[64];
	struct target t;
	struct bgrun b;
	struct run_result r;
	json_t *rep[256];
	size_t n = 0;
	bool master_seen = false, worker_leak = false;
	long long start;
	pid_t worker;

	start_target(&t, DEFAULT_PYTHON, "children_master.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	{
		char *argv[] = { (char *)harness__memalot(), "attach", "--children", pidstr, "--json", "--output", out,
				 "--max-object-lifetime", "1", "--no-save-reports", NULL };
		cr_assert_eq(bgrun__start(&b, argv, NULL), 0);
	}
	/* memalot watches the master first */
	for (start = harness__now_ms(); !master_seen && harness__now_ms() - start < WAIT_MS;) {
		usleep(100000);
		release_reports(rep, n);
		n = reports_in(out, rep, ARRAY_SIZE(rep));
		for (size_t i = 0; i < n; i++)
			master_seen |= pid_of(rep[i]) == t.pid;
	}
	cr_assert(master_seen, "no report of the master");
	cr_assert_eq(target__request(&t, "fork\n", reply, sizeof(reply), 10000), 0);
	cr_assert_eq(sscanf(reply, "worker %d", &worker), 1, "%s", reply);
	for (start = harness__now_ms(); !worker_leak && harness__now_ms() - start < WAIT_MS;) {
		usleep(100000);
		release_reports(rep, n);
		n = reports_in(out, rep, ARRAY_SIZE(rep));
		for (size_t i = 0; i < n; i++)
			worker_leak |= pid_of(rep[i]) == worker &&
				       group_with(rep[i], "__main__.CHILD_LEAKS (global)", "__main__.ChildLeak");
	}
	cr_assert(worker_leak, "the new worker %d's leak was not reported: %zu reports", (int)worker, n);
	/* (the master keeps its workers' pids: ints, its own leak) */
	for (size_t i = 0; i < n; i++)
		if (pid_of(rep[i]) == t.pid)
			cr_assert_not(group_with(rep[i], "__main__.CHILD_LEAKS (global)", "__main__.ChildLeak"),
				      "the worker's leak reported in the master");
	/* the master and its worker end: so does memalot, with 0 */
	cr_assert_eq(target__stop(&t), 0);
	cr_assert_eq(bgrun__wait(&b, WAIT_MS, &r), 0);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, "memalot: summary: 2 processes watched"), "%s", r.err);
	release_reports(rep, n);
	run_result__release(&r);
	free(out);
}

/* attach PID PID: one session each, reports labelled by pid, one summary. */
Test(run, attach_two_pids, .fini = scratch__cleanup, .timeout = 120)
{
	char *args[] = { "attach", NULL, NULL, "--max-object-lifetime", "1", "--iterations", "3", "--json",
			 "--no-save-reports", NULL };
	char a[16], b[16];
	struct target t1, t2;
	struct run_result r;
	json_t *rep[16];
	size_t n, n1 = 0, n2 = 0;

	start_target(&t1, DEFAULT_PYTHON, "leaky_app.py", NULL);
	start_target(&t2, DEFAULT_PYTHON, "leaky_app.py", NULL);
	snprintf(a, sizeof(a), "%d", (int)t1.pid);
	snprintf(b, sizeof(b), "%d", (int)t2.pid);
	args[1] = a;
	args[2] = b;
	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	n = json_lines("two pids", r.out, rep, ARRAY_SIZE(rep));
	for (size_t i = 0; i < n; i++) {
		n1 += pid_of(rep[i]) == t1.pid;
		n2 += pid_of(rep[i]) == t2.pid;
	}
	cr_assert_eq(n1, 3, "%zu reports of the first pid", n1);
	cr_assert_eq(n2, 3, "%zu reports of the second pid", n2);
	cr_assert_not_null(strstr(r.err, "memalot: summary: 2 processes watched"), "%s", r.err);
	release_reports(rep, n);
	run_result__release(&r);
	target__stop(&t1);
	target__stop(&t2);
}

/* What b has written to stderr so far. */
static char *stderr_so_far(const struct bgrun *b)
{
	struct stat st;
	char *buf;

	cr_assert_eq(fstat(b->err_fd, &st), 0);
	buf = xmalloc((size_t)st.st_size + 1);
	cr_assert_eq(pread(b->err_fd, buf, (size_t)st.st_size, 0), (ssize_t)st.st_size);
	buf[st.st_size] = 0;
	return buf;
}

/* A fork storm: a parent and 8 children, --max-processes 3: three watched, one warning, the rest run free. */
Test(run, max_processes_bounds_a_fork_storm, .fini = scratch__cleanup, .timeout = 120)
{
	char *out = scratch__file("forks.jsonl");
	char *args[] = { "--json", "--output", out, "--max-object-lifetime", "1", "--no-save-reports", "--max-processes",
			 "3", NULL };
	char *sargs[] = { "8", NULL }, *err = NULL;
	struct bgrun b;
	struct run_result r;
	json_t *rep[256];
	long long pids[8], start = harness__now_ms();
	size_t n = 0, npids = 0;
	int in_w;

	start_run(&b, &in_w, args, "run_forks.py", sargs);
	/* until the warning, and a report of each of the three */
	while (harness__now_ms() - start < WAIT_MS && (npids < 3 || !err || !strstr(err, "--max-processes 3 reached"))) {
		usleep(100000);
		free(err);
		err = stderr_so_far(&b);
		release_reports(rep, n);
		n = reports_in(out, rep, ARRAY_SIZE(rep));
		npids = 0;
		for (size_t i = 0; i < n; i++) {
			bool known = false;
			for (size_t k = 0; k < npids; k++)
				known |= pids[k] == pid_of(rep[i]);
			if (!known && npids < ARRAY_SIZE(pids))
				pids[npids++] = pid_of(rep[i]);
		}
	}
	cr_assert_eq(npids, 3, "%zu processes reported", npids);
	cr_assert_not_null(strstr(err, "--max-processes 3 reached"), "%s", err);
	free(err);
	cr_assert_eq(end_run(&b, in_w, &r), 0, "exit %d: %s", r.status, r.err);
	{
		const char *w = strstr(r.err, "--max-processes 3 reached");
		cr_assert(w && !strstr(w + 1, "--max-processes 3 reached"), "not one warning: %s", r.err);
	}
	cr_assert_not_null(strstr(r.err, "memalot: summary: 3 processes watched"), "%s", r.err);
	release_reports(rep, n);
	run_result__release(&r);
	free(out);
}

/* The bytes a background run wrote to fd so far (NUL-terminated, static buffer). */
static const char *so_far(int fd)
{
	static char buf[1 << 20];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/*
 * Ctrl-C in a terminal reaches memalot and PROGRAM (one process group):
 * PROGRAM handles it as it would alone, memalot makes its last report, the
 * summary, and exits with PROGRAM's status. SIGTERM to memalot alone is
 * passed on to PROGRAM (143).
 */
Test(run, ctrl_c_and_sigterm, .fini = scratch__cleanup, .timeout = 180)
{
	const struct interp *py = need_python(DEFAULT_PYTHON);
	char err[512], *path = interp__script(py, "run_exit.py", err, sizeof(err));
	struct bgrun_opts o = { 0 };
	struct run_result r;
	struct bgrun b;
	int p[2];

	cr_assert_not_null(path, "%s", err);
	for (int round = 0; round < 2; round++) {
		/* setsid: memalot leads a process group of its own, as a shell's job would */
		char *argv[] = { "setsid", (char *)harness__memalot(), "run", "--max-object-lifetime", "1",
				 "--no-save-reports", "--", py->argv[0], path, "leak", NULL };
		long long start;

		cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
		o.stdin_fd = p[0];
		cr_assert_eq(bgrun__start(&b, argv, &o), 0);
		close(p[0]);
		/* the first report with a leak is the signal that memalot watches it */
		for (start = harness__now_ms(); !strstr(so_far(b.err_fd), "Possible New Leaks") &&
						harness__now_ms() - start < WAIT_MS;)
			cr_assert_eq(bgrun__exited(&b, 100), 0, "memalot run ended early: %s", so_far(b.err_fd));
		cr_assert(strstr(so_far(b.err_fd), "Possible New Leaks"), "no report: %s", so_far(b.err_fd));
		cr_assert_eq(kill(round ? b.pid : -b.pid, round ? SIGTERM : SIGINT), 0, "%s", strerror(errno));
		cr_assert_eq(bgrun__wait(&b, WAIT_MS, &r), 0);
		close(p[1]);
		cr_assert_not(r.timed_out, "memalot run did not end after the signal: %s", r.err);
		cr_assert(strstr(r.err, "memalot: summary"), "no summary: %s", r.err);
		if (!round) {
			cr_assert_eq(r.status, 3, "Ctrl-C: exit %d, not PROGRAM's 3: %s", r.status, r.err);
			cr_assert(strstr(r.out, "interrupted"), "PROGRAM did not see Ctrl-C: %s", r.out);
			cr_assert(strstr(r.err, "a last report first"), "no last report: %s", r.err);
		} else {
			cr_assert_eq(r.status, 143, "SIGTERM: exit %d, not 143: %s", r.status, r.err);
		}
		run_result__release(&r);
	}
	free(path);
}

/* The pid tracing pid (TracerPid), 0 when none, -1 when pid is gone. */
static int tracer_of(pid_t pid)
{
	char path[64], buf[4096], *p;
	int fd, tracer = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	if ((p = strstr(buf, "TracerPid:")))
		tracer = atoi(p + 10);
	return tracer;
}

/*
 * A watched process killed while memalot holds it (in the middle of a
 * check): its session ends with one line, the other process goes on to its
 * last report, and the run ends 0.
 */
Test(run, worker_killed_mid_check, .fini = scratch__cleanup, .timeout = 180)
{
	char a[16], b[16];
	char *argv[] = { (char *)harness__memalot(), "attach", a, b, "--max-object-lifetime", "2", "--check-interval",
			 "0.1", "--iterations", "3", "--json", "--no-save-reports", NULL };
	char *big[] = { "1000000", NULL }, line[64];
	struct target t1, t2;
	struct run_result r;
	struct bgrun run;
	json_t *rep[16];
	size_t n, n2 = 0;
	long long start;
	bool caught = false;

	start_target(&t1, DEFAULT_PYTHON, "large_heap.py", big);
	start_target(&t2, DEFAULT_PYTHON, "leaky_app.py", NULL);
	snprintf(a, sizeof(a), "%d", (int)t1.pid);
	snprintf(b, sizeof(b), "%d", (int)t2.pid);
	cr_assert_eq(bgrun__start(&run, argv, NULL), 0);
	/* its session under way: its warm-up report is out */
	snprintf(line, sizeof(line), "\"pid\":%d,", (int)t1.pid); /* attach --json is compact */
	for (start = harness__now_ms(); !strstr(so_far(run.out_fd), line) && harness__now_ms() - start < WAIT_MS;)
		cr_assert_eq(bgrun__exited(&run, 50), 0, "memalot ended early: %s", so_far(run.err_fd));
	/* the moment memalot traces the big one again, a check of it is under way: kill it then */
	for (start = harness__now_ms(); !caught && harness__now_ms() - start < WAIT_MS;) {
		caught = tracer_of(t1.pid) == run.pid;
		cr_assert_eq(bgrun__exited(&run, 0), 0, "memalot ended before the kill");
	}
	cr_assert(caught, "memalot never traced pid %d", (int)t1.pid);
	cr_assert_eq(kill(t1.pid, SIGKILL), 0);
	cr_assert_eq(bgrun__wait(&run, WAIT_MS, &r), 0);
	cr_assert_not(r.timed_out, "memalot did not end: %s", r.err);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	snprintf(line, sizeof(line), "process %d exited", (int)t1.pid);
	cr_assert(strstr(r.err, line), "no line for the killed process: %s", r.err);
	n = json_lines("killed mid-check", r.out, rep, ARRAY_SIZE(rep));
	for (size_t i = 0; i < n; i++)
		n2 += pid_of(rep[i]) == t2.pid;
	cr_assert_eq(n2, 3, "%zu reports of the other process: %s", n2, r.err);
	assert_running_free(t2.pid, "after the run");
	release_reports(rep, n);
	run_result__release(&r);
	target__stop(&t1);
	target__stop(&t2);
}
