/* SPDX-License-Identifier: MIT */
/* memalot snapshot against tests/targets/census.py on every interpreter of the matrix. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "../lib/start.h"

#define MARKER "__main__.MemalotCensusMarker"
#define DICT "builtins.dict"

static const char *str_field(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "(none)";
}

/*
 * Every field the README lists for `snapshot --json`, with its type: pid,
 * command, python_version, python_flavour, python_image, layout_source,
 * layout_detail, pause_ms, tries, interpreters, reader, total_objects,
 * generations (name to count), partial, and types [{type, count,
 * generations}] most common first, adding up to total_objects.
 */
static void assert_readme_fields(const char *label, const json_t *snap, const char *script)
{
	static const char *const sources[] = { "dwarf", "table", "table-nearest", "debug-offsets" };
	const json_t *gens = json_object_get(snap, "generations"), *types = json_object_get(snap, "types"), *v, *e;
	json_int_t total = json_integer_value(json_object_get(snap, "total_objects")), sum = 0, prev = -1;
	const char *key, *src = str_field(snap, "layout_source");
	bool known = false;
	size_t i;

	cr_assert(strstr(str_field(snap, "command"), script), "%s: command '%s' does not name %s", label,
		  str_field(snap, "command"), script);
	cr_assert(json_is_string(json_object_get(snap, "python_image")) &&
		  strstr(str_field(snap, "python_image"), "python"), "%s: python_image '%s'", label,
		  str_field(snap, "python_image"));
	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		known |= !strcmp(src, sources[i]);
	cr_assert(known, "%s: layout_source '%s' is none of the README's", label, src);
	cr_assert(json_is_string(json_object_get(snap, "layout_detail")), "%s: layout_detail", label);
	cr_assert(json_is_number(json_object_get(snap, "pause_ms")) &&
		  json_number_value(json_object_get(snap, "pause_ms")) > 0, "%s: pause_ms", label);
	cr_assert(json_is_integer(json_object_get(snap, "tries")) &&
		  json_integer_value(json_object_get(snap, "tries")) >= 1, "%s: tries", label);
	cr_assert(json_is_integer(json_object_get(snap, "interpreters")) &&
		  json_integer_value(json_object_get(snap, "interpreters")) >= 1, "%s: interpreters", label);
	cr_assert(json_is_boolean(json_object_get(snap, "partial")), "%s: partial", label);
	cr_assert(json_is_integer(json_object_get(snap, "total_objects")) && total > 0, "%s: total_objects",
		  label);
	cr_assert(json_is_object(gens) && json_object_size(gens) >= 3, "%s: generations", label);
	json_object_foreach((json_t *)gens, key, v) {
		cr_assert(json_is_integer(v), "%s: generations.%s is not a count", label, key);
		sum += json_integer_value(v);
	}
	cr_assert_eq(sum, total, "%s: the generations add up to %lld, total_objects is %lld", label,
		     (long long)sum, (long long)total);
	cr_assert(json_is_array(types) && json_array_size(types) > 0, "%s: types", label);
	sum = 0;
	json_array_foreach(types, i, e) {
		json_int_t count = json_integer_value(json_object_get(e, "count"));

		cr_assert(json_is_string(json_object_get(e, "type")), "%s: types[%zu].type", label, i);
		cr_assert(json_is_integer(json_object_get(e, "count")) && count > 0, "%s: types[%zu].count", label,
			  i);
		cr_assert(json_is_object(json_object_get(e, "generations")), "%s: types[%zu].generations", label, i);
		cr_assert(prev < 0 || count <= prev, "%s: types are not most common first at %zu (%lld after %lld)",
			  label, i, (long long)count, (long long)prev);
		prev = count;
		sum += count;
	}
	cr_assert_eq(sum, total, "%s: the types add up to %lld, total_objects is %lld", label, (long long)sum,
		     (long long)total);
}

