/* SPDX-License-Identifier: MIT */
/* Helpers for the Criterion integration tests: find interpreters, start targets, run memalot. */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* Seconds a target gets to exit once its stdin is closed. */
#define STOP_TIMEOUT 20
#define MAX_TARGETS 16

#define xprintf xasprintf /* from common/util.h */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_left(long long deadline)
{
	long long left = deadline - now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* ------------------------------------------------------------ paths */

static char *exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return xstrdup(".");
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	return xstrdup(buf);
}

const char *harness__memalot(void)
{
	static char *path;
	const char *env = getenv("MEMALOT");

	if (!path) {
		if (env && *env) {
			path = xstrdup(env);
		} else {
			/* the binaries live in $(BUILD)/tests, memalot in $(BUILD) */
			char *d = exe_dir();
			path = xprintf("%s/../memalot", d);
			free(d);
		}
	}
	return path;
}

const char *harness__srcdir(void)
{
	static char *path;
	const char *env = getenv("MEMALOT_SRCDIR");

	if (!path) {
		if (env && *env) {
			path = xstrdup(env);
		} else {
			char *d = exe_dir();
			path = xprintf("%s/../..", d);
			free(d);
		}
	}
	return path;
}

/* ------------------------------------------------------------ processes */

/* Child side of a fork: die with the test process, then exec argv. */
static void child_exec(char *const argv[], pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	unsetenv("PYTHONHOME");
	unsetenv("PYTHONPATH");
	execvp(argv[0], argv);
	fprintf(stderr, "harness: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/*
 * Wait for pid until deadline without sleeping: a pidfd becomes readable when the
 * process exits. @return its status code, or -ETIMEDOUT (pid not reaped)
 */
static int wait_until(pid_t pid, long long deadline)
{
	int st, fd = -1;
	pid_t r;

#ifdef SYS_pidfd_open
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		do
			n = poll(&p, 1, ms_left(deadline));
		while (n < 0 && errno == EINTR);
		close(fd);
		if (n == 0)
			return -ETIMEDOUT;
	}
	/* without pidfds (old kernels) this blocks; the Criterion timeout still applies */
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return status_code(st);
}

static int kill_and_reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status_code(st);
}

