/* SPDX-License-Identifier: MIT */
/*
 * The GC-list walk. Every link is checked before it is followed: the next
 * node's prev must point back at the node we came from, every node must lie
 * in readable memory, and every object's type must be a type object. A list
 * that breaks these rules was caught mid-update (or is garbage): we thaw the
 * target, let it run for a moment, and try again.
 */
#define _GNU_SOURCE
#include "snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../attach/freeze.h"
#include "pyobj.h"

#define DEFAULT_MAX_OBJECTS ((size_t)200 * 1000 * 1000)
#define DEFAULT_TRIES 10
/* How long we wait for a running collection to end before freezing anyway. */
#define GC_IDLE_WAIT_NS (200ull * 1000 * 1000)
/* How often a long walk checks for Ctrl-C. */
#define STOP_CHECK_EVERY 4096
/* Most cache memory paged in before a freeze (the rest faults in during it). */
#define RESERVE_MAX ((size_t)1 << 30)
#define MAX_INTERPRETERS 16

enum walk_result { WALK_OK, WALK_RETRY, WALK_FAIL };

struct walk {
	struct remote *r;
	const struct layout *l;
	struct snapshot *s;
	size_t max_objects;
	volatile int *stop; /* set by a signal handler: give up the walk */
	char *why; /* what went wrong, for a retry or the partial note */
};

static void set_why(struct walk *w, char *msg)
{
	free(w->why);
	w->why = msg;
}

static enum walk_result walk_list(struct walk *w, int li)
{
	struct snap_list *L = &w->s->lists[li];
	const struct layout *l = w->l;
	raddr_t head = L->head, prev = head, cur;
	uint64_t next, back;
	size_t hdr = (size_t)l->v[F_GCHEAD_SIZE];
	size_t tyoff = hdr + (size_t)l->v[F_OB_TYPE];

	if (remote__u64(w->r, head, &next)) {
		set_why(w, xasprintf("list %s: head not readable", L->name));
		return w->r->gone ? WALK_FAIL : WALK_RETRY;
	}
	cur = next & GC_LINK_MASK;
	while (cur != head) {
		const unsigned char *p;
		raddr_t type;
		long ti;

		if (w->stop && !(w->s->n % STOP_CHECK_EVERY) && *w->stop) {
			set_why(w, xasprintf("interrupted"));
			return WALK_FAIL;
		}
		if (w->s->n >= w->max_objects) {
			set_why(w, xasprintf("stopped at %zu objects (--max-objects)", w->s->n));
			return WALK_FAIL;
		}
		p = remote__peek(w->r, cur, tyoff + 8);
		if (!p) {
			unsigned char buf[64];
			if (tyoff + 8 > sizeof(buf) || remote__read(w->r, cur, buf, tyoff + 8)) {
				if (w->r->cache_full) {
					set_why(w, xasprintf("memalot's memory cache limit was reached after "
							     "%zu objects", w->s->n));
					return WALK_FAIL;
				}
				set_why(w, xasprintf("list %s: unreadable node at 0x%llx after %zu objects",
						     L->name, (unsigned long long)cur, L->count));
				return w->r->gone ? WALK_FAIL : WALK_RETRY;
			}
			memcpy(&next, buf, 8);
			memcpy(&back, buf + 8, 8);
			memcpy(&type, buf + tyoff, 8);
		} else {
			memcpy(&next, p, 8);
			memcpy(&back, p + 8, 8);
			memcpy(&type, p + tyoff, 8);
		}
		if ((back & GC_LINK_MASK) != prev) {
			set_why(w, xasprintf("list %s: broken back link at 0x%llx after %zu objects",
					     L->name, (unsigned long long)cur, L->count));
			return WALK_RETRY;
		}
		ti = type_table__intern(&w->s->types, w->r, l, type);
		if (ti < 0) {
			set_why(w, xasprintf("list %s: object at 0x%llx has no valid type",
					     L->name, (unsigned long long)(cur + hdr)));
			return WALK_RETRY;
		}
		GROW(w->s->objs, w->s->cap, w->s->n + 1);
		w->s->objs[w->s->n++] = (struct snap_object){ cur + hdr, (uint32_t)ti, (uint16_t)li, 0 };
		L->count++;
		prev = cur;
		cur = next & GC_LINK_MASK;
		if (!cur) {
			set_why(w, xasprintf("list %s: NULL link after %zu objects", L->name, L->count));
			return WALK_RETRY;
		}
	}
	L->complete = true;
	return WALK_OK;
}

