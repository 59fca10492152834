/* SPDX-License-Identifier: MIT */
/* Referents of one object: containers, instances, slots, some stdlib C types, or a word scan. */
#define _GNU_SOURCE
#include "refs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyobj.h"
#include "roots.h"
#include "types.h"

#define TPFLAGS_INLINE_VALUES (1ul << 2) /* 3.13+ */
#define TPFLAGS_MANAGED_DICT (1ul << 4)  /* 3.11+ */
#define TPFLAGS_HEAPTYPE (1ul << 9)

/* PyMemberDef.type of an object slot (structmember.h; Py_T_OBJECT_EX in 3.12+) */
#define MEMBER_T_OBJECT 6
#define MEMBER_T_OBJECT_EX 16

#define SEQ_CAP (1u << 26)       /* most items taken from a list, tuple, set or deque */
#define SCAN_CAP (64u << 10)     /* most bytes of one object scanned */
#define CHAIN_CAP 64             /* deepest tp_base chain followed */
#define MRO_CAP 256              /* longest __mro__ looked at for slots */
#define DONE_CAP 256             /* object offsets remembered (given edges) */
#define CHUNK 256                /* words read at once */

/*
 * collections.deque keeps its items in blocks of 64:
 * block {block *leftlink; PyObject *data[64]; block *rightlink} (3.8 - 3.14,
 * checked with ptype on each build); dequeobject starts
 * {PyVarObject; block *leftblock; block *rightblock; Py_ssize_t leftindex; ...}.
 */
#define DEQUE_BLOCKLEN 64
#define BLOCK_DATA 8
#define BLOCK_RIGHTLINK (8 + DEQUE_BLOCKLEN * 8)

/* What the type chain of an object says its C layout is. */
enum kind {
	K_NONE,
	K_OBJECT,      /* only Python classes above object */
	K_UNKNOWN,     /* a C type memalot does not decode: scanned */
	K_OPAQUE,      /* nothing to decode */
	K_FRAME,       /* frame objects: their locals */
	K_GEN,         /* generators, coroutines, async generators: their suspended frame */
	K_ATOM,        /* str, int, float, bytes, ...: no references */
	K_DICT,
	K_DEFAULTDICT,
	K_LIST,
	K_TUPLE,
	K_SET,
	K_CELL,
	K_FUNCTION,
	K_METHOD,
	K_MODULE,
	K_TYPE,
	K_WEAKREF,
	K_PROPERTY,
	K_CLASSMETHOD, /* and staticmethod */
	K_DEQUE,
	K_PARTIAL,
	K_LRU,
	K_LRU_ELEM,
};

static const struct {
	enum layout_type_sym sym;
	enum kind kind;
} builtin_kinds[] = {
	{ T_DICT, K_DICT }, { T_ODICT, K_DICT }, { T_LIST, K_LIST }, { T_TUPLE, K_TUPLE },
	{ T_SET, K_SET }, { T_FROZENSET, K_SET }, { T_CELL, K_CELL }, { T_FUNCTION, K_FUNCTION },
	{ T_METHOD, K_METHOD }, { T_MODULE, K_MODULE }, { T_TYPE, K_TYPE },
	{ T_WEAKREF, K_WEAKREF }, { T_WEAKPROXY, K_WEAKREF }, { T_WEAKCALLPROXY, K_WEAKREF },
	{ T_PROPERTY, K_PROPERTY }, { T_CLASSMETHOD, K_CLASSMETHOD },
	{ T_STATICMETHOD, K_CLASSMETHOD }, { T_OBJECT, K_OBJECT },
	{ T_FRAME, K_FRAME }, { T_GEN, K_GEN }, { T_CORO, K_GEN }, { T_ASYNCGEN, K_GEN },
	{ T_STR, K_ATOM }, { T_INT, K_ATOM }, { T_FLOAT, K_ATOM }, { T_BOOL, K_ATOM },
	{ T_BYTES, K_ATOM }, { T_BYTEARRAY, K_ATOM }, { T_NONE, K_ATOM }, { T_COMPLEX, K_ATOM },
};

/*
 * stdlib C types without an exported symbol, known by tp_name. A Python
 * class could take such a name, so the type must also be at least as large
 * as the fields read (min_size; 0: the dict's size plus one word).
 */
static const struct {
	const char *name;
	enum kind kind;
	int64_t min_size;
} named_kinds[] = {
	{ "collections.deque", K_DEQUE, 56 },
	{ "collections.defaultdict", K_DEFAULTDICT, 0 },
	{ "functools.partial", K_PARTIAL, 40 },
	{ "functools._lru_cache_wrapper", K_LRU, 96 },
	{ "functools._lru_list_elem", K_LRU_ELEM, 56 },
};

/* functools.partial: {PyObject_HEAD; fn; args; kw; dict; ...} (3.8 - 3.14) */
static const char *const partial_fields[] = { "func", "args", "keywords" };
/* property: {PyObject_HEAD; prop_get; prop_set; prop_del; prop_doc; ...} */
static const char *const property_fields[] = { "fget", "fset", "fdel", "__doc__" };
/* lru_cache_object: cache at 72, func at 88 (3.8 - 3.14, checked with ptype) */
#define LRU_CACHE 72
#define LRU_FUNC 88
/* lru_list_elem: {PyObject_HEAD; prev; next; hash; key; result} */
#define LRU_ELEM_KEY 40
#define LRU_ELEM_RESULT 48

