/* SPDX-License-Identifier: MIT */
/*
 * For Criterion tests: an interpreter of the matrix, or a skipped test when
 * this machine lacks it; a target script started under it; and memalot's
 * JSON-lines output read back. One place for what integration tests share.
 */
#ifndef MEMALOT_TEST_START_H
#define MEMALOT_TEST_START_H

#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* The interpreter labelled label ("pyenv-3.12", "sid-3.14"), or skip the test. */
static inline const struct interp *need_python(const char *label)
{
	const struct interp *py = interp__get(label);

	cr_assert_not_null(py, "no interpreter called '%s' in the matrix", label);
	if (py->skip)
		cr_skip_test("%s: %s", label, py->skip);
	return py;
}

/*
 * Every thread of pid runs free: none in a ptrace or job-control stop and no
 * tracer, within RELEASE_MS (the kernel finishes a detach on its own time),
 * and pid has not exited. what names the moment in the failure.
 */
static inline void assert_running_free(pid_t pid, const char *what)
{
	char why[256] = "", state;
	int ret = proc__wait_released(pid, 2000, why, sizeof(why));

	cr_assert_eq(ret, 0, "%s: pid %d is still held 2 s later: %s", what, (int)pid,
		     ret == -ETIMEDOUT ? why : strerror(-ret));
	state = proc__state(pid);
	cr_assert(state && state != 'Z' && state != 'X', "%s: pid %d is in state '%c'", what, (int)pid,
		  state ? state : '-');
}

/* Start tests/targets/script (with extra arguments, or NULL) under label's interpreter, up to its ready line. */
static inline void start_target(struct target *t, const char *label, const char *script, char *const extra[])
{
	const struct interp *py = need_python(label);
	char err[512], *path = interp__script(py, script, err, sizeof(err));

	cr_assert_not_null(path, "%s %s: %s", py->label, script, err);
	cr_assert_eq(target__start(t, py, path, extra), 0, "%s %s: %s", py->label, script, t->err);
	free(path);
}

/*
 * Each line of out (memalot attach --json) as a JSON object into v, at most
 * max; a line that is not JSON fails the test, named by what.
 * @return how many (the caller owns them)
 */
static inline size_t json_lines(const char *what, const char *out, json_t **v, size_t max)
{
	size_t n = 0;
	const char *p = out;

	while (*p && n < max) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		json_error_t err;

		v[n] = json_loadb(p, len, 0, &err);
		cr_assert_not_null(v[n], "%s: report %zu is not JSON (%s): %.200s", what, n + 1, err.text, p);
		n++;
		p += len + (nl != NULL);
	}
	return n;
}

/*
 * memalot attach with args (args[1] is the pid, filled in here) on target t,
 * which must exit 0; its JSON reports into rep. @return how many
 */
static inline size_t attach_reports(const char *label, const struct target *t, char *args[], struct run_result *r,
			     json_t **rep, size_t max)
{
	char pidstr[16];

	snprintf(pidstr, sizeof(pidstr), "%d", (int)t->pid);
	args[1] = pidstr;
	cr_assert_eq(memalot__run(args, r), 0);
	args[1] = NULL;
	cr_assert_eq(r->status, 0, "%s: exit %d: %s", label, r->status, r->err);
	return json_lines(label, r->out, rep, max);
}

/* A scratch directory for one test's files (made at the first scratch__file), removed by scratch__cleanup. */
static char *scratch_dir_ __attribute__((unused));

/* The path of name in the test's scratch directory (the caller frees it). */
static inline char *scratch__file(const char *name)
{
	if (!scratch_dir_) {
		char tmpl[] = "/tmp/memalot-test-XXXXXX";
		cr_assert_not_null(mkdtemp(tmpl));
		scratch_dir_ = xasprintf("%s", tmpl);
	}
	return xasprintf("%s/%s", scratch_dir_, name);
}

/* A .fini: the test's processes (harness__cleanup), then its scratch directory. */
static inline void scratch__cleanup(void)
{
	harness__cleanup();
	if (scratch_dir_)
		harness__remove_tree(scratch_dir_);
	free(scratch_dir_);
	scratch_dir_ = NULL;
}

/* How many objects of type a report's leak summary names (0 when it does not). */
static inline long long leak_count(const json_t *rep, const char *type)
{
	const json_t *ts = json_object_get(json_object_get(rep, "leak_summary"), "type_summaries"), *t;
	size_t i;

	json_array_foreach(ts, i, t) {
		const char *name = json_string_value(json_object_get(t, "object_type"));
		if (name && !strcmp(name, type))
			return json_integer_value(json_object_get(t, "count"));
	}
	return 0;
}

/* The objects of type reported in reports rep[0..n): each leak is new in one window. */
static inline long long leaks_over(json_t *const *rep, size_t n, const char *type)
{
	long long sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += leak_count(rep[i], type);
	return sum;
}

/* Is rep the warm-up report (iteration 1), with no leaks? */
static inline bool is_warmup_report(const json_t *rep)
{
	const json_t *ls = json_object_get(rep, "leak_summary");

	return json_is_true(json_object_get(rep, "warmup_report")) &&
	       json_integer_value(json_object_get(ls, "total_objects")) == 0 &&
	       json_integer_value(json_object_get(ls, "total_alive_objects")) == 0 &&
	       json_array_size(json_object_get(rep, "object_details_list")) == 0;
}

#endif
