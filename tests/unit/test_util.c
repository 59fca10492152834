/* SPDX-License-Identifier: MIT */
/* Unit tests of common/util.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
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

Test(util, parse_size_reads_what_people_write)
{
	static const struct {
		const char *s;
		uint64_t want;
	} ok[] = {
		{ "0", 0 }, { "4096", 4096 }, { "64K", 65536 }, { "64k", 65536 }, { "512M", 512ull << 20 },
		{ "512MB", 512ull << 20 }, { "512MiB", 512ull << 20 }, { "1.5G", 3ull << 29 }, { "2gib", 2ull << 30 },
		{ "1T", 1ull << 40 }, { "100B", 100 }, { "100b", 100 },
	};
	static const char *const bad[] = { "", "-1", "+5", " 5", "M", "5X", "5MX", "5 M", "nan", "inf", "1e30",
					   "99999999999999999999G" };
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(parse_size(ok[i].s, &v), 0, "'%s' was refused", ok[i].s);
		cr_assert_eq(v, ok[i].want, "'%s' is %llu, not %llu", ok[i].s, (unsigned long long)v,
			     (unsigned long long)ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse_size(bad[i], &v), -1, "'%s' was taken", bad[i]);
}

/* Whether every byte of p[0 .. n) is zero. */
static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * A big table freed is kept and handed to the next table_zalloc of about its
 * size (a report's tables then fault in once per session, not per report),
 * zeroed again whatever it held; one of another size gets a mapping of its own.
 */
Test(util, freed_tables_are_reused_and_zeroed)
{
	size_t big = (size_t)20 << 20, smaller = (size_t)13 << 20;
	unsigned char *a, *b, *c;

	table_cache_drop();
	a = table_zalloc(big);
	cr_assert(all_zero(a, big));
	memset(a, 0xa5, big);
	table_free(a, big);
	b = table_zalloc(smaller); /* at least half of the kept one: reused, its tail given back */
	cr_assert_eq(b, a, "a kept table of 20 MiB was not reused for 13 MiB");
	cr_assert(all_zero(b, smaller), "a reused table is not zeroed");
	memset(b, 0x5a, smaller);
	table_free(b, smaller);
	c = table_zalloc(big); /* more than the kept one: a mapping of its own */
	cr_assert_neq(c, b);
	cr_assert(all_zero(c, big));
	memset(c, 0x3c, big);
	table_free(c, big);
	a = table_zalloc(smaller); /* both kept: the smaller one that fits */
	cr_assert_eq(a, b);
	cr_assert(all_zero(a, smaller));
	table_free(a, smaller);
	table_cache_drop();
}
