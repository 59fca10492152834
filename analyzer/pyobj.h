/* SPDX-License-Identifier: MIT */
/* Decoding single CPython objects from a remote reader: str, dict, type checks. */
#ifndef MEMALOT_PYOBJ_H
#define MEMALOT_PYOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * Call fn(key, value) for each entry of the shared keys object keys whose
 * value sits at values[i] (values: the first element, see
 * pyobj__values_array), for i below nvalues and the keys' entry count: a
 * split dict's values, or an instance's managed / inline values against its
 * type's cached keys. @return fn's nonzero value, 0, -EINVAL or -errno
 */
int pyobj__keys_values_each(struct remote *r, const struct layout *l, raddr_t keys, raddr_t values,
			    uint64_t nvalues, pyobj_dict_fn fn, void *arg);

/* The address of values[0] of the PyDictValues at values. */
raddr_t pyobj__values_array(const struct layout *l, raddr_t values);

/*
 * How many values the PyDictValues at values can hold: its capacity byte
 * (3.13+), else PYOBJ_DICT_CAP (the keys bound it). @return 0 or -errno
 */
int pyobj__values_capacity(struct remote *r, const struct layout *l, raddr_t values, uint64_t *cap);

/* Look up a str key in a dict. @return 0 with *value set, -ENOENT, or -errno */
int pyobj__dict_get_str(struct remote *r, const struct layout *l, raddr_t dict, const char *key,
			raddr_t *value);

/* The value of an int or bool. @return 0, -ERANGE (beyond 64 bits), -EINVAL (not an int) or -errno */
int pyobj__int(struct remote *r, const struct layout *l, raddr_t obj, int64_t *out);

/* The value of a float. @return 0, -EINVAL (not a float) or -errno */
int pyobj__float(struct remote *r, const struct layout *l, raddr_t obj, double *out);

/*
 * The first size bytes of a bytes object into buf; *len gets its whole length.
 * @return 0, -EINVAL (not bytes) or -errno
 */
int pyobj__bytes(struct remote *r, const struct layout *l, raddr_t obj, void *buf, size_t size,
		 size_t *len);

/* Longest str or bytes content a repr shows before "...". */
#define PYOBJ_REPR_MAX 256

/*
 * A short repr of an atom, as Python would print it: str ('user:42'), bytes
 * (b'..'), int (any size), float, bool and None; long ones end in "...".
 * @return its length, -EINVAL for any other type, or -errno
 */
int pyobj__repr(struct remote *r, const struct layout *l, raddr_t obj, char *buf, size_t size);

#endif