/*
 * Start census.py under the interpreter called label, snapshot it, and check the
 * counts against the ones the target took itself with gc.get_objects().
 * mode: NULL for the default (auto), or "dwarf" / "table" for --layout-source:
 * auto takes the committed table made from the same build when there is one,
 * so the DWARF path needs its own run.
 */
static void census_with(const char *label, const char *mode, const char *max_memory)
{
	const struct interp *py = interp__get(label);
	char err[512], pidstr[16], *version, *script;
	char *args[8] = { "snapshot", pidstr, "--json" };
	int nargs = 3;
	long long want_marker, want_dict, got;
	const char *source, *flavour;
	struct run_result r;
	struct target t;
	json_error_t jerr;
	json_t *snap;
	int argc, ret;

	cr_assert_not_null(py, "no interpreter called '%s' in the matrix", label);
	if (py->skip)
		cr_skip_test("%s: %s", label, py->skip);

	version = interp__version(py, err, sizeof(err));
	cr_assert_not_null(version, "%s", err);
	script = interp__script(py, "census.py", err, sizeof(err));
	cr_assert_not_null(script, "%s: %s", label, err);

	ret = target__start(&t, py, script, NULL);
	cr_assert_eq(ret, 0, "%s: %s", label, t.err);
	argc = 0;
	want_marker = want_dict = -1;
	cr_assert_eq(sscanf(t.ready, "ready %d " MARKER "=%lld " DICT "=%lld", &argc, &want_marker,
			    &want_dict), 3, "%s: unexpected ready line '%s'", label, t.ready);
	cr_assert_eq(want_marker, 12345, "%s: the target counted %lld markers itself", label, want_marker);

	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	if (mode) {
		args[nargs++] = "--layout-source";
		args[nargs++] = (char *)mode;
	}
	if (max_memory) {
		args[nargs++] = "--max-memory";
		args[nargs++] = (char *)max_memory;
	}
	args[nargs] = NULL;
	ret = memalot__run(args, &r);
	cr_assert_eq(ret, 0, "%s: cannot run %s: %s", label, harness__memalot(), strerror(-ret));

	/* the target must be running on, neither stopped nor gone */
	assert_running_free(t.pid, label);

	cr_assert(!r.timed_out, "%s: memalot timed out after %d s; stderr: %s", label, RUN_TIMEOUT, r.err);
	cr_assert_eq(r.status, 0, "%s: memalot %s exited %d; stderr: %s", label, mode ? mode : "",
		     r.status, r.err);
	snap = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(snap, "%s: memalot printed no JSON (%s): %.200s", label, jerr.text, r.out);

	cr_assert(json_is_false(json_object_get(snap, "partial")), "%s: partial result: %s", label,
		  str_field(snap, "partial_reason"));
	cr_assert_eq(json_integer_value(json_object_get(snap, "pid")), t.pid, "%s: wrong pid", label);
	cr_assert_str_eq(str_field(snap, "python_version"), version,
			 "%s: memalot says Python %s, the interpreter says %s", label,
			 str_field(snap, "python_version"), version);
	flavour = str_field(snap, "python_flavour");
	cr_assert_str_eq(flavour, py->debug_build ? "debug" : "release", "%s: python_flavour is '%s'",
			 label, flavour);
	if (getenv("MEMALOT_READ_PROC_MEM"))
		cr_assert_str_eq(str_field(snap, "reader"), "proc-mem", "%s: reader", label);
	else
		cr_assert_str_eq(str_field(snap, "reader"), "process_vm_readv", "%s: reader", label);
	source = str_field(snap, "layout_source");
	if (mode && !strcmp(mode, "table"))
		cr_assert(!strcmp(source, "table") || !strcmp(source, "table-nearest"),
			  "%s: --layout-source table gave layout_source '%s' (%s)", label, source,
			  str_field(snap, "layout_detail"));
	if (mode && !strcmp(mode, "dwarf"))
		cr_assert_str_eq(source, "dwarf", "%s: --layout-source dwarf gave layout_source '%s' (%s)",
				 label, source, str_field(snap, "layout_detail"));

	assert_readme_fields(label, snap, "census.py");
	/* copied while stopped and walked after, unless --max-memory is too small for the copy: then in place */
	cr_assert_eq(json_is_true(json_object_get(snap, "walked_in_place")), max_memory != NULL,
		     "%s: walked_in_place is %s with --max-memory %s", label,
		     json_is_true(json_object_get(snap, "walked_in_place")) ? "true" : "false",
		     max_memory ? max_memory : "(default)");
	if (max_memory)
		cr_assert(strstr(r.err, "walked in place, the process paused"),
			  "%s: --max-memory %s did not say the process was walked in place; stderr: %s", label,
			  max_memory, r.err);
	else
		cr_assert_gt(json_integer_value(json_object_get(snap, "copied_bytes")), 0, "%s: copied_bytes", label);

	got = snap__type_count(snap, MARKER);
	cr_assert_eq(got, want_marker, "%s (layout %s): memalot counted %lld %s, gc.get_objects() %lld",
		     label, source, got, MARKER, want_marker);
	got = snap__type_count(snap, DICT);
	cr_assert_eq(got, want_dict, "%s (layout %s): memalot counted %lld %s, gc.get_objects() %lld",
		     label, source, got, DICT, want_dict);

	ret = target__stop(&t);
	cr_assert_eq(ret, 0, "%s: the target ended with status %d after the snapshot %s", label, ret, t.err);

	json_decref(snap);
	run_result__release(&r);
	free(script);
	free(version);
}

