/* SPDX-License-Identifier: MIT */
/*
 * The collector a layout describes is decided by what its GC state has, never
 * by the version: 3.14.0 to 3.14.4 have the incremental collector (gc.young and
 * gc.old), 3.14.5+ and 3.15 the generations again (gc.generations), with the
 * same offsets. And the collection counts: an array of records inside the GC
 * state up to 3.14, rings of cumulative records behind a pointer in 3.15.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/snapshot.h"
#include "../../fuzz/walk_image.h"
#include "../../symbols/tables.h"

/* The layout a table gives (as discovery applies it), with the given version. */
static void layout_from_table(const struct offset_table *t, struct layout *l)
{
	layout__init(l);
	for (int i = 0; i < F__COUNT; i++)
		if (t->has[i]) {
			l->v[i] = t->v[i];
			l->src[i] = LSRC_TABLE;
		}
	snprintf(l->version, sizeof(l->version), "%s", t->version);
	sscanf(t->version, "%u.%u.%u", &l->major, &l->minor, &l->micro);
}

/* The GC part of a 3.14 table: the same offsets, named for one collector or the other. */
#define GC314(first, second) \
	"field\tinterp.gc\t7408\n" first second \
	"field\tgc.permanent_generation\t96\n" \
	"field\tgcgen.size\t24\n" \
	"end\n"

static const char tables_314[] =
	"layout\t3.14.2\trelease\t-\ta 3.14.0-3.14.4 build\n"
	GC314("field\tgc.young\t24\n", "field\tgc.old\t48\n")
	"layout\t3.14.10\trelease\t-\ta 3.14.5+ build\n"
	GC314("field\tgc.generations\t24\n", "")
	"layout\t3.14.3\trelease\t-\tneither\n"
	GC314("field\tgc.young\t24\n", "");

static void parse_314(struct offset_table **t)
{
	int line = 0;

	cr_assert_eq(tables__parse(tables_314, t, &line), 3, "bad table at line %d", line);
}

Test(gc_model, decided_by_the_members_of_the_table)
{
	static const enum gc_model want[] = { GCM_INCREMENTAL, GCM_GENERATIONS, GCM_NONE };
	struct offset_table *t;
	struct layout l;

	parse_314(&t);
	for (int i = 0; i < 3; i++) {
		layout_from_table(&t[i], &l);
		cr_assert_eq(l.minor, 14);
		cr_assert_eq(layout__gc_model(&l), want[i], "table %s (%s)", t[i].version, t[i].origin);
		layout__release(&l);
	}
	free(t);
}

/* The same offsets give list heads named for the collector the table describes. */
Test(gc_model, heads_follow_the_model)
{
	static const char *const incr[] = { "young", "old0", "old1", "permanent" };
	static const char *const gens[] = { "gen0", "gen1", "gen2", "permanent" };
	const raddr_t interp = 0x100000, gc = interp + 7408;
	const raddr_t at[] = { gc + 24, gc + 48, gc + 72, gc + 96 };
	struct gc_list_head h[LAYOUT_MAX_GC_LISTS];
	struct offset_table *t;
	struct layout l;

	parse_314(&t);
	for (int k = 0; k < 2; k++) {
		const char *const *names = k ? gens : incr;
		layout_from_table(&t[k], &l);
		cr_assert_eq(layout__gc_heads(&l, interp, h), 4);
		for (int i = 0; i < 4; i++) {
			cr_assert_str_eq(h[i].name, names[i]);
			cr_assert_eq(h[i].addr, at[i], "%s at 0x%llx", h[i].name, (unsigned long long)h[i].addr);
		}
		layout__release(&l);
	}
	layout_from_table(&t[2], &l);
	cr_assert_eq(layout__gc_heads(&l, interp, h), 0, "a layout of neither collector has no lists");
	layout__release(&l);
	free(t);
}

/* The committed tables of 3.13, 3.14.10 (sid) and 3.15 describe generations. */
Test(gc_model, committed_tables)
{
	static const char *const versions[] = { "3.13.18", "3.14.10", "3.15.2" };

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		enum table_match how;
		const struct offset_table *t = tables__find(versions[i], "release", NULL, &how);
		struct layout l;

		cr_assert_not_null(t, "no committed table for %s", versions[i]);
		cr_assert_eq(how, TM_VERSION, "%s", versions[i]);
		layout_from_table(t, &l);
		cr_assert_eq(layout__gc_model(&l), GCM_GENERATIONS, "%s", versions[i]);
		layout__release(&l);
	}
}

