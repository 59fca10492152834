/* SPDX-License-Identifier: MIT */
/*
 * sys.getsizeof from outside: the __sizeof__ each builtin type has on each
 * version, plus what _PySys_GetSizeOf adds for the GC header (3.8 - 3.10)
 * or the whole pre-header (3.11+). Every length read is capped; an object
 * that does not look right gets the basicsize estimate.
 */
#define _GNU_SOURCE
#include "sizes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

#define TPF_MANAGED_WEAKREF (1ull << 3) /* 3.12+ */
#define TPF_MANAGED_DICT (1ull << 4)    /* 3.11+ */
#define TPF_HEAPTYPE (1ull << 9)
#define TPF_HAVE_GC (1ull << 14)

#define CHAIN_CAP 64              /* deepest tp_base chain followed */
#define COUNT_CAP (1ull << 40)    /* most items, slots, entries or bytes believed */
#define SIZE_CAP (1ull << 46)     /* largest size believed */
#define WCHAR_SIZE 4              /* sizeof(wchar_t) on Linux */
#define DIGIT_SIZE 4              /* sizeof(digit): 30-bit digits in a uint32 */

/*
 * collections.deque: {PyVarObject; block *leftblock; block *rightblock;
 * Py_ssize_t leftindex; ...}, blocks of {leftlink; data[64]; rightlink}
 * (3.8 - 3.15, as in refs.c).
 */
#define DEQUE_BLOCKLEN 64
#define DEQUE_BLOCK_SIZE (8 + DEQUE_BLOCKLEN * 8 + 8)
#define DEQUE_LEFTINDEX 16 /* after the PyVarObject header */
#define DEQUE_MIN_BASICSIZE 56

/* Which __sizeof__ the objects of a type get (found along tp_base). */
enum sz_kind {
	SZ_OBJECT,    /* object.__sizeof__: tp_basicsize + tp_itemsize * ob_size */
	SZ_LIST,
	SZ_DICT,
	SZ_SET,
	SZ_STR,
	SZ_INT,
	SZ_BYTEARRAY,
	SZ_DEQUE,
	SZ_TYPE,      /* the objects are type objects */
	SZ_OTHER,     /* a __sizeof__ memalot does not follow (code, frame, OrderedDict, ...) */
};

struct tfacts {
	raddr_t type;       /* 0: a free slot */
	uint64_t flags;
	int64_t basicsize, itemsize;
	uint8_t kind;       /* enum sz_kind */
};

struct sizes_cache {
	struct tfacts *slots;
	size_t nslots, n;
};

struct sizes_cache *sizes__cache_new(void)
{
	return xcalloc(1, sizeof(struct sizes_cache));
}

void sizes__cache_reset(struct sizes_cache *c)
{
	if (c && c->slots)
		memset(c->slots, 0, c->nslots * sizeof(*c->slots));
	if (c)
		c->n = 0;
}

void sizes__cache_free(struct sizes_cache *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c);
}

static size_t slot_of(raddr_t type, size_t nslots)
{
	uint64_t h = type * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 20) & (nslots - 1);
}

static struct tfacts *cache_find(struct sizes_cache *c, raddr_t type)
{
	if (!c || !c->nslots)
		return NULL;
	for (size_t i = slot_of(type, c->nslots);; i = (i + 1) & (c->nslots - 1)) {
		if (c->slots[i].type == type)
			return &c->slots[i];
		if (!c->slots[i].type)
			return NULL;
	}
}

static void cache_put(struct sizes_cache *c, const struct tfacts *f)
{
	size_t i;

	if (!c)
		return;
	if ((c->n + 1) * 2 > c->nslots) {
		struct tfacts *old = c->slots;
		size_t oldn = c->nslots;

		c->nslots = oldn ? oldn * 2 : 256;
		c->slots = xcalloc(c->nslots, sizeof(*c->slots));
		c->n = 0;
		for (size_t k = 0; k < oldn; k++)
			if (old[k].type)
				cache_put(c, &old[k]);
		free(old);
	}
	for (i = slot_of(f->type, c->nslots); c->slots[i].type; i = (i + 1) & (c->nslots - 1))
		;
	c->slots[i] = *f;
	c->n++;
}

