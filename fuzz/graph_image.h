/* SPDX-License-Identifier: MIT */
/*
 * A synthetic CPython memory image laid out with a committed offset table
 * (3.8, 3.11, 3.12 or 3.13) and the fuzz input format that carries one:
 * shared by fuzz_graph and the seed corpus generator. Header-only (static
 * inline), like walk_image.h.
 *
 * The image has two segments. The static segment (runtime, interpreter, GC
 * state, a thread state, every builtin type, a few Python classes and stdlib
 * C types, a code object) is built here, the same way for every input of a
 * version; the input changes it only through patches. The heap segment is
 * the input itself: objects, the probe table and a frame.
 *
 * Fuzz input format (integers little-endian):
 *   byte 0      version: GI_VERSIONS[byte & 3]
 *   byte 1      number of patches (at most GI_MAX_PATCHES are applied)
 *   then        the patches, GI_PATCH_SIZE bytes each: a 16-bit word index
 *               into the static segment (taken modulo its length in words)
 *               and the 64-bit value written there
 *   then        the heap segment (the rest of the input), at GI_HEAP
 * The heap starts with the probe table (GI_PROBES words): addresses the
 * fuzz target decodes under every synthetic type, then a code object and a
 * byte offset for the line-table decoder. The thread state's current frame
 * is at GI_FRAME, inside the input.
 */
#ifndef MEMALOT_FUZZ_GRAPH_IMAGE_H
#define MEMALOT_FUZZ_GRAPH_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../attach/remote.h"
#include "../symbols/layout.h"
#include "../symbols/tables.h"

#define GI_NVERSIONS 4
static const char *const GI_VERSIONS[GI_NVERSIONS] = { "3.8.18", "3.11.7", "3.12.1", "3.13.0" };

#define GI_STATIC ((raddr_t)0x10000000)
/* 256 bytes before a 64 KiB cache block ends: objects straddle blocks */
#define GI_HEAP ((raddr_t)0x3000ff00)
#ifndef GI_SEG_CAP /* a test may want bigger heaps */
#define GI_SEG_CAP ((size_t)1 << 20)
#endif

/* static segment: fixed places, then everything else from GI_ST_ALLOC on */
#define GI_RUNTIME (GI_STATIC + 0x0000)
#define GI_INTERP (GI_STATIC + 0x1000)
#define GI_TSTATE (GI_STATIC + 0x3000)
#define GI_CFRAME (GI_STATIC + 0x3100)
#define GI_ST_ALLOC (GI_STATIC + 0x3200)

/* heap segment: the probe table, the frame, then objects */
#define GI_PROBES 8          /* words: 6 objects, a code object, a byte offset */
#define GI_PROBE_OBJECTS 6
#define GI_FRAME (GI_HEAP + 0x40)
#define GI_HEAP_OBJECTS (GI_HEAP + 0x240)

#define GI_HDR 2
#define GI_PATCH_SIZE 10
#define GI_MAX_PATCHES 64

#define GI_TYPE_SIZE 512       /* a static type: fields up to tp_mro and a little more */
#define GI_HEAPTYPE_SIZE 1024  /* a PyHeapTypeObject: up to ht_module */
#define GI_MAX_LISTS LAYOUT_MAX_GC_LISTS

#define GI_TPFLAGS_INLINE_VALUES (1ull << 2)
#define GI_TPFLAGS_MANAGED_DICT (1ull << 4)
#define GI_TPFLAGS_HEAPTYPE (1ull << 9)
#define GI_TPFLAGS_BASETYPE (1ull << 10)
#define GI_TPFLAGS_READY (1ull << 12)
#define GI_TPFLAGS_HAVE_GC (1ull << 14)
#define GI_TPFLAGS_DICT_SUBCLASS (1ull << 29)
#define GI_TPFLAGS_TYPE_SUBCLASS (1ull << 31)

/* dict keys: combined {hash, key, value}, combined unicode {key, value}, split (keys only) */
enum gi_keys_kind { GI_KEYS_GENERAL, GI_KEYS_UNICODE, GI_KEYS_SPLIT };

/* Python classes and stdlib C types the static segment holds besides the builtins. */
enum gi_type {
	GI_T_NODE,        /* app.Node: attributes i, name, peer (managed / inline / __dict__) */
	GI_T_SLOTTED,     /* app.Slotted: __slots__ = ("x", "y") */
	GI_T_DICTSUB,     /* app.Registry(dict) */
	GI_T_DEQUE,       /* collections.deque */
	GI_T_PARTIAL,     /* functools.partial */
	GI_T_LRU,         /* functools._lru_cache_wrapper */
	GI_T_LRU_ELEM,    /* functools._lru_list_elem */
	GI_T_DEFAULTDICT, /* collections.defaultdict */
	GI_T_EXT,         /* ext.Thing: an unknown C type, scanned */
	GI_T__COUNT
};

struct gi_image {
	struct layout l;
	int version;                /* index into GI_VERSIONS */
	unsigned char *seg[2];      /* static, heap: GI_SEG_CAP bytes each */
	size_t len[2];              /* bytes in use */
	raddr_t top[2];             /* next free address */
	raddr_t types[GI_T__COUNT];
	raddr_t code;               /* function "handle", locals self, items, x */
	raddr_t node_keys;          /* Node's cached keys: i, name, peer */
	raddr_t str_module;         /* "app" */
	raddr_t heads[GI_MAX_LISTS];
	raddr_t tail[GI_MAX_LISTS]; /* PyGC_Head of each list's last object */
	int nlists;
};

static inline int gi_seg_of(raddr_t a)
{
	if (a >= GI_STATIC && a < GI_STATIC + GI_SEG_CAP)
		return 0;
	if (a >= GI_HEAP && a < GI_HEAP + GI_SEG_CAP)
		return 1;
	abort(); /* a bug in the builder, not in what it builds */
}

/* Where the n bytes at a live in the builder; grows the segment to cover them. */
static inline unsigned char *gi_at(struct gi_image *im, raddr_t a, size_t n)
{
	int s = gi_seg_of(a);
	size_t off = (size_t)(a - (s ? GI_HEAP : GI_STATIC));

	if (off + n > GI_SEG_CAP)
		abort();
	if (off + n > im->len[s])
		im->len[s] = off + n;
	return im->seg[s] + off;
}

