/* SPDX-License-Identifier: MIT */
/*
 * sizes__shallow against the target's own sys.getsizeof, for one object of
 * each builtin type in tests/targets/sizes.py, on every interpreter of the
 * matrix and with each layout source the interpreter has; garbage that
 * claims to be objects gives an estimate, never a crash.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../analyzer/pyobj.h"
#include "../../analyzer/sizes.h"
#include "../../analyzer/snapshot.h"
#include "../../common/util.h"
#include "../lib/harness.h"

#define MAX_OBJS 256
#define MAX_FAKES 8

struct obj {
	char name[64];
	raddr_t addr;
	uint64_t want;
};

struct target_objs {
	struct obj v[MAX_OBJS];
	int n;
	raddr_t fakes[MAX_FAKES];
	int nfakes;
};

static void request(const char *label, struct target *t, const char *line, char *reply, size_t len)
{
	int ret = target__request(t, line, reply, len, 30000);

	cr_assert_eq(ret, 0, "%s: request '%.*s': %s", label, (int)strcspn(line, "\n"), line, strerror(-ret));
}

/* Ask the target for every object and its getsizeof, and for the fakes. */
static void query(const char *label, struct target *t, struct target_objs *o)
{
	char line[32], reply[512], *p, *end;

	o->n = 0;
	for (int i = 0; i < MAX_OBJS; i++) {
		struct obj *b = &o->v[o->n];
		unsigned long long addr, want;

		snprintf(line, sizeof(line), "%d\n", i);
		request(label, t, line, reply, sizeof(reply));
		if (!strcmp(reply, "END"))
			break;
		cr_assert_eq(sscanf(reply, "OBJ %63s %llu %llu", b->name, &addr, &want), 3,
			     "%s: reply '%s' to '%d'", label, reply, i);
		b->addr = addr;
		b->want = want;
		o->n++;
	}
	cr_assert(o->n > 50, "%s: the target named only %d objects", label, o->n);
	request(label, t, "FAKE\n", reply, sizeof(reply));
	cr_assert(!strncmp(reply, "FAKE ", 5), "%s: reply '%s' to FAKE", label, reply);
	o->nfakes = 0;
	for (p = reply + 5; *p && o->nfakes < MAX_FAKES; p = end) {
		o->fakes[o->nfakes] = strtoull(p, &end, 10);
		if (end == p)
			break;
		o->nfakes++;
	}
	cr_assert_eq(o->nfakes, 3, "%s: %d fakes", label, o->nfakes);
}

static uint64_t ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every object's size under layout l, with and without a cache; returns how many differ. */
static int compare(const char *label, const char *mode, struct remote *r, const struct layout *l,
		   const struct target_objs *o)
{
	struct sizes_cache *c = sizes__cache_new();
	int bad = 0;

	for (int i = 0; i < o->n; i++) {
		const struct obj *b = &o->v[i];
		uint64_t got = 0, got2 = 0;
		raddr_t type = 0;
		int ret, ret2;

		cr_assert_eq(pyobj__type(r, l, b->addr, &type), 0, "%s: %s: cannot read its type", label, b->name);
		ret = sizes__shallow(r, l, b->addr, type, &got);
		ret2 = sizes__shallow_cached(c, r, l, b->addr, type, &got2);
		/* twice through the cache: the second comes from the cached facts */
		ret2 = ret2 ? ret2 : sizes__shallow_cached(c, r, l, b->addr, 0, &got2);
		cr_assert(ret == ret2 && got == got2, "%s (%s): %s: %llu (%d) without a cache, %llu (%d) with",
			  label, mode, b->name, (unsigned long long)got, ret, (unsigned long long)got2, ret2);
		if (ret != 0 || got != b->want) {
			fprintf(stderr, "%s (layout %s, Python %s): %-28s expected %8llu got %8llu%s\n", label, mode,
				l->version, b->name, (unsigned long long)b->want, (unsigned long long)got,
				ret == SIZES_ESTIMATE ? " (estimate)" : ret ? " (error)" : "");
			bad++;
		}
	}
	sizes__cache_free(c);
	return bad;
}

/* Garbage gives the estimate, bounded, and no crash. */
static void check_fakes(const char *label, struct remote *r, const struct layout *l, const struct target_objs *o)
{
	for (int i = 0; i < o->nfakes; i++) {
		uint64_t got = 0;
		int ret = sizes__shallow(r, l, o->fakes[i], 0, &got);

		cr_assert_eq(ret, SIZES_ESTIMATE, "%s: fake %d at 0x%" PRIx64 ": returned %d (size %llu)", label, i,
			     o->fakes[i], ret, (unsigned long long)got);
		cr_assert(got < (1u << 20), "%s: fake %d: estimate %llu", label, i, (unsigned long long)got);
	}
	/* not even a type: nothing */
	{
		uint64_t got = 1;
		cr_assert(sizes__shallow(r, l, 0x10, 0, &got) < 0 && got == 0, "%s: address 0x10", label);
	}
}

