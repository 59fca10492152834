/* SPDX-License-Identifier: MIT */
/*
 * The GC-list walk over synthetic memory images (fuzz/walk_image.h, the heap
 * the fuzz seeds carry) read through the remote image backend.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../analyzer/pyobj.h"
#include "../../analyzer/snapshot.h"
#include "../../analyzer/types.h"
#include "../../fuzz/walk_image.h"

static struct layout L;

static void setup(void)
{
	wi_layout(&L);
}

/* Walk the segments of an image; the remote is closed again (names are owned copies). */
static void walk_segs(const struct remote_segment *segs, size_t n, size_t max_objects,
		      struct snapshot *s)
{
	struct snapshot_opts opts = { .max_objects = max_objects };
	struct remote r;

	cr_assert_eq(remote__open_image(&r, segs, n), 0);
	cr_assert_eq(r.pid, 0);
	cr_assert_eq(snapshot__walk(&r, &L, &opts, s), 0);
	cr_assert_eq(s->syscalls, 0, "an image needs no system call");
	remote__release(&r);
}

static void walk(const struct wi_image *im, size_t max_objects, struct snapshot *s)
{
	struct remote_segment segs[WI_NSEG];

	walk_segs(segs, wi_segments(im, segs), max_objects, s);
}

/* How many objects of s have the type named name. */
static size_t count_named(const struct snapshot *s, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		const char *tn = s->types.v[s->objs[i].type].name;
		if (tn && !strcmp(tn, name))
			n++;
	}
	return n;
}

static void assert_seed_result(const struct snapshot *s)
{
	static const size_t per_list[WI_NLISTS] = { 3, 0, 2, 1 };
	static const char *const names[WI_NLISTS] = { "gen0", "gen1", "gen2", "permanent" };

	cr_assert(!s->partial, "partial: %s", s->partial_reason);
	cr_assert_eq(s->n, WI_SEED_OBJECTS);
	cr_assert_eq(s->ninterps, 1);
	cr_assert_eq(s->nlists, WI_NLISTS);
	for (int i = 0; i < WI_NLISTS; i++) {
		cr_assert_str_eq(s->lists[i].name, names[i]);
		cr_assert_eq(s->lists[i].count, per_list[i], "list %s", names[i]);
		cr_assert(s->lists[i].complete);
		cr_assert_eq(s->lists[i].head, wi_list_head(i));
	}
	cr_assert_eq(s->types.n, 2);
	cr_assert_eq(count_named(s, "myapp.models.Leaf"), WI_SEED_LEAVES);
	cr_assert_eq(count_named(s, "builtins.dict"), WI_SEED_DICTS);
}

TestSuite(walk, .init = setup);
TestSuite(remote_image, .init = setup);

Test(walk, valid_seed_heap)
{
	raddr_t objs[WI_SEED_OBJECTS];
	struct census_row *rows;
	struct wi_image im;
	struct snapshot s;
	size_t n;

	wi_build_seed(&im, objs);
	walk(&im, 0, &s);
	assert_seed_result(&s);
	/* the walk order is list order, and addresses are the objects' (after PyGC_Head) */
	for (int i = 0; i < WI_SEED_OBJECTS; i++)
		cr_assert_eq(s.objs[i].addr, objs[i]);
	n = snapshot__census(&s, &rows);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(s.types.v[rows[0].type].name, "myapp.models.Leaf");
	cr_assert_eq(rows[0].count, WI_SEED_LEAVES);
	cr_assert_eq(rows[0].per_list[0], 2);
	cr_assert_eq(rows[0].per_list[3], 1);
	cr_assert_str_eq(s.types.v[rows[1].type].name, "builtins.dict");
	cr_assert_eq(rows[1].count, WI_SEED_DICTS);
	free(rows);
	snapshot__release(&s);
	wi_release(&im);
}

Test(walk, many_objects_across_blocks)
{
	const size_t n = 3000; /* about 170 KiB of heap: several 64 KiB cache blocks */
	size_t leaves = 0;
	struct wi_image im;
	struct snapshot s;

	wi_init(&im);
	for (size_t i = 0; i < n; i++) {
		if (i % 5 == 4)
			wi_add_dict(&im, (int)(i % WI_NLISTS));
		else {
			wi_add_leaf(&im, (int)(i % WI_NLISTS));
			leaves++;
		}
	}
	walk(&im, 0, &s);
	cr_assert(!s.partial, "partial: %s", s.partial_reason);
	cr_assert_eq(s.n, n);
	for (int i = 0; i < WI_NLISTS; i++)
		cr_assert_eq(s.lists[i].count, n / WI_NLISTS);
	cr_assert_eq(count_named(&s, "myapp.models.Leaf"), leaves);
	cr_assert_eq(count_named(&s, "builtins.dict"), n - leaves);
	snapshot__release(&s);
	wi_release(&im);
}