static unsigned version(const struct layout *l)
{
	return l->major * 100 + l->minor;
}

static raddr_t at(const struct layout *l, raddr_t base, enum field_id f)
{
	return base + (raddr_t)l->v[f];
}

static bool has_all(const struct layout *l, const enum field_id *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!layout__has(l, f[i]))
			return false;
	return true;
}

/* A signed word of the target, as a count: 0 .. COUNT_CAP, else -EINVAL. */
static int count_at(struct remote *r, raddr_t addr, uint64_t *out)
{
	uint64_t v;
	int ret = remote__u64(r, addr, &v);

	if (ret)
		return ret;
	if (v > COUNT_CAP)
		return -EINVAL;
	*out = v;
	return 0;
}

static bool is_deque_type(struct remote *r, const struct layout *l, raddr_t t, int64_t basicsize)
{
	char name[32];
	uint64_t tp_name;

	if (basicsize < DEQUE_MIN_BASICSIZE || remote__u64(r, at(l, t, F_TP_NAME), &tp_name) || !tp_name)
		return false;
	return remote__str(r, tp_name, name, sizeof(name)) > 0 && !strcmp(name, "collections.deque");
}

/* The __sizeof__ of t's objects: the first type along tp_base that memalot knows. */
static enum sz_kind classify(struct remote *r, const struct layout *l, raddr_t type, int64_t basicsize)
{
	static const struct {
		enum layout_type_sym sym;
		enum sz_kind kind;
	} known[] = {
		{ T_OBJECT, SZ_OBJECT }, { T_LIST, SZ_LIST }, { T_ODICT, SZ_OTHER }, { T_DICT, SZ_DICT },
		{ T_SET, SZ_SET }, { T_FROZENSET, SZ_SET }, { T_STR, SZ_STR }, { T_INT, SZ_INT },
		{ T_BYTEARRAY, SZ_BYTEARRAY }, { T_TYPE, SZ_TYPE }, { T_CODE, SZ_OTHER },
		{ T_FRAME, SZ_OTHER }, { T_GEN, SZ_OTHER }, { T_CORO, SZ_OTHER }, { T_ASYNCGEN, SZ_OTHER },
	};
	raddr_t t = type;

	for (int depth = 0; t && !(t & 7) && depth < CHAIN_CAP; depth++) {
		uint64_t base, bs = 0;

		for (size_t i = 0; i < ARRAY_SIZE(known); i++)
			if (l->types[known[i].sym] && l->types[known[i].sym] == t)
				return known[i].kind;
		if (depth > 0 && remote__u64(r, at(l, t, F_TP_BASICSIZE), &bs))
			break;
		if (is_deque_type(r, l, t, depth ? (int64_t)bs : basicsize))
			return SZ_DEQUE;
		if (remote__u64(r, at(l, t, F_TP_BASE), &base))
			break;
		t = base;
	}
	return SZ_OBJECT;
}

static int type_facts(struct sizes_cache *c, struct remote *r, const struct layout *l, raddr_t type,
		      struct tfacts *f)
{
	static const enum field_id need[] = { F_TP_FLAGS, F_TP_BASICSIZE, F_TP_ITEMSIZE, F_TP_BASE, F_TP_NAME };
	const struct tfacts *hit = cache_find(c, type);
	uint64_t v;
	int ret;