/* A layout without the fields the exact rules need: the estimate, never a crash. */
static void check_missing_fields(const char *label, struct remote *r, const struct layout *l,
				 const struct target_objs *o)
{
	static const enum field_id drop[] = { F_LIST_ALLOCATED, F_DK_REFCNT, F_SET_SMALLTABLE, F_STR_UTF8,
					      F_BYTEARRAY_ALLOC, F_HT_CACHED_KEYS, F_TYPE_SIZE };
	struct layout *lc = xmalloc(sizeof(*lc));
	int estimates = 0;

	memcpy(lc, l, sizeof(*lc));
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		lc->src[drop[i]] = LSRC_NONE;
	for (int i = 0; i < o->n; i++) {
		uint64_t got = 0;
		int ret = sizes__shallow(r, lc, o->v[i].addr, 0, &got);

		cr_assert(ret == 0 || ret == SIZES_ESTIMATE, "%s: %s without fields: %d", label, o->v[i].name, ret);
		cr_assert(got > 0 && got < (1u << 30), "%s: %s without fields: %llu", label, o->v[i].name,
			  (unsigned long long)got);
		if (ret == 0)
			cr_assert_eq(got, o->v[i].want, "%s: %s without fields: exact %llu, want %llu", label,
				     o->v[i].name, (unsigned long long)got, (unsigned long long)o->v[i].want);
		estimates += ret == SIZES_ESTIMATE;
	}
	cr_assert(estimates > 5, "%s: only %d estimates without the fields", label, estimates);
	free(lc);
}

/* Every object of the heap: no failure, and what it costs. */
static void whole_heap(const char *label, struct remote *r, const struct layout *l)
{
	struct snapshot s;
	struct sizes_cache *c = sizes__cache_new();
	size_t estimates = 0;
	uint64_t total = 0, t0;
	int ret = snapshot__take(r, l, NULL, &s);

	cr_assert_eq(ret, 0, "%s: snapshot__take: %s", label, me_strerror(ret));
	t0 = ns_now();
	for (size_t i = 0; i < s.n; i++) {
		uint64_t got = 0;

		ret = sizes__shallow_cached(c, r, l, s.objs[i].addr, s.types.v[s.objs[i].type].addr, &got);
		cr_assert(ret == 0 || ret == SIZES_ESTIMATE, "%s: 0x%" PRIx64 " (%s): %s", label, s.objs[i].addr,
			  s.types.v[s.objs[i].type].name, me_strerror(ret));
		if (ret == SIZES_ESTIMATE && estimates < 10)
			fprintf(stderr, "%s: estimate for a %s\n", label, s.types.v[s.objs[i].type].name);
		estimates += ret == SIZES_ESTIMATE;
		total += got;
	}
	fprintf(stderr, "%s: %zu objects, %llu bytes, %zu estimates, %.0f ns per object\n", label, s.n,
		(unsigned long long)total, estimates, s.n ? (double)(ns_now() - t0) / (double)s.n : 0.0);
	sizes__cache_free(c);
	snapshot__release(&s);
}

static void sizes_on(const char *label)
{
	static const struct {
		enum layout_want want;
		const char *name;
	} modes[] = { { LWANT_AUTO, "auto" }, { LWANT_DWARF, "dwarf" }, { LWANT_TABLE, "table" } };
	const struct interp *py = interp__get(label);
	struct target_objs *o = xcalloc(1, sizeof(*o));
	char err[512], *script;
	struct remote r;
	struct target t;
	int ret, bad = 0, tried = 0;

	if (!py)
		cr_skip_test("%s: not in this matrix", label);
	if (py->skip)
		cr_skip_test("%s: %s", label, py->skip);
	script = interp__script(py, "sizes.py", err, sizeof(err));
	cr_assert_not_null(script, "%s: %s", label, err);
	ret = target__start(&t, py, script, NULL);
	cr_assert_eq(ret, 0, "%s: %s", label, t.err);
	free(script);
	/* ask first: the answers allocate; the heap stays still once asked */
	query(label, &t, o);
	ret = remote__open(&r, t.pid);
	cr_assert_eq(ret, 0, "%s: remote__open: %s", label, strerror(-ret));

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct layout l;
		char *why = NULL;

		ret = layout__discover(&r, modes[m].want, &l, &why);
		if (modes[m].want != LWANT_AUTO && ret) {
			/* a stripped build without its debug file, or no table for it */
			fprintf(stderr, "%s: no %s layout: %s (%s)\n", label, modes[m].name, me_strerror(ret),
				why ? why : "");
			free(why);
			continue;
		}
		cr_assert_eq(ret, 0, "%s: layout__discover(%s): %s (%s)", label, modes[m].name, me_strerror(ret),
			     why ? why : "");
		free(why);
		tried++;
		bad += compare(label, modes[m].name, &r, &l, o);
		if (modes[m].want == LWANT_AUTO) {
			check_fakes(label, &r, &l, o);
			check_missing_fields(label, &r, &l, o);
			whole_heap(label, &r, &l);
		}
		layout__release(&l);
	}
	remote__release(&r);
	cr_assert_eq(bad, 0, "%s: %d sizes differ from sys.getsizeof (see above) in %d layouts", label, bad, tried);
	ret = target__stop(&t);
	cr_assert_eq(ret, 0, "%s: the target ended with status %d %s", label, ret, t.err);
	free(o);
}

#define SIZES(name, label) \
	Test(sizes, name, .fini = harness__cleanup, .timeout = 300) { sizes_on(label); }

SIZES(pyenv_3_8, "pyenv-3.8")
SIZES(pyenv_3_9, "pyenv-3.9")
SIZES(pyenv_3_10, "pyenv-3.10")
SIZES(pyenv_3_11, "pyenv-3.11")
SIZES(pyenv_3_12, "pyenv-3.12")
SIZES(pyenv_3_13, "pyenv-3.13")
SIZES(debian_3_11, "debian-3.11")
SIZES(debian_3_11d, "debian-3.11d")
SIZES(sid_3_13, "sid-3.13")
SIZES(sid_3_13d, "sid-3.13d")
SIZES(sid_3_14, "sid-3.14")
SIZES(sid_3_14d, "sid-3.14d")
SIZES(sid_3_15, "sid-3.15")
SIZES(sid_3_15d, "sid-3.15d")