/* The type facts the decoders use. */
struct tinfo {
	uint64_t flags;
	int64_t basicsize, itemsize, dictoffset;
	raddr_t base, name;
};

struct walk {
	const struct refs_ctx *ctx;
	struct remote *r;
	const struct layout *l;
	raddr_t obj, type;
	refs_fn fn;
	void *arg;
	int err;             /* the first read that failed, kept while going on */
	struct tinfo ti;     /* obj's type */
	enum kind kind;
	raddr_t kbase;       /* the type in the chain that gave kind */
	int64_t done[DONE_CAP]; /* offsets in obj already given as edges */
	int ndone;
	bool derived;        /* edges now given restate what another object holds */
};

static raddr_t at(const struct layout *l, raddr_t base, enum field_id f)
{
	return base + (raddr_t)l->v[f];
}

/* Remember the first failure; the other parts of the object are still tried. */
static int fail(struct walk *w, int ret)
{
	if (ret < 0 && !w->err)
		w->err = ret;
	return ret > 0 ? ret : 0;
}

static bool done_has(const struct walk *w, int64_t off)
{
	for (int i = 0; i < w->ndone; i++)
		if (w->done[i] == off)
			return true;
	return false;
}

static void done_add(struct walk *w, int64_t off)
{
	if (off >= 0 && w->ndone < DONE_CAP && !done_has(w, off))
		w->done[w->ndone++] = off;
}

/* Give one edge; NULL and misaligned pointers are no objects. */
static int emit(struct walk *w, raddr_t to, enum edge_kind kind, int64_t index, raddr_t key,
		const char *name)
{
	struct edge e;

	if (!to || (to & 7))
		return 0;
	e.to = to;
	e.kind = kind;
	e.index = index;
	e.key = key;
	e.derived = w->derived;
	e.name[0] = 0;
	if (name) {
		size_t n = strnlen(name, sizeof(e.name) - 1);
		memcpy(e.name, name, n);
		e.name[n] = 0;
	}
	return w->fn(&e, w->arg);
}

/* Give the pointer at obj + off, if that field is there. */
static int emit_field(struct walk *w, int64_t off, enum edge_kind kind, const char *name)
{
	uint64_t p;
	int ret;

	if (off < 0)
		return 0;
	if ((ret = remote__u64(w->r, w->obj + (raddr_t)off, &p)))
		return fail(w, ret);
	done_add(w, off);
	return emit(w, p, kind, -1, 0, name);
}

static int emit_lfield(struct walk *w, enum field_id f, enum edge_kind kind, const char *name)
{
	return layout__has(w->l, f) ? emit_field(w, w->l->v[f], kind, name) : 0;
}

/* One word of a type object: from the block the caller peeked at, else read. */
static int type_word(struct walk *w, const unsigned char *p, raddr_t t, enum field_id f, uint64_t *out)
{
	if (p) {
		memcpy(out, p + w->l->v[f], 8);
		return 0;
	}
	return remote__u64(w->r, at(w->l, t, f), out);
}

static int tinfo_read(struct walk *w, raddr_t t, struct tinfo *ti)
{
	static const enum field_id fields[] = { F_TP_FLAGS, F_TP_BASICSIZE, F_TP_ITEMSIZE, F_TP_BASE,
						F_TP_NAME };
	const struct layout *l = w->l;
	const unsigned char *p;
	uint64_t v[ARRAY_SIZE(fields)], off = 0;
	int ret;

	memset(ti, 0, sizeof(*ti));
	if (!t || (t & 7))
		return -EINVAL;
	/* the fields lie within a few hundred bytes: one look into the cache for all */
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		off = MAX(off, (uint64_t)l->v[fields[i]]);
	if (layout__has(l, F_TP_DICTOFFSET))
		off = MAX(off, (uint64_t)l->v[F_TP_DICTOFFSET]);
	p = remote__peek(w->r, t, off + 8);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if ((ret = type_word(w, p, t, fields[i], &v[i])))
			return ret;
	ti->flags = v[0];
	ti->basicsize = (int64_t)v[1];
	ti->itemsize = (int64_t)v[2];
	ti->base = v[3];
	ti->name = v[4];
	if (layout__has(l, F_TP_DICTOFFSET)) {
		if ((ret = type_word(w, p, t, F_TP_DICTOFFSET, &v[0])))
			return ret;
		ti->dictoffset = (int64_t)v[0];
	}
	if (ti->basicsize < 0 || ti->basicsize > (1 << 30) || ti->itemsize < 0 || ti->itemsize > (1 << 20))
		return -EINVAL;
	return 0;
}

/*
 * Was heap type t made by a class statement (not by PyType_FromSpec in C)?
 * type_new points tp_name at the UTF-8 of ht_name; a C heap type's tp_name
 * is a copy of its spec's dotted name, ht_name only the part after the dot.
 */