	if (hit) {
		*f = *hit;
		return 0;
	}
	if (!type || (type & 7))
		return -EINVAL;
	if (!has_all(l, need, ARRAY_SIZE(need)))
		return -ENOTSUP;
	memset(f, 0, sizeof(*f));
	f->type = type;
	if ((ret = remote__u64(r, at(l, type, F_TP_FLAGS), &f->flags)) ||
	    (ret = remote__u64(r, at(l, type, F_TP_BASICSIZE), &v)))
		return ret;
	f->basicsize = (int64_t)v;
	if ((ret = remote__u64(r, at(l, type, F_TP_ITEMSIZE), &v)))
		return ret;
	f->itemsize = (int64_t)v;
	if (f->basicsize < 0 || f->basicsize > (1 << 30) || f->itemsize < 0 || f->itemsize > (1 << 20))
		return -EINVAL;
	f->kind = (uint8_t)classify(r, l, type, f->basicsize);
	cache_put(c, f);
	return 0;
}

/* What _PySys_GetSizeOf adds to __sizeof__ on this version. */
static int presize(struct remote *r, const struct layout *l, const struct tfacts *f, raddr_t obj,
		   uint64_t *out)
{
	uint64_t gchead = layout__has(l, F_GCHEAD_SIZE) ? (uint64_t)l->v[F_GCHEAD_SIZE] : 16, objflags = 0;
	bool gc = f->flags & TPF_HAVE_GC;
	unsigned v = version(l);
	int ret;

	*out = 0;
	if (v < 311) {
		/* PyObject_IS_GC: type objects have tp_is_gc, true for heap types only */
		if (gc && f->kind == SZ_TYPE) {
			if ((ret = remote__u64(r, at(l, obj, F_TP_FLAGS), &objflags)))
				return ret;
			gc = objflags & TPF_HEAPTYPE;
		}
		*out = gc ? gchead : 0;
		return 0;
	}
	/* 3.13+: nothing for a static type; 3.11 and 3.12 count it like any object */
	if (v >= 313 && f->type == l->type_type) {
		if ((ret = remote__u64(r, at(l, obj, F_TP_FLAGS), &objflags)))
			return ret;
		if (!(objflags & TPF_HEAPTYPE))
			return 0;
	}
	/* _PyType_PreHeaderSize: the GC header and the managed dict / weakref words */
	*out = (gc ? gchead : 0) +
	       ((f->flags & (v >= 312 ? TPF_MANAGED_DICT | TPF_MANAGED_WEAKREF : TPF_MANAGED_DICT)) ? 16 : 0);
	return 0;
}

/* ------------------------------------------------------------ __sizeof__ per kind */

static int object_size(struct remote *r, const struct layout *l, const struct tfacts *f, raddr_t obj,
		       uint64_t *out)
{
	uint64_t n = 0;
	int ret;

	if (f->itemsize > 0) {
		if (!layout__has(l, F_VAR_OB_SIZE))
			return -ENOTSUP;
		if ((ret = count_at(r, at(l, obj, F_VAR_OB_SIZE), &n)))
			return ret;
	}
	*out = (uint64_t)f->basicsize + n * (uint64_t)f->itemsize;
	return 0;
}

/* The estimate when the exact rule cannot be followed: |ob_size| slots. */
static uint64_t estimate(struct remote *r, const struct layout *l, const struct tfacts *f, raddr_t obj)
{
	uint64_t n = 0;

	if (f->itemsize > 0 && layout__has(l, F_VAR_OB_SIZE) &&
	    !remote__u64(r, at(l, obj, F_VAR_OB_SIZE), &n)) {
		if ((int64_t)n < 0)
			n = (uint64_t)0 - n;
		if (n > (1ull << 32))
			n = 0;
	}
	return (uint64_t)f->basicsize + n * (uint64_t)f->itemsize;
}

static int list_size(struct remote *r, const struct layout *l, const struct tfacts *f, raddr_t obj,
		     uint64_t *out)
{
	uint64_t allocated;
	int ret;

	if (!layout__has(l, F_LIST_ALLOCATED))
		return -ENOTSUP;
	if ((ret = count_at(r, at(l, obj, F_LIST_ALLOCATED), &allocated)))
		return ret;
	*out = (uint64_t)f->basicsize + allocated * 8;
	return 0;
}