static inline void gi_put(struct gi_image *im, raddr_t a, uint64_t v)
{
	memcpy(gi_at(im, a, 8), &v, 8);
}

static inline void gi_put32(struct gi_image *im, raddr_t a, uint32_t v)
{
	memcpy(gi_at(im, a, 4), &v, 4);
}

static inline void gi_put8(struct gi_image *im, raddr_t a, uint8_t v)
{
	*gi_at(im, a, 1) = v;
}

/* The field f of obj; a field the version lacks is not written. */
static inline void gi_put_f(struct gi_image *im, raddr_t obj, enum field_id f, uint64_t v)
{
	if (layout__has(&im->l, f))
		gi_put(im, obj + (raddr_t)im->l.v[f], v);
}

static inline uint64_t gi_get(struct gi_image *im, raddr_t a)
{
	uint64_t v;

	memcpy(&v, gi_at(im, a, 8), 8);
	return v;
}

/* n bytes in segment seg (0 static, 1 heap), 16-aligned, with 32 bytes before them free. */
static inline raddr_t gi_alloc(struct gi_image *im, int seg, size_t n)
{
	raddr_t a = ((im->top[seg] + 15) & ~(raddr_t)15) + 32;

	im->top[seg] = a + n;
	gi_at(im, a, n);
	return a;
}

static inline raddr_t gi_cstr(struct gi_image *im, int seg, const char *s)
{
	raddr_t a = gi_alloc(im, seg, strlen(s) + 1);

	memcpy(gi_at(im, a, strlen(s) + 1), s, strlen(s) + 1);
	return a;
}

/* An object (no PyGC_Head) of type type. */
static inline raddr_t gi_obj(struct gi_image *im, int seg, raddr_t type, size_t size)
{
	raddr_t o = gi_alloc(im, seg, size);

	gi_put_f(im, o, F_OB_REFCNT, 1);
	gi_put_f(im, o, F_OB_TYPE, type);
	return o;
}

/* A compact ASCII str. */
static inline raddr_t gi_str(struct gi_image *im, int seg, const char *s)
{
	const struct layout *l = &im->l;
	size_t n = strlen(s);
	raddr_t o = gi_obj(im, seg, l->types[T_STR], (size_t)l->v[F_STR_ASCII_SIZE] + n + 1);

	gi_put_f(im, o, F_STR_LENGTH, n);
	gi_put(im, o + 24, (uint64_t)-1); /* hash not computed */
	gi_put32(im, o + (raddr_t)l->v[F_STR_STATE],
		 (1u << l->v[F_STR_KIND_BIT]) | (1u << l->v[F_STR_COMPACT_BIT]) | (1u << l->v[F_STR_ASCII_BIT]));
	memcpy(gi_at(im, o + (raddr_t)l->v[F_STR_ASCII_SIZE], n + 1), s, n + 1);
	return o;
}

/* A compact str of 2-byte code units (not ASCII). */
static inline raddr_t gi_str_wide(struct gi_image *im, int seg, const uint16_t *units, size_t n)
{
	const struct layout *l = &im->l;
	raddr_t o = gi_obj(im, seg, l->types[T_STR], (size_t)l->v[F_STR_COMPACT_SIZE] + 2 * (n + 1));

	gi_put_f(im, o, F_STR_LENGTH, n);
	gi_put(im, o + 24, (uint64_t)-1);
	gi_put32(im, o + (raddr_t)l->v[F_STR_STATE], (2u << l->v[F_STR_KIND_BIT]) | (1u << l->v[F_STR_COMPACT_BIT]));
	memcpy(gi_at(im, o + (raddr_t)l->v[F_STR_COMPACT_SIZE], 2 * n), units, 2 * n);
	return o;
}

static inline raddr_t gi_float(struct gi_image *im, int seg, double d)
{
	raddr_t o = gi_obj(im, seg, im->l.types[T_FLOAT], 24);

	memcpy(gi_at(im, o + 16, 8), &d, 8);
	return o;
}

/* A small int (one 30-bit digit), in the version's representation. */
static inline raddr_t gi_int(struct gi_image *im, int seg, uint32_t v)
{
	raddr_t o = gi_obj(im, seg, im->l.types[T_INT], 32);

	if (im->l.minor >= 12)
		gi_put_f(im, o, F_VAR_OB_SIZE, v ? 1u << 3 : 1); /* lv_tag: one digit, or zero */
	else
		gi_put_f(im, o, F_VAR_OB_SIZE, v ? 1 : 0);
	gi_put32(im, o + 24, v);
	return o;
}

static inline raddr_t gi_bytes(struct gi_image *im, int seg, const void *p, size_t n)
{
	raddr_t o = gi_obj(im, seg, im->l.types[T_BYTES], 33 + n);

	gi_put_f(im, o, F_VAR_OB_SIZE, n);
	gi_put(im, o + 24, (uint64_t)-1);
	memcpy(gi_at(im, o + 32, n), p, n);
	return o;
}

static inline raddr_t gi_tuple(struct gi_image *im, int seg, const raddr_t *items, int n)
{
	raddr_t o = gi_obj(im, seg, im->l.types[T_TUPLE], (size_t)im->l.v[F_TUPLE_ITEMS] + 8 * (size_t)n);

	gi_put_f(im, o, F_VAR_OB_SIZE, (uint64_t)n);
	for (int i = 0; i < n; i++)
		gi_put(im, o + (raddr_t)im->l.v[F_TUPLE_ITEMS] + 8 * (raddr_t)i, items[i]);
	return o;
}

