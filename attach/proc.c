/* SPDX-License-Identifier: MIT */
/* Parsing of /proc/PID files, and opening the target's files through its root. */
#define _GNU_SOURCE
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A real process has a few thousand mappings; cap what a hostile one can cost. */
#define MAX_MAPS (1u << 20)
#define MAX_PROCS (1u << 22) /* pid_max is at most 2^22 */

static int open_proc_file(pid_t pid, const char *name, FILE **out)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	*out = f;
	return 0;
}

int proc_maps__load(pid_t pid, struct proc_maps *out)
{
	size_t cap = 0;
	char *line = NULL;
	size_t linecap = 0;
	FILE *f = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = open_proc_file(pid, "maps", &f);
	if (ret)
		return ret;
	while (getline(&line, &linecap, f) > 0) {
		struct proc_map m = { 0 };
		unsigned long long start, end, off, ino;
		char perms[8];
		int pathpos = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %llx:%llx %llu %n", &start, &end, perms, &off,
			   &m.dev_major, &m.dev_minor, &ino, &pathpos) < 7)
			continue;
		if (out->n >= MAX_MAPS)
			break;
		m.start = start;
		m.end = end;
		m.offset = off;
		m.inode = ino;
		m.r = perms[0] == 'r';
		m.w = perms[1] == 'w';
		m.x = perms[2] == 'x';
		if (pathpos > 0 && line[pathpos] && line[pathpos] != '\n') {
			size_t len = strcspn(line + pathpos, "\n");
			m.path = xmalloc(len + 1);
			memcpy(m.path, line + pathpos, len);
			m.path[len] = 0;
		}
		GROW(out->v, cap, out->n + 1);
		out->v[out->n++] = m;
	}
	free(line);
	fclose(f);
	if (!out->n)
		return -ESRCH; /* a zombie or a process that just exited */
	return 0;
}

void proc_maps__release(struct proc_maps *maps)
{
	for (size_t i = 0; i < maps->n; i++)
		free(maps->v[i].path);
	zfree(&maps->v);
	maps->n = 0;
}

const struct proc_map *proc_maps__find(const struct proc_maps *maps, raddr_t addr)
{
	size_t lo = 0, hi = maps->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct proc_map *m = &maps->v[mid];

		if (addr < m->start)
			hi = mid;
		else if (addr >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

bool proc_maps__readable(const struct proc_maps *maps, raddr_t addr, size_t len)
{
	raddr_t end = addr + len;

	if (end < addr)
		return false;
	while (addr < end) {
		const struct proc_map *m = proc_maps__find(maps, addr);
		if (!m || !m->r)
			return false;
		addr = m->end;
	}
	return true;
}

static int open_checked(const char *path, unsigned long long inode)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (inode && st.st_ino != inode)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* The target's root directory as we see it ("/" for most processes). */
static char *target_root(pid_t pid)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/root", (int)pid);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return xstrdup(buf);
}

int proc__open_mapped(pid_t pid, const struct proc_map *map, char **opened)
{
	char *root = target_root(pid), *path = NULL;
	const char *inner;
	int fd = -ENOENT;

	if (!map->path || map->path[0] != '/')
		goto out;
	/* /proc/PID/maps shows paths from our root; strip the target's root to get its own view. */
	inner = map->path;
	if (root && strcmp(root, "/") && !strncmp(inner, root, strlen(root)) &&
	    inner[strlen(root)] == '/')
		inner += strlen(root);
	path = xasprintf("/proc/%d/root%s", (int)pid, inner);
	fd = open_checked(path, map->inode);
	if (fd >= 0)
		goto out;
	free(path);
	path = xasprintf("/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, map->start, map->end);
	fd = open_checked(path, map->inode);
	if (fd >= 0)
		goto out;
	free(path);
	path = xstrdup(map->path);
	fd = open_checked(path, map->inode);
out:
	if (fd >= 0 && opened)
		*opened = path;
	else
		free(path);
	free(root);
	return fd;
}

int proc__open_in_root(pid_t pid, const char *path)
{
	char *p = xasprintf("/proc/%d/root%s", (int)pid, path);
	int fd = open_checked(p, 0);

	free(p);
	return fd;
}

/* Read at most size-1 bytes of /proc/PID/name into buf. @return bytes read, or -1 */
static ssize_t read_small(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return n;
}

char *proc__cmdline(pid_t pid)
{
	char buf[4096];
	ssize_t n = read_small(pid, "cmdline", buf, sizeof(buf));

	if (n <= 0)
		return NULL;
	while (n > 0 && buf[n - 1] == 0)
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = 0;
	return utf8_sanitize(xstrdup(buf));
}

char *proc__exe(pid_t pid)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return utf8_sanitize(xstrdup(buf));
}

char *proc__comm(pid_t pid)
{
	char buf[64];

	if (read_small(pid, "comm", buf, sizeof(buf)) <= 0)
		return xstrdup("?");
	buf[strcspn(buf, "\n")] = 0;
	return xstrdup(buf);
}

char proc__state(pid_t tid)
{
	char buf[1024], *p;

	if (read_small(tid, "stat", buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')'); /* comm may contain spaces and parentheses */
	if (!p || p[1] != ' ')
		return 0;
	return p[2];
}

int proc__stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
	char buf[1024], *p;
	unsigned long long v[20];
	int pp;

	if (read_small(pid, "stat", buf, sizeof(buf)) <= 0)
		return -ESRCH;
	p = strrchr(buf, ')'); /* comm may contain spaces and parentheses */
	if (!p || p[1] != ' ')
		return -EINVAL;
	/* after ") ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
	 * cutime cstime priority nice num_threads itrealvalue starttime */
	if (sscanf(p + 2, "%*c %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
			  "%llu %llu",
		   &pp, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12],
		   &v[13], &v[14], &v[15], &v[16], &v[17]) != 19)
		return -EINVAL;
	if (ppid)
		*ppid = pp;
	if (start)
		*start = v[17];
	return 0;
}