/* Generator frame states are numbered by the build: FRAME_EXECUTING is 0 up to 3.14, 4 in 3.15. */
Test(gc_model, frame_state_numbers_come_from_the_tables)
{
	static const struct { const char *version; int64_t executing; } want[] = {
		{ "3.11.7", 0 }, { "3.13.18", 0 }, { "3.14.10", 0 }, { "3.15.2", 4 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		enum table_match how;
		const struct offset_table *t = tables__find(want[i].version, "release", NULL, &how);
		int f = field__by_name("framestate.executing");

		cr_assert_not_null(t, "no committed table for %s", want[i].version);
		cr_assert(f >= 0 && t->has[f], "%s: no framestate.executing", want[i].version);
		cr_assert_eq(t->v[f], want[i].executing, "%s", want[i].version);
	}
}

/* ------------------------------------------------------------ the walk */

static void walk_image(const struct wi_image *im, const struct layout *l, struct snapshot *s)
{
	struct remote_segment segs[WI_MAX_SEGS];
	struct remote r;

	cr_assert_eq(remote__open_image(&r, segs, wi_segments(im, segs)), 0);
	cr_assert_eq(snapshot__walk(&r, l, NULL, s), 0);
	remote__release(&r);
}

/* The seed heap read with the same offsets as an incremental layout: young and old spaces. */
Test(gc_model, walk_names_lists_by_model)
{
	static const char *const names[] = { "young", "old0", "old1", "permanent" };
	static const size_t counts[] = { 3, 0, 2, 1 };
	raddr_t objs[WI_SEED_OBJECTS];
	struct wi_image im;
	struct snapshot s;
	struct layout l;

	wi_build_seed(&im, objs);
	wi_layout(&l);
	l.src[F_GC_GENERATIONS] = LSRC_NONE;
	l.v[F_GC_YOUNG] = 24;
	l.src[F_GC_YOUNG] = LSRC_TABLE;
	l.v[F_GC_OLD] = 48;
	l.src[F_GC_OLD] = LSRC_TABLE;
	cr_assert_eq(layout__gc_model(&l), GCM_INCREMENTAL);
	walk_image(&im, &l, &s);
	cr_assert_eq(s.nlists, 4);
	for (int i = 0; i < 4; i++) {
		cr_assert_str_eq(s.lists[i].name, names[i]);
		cr_assert_eq(s.lists[i].count, counts[i], "%s", names[i]);
	}
	snapshot__release(&s);
	wi_release(&im);
}

/* Where the tests put the statistics inside the image's GC state. */
#define STATS_OFF 208

/* 3.8 to 3.14: one record per generation inside the GC state. */
Test(gc_model, collections_from_an_array)
{
	raddr_t objs[WI_SEED_OBJECTS];
	struct wi_image im;
	struct snapshot s;
	struct layout l;

	wi_build_seed(&im, objs);
	wi_layout(&l);
	l.v[F_GC_STATS] = STATS_OFF;
	l.v[F_GCSTATS_SIZE] = 24;
	l.v[F_GCSTATS_COLLECTIONS] = 0;
	l.src[F_GC_STATS] = l.src[F_GCSTATS_SIZE] = l.src[F_GCSTATS_COLLECTIONS] = LSRC_TABLE;
	for (int g = 0; g < 3; g++)
		wi_put64(&im, WI_GC + STATS_OFF + 24 * (raddr_t)g, 100 - 40 * (uint64_t)g);
	walk_image(&im, &l, &s);
	cr_assert(s.have_collections);
	cr_assert_eq(s.collections[0], 100);
	cr_assert_eq(s.collections[1], 60);
	cr_assert_eq(s.collections[2], 20);
	snapshot__release(&s);
	wi_release(&im);
}

/* The 3.15 shape (struct gc_stats, from its DWARF): rings of 11 and 3 records of 64 bytes. */
static void layout_315_stats(struct layout *l)
{
	static const struct { enum field_id f; int64_t v; } fields[] = {
		{ F_GC_STATS, STATS_OFF }, { F_GCSTATS_SIZE, 64 }, { F_GCSTATS_COLLECTIONS, 16 },
		{ F_GCSTATS_YOUNG, 0 }, { F_GCSTATS_YOUNG_INDEX, 704 }, { F_GCSTATS_OLD, 712 },
		{ F_GCSTATS_OLD_SIZE, 200 }, { F_GCSTATS_OLD_INDEX, 192 },
	};

	wi_layout(l);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		l->v[fields[i].f] = fields[i].v;
		l->src[fields[i].f] = LSRC_TABLE;
	}
}

/* 3.15: the newest record of each ring (the largest cumulative count), wherever the index is. */
Test(gc_model, collections_from_rings)
{
	static const uint64_t old0[3] = { 7, 5, 6 }, old1[3] = { 0, 0, 0 };
	raddr_t objs[WI_SEED_OBJECTS], st;
	struct wi_image im;
	struct snapshot s;
	struct layout l;

	wi_build_seed(&im, objs);
	layout_315_stats(&l);
	st = wi_alloc(&im, 1120);
	wi_put64(&im, WI_GC + STATS_OFF, st);
	for (int i = 0; i < 11; i++) /* wrapped: slots 0-3 newer than 4-10 */
		wi_put64(&im, st + 64 * (raddr_t)i + 16, i < 4 ? 1000 + (uint64_t)i : 989 + (uint64_t)i);
	wi_put8(&im, st + 704, 3);
	for (int i = 0; i < 3; i++) {
		wi_put64(&im, st + 712 + 64 * (raddr_t)i + 16, old0[i]);
		wi_put64(&im, st + 712 + 200 + 64 * (raddr_t)i + 16, old1[i]);
	}
	walk_image(&im, &l, &s);
	cr_assert(s.have_collections);
	cr_assert_eq(s.collections[0], 1003);
	cr_assert_eq(s.collections[1], 7);
	cr_assert_eq(s.collections[2], 0);
	cr_assert_eq(s.n, WI_SEED_OBJECTS, "the walk itself is unchanged");
	snapshot__release(&s);
	wi_release(&im);
}

/* A statistics pointer that leads nowhere: no counts, and the walk goes on. */
Test(gc_model, collections_behind_a_bad_pointer)
{
	static const uint64_t bad[] = { 0, 0xdead0000, WI_SEG2 + 3 };
	raddr_t objs[WI_SEED_OBJECTS];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wi_image im;
		struct snapshot s;
		struct layout l;

		wi_build_seed(&im, objs);
		layout_315_stats(&l);
		wi_put64(&im, WI_GC + STATS_OFF, bad[i]);
		walk_image(&im, &l, &s);
		cr_assert_not(s.have_collections, "pointer 0x%llx", (unsigned long long)bad[i]);
		cr_assert_eq(s.n, WI_SEED_OBJECTS);
		snapshot__release(&s);
		wi_release(&im);
	}
}