/* A keys object of 8 slots holding n (at most 5) entries. */
static inline raddr_t gi_keys(struct gi_image *im, int seg, enum gi_keys_kind kind, const raddr_t *keys,
			      const raddr_t *values, int n)
{
	const struct layout *l = &im->l;
	bool modern = layout__has(l, F_DK_LOG2_SIZE);
	bool unicode = modern && kind != GI_KEYS_GENERAL;
	size_t esize = (size_t)(unicode ? l->v[F_DK_UENTRY_SIZE] : l->v[F_DK_ENTRY_SIZE]);
	raddr_t k = gi_alloc(im, seg, (size_t)l->v[F_DK_INDICES] + 8 + 8 * esize), e;

	gi_put(im, k, 1); /* dk_refcnt */
	if (modern) {
		gi_put8(im, k + (raddr_t)l->v[F_DK_LOG2_SIZE], 3);
		gi_put8(im, k + (raddr_t)l->v[F_DK_LOG2_INDEX_BYTES], 3);
		gi_put8(im, k + (raddr_t)l->v[F_DK_KIND], kind == GI_KEYS_SPLIT ? 2 : kind == GI_KEYS_UNICODE);
	} else
		gi_put_f(im, k, F_DK_SIZE, 8);
	gi_put_f(im, k, F_DK_NENTRIES, (uint64_t)n);
	memset(gi_at(im, k + (raddr_t)l->v[F_DK_INDICES], 8), 0xff, 8);
	e = k + (raddr_t)l->v[F_DK_INDICES] + 8;
	for (int i = 0; i < n; i++, e += esize) {
		gi_put8(im, k + (raddr_t)l->v[F_DK_INDICES] + (raddr_t)i, (uint8_t)i);
		if (unicode) {
			gi_put(im, e, keys[i]);
			if (kind != GI_KEYS_SPLIT)
				gi_put(im, e + 8, values[i]);
			continue;
		}
		gi_put(im, e, 0x1234 + (uint64_t)i);
		gi_put(im, e + 8, keys[i]);
		gi_put(im, e + 16, kind == GI_KEYS_SPLIT ? 0 : values[i]);
	}
	return k;
}

/* A dict of type type without PyGC_Head at d (allocated by the caller). */
static inline void gi_dict_at(struct gi_image *im, raddr_t d, raddr_t type, raddr_t keys,
			      raddr_t values, int n)
{
	gi_put_f(im, d, F_OB_REFCNT, 1);
	gi_put_f(im, d, F_OB_TYPE, type);
	gi_put_f(im, d, F_DICT_USED, (uint64_t)n);
	gi_put_f(im, d, F_DICT_KEYS, keys);
	gi_put_f(im, d, F_DICT_VALUES, values);
}

/* An untracked dict in segment seg with n general entries. */
static inline raddr_t gi_dict(struct gi_image *im, int seg, const raddr_t *keys, const raddr_t *values, int n)
{
	raddr_t d = gi_alloc(im, seg, 64);

	gi_dict_at(im, d, im->l.dict_type, gi_keys(im, seg, GI_KEYS_GENERAL, keys, values, n), 0, n);
	return d;
}

/* A type object in the static segment; heap types get a PyHeapTypeObject's room. */
static inline raddr_t gi_type_new(struct gi_image *im, const char *name, uint64_t flags, int64_t basicsize,
				  int64_t itemsize, raddr_t base)
{
	const struct layout *l = &im->l;
	size_t size = (flags & GI_TPFLAGS_HEAPTYPE) ? GI_HEAPTYPE_SIZE : GI_TYPE_SIZE;
	raddr_t t = gi_obj(im, 0, l->type_type, size);

	if (!l->type_type) /* PyType_Type is its own type */
		gi_put_f(im, t, F_OB_TYPE, t);
	gi_put_f(im, t, F_TP_NAME, gi_cstr(im, 0, name));
	gi_put_f(im, t, F_TP_FLAGS, flags | GI_TPFLAGS_READY);
	gi_put_f(im, t, F_TP_BASICSIZE, (uint64_t)basicsize);
	gi_put_f(im, t, F_TP_ITEMSIZE, (uint64_t)itemsize);
	gi_put_f(im, t, F_TP_BASE, base);
	return t;
}

/*
 * A class statement's heap type: tp_name is the UTF-8 of ht_name (so refs.c
 * takes it for a Python class), __module__ "app", __mro__ (cls, base,
 * object); dict_extra holds more class attributes.
 */
static inline raddr_t gi_class(struct gi_image *im, const char *name, uint64_t flags, int64_t basicsize,
			       raddr_t base, const raddr_t *extra_keys, const raddr_t *extra_values, int nextra)
{
	const struct layout *l = &im->l;
	raddr_t t = gi_type_new(im, name, flags | GI_TPFLAGS_HEAPTYPE | GI_TPFLAGS_BASETYPE | GI_TPFLAGS_HAVE_GC,
				basicsize, 0, base);
	raddr_t hname = gi_str(im, 0, name), keys[4], values[4], mro[3];
	int n = 0;

	gi_put_f(im, t, F_TP_NAME, hname + (raddr_t)l->v[F_STR_ASCII_SIZE]);
	gi_put_f(im, t, F_HT_NAME, hname);
	gi_put_f(im, t, F_HT_QUALNAME, hname);
	keys[0] = gi_str(im, 0, "__module__");
	values[0] = im->str_module;
	for (int i = 0; i < nextra && i < 3; i++) {
		keys[1 + i] = extra_keys[i];
		values[1 + i] = extra_values[i];
	}
	gi_put_f(im, t, F_TP_DICT, gi_dict(im, 0, keys, values, 1 + (nextra < 3 ? nextra : 3)));
	mro[n++] = t;
	if (base != l->object_type)
		mro[n++] = base;
	mro[n++] = l->object_type;
	gi_put_f(im, t, F_TP_MRO, gi_tuple(im, 0, mro, n));
	gi_put_f(im, t, F_TP_BASES, gi_tuple(im, 0, &base, 1));
	return t;
}

/* A member descriptor for an object slot at offset off. */
static inline raddr_t gi_member(struct gi_image *im, const char *name, int64_t off)
{
	const struct layout *l = &im->l;
	raddr_t def = gi_alloc(im, 0, 48), d = gi_obj(im, 0, l->types[T_MEMBERDESCR], 64);

	gi_put(im, def, gi_cstr(im, 0, name));
	gi_put32(im, def + (raddr_t)l->v[F_MEMBERDEF_TYPE], 16); /* Py_T_OBJECT_EX */
	gi_put(im, def + (raddr_t)l->v[F_MEMBERDEF_OFFSET], (uint64_t)off);
	gi_put_f(im, d, F_MEMBERDESCR_MEMBER, def);
	return d;
}

