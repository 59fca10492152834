/* SPDX-License-Identifier: MIT */
/* Unit tests of attach/native.c: which descriptors are new since the warm-up, and reading our own. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../attach/native.h"

#define E(n, t) { n, (char *)(t) }

/* A number not open before, or open before on another file, is new; the same number on the same file is not. */
Test(native, new_fds_by_number_and_target)
{
	struct fd_entry b[] = { E(0, "/dev/null"), E(3, "/a"), E(4, "/b"), E(9, "pipe:[1]") };
	struct fd_entry n[] = { E(0, "/dev/null"), E(3, "/a"), E(4, "/c"), E(5, "/d"), E(7, "/e"), E(9, "pipe:[1]"),
				E(10, "/f") };
	struct fd_table base = { b, 4 }, now = { n, 7 };
	const struct fd_entry *out[8];

	cr_assert_eq(native__new_fds(&base, &now, out, 8), 4);
	cr_assert_eq(out[0]->fd, 4);
	cr_assert_eq(out[1]->fd, 5);
	cr_assert_eq(out[2]->fd, 7);
	cr_assert_eq(out[3]->fd, 10);
	/* at most max listed, all counted */
	cr_assert_eq(native__new_fds(&base, &now, out, 2), 4);
	cr_assert_eq(out[1]->fd, 5);
	/* nothing before: all new; nothing now: none */
	struct fd_table none = { NULL, 0 };
	cr_assert_eq(native__new_fds(&none, &now, out, 8), 7);
	cr_assert_eq(native__new_fds(&base, &none, out, 8), 0);
}

/* Our own process: a file we open shows up with its path, our memory and thread are counted. */
Test(native, reads_this_process)
{
	char path[] = "/tmp/memalot-native-XXXXXX";
	int fd = mkstemp(path);
	struct native_stats st;
	struct fd_table t;
	bool found = false;

	cr_assert_geq(fd, 0);
	cr_assert_eq(native__read(getpid(), &st), 0);
	cr_assert_gt(st.rss, 0);
	cr_assert_gt(st.uss, 0);
	cr_assert_geq(st.rss, st.uss);
	cr_assert_geq(st.threads, 1);
	cr_assert_geq(st.fds, 4);
	cr_assert_eq(native__fds(getpid(), &t), 0);
	for (size_t i = 0; i < t.n; i++) {
		if (i)
			cr_assert_lt(t.v[i - 1].fd, t.v[i].fd, "not sorted by fd");
		found |= t.v[i].fd == fd && !strcmp(t.v[i].target, path);
	}
	cr_assert(found, "fd %d (%s) not listed", fd, path);
	native__fds_release(&t);
	close(fd);
	unlink(path);
	cr_assert_eq(native__read(999999999, &st), -ESRCH);
}

/*
 * smaps: sums over every mapping; the heap is [heap] plus the arenas of
 * malloc's other threads (a 64 MiB-aligned anonymous rw mapping, or one
 * followed by its PROT_NONE rest), and a mapped file's name is only a name,
 * even one that looks like a field or [heap].
 */
Test(native, smaps_heap_and_arenas)
{
	static const char text[] =
		"55d0c0000000-55d0c0021000 rw-p 00000000 00:00 0                          [heap]\n"
		"Rss:                 132 kB\n"
		"Pss:                 100 kB\n"
		"Private_Dirty:        96 kB\n"
		"Anonymous:           96 kB\n"
		"7f0000000000-7f0000800000 rw-p 00000000 00:00 0 \n"
		"Rss:                1024 kB\n"
		"7f0000800000-7f0004000000 ---p 00000000 00:00 0 \n"
		"Rss:                   0 kB\n"
		"7f1000001000-7f1000002000 rw-p 00000000 00:00 0 \n"
		"Rss:                   4 kB\n"
		"7f2000000000-7f2000001000 r--p 00000000 08:01 1234                       /tmp/Rss: 999 kB [heap]\n"
		"Rss:                   4 kB\n"
		"Swap:                  8 kB\n";
	struct native_stats st = { 0 };
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	cr_assert_not_null(f);
	cr_assert_eq(native__parse_smaps(f, &st), 5);
	fclose(f);
	cr_assert_eq(st.rss, (132 + 1024 + 4 + 4) * 1024ull);
	cr_assert_eq(st.pss, 100 * 1024ull);
	cr_assert_eq(st.uss, 96 * 1024ull);
	cr_assert_eq(st.anon, 96 * 1024ull);
	cr_assert_eq(st.swap, 8 * 1024ull);
	/* [heap] and the arena at 7f0000000000 (its rest PROT_NONE); not the unaligned one, not the file */
	cr_assert_eq(st.heap, (132 + 1024) * 1024ull, "heap %llu", (unsigned long long)st.heap);
}