static bool python_class(struct walk *w, raddr_t t, const struct tinfo *ti)
{
	const struct layout *l = w->l;
	char a[128], b[128];
	uint64_t ht_name;

	if (!(ti->flags & TPFLAGS_HEAPTYPE))
		return false;
	if (!layout__has(l, F_HT_NAME) || remote__u64(w->r, at(l, t, F_HT_NAME), &ht_name) || !ht_name)
		return false;
	if (ti->name == ht_name + (raddr_t)l->v[F_STR_ASCII_SIZE])
		return true;
	/* a non-ASCII name has its UTF-8 elsewhere: compare the text */
	return pyobj__str(w->r, l, ht_name, a, sizeof(a)) >= 0 &&
	       remote__str(w->r, ti->name, b, sizeof(b)) >= 0 && !strcmp(a, b);
}

static enum kind named_kind(struct walk *w, const struct tinfo *ti)
{
	char name[64];
	int64_t dict_size = 0;

	if (!ti->name || remote__str(w->r, ti->name, name, sizeof(name)) < 0)
		return K_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(named_kinds); i++) {
		int64_t min = named_kinds[i].min_size;

		if (strcmp(name, named_kinds[i].name))
			continue;
		if (!min) {
			if (!w->l->types[T_DICT] ||
			    remote__u64(w->r, at(w->l, w->l->types[T_DICT], F_TP_BASICSIZE),
					(uint64_t *)&dict_size) || dict_size <= 0)
				return K_NONE;
			min = dict_size + 8;
		}
		return ti->basicsize >= min ? named_kinds[i].kind : K_NONE;
	}
	return K_NONE;
}

static enum kind builtin_kind(const struct layout *l, raddr_t t)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtin_kinds); i++)
		if (l->types[builtin_kinds[i].sym] == t)
			return builtin_kinds[i].kind;
	return K_NONE;
}

/*
 * Walk tp_base from obj's type past the Python classes to the first type
 * whose C layout is known (a builtin by address, a stdlib type by name) or
 * unknown (any other C type).
 */
static int classify(struct walk *w)
{
	raddr_t t = w->type;

	for (int depth = 0; t && depth < CHAIN_CAP; depth++) {
		enum kind k = builtin_kind(w->l, t);
		struct tinfo ti;
		int ret;

		if (k != K_NONE) {
			w->kind = k;
			w->kbase = t;
			return 0;
		}
		if (depth == 0)
			ti = w->ti;
		else if ((ret = tinfo_read(w, t, &ti)))
			return ret;
		if (!python_class(w, t, &ti)) {
			k = named_kind(w, &ti);
			w->kind = k != K_NONE ? k : K_UNKNOWN;
			w->kbase = t;
			return 0;
		}
		t = ti.base;
	}
	w->kind = K_UNKNOWN;
	w->kbase = 0;
	return 0;
}

/* ob_size of a variable-size object, capped (negative sizes count as their magnitude). */
static int var_size(struct walk *w, uint64_t cap, uint64_t *n)
{
	uint64_t v;
	int ret;

	if (!layout__has(w->l, F_VAR_OB_SIZE))
		return -ENOTSUP;
	if ((ret = remote__u64(w->r, at(w->l, w->obj, F_VAR_OB_SIZE), &v)))
		return ret;
	if ((int64_t)v < 0)
		v = (uint64_t)0 - v;
	*n = MIN(v, cap);
	return 0;
}

/* An array of n object pointers at addr, as edges of one kind with their index. */
static int emit_array(struct walk *w, raddr_t addr, uint64_t n, enum edge_kind kind)
{
	uint64_t buf[CHUNK];
	int ret;

	for (uint64_t i = 0; i < n; i += CHUNK) {
		size_t k = (size_t)MIN((uint64_t)CHUNK, n - i);

		if ((ret = remote__read(w->r, addr + i * 8, buf, k * 8)))
			return fail(w, ret);
		for (size_t j = 0; j < k; j++)
			if ((ret = emit(w, buf[j], kind, (int64_t)(i + j), 0, NULL)))
				return ret;
	}
	return 0;
}

/* ------------------------------------------------------------ dicts */

struct dict_arg {
	struct walk *w;
	enum edge_kind kind; /* EDGE_DICT_VALUE or EDGE_ATTR */
};

static int dict_cb(raddr_t key, raddr_t value, void *p)
{
	struct dict_arg *a = p;
	struct walk *w = a->w;
	char name[64] = "";
	int ret;

	if (a->kind == EDGE_DICT_VALUE) {
		if ((ret = emit(w, key, EDGE_DICT_KEY, -1, key, NULL)))
			return ret;
		return emit(w, value, EDGE_DICT_VALUE, -1, key, NULL);
	}
	pyobj__str(w->r, w->l, key, name, sizeof(name));
	return emit(w, value, EDGE_ATTR, -1, key, name);
}

static int dict_items(struct walk *w, raddr_t dict, enum edge_kind kind)
{
	struct dict_arg a = { w, kind };

	return fail(w, pyobj__dict_each(w->r, w->l, dict, dict_cb, &a));
}