/* The code object of "def handle(self, items, x)" in /app/main.py, first line 10. */
static inline raddr_t gi_code(struct gi_image *im)
{
	const struct layout *l = &im->l;
	/* 3.11+ locations: a long entry (code 13) of 8 units, line +2, no columns; then code 10 (+0) */
	static const uint8_t locations[] = { 0x80 | 13 << 3 | 7, 4, 0x80 | 10 << 3 | 3, 1, 2 };
	/* 3.8 lnotab: (address increment, line increment) pairs */
	static const uint8_t lnotab[] = { 4, 1, 8, 2 };
	raddr_t names[3], c = gi_obj(im, 0, l->types[T_CODE], 256 + 64), t;

	names[0] = gi_str(im, 0, "self");
	names[1] = gi_str(im, 0, "items");
	names[2] = gi_str(im, 0, "x");
	t = gi_tuple(im, 0, names, 3);
	gi_put_f(im, c, F_CODE_LOCALSPLUSNAMES, t);
	if (!layout__has(l, F_CODE_LOCALSPLUSNAMES))
		gi_put_f(im, c, F_CODE_VARNAMES, t);
	gi_put_f(im, c, F_CODE_NAME, gi_str(im, 0, "handle"));
	gi_put_f(im, c, F_CODE_QUALNAME, gi_str(im, 0, "Server.handle"));
	gi_put_f(im, c, F_CODE_FILENAME, gi_str(im, 0, "/app/main.py"));
	gi_put32(im, c + (raddr_t)l->v[F_CODE_FIRSTLINENO], 10);
	if (layout__has(l, F_CODE_NLOCALSPLUS))
		gi_put32(im, c + (raddr_t)l->v[F_CODE_NLOCALSPLUS], 3);
	if (layout__has(l, F_CODE_LINETABLE))
		gi_put_f(im, c, F_CODE_LINETABLE, gi_bytes(im, 0, locations, sizeof(locations)));
	else
		gi_put_f(im, c, F_CODE_LNOTAB, gi_bytes(im, 0, lnotab, sizeof(lnotab)));
	return c;
}

/*
 * The static segment of version v (an index into GI_VERSIONS) and the
 * layout: runtime, one interpreter with empty GC lists, one thread whose
 * current frame is at GI_FRAME, the builtin types and the GI_T_* types.
 * @return 0, or -1 when the offset table is missing
 */
