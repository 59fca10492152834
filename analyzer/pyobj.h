/* SPDX-License-Identifier: MIT */
/* Decoding single CPython objects from a remote reader: str, dict, type checks. */
#ifndef MEMALOT_PYOBJ_H
#define MEMALOT_PYOBJ_H

#include <stdbool.h>
#include <stddef.h>

#include "../attach/remote.h"
#include "../symbols/layout.h"

/* Longest string decoded (in code points); longer ones are cut. */
#define PYOBJ_STR_CAP 4096
/* Most dict entries looked at. */
#define PYOBJ_DICT_CAP (1u << 20)

/* ob_type of obj. @return 0 or -errno */
int pyobj__type(struct remote *r, const struct layout *l, raddr_t obj, raddr_t *type);

/* Is t a type object (its metatype chain reaches PyType_Type)? */
bool pyobj__is_type(struct remote *r, const struct layout *l, raddr_t t);

/*
 * Decode the str object at obj as UTF-8 into buf (NUL-terminated, cut at
 * size-1 bytes on a character boundary).
 * @return the byte length, -EINVAL (not a str) or -errno
 */
int pyobj__str(struct remote *r, const struct layout *l, raddr_t obj, char *buf, size_t size);

/*
 * Call fn(key, value) for each entry of the dict at obj (combined tables;
 * split tables with their values array). Stops when fn returns nonzero.
 * @return fn's nonzero value, 0, -EINVAL (not a dict) or -errno
 */
typedef int (*pyobj_dict_fn)(raddr_t key, raddr_t value, void *arg);
int pyobj__dict_each(struct remote *r, const struct layout *l, raddr_t obj, pyobj_dict_fn fn,
		     void *arg);

/* Look up a str key in a dict. @return 0 with *value set, -ENOENT, or -errno */
int pyobj__dict_get_str(struct remote *r, const struct layout *l, raddr_t dict, const char *key,
			raddr_t *value);

#endif