Test(walk, many_types)
{
	const int ntypes = 700; /* past the type table's first growth */
	struct wi_image im;
	struct snapshot s;
	char want[32];

	wi_init(&im);
	for (int i = 0; i < ntypes; i++) {
		raddr_t t = wi_alloc(&im, 0x120), name = wi_alloc(&im, 16);
		snprintf((char *)wi_at(&im, name, 16), 16, "pkg.T%d", i);
		wi_static_type(&im, t, name, WI_TPFLAGS_READY);
		wi_add(&im, i % WI_NLISTS, t, 32);
		wi_add(&im, (i + 1) % WI_NLISTS, t, 32);
	}
	walk(&im, 0, &s);
	cr_assert(!s.partial, "partial: %s", s.partial_reason);
	cr_assert_eq(s.n, 2 * (size_t)ntypes);
	cr_assert_eq(s.types.n, (size_t)ntypes);
	for (int i = 0; i < ntypes; i += 99) {
		snprintf(want, sizeof(want), "pkg.T%d", i);
		cr_assert_eq(count_named(&s, want), 2, "%s", want);
	}
	snapshot__release(&s);
	wi_release(&im);
}

Test(walk, broken_back_link)
{
	raddr_t objs[WI_SEED_OBJECTS];
	struct wi_image im;
	struct snapshot s;

	wi_build_seed(&im, objs);
	/* gen2's first object claims gen0's second as its predecessor */
	wi_put64(&im, objs[3] - 16 + 8, objs[1] - 16);
	walk(&im, 0, &s);
	cr_assert(s.partial);
	cr_assert_not_null(s.partial_reason);
	cr_assert(strstr(s.partial_reason, "list gen2: broken back link"), "%s", s.partial_reason);
	cr_assert(s.lists[0].complete);
	cr_assert_not(s.lists[2].complete);
	cr_assert_eq(s.lists[2].count, 0);
	/* what was walked keeps its names */
	cr_assert_eq(count_named(&s, "myapp.models.Leaf"), 2);
	snapshot__release(&s);
	wi_release(&im);
}

Test(walk, cycle_that_misses_the_head)
{
	raddr_t objs[WI_SEED_OBJECTS];
	struct wi_image im;
	struct snapshot s;

	wi_build_seed(&im, objs);
	/*
	 * gen0's last object leads back to its first instead of the head. The
	 * back-link check catches the second visit (the first object's prev is
	 * the head, not the last object), well before max_objects.
	 */
	wi_put64(&im, objs[2] - 16, objs[0] - 16);
	walk(&im, 1000, &s);
	cr_assert(s.partial);
	cr_assert(strstr(s.partial_reason, "list gen0: broken back link"), "%s", s.partial_reason);
	cr_assert_eq(s.lists[0].count, 3);
	cr_assert_not(s.lists[0].complete);
	snapshot__release(&s);

	/* a self-loop with a back link that agrees the first time */
	wi_put64(&im, objs[0] - 16, objs[0] - 16);
	walk(&im, 1000, &s);
	cr_assert(s.partial);
	cr_assert_eq(s.lists[0].count, 1);
	snapshot__release(&s);
	wi_release(&im);
}

Test(walk, max_objects_stops_the_walk)
{
	struct wi_image im;
	struct snapshot s;

	wi_init(&im);
	for (int i = 0; i < 500; i++)
		wi_add_leaf(&im, 2);
	walk(&im, 100, &s);
	cr_assert(s.partial);
	cr_assert_eq(s.n, 100);
	cr_assert(strstr(s.partial_reason, "stopped at 100 objects"), "%s", s.partial_reason);
	cr_assert_eq(count_named(&s, "myapp.models.Leaf"), 100, "types named after a stop too");
	snapshot__release(&s);
	wi_release(&im);
}

Test(walk, type_pointer_not_a_type)
{
	const raddr_t bad[] = {
		0,                      /* NULL */
		WI_LEAF_KEYS,           /* readable, but a dict keys object */
		WI_STR_TYPE + 4,        /* misaligned */
		0x7000000000,           /* unmapped */
		0,                      /* an instance of Leaf: filled in below */
		WI_STR_MODKEY,          /* a str: its type's type is type, but it is no type */
	};
	raddr_t objs[WI_SEED_OBJECTS];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wi_image im;
		struct snapshot s;

		wi_build_seed(&im, objs);
		wi_put64(&im, objs[4] + 8, i == 4 ? objs[3] : bad[i]);
		walk(&im, 0, &s);
		cr_assert(s.partial, "case %zu", i);
		cr_assert(strstr(s.partial_reason, "has no valid type"), "case %zu: %s", i,
			  s.partial_reason);
		cr_assert_eq(s.lists[2].count, 1, "case %zu", i);
		snapshot__release(&s);
		wi_release(&im);
	}
}

