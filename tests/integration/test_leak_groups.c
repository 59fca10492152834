/* SPDX-License-Identifier: MIT */
/*
 * Leak groups lead memalot attach's reports: tests/targets/leak_groups.py's
 * cache of 5,000 objects and thread-local list of 200 are exactly two groups
 * with their roots, counts and retained sizes; the dict's retained size
 * covers its objects, and its deep size says where its bound stopped it. On
 * every interpreter of the matrix.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/groups.h"
#include "../lib/harness.h"
#include "../lib/start.h"

/* engine/why.c's bound of the deep size */
#define DEEP_SIZE_MAX_NODES 4096

/* memalot snapshot --object the cache dict: its retained size, its deep size stopped by the bound. */
static void dict_sizes(const char *label, const struct groups_run *g)
{
	char pidstr[16], addr[32];
	char *args[] = { "snapshot", pidstr, "--object", addr, "--json", "--no-referrers", NULL };
	char *targs[] = { "snapshot", pidstr, "--object", addr, "--no-referrers", NULL };
	const json_t *d;
	struct run_result r;
	json_t *snap;
	json_error_t err;

	snprintf(pidstr, sizeof(pidstr), "%d", (int)g->t.pid);
	snprintf(addr, sizeof(addr), "0x%llx", g->dict);
	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 0, "%s: snapshot --object exited %d: %s", label, r.status, r.err);
	snap = json_loads(r.out, 0, &err);
	cr_assert_not_null(snap, "%s: snapshot --json: %s", label, err.text);
	d = json_array_get(json_object_get(snap, "object_details"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(d, "object_type_name")), "builtins.dict", "%s", label);
	cr_log_info("%s: the cache dict: %lld bytes, %lld retained, deep %lld over %lld objects (complete: %d); "
		    "its objects' getsizeof: %lld", label,
		    (long long)json_integer_value(json_object_get(d, "shallow_size_bytes")),
		    (long long)json_integer_value(json_object_get(d, "retained_size_bytes")),
		    (long long)json_integer_value(json_object_get(d, "deep_size_bytes")),
		    (long long)json_integer_value(json_object_get(d, "deep_size_objects")),
		    json_is_true(json_object_get(d, "deep_size_complete")), g->sum);
	/* what freeing the dict frees: itself and the 5,000 objects only it holds */
	cr_assert_geq(json_integer_value(json_object_get(d, "retained_size_bytes")),
		      g->sum + json_integer_value(json_object_get(d, "shallow_size_bytes")),
		      "%s: the dict retains %lld bytes, less than itself and the %lld bytes of its objects", label,
		      (long long)json_integer_value(json_object_get(d, "retained_size_bytes")), g->sum);
	/* the dict and 5,000 objects held by it alone: more than the deep size's bound */
	cr_assert(json_is_false(json_object_get(d, "deep_size_complete")),
		  "%s: the deep size of 5,001 objects did not stop at the bound", label);
	cr_assert_eq(json_integer_value(json_object_get(d, "deep_size_objects")), DEEP_SIZE_MAX_NODES, "%s", label);
	json_decref(snap);
	run_result__release(&r);
	/* the text says so */
	cr_assert_eq(memalot__run(targs, &r), 0);
	cr_assert_eq(r.status, 0, "%s: snapshot --object exited %d: %s", label, r.status, r.err);
	cr_assert(strstr(r.out, "bytes retained, \u2265 ") && strstr(r.out, "bytes deep (stopped at 4096 objects)"),
		  "%s: the text does not say where the deep size stopped: %s", label, r.out);
	run_result__release(&r);
}

static void leak_groups(const char *label)
{
	struct groups_run g;

	groups_run__start(&g, label, NULL);
	groups__check(label, g.rep, g.n, g.sum);
	dict_sizes(label, &g);
	cr_expect_eq(target__stop(&g.t), 0, "%s: the target ended with %s", label, g.t.err);
	groups_run__release(&g);
}

#define GROUPS(id, label) \
	Test(leak_groups, id, .fini = harness__cleanup, .timeout = 240) { leak_groups(label); }

GROUPS(pyenv_3_8, "pyenv-3.8")
GROUPS(pyenv_3_9, "pyenv-3.9")
GROUPS(pyenv_3_10, "pyenv-3.10")
GROUPS(pyenv_3_11, "pyenv-3.11")
GROUPS(pyenv_3_12, "pyenv-3.12")
GROUPS(pyenv_3_13, "pyenv-3.13")
GROUPS(debian_3_11, "debian-3.11")
GROUPS(debian_3_11d, "debian-3.11d")
GROUPS(sid_3_13, "sid-3.13")
GROUPS(sid_3_13d, "sid-3.13d")
GROUPS(sid_3_14, "sid-3.14")
GROUPS(sid_3_14d, "sid-3.14d")
GROUPS(sid_3_15, "sid-3.15")
GROUPS(sid_3_15d, "sid-3.15d")
