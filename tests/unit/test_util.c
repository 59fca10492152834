/* SPDX-License-Identifier: MIT */
/* Unit tests of common/util.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../common/util.h"

Test(util, utf8_sanitize_keeps_valid_text)
{
	char s[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d plain";

	cr_assert_str_eq(utf8_sanitize(s), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d plain");
}

Test(util, utf8_sanitize_replaces_stray_bytes)
{
	char s[] = "a\xff" "b\xe2\x82" "c\xc0\xaf" "d\x80";

	cr_assert_str_eq(utf8_sanitize(s), "a?b??c??d?");
}

Test(util, me_strerror_covers_private_codes)
{
	cr_assert_str_eq(me_strerror(-ME_NOTPYTHON), "not a Python process");
	cr_assert_str_eq(me_strerror(-ESRCH), strerror(ESRCH));
}