/* Is a collection running in any interpreter? */
static bool collecting(struct walk *w, raddr_t *interps, int n)
{
	if (!layout__has(w->l, F_GC_COLLECTING))
		return false;
	for (int i = 0; i < n; i++) {
		int32_t c = 0;
		raddr_t gc = layout__gc_state(w->l, interps[i]);
		if (!remote__read(w->r, gc + (raddr_t)w->l->v[F_GC_COLLECTING], &c, 4) && c) {
			set_why(w, xasprintf("a garbage collection was running"));
			return true;
		}
		if (layout__has(w->l, F_RT_GC))
			break; /* 3.8: one state for all */
	}
	return false;
}

/* Most records a statistics ring may have (3.15 has 11 and 3). */
#define MAX_STATS_RING 64

/*
 * The number of collections of a generation from a ring of cumulative
 * records (3.15): n records of rsz bytes at ring, the newest holding the
 * largest count. The index beside the ring is not needed for that.
 */
static bool ring_collections(struct walk *w, raddr_t ring, int64_t n, int64_t rsz, uint64_t *out)
{
	const struct layout *l = w->l;
	uint64_t best = 0;

	if (n <= 0 || n > MAX_STATS_RING || rsz <= 0 || rsz > 4096 ||
	    l->v[F_GCSTATS_COLLECTIONS] < 0 || l->v[F_GCSTATS_COLLECTIONS] + 8 > rsz)
		return false;
	for (int64_t i = 0; i < n; i++) {
		uint64_t c;
		if (remote__u64(w->r, ring + (raddr_t)(i * rsz + l->v[F_GCSTATS_COLLECTIONS]), &c))
			return false;
		if ((int64_t)c >= 0 && c > best)
			best = c;
	}
	*out = best;
	return true;
}

/*
 * How many collections each generation has had, from the main interpreter's
 * statistics: an array of one record per generation inside the GC state
 * (3.8 to 3.14), or, when the layout knows struct gc_stats (3.15), a pointer
 * to rings of records, one for the young generation and one per old one.
 */
static bool read_collections(struct walk *w, raddr_t interp, uint64_t out[3])
{
	const struct layout *l = w->l;
	raddr_t stats = layout__gc_state(l, interp) + (raddr_t)l->v[F_GC_STATS];
	int64_t rsz = l->v[F_GCSTATS_SIZE];
	uint64_t p;

	if (!layout__has(l, F_GC_STATS) || !layout__has(l, F_GCSTATS_SIZE) ||
	    !layout__has(l, F_GCSTATS_COLLECTIONS))
		return false;
	if (!layout__has(l, F_GCSTATS_YOUNG)) {
		for (int g = 0; g < 3; g++)
			if (remote__u64(w->r, stats + (raddr_t)(g * rsz + l->v[F_GCSTATS_COLLECTIONS]),
					&out[g]))
				return false;
		return true;
	}
	if (!layout__has(l, F_GCSTATS_OLD) || !layout__has(l, F_GCSTATS_OLD_SIZE) ||
	    !layout__has(l, F_GCSTATS_YOUNG_INDEX) || !layout__has(l, F_GCSTATS_OLD_INDEX) || rsz <= 0)
		return false;
	if (remote__u64(w->r, stats, &p) || !p || (p & 7) || !remote__mapped(w->r, p, 8))
		return false;
	/* a ring's records come first in its buffer, its index right after them */
	if (!ring_collections(w, p + (raddr_t)l->v[F_GCSTATS_YOUNG], l->v[F_GCSTATS_YOUNG_INDEX] / rsz,
			      rsz, &out[0]))
		return false;
	for (int g = 1; g < 3; g++)
		if (!ring_collections(w, p + (raddr_t)(l->v[F_GCSTATS_OLD] + (g - 1) * l->v[F_GCSTATS_OLD_SIZE]),
				      l->v[F_GCSTATS_OLD_INDEX] / rsz, rsz, &out[g]))
			return false;
	return true;
}

static void reset_snapshot(struct snapshot *s)
{
	s->n = 0;
	s->nlists = 0;
	s->ninterps = 0;
	type_table__release(&s->types);
	type_table__init(&s->types);
}

static enum walk_result walk_all(struct walk *w)
{
	const struct layout *l = w->l;
	raddr_t interps[MAX_INTERPRETERS], interp;
	int n = 0;