static void census(const char *label, const char *mode)
{
	census_with(label, mode, NULL);
}

#define CENSUS(name, label, mode) \
	Test(census, name, .fini = harness__cleanup, .timeout = 300) { census(label, mode); }
#define CENSUS3(name, label) \
	CENSUS(name, label, NULL) CENSUS(name##_dwarf, label, "dwarf") CENSUS(name##_table, label, "table")

CENSUS3(pyenv_3_8, "pyenv-3.8")
CENSUS3(pyenv_3_9, "pyenv-3.9")
CENSUS3(pyenv_3_10, "pyenv-3.10")
CENSUS3(pyenv_3_11, "pyenv-3.11")
CENSUS3(pyenv_3_12, "pyenv-3.12")
CENSUS3(pyenv_3_13, "pyenv-3.13")
CENSUS3(debian_3_11, "debian-3.11")
CENSUS3(debian_3_11d, "debian-3.11d")
CENSUS3(sid_3_13, "sid-3.13")
CENSUS3(sid_3_13d, "sid-3.13d")
CENSUS3(sid_3_14, "sid-3.14")
CENSUS3(sid_3_14d, "sid-3.14d")
CENSUS3(sid_3_15, "sid-3.15")
CENSUS3(sid_3_15d, "sid-3.15d")

/* The /proc/PID/mem reader that stands in when process_vm_readv is not allowed. */
Test(census, proc_mem_reader, .fini = harness__cleanup, .timeout = 300)
{
	setenv("MEMALOT_READ_PROC_MEM", "1", 1);
	census(DEFAULT_PYTHON, NULL);
	unsetenv("MEMALOT_READ_PROC_MEM");
}

/*
 * --max-memory smaller than the target's writable memory: no copy, the walk
 * in place while the target is stopped (said in one line), the same exact
 * counts.
 */
#define CENSUS_IN_PLACE(name, label) \
	Test(census, name##_in_place, .fini = harness__cleanup, .timeout = 300) { census_with(label, NULL, "1M"); }
CENSUS_IN_PLACE(pyenv_3_8, "pyenv-3.8")
CENSUS_IN_PLACE(pyenv_3_12, "pyenv-3.12")
CENSUS_IN_PLACE(debian_3_11, "debian-3.11")
CENSUS_IN_PLACE(sid_3_14, "sid-3.14")
CENSUS_IN_PLACE(sid_3_15, "sid-3.15")
