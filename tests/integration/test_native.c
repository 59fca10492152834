/* SPDX-License-Identifier: MIT */
/*
 * Native growth from outside (attach/native.c): descriptors opened and never
 * closed are reported with their paths, memory from malloc that no Python
 * object holds as growth Python objects do not explain; neither as a Python
 * leak. Against real targets (tests/targets/native_growth.py).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../common/util.h"
#include "../lib/harness.h"
#include "../lib/start.h"

#define MIB (1ll << 20)

static long long num(const json_t *rep, const char *obj, const char *key)
{
	const json_t *v = json_object_get(json_object_get(rep, obj), key);

	cr_assert(json_is_integer(v), "%s.%s is not an integer", obj, key);
	return json_integer_value(v);
}

/* Every figure of "native", "native_growth" and "native_window_growth" is there, an integer; none is a Python leak. */
static void check_shape(const char *label, json_t *const *rep, size_t n)
{
	static const char *keys[] = { "rss_bytes", "uss_bytes", "pss_bytes", "anon_bytes", "heap_bytes",
				      "swap_bytes", "fds", "threads", "python_object_bytes" };

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
			num(rep[i], "native", keys[k]);
			num(rep[i], "native_growth", keys[k]);
			num(rep[i], "native_window_growth", keys[k]);
		}
		num(rep[i], "native_growth", "unexplained_bytes");
		num(rep[i], "native_window_growth", "unexplained_bytes");
		cr_assert_gt(num(rep[i], "native", "rss_bytes"), 0);
		cr_assert_geq(num(rep[i], "native", "threads"), 1);
		cr_assert_eq(num(rep[i], "leak_summary", "total_objects"), 0, "%s: report %zu has a Python leak",
			     label, i + 1);
	}
	/* growth counts from the warm-up report */
	cr_assert(is_warmup_report(rep[0]));
	cr_assert_eq(num(rep[0], "native_growth", "rss_bytes"), 0);
	cr_assert_eq(num(rep[0], "native_growth", "fds"), 0);
	cr_assert_eq(num(rep[0], "native_growth", "total_new_fds"), 0);
}

/* A file opened every 0.2 s and never closed: the new descriptors with their paths, in JSON and text. */
Test(native, fd_leak_reported_with_paths, .fini = scratch__cleanup, .timeout = 120)
{
	char *dir, *extra[3] = { "fds", NULL, NULL }, *prefix;
	char *args[] = { "attach", NULL, "--max-object-lifetime", "1", "--iterations", "3", "--json", "--no-save",
			 NULL };
	char *text_args[] = { "attach", NULL, "--max-object-lifetime", "1", "--iterations", "2", "--no-save", NULL };
	struct run_result r, rt;
	json_t *rep[4], *fds, *fd;
	struct target t;
	long long total;
	size_t n, i;

	dir = scratch__file("fds");
	cr_assert_eq(mkdir(dir, 0700), 0);
	extra[1] = dir;
	start_target(&t, DEFAULT_PYTHON, "native_growth.py", extra);
	n = attach_reports(DEFAULT_PYTHON, &t, args, &r, rep, 4);
	cr_assert_eq(n, 3, "%zu reports: %s", n, r.out);
	check_shape("fds", rep, n);
	total = num(rep[2], "native_growth", "total_new_fds");
	/* two lifetimes after the warm-up at 5 files a second */
	cr_assert_geq(total, 4, "%lld descriptors opened since the warm-up: %s", total, r.out);
	cr_assert_geq(num(rep[2], "native_growth", "fds"), total - 1);
	cr_assert_geq(num(rep[2], "native", "fds"), total);
	fds = json_object_get(json_object_get(rep[2], "native_growth"), "new_fds");
	cr_assert_eq((long long)json_array_size(fds), MIN(total, 20));
	prefix = xasprintf("%s/leak-", dir);
	json_array_foreach(fds, i, fd) {
		const char *target = json_string_value(json_object_get(fd, "target"));
		cr_assert(target && !strncmp(target, prefix, strlen(prefix)), "descriptor %zu points at %s", i,
			  target ? target : "(none)");
		cr_assert_gt(json_integer_value(json_object_get(fd, "fd")), 2);
	}
	/* and said in text */
	n = attach_reports(DEFAULT_PYTHON, &t, text_args, &rt, rep + 3, 0);
	cr_assert_not_null(strstr(rt.out, "file descriptors opened since the warm-up: "), "%s", rt.out);
	cr_assert_not_null(strstr(rt.out, prefix), "%s", rt.out);
	free(prefix);
	free(dir);
	for (i = 0; i < 3; i++)
		json_decref(rep[i]);
	run_result__release(&r);
	run_result__release(&rt);
	target__stop(&t);
}