static inline int gi_init(struct gi_image *im, int v)
{
	/* tp_name of each builtin type, as CPython has it */
	static const char *const names[T__COUNT] = {
		[T_LIST] = "list", [T_TUPLE] = "tuple", [T_DICT] = "dict", [T_SET] = "set",
		[T_FROZENSET] = "frozenset", [T_CELL] = "cell", [T_FUNCTION] = "function",
		[T_METHOD] = "method", [T_MODULE] = "module", [T_TYPE] = "type", [T_OBJECT] = "object",
		[T_STR] = "str", [T_INT] = "int", [T_FLOAT] = "float", [T_BOOL] = "bool",
		[T_BYTES] = "bytes", [T_BYTEARRAY] = "bytearray", [T_NONE] = "NoneType",
		[T_FRAME] = "frame", [T_GEN] = "generator", [T_CORO] = "coroutine",
		[T_ASYNCGEN] = "async_generator", [T_CODE] = "code", [T_PROPERTY] = "property",
		[T_CLASSMETHOD] = "classmethod", [T_STATICMETHOD] = "staticmethod",
		[T_MEMBERDESCR] = "member_descriptor", [T_WEAKREF] = "weakref.ReferenceType",
		[T_WEAKPROXY] = "weakref.ProxyType", [T_WEAKCALLPROXY] = "weakref.CallableProxyType",
		[T_ODICT] = "collections.OrderedDict", [T_DICTPROXY] = "mappingproxy",
		[T_SLICE] = "slice", [T_RANGE] = "range", [T_COMPLEX] = "complex",
		[T_CFUNCTION] = "builtin_function_or_method",
	};
	enum table_match how;
	const struct offset_table *t = tables__find(GI_VERSIONS[v], "release", NULL, &how);
	struct layout *l = &im->l;
	struct gc_list_head heads[GI_MAX_LISTS];
	raddr_t gc, k[3], vals[3], dict_base;
	int64_t dict_size = 48;

	memset(im, 0, sizeof(*im));
	if (!t || how != TM_VERSION)
		return -1;
	im->version = v;
	for (int s = 0; s < 2; s++)
		im->seg[s] = calloc(1, GI_SEG_CAP);
	if (!im->seg[0] || !im->seg[1])
		abort();
	im->top[0] = GI_ST_ALLOC;
	im->top[1] = GI_HEAP_OBJECTS;
	layout__init(l);
	for (int f = 0; f < F__COUNT; f++)
		if (t->has[f]) {
			l->v[f] = t->v[f];
			l->src[f] = LSRC_TABLE;
		}
	snprintf(l->version, sizeof(l->version), "%s", GI_VERSIONS[v]);
	sscanf(GI_VERSIONS[v], "%u.%u.%u", &l->major, &l->minor, &l->micro);
	snprintf(l->flavour, sizeof(l->flavour), "release");
	l->source = LSRC_TABLE;
	snprintf(l->source_desc, sizeof(l->source_desc), "fuzz image (%s offsets)", GI_VERSIONS[v]);

	/* the builtin types, PyType_Type first */
	l->type_type = l->types[T_TYPE] = gi_type_new(im, "type", GI_TPFLAGS_TYPE_SUBCLASS | GI_TPFLAGS_HAVE_GC,
						       GI_HEAPTYPE_SIZE, 40, 0);
	l->object_type = l->types[T_OBJECT] = gi_type_new(im, "object", GI_TPFLAGS_BASETYPE, 16, 0, 0);
	gi_put_f(im, l->type_type, F_TP_BASE, l->object_type);
	for (int i = 0; i < T__COUNT; i++) {
		if (l->types[i])
			continue;
		l->types[i] = gi_type_new(im, names[i] ? names[i] : layout_type_sym_names[i], i == T_DICT ? GI_TPFLAGS_DICT_SUBCLASS : 0,
					  i == T_DICT ? dict_size : 16, 0, l->object_type);
	}
	l->str_type = l->types[T_STR];
	l->dict_type = l->types[T_DICT];
	im->str_module = gi_str(im, 0, "app");

	/* runtime -> interpreter -> GC state, every list empty, not collecting */
	l->runtime = GI_RUNTIME;
	gi_put_f(im, GI_RUNTIME, F_RT_INTERP_HEAD, GI_INTERP);
	gi_at(im, GI_RUNTIME, 0x1000);
	gi_at(im, GI_INTERP, 0x2000);
	gc = layout__gc_state(l, GI_INTERP);
	im->nlists = layout__gc_heads(l, GI_INTERP, heads);
	for (int i = 0; i < im->nlists; i++) {
		im->heads[i] = im->tail[i] = heads[i].addr;
		gi_put(im, heads[i].addr, heads[i].addr);
		gi_put(im, heads[i].addr + 8, heads[i].addr);
		gi_put32(im, heads[i].addr + (raddr_t)l->v[F_GCGEN_THRESHOLD], i ? 10 : 2000);
	}
	if (layout__has(l, F_GC_GENERATION0))
		gi_put(im, gc + (raddr_t)l->v[F_GC_GENERATION0], im->heads[0]);

	/* one thread, whose running frame is in the input */
	gi_put_f(im, GI_INTERP, F_INTERP_THREADS_HEAD, GI_TSTATE);
	gi_put_f(im, GI_INTERP, F_INTERP_TSTATE_HEAD, GI_TSTATE);
	gi_at(im, GI_TSTATE, 0x200);
	gi_put_f(im, GI_TSTATE, F_TSTATE_FRAME, GI_FRAME);
	gi_put_f(im, GI_TSTATE, F_TSTATE_CURRENT_FRAME, GI_FRAME);
	if (layout__has(l, F_TSTATE_CFRAME)) {
		gi_put_f(im, GI_TSTATE, F_TSTATE_CFRAME, GI_CFRAME);
		gi_put_f(im, GI_CFRAME, F_CFRAME_CURRENT, GI_FRAME);
	}
	gi_put_f(im, GI_TSTATE, F_TSTATE_THREAD_ID, 0x7f0000001000ull);
	gi_put_f(im, GI_TSTATE, F_TSTATE_NATIVE_ID, 4242);

	/* Python classes */
	k[0] = gi_str(im, 0, "i");
	k[1] = gi_str(im, 0, "name");
	k[2] = gi_str(im, 0, "peer");
	im->node_keys = gi_keys(im, 0, GI_KEYS_SPLIT, k, NULL, 3);
	if (l->minor >= 13)
		im->types[GI_T_NODE] = gi_class(im, "Node", GI_TPFLAGS_MANAGED_DICT | GI_TPFLAGS_INLINE_VALUES,
						16, l->object_type, NULL, NULL, 0);
	else if (l->minor >= 11)
		im->types[GI_T_NODE] = gi_class(im, "Node", GI_TPFLAGS_MANAGED_DICT, 16, l->object_type,
						NULL, NULL, 0);
	else {
		im->types[GI_T_NODE] = gi_class(im, "Node", 0, 32, l->object_type, NULL, NULL, 0);
		gi_put_f(im, im->types[GI_T_NODE], F_TP_DICTOFFSET, 16);
	}
	gi_put_f(im, im->types[GI_T_NODE], F_HT_CACHED_KEYS, im->node_keys);

	k[0] = gi_str(im, 0, "x");
	k[1] = gi_str(im, 0, "y");
	vals[0] = gi_member(im, "x", 16);
	vals[1] = gi_member(im, "y", 24);
	im->types[GI_T_SLOTTED] = gi_class(im, "Slotted", 0, 32, l->object_type, k, vals, 2);
	/* ht_slots, between ht_name and ht_qualname */
	gi_put(im, im->types[GI_T_SLOTTED] + (raddr_t)l->v[F_HT_NAME] + 8, gi_tuple(im, 0, k, 2));

	dict_base = l->types[T_DICT];
	im->types[GI_T_DICTSUB] = gi_class(im, "Registry", GI_TPFLAGS_DICT_SUBCLASS |
					   (l->minor >= 11 ? GI_TPFLAGS_MANAGED_DICT : 0),
					   dict_size + (l->minor >= 11 ? 0 : 16), dict_base, NULL, NULL, 0);
	if (l->minor < 11)
		gi_put_f(im, im->types[GI_T_DICTSUB], F_TP_DICTOFFSET, dict_size);

	/* stdlib C types known by name, and one unknown C type */
	im->types[GI_T_DEQUE] = gi_type_new(im, "collections.deque", GI_TPFLAGS_HAVE_GC, 216, 0, l->object_type);
	im->types[GI_T_PARTIAL] = gi_type_new(im, "functools.partial", GI_TPFLAGS_HAVE_GC, 64, 0, l->object_type);
	im->types[GI_T_LRU] = gi_type_new(im, "functools._lru_cache_wrapper", GI_TPFLAGS_HAVE_GC, 112, 0,
					  l->object_type);
	im->types[GI_T_LRU_ELEM] = gi_type_new(im, "functools._lru_list_elem", GI_TPFLAGS_HAVE_GC, 56, 0,
					       l->object_type);
	im->types[GI_T_DEFAULTDICT] = gi_type_new(im, "collections.defaultdict",
						  GI_TPFLAGS_HAVE_GC | GI_TPFLAGS_DICT_SUBCLASS, dict_size + 8, 0,
						  dict_base);
	im->types[GI_T_EXT] = gi_type_new(im, "ext.Thing", GI_TPFLAGS_HAVE_GC, 48, 8, l->object_type);

	im->code = gi_code(im);
	return 0;
}

