/* SPDX-License-Identifier: MIT */
/*
 * A target's native figures from /proc (see native.h). Everything read is
 * the kernel's text about a process that may exit at any moment: a file
 * that ends early gives what was read so far, a vanished pid -ESRCH.
 */
#define _GNU_SOURCE
#include "native.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/util.h"

/* glibc's arenas other than the main one are heaps of HEAP_MAX_SIZE, aligned to it (64 MiB on 64-bit). */
#define ARENA_HEAP_SIZE ((uint64_t)64 << 20)
#define MAX_MAPPINGS (1u << 20)

struct mapping {
	uint64_t start, end, rss;
	bool anon_rw, anon_none, heap;
};

/* "Name:   123 kB" -> 123 * 1024 into *v when line starts with name. */
static bool field_kb(const char *line, const char *name, uint64_t *v)
{
	size_t n = strlen(name);
	unsigned long long kb;

	if (strncmp(line, name, n) || line[n] != ':')
		return false;
	if (sscanf(line + n + 1, "%llu", &kb) == 1 && kb < (UINT64_MAX >> 10))
		*v += (uint64_t)kb << 10;
	return true;
}

/* Count the entries of directory path other than . and ..; -errno when it cannot be read. */
static int64_t count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int64_t n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Whether the mapping at m is a heap of a malloc arena other than the main one. */
static bool is_arena(const struct mapping *m, const struct mapping *next)
{
	if (!m->anon_rw || m->start % ARENA_HEAP_SIZE)
		return false;
	if (m->end - m->start == ARENA_HEAP_SIZE)
		return true;
	/* the part not yet in use is mapped PROT_NONE right after it, to the end of the 64 MiB */
	return next && next->anon_none && next->start == m->end && next->end == m->start + ARENA_HEAP_SIZE;
}

size_t native__parse_smaps(FILE *f, struct native_stats *out)
{
	char *line = NULL;
	size_t cap = 0, nmaps = 0, mcap = 0;
	struct mapping *maps = NULL, *cur = NULL;

	while (getline(&line, &cap, f) > 0) {
		unsigned long long start, end, off, ino;
		char perms[8], dev[16];
		int pos = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %15s %llu %n", &start, &end, perms, &off, dev, &ino, &pos) >= 6 &&
		    pos > 0) {
			/* a mapping's header: "start-end perms offset dev inode [path]" */
			const char *name = line + pos;
			bool anon = !ino && (name[0] == '\n' || name[0] == 0);

			if (nmaps >= MAX_MAPPINGS) {
				cur = NULL;
				continue;
			}
			GROW(maps, mcap, nmaps + 1);
			cur = &maps[nmaps++];
			*cur = (struct mapping){ start, end, 0, anon && !strncmp(perms, "rw", 2),
						 anon && !strncmp(perms, "---", 3), !strncmp(name, "[heap]", 6) };
			continue;
		}
		if (field_kb(line, "Rss", &out->rss)) {
			if (cur)
				field_kb(line, "Rss", &cur->rss);
		} else if (!field_kb(line, "Pss", &out->pss) && !field_kb(line, "Private_Clean", &out->uss) &&
			   !field_kb(line, "Private_Dirty", &out->uss) && !field_kb(line, "Anonymous", &out->anon))
			field_kb(line, "Swap", &out->swap);
	}
	free(line);
	for (size_t i = 0; i < nmaps; i++)
		if (maps[i].heap || is_arena(&maps[i], i + 1 < nmaps ? &maps[i + 1] : NULL))
			out->heap += maps[i].rss;
	free(maps);
	return nmaps;
}

int native__read(pid_t pid, struct native_stats *out)
{
	char path[64];
	size_t nmaps;
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	nmaps = native__parse_smaps(f, out);
	fclose(f);
	if (!nmaps)
		return kill(pid, 0) && errno == ESRCH ? -ESRCH : -EIO;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	out->fds = count_entries(path);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	out->threads = count_entries(path);
	if (out->fds < 0 || out->threads < 0) {
		int e = (int)(out->fds < 0 ? out->fds : out->threads);
		return e == -ENOENT ? -ESRCH : e;
	}
	return 0;
}

static int cmp_fd(const void *a, const void *b)
{
	const struct fd_entry *x = a, *y = b;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

int native__fds(pid_t pid, struct fd_table *out)
{
	char path[64];
	struct dirent *e;
	size_t cap = 0;
	DIR *d;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((e = readdir(d)) && out->n < NATIVE_MAX_FDS) {
		char link[96], target[PATH_MAX];
		char *endp;
		long fd;
		ssize_t len;

		if (e->d_name[0] == '.')
			continue;
		errno = 0;
		fd = strtol(e->d_name, &endp, 10);
		if (errno || *endp || fd < 0 || fd > INT_MAX)
			continue;
		snprintf(link, sizeof(link), "/proc/%d/fd/%ld", (int)pid, fd);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0 && errno == ENOENT)
			continue; /* closed since the directory was read */
		GROW(out->v, cap, out->n + 1);
		if (len < 0)
			out->v[out->n].target = xstrdup("?");
		else {
			/* a file name is any bytes the target chose: no control characters reach a terminal */
			target[len] = 0;
			for (ssize_t i = 0; i < len; i++)
				if ((unsigned char)target[i] < 0x20 || target[i] == 0x7f)
					target[i] = '?';
			out->v[out->n].target = xstrdup(utf8_sanitize(target));
		}
		out->v[out->n++].fd = (int)fd;
	}
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_fd);
	return 0;
}

void native__fds_release(struct fd_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].target);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

size_t native__new_fds(const struct fd_table *base, const struct fd_table *now, const struct fd_entry **out,
		       size_t max)
{
	size_t i = 0, total = 0;

	/* both sorted by fd: one merge */
	for (size_t k = 0; k < now->n; k++) {
		const struct fd_entry *x = &now->v[k];

		while (i < base->n && base->v[i].fd < x->fd)
			i++;
		if (i < base->n && base->v[i].fd == x->fd && !strcmp(base->v[i].target, x->target))
			continue;
		if (total < max)
			out[total] = x;
		total++;
	}
	return total;
}