static uint64_t usable_fraction(uint64_t n)
{
	return (n << 1) / 3;
}

/* _PyDict_KeysSize; *size gets dk_size. */
static int keys_size(struct remote *r, const struct layout *l, raddr_t keys, uint64_t *bytes, uint64_t *size)
{
	uint64_t header;

	if (!layout__has(l, F_DK_INDICES) || !layout__has(l, F_DK_ENTRY_SIZE))
		return -ENOTSUP;
	/* dk_indices is the flexible array that ends the struct: its offset is the header's size */
	header = (uint64_t)l->v[F_DK_INDICES];
	if (layout__has(l, F_DK_LOG2_SIZE) && layout__has(l, F_DK_LOG2_INDEX_BYTES) && layout__has(l, F_DK_KIND)) {
		uint8_t log2size, log2ib, kind;
		uint64_t esize;
		int ret;

		if ((ret = remote__read(r, at(l, keys, F_DK_LOG2_SIZE), &log2size, 1)) ||
		    (ret = remote__read(r, at(l, keys, F_DK_LOG2_INDEX_BYTES), &log2ib, 1)) ||
		    (ret = remote__read(r, at(l, keys, F_DK_KIND), &kind, 1)))
			return ret;
		if (log2size > 36 || log2ib > 39 || log2ib < log2size)
			return -EINVAL;
		if (kind != 0 && !layout__has(l, F_DK_UENTRY_SIZE))
			return -ENOTSUP;
		/* DICT_KEYS_GENERAL (0) has {hash, key, value} entries, the unicode kinds {key, value} */
		esize = (uint64_t)(kind == 0 ? l->v[F_DK_ENTRY_SIZE] : l->v[F_DK_UENTRY_SIZE]);
		*size = 1ull << log2size;
		*bytes = header + (1ull << log2ib) + usable_fraction(*size) * esize;
		return 0;
	}
	if (layout__has(l, F_DK_SIZE)) {
		uint64_t n, ix;
		int ret;

		if ((ret = count_at(r, at(l, keys, F_DK_SIZE), &n)))
			return ret;
		if (!n || (n & (n - 1)))
			return -EINVAL;
		ix = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffffull ? 4 : 8;
		*size = n;
		*bytes = header + ix * n + usable_fraction(n) * (uint64_t)l->v[F_DK_ENTRY_SIZE];
		return 0;
	}
	return -ENOTSUP;
}

/* _PyDict_SizeOf: the keys when this dict alone holds them, the values of a split table. */
static int dict_size(struct remote *r, const struct layout *l, const struct tfacts *f, raddr_t obj,
		     uint64_t *out)
{
	static const enum field_id need[] = { F_DICT_KEYS, F_DICT_VALUES, F_DK_REFCNT };
	uint64_t keys, values, refcnt, kbytes, dksize, res = (uint64_t)f->basicsize;
	int ret;

	if (!has_all(l, need, ARRAY_SIZE(need)))
		return -ENOTSUP;
	if ((ret = remote__u64(r, at(l, obj, F_DICT_KEYS), &keys)) ||
	    (ret = remote__u64(r, at(l, obj, F_DICT_VALUES), &values)))
		return ret;
	if (!keys || (keys & 7))
		return -EINVAL;
	if ((ret = remote__u64(r, at(l, keys, F_DK_REFCNT), &refcnt)) ||
	    (ret = keys_size(r, l, keys, &kbytes, &dksize)))
		return ret;
	if (values) {
		if (version(l) < 311) {
			/* every slot the keys could fill */
			res += usable_fraction(dksize) * 8;
		} else {
			/* shared_keys_usable_size: dk_nentries + dk_usable */
			uint64_t nentries, usable;

			if (!layout__has(l, F_DK_NENTRIES) || !layout__has(l, F_DK_USABLE))
				return -ENOTSUP;
			if ((ret = count_at(r, at(l, keys, F_DK_NENTRIES), &nentries)) ||
			    (ret = count_at(r, at(l, keys, F_DK_USABLE), &usable)))
				return ret;
			res += (nentries + usable) * 8;
		}
	}
	if (refcnt == 1)
		res += kbytes;
	*out = res;
	return 0;
}