/* Append what fd has to *buf; @return bytes read, 0 at end of file, -errno */
static ssize_t slurp(int fd, char **buf, size_t *len, size_t *cap)
{
	ssize_t n;

	if (*cap - *len < 4096) {
		*cap = *cap * 2 + 4096;
		*buf = realloc(*buf, *cap);
		if (!*buf)
			abort();
	}
	do
		n = read(fd, *buf + *len, *cap - *len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return n;
}

int run__capture(char *const argv[], int timeout_s, struct run_result *r)
{
	int out[2], err[2];
	char *buf[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 }, cap[2] = { 0, 0 };
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	struct pollfd p[2];
	pid_t pid, parent = getpid();
	int open_fds = 2, ret;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (pipe2(out, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		ret = -errno;
		close(out[0]);
		close(out[1]);
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(out[0]); close(out[1]); close(err[0]); close(err[1]);
		return ret;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		child_exec(argv, parent);
	}
	close(out[1]);
	close(err[1]);
	p[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	p[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
	while (open_fds) {
		int n = poll(p, 2, ms_left(deadline));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->timed_out = true;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (slurp(p[i].fd, &buf[i], &len[i], &cap[i]) <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	if (r->timed_out) {
		r->status = kill_and_reap(pid);
	} else {
		r->status = wait_until(pid, deadline);
		if (r->status == -ETIMEDOUT) {
			r->timed_out = true;
			r->status = kill_and_reap(pid);
		}
	}
	r->out = buf[0] ? buf[0] : xstrdup("");
	r->err = buf[1] ? buf[1] : xstrdup("");
	return 0;
}

void run_result__release(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int memalot__run(char *const args[], struct run_result *r)
{
	char *argv[32];
	int n = 0;

	argv[n++] = (char *)harness__memalot();
	while (args && *args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	return run__capture(argv, RUN_TIMEOUT, r);
}

/* ------------------------------------------------------------ targets */

static pid_t live[MAX_TARGETS];

static void live_add(pid_t pid)
{
	static bool registered;

	if (!registered) {
		atexit(harness__cleanup);
		registered = true;
	}
	for (int i = 0; i < MAX_TARGETS; i++)
		if (!live[i]) {
			live[i] = pid;
			return;
		}
	/* more than MAX_TARGETS at once: PR_SET_PDEATHSIG still ends it with us */
}

static void live_del(pid_t pid)
{
	for (int i = 0; i < MAX_TARGETS; i++)
		if (live[i] == pid)
			live[i] = 0;
}

/*
 * Reports of the memalot runs of a test binary go to a temporary directory
 * of its own (MEMALOT_REPORT_DIRECTORY), never to the user's
 * ~/.memalot/reports, and are removed when the binary exits (by the process
 * that made the directory, not by Criterion's forked test workers).
 */
static char report_dir[64];
static pid_t report_dir_owner;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void harness__remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_report_dir(void)
{
	if (getpid() == report_dir_owner && report_dir[0])
		harness__remove_tree(report_dir);
}

__attribute__((constructor)) static void report_dir_init(void)
{
	if (getenv("MEMALOT_REPORT_DIRECTORY"))
		return;
	snprintf(report_dir, sizeof(report_dir), "/tmp/memalot-test-reports-XXXXXX");
	if (!mkdtemp(report_dir)) {
		report_dir[0] = 0;
		return;
	}
	report_dir_owner = getpid();
	setenv("MEMALOT_REPORT_DIRECTORY", report_dir, 1);
	atexit(remove_report_dir);
}

void harness__cleanup(void)
{
	for (int i = 0; i < MAX_TARGETS; i++)
		if (live[i]) {
			kill_and_reap(live[i]);
			live[i] = 0;
		}
}

static void target_fail(struct target *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
}

static int start_argv(struct target *t, char *const argv[], const char *label, const char *script);

int target__start(struct target *t, const struct interp *py, const char *script, char *const extra[])
{
	char *argv[32];
	int n = 0;

	for (int i = 0; py->argv[i] && n < 28; i++)
		argv[n++] = py->argv[i];
	argv[n++] = (char *)script;
	while (extra && *extra && n < 31)
		argv[n++] = *extra++;
	argv[n] = NULL;
	return start_argv(t, argv, py->label, script);
}

int target__start_argv(struct target *t, char *const argv[])
{
	return start_argv(t, argv, argv[0], "");
}

/* Start argv as a target; label and script name it in t->err. */
static int start_argv(struct target *t, char *const argv[], const char *label, const char *script)
{
	char buf[sizeof(t->ready)];
	size_t len = 0;
	long long deadline = now_ms() + TARGET_READY_TIMEOUT * 1000LL;
	int in[2], out[2], ret;
	pid_t pid, parent = getpid();

	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->in_fd = t->out_fd = -1;
	if (pipe2(in, O_CLOEXEC)) {
		ret = -errno;
		target_fail(t, "pipe: %s", strerror(errno));
		return ret;
	}
	if (pipe2(out, O_CLOEXEC)) {
		ret = -errno;
		target_fail(t, "pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		target_fail(t, "fork: %s", strerror(errno));
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		return ret;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		child_exec(argv, parent);
	}
	close(in[0]);
	close(out[1]);
	t->pid = pid;
	t->in_fd = in[1];
	t->out_fd = out[0];
	live_add(pid);

	/* Read lines until one starts with "ready"; byte by byte so nothing after it is consumed. */
	for (;;) {
		struct pollfd p = { .fd = t->out_fd, .events = POLLIN };
		char c;
		ssize_t r;
		int k = poll(&p, 1, ms_left(deadline));

		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0) {
			target_fail(t, "%s %s: no \"ready\" line within %d s", label, script,
				    TARGET_READY_TIMEOUT);
			ret = -ETIMEDOUT;
			goto fail;
		}
		r = read(t->out_fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int st = wait_until(pid, now_ms() + STOP_TIMEOUT * 1000LL);

			live_del(pid);
			t->pid = -1;
			target_fail(t, "%s %s: exited with status %d before its \"ready\" line", label,
				    script, st);
			ret = -ECHILD;
			goto fail;
		}
		if (c != '\n') {
			if (len < sizeof(buf) - 1)
				buf[len++] = c;
			continue;
		}
		buf[len] = '\0';
		if (!strncmp(buf, "ready", 5)) {
			memcpy(t->ready, buf, len + 1);
			return 0;
		}
		len = 0;
	}
fail:
	if (t->pid > 0) {
		kill_and_reap(t->pid);
		live_del(t->pid);
	}
	close(t->in_fd);
	close(t->out_fd);
	t->pid = -1;
	t->in_fd = t->out_fd = -1;
	return ret;
}

int target__stop(struct target *t)
{
	int st;

	if (t->pid <= 0)
		return -ECHILD;
	if (t->in_fd >= 0)
		close(t->in_fd);
	t->in_fd = -1;
	st = wait_until(t->pid, now_ms() + STOP_TIMEOUT * 1000LL);
	if (st == -ETIMEDOUT) {
		target_fail(t, "pid %d did not exit within %d s of its stdin closing (state '%c'); killed",
			    (int)t->pid, STOP_TIMEOUT, proc__state(t->pid) ? proc__state(t->pid) : '?');
		kill_and_reap(t->pid);
		st = -ETIMEDOUT;
	} else if (st < 0) {
		target_fail(t, "waitpid %d: %s", (int)t->pid, strerror(-st));
	}
	live_del(t->pid);
	if (t->out_fd >= 0)
		close(t->out_fd);
	t->out_fd = -1;
	t->pid = -1;
	return st;
}


/* ------------------------------------------------------------ interpreters */

enum where { PYENV, HOST, SID };

static const struct {
	const char *label;
	enum where where;
	const char *name;       /* pyenv: "3.M"; host: absolute path; sid: file in DIR/usr/bin */
	bool stripped, debug_build;
} matrix[] = {
	{ "pyenv-3.6", PYENV, "3.6", false, false }, /* unsupported: refused with exit 7 */
	{ "pyenv-3.7", PYENV, "3.7", false, false },
	{ "pyenv-3.8", PYENV, "3.8", false, false },
	{ "pyenv-3.9", PYENV, "3.9", false, false },
	{ "pyenv-3.10", PYENV, "3.10", false, false },
	{ "pyenv-3.11", PYENV, "3.11", false, false },
	{ "pyenv-3.12", PYENV, "3.12", false, false },
	{ "pyenv-3.13", PYENV, "3.13", false, false },
	{ "debian-3.11", HOST, "/usr/bin/python3.11", true, false },
	{ "debian-3.11d", HOST, "/usr/bin/python3.11d", false, true },
	{ "sid-3.13", SID, "python3.13", true, false },
	{ "sid-3.13d", SID, "python3.13d", false, true },
	{ "sid-3.14", SID, "python3.14", true, false },
	{ "sid-3.14d", SID, "python3.14d", false, true },
	{ "sid-3.15", SID, "python3.15", true, false },
	{ "sid-3.15d", SID, "python3.15d", false, true },
};
#define NMATRIX (sizeof(matrix) / sizeof(matrix[0]))

static struct interp interps[NMATRIX];

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* `pyenv root`, else $PYENV_ROOT, else ~/.pyenv */
static char *pyenv_root(void)
{
	char *argv[] = { "pyenv", "root", NULL };
	struct run_result r;
	const char *env;
	char *root = NULL;

	if (!run__capture(argv, RUN_TIMEOUT, &r)) {
		chomp(r.out);
		if (r.status == 0 && r.out[0] == '/')
			root = xstrdup(r.out);
		run_result__release(&r);
	}
	if (!root && (env = getenv("PYENV_ROOT")) && *env)
		root = xstrdup(env);
	if (!root)
		root = xprintf("%s/.pyenv", getenv("HOME") ? getenv("HOME") : "/root");
	return root;
}

/* The newest plain CPython "3.M.P" under ROOT/versions (no "t", "rc" or "-dev"). */
static char *pyenv_python(const char *root, const char *minor)
{
	char *dirpath = xprintf("%s/versions", root), *best = NULL;
	size_t mlen = strlen(minor);
	long best_patch = -1;
	struct dirent *e;
	DIR *d = opendir(dirpath);

	if (!d) {
		free(dirpath);
		return NULL;
	}
	while ((e = readdir(d))) {
		const char *p = e->d_name + mlen + 1;
		char *end, *bin;
		long patch;

		if (strncmp(e->d_name, minor, mlen) || e->d_name[mlen] != '.' || !*p)
			continue;
		patch = strtol(p, &end, 10);
		if (*end || p[0] < '0' || p[0] > '9' || patch <= best_patch)
			continue;
		bin = xprintf("%s/%s/bin/python3", dirpath, e->d_name);
		if (access(bin, X_OK)) {
			free(bin);
			continue;
		}
		free(best);
		best = bin;
		best_patch = patch;
	}
	closedir(d);
	free(dirpath);
	return best;
}

static const char *sid_root(void)
{
	static char *dir;
	const char *env = getenv("MEMALOT_SID_ROOT");

	if (!dir)
		dir = env && *env ? xstrdup(env) : xprintf("%s/.cache/sid-root", harness__srcdir());
	return dir;
}

static void discover(void)
{
	static bool done;
	char *proot = NULL;

	if (done)
		return;
	done = true;
	for (size_t i = 0; i < NMATRIX; i++) {
		struct interp *py = &interps[i];

		py->label = matrix[i].label;
		py->stripped = matrix[i].stripped;
		py->debug_build = matrix[i].debug_build;
		switch (matrix[i].where) {
		case PYENV: {
			char *bin;

			if (!proot)
				proot = pyenv_root();
			bin = pyenv_python(proot, matrix[i].name);
			if (bin)
				py->argv[0] = bin;
			else
				py->skip = xprintf("no pyenv CPython %s.* in %s/versions (pyenv install %s)",
						   matrix[i].name, proot, matrix[i].name);
			break;
		}
		case HOST:
			if (!access(matrix[i].name, X_OK))
				py->argv[0] = xstrdup(matrix[i].name);
			else
				py->skip = xprintf("%s is not installed (run tests/setup-deps.sh)", matrix[i].name);
			break;
		case SID: {
			const char *dir = sid_root();
			char *stamp = xprintf("%s/%s", dir, SID_ROOT_STAMP);
			char *bin = xprintf("%s/usr/bin/%s", dir, matrix[i].name);

			py->root = dir;
			if (access(stamp, F_OK))
				py->skip = xprintf("sid chroot not built in %s: run tests/setup-sid-root.sh", dir);
			else if (access(bin, X_OK))
				py->skip = xprintf("%s is not in the sid chroot %s (sid had no package for it)",
						   matrix[i].name, dir);
			else if (geteuid() != 0)
				py->skip = xstrdup("starting an interpreter in the sid chroot needs root (chroot)");
			py->argv[0] = xstrdup(access("/usr/sbin/chroot", X_OK) ? "chroot" : "/usr/sbin/chroot");
			py->argv[1] = xstrdup(dir);
			py->argv[2] = xprintf("/usr/bin/%s", matrix[i].name);
			free(stamp);
			free(bin);
			break;
		}
		}
	}
	free(proot);
}

const struct interp *interp__get(const char *label)
{
	/* the order of tests/lib/python.sh's find_python */
	static const char *const fallback[] = { "pyenv-3.12", "pyenv-3.13", "pyenv-3.11", "pyenv-3.10",
						 "pyenv-3.9", "pyenv-3.8", "debian-3.11" };

	discover();
	if (!strcmp(label, DEFAULT_PYTHON)) {
		const struct interp *py = NULL;

		for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++) {
			py = interp__get(fallback[i]);
			if (!py->skip)
				break;
		}
		return py; /* the last one, skipped with its reason, when none runs here */
	}
	for (size_t i = 0; i < NMATRIX; i++)
		if (!strcmp(interps[i].label, label))
			return &interps[i];
	return NULL;
}

char *interp__version(const struct interp *py, char *err, size_t errlen)
{
	char *argv[8];
	struct run_result r;
	char *v = NULL;
	int n = 0, ret;

	for (int i = 0; py->argv[i]; i++)
		argv[n++] = py->argv[i];
	argv[n++] = "-c";
	argv[n++] = "import platform; print(platform.python_version())";
	argv[n] = NULL;
	ret = run__capture(argv, RUN_TIMEOUT, &r);
	if (ret) {
		snprintf(err, errlen, "%s: cannot run: %s", py->label, strerror(-ret));
		return NULL;
	}
	chomp(r.out);
	if (r.status == 0 && r.out[0])
		v = xstrdup(r.out);
	else
		snprintf(err, errlen, "%s: asking for its version: status %d%s: %s", py->label, r.status,
			 r.timed_out ? " (timed out)" : "", r.err);
	run_result__release(&r);
	return v;
}

int harness__copy_file(const char *src, const char *dst, mode_t mode)
{
	char *tmp = xprintf("%s.tmp.%d", dst, (int)getpid());
	char buf[65536];
	int in, out, ret = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		free(tmp);
		return -errno;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		ret = -errno;
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			ret = -EIO;
			break;
		}
	if (n < 0)
		ret = -errno;
	if (fchmod(out, mode) && !ret)
		ret = -errno;
	if (close(out) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, dst))
		ret = -errno;
	if (ret)
		unlink(tmp);
out:
	close(in);
	free(tmp);
	return ret;
}

char *interp__script(const struct interp *py, const char *name, char *err, size_t errlen)
{
	char *src = xprintf("%s/tests/targets/%s", harness__srcdir(), name);
	char *dir, *dst;
	int ret;

	if (access(src, R_OK)) {
		snprintf(err, errlen, "cannot read %s: %s", src, strerror(errno));
		free(src);
		return NULL;
	}
	if (!py->root)
		return src;
	dir = xprintf("%s/tmp/memalot-tests", py->root);
	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		free(dir);
		free(src);
		return NULL;
	}
	dst = xprintf("%s/%s", dir, name);
	ret = harness__copy_file(src, dst, 0644);
	if (ret)
		snprintf(err, errlen, "copying %s to %s: %s", src, dst, strerror(-ret));
	free(dst);
	free(dir);
	free(src);
	return ret ? NULL : xprintf("/tmp/memalot-tests/%s", name);
}

/* ------------------------------------------------------------ JSON */

long long snap__type_count(const json_t *snap, const char *type)
{
	const json_t *types = json_object_get(snap, "types"), *t;
	size_t i;

	if (!json_is_array(types))
		return -1;
	json_array_foreach(types, i, t) {
		const json_t *name = json_object_get(t, "type"), *gens, *v;
		const char *gen;
		long long sum = 0;

		if (!json_is_string(name) || strcmp(json_string_value(name), type))
			continue;
		gens = json_object_get(t, "generations");
		if (!json_is_object(gens))
			return -1;
		json_object_foreach((json_t *)gens, gen, v) {
			if (!json_is_integer(v))
				return -1;
			if (strcmp(gen, "permanent"))
				sum += json_integer_value(v);
		}
		return sum;
	}
	return 0;
}

/* ------------------------------------------------------------ fault tests */

long long harness__now_ms(void)
{
	return now_ms();
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/*
 * Child side of bgrun__start: like child_exec, but with every signal unblocked
 * (the program under test installs its own handlers) and exec's errno sent
 * back through sync_fd, which closes on a successful exec.
 */
static void child_exec_sync(char *const argv[], pid_t parent, int sync_fd)
{
	sigset_t none;
	int err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	unsetenv("PYTHONHOME");
	unsetenv("PYTHONPATH");
	execvp(argv[0], argv);
	err = errno;
	if (write(sync_fd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

int bgrun__start(struct bgrun *b, char *const argv[], const struct bgrun_opts *o)
{
	static const struct bgrun_opts defaults;
	pid_t parent = getpid();
	int sync[2], err = 0, ret, st;
	ssize_t n;

	if (!o)
		o = &defaults;
	memset(b, 0, sizeof(*b));
	b->pid = -1;
	b->pidfd = -1;
	b->out_fd = memfd_create("memalot-test-stdout", MFD_CLOEXEC);
	b->err_fd = memfd_create("memalot-test-stderr", MFD_CLOEXEC);
	if (b->out_fd < 0 || b->err_fd < 0) {
		ret = -errno;
		goto fail;
	}
	if (pipe2(sync, O_CLOEXEC)) {
		ret = -errno;
		goto fail;
	}
	b->start_ms = now_ms();
	b->pid = fork();
	if (b->pid < 0) {
		ret = -errno;
		close(sync[0]);
		close(sync[1]);
		goto fail;
	}
	if (b->pid == 0) {
		int in = o->stdin_fd > 0 ? o->stdin_fd : open("/dev/null", O_RDONLY);

		dup2(in, 0);
		dup2(b->out_fd, 1);
		dup2(b->err_fd, 2);
		if (o->set_ids && (setgroups(0, NULL) || setgid(o->gid) || setuid(o->uid))) {
			err = errno;
			if (write(sync[1], &err, sizeof(err)) < 0)
				_exit(126);
			_exit(127);
		}
		child_exec_sync(argv, parent, sync[1]);
	}
	close(sync[1]);
	do
		n = read(sync[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(sync[0]);
	if (n != 0) {
		ret = n == (ssize_t)sizeof(err) ? -err : -EIO;
		while (waitpid(b->pid, &st, 0) < 0 && errno == EINTR)
			;
		b->pid = -1;
		goto fail;
	}
	b->pidfd = open_pidfd(b->pid);
	live_add(b->pid);
	return 0;
fail:
	if (b->out_fd >= 0)
		close(b->out_fd);
	if (b->err_fd >= 0)
		close(b->err_fd);
	b->out_fd = b->err_fd = -1;
	return ret;
}

int bgrun__exited(struct bgrun *b, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	if (b->pid <= 0)
		return 1;
	if (b->pidfd >= 0) {
		struct pollfd p = { .fd = b->pidfd, .events = POLLIN };
		int n;

		do
			n = poll(&p, 1, ms_left(deadline));
		while (n < 0 && errno == EINTR);
		return n > 0;
	}
	/* without pidfds: look without reaping, a millisecond at a time */
	for (;;) {
		siginfo_t si;
		struct timespec ms = { 0, 1000000 };

		memset(&si, 0, sizeof(si));
		if (!waitid(P_PID, (id_t)b->pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid)
			return 1;
		if (!ms_left(deadline))
			return 0;
		nanosleep(&ms, NULL);
	}
}

/* Everything written to the memory file fd, NUL-terminated (the caller frees). */
static char *read_memfd(int fd)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd >= 0 && lseek(fd, 0, SEEK_SET) == 0)
		while (slurp(fd, &buf, &len, &cap) > 0)
			;
	return buf ? buf : xstrdup("");
}

int bgrun__wait(struct bgrun *b, int timeout_ms, struct run_result *r)
{
	int st;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (b->pid <= 0)
		return -ECHILD;
	if (!bgrun__exited(b, timeout_ms)) {
		r->timed_out = true;
		kill(b->pid, SIGKILL);
	}
	while (waitpid(b->pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	b->wstatus = st;
	r->status = status_code(st);
	live_del(b->pid);
	b->pid = -1;
	if (b->pidfd >= 0)
		close(b->pidfd);
	b->pidfd = -1;
	r->out = read_memfd(b->out_fd);
	r->err = read_memfd(b->err_fd);
	close(b->out_fd);
	close(b->err_fd);
	b->out_fd = b->err_fd = -1;
	return 0;
}

int target__request(struct target *t, const char *line, char *reply, size_t len, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	size_t off = 0, n = 0, want = strlen(line);
	int ret = 0;

	if (t->pid <= 0 || t->in_fd < 0 || t->out_fd < 0 || !len)
		return -EINVAL;
	/* a target that died must be an EPIPE here, not a SIGPIPE for the test */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	while (off < want) {
		ssize_t w = write(t->in_fd, line + off, want - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			break;
		}
		off += (size_t)w;
	}
	sigaction(SIGPIPE, &old, NULL);
	if (ret)
		return ret;
	for (;;) {
		struct pollfd p = { .fd = t->out_fd, .events = POLLIN };
		ssize_t k;
		char c;
		int m = poll(&p, 1, ms_left(deadline));

		if (m < 0 && errno == EINTR)
			continue;
		if (m == 0)
			return -ETIMEDOUT;
		k = read(t->out_fd, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EPIPE;
		if (c == '\n')
			break;
		if (n < len - 1)
			reply[n++] = c;
	}
	reply[n] = '\0';
	return 0;
}

/* TracerPid from a status file. @return the pid, 0, or -errno */


int proc__held(pid_t pid, char *why, size_t whylen)
{
	char path[64];
	struct dirent *e;
	char lead = proc__state(pid);
	int ret = 0;
	DIR *d;

	/* a zombie main thread whose other threads run on (pthread_exit in main) is a live process */
	if (!lead || lead == 'X' || (lead == 'Z' && proc__exited(pid)))
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while (!ret && (e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);
		char state;
		int tracer;

		if (tid <= 0)
			continue;
		state = proc__state(tid);
		tracer = proc__tracer(tid); /* /proc/TID works for every thread */
		if (state == 't' || state == 'T') {
			if (why)
				snprintf(why, whylen, "thread %d of pid %d is in state '%c' (tracer %d)",
					 (int)tid, (int)pid, state, tracer);
			ret = 1;
		} else if (tracer > 0) {
			if (why)
				snprintf(why, whylen, "thread %d of pid %d is traced by pid %d (state '%c')",
					 (int)tid, (int)pid, tracer, state ? state : '-');
			ret = 1;
		}
	}
	closedir(d);
	return ret;
}

int proc__wait_released(pid_t pid, int timeout_ms, char *why, size_t whylen)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		struct timespec ms = { 0, 2000000 };
		int ret = proc__held(pid, why, whylen);

		if (ret <= 0)
			return ret;
		if (!ms_left(deadline))
			return -ETIMEDOUT;
		/* the kernel wakes a detached thread on its own time: look again shortly */
		nanosleep(&ms, NULL);
	}
}

uint64_t harness__random(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

uint64_t harness__seed(void)
{
	const char *env = getenv("MEMALOT_FAULT_SEED");
	struct timespec ts;

	if (env && *env)
		return strtoull(env, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
}