/* 1 MiB from malloc every 0.2 s, held by no Python object: native growth, not a Python leak. */
static void malloc_leak(const char *label)
{
	char *extra[] = { "malloc", NULL };
	char *args[] = { "attach", NULL, "--max-object-lifetime", "1", "--iterations", "3", "--json", "--no-save",
			 NULL };
	struct run_result r;
	json_t *rep[4];
	struct target t;
	size_t n;

	start_target(&t, label, "native_growth.py", extra);
	n = attach_reports(label, &t, args, &r, rep, 4);
	cr_assert_eq(n, 3, "%s: %zu reports: %s", label, n, r.out);
	check_shape(label, rep, n);
	/* about 10 MiB in the two lifetimes since the warm-up; Python objects stay as they were */
	cr_assert_geq(num(rep[2], "native_growth", "rss_bytes"), 4 * MIB, "%s: %s", label, r.out);
	cr_assert_geq(num(rep[2], "native_growth", "anon_bytes"), 4 * MIB, "%s: %s", label, r.out);
	cr_assert_geq(num(rep[2], "native_growth", "unexplained_bytes"), 4 * MIB, "%s: %s", label, r.out);
	cr_assert_geq(num(rep[2], "native_window_growth", "unexplained_bytes"), MIB, "%s: %s", label, r.out);
	cr_assert_lt(llabs(num(rep[2], "native_growth", "python_object_bytes")), MIB, "%s: %s", label, r.out);
	cr_assert_eq(num(rep[2], "native_growth", "total_new_fds"), 0, "%s: %s", label, r.out);
	for (size_t i = 0; i < n; i++)
		json_decref(rep[i]);
	run_result__release(&r);
	target__stop(&t);
}

Test(native, malloc_leak_is_native_growth, .fini = scratch__cleanup, .timeout = 120)
{
	malloc_leak(DEFAULT_PYTHON);
}

/* The same in the chroot (the container case). */
Test(native, malloc_leak_is_native_growth_sid_3_14, .fini = scratch__cleanup, .timeout = 120)
{
	malloc_leak("sid-3.14");
}

/* attach --fail-on-leak with one target: the run's status, by its summary. */
static int fail_status(const char *mode, char *const fail_args[], char *dir, struct run_result *r)
{
	char pidstr[16], *args[24] = { "attach", pidstr, "--max-object-lifetime", "1", "--iterations", "3",
				      "--no-save-reports", "--fail-on-leak", "--fail-min-objects", "0" };
	char *extra[] = { (char *)mode, dir, NULL };
	struct target t;
	size_t k = 10;

	for (size_t i = 0; fail_args[i]; i++)
		args[k++] = fail_args[i];
	args[k] = NULL;
	start_target(&t, DEFAULT_PYTHON, "native_growth.py", extra);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(memalot__run(args, r), 0);
	target__stop(&t);
	cr_assert_not_null(strstr(r->err, "memalot: summary: 1 process watched"), "%s", r->err);
	return r->status;
}

/*
 * --fail-on-fd-leak and --fail-native-bytes trip the run (exit 10) on
 * descriptors kept and on memory Python objects do not explain; neither
 * trips on the other's growth, and without them neither does the count of
 * objects (--fail-min-objects 0).
 */
Test(native, fail_on_fd_and_native_growth, .fini = scratch__cleanup, .timeout = 120)
{
	char *dir = scratch__file("fds");
	char *fd[] = { "--fail-on-fd-leak", NULL }, *native[] = { "--fail-native-bytes", "2000000", NULL };
	char *none[] = { NULL };
	struct run_result r;

	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(fail_status("fds", fd, dir, &r), 10, "fds, --fail-on-fd-leak: %d: %s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, "<- fails the run"), "%s", r.err);
	run_result__release(&r);
	cr_assert_eq(fail_status("malloc", native, dir, &r), 10, "malloc, --fail-native-bytes: %d: %s", r.status,
		     r.err);
	run_result__release(&r);
	cr_assert_eq(fail_status("malloc", fd, dir, &r), 0, "malloc, --fail-on-fd-leak: %d: %s", r.status, r.err);
	run_result__release(&r);
	cr_assert_eq(fail_status("fds", none, dir, &r), 0, "fds, objects only: %d: %s", r.status, r.err);
	run_result__release(&r);
	free(dir);
}