Test(walk, collection_running)
{
	struct wi_image im;
	struct snapshot s;

	wi_build_seed(&im, NULL);
	wi_put32(&im, WI_GC + 200, 1);
	walk(&im, 0, &s);
	cr_assert(s.partial);
	cr_assert(strstr(s.partial_reason, "garbage collection was running"), "%s", s.partial_reason);
	cr_assert_eq(s.n, 0);
	snapshot__release(&s);
	wi_release(&im);
}

Test(walk, interpreter_list_cycle)
{
	struct wi_image im;
	struct snapshot s;

	wi_build_seed(&im, NULL);
	wi_put64(&im, WI_INTERP, WI_INTERP); /* interp.next = itself */
	walk(&im, 0, &s);
	assert_seed_result(&s);
	snapshot__release(&s);
	wi_release(&im);
}

Test(walk, segment_boundary_inside_objects)
{
	raddr_t objs[WI_SEED_OBJECTS];
	struct remote_segment segs[WI_NSEG + 2];
	struct wi_image im;
	struct snapshot s;
	raddr_t cut0 = WI_LEAF_TYPE + 300, cut2;
	size_t n;

	wi_build_seed(&im, objs);
	cut2 = objs[1] + 4; /* inside the second object's ob_type */
	/* adjacent mappings, cut inside the heap type object and inside an object */
	n = wi_segments(&im, segs);
	segs[n++] = (struct remote_segment){ cut0, im.seg[0] + (cut0 - WI_SEG0),
					     im.len[0] - (cut0 - WI_SEG0) };
	segs[0].len = cut0 - WI_SEG0;
	segs[n++] = (struct remote_segment){ cut2, im.seg[2] + (cut2 - WI_SEG2),
					     im.len[2] - (cut2 - WI_SEG2) };
	segs[2].len = cut2 - WI_SEG2;
	walk_segs(segs, n, 0, &s);
	assert_seed_result(&s);
	snapshot__release(&s);

	/* a gap instead: the heap ends in the middle of the permanent list's object */
	n = wi_segments(&im, segs);
	segs[2].len = objs[5] + 4 - WI_SEG2;
	walk_segs(segs, n, 0, &s);
	cr_assert(s.partial);
	cr_assert(strstr(s.partial_reason, "list permanent: unreadable node"), "%s", s.partial_reason);
	cr_assert_eq(s.n, WI_SEED_OBJECTS - 1);
	cr_assert(s.lists[2].complete);
	snapshot__release(&s);
	wi_release(&im);
}

Test(walk, fuzz_encoding_round_trip)
{
	struct remote_segment segs[WI_MAX_SEGS];
	raddr_t objs[WI_SEED_OBJECTS];
	struct wi_image im;
	struct snapshot s;
	unsigned char *buf;
	size_t size, n;

	wi_build_seed(&im, objs);
	size = wi_encode(&im, 2 | WI_FLAG_SPLIT, (uint16_t)(objs[2] + 8 - WI_SEG2), &buf);
	n = wi_decode(buf, size, segs);
	cr_assert_eq(n, 4);
	cr_assert_eq(segs[3].start, objs[2] + 8);
	walk_segs(segs, n, 0, &s);
	assert_seed_result(&s);
	snapshot__release(&s);
	free(buf);
	wi_release(&im);
}

