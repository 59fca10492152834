/* SPDX-License-Identifier: MIT */
/* The shallow size of one object, as the target's own sys.getsizeof(obj) would say. */
#ifndef MEMALOT_SIZES_H
#define MEMALOT_SIZES_H

#include <stdint.h>

#include "../attach/remote.h"
#include "../symbols/layout.h"

/* sizes__shallow returned an estimate, not the exact getsizeof. */
#define SIZES_ESTIMATE 1

/*
 * Facts about the types seen (flags, sizes, which __sizeof__ applies), so
 * that sizing an object costs a read or two of the object itself. A cache
 * belongs to one layout and is valid while its type objects are: reset it
 * before each new snapshot (type objects die and their addresses are reused).
 */
struct sizes_cache;

struct sizes_cache *sizes__cache_new(void);
void sizes__cache_reset(struct sizes_cache *c);
void sizes__cache_free(struct sizes_cache *c);

/*
 * sys.getsizeof(obj) of the object at obj whose type is type (0: read
 * ob_type): its __sizeof__ (list and tuple slots, dict with its keys table
 * when it owns it and its split values, set table, str of every kind with
 * its UTF-8 and wchar_t copies, bytes, bytearray buffer (3.15: its bytes
 * object), int digits, deque blocks, type objects with their cached keys,
 * everything else tp_basicsize + tp_itemsize * ob_size) plus the GC header
 * and pre-header getsizeof adds on this version. Frames, generators, code
 * objects and OrderedDicts have a __sizeof__ of their own not followed
 * here: they get the estimate. c may be NULL (every type fact is then read
 * again).
 * *out is always set: when the layout lacks a field or the object looks
 * wrong it gets the estimate tp_basicsize + tp_itemsize * |ob_size|, and 0
 * only when not even the type could be read.
 * @return 0 (exact), SIZES_ESTIMATE, or -errno (type unreadable; *out = 0)
 */
int sizes__shallow_cached(struct sizes_cache *c, struct remote *r, const struct layout *l, raddr_t obj,
			  raddr_t type, uint64_t *out);

/*
 * The size every object of type has, when its __sizeof__ is object's and
 * reads nothing of the object (no items): what sizes__shallow_cached gives
 * each of them, without a look at the objects (for sizing a whole graph).
 * @return 0, -EAGAIN when the size depends on the object, or -errno
 */
int sizes__fixed(struct sizes_cache *c, struct remote *r, const struct layout *l, raddr_t type, uint64_t *out);

/* sizes__shallow_cached without a cache. */
int sizes__shallow(struct remote *r, const struct layout *l, raddr_t obj, raddr_t type, uint64_t *out);

#endif
