/* SPDX-License-Identifier: MIT */
/* Unit tests of engine/control.c's parser: the package's requests, and what is refused. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <string.h>

#include "../../engine/control.h"

static enum control_req parse(const char *line, uint64_t *n, uint64_t *addrs, size_t *naddrs)
{
	return control__parse(line, n, addrs, naddrs);
}

Test(control, requests)
{
	uint64_t n, a[CONTROL_MAX_EXCLUDE];
	size_t na;

	cr_assert_eq(parse("hello 1", &n, a, &na), CREQ_HELLO);
	cr_assert_eq(n, 1);
	cr_assert_eq(parse("stop", &n, a, &na), CREQ_STOP);
	cr_assert_eq(parse("enter 7", &n, a, &na), CREQ_ENTER);
	cr_assert_eq(n, 7);
	cr_assert_eq(parse("exit 7 0x10 0 42", &n, a, &na), CREQ_EXIT);
	cr_assert_eq(na, 3);
	cr_assert_eq(a[0], 16);
	cr_assert_eq(a[1], 0);
	cr_assert_eq(a[2], 42);
	/* next N: call N's exit and N + 1's entry at one snapshot, the addresses as for exit */
	cr_assert_eq(parse("next 9 0x7f00aa 0x7f00bb 0x7f00cc", &n, a, &na), CREQ_NEXT);
	cr_assert_eq(n, 9);
	cr_assert_eq(na, 3);
	cr_assert_eq(a[2], 0x7f00cc);
	cr_assert_eq(parse("next 9", &n, a, &na), CREQ_NEXT);
	cr_assert_eq(na, 0);
}

Test(control, refused)
{
	static const char *const bad[] = {
		"", "enter", "enter 0", "enter -1", "enter 4294967295", "next 4294967294", "exit 1 0x", "exit 1 zz",
		"exit 1 1 2 3 4 5 6 7 8 9", "next 1 1 2 3 4 5 6 7 8 9", "enter 1 2", "stop now", "hello", "nexts 1",
		"Next 1", "jump 1",
	};
	uint64_t n, a[CONTROL_MAX_EXCLUDE];
	size_t na;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(bad[i], &n, a, &na), CREQ_BAD, "'%s' was taken", bad[i]);
	/* over-long */
	char line[CONTROL_LINE_MAX + 10];
	memset(line, '1', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	memcpy(line, "exit ", 5);
	cr_assert_eq(parse(line, &n, a, &na), CREQ_BAD);
}
