/* SPDX-License-Identifier: MIT */
/* Freezing a target: PTRACE_SEIZE + PTRACE_INTERRUPT, detach on every path. */
#define _GNU_SOURCE
#include "freeze.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

/* How long we wait for one thread to stop before giving up the freeze. */
#define STOP_TIMEOUT_MS 5000
/* Rounds of re-scanning /proc/PID/task before we call the thread set unstable. */
#define MAX_SCAN_ROUNDS 1000
#define MAX_THREADS 65536

/*
 * The signal handler's view of what is seized. It only ever calls
 * ptrace(PTRACE_DETACH), which is a plain system call and so async-signal-safe.
 */
static pid_t g_tids[MAX_THREADS];
static volatile sig_atomic_t g_ntids;
volatile int freezer_stop_requested;

static void register_tid(pid_t tid)
{
	if (g_ntids < MAX_THREADS) {
		g_tids[g_ntids] = tid;
		g_ntids = g_ntids + 1;
	}
}

static void unregister_all(void)
{
	g_ntids = 0;
}

static void detach_all_unsafe(void)
{
	for (sig_atomic_t i = 0; i < g_ntids; i++)
		ptrace(PTRACE_DETACH, g_tids[i], 0, 0);
	g_ntids = 0;
}

static void fatal_handler(int sig)
{
	detach_all_unsafe();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void stop_handler(int sig)
{
	/*
	 * Release the target at once: the main code may be blocked anywhere. It
	 * notices the request and ends the run as it would at a normal finish.
	 */
	detach_all_unsafe();
	freezer_stop_requested = sig;
}

static void alarm_handler(int sig)
{
	(void)sig; /* only interrupts a blocking waitpid */
}

void freezer__install_signal_handlers(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGQUIT };
	static const int stop[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = fatal_handler;
	for (size_t i = 0; i < ARRAY_SIZE(fatal); i++)
		sigaction(fatal[i], &sa, NULL);
	sa.sa_handler = stop_handler;
	for (size_t i = 0; i < ARRAY_SIZE(stop); i++)
		sigaction(stop[i], &sa, NULL);
	sa.sa_handler = alarm_handler;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is an EPIPE write error */
}

static bool have_tid(const struct freezer *fz, pid_t tid)
{
	for (size_t i = 0; i < fz->n; i++)
		if (fz->tids[i] == tid)
			return true;
	return false;
}

static void drop_index(struct freezer *fz, size_t i)
{
	fz->tids[i] = fz->tids[fz->n - 1];
	fz->pending[i] = fz->pending[fz->n - 1];
	fz->n--;
}

/* Seize and interrupt the threads not yet seized. @return how many were new, or -errno */
static int seize_new_threads(struct freezer *fz)
{
	char path[64];
	struct dirent *de;
	int added = 0, ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)fz->pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0 || have_tid(fz, tid))
			continue;
		if (fz->n >= MAX_THREADS) {
			ret = -E2BIG;
			break;
		}
		if (ptrace(PTRACE_SEIZE, tid, 0, 0)) {
			int err = errno;
			char state = err == EPERM ? proc__state(tid) : 0;

			/*
			 * The thread exited meanwhile. A zombie (the leader, until the
			 * parent reaps it) cannot be seized either: that is EPERM.
			 */
			if (err == ESRCH || (err == EPERM && (!state || state == 'Z' || state == 'X')))
				continue;
			/* any thread traced by a debugger or strace -p TID: not a permission problem */
			ret = err == EPERM && proc__tracer(tid) > 0 ? -ME_TRACED : -err;
			break;
		}
		GROW(fz->tids, fz->cap, fz->n + 1);
		fz->pending = xrealloc(fz->pending, fz->cap * sizeof(*fz->pending));
		fz->tids[fz->n] = tid;
		fz->pending[fz->n] = 0;
		fz->n++;
		register_tid(tid);
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) && errno != ESRCH) {
			ret = -errno;
			break;
		}
		added++;
	}
	closedir(d);
	return ret ? ret : added;
}