/* An instance's materialised __dict__: the dict, then its entries as the instance's attributes. */
static int instance_dict(struct walk *w, raddr_t dict, int64_t off)
{
	int ret;

	done_add(w, off);
	if (!dict)
		return 0;
	if ((ret = emit(w, dict, EDGE_INSTANCE_DICT, -1, 0, "__dict__")))
		return ret;
	/* the dict holds these references: shown as attributes, not counted twice */
	w->derived = true;
	ret = dict_items(w, dict, EDGE_ATTR);
	w->derived = false;
	return ret;
}

/* Managed or inline values against the type's shared keys (attribute names). */
static int values_attrs(struct walk *w, raddr_t values, uint64_t cap)
{
	struct dict_arg a = { w, EDGE_ATTR };
	uint64_t keys;
	int ret;

	if (!layout__has(w->l, F_HT_CACHED_KEYS))
		return 0;
	if ((ret = remote__u64(w->r, at(w->l, w->type, F_HT_CACHED_KEYS), &keys)))
		return fail(w, ret);
	if (!keys)
		return 0;
	return fail(w, pyobj__keys_values_each(w->r, w->l, keys, pyobj__values_array(w->l, values), cap,
					       dict_cb, &a));
}

/*
 * Py_TPFLAGS_MANAGED_DICT keeps the dict in the pre-header, before the
 * PyGC_Head, in three ways (CPython's pycore_object.h):
 *   3.11   obj[-3] the dict, obj[-4] the values (one of them set);
 *   3.12   obj[-3] the dict, or the values - 1 (low bit set);
 *   3.13+  obj[-3] the dict; with Py_TPFLAGS_INLINE_VALUES the values follow
 *          the object at tp_basicsize, used while their valid byte is set.
 * The 3.13 form goes with PyDictValues' new header (the layout's
 * dictvalues.values off zero); 3.11 and 3.12 differ in no field, so the
 * version decides between them.
 */
#define MANAGED_DICT_OFF (-3 * 8)
#define MANAGED_VALUES_OFF_311 (-4 * 8)

static int managed_dict(struct walk *w)
{
	const struct layout *l = w->l;
	bool inline_form = layout__has(l, F_DICTVALUES_VALUES) && l->v[F_DICTVALUES_VALUES] >= 4;
	uint64_t dict, values = 0, cap = PYOBJ_DICT_CAP;
	int ret;

	if (!inline_form && (l->major != 3 || l->minor < 11))
		return 0;
	if ((ret = remote__u64(w->r, w->obj + (raddr_t)MANAGED_DICT_OFF, &dict)))
		return fail(w, ret);
	if (inline_form) {
		if (!dict && (w->ti.flags & TPFLAGS_INLINE_VALUES)) {
			uint8_t hdr[4];
			raddr_t v = w->obj + (raddr_t)w->ti.basicsize;

			/* PyDictValues {capacity, size, embedded, valid, values[]} */
			if ((ret = remote__read(w->r, v, hdr, sizeof(hdr))))
				return fail(w, ret);
			if (hdr[3]) {
				values = v;
				cap = hdr[0];
			}
		}
	} else if (l->minor == 11) {
		if (!dict && (ret = remote__u64(w->r, w->obj + (raddr_t)MANAGED_VALUES_OFF_311, &values)))
			return fail(w, ret);
	} else if (dict & 1) {
		values = dict + 1;
		dict = 0;
	}
	if (dict)
		return instance_dict(w, dict, -1);
	return values ? values_attrs(w, values, cap) : 0;
}

/* The instance dict at tp_dictoffset (negative: from the end, as _PyObject_GetDictPtr). */
static int offset_dict(struct walk *w)
{
	const struct tinfo *ti = &w->ti;
	int64_t off = ti->dictoffset;
	uint64_t dict;
	int ret;

	if (off < 0) {
		uint64_t n = 0;

		if (ti->itemsize && (ret = var_size(w, 1u << 30, &n)))
			return fail(w, ret);
		off += (ti->basicsize + (int64_t)n * ti->itemsize + 7) & ~(int64_t)7;
	}
	if (off < (int64_t)w->l->v[F_OB_SIZE] || off > (1 << 30))
		return 0;
	/* the C struct's own dict field, given by its decoder */
	if ((w->kind == K_FUNCTION && layout__has(w->l, F_FUNC_DICT) && off == w->l->v[F_FUNC_DICT]) ||
	    (w->kind == K_MODULE && layout__has(w->l, F_MODULE_DICT) && off == w->l->v[F_MODULE_DICT]))
		return 0;
	if ((ret = remote__u64(w->r, w->obj + (raddr_t)off, &dict)))
		return fail(w, ret);
	return instance_dict(w, dict, off);
}

/* ------------------------------------------------------------ slots */

struct slot_arg {
	struct walk *w;
};

