/* SPDX-License-Identifier: MIT */
/*
 * What a target's memory and files look like from outside, beside its Python
 * objects (psleak's native checks, read from /proc without touching the
 * target): resident, unique and proportional set sizes, anonymous memory,
 * the malloc heap, swap, open file descriptors and threads.
 */
#ifndef MEMALOT_NATIVE_H
#define MEMALOT_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct native_stats {
	/* bytes, summed over /proc/PID/smaps */
	uint64_t rss;  /* Rss */
	uint64_t uss;  /* Private_Clean + Private_Dirty: what the process alone holds */
	uint64_t pss;  /* Pss */
	uint64_t anon; /* Anonymous */
	uint64_t heap; /* Rss of [heap] and of glibc's other malloc arenas */
	uint64_t swap; /* Swap */
	int64_t fds;     /* entries of /proc/PID/fd */
	int64_t threads; /* entries of /proc/PID/task */
};

/* Read pid's figures. @return 0 or -errno (-ESRCH when it is gone) */
int native__read(pid_t pid, struct native_stats *out);

/*
 * The memory figures of native__read from an smaps text (/proc/PID/smaps:
 * its mapped file names are the target's to choose), added into out.
 * @return the mappings read (at most MAX_MAPPINGS of them)
 */
size_t native__parse_smaps(FILE *f, struct native_stats *out);

/* Open file descriptors and what they point at (readlink of /proc/PID/fd/N). */
struct fd_entry {
	int fd;
	char *target; /* "?" when it could not be read */
};

struct fd_table {
	struct fd_entry *v; /* by fd */
	size_t n;
};

/* At most NATIVE_MAX_FDS descriptors are read (the rest are only counted by native__read). */
#define NATIVE_MAX_FDS 65536

/* Read pid's descriptors. @return 0 or -errno */
int native__fds(pid_t pid, struct fd_table *out);
void native__fds_release(struct fd_table *t);

/*
 * The descriptors of now that were not open in base: a number base does not
 * have, or the same number pointing elsewhere (closed and opened again).
 * Pointers into now; at most max are stored in out. @return how many in all
 */
size_t native__new_fds(const struct fd_table *base, const struct fd_table *now, const struct fd_entry **out,
		       size_t max);

#endif