static int set_size(struct remote *r, const struct layout *l, const struct tfacts *f, raddr_t obj,
		    uint64_t *out)
{
	static const enum field_id need[] = { F_SET_MASK, F_SET_TABLE, F_SET_SMALLTABLE, F_SETENTRY_SIZE };
	uint64_t mask, table;
	int ret;

	if (!has_all(l, need, ARRAY_SIZE(need)))
		return -ENOTSUP;
	if ((ret = count_at(r, at(l, obj, F_SET_MASK), &mask)) ||
	    (ret = remote__u64(r, at(l, obj, F_SET_TABLE), &table)))
		return ret;
	if ((mask + 1) & mask)
		return -EINVAL;
	*out = (uint64_t)f->basicsize;
	if (table != at(l, obj, F_SET_SMALLTABLE))
		*out += (mask + 1) * (uint64_t)l->v[F_SETENTRY_SIZE];
	return 0;
}

/* unicode.__sizeof__: the struct and the characters, plus any UTF-8 (and, to 3.11, wchar_t) copy. */
static int str_size(struct remote *r, const struct layout *l, raddr_t obj, uint64_t *out)
{
	static const enum field_id need[] = { F_STR_LENGTH, F_STR_STATE, F_STR_KIND_BIT, F_STR_COMPACT_BIT,
					      F_STR_ASCII_BIT, F_STR_ASCII_SIZE, F_STR_COMPACT_SIZE,
					      F_STR_UTF8, F_STR_UTF8_LENGTH };
	uint64_t length, res, data, utf8;
	uint32_t state;
	unsigned kind;
	bool compact, ascii;
	int ret;

	if (!has_all(l, need, ARRAY_SIZE(need)))
		return -ENOTSUP;
	if ((ret = count_at(r, at(l, obj, F_STR_LENGTH), &length)) ||
	    (ret = remote__read(r, at(l, obj, F_STR_STATE), &state, sizeof(state))))
		return ret;
	kind = (state >> l->v[F_STR_KIND_BIT]) & 7;
	compact = (state >> l->v[F_STR_COMPACT_BIT]) & 1;
	ascii = (state >> l->v[F_STR_ASCII_BIT]) & 1;
	if (kind != 0 && kind != 1 && kind != 2 && kind != 4)
		return -EINVAL;
	if (compact && ascii) {
		res = (uint64_t)l->v[F_STR_ASCII_SIZE] + length + 1;
		data = at(l, obj, F_STR_ASCII_SIZE);
	} else if (compact) {
		res = (uint64_t)l->v[F_STR_COMPACT_SIZE] + (length + 1) * kind;
		data = at(l, obj, F_STR_COMPACT_SIZE);
	} else {
		/* legacy: the characters in a block of their own, if any */
		if (!layout__has(l, F_STR_DATA) || !layout__has(l, F_STR_UNICODE_SIZE))
			return -ENOTSUP;
		if ((ret = remote__u64(r, at(l, obj, F_STR_DATA), &data)))
			return ret;
		res = (uint64_t)l->v[F_STR_UNICODE_SIZE] + (data ? (length + 1) * kind : 0);
	}
	if (layout__has(l, F_STR_WSTR)) {
		/* 3.8 - 3.11: the wchar_t copy unless it is the data itself */
		uint64_t wstr, wlen = length;
		bool ready = true;

		if (layout__has(l, F_STR_READY_BIT))
			ready = (state >> l->v[F_STR_READY_BIT]) & 1;
		if ((ret = remote__u64(r, at(l, obj, F_STR_WSTR), &wstr)))
			return ret;
		if (wstr && (!ready || wstr != data)) {
			if (!(compact && ascii)) {
				if (!layout__has(l, F_STR_WSTR_LENGTH))
					return -ENOTSUP;
				if ((ret = count_at(r, at(l, obj, F_STR_WSTR_LENGTH), &wlen)))
					return ret;
			}
			res += (wlen + 1) * WCHAR_SIZE;
		}
	}
	if (!(compact && ascii)) {
		/* the UTF-8 copy an ASCII string never needs */
		if ((ret = remote__u64(r, at(l, obj, F_STR_UTF8), &utf8)))
			return ret;
		if (utf8 && utf8 != data) {
			uint64_t ulen;

			if ((ret = count_at(r, at(l, obj, F_STR_UTF8_LENGTH), &ulen)))
				return ret;
			res += ulen + 1;
		}
	}
	*out = res;
	return 0;
}