Test(walk, decoders_on_the_seed_heap)
{
	raddr_t objs[WI_SEED_OBJECTS], v;
	struct wi_image im;
	struct remote_segment segs[WI_NSEG];
	struct remote r;
	char buf[64], *name;

	wi_build_seed(&im, objs);
	cr_assert_eq(remote__open_image(&r, segs, wi_segments(&im, segs)), 0);
	cr_assert_eq(pyobj__str(&r, &L, WI_STR_MODVAL, buf, sizeof(buf)), 12);
	cr_assert_str_eq(buf, "myapp.models");
	cr_assert_eq(pyobj__str(&r, &L, WI_STR_WIDE, buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "h\xc3\xa9llo");
	cr_assert_eq(pyobj__str(&r, &L, WI_STR_WIDE, buf, 3), 1, "cut on a character boundary");
	cr_assert_eq(pyobj__str(&r, &L, objs[0], buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(pyobj__dict_get_str(&r, &L, objs[2], "__module__", &v), 0);
	cr_assert_eq(v, WI_STR_WIDE);
	cr_assert_eq(pyobj__dict_get_str(&r, &L, WI_LEAF_DICT, "__module__", &v), 0);
	cr_assert_eq(v, WI_STR_MODVAL);
	cr_assert_eq(pyobj__dict_get_str(&r, &L, WI_LEAF_DICT, "__doc__", &v), -ENOENT);
	cr_assert_eq(pyobj__dict_get_str(&r, &L, objs[0], "__module__", &v), -EINVAL,
		     "a Leaf instance is no dict");
	cr_assert(pyobj__is_type(&r, &L, WI_LEAF_TYPE));
	cr_assert(pyobj__is_type(&r, &L, WI_TYPE_TYPE));
	cr_assert_not(pyobj__is_type(&r, &L, objs[0]));
	name = type__qualified_name(&r, &L, WI_LEAF_TYPE);
	cr_assert_str_eq(name, "myapp.models.Leaf");
	free(name);
	name = type__qualified_name(&r, &L, WI_STR_TYPE);
	cr_assert_str_eq(name, "builtins.str");
	free(name);
	remote__release(&r);
	wi_release(&im);
}

Test(remote_image, reads_follow_segment_bounds)
{
	static const unsigned char a[100] = { 1, 2, 3 };
	unsigned char b[5000];
	/* unsorted, unaligned, b adjacent to a, one empty segment ignored */
	struct remote_segment segs[] = {
		{ 0x5000 + 100, b, sizeof(b) },
		{ 0x5000, a, sizeof(a) },
		{ 0x900000, a, 0 },
	};
	unsigned char buf[300];
	struct remote r;
	uint64_t w;

	memset(b, 'x', sizeof(b));
	cr_assert_eq(remote__open_image(&r, segs, 3), 0);
	cr_assert_eq(r.pid, 0);
	cr_assert_eq(r.maps.n, 2);
	cr_assert_eq(r.maps.v[0].start, 0x5000);
	cr_assert_eq(r.maps.v[0].end, 0x5000 + 100);
	cr_assert(r.maps.v[1].r);
	cr_assert_not_null(proc_maps__find(&r.maps, 0x5000 + 150));
	cr_assert_null(proc_maps__find(&r.maps, 0x5000 + 5100));
	cr_assert(remote__mapped(&r, 0x5000, 5100));
	cr_assert_not(remote__mapped(&r, 0x5000, 5101));
	cr_assert_not(remote__mapped(&r, 0x4fff, 2));

	cr_assert_eq(remote__read(&r, 0x5000 + 98, buf, 4), 0, "across adjacent segments");
	cr_assert_eq(buf[2], 'x');
	cr_assert_eq(remote__u64(&r, 0x5000, &w), 0);
	cr_assert_eq(w, 0x030201);
	/* the last page is only partly backed: bytes past the end are not readable */
	cr_assert_eq(remote__read(&r, 0x5000 + 5096, buf, 4), 0);
	cr_assert_eq(remote__read(&r, 0x5000 + 5097, buf, 4), -EFAULT);
	cr_assert_null(remote__peek(&r, 0x5000 + 5100, 1));
	cr_assert_eq(remote__read(&r, 0x4ffc, buf, 8), -EFAULT);
	cr_assert_eq(remote__str(&r, 0x5000 + 5000, (char *)buf, sizeof(buf)), -EFAULT,
		     "no NUL before the end");
	cr_assert_eq(remote__u64(&r, UINT64_MAX - 3, &w), -EFAULT);
	cr_assert_eq(r.syscalls, 0);
	cr_assert_gt(r.bytes_read, 0);

	/* a reset drops the cache and keeps the image */
	cr_assert_gt(remote__cached_bytes(&r), 0);
	cr_assert_eq(remote__reset(&r), 0);
	cr_assert_eq(remote__cached_bytes(&r), 0);
	cr_assert_eq(r.maps.n, 2);
	cr_assert_eq(remote__read(&r, 0x5000, buf, 3), 0);
	cr_assert_eq(buf[2], 3);
	remote__release(&r);
}

Test(remote_image, overlap_and_wrap_rejected)
{
	static const unsigned char a[100];
	struct remote_segment overlap[] = { { 0x1000, a, 100 }, { 0x1063, a, 10 } };
	struct remote_segment wrap[] = { { UINT64_MAX - 10, a, 100 } };
	unsigned char buf[1];
	struct remote r;

	cr_assert_eq(remote__open_image(&r, overlap, 2), -EINVAL);
	cr_assert_eq(remote__open_image(&r, wrap, 1), -EINVAL);
	cr_assert_eq(remote__open_image(&r, NULL, 0), 0, "an empty image is allowed");
	cr_assert_not(remote__mapped(&r, 0, 1));
	cr_assert_eq(remote__read(&r, 0x1000, buf, 0), 0);
	remote__release(&r);
}