static int slot_cb(raddr_t key, raddr_t value, void *p)
{
	struct slot_arg *a = p;
	struct walk *w = a->w;
	const struct layout *l = w->l;
	uint64_t vtype, member, off, ptr;
	int32_t mtype;
	char name[64] = "";

	if (pyobj__type(w->r, l, value, &vtype) || vtype != l->types[T_MEMBERDESCR] ||
	    remote__u64(w->r, at(l, value, F_MEMBERDESCR_MEMBER), &member) || !member ||
	    remote__read(w->r, at(l, member, F_MEMBERDEF_TYPE), &mtype, sizeof(mtype)) ||
	    (mtype != MEMBER_T_OBJECT && mtype != MEMBER_T_OBJECT_EX) ||
	    remote__u64(w->r, at(l, member, F_MEMBERDEF_OFFSET), &off))
		return 0;
	if ((int64_t)off < l->v[F_OB_SIZE] || (int64_t)off + 8 > w->ti.basicsize || (off & 7) ||
	    done_has(w, (int64_t)off))
		return 0;
	if (remote__u64(w->r, w->obj + off, &ptr))
		return 0;
	done_add(w, (int64_t)off);
	pyobj__str(w->r, l, key, name, sizeof(name));
	return emit(w, ptr, EDGE_SLOT, -1, key, name);
}

/*
 * Could Python class c have added slots? PyHeapTypeObject keeps the
 * __slots__ names in ht_slots, between ht_name and ht_qualname (3.8 - 3.14):
 * NULL or empty means none. Where that does not hold, any class that grew
 * its instances (tp_basicsize above its base's) may have.
 */
static bool declares_slots(struct walk *w, raddr_t c, const struct tinfo *ti)
{
	const struct layout *l = w->l;
	struct tinfo bi;
	uint64_t names, n;

	if (layout__has(l, F_HT_NAME) && layout__has(l, F_HT_QUALNAME) &&
	    l->v[F_HT_QUALNAME] - l->v[F_HT_NAME] == 16) {
		if (remote__u64(w->r, at(l, c, F_HT_NAME) + 8, &names) || !names)
			return false;
		return !remote__u64(w->r, at(l, names, F_VAR_OB_SIZE), &n) && n > 0;
	}
	return !ti->base || tinfo_read(w, ti->base, &bi) || bi.basicsize < ti->basicsize;
}