size_t proc__descendants(pid_t root, pid_t *out, size_t max)
{
	struct pp {
		pid_t pid, ppid;
	} *all = NULL;
	size_t n = 0, cap = 0, found = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool grew = true;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < MAX_PROCS) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		pid_t ppid;

		if (*end || pid <= 0 || pid > INT_MAX || proc__stat((pid_t)pid, &ppid, NULL))
			continue;
		GROW(all, cap, n + 1);
		all[n++] = (struct pp){ (pid_t)pid, ppid };
	}
	closedir(d);
	/* out[0 .. found) grows until no process's parent is in it (each pass adds at least one level) */
	while (grew && found < max) {
		grew = false;
		for (size_t i = 0; i < n && found < max; i++) {
			bool parent_in = all[i].ppid == root, seen = all[i].pid == root;

			for (size_t k = 0; k < found && !seen; k++) {
				seen = out[k] == all[i].pid;
				parent_in |= out[k] == all[i].ppid;
			}
			if (parent_in && !seen) {
				out[found++] = all[i].pid;
				grew = true;
			}
		}
	}
	free(all);
	return found;
}

static int status_field(pid_t pid, const char *key, long *val)
{
	char *line = NULL;
	size_t cap = 0, klen = strlen(key);
	FILE *f = NULL;
	int ret = open_proc_file(pid, "status", &f);

	if (ret)
		return ret;
	ret = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			*val = strtol(line + klen + 1, NULL, 10);
			ret = 0;
			break;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

int proc__tracer(pid_t pid)
{
	long v;
	int ret = status_field(pid, "TracerPid", &v);

	return ret ? ret : (int)v;
}

int proc__traced_thread(pid_t pid, pid_t *tid)
{
	char path[64];
	struct dirent *de;
	int tracer = 0, n = 0;
	DIR *d;

	*tid = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	/* bounded like the freezer: a process has at most so many threads worth a look */
	while ((de = readdir(d)) && n++ < 65536) {
		pid_t t = (pid_t)atoi(de->d_name);
		int tr;

		if (t <= 0)
			continue;
		tr = proc__tracer(t);
		if (tr > 0 && tr != getpid()) {
			*tid = t;
			tracer = tr;
			break;
		}
	}
	closedir(d);
	return tracer;
}

bool proc__exited(pid_t pid)
{
	long threads = 0;

	/* a zombie leader whose other threads still run (pthread_exit in main) has not exited */
	return proc__state(pid) == 'Z' && (status_field(pid, "Threads", &threads) || threads <= 1);
}

pid_t proc__mm_pid(pid_t pid)
{
	char path[64];
	struct dirent *de;
	pid_t found = pid;
	int n = 0;
	DIR *d;

	if (proc__state(pid) != 'Z')
		return pid;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return pid;
	while ((de = readdir(d)) && n++ < 65536) {
		pid_t t = (pid_t)atoi(de->d_name);
		char st;

		if (t <= 0 || t == pid)
			continue;
		st = proc__state(t);
		if (st && st != 'Z' && st != 'X') {
			found = t;
			break;
		}
	}
	closedir(d);
	return found;
}

/* PF_EXITING in /proc/PID/stat's flags (include/linux/sched.h): the task is in do_exit. */
#define PF_EXITING_FLAG 0x4u

bool proc__exiting(pid_t pid)
{
	char buf[1024], *p, st;
	unsigned long flags = 0;
	pid_t tid;

	st = proc__state(pid);
	if (!st)
		return false; /* no such process: the caller knows whether there was one */
	if (st == 'X' || proc__exited(pid))
		return true;
	/*
	 * Exiting, not yet a zombie: its threads are in do_exit (a fatal
	 * signal, exit_group) and its memory may be gone already. Asked of a
	 * thread that runs when the main thread is a zombie (pthread_exit).
	 */
	tid = proc__mm_pid(pid);
	if (read_small(tid, "stat", buf, sizeof(buf)) <= 0)
		return kill(pid, 0) && errno == ESRCH;
	p = strrchr(buf, ')');
	/* after ") ": state ppid pgrp session tty_nr tpgid flags */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &st, &flags) != 2)
		return false;
	return st == 'Z' || st == 'X' || (flags & PF_EXITING_FLAG);
}

long proc__uid(pid_t pid)
{
	long v;
	int ret = status_field(pid, "Uid", &v);

	return ret ? ret : v;
}

int proc__rss(pid_t pid, long *rss_kib, long *hwm_kib)
{
	int ret = status_field(pid, "VmRSS", rss_kib);

	if (!ret)
		ret = status_field(pid, "VmHWM", hwm_kib);
	return ret;
}

uint64_t proc__default_max_copy(void)
{
	unsigned long long kib = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "re");

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
				break;
		fclose(f);
	}
	if (!kib || kib > UINT64_MAX / 1024)
		return (uint64_t)1 << 30;
	return (uint64_t)kib * 1024 / 2;
}