static inline void gi_release(struct gi_image *im)
{
	for (int s = 0; s < 2; s++) {
		free(im->seg[s]);
		im->seg[s] = NULL;
	}
}

/*
 * A GC object of size bytes (PyGC_Head not included) and type type in the
 * heap, appended to list; 16 bytes before its PyGC_Head stay free for a
 * managed dict pre-header. @return the object's address
 */
static inline raddr_t gi_add(struct gi_image *im, int list, raddr_t type, size_t size)
{
	size_t hdr = (size_t)im->l.v[F_GCHEAD_SIZE];
	raddr_t g = gi_alloc(im, 1, hdr + size), head = im->heads[list], tail = im->tail[list];

	gi_put(im, g, head);     /* _gc_next */
	gi_put(im, g + 8, tail); /* _gc_prev */
	gi_put(im, tail, g);
	gi_put(im, head + 8, g);
	im->tail[list] = g;
	gi_put_f(im, g + hdr, F_OB_REFCNT, 1);
	gi_put_f(im, g + hdr, F_OB_TYPE, type);
	return g + hdr;
}

/* An instance of Node with attributes i, name, peer, stored as the version does by default. */
static inline raddr_t gi_add_node(struct gi_image *im, int list, raddr_t i, raddr_t name, raddr_t peer)
{
	const struct layout *l = &im->l;
	raddr_t vals[3] = { i, name, peer }, o, values;

	if (l->minor >= 13) {
		/* inline values after tp_basicsize: {capacity, size, embedded, valid, pad[4], values[]} */
		o = gi_add(im, list, im->types[GI_T_NODE], 16 + 8 + 3 * 8);
		values = o + 16;
		gi_put8(im, values, 3);
		gi_put8(im, values + 1, 3);
		gi_put8(im, values + 2, 1);
		gi_put8(im, values + 3, 1);
		for (int k = 0; k < 3; k++)
			gi_put(im, values + (raddr_t)l->v[F_DICTVALUES_VALUES] + 8 * (raddr_t)k, vals[k]);
	} else if (l->minor >= 11) {
		o = gi_add(im, list, im->types[GI_T_NODE], 16);
		values = gi_alloc(im, 1, 3 * 8);
		for (int k = 0; k < 3; k++)
			gi_put(im, values + 8 * (raddr_t)k, vals[k]);
		if (l->minor == 11)
			gi_put(im, o - 32, values);
		else
			gi_put(im, o - 24, values - 1); /* the values, tagged by the low bit */
	} else {
		/* a split dict at tp_dictoffset, with the class's cached keys */
		raddr_t d = gi_add(im, list, l->dict_type, 48);

		o = gi_add(im, list, im->types[GI_T_NODE], 32);
		values = gi_alloc(im, 1, 3 * 8);
		for (int k = 0; k < 3; k++)
			gi_put(im, values + 8 * (raddr_t)k, vals[k]);
		gi_dict_at(im, d, l->dict_type, im->node_keys, values, 3);
		gi_put(im, o + 16, d);
	}
	return o;
}

/* A tracked dict with n entries of the given keys kind. */
static inline raddr_t gi_add_dict(struct gi_image *im, int list, enum gi_keys_kind kind, const raddr_t *keys,
				  const raddr_t *values, int n)
{
	raddr_t d = gi_add(im, list, im->l.dict_type, 48);

	gi_dict_at(im, d, im->l.dict_type, gi_keys(im, 1, kind, keys, values, n), 0, n);
	return d;
}

static inline raddr_t gi_add_list(struct gi_image *im, int list, const raddr_t *items, int n)
{
	raddr_t o = gi_add(im, list, im->l.types[T_LIST], 40), a = gi_alloc(im, 1, 8 * (size_t)n + 8);

	for (int i = 0; i < n; i++)
		gi_put(im, a + 8 * (raddr_t)i, items[i]);
	gi_put_f(im, o, F_VAR_OB_SIZE, (uint64_t)n);
	gi_put_f(im, o, F_LIST_ITEMS, a);
	gi_put(im, o + 32, (uint64_t)n); /* allocated */
	return o;
}

/* The objects of the seed heap, for probe tables. */
struct gi_seed {
	raddr_t node[3], list, module, mdict, sysmods, slotted, func, meth, tuple, set, fset, cell;
	raddr_t weakref, deque, partial, lru, lru_cache, registry, defaultdict, ext;
};

/* Write a probe table at GI_HEAP: GI_PROBE_OBJECTS objects, a code object, a byte offset. */
static inline void gi_set_probes(struct gi_image *im, const raddr_t *objs, raddr_t code, uint64_t offset)
{
	for (int i = 0; i < GI_PROBE_OBJECTS; i++)
		gi_put(im, GI_HEAP + 8 * (raddr_t)i, objs[i]);
	gi_put(im, GI_HEAP + 8 * GI_PROBE_OBJECTS, code);
	gi_put(im, GI_HEAP + 8 * (GI_PROBE_OBJECTS + 1), offset);
}

/*
 * The seed heap: module app (in sys.modules) whose dict holds a list of
 * three Node instances chained by .peer; the last one's peer is a Slotted
 * instance. Around them one object of every other decoded kind, each
 * holding a node: tuple, set, frozenset, cell, function, bound method,
 * weakref, deque, partial, lru_cache wrapper, Registry (a dict subclass),
 * defaultdict and an ext.Thing. The frame at GI_FRAME runs handle(self,
 * items, x) with self = the first node and items = the list. The probe
 * table names a node, the list, the module dict, the Slotted instance, the
 * deque and the partial; out (if not NULL) gets every object.
 */