/* __slots__ are member descriptors in the class dicts along __mro__. */
static int slots(struct walk *w)
{
	const struct layout *l = w->l;
	struct slot_arg a = { w };
	uint64_t mro, n;
	int ret;

	if (!l->types[T_MEMBERDESCR] || !layout__has(l, F_TP_MRO) || !layout__has(l, F_MEMBERDESCR_MEMBER) ||
	    !layout__has(l, F_MEMBERDEF_TYPE) || !layout__has(l, F_MEMBERDEF_OFFSET))
		return 0;
	if ((ret = remote__u64(w->r, at(l, w->type, F_TP_MRO), &mro)))
		return fail(w, ret);
	if (!mro || remote__u64(w->r, at(l, mro, F_VAR_OB_SIZE), &n))
		return 0;
	n = MIN(n, (uint64_t)MRO_CAP);
	for (uint64_t i = 0; i < n; i++) {
		struct tinfo ti;
		uint64_t c, dict;

		if (remote__u64(w->r, at(l, mro, F_TUPLE_ITEMS) + i * 8, &c) || tinfo_read(w, c, &ti) ||
		    !python_class(w, c, &ti) || !declares_slots(w, c, &ti))
			continue;
		if (remote__u64(w->r, at(l, c, F_TP_DICT), &dict) || !dict)
			continue;
		if ((ret = pyobj__dict_each(w->r, l, dict, slot_cb, &a)) > 0)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------ containers */

static int list_items(struct walk *w)
{
	uint64_t n, items;
	int ret;

	if ((ret = var_size(w, SEQ_CAP, &n)) ||
	    (ret = remote__u64(w->r, at(w->l, w->obj, F_LIST_ITEMS), &items)))
		return fail(w, ret);
	return items ? emit_array(w, items, n, EDGE_LIST_INDEX) : 0;
}

static int tuple_items(struct walk *w)
{
	uint64_t n;
	int ret;

	if ((ret = var_size(w, SEQ_CAP, &n)))
		return fail(w, ret);
	return emit_array(w, at(w->l, w->obj, F_TUPLE_ITEMS), n, EDGE_TUPLE_INDEX);
}

static int set_items(struct walk *w)
{
	const struct layout *l = w->l;
	uint64_t mask, table, esize = (uint64_t)l->v[F_SETENTRY_SIZE], buf[CHUNK * 2];
	int ret;

	if (!layout__has(l, F_SET_MASK) || !layout__has(l, F_SET_TABLE) || esize != 16)
		return 0;
	if ((ret = remote__u64(w->r, at(l, w->obj, F_SET_MASK), &mask)) ||
	    (ret = remote__u64(w->r, at(l, w->obj, F_SET_TABLE), &table)))
		return fail(w, ret);
	if (!table || mask >= SEQ_CAP || ((mask + 1) & mask))
		return fail(w, -EINVAL);
	for (uint64_t i = 0; i <= mask; i += CHUNK) {
		size_t k = (size_t)MIN((uint64_t)CHUNK, mask + 1 - i);

		if ((ret = remote__read(w->r, table + i * esize, buf, k * esize)))
			return fail(w, ret);
		/* setentry {key, hash}: a removed key is the dummy, with hash -1 */
		for (size_t j = 0; j < k; j++)
			if (buf[2 * j + 1] != (uint64_t)-1 &&
			    (ret = emit(w, buf[2 * j], EDGE_SET_MEMBER, -1, 0, NULL)))
				return ret;
	}
	return 0;
}

static int deque_items(struct walk *w)
{
	raddr_t hdr = at(w->l, w->obj, F_VAR_OB_SIZE) + 8; /* after PyVarObject */
	uint64_t n, block, left, data[DEQUE_BLOCKLEN];
	int ret;

	if ((ret = var_size(w, SEQ_CAP, &n)) || (ret = remote__u64(w->r, hdr, &block)) ||
	    (ret = remote__u64(w->r, hdr + 16, &left)))
		return fail(w, ret);
	if (left >= DEQUE_BLOCKLEN)
		return fail(w, -EINVAL);
	for (uint64_t i = 0; i < n && block;) {
		uint64_t k = MIN((uint64_t)DEQUE_BLOCKLEN - left, n - i);

		if ((ret = remote__read(w->r, block + BLOCK_DATA + left * 8, data, k * 8)))
			return fail(w, ret);
		for (uint64_t j = 0; j < k; j++)
			if ((ret = emit(w, data[j], EDGE_DEQUE_INDEX, (int64_t)(i + j), 0, NULL)))
				return ret;
		i += k;
		left = 0;
		if (i < n) {
			uint64_t next, back;

			/* each block links back to the one before: garbage stops here */
			if ((ret = remote__u64(w->r, block + BLOCK_RIGHTLINK, &next)) ||
			    (next && (ret = remote__u64(w->r, next, &back))))
				return fail(w, ret);
			if (next && back != block)
				return fail(w, -EINVAL);
			block = next;
		}
	}
	return 0;
}

static int function_fields(struct walk *w)
{
	static const struct {
		enum field_id f;
		const char *name;
	} fields[] = {
		{ F_FUNC_CODE, "__code__" }, { F_FUNC_GLOBALS, "__globals__" },
		{ F_FUNC_DEFAULTS, "__defaults__" }, { F_FUNC_KWDEFAULTS, "__kwdefaults__" },
		{ F_FUNC_CLOSURE, "__closure__" }, { F_FUNC_DICT, "__dict__" },
		{ F_FUNC_MODULE, "__module__" }, { F_FUNC_NAME, "__name__" },
		{ F_FUNC_QUALNAME, "__qualname__" },
	};
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if ((ret = emit_lfield(w, fields[i].f, EDGE_FUNC, fields[i].name)))
			return ret;
	return 0;
}

static int type_fields(struct walk *w)
{
	int ret;

	if ((ret = emit_lfield(w, F_TP_DICT, EDGE_TYPE, "__dict__")) ||
	    (ret = emit_lfield(w, F_TP_MRO, EDGE_TYPE, "__mro__")) ||
	    (ret = emit_lfield(w, F_TP_BASES, EDGE_TYPE, "__bases__")) ||
	    (ret = emit_lfield(w, F_TP_BASE, EDGE_TYPE, "__base__")))
		return ret;
	if (!(w->ti.flags & TPFLAGS_HEAPTYPE))
		return 0;
	/* only a heap type is a PyHeapTypeObject */
	if ((ret = emit_lfield(w, F_HT_NAME, EDGE_TYPE, "__name__")) ||
	    (ret = emit_lfield(w, F_HT_QUALNAME, EDGE_TYPE, "__qualname__")))
		return ret;
	return emit_lfield(w, F_HT_MODULE, EDGE_TYPE, "ht_module");
}

static int weakref_fields(struct walk *w)
{
	const struct layout *l = w->l;
	/* PyWeakReference: wr_object, then wr_callback, right after the PyObject header */
	int64_t off = l->v[F_OB_SIZE];
	uint64_t target, ttype;
	int ret;

	if ((ret = remote__u64(w->r, w->obj + (raddr_t)off, &target)))
		return fail(w, ret);
	done_add(w, off);
	/* a dead reference points at None */
	if (target && !pyobj__type(w->r, l, target, &ttype) && ttype != l->types[T_NONE] &&
	    (ret = emit(w, target, EDGE_WEAK, -1, 0, NULL)))
		return ret;
	return emit_field(w, off + 8, EDGE_OTHER, "__callback__");
}

/* Fixed fields right after the PyObject header, one name each. */
static int header_fields(struct walk *w, const char *const *names, size_t n)
{
	int ret;

	for (size_t i = 0; i < n; i++)
		if ((ret = emit_field(w, w->l->v[F_OB_SIZE] + (int64_t)i * 8, EDGE_OTHER, names[i])))
			return ret;
	return 0;
}

static int defaultdict_fields(struct walk *w)
{
	uint64_t dict_size;
	int ret;

	if ((ret = dict_items(w, w->obj, EDGE_DICT_VALUE)))
		return ret;
	/* defdictobject {PyDictObject dict; PyObject *default_factory} */
	if ((ret = remote__u64(w->r, at(w->l, w->l->types[T_DICT], F_TP_BASICSIZE), &dict_size)))
		return fail(w, ret);
	return emit_field(w, (int64_t)dict_size, EDGE_OTHER, "default_factory");
}

static int frame_local_cb(raddr_t value, raddr_t name, void *arg)
{
	struct walk *w = arg;
	char var[64] = "";

	if (!value)
		return 0;
	pyobj__str(w->r, w->l, name, var, sizeof(var));
	return emit(w, value, EDGE_FRAME_LOCAL, -1, 0, var);
}

/* The locals of a frame object's or a suspended generator's frame. */
static int frame_locals(struct walk *w, bool generator)
{
	raddr_t code, locals;

	if (roots__object_frame(w->r, w->l, w->obj, generator, &code, &locals))
		return 0;
	return roots__frame_locals(w->r, w->l, code, locals, frame_local_cb, w);
}

static int kind_fields(struct walk *w)
{
	static const char *const cm_fields[] = { "__func__" };
	int ret;

	switch (w->kind) {
	case K_DICT:
		return dict_items(w, w->obj, EDGE_DICT_VALUE);
	case K_DEFAULTDICT:
		return defaultdict_fields(w);
	case K_LIST:
		return list_items(w);
	case K_TUPLE:
		return tuple_items(w);
	case K_SET:
		return set_items(w);
	case K_DEQUE:
		return deque_items(w);
	case K_CELL:
		return emit_lfield(w, F_CELL_REF, EDGE_CELL, NULL);
	case K_FUNCTION:
		return function_fields(w);
	case K_METHOD:
		if ((ret = emit_lfield(w, F_METHOD_FUNC, EDGE_METHOD, "__func__")))
			return ret;
		return emit_lfield(w, F_METHOD_SELF, EDGE_METHOD, "__self__");
	case K_MODULE:
		if ((ret = emit_lfield(w, F_MODULE_DICT, EDGE_MODULE_DICT, "__dict__")))
			return ret;
		return emit_lfield(w, F_MODULE_NAME, EDGE_OTHER, "__name__");
	case K_TYPE:
		return type_fields(w);
	case K_WEAKREF:
		return weakref_fields(w);
	case K_PROPERTY:
		return header_fields(w, property_fields, ARRAY_SIZE(property_fields));
	case K_CLASSMETHOD:
		return header_fields(w, cm_fields, ARRAY_SIZE(cm_fields));
	case K_PARTIAL:
		return header_fields(w, partial_fields, ARRAY_SIZE(partial_fields));
	case K_LRU:
		if ((ret = emit_field(w, LRU_CACHE, EDGE_OTHER, "cache")))
			return ret;
		return emit_field(w, LRU_FUNC, EDGE_OTHER, "__wrapped__");
	case K_LRU_ELEM:
		if ((ret = emit_field(w, LRU_ELEM_KEY, EDGE_OTHER, "key")))
			return ret;
		return emit_field(w, LRU_ELEM_RESULT, EDGE_OTHER, "result");
	case K_GEN:
		if (layout__has(w->l, F_GEN_FRAME)) /* up to 3.10: a frame object of its own */
			return emit_lfield(w, F_GEN_FRAME, EDGE_OTHER, "gi_frame");
		/* 3.11+ keeps the frame inside the generator */
		__attribute__((fallthrough));
	case K_FRAME:
		return frame_locals(w, w->kind == K_GEN);
	case K_NONE:
	case K_OBJECT:
	case K_UNKNOWN:
	case K_OPAQUE:
	case K_ATOM:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------ scan */

static bool is_weakref(struct walk *w, raddr_t p)
{
	const struct layout *l = w->l;
	uint64_t t;

	if (pyobj__type(w->r, l, p, &t))
		return false;
	return t && (t == l->types[T_WEAKREF] || t == l->types[T_WEAKPROXY] ||
		     t == l->types[T_WEAKCALLPROXY]);
}

/*
 * Every aligned word of the object after its PyObject header that points at
 * an object the caller knows. The weak reference list (tp_weaklistoffset)
 * holds no strong reference: words pointing at weak references are skipped.
 */
static int scan(struct walk *w)
{
	uint64_t n = 0, buf[CHUNK];
	int64_t start = w->l->v[F_OB_SIZE], end = w->ti.basicsize;
	int ret;

	if (!w->ctx->is_known)
		return 0;
	if (w->ti.itemsize && (ret = var_size(w, SCAN_CAP, &n)))
		return fail(w, ret);
	end = MIN(end + (int64_t)n * w->ti.itemsize, (int64_t)SCAN_CAP);
	for (int64_t off = start; off + 8 <= end; off += CHUNK * 8) {
		size_t k = (size_t)MIN((int64_t)CHUNK, (end - off) / 8);

		if ((ret = remote__read(w->r, w->obj + (raddr_t)off, buf, k * 8)))
			return fail(w, ret);
		for (size_t j = 0; j < k; j++) {
			int64_t o = off + (int64_t)j * 8;

			if (!buf[j] || (buf[j] & 7) || done_has(w, o) ||
			    !w->ctx->is_known(buf[j], w->ctx->known_arg) || is_weakref(w, buf[j]))
				continue;
			if ((ret = emit(w, buf[j], EDGE_SCANNED, o, 0, NULL)))
				return ret;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ entry */

int refs__each(const struct refs_ctx *ctx, raddr_t obj, raddr_t type, refs_fn fn, void *arg)
{
	struct walk w;
	int ret;

	if (!obj || (obj & 7) || !type)
		return -EINVAL;
	/* done[] is not cleared: ndone says how much of it is in use */
	w.ctx = ctx;
	w.r = ctx->r;
	w.l = ctx->l;
	w.obj = obj;
	w.type = type;
	w.fn = fn;
	w.arg = arg;
	w.err = 0;
	w.derived = false;
	w.kind = K_NONE;
	w.kbase = 0;
	w.ndone = 0;
	if ((ret = tinfo_read(&w, type, &w.ti)) || (ret = classify(&w)))
		return ret;
	if ((ret = kind_fields(&w)))
		return ret;
	/* a heap type is kept alive by its instances */
	if ((w.ti.flags & TPFLAGS_HEAPTYPE) && (ret = emit(&w, type, EDGE_TYPE_OF, -1, 0, NULL)))
		return ret;
	/* a type's tp_dictoffset is its tp_dict, given above */
	if (w.kind != K_TYPE) {
		if (w.ti.flags & TPFLAGS_MANAGED_DICT)
			ret = managed_dict(&w);
		else if (w.ti.dictoffset)
			ret = offset_dict(&w);
		if (ret)
			return ret;
		if ((w.ti.flags & TPFLAGS_HEAPTYPE) && (ret = slots(&w)))
			return ret;
	}
	if (w.kind == K_UNKNOWN && (ret = scan(&w)))
		return ret;
	return w.err;
}

/* ------------------------------------------------------------ labels */

static const char *short_name(const char *qualified)
{
	const char *dot;

	if (!qualified || !*qualified)
		return "object";
	dot = strrchr(qualified, '.');
	return dot && dot[1] ? dot + 1 : qualified;
}

/* "<User at 0x7f..>" for an object with no short repr. */
static void object_brief(const struct refs_ctx *ctx, raddr_t obj, char *buf, size_t size)
{
	raddr_t type = 0;
	char *name = NULL;

	if (!pyobj__type(ctx->r, ctx->l, obj, &type) && pyobj__is_type(ctx->r, ctx->l, type))
		name = type__qualified_name(ctx->r, ctx->l, type);
	snprintf(buf, size, "<%s at 0x%llx>", name ? short_name(name) : "object", (unsigned long long)obj);
	free(name);
}

void refs__label(const struct refs_ctx *ctx, const struct edge *e, const char *owner_type,
		 char *buf, size_t size)
{
	const char *owner = short_name(owner_type);
	char key[160];

	if (!size)
		return;
	switch (e->kind) {
	case EDGE_DICT_VALUE:
		if (!e->key) {
			snprintf(buf, size, "dict value");
			break;
		}
		if (pyobj__repr(ctx->r, ctx->l, e->key, key, sizeof(key)) < 0)
			object_brief(ctx, e->key, key, sizeof(key));
		snprintf(buf, size, "dict key=%s", key);
		break;
	case EDGE_DICT_KEY:
		snprintf(buf, size, "dict key");
		break;
	case EDGE_ATTR:
	case EDGE_SLOT:
		if (e->name[0])
			snprintf(key, sizeof(key), "%s", e->name);
		else if (!e->key || pyobj__repr(ctx->r, ctx->l, e->key, key, sizeof(key)) < 0)
			snprintf(key, sizeof(key), "?");
		snprintf(buf, size, "%s.%s (%s)", owner, key,
			 e->kind == EDGE_ATTR ? "instance attribute" : "slot");
		break;
	case EDGE_INSTANCE_DICT:
		snprintf(buf, size, "%s.__dict__", owner);
		break;
	case EDGE_LIST_INDEX:
		snprintf(buf, size, "list index=%lld", (long long)e->index);
		break;
	case EDGE_TUPLE_INDEX:
		snprintf(buf, size, "tuple index=%lld", (long long)e->index);
		break;
	case EDGE_SET_MEMBER:
		snprintf(buf, size, "set member");
		break;
	case EDGE_DEQUE_INDEX:
		snprintf(buf, size, "deque index=%lld", (long long)e->index);
		break;
	case EDGE_CELL:
		snprintf(buf, size, "cell contents");
		break;
	case EDGE_FUNC:
		snprintf(buf, size, "function %s", e->name);
		break;
	case EDGE_METHOD:
		snprintf(buf, size, "bound method %s", e->name);
		break;
	case EDGE_MODULE_DICT:
		snprintf(buf, size, "module __dict__");
		break;
	case EDGE_TYPE:
		snprintf(buf, size, "type %s", e->name);
		break;
	case EDGE_TYPE_OF:
		snprintf(buf, size, "%s.__class__", owner);
		break;
	case EDGE_WEAK:
		snprintf(buf, size, "weak reference");
		break;
	case EDGE_SCANNED:
		snprintf(buf, size, "(scanned)");
		break;
	case EDGE_FRAME_LOCAL:
		snprintf(buf, size, "%s local '%s'", owner, e->name[0] ? e->name : "?");
		break;
	case EDGE_OTHER:
		snprintf(buf, size, "%s.%s", owner, e->name[0] ? e->name : "?");
		break;
	default:
		snprintf(buf, size, "?");
		break;
	}
}