/* int.__sizeof__: the digits, whatever tp_basicsize says (also for subclasses). */
static int int_size(struct remote *r, const struct layout *l, raddr_t obj, uint64_t *out)
{
	uint64_t w, ndigits;
	unsigned v = version(l);
	int ret;

	if (!layout__has(l, F_VAR_OB_SIZE))
		return -ENOTSUP;
	if ((ret = remote__u64(r, at(l, obj, F_VAR_OB_SIZE), &w)))
		return ret;
	if (v >= 312) {
		/* lv_tag: digit count << 3 | flags */
		ndigits = w >> 3;
	} else {
		ndigits = (int64_t)w < 0 ? (uint64_t)0 - w : w;
	}
	if (ndigits > COUNT_CAP)
		return -EINVAL;
	/* from 3.11 the one digit zero is allocated with counts too */
	if (v >= 311 && ndigits == 0)
		ndigits = 1;
	/* ob_digit follows the PyVarObject header (or ob_base + lv_tag) */
	*out = (uint64_t)l->v[F_VAR_OB_SIZE] + 8 + ndigits * DIGIT_SIZE;
	return 0;
}

static int bytearray_size(struct remote *r, const struct layout *l, const struct tfacts *f, raddr_t obj,
			  uint64_t *out)
{
	uint64_t alloc;
	int ret;

	if (!layout__has(l, F_BYTEARRAY_ALLOC))
		return -ENOTSUP;
	if ((ret = count_at(r, at(l, obj, F_BYTEARRAY_ALLOC), &alloc)))
		return ret;
	*out = (uint64_t)f->basicsize + alloc;
	if (version(l) >= 315 && alloc) {
		/* 3.15 keeps the buffer in a bytes object of ob_alloc bytes and counts it whole */
		uint64_t bytes_basic;

		if (!l->types[T_BYTES] || (ret = count_at(r, at(l, l->types[T_BYTES], F_TP_BASICSIZE), &bytes_basic)))
			return ret ? ret : -ENOTSUP;
		*out += bytes_basic;
	}
	return 0;
}

static int deque_size(struct remote *r, const struct layout *l, const struct tfacts *f, raddr_t obj,
		      uint64_t *out)
{
	uint64_t n, left;
	int ret;

	if (!layout__has(l, F_VAR_OB_SIZE))
		return -ENOTSUP;
	if ((ret = count_at(r, at(l, obj, F_VAR_OB_SIZE), &n)) ||
	    (ret = count_at(r, at(l, obj, F_VAR_OB_SIZE) + 8 + DEQUE_LEFTINDEX, &left)))
		return ret;
	if (left >= DEQUE_BLOCKLEN)
		return -EINVAL;
	*out = (uint64_t)f->basicsize + (left + n + DEQUE_BLOCKLEN) / DEQUE_BLOCKLEN * DEQUE_BLOCK_SIZE;
	return 0;
}

