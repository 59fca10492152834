/* SPDX-License-Identifier: MIT */
/*
 * For Criterion tests: an interpreter of the matrix, or a skipped test when
 * this machine lacks it; and a target script started under it. One place
 * for what every integration test does first.
 */
#ifndef MEMALOT_TEST_START_H
#define MEMALOT_TEST_START_H

#include <criterion/criterion.h>
#include <stdlib.h>

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

/* Start tests/targets/script (with extra arguments, or NULL) under label's interpreter, up to its ready line. */
static inline void start_target(struct target *t, const char *label, const char *script, char *const extra[])
{
	const struct interp *py = need_python(label);
	char err[512], *path = interp__script(py, script, err, sizeof(err));

	cr_assert_not_null(path, "%s %s: %s", label, script, err);
	cr_assert_eq(target__start(t, py, path, extra), 0, "%s %s: %s", label, script, t->err);
	free(path);
}

#endif
