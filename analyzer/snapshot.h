/* SPDX-License-Identifier: MIT */
/* A snapshot: every object on every garbage collector list, taken while the target is frozen. */
#ifndef MEMALOT_SNAPSHOT_H
#define MEMALOT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "../attach/remote.h"
#include "../symbols/layout.h"
#include "types.h"

struct snap_object {
	raddr_t addr;   /* the object (after its PyGC_Head) */
	uint32_t type;  /* index into snapshot.types */
	uint16_t list;  /* index into snapshot.lists */
	uint16_t pad;
};

struct snap_list {
	const char *name;  /* "gen0" ... "permanent" */
	int interp;        /* 0 for the main interpreter */
	raddr_t head;
	size_t count;
	bool complete;     /* walked back to its head */
};

#define SNAP_MAX_LISTS (LAYOUT_MAX_GC_LISTS * 16)

struct snapshot {
	struct snap_object *objs;
	size_t n, cap;
	struct snap_list lists[SNAP_MAX_LISTS];
	int nlists;
	int ninterps;
	struct type_table types;

	uint64_t pause_ns;   /* how long the target was stopped (longest try) */
	uint64_t total_pause_ns;
	uint64_t walk_ns;
	int tries;
	bool partial;
	char *partial_reason; /* owned */
	uint64_t bytes_read, syscalls;
	bool copy_incomplete; /* copy_memory hit the cache limit */
	/*
	 * How the walk went: on a copy of the target's writable memory taken
	 * while it was stopped, after it went on (copied: their bytes), or in
	 * place while it was stopped, when that copy would be more than
	 * copy_limit (writable: how much it would have been): max_copy, or the
	 * cache's own limit when that is lower (copy_limit_is_cache).
	 */
	bool walked_in_place, copy_limit_is_cache;
	uint64_t copied_bytes, writable_bytes, copy_limit;
	/*
	 * Collections of each generation so far (main interpreter), or all 0
	 * when the layout lacks them: survivors of a collection move on to an
	 * older generation, which is how lifetimes tell reused addresses apart.
	 */
	uint64_t collections[3];
	bool have_collections;
};

struct snapshot_opts {
	size_t max_objects; /* 0: default */
	int max_tries;      /* 0: default */
	/*
	 * Also copy all writable memory while frozen and seal the reader, so that
	 * decoding objects afterwards sees the same moment as the walk.
	 */
	bool copy_memory;
	/*
	 * Copy all writable memory while the target is stopped, let it go on,
	 * and walk the copy, when that memory is at most max_copy bytes; walk
	 * in place while it is stopped otherwise (0: always in place). The
	 * copy is then sealed whatever copy_memory says.
	 */
	uint64_t max_copy;
};

/*
 * Freeze pid, walk every GC list of every interpreter into out, name the
 * types, and thaw (see max_copy for the order). Retries (thawing in between) when a collection is running
 * or a list is inconsistent; after the last try the result is marked partial.
 * @return 0 (check out->partial), -ESRCH/-ME_EXITED (target gone), -EPERM,
 *         -ME_TRACED, -ME_INTERRUPTED or -errno
 */
int snapshot__take(struct remote *r, const struct layout *l, const struct snapshot_opts *opts,
		   struct snapshot *out);

/* Say (log_info) that s of pid was walked in place, as its memory is more than its copy_limit, and the pause. */
void snapshot__say_in_place(pid_t pid, const struct snapshot *s);

/*
 * One walk of every GC list of every interpreter into out, and the types
 * named: no freezing, no retry and no remote__reset (the caller decides what
 * r shows, e.g. a memory image or a process it froze itself). A list that
 * breaks the walk's rules marks out partial with the reason; opts->max_tries
 * is ignored. out is overwritten; release it with snapshot__release.
 * @return 0 (check out->partial) or -ME_EXITED (target gone)
 */
int snapshot__walk(struct remote *r, const struct layout *l, const struct snapshot_opts *opts,
		   struct snapshot *out);
void snapshot__release(struct snapshot *s);

/* Per-type census, most common first. */
struct census_row {
	uint32_t type;
	size_t count;
	size_t per_list[SNAP_MAX_LISTS];
};
/* @return number of rows in *rows (caller frees) */
size_t snapshot__census(const struct snapshot *s, struct census_row **rows);

#endif
