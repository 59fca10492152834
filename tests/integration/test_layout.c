/* SPDX-License-Identifier: MIT */
/*
 * Layouts that do not come from the target's own build: a table of another
 * patch release must be checked against the target, and a table that does
 * not fit must be caught (and the GC lists found by scanning), never trusted.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "../lib/start.h"

#define MARKER "__main__.MemalotCensusMarker"

/*
 * Write to a temporary file the committed table of (version, flavour),
 * with field (if not NULL) moved by delta bytes. @return the path (caller frees)
 */
static char *table_file(const char *version, const char *flavour, const char *field, long delta)
{
	char *src, line[512], *path = strdup("/tmp/memalot-test-table-XXXXXX");
	FILE *in, *out;
	bool keep = false;
	int fd, found = 0;

	cr_assert(asprintf(&src, "%s/symbols/tables/layouts.tsv", harness__srcdir()) > 0);
	in = fopen(src, "r");
	cr_assert_not_null(in, "cannot read %s", src);
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	out = fdopen(fd, "w");
	while (fgets(line, sizeof(line), in)) {
		char name[128];
		long v;

		if (!strncmp(line, "layout\t", 7)) {
			char ver[32], fl[16];
			keep = sscanf(line, "layout\t%31[^\t]\t%15[^\t]", ver, fl) == 2 &&
			       !strcmp(ver, version) && !strcmp(fl, flavour);
			found += keep;
		}
		if (!keep)
			continue;
		if (field && sscanf(line, "field\t%127[^\t]\t%ld", name, &v) == 2 && !strcmp(name, field)) {
			fprintf(out, "field\t%s\t%ld\n", name, v + delta);
			continue;
		}
		fputs(line, out);
	}
	fclose(in);
	fclose(out);
	free(src);
	cr_assert_eq(found, 1, "no committed table for %s %s", version, flavour);
	return path;
}

struct outcome {
	struct run_result r;
	json_t *snap;
	long long want, got;
};

/* Snapshot census.py under label with only the tables in file. */
static void run_with_table(const char *label, const char *file, struct outcome *o)
{
	const struct interp *py = interp__get(label);
	char err[512], pidstr[16], *script;
	char *args[] = { "snapshot", pidstr, "--json", "--layout-source", "table", NULL };
	struct target t;
	json_error_t jerr;
	int argc;

	cr_assert_not_null(py);
	if (py->skip)
		cr_skip_test("%s: %s", label, py->skip);
	script = interp__script(py, "census.py", err, sizeof(err));
	cr_assert_not_null(script, "%s", err);
	cr_assert_eq(target__start(&t, py, script, NULL), 0, "%s", t.err);
	cr_assert_eq(sscanf(t.ready, "ready %d " MARKER "=%lld", &argc, &o->want), 2);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	setenv("MEMALOT_TABLES", file, 1);
	cr_assert_eq(memalot__run(args, &o->r), 0);
	unsetenv("MEMALOT_TABLES");
	o->snap = o->r.status == 0 ? json_loads(o->r.out, 0, &jerr) : NULL;
	o->got = o->snap ? snap__type_count(o->snap, MARKER) : -1;
	assert_running_free(t.pid, label);
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
	free(script);
}

static void outcome_release(struct outcome *o)
{
	json_decref(o->snap);
	run_result__release(&o->r);
}

static const char *detail(const struct outcome *o)
{
	const char *s = json_string_value(json_object_get(o->snap, "layout_detail"));
	return s ? s : "";
}

/* Debian's 3.11.2 with only pyenv's 3.11.7 table: used, but marked as the nearest. */
Test(layout, nearest_patch_release_is_validated)
{
	char *file = table_file("3.11.7", "release", NULL, 0);
	struct outcome o;

	run_with_table("debian-3.11", file, &o);
	cr_assert_eq(o.r.status, 0, "exit %d: %s", o.r.status, o.r.err);
	cr_assert_str_eq(json_string_value(json_object_get(o.snap, "layout_source")), "table-nearest");
	cr_assert_not_null(strstr(o.r.err, "3.11.7"), "no warning naming the table used: %s", o.r.err);
	cr_assert_eq(o.got, o.want, "memalot counted %lld, the target %lld", o.got, o.want);
	outcome_release(&o);
	unlink(file);
	free(file);
}

/* A table whose GC list offset is wrong: caught, and the lists are found by a scan. */
Test(layout, wrong_gc_offset_is_caught_and_scanned)
{
	char *file = table_file("3.11.7", "release", "gc.generations", 8);
	struct outcome o;

	run_with_table("debian-3.11", file, &o);
	cr_assert_eq(o.r.status, 0, "exit %d: %s", o.r.status, o.r.err);
	cr_assert_not_null(strstr(detail(&o), "scan"), "layout_detail: %s", detail(&o));
	cr_assert_eq(o.got, o.want, "memalot counted %lld, the target %lld", o.got, o.want);
	outcome_release(&o);
	unlink(file);
	free(file);
}

/* A table that points at the wrong GC state altogether: a clear error, exit 7. */
Test(layout, wrong_interpreter_layout_is_refused)
{
	char *file = table_file("3.11.7", "release", "interp.gc", 4096);
	struct outcome o;
	const char *nl;

	run_with_table("debian-3.11", file, &o);
	/* README: "7 unsupported build or no layout for it", one line on stderr */
	cr_assert_eq(o.r.status, 7, "exit %d, stdout %.200s", o.r.status, o.r.out);
	cr_assert_str_empty(o.r.out);
	nl = strchr(o.r.err, '\n');
	cr_assert(!strncmp(o.r.err, "memalot: ", 9) && nl && !nl[1], "stderr is not one error line: %s",
		  o.r.err);
	cr_assert_not_null(strstr(o.r.err, "could not be located"), "stderr: %s", o.r.err);
	outcome_release(&o);
	unlink(file);
	free(file);
}