/* type.__sizeof__: a heap type and its cached instance keys, or a static type. */
static int type_size(struct remote *r, const struct layout *l, raddr_t obj, uint64_t *out)
{
	uint64_t flags, heap, cached, kbytes, dksize;
	int ret;

	if ((ret = remote__u64(r, at(l, obj, F_TP_FLAGS), &flags)))
		return ret;
	if (!(flags & TPF_HEAPTYPE)) {
		if (!layout__has(l, F_TYPE_SIZE))
			return -ENOTSUP;
		*out = (uint64_t)l->v[F_TYPE_SIZE];
		return 0;
	}
	/* PyType_Type's tp_basicsize is sizeof(PyHeapTypeObject) */
	if (!l->type_type || !layout__has(l, F_HT_CACHED_KEYS))
		return -ENOTSUP;
	if ((ret = count_at(r, at(l, l->type_type, F_TP_BASICSIZE), &heap)) ||
	    (ret = remote__u64(r, at(l, obj, F_HT_CACHED_KEYS), &cached)))
		return ret;
	*out = heap;
	if (cached) {
		if (cached & 7)
			return -EINVAL;
		if ((ret = keys_size(r, l, cached, &kbytes, &dksize)))
			return ret;
		*out += kbytes;
	}
	return 0;
}

int sizes__shallow_cached(struct sizes_cache *c, struct remote *r, const struct layout *l, raddr_t obj,
			  raddr_t type, uint64_t *out)
{
	struct tfacts f;
	uint64_t size = 0, pre = 0;
	int ret;

	*out = 0;
	if (!obj || (obj & 7))
		return -EINVAL;
	if (!type && (ret = remote__u64(r, at(l, obj, F_OB_TYPE), &type)))
		return ret;
	if ((ret = type_facts(c, r, l, type, &f)))
		return ret;
	switch ((enum sz_kind)f.kind) {
	case SZ_OBJECT:
		ret = object_size(r, l, &f, obj, &size);
		break;
	case SZ_LIST:
		ret = list_size(r, l, &f, obj, &size);
		break;
	case SZ_DICT:
		ret = dict_size(r, l, &f, obj, &size);
		break;
	case SZ_SET:
		ret = set_size(r, l, &f, obj, &size);
		break;
	case SZ_STR:
		ret = str_size(r, l, obj, &size);
		break;
	case SZ_INT:
		ret = int_size(r, l, obj, &size);
		break;
	case SZ_BYTEARRAY:
		ret = bytearray_size(r, l, &f, obj, &size);
		break;
	case SZ_DEQUE:
		ret = deque_size(r, l, &f, obj, &size);
		break;
	case SZ_TYPE:
		ret = type_size(r, l, obj, &size);
		break;
	default:
		ret = -ENOTSUP;
		break;
	}
	if (!ret)
		ret = presize(r, l, &f, obj, &pre);
	if (ret || size > SIZE_CAP) {
		/* the GC header still belongs to it when the type says so */
		if (presize(r, l, &f, obj, &pre))
			pre = 0;
		*out = estimate(r, l, &f, obj) + pre;
		return SIZES_ESTIMATE;
	}
	*out = size + pre;
	return 0;
}

int sizes__fixed(struct sizes_cache *c, struct remote *r, const struct layout *l, raddr_t type, uint64_t *out)
{
	struct tfacts f;
	uint64_t pre = 0;
	int ret;

	*out = 0;
	if ((ret = type_facts(c, r, l, type, &f)))
		return ret;
	/* object.__sizeof__ without items; presize reads the object only for type objects */
	if (f.kind != SZ_OBJECT || f.itemsize != 0 || f.type == l->type_type)
		return -EAGAIN;
	if ((ret = presize(r, l, &f, 0, &pre)))
		return ret;
	*out = (uint64_t)f.basicsize + pre;
	return 0;
}

int sizes__shallow(struct remote *r, const struct layout *l, raddr_t obj, raddr_t type, uint64_t *out)
{
	return sizes__shallow_cached(NULL, r, l, obj, type, out);
}