static inline void gi_build_seed(struct gi_image *im, struct gi_seed *out)
{
	const struct layout *l = &im->l;
	int g2 = im->nlists >= 3 ? 2 : 0;
	raddr_t k[2], v[2], fn_name, table, block;
	struct gi_seed s;

	/* nodes, last first so that each can point at the next */
	s.slotted = gi_add(im, g2, im->types[GI_T_SLOTTED], 32);
	s.node[2] = gi_add_node(im, 0, gi_int(im, 1, 3), gi_str(im, 1, "c"), s.slotted);
	s.node[1] = gi_add_node(im, 0, gi_int(im, 1, 2), gi_str(im, 1, "b"), s.node[2]);
	s.node[0] = gi_add_node(im, 0, gi_int(im, 1, 1), gi_str(im, 1, "a"), s.node[1]);
	gi_put(im, s.slotted + 16, s.node[0]);
	gi_put(im, s.slotted + 24, gi_str(im, 1, "why"));
	s.list = gi_add_list(im, 0, s.node, 3);

	/* the module, its dict {"__name__": "app", "registry": list}, sys.modules {"app": module} */
	s.module = gi_add(im, g2, l->types[T_MODULE], 64);
	k[0] = gi_str(im, 1, "__name__");
	v[0] = im->str_module;
	k[1] = gi_str(im, 1, "registry");
	v[1] = s.list;
	s.mdict = gi_add_dict(im, g2, GI_KEYS_UNICODE, k, v, 2);
	gi_put_f(im, s.module, F_MODULE_DICT, s.mdict);
	gi_put_f(im, s.module, F_MODULE_NAME, im->str_module);
	k[0] = im->str_module;
	v[0] = s.module;
	s.sysmods = gi_add_dict(im, g2, GI_KEYS_GENERAL, k, v, 1);
	gi_put_f(im, GI_INTERP, F_INTERP_MODULES, s.sysmods);
	gi_put_f(im, GI_INTERP, F_INTERP_IMPORTS_MODULES, s.sysmods);

	/* a function handle() with the module's globals, and a method bound to the first node */
	s.func = gi_add(im, g2, l->types[T_FUNCTION], 160);
	fn_name = gi_str(im, 1, "handle");
	gi_put_f(im, s.func, F_FUNC_CODE, im->code);
	gi_put_f(im, s.func, F_FUNC_GLOBALS, s.mdict);
	gi_put_f(im, s.func, F_FUNC_NAME, fn_name);
	gi_put_f(im, s.func, F_FUNC_QUALNAME, fn_name);
	gi_put_f(im, s.func, F_FUNC_MODULE, im->str_module);
	s.meth = gi_add(im, 0, l->types[T_METHOD], 48);
	gi_put_f(im, s.meth, F_METHOD_FUNC, s.func);
	gi_put_f(im, s.meth, F_METHOD_SELF, s.node[0]);

	/* tuple, set and frozenset (8-slot table: a node, the dummy, a node), cell, weakref */
	s.tuple = gi_add(im, 0, l->types[T_TUPLE], (size_t)l->v[F_TUPLE_ITEMS] + 16);
	gi_put_f(im, s.tuple, F_VAR_OB_SIZE, 2);
	gi_put(im, s.tuple + (raddr_t)l->v[F_TUPLE_ITEMS], s.node[0]);
	gi_put(im, s.tuple + (raddr_t)l->v[F_TUPLE_ITEMS] + 8, s.node[2]);
	table = gi_alloc(im, 1, 8 * 16);
	gi_put(im, table, s.node[1]);
	gi_put(im, table + 8, 77);
	gi_put(im, table + 16, s.node[2]);
	gi_put(im, table + 24, (uint64_t)-1);
	gi_put(im, table + 5 * 16, s.node[2]);
	gi_put(im, table + 5 * 16 + 8, 78);
	s.set = gi_add(im, 0, l->types[T_SET], 200);
	gi_put_f(im, s.set, F_SET_MASK, 7);
	gi_put_f(im, s.set, F_SET_TABLE, table);
	s.fset = gi_add(im, 0, l->types[T_FROZENSET], 200);
	gi_put_f(im, s.fset, F_SET_MASK, 7);
	gi_put_f(im, s.fset, F_SET_TABLE, table);
	s.cell = gi_add(im, 0, l->types[T_CELL], 24);
	gi_put_f(im, s.cell, F_CELL_REF, s.node[1]);
	s.weakref = gi_add(im, 0, l->types[T_WEAKREF], 64);
	gi_put(im, s.weakref + 16, s.node[0]);

	/* a deque of two items in one block, from index 62 */
	s.deque = gi_add(im, 0, im->types[GI_T_DEQUE], 216);
	block = gi_alloc(im, 1, 528);
	gi_put(im, block + 8 + 62 * 8, s.node[1]);
	gi_put(im, block + 8 + 63 * 8, s.node[2]);
	gi_put_f(im, s.deque, F_VAR_OB_SIZE, 2);
	gi_put(im, s.deque + 24, block);
	gi_put(im, s.deque + 32, block);
	gi_put(im, s.deque + 40, 62);
	gi_put(im, s.deque + 48, 63);

	/* partial(handle, *tuple), an lru_cache wrapper of handle with a cache dict */
	s.partial = gi_add(im, 0, im->types[GI_T_PARTIAL], 64);
	gi_put(im, s.partial + 16, s.func);
	gi_put(im, s.partial + 24, s.tuple);
	k[0] = gi_int(im, 1, 7);
	v[0] = s.node[2];
	s.lru_cache = gi_add_dict(im, 0, GI_KEYS_GENERAL, k, v, 1);
	s.lru = gi_add(im, 0, im->types[GI_T_LRU], 112);
	gi_put(im, s.lru + 72, s.lru_cache);
	gi_put(im, s.lru + 88, s.func);

	/* a Registry (dict subclass) {"h\u00e9llo": node 0, 1.5: node 1}, a defaultdict(list) {"k": node 0} */
	k[0] = gi_str_wide(im, 1, (const uint16_t[]){ 'h', 0xe9, 'l', 'l', 'o' }, 5);
	k[1] = gi_float(im, 1, 1.5);
	v[0] = s.node[0];
	v[1] = s.node[1];
	s.registry = gi_add_dict(im, 0, GI_KEYS_GENERAL, k, v, 2);
	k[0] = gi_str(im, 1, "k");
	gi_put_f(im, s.registry, F_OB_TYPE, im->types[GI_T_DICTSUB]);
	s.defaultdict = gi_add(im, 0, im->types[GI_T_DEFAULTDICT], 56 + 8);
	gi_dict_at(im, s.defaultdict, im->types[GI_T_DEFAULTDICT], gi_keys(im, 1, GI_KEYS_GENERAL, k, v, 1), 0, 1);
	gi_put(im, s.defaultdict + 48, l->types[T_LIST]);

	/* an ext.Thing of ob_size 2: a node, a weakref (the scan skips it), the list */
	s.ext = gi_add(im, 0, im->types[GI_T_EXT], 48 + 16);
	gi_put_f(im, s.ext, F_VAR_OB_SIZE, 2);
	gi_put(im, s.ext + 24, s.node[1]);
	gi_put(im, s.ext + 32, s.weakref);
	gi_put(im, s.ext + 48, s.list);

	/* the running frame: handle(self=node 0, items=list, x=NULL), a few instructions in */
	if (layout__has(l, F_IFRAME_LOCALSPLUS)) {
		enum field_id fcode = layout__has(l, F_IFRAME_EXECUTABLE) ? F_IFRAME_EXECUTABLE : F_IFRAME_CODE;
		enum field_id fip = layout__has(l, F_IFRAME_INSTR_PTR) ? F_IFRAME_INSTR_PTR : F_IFRAME_PREV_INSTR;
		raddr_t locals = GI_FRAME + (raddr_t)l->v[F_IFRAME_LOCALSPLUS];

		gi_put_f(im, GI_FRAME, fcode, im->code);
		gi_put_f(im, GI_FRAME, F_IFRAME_PREVIOUS, 0);
		gi_put_f(im, GI_FRAME, fip, im->code + (raddr_t)l->v[F_CODE_CODE_ADAPTIVE] + 4);
		gi_put8(im, GI_FRAME + (raddr_t)l->v[F_IFRAME_OWNER], 0);
		gi_put(im, locals, s.node[0]);
		gi_put(im, locals + 8, s.list);
		gi_put(im, locals + 16, 0);
	} else {
		raddr_t locals = GI_FRAME + (raddr_t)l->v[F_FRAME_LOCALSPLUS];

		gi_put_f(im, GI_FRAME, F_OB_REFCNT, 1);
		gi_put_f(im, GI_FRAME, F_OB_TYPE, l->types[T_FRAME]);
		gi_put_f(im, GI_FRAME, F_FRAME_BACK, 0);
		gi_put_f(im, GI_FRAME, F_FRAME_CODE, im->code);
		gi_put32(im, GI_FRAME + (raddr_t)l->v[F_FRAME_LASTI], 6);
		gi_put(im, locals, s.node[0]);
		gi_put(im, locals + 8, s.list);
		gi_put(im, locals + 16, 0);
	}
	if (im->top[1] > GI_HEAP + GI_SEG_CAP || GI_FRAME + 0x200 > GI_HEAP_OBJECTS)
		abort();

	gi_set_probes(im, (raddr_t[GI_PROBE_OBJECTS]){ s.node[0], s.list, s.mdict, s.slotted, s.deque, s.partial },
		      im->code, 6);
	if (out)
		*out = s;
}