	if (layout__first_interp(l, w->r, &interp)) {
		set_why(w, xasprintf("interpreter list not readable"));
		return w->r->gone ? WALK_FAIL : WALK_RETRY;
	}
	while (interp && n < MAX_INTERPRETERS) {
		uint64_t next;
		for (int i = 0; i < n; i++)
			if (interps[i] == interp)
				goto listed; /* a cycle in the interpreter list */
		interps[n++] = interp;
		if (remote__u64(w->r, interp + (raddr_t)l->v[F_INTERP_NEXT], &next))
			break;
		interp = next;
	}
listed:
	w->s->ninterps = n;
	if (collecting(w, interps, n))
		return WALK_RETRY;
	if (n)
		w->s->have_collections = read_collections(w, interps[0], w->s->collections);
	for (int i = 0; i < n; i++) {
		struct gc_list_head heads[LAYOUT_MAX_GC_LISTS];
		int nh = layout__gc_heads(l, interps[i], heads);

		if (layout__has(l, F_RT_GC) && i > 0)
			break; /* 3.8 keeps one GC state in the runtime */
		for (int h = 0; h < nh && w->s->nlists < SNAP_MAX_LISTS; h++) {
			int li = w->s->nlists++;
			w->s->lists[li] = (struct snap_list){ heads[h].name, i, heads[h].addr, 0, false };
			enum walk_result res = walk_list(w, li);
			if (res != WALK_OK)
				return res;
		}
	}
	return WALK_OK;
}

static void pause_briefly(int attempt)
{
	struct timespec ts = { 0, (long)(1 + attempt * 2) * 1000000L };
	nanosleep(&ts, NULL);
}

/*
 * Freezing in the middle of a collection gives lists that are being
 * rebuilt, so before each freeze we watch the main interpreter's
 * "collecting" flag while the target runs and freeze right after it drops.
 * This narrows the race; the walk still checks the flag under the freeze.
 */
static void wait_gc_idle(struct walk *w)
{
	const struct layout *l = w->l;
	uint64_t deadline = now_ns() + GC_IDLE_WAIT_NS;
	struct timespec ts = { 0, 100 * 1000 };
	raddr_t interp, flag;

	if (!layout__has(l, F_GC_COLLECTING) || layout__first_interp(l, w->r, &interp) || !interp)
		return;
	flag = layout__gc_state(l, interp) + (raddr_t)l->v[F_GC_COLLECTING];
	while (now_ns() < deadline && !(w->stop && *w->stop)) {
		int32_t c = 0;
		/* a fresh read each time: nothing may stay cached from a running target */
		if (remote__reset(w->r) || remote__read(w->r, flag, &c, 4) || !c)
			break;
		nanosleep(&ts, NULL);
	}
}

/* Start a snapshot into out: an empty result and a walk state that fills it. */
static void walk_begin(struct walk *w, struct remote *r, const struct layout *l,
		       const struct snapshot_opts *opts, struct snapshot *out)
{
	memset(out, 0, sizeof(*out));
	type_table__init(&out->types);
	*w = (struct walk){ r, l, out, DEFAULT_MAX_OBJECTS, NULL, NULL };
	if (opts && opts->max_objects)
		w->max_objects = opts->max_objects;
}

/*
 * One pass over every list from scratch. The types are named unless the pass
 * is to be retried: naming reads memory that is only worth reading once.
 */
static enum walk_result walk_once(struct walk *w)
{
	enum walk_result res;
	uint64_t t0 = now_ns();

	reset_snapshot(w->s);
	res = walk_all(w);
	if (res != WALK_RETRY)
		type_table__name_all(&w->s->types, w->r, w->l);
	w->s->walk_ns = now_ns() - t0;
	return res;
}

/* Record the reader's statistics and, after a failed last pass, why the result is partial. */
static void walk_end(struct walk *w, enum walk_result res, int ret)
{
	struct snapshot *out = w->s;

	out->bytes_read = w->r->bytes_read;
	out->syscalls = w->r->syscalls;
	if (!ret && res != WALK_OK) {
		out->partial = true;
		out->partial_reason = w->why ? w->why : xstrdup("walk failed");
		w->why = NULL;
		type_table__name_all(&out->types, w->r, w->l);
	}
	zfree(&w->why);
}

int snapshot__walk(struct remote *r, const struct layout *l, const struct snapshot_opts *opts,
		   struct snapshot *out)
{
	struct walk w;
	enum walk_result res;
	int ret = 0;

	walk_begin(&w, r, l, opts, out);
	res = walk_once(&w);
	out->tries = 1;
	if (r->gone)
		ret = -ME_EXITED;
	walk_end(&w, res, ret);
	return ret;
}

int snapshot__take(struct remote *r, const struct layout *l, const struct snapshot_opts *opts,
		   struct snapshot *out)
{
	struct walk w;
	int tries = opts && opts->max_tries > 0 ? opts->max_tries : DEFAULT_TRIES;
	enum walk_result res = WALK_FAIL;
	struct freezer fz;
	size_t hint, prev;
	uint64_t paused;
	bool copy_first;
	int ret = 0;