static void arm_timeout(int ms)
{
	struct itimerval it = { 0 };

	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Wait until every seized thread at index >= from is in a ptrace stop. */
static int wait_stopped(struct freezer *fz, size_t from)
{
	int ret = 0;

	arm_timeout(STOP_TIMEOUT_MS);
	for (size_t i = from; i < fz->n;) {
		int st;
		pid_t r = waitpid(fz->tids[i], &st, __WALL);

		if (r < 0) {
			if (errno == EINTR) {
				ret = freezer_stop_requested ? -ME_INTERRUPTED : -ETIMEDOUT;
				break;
			}
			if (errno == ECHILD) { /* gone before it could stop */
				drop_index(fz, i);
				continue;
			}
			ret = -errno;
			break;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			drop_index(fz, i);
			continue;
		}
		if (WIFSTOPPED(st)) {
			int event = st >> 16;

			if (event == PTRACE_EVENT_STOP) {
				i++;
				continue;
			}
			if (event == 0) {
				/*
				 * A signal arrived before our interrupt: the thread is stopped
				 * in signal-delivery-stop. Keep it that way and hand the signal
				 * back at detach.
				 */
				fz->pending[i] = WSTOPSIG(st);
				i++;
				continue;
			}
			/* Any other event: not ours (no options set), treat as stopped. */
			i++;
		}
	}
	arm_timeout(0);
	return ret;
}

int freezer__freeze(struct freezer *fz, pid_t pid)
{
	int ret, rounds = 0;
	size_t waited = 0;

	memset(fz, 0, sizeof(*fz));
	fz->pid = pid;
	fz->start_ns = now_ns();
	if (kill(pid, 0) && errno == ESRCH)
		return -ESRCH;
	for (;;) {
		ret = seize_new_threads(fz);
		if (ret < 0)
			goto fail;
		if (ret == 0 && waited == fz->n)
			break; /* every thread we know of is stopped and none is new */
		ret = wait_stopped(fz, waited);
		if (ret)
			goto fail;
		waited = fz->n;
		if (++rounds > MAX_SCAN_ROUNDS) {
			ret = -EAGAIN;
			goto fail;
		}
	}
	if (!fz->n) {
		ret = -ESRCH;
		goto fail;
	}
	fz->frozen = true;
	fz->frozen_ns = now_ns();
	return 0;
fail:
	if (ret == -EPERM && proc__tracer(pid) > 0 && !fz->n)
		ret = -ME_TRACED;
	/*
	 * A thread seized and interrupted but not yet in its stop cannot be
	 * detached (ESRCH) and would stay ours until memalot exits: let the
	 * ones not waited for reach the stop first (bounded by the stop timeout).
	 */
	if (fz->n > waited && ret != -ME_INTERRUPTED)
		wait_stopped(fz, waited);
	freezer__release(fz); /* thaws what was seized and frees the lists */
	return ret;
}

int freezer__thaw(struct freezer *fz)
{
	int ret = 0;

	for (size_t i = 0; i < fz->n; i++) {
		if (ptrace(PTRACE_DETACH, fz->tids[i], 0, (void *)(long)fz->pending[i]) &&
		    errno != ESRCH && !ret)
			ret = -errno;
	}
	unregister_all();
	fz->n = 0;
	fz->frozen = false;
	return ret;
}

void freezer__release(struct freezer *fz)
{
	if (fz->n)
		freezer__thaw(fz);
	zfree(&fz->tids);
	zfree(&fz->pending);
	fz->cap = 0;
}

static int read_int_file(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC), v = -1;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		v = atoi(buf);
	}
	return v;
}

static bool have_cap_sys_ptrace(void)
{
	char *line = NULL;
	size_t cap = 0;
	bool have = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return geteuid() == 0;
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "CapEff:", 7)) {
			unsigned long long caps = strtoull(line + 7, NULL, 16);
			have = caps & (1ull << 19); /* CAP_SYS_PTRACE */
		}
	}
	free(line);
	fclose(f);
	return have;
}


char *freezer__explain_eperm(pid_t pid)
{
	pid_t tid;
	int tracer = proc__traced_thread(pid, &tid), scope; /* the main thread or any other */
	long uid = proc__uid(pid);
	bool cap = have_cap_sys_ptrace();
	char *msg, *comm;

	if (tracer > 0) {
		char thread[48] = "";

		if (tid != pid)
			snprintf(thread, sizeof(thread), "thread %d of ", (int)tid);
		comm = proc__comm(tracer);
		msg = xasprintf("%sprocess %d is already traced by pid %d (%s); detach that debugger "
				"or tracer first",
				thread, (int)pid, tracer, comm);
		free(comm);
		return msg;
	}
	if (uid >= 0 && (uid_t)uid != geteuid() && !cap)
		return xasprintf("process %d belongs to uid %ld and memalot runs as uid %d without "
				 "CAP_SYS_PTRACE; run memalot as that user or as root",
				 (int)pid, uid, (int)geteuid());
	scope = read_int_file("/proc/sys/kernel/yama/ptrace_scope");
	if (scope == 3)
		return xasprintf("ptrace is disabled on this system (kernel.yama.ptrace_scope=3); "
				 "it can only be changed by rebooting");
	if (scope == 2 && !cap)
		return xasprintf("kernel.yama.ptrace_scope=2 allows only CAP_SYS_PTRACE to attach; "
				 "run memalot as root");
	if (scope == 1 && !cap)
		return xasprintf("kernel.yama.ptrace_scope=1 allows attaching only to descendants; "
				 "run memalot with sudo, or 'sysctl kernel.yama.ptrace_scope=0'");
	if (!cap)
		return xasprintf("not allowed to trace process %d: missing CAP_SYS_PTRACE (in a "
				 "container, add --cap-add=SYS_PTRACE)",
				 (int)pid);
	return xasprintf("not allowed to trace process %d (a security module such as "
			 "SELinux or AppArmor may forbid ptrace)",
			 (int)pid);
}