/*
 * The image as fuzz input: the static segment as patches against pristine
 * (the same version's gi_init), the heap as it is. @return its size; *out
 * is the caller's to free
 */
static inline size_t gi_encode(const struct gi_image *im, const struct gi_image *pristine, unsigned char **out)
{
	size_t words = pristine->len[0] / 8, np = 0;
	size_t cap = GI_HDR + GI_MAX_PATCHES * GI_PATCH_SIZE + im->len[1];
	unsigned char *p = malloc(cap), *q;

	if (!p || im->len[0] != pristine->len[0] || words > 0x10000)
		abort();
	q = p + GI_HDR;
	for (size_t w = 0; w < words; w++) {
		uint64_t a, b;

		memcpy(&a, im->seg[0] + 8 * w, 8);
		memcpy(&b, pristine->seg[0] + 8 * w, 8);
		if (a == b)
			continue;
		if (++np > GI_MAX_PATCHES)
			abort();
		q[0] = (unsigned char)w;
		q[1] = (unsigned char)(w >> 8);
		for (int i = 0; i < 8; i++)
			q[2 + i] = (unsigned char)(a >> (8 * i));
		q += GI_PATCH_SIZE;
	}
	p[0] = (unsigned char)im->version;
	p[1] = (unsigned char)np;
	memcpy(q, im->seg[1], im->len[1]);
	*out = p;
	return (size_t)(q - p) + im->len[1];
}

/* Where the patches and the heap of an input are. @return 0, or -1 when too short */
struct gi_input {
	int version;
	const uint8_t *patches;
	size_t npatches;
	const uint8_t *heap;
	size_t heap_len;
};

static inline int gi_decode(const uint8_t *data, size_t size, struct gi_input *in)
{
	size_t np;

	if (size < GI_HDR)
		return -1;
	in->version = data[0] & 3;
	np = data[1];
	if (np > GI_MAX_PATCHES)
		np = GI_MAX_PATCHES;
	if (np > (size - GI_HDR) / GI_PATCH_SIZE)
		np = (size - GI_HDR) / GI_PATCH_SIZE;
	in->patches = data + GI_HDR;
	in->npatches = np;
	in->heap = data + GI_HDR + np * GI_PATCH_SIZE;
	in->heap_len = size - GI_HDR - np * GI_PATCH_SIZE;
	if (in->heap_len > GI_SEG_CAP)
		in->heap_len = GI_SEG_CAP;
	return 0;
}

/* Apply the patches of in to a copy of the static segment (len bytes at st). */
static inline void gi_patch(unsigned char *st, size_t len, const struct gi_input *in)
{
	size_t words = len / 8;

	if (!words)
		return;
	for (size_t i = 0; i < in->npatches; i++) {
		const uint8_t *p = in->patches + i * GI_PATCH_SIZE;
		size_t w = ((size_t)p[0] | (size_t)p[1] << 8) % words;

		memcpy(st + 8 * w, p + 2, 8);
	}
}

#endif