	walk_begin(&w, r, l, opts, out);
	w.stop = &freezer_stop_requested;
	for (int attempt = 0; attempt < tries; attempt++) {
		if (attempt)
			pause_briefly(attempt);
		wait_gc_idle(&w);
		prev = remote__cached_bytes(r);
		ret = remote__reset(r);
		if (ret)
			break;
		/*
		 * Page in the cache before freezing so that copying into it takes
		 * no page faults while the target waits. The first time, the
		 * target's anonymous RSS bounds what the walk can read; after a
		 * try, what that try read.
		 */
		out->writable_bytes = remote__writable_bytes(r);
		out->copy_limit = opts ? MIN(opts->max_copy, (uint64_t)r->cache_max) : 0;
		out->copy_limit_is_cache = opts && r->cache_max < opts->max_copy;
		copy_first = out->copy_limit && out->writable_bytes <= out->copy_limit;
		hint = MIN(copy_first ? out->writable_bytes : remote__anon_rss_hint(r), RESERVE_MAX);
		remote__reserve(r, attempt && prev ? MIN(hint, prev + prev / 8) : hint);
		ret = freezer__freeze(&fz, r->pid);
		if (ret)
			break;
		if (copy_first) {
			/* the copy while stopped, the walk on it after: the pause is the copy */
			ret = remote__copy_writable(r);
			freezer__thaw(&fz);
			paused = now_ns() - fz.start_ns;
			freezer__release(&fz);
			if (ret == -ENOMEM) { /* the cache's own limit: in place after all */
				log_debug("snapshot: the copy did not fit in the cache; walking in place");
				out->copy_limit_is_cache = true;
				out->total_pause_ns += paused;
				copy_first = false;
				ret = remote__reset(r);
				if (!ret)
					ret = freezer__freeze(&fz, r->pid);
				if (ret)
					break;
			} else if (ret) {
				break;
			} else {
				out->copied_bytes = remote__cached_bytes(r);
				r->sealed = true;
				res = walk_once(&w);
			}
		}
		if (!copy_first) {
			res = walk_once(&w);
			if (res != WALK_RETRY && opts && opts->copy_memory)
				out->copy_incomplete = remote__copy_writable(r) == -ENOMEM;
			freezer__thaw(&fz);
			paused = now_ns() - fz.start_ns;
			freezer__release(&fz);
			if (res != WALK_RETRY && opts && opts->copy_memory)
				r->sealed = true;
		}
		out->walked_in_place = !copy_first;
		out->tries = attempt + 1;
		out->total_pause_ns += paused;
		out->pause_ns = MAX(out->pause_ns, paused);
		if (freezer_stop_requested) {
			ret = -ME_INTERRUPTED;
			break;
		}
		if (r->gone) {
			ret = -ME_EXITED;
			break;
		}
		if (res != WALK_RETRY)
			break;
		log_debug("snapshot: try %d: %s; retrying", attempt + 1, w.why);
	}
	walk_end(&w, res, ret);
	return ret;
}

void snapshot__say_in_place(pid_t pid, const struct snapshot *s)
{
	log_info("pid %d: %.0f MiB of writable memory, more than %s (%.0f MiB): walked in place, "
		 "the process paused %.0f ms (a copy would have paused it only while copying)",
		 (int)pid, s->writable_bytes / 1048576.0, s->copy_limit_is_cache ? "memalot's cache holds" : "--max-memory",
		 s->copy_limit / 1048576.0, s->pause_ns / 1e6);
}

void snapshot__release(struct snapshot *s)
{
	zfree(&s->objs);
	type_table__release(&s->types);
	zfree(&s->partial_reason);
	s->n = s->cap = 0;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct census_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->type < y->type ? -1 : x->type > y->type;
}

size_t snapshot__census(const struct snapshot *s, struct census_row **rows)
{
	struct census_row *v = xcalloc(s->types.n ? s->types.n : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < s->types.n; i++)
		v[i].type = (uint32_t)i;
	for (size_t i = 0; i < s->n; i++) {
		struct census_row *row = &v[s->objs[i].type];
		row->count++;
		row->per_list[s->objs[i].list]++;
	}
	/* compact to the types that have objects */
	for (size_t i = 0; i < s->types.n; i++)
		if (v[i].count)
			v[n++] = v[i];
	qsort(v, n, sizeof(*v), cmp_rows);
	*rows = v;
	return n;
}