/*
 * sid's 3.13 with only pyenv's 3.13.0 table: the two builds place the GC
 * generations differently (offset 24 against 20), which _Py_DebugOffsets
 * and the scan must catch and fix.
 */
Test(layout, other_313_build_is_fixed_by_debug_offsets_and_scan)
{
	char *file = table_file("3.13.0", "release", NULL, 0);
	struct outcome o;

	run_with_table("sid-3.13", file, &o);
	cr_assert_eq(o.r.status, 0, "exit %d: %s", o.r.status, o.r.err);
	cr_assert_not_null(strstr(detail(&o), "_Py_DebugOffsets"), "layout_detail: %s", detail(&o));
	cr_assert_eq(o.got, o.want, "memalot counted %lld, the target %lld", o.got, o.want);
	outcome_release(&o);
	unlink(file);
	free(file);
}

/*
 * The committed table of (version, flavour) with its GC state described as the
 * incremental collector's (3.14.0 to 3.14.4): gc.generations becomes gc.young,
 * and gc.old follows it, at the same offsets, or shift bytes off them in a
 * table that is not this build's (no build-id). @return the path (caller frees)
 */
static char *incremental_table_file(const char *version, const char *flavour, long shift)
{
	char *src = table_file(version, flavour, NULL, 0), *path = strdup("/tmp/memalot-test-table-XXXXXX");
	char line[512];
	FILE *in = fopen(src, "r"), *out;
	int fd = mkstemp(path), renamed = 0;

	cr_assert_not_null(in);
	cr_assert(fd >= 0);
	out = fdopen(fd, "w");
	while (fgets(line, sizeof(line), in)) {
		long v;

		if (sscanf(line, "field\tgc.generations\t%ld", &v) == 1) {
			fprintf(out, "field\tgc.young\t%ld\nfield\tgc.old\t%ld\n", v + shift, v + shift + 24);
			renamed++;
			continue;
		}
		if (shift && !strncmp(line, "layout\t", 7)) {
			fprintf(out, "layout\t%s\t%s\t-\tno build-id\n", version, flavour);
			continue;
		}
		fputs(line, out);
	}
	fclose(in);
	fclose(out);
	unlink(src);
	free(src);
	cr_assert_eq(renamed, 1, "the %s %s table has no gc.generations", version, flavour);
	return path;
}

/* The names of the GC lists in a snapshot, in its order: "gen0,gen1,gen2,permanent". */
static void list_names(json_t *snap, char *buf, size_t size)
{
	const char *name;
	json_t *v;
	size_t len = 0;

	buf[0] = 0;
	json_object_foreach(json_object_get(snap, "generations"), name, v)
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s", len ? "," : "", name);
}

/*
 * The collector is the layout's, not the version's: sid's 3.14 (3.14.5+, with
 * generations) read with a table that names the same offsets young and old,
 * as a 3.14.0 to 3.14.4 build's DWARF does, is walked as a young generation
 * and two old spaces (also when the scan has to find them); with its own
 * table, as gen0 to gen2. All count every object.
 */
Test(layout, gc_model_follows_the_table, .fini = harness__cleanup)
{
	const struct interp *py = interp__get("sid-3.14");
	char *version, err[256], names[128];
	struct outcome o;

	cr_assert_not_null(py);
	if (py->skip)
		cr_skip_test("sid-3.14: %s", py->skip);
	version = interp__version(py, err, sizeof(err));
	cr_assert_not_null(version, "%s", err);
	for (int incremental = 0; incremental < 3; incremental++) {
		/* the third: young 8 bytes off, found again by the scan, still young and old */
		char *file = incremental ? incremental_table_file(version, "release", incremental == 2 ? 8 : 0)
					 : table_file(version, "release", NULL, 0);

		run_with_table("sid-3.14", file, &o);
		cr_assert_eq(o.r.status, 0, "exit %d: %s", o.r.status, o.r.err);
		if (incremental == 2)
			cr_assert_not_null(strstr(detail(&o), "scan"), "layout_detail: %s", detail(&o));
		list_names(o.snap, names, sizeof(names));
		cr_assert_str_eq(names, incremental ? "young,old0,old1,permanent" : "gen0,gen1,gen2,permanent",
				 "%s table: lists %s", incremental ? "incremental" : "committed", names);
		cr_assert_eq(o.got, o.want, "memalot counted %lld, the target %lld", o.got, o.want);
		outcome_release(&o);
		unlink(file);
		free(file);
	}
	free(version);
}

/* MEMALOT_TABLES naming a directory or a device is said, once, and the built-in tables serve. */
Test(layout, tables_file_that_is_no_file_is_named, .fini = harness__cleanup)
{
	static const char *const files[] = { "/tmp", "/dev/zero" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char want[128];
		struct outcome o;

		run_with_table(DEFAULT_PYTHON, files[i], &o);
		cr_assert_eq(o.r.status, 0, "MEMALOT_TABLES=%s: exit %d: %s", files[i], o.r.status, o.r.err);
		snprintf(want, sizeof(want), "memalot: warning: cannot read MEMALOT_TABLES file '%s' (", files[i]);
		cr_assert(strstr(o.r.err, want) && strstr(o.r.err, "using the built-in tables"),
			  "MEMALOT_TABLES=%s: stderr: %s", files[i], o.r.err);
		cr_assert_eq(o.got, o.want, "MEMALOT_TABLES=%s: counted %lld markers, not %lld", files[i], o.got,
			     o.want);
		outcome_release(&o);
	}
}
