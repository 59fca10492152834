/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the GC-list walker and the object decoders over a memory
 * image made of the fuzz input (format in walk_image.h), so that garbage in
 * the target's memory can never crash, leak or hang memalot.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/pyobj.h"
#include "../attach/freeze.h"
#include "../analyzer/snapshot.h"
#include "../analyzer/types.h"
#include "walk_image.h"

/* Objects whose decoding is tried after the walk; the walk itself is capped below. */
#define DECODE_OBJECTS 32
#define MAX_OBJECTS 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* A property the walk must keep whatever the input: stop here when it does not. */
static void require(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_walk: broken invariant: %s\n", what);
		abort();
	}
}

static int count_entry(raddr_t key, raddr_t value, void *arg)
{
	size_t *n = arg;

	(void)key;
	(void)value;
	(*n)++;
	return 0;
}

/* Every decoder on one address: none may fail other than by its return value. */
static void decode_at(struct remote *r, const struct layout *l, raddr_t a)
{
	char buf[256], tiny[4];
	size_t entries = 0;
	raddr_t value;
	char *name;
	int n;

	/* a str may hold NULs, so only the terminator is checked */
	n = pyobj__str(r, l, a, buf, sizeof(buf));
	require(n < 0 || ((size_t)n < sizeof(buf) && !buf[n]), "str length");
	n = pyobj__str(r, l, a, tiny, sizeof(tiny));
	require(n < 0 || ((size_t)n < sizeof(tiny) && !tiny[n]), "cut str length");
	pyobj__dict_each(r, l, a, count_entry, &entries);
	require(entries <= PYOBJ_DICT_CAP, "dict entries capped");
	pyobj__dict_get_str(r, l, a, "__module__", &value);
	pyobj__is_type(r, l, a);
	name = type__qualified_name(r, l, a);
	require(name != NULL, "type name");
	free(name);
}

/* What a finished walk must look like, complete or not. */
static void check_snapshot(const struct snapshot *s)
{
	size_t sum = 0;

	require(s->n <= MAX_OBJECTS, "max_objects respected");
	require(!s->partial || s->partial_reason, "partial has a reason");
	require(s->nlists >= 0 && s->nlists <= SNAP_MAX_LISTS, "list count");
	for (int i = 0; i < s->nlists; i++)
		sum += s->lists[i].count;
	require(sum == s->n, "list counts add up");
	for (size_t i = 0; i < s->n; i++) {
		require(s->objs[i].type < s->types.n, "type index");
		require(s->types.v[s->objs[i].type].valid, "object type is valid");
		require(s->types.v[s->objs[i].type].name != NULL, "object type is named");
		require(s->objs[i].list < s->nlists, "list index");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct layout l;
	static int have_layout;
	struct snapshot_opts opts = { .max_objects = MAX_OBJECTS };
	struct remote_segment segs[WI_MAX_SEGS];
	struct snapshot s, again;
	struct census_row *rows;
	struct remote r;
	size_t n;

	if (!have_layout) {
		wi_layout(&l);
		have_layout = 1;
	}
	n = wi_decode(data, size, segs);
	if (remote__open_image(&r, segs, n))
		return 0;

	require(!snapshot__walk(&r, &l, &opts, &s), "walk of an image returns 0");
	check_snapshot(&s);
	n = snapshot__census(&s, &rows);
	require(n <= s.types.n, "census rows");
	free(rows);

	for (size_t i = 0; i < s.n && i < DECODE_OBJECTS; i++)
		decode_at(&r, &l, s.objs[i].addr);
	for (size_t i = 0; i < s.types.n && i < DECODE_OBJECTS; i++)
		decode_at(&r, &l, s.types.v[i].addr);
	for (int i = 0; i < 3; i++) {
		uint64_t a;
		if (!remote__u64(&r, WI_PROBES + 8 * (raddr_t)i, &a))
			decode_at(&r, &l, a);
	}

	/* the same image read again from an empty cache gives the same walk */
	require(!remote__reset(&r), "reset of an image");
	require(!snapshot__walk(&r, &l, &opts, &again), "second walk");
	require(again.n == s.n && again.partial == s.partial && again.types.n == s.types.n,
		"walks agree");
	for (size_t i = 0; i < s.n; i++)
		require(again.objs[i].addr == s.objs[i].addr && again.objs[i].type == s.objs[i].type,
			"walks agree on objects");
	snapshot__release(&again);

	snapshot__release(&s);
	remote__release(&r);
	return 0;
}
