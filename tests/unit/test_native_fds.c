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
