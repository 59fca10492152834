/* SPDX-License-Identifier: MIT */
/* Object decoders. Every length read from the target is capped here. */
#define _GNU_SOURCE
#include "pyobj.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

#define TPFLAGS_HEAPTYPE (1ul << 9)
#define TPFLAGS_DICT_SUBCLASS (1ul << 29)

static raddr_t field_addr(const struct layout *l, raddr_t base, enum field_id f)
{
	return base + (raddr_t)l->v[f];
}

int pyobj__type(struct remote *r, const struct layout *l, raddr_t obj, raddr_t *type)
{
	return remote__u64(r, field_addr(l, obj, F_OB_TYPE), type);
}

/* Does type t have all of flags in tp_flags? (t is trusted to be a type) */
static bool type_has_flags(struct remote *r, const struct layout *l, raddr_t t, uint64_t flags)
{
	uint64_t v;

	return !(t & 7) && !remote__u64(r, field_addr(l, t, F_TP_FLAGS), &v) && (v & flags) == flags;
}

bool pyobj__is_type(struct remote *r, const struct layout *l, raddr_t t)
{
	return layout__is_type(l, r, t);
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp > 0x10ffff)
		cp = 0xfffd;
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int pyobj__str(struct remote *r, const struct layout *l, raddr_t obj, char *buf, size_t size)
{
	raddr_t type;
	uint64_t length;
	uint32_t state;
	unsigned kind, compact, ascii;
	size_t n, out = 0;
	raddr_t data;
	int ret;

	if (size == 0)
		return -EINVAL;
	buf[0] = 0;
	ret = pyobj__type(r, l, obj, &type);
	if (ret)
		return ret;
	if (type != l->str_type || !layout__has(l, F_STR_STATE) || !layout__has(l, F_STR_LENGTH))
		return -EINVAL;
	if ((ret = remote__u64(r, field_addr(l, obj, F_STR_LENGTH), &length)) ||
	    (ret = remote__read(r, field_addr(l, obj, F_STR_STATE), &state, 4)))
		return ret;
	kind = (state >> l->v[F_STR_KIND_BIT]) & 7;
	compact = (state >> l->v[F_STR_COMPACT_BIT]) & 1;
	ascii = (state >> l->v[F_STR_ASCII_BIT]) & 1;
	if (!compact)
		return -EINVAL; /* legacy (non-compact) strings: not decoded */
	if (kind != 1 && kind != 2 && kind != 4)
		return -EINVAL;
	data = obj + (raddr_t)(ascii ? l->v[F_STR_ASCII_SIZE] : l->v[F_STR_COMPACT_SIZE]);
	n = (size_t)MIN(length, (uint64_t)PYOBJ_STR_CAP);
	if (ascii && kind == 1) {
		n = MIN(n, size - 1);
		if ((ret = remote__read(r, data, buf, n)))
			return ret;
		buf[n] = 0;
		return (int)n;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t cp = 0;
		char tmp[4];
		size_t k;

		if ((ret = remote__read(r, data + i * kind, &cp, kind)))
			return ret;
		k = put_utf8(tmp, cp);
		if (out + k >= size)
			break;
		memcpy(buf + out, tmp, k);
		out += k;
	}
	buf[out] = 0;
	return (int)out;
}

/*
 * Where the entries of a PyDictKeysObject are and how to read them: general
 * entries are {hash, key, value}, unicode ones (3.11+ kinds 1 and 2) {key, value}.
 */
struct keys_geom {
	raddr_t entries;
	size_t esize;
	uint64_t nentries; /* capped */
	bool unicode;
};

static int keys_geom(struct remote *r, const struct layout *l, raddr_t keys, struct keys_geom *g)
{
	uint64_t nentries, size = 0, index_bytes;
	int ret;

	if (!keys || (keys & 7))
		return -EINVAL;
	if (!layout__has(l, F_DK_NENTRIES) || !layout__has(l, F_DK_INDICES) ||
	    !layout__has(l, F_DK_ENTRY_SIZE))
		return -ENOTSUP;
	g->unicode = false;
	if ((ret = remote__u64(r, field_addr(l, keys, F_DK_NENTRIES), &nentries)))
		return ret;
	if (layout__has(l, F_DK_LOG2_SIZE)) {
		uint8_t log2size = 0, log2ib = 0, kind = 0;
		if ((ret = remote__read(r, field_addr(l, keys, F_DK_LOG2_SIZE), &log2size, 1)) ||
		    (ret = remote__read(r, field_addr(l, keys, F_DK_LOG2_INDEX_BYTES), &log2ib, 1)) ||
		    (ret = remote__read(r, field_addr(l, keys, F_DK_KIND), &kind, 1)))
			return ret;
		if (log2size > 40 || log2ib > 43)
			return -EINVAL;
		size = 1ull << log2size;
		index_bytes = 1ull << log2ib;
		g->unicode = kind != 0 && layout__has(l, F_DK_UENTRY_SIZE);
	} else if (layout__has(l, F_DK_SIZE)) {
		if ((ret = remote__u64(r, field_addr(l, keys, F_DK_SIZE), &size)))
			return ret;
		if (!size || size > (1ull << 40) || (size & (size - 1)))
			return -EINVAL;
		index_bytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffull ? 4 : 8);
	} else
		return -ENOTSUP;
	if (nentries > size)
		return -EINVAL;
	g->nentries = MIN(nentries, (uint64_t)PYOBJ_DICT_CAP);
	g->esize = (size_t)(g->unicode ? l->v[F_DK_UENTRY_SIZE] : l->v[F_DK_ENTRY_SIZE]);
	g->entries = field_addr(l, keys, F_DK_INDICES) + index_bytes;
	return 0;
}

/* Entries of keys, values from their own slots or (values != 0) from values[i]. */
static int keys_each(struct remote *r, const struct keys_geom *g,
		     raddr_t values, uint64_t nvalues, pyobj_dict_fn fn, void *arg)
{
	uint64_t n = values ? MIN(g->nentries, nvalues) : g->nentries;
	int ret;

	for (uint64_t i = 0; i < n; i++) {
		raddr_t e = g->entries + i * g->esize, key, value;
		raddr_t kaddr = g->unicode ? e : e + 8;

		if ((ret = remote__u64(r, kaddr, &key)))
			return ret;
		if (!key)
			continue;
		if (values) {
			/* split table: value i belongs to entry i */
			if ((ret = remote__u64(r, values + i * 8, &value)))
				return ret;
		} else if ((ret = remote__u64(r, kaddr + 8, &value)))
			return ret;
		if (!value)
			continue;
		if ((ret = fn(key, value, arg)))
			return ret;
	}
	return 0;
}

raddr_t pyobj__values_array(const struct layout *l, raddr_t values)
{
	return values + (raddr_t)(layout__has(l, F_DICTVALUES_VALUES) ? l->v[F_DICTVALUES_VALUES] : 0);
}

int pyobj__values_capacity(struct remote *r, const struct layout *l, raddr_t values, uint64_t *cap)
{
	uint8_t c;
	int ret;

	/*
	 * Before 3.13 PyDictValues is the bare array, as long as the keys say;
	 * from 3.13 it starts with {capacity, size, embedded, valid} bytes, which
	 * is what pushes the array (the layout's dictvalues.values) off zero.
	 */
	if (!layout__has(l, F_DICTVALUES_VALUES) || l->v[F_DICTVALUES_VALUES] < 4) {
		*cap = PYOBJ_DICT_CAP;
		return 0;
	}
	if ((ret = remote__read(r, values, &c, 1)))
		return ret;
	*cap = c;
	return 0;
}

int pyobj__keys_values_each(struct remote *r, const struct layout *l, raddr_t keys, raddr_t values,
			    uint64_t nvalues, pyobj_dict_fn fn, void *arg)
{
	struct keys_geom g;
	int ret;

	if (!values)
		return -EINVAL;
	if ((ret = keys_geom(r, l, keys, &g)))
		return ret;
	return keys_each(r, &g, values, nvalues, fn, arg);
}

int pyobj__dict_each(struct remote *r, const struct layout *l, raddr_t obj, pyobj_dict_fn fn,
		     void *arg)
{
	raddr_t type, keys, values;
	uint64_t nvalues = 0;
	struct keys_geom g;
	int ret;

	if ((ret = pyobj__type(r, l, obj, &type)))
		return ret;
	/* a dict or an instance of a dict subclass; any other object is no dict */
	if (type != l->dict_type &&
	    (!layout__has(l, F_TP_FLAGS) || !type_has_flags(r, l, type, TPFLAGS_DICT_SUBCLASS) ||
	     !pyobj__is_type(r, l, type)))
		return -EINVAL;
	if (!layout__has(l, F_DICT_KEYS) || !layout__has(l, F_DICT_VALUES))
		return -ENOTSUP;
	if ((ret = remote__u64(r, field_addr(l, obj, F_DICT_KEYS), &keys)) ||
	    (ret = remote__u64(r, field_addr(l, obj, F_DICT_VALUES), &values)))
		return ret;
	if ((ret = keys_geom(r, l, keys, &g)))
		return ret;
	if (values) {
		if ((ret = pyobj__values_capacity(r, l, values, &nvalues)))
			return ret;
		values = pyobj__values_array(l, values);
	}
	return keys_each(r, &g, values, nvalues, fn, arg);
}

struct get_str_arg {
	struct remote *r;
	const struct layout *l;
	const char *key;
	raddr_t value;
};

static int get_str_cb(raddr_t key, raddr_t value, void *p)
{
	struct get_str_arg *a = p;
	char buf[128];

	if (pyobj__str(a->r, a->l, key, buf, sizeof(buf)) < 0 || strcmp(buf, a->key))
		return 0;
	a->value = value;
	return 1;
}

int pyobj__dict_get_str(struct remote *r, const struct layout *l, raddr_t dict, const char *key,
			raddr_t *value)
{
	struct get_str_arg a = { r, l, key, 0 };
	int ret = pyobj__dict_each(r, l, dict, get_str_cb, &a);

	if (ret == 1) {
		*value = a.value;
		return 0;
	}
	return ret < 0 ? ret : -ENOENT;
}

/*
 * PyLongObject: the digits (30 bits in a uint32 each) follow a PyVarObject
 * header in every version, but what the word after ob_type means changed in
 * 3.12: before, ob_size is the signed digit count; from 3.12 it is lv_tag,
 * digit count << 3 | sign (0 positive, 1 zero, 2 negative). No layout field
 * tells the two apart, so the version does.
 */
#define LONG_SHIFT 30
#define LONG_MAX_DIGITS 80 /* ~720 decimal digits: enough for a label */

static bool long_tagged(const struct layout *l)
{
	return l->major > 3 || (l->major == 3 && l->minor >= 12);
}

/* Sign (-1, 0, 1) and digit count of the int at obj. */
static int long_head(struct remote *r, const struct layout *l, raddr_t obj, int *sign, uint64_t *ndigits)
{
	uint64_t w;
	int ret;

	if (!layout__has(l, F_VAR_OB_SIZE))
		return -ENOTSUP;
	if ((ret = remote__u64(r, field_addr(l, obj, F_VAR_OB_SIZE), &w)))
		return ret;
	if (long_tagged(l)) {
		*ndigits = w >> 3;
		*sign = (w & 3) == 1 ? 0 : (w & 3) == 2 ? -1 : 1;
		if ((w & 3) == 3)
			return -EINVAL;
	} else {
		int64_t s = (int64_t)w;
		*sign = s < 0 ? -1 : s > 0;
		*ndigits = s < 0 ? (uint64_t)0 - w : w;
	}
	if (*sign == 0)
		*ndigits = 0;
	return 0;
}

static raddr_t long_digits(const struct layout *l, raddr_t obj)
{
	/* ob_digit follows the PyVarObject (or ob_base + lv_tag) header */
	return obj + (raddr_t)l->v[F_VAR_OB_SIZE] + 8;
}

static bool is_int_type(const struct layout *l, raddr_t type)
{
	return type && (type == l->types[T_INT] || type == l->types[T_BOOL]);
}

int pyobj__int(struct remote *r, const struct layout *l, raddr_t obj, int64_t *out)
{
	uint32_t d[3] = { 0 };
	uint64_t nd, mag = 0;
	raddr_t type;
	int sign, ret;

	if ((ret = pyobj__type(r, l, obj, &type)))
		return ret;
	if (!is_int_type(l, type))
		return -EINVAL;
	if ((ret = long_head(r, l, obj, &sign, &nd)))
		return ret;
	if (nd > 3)
		return -ERANGE;
	if (nd && (ret = remote__read(r, long_digits(l, obj), d, nd * 4)))
		return ret;
	for (uint64_t i = nd; i-- > 0;) {
		if (d[i] >> LONG_SHIFT)
			return -EINVAL;
		if (mag >> (64 - LONG_SHIFT))
			return -ERANGE;
		mag = mag << LONG_SHIFT | d[i];
	}
	if (sign >= 0 ? mag > (uint64_t)INT64_MAX : mag > (uint64_t)INT64_MAX + 1)
		return -ERANGE;
	*out = sign < 0 ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}

/* Decimal digits of a big int: repeated division by 10^9 of the 30-bit digits. */
static int long_decimal(struct remote *r, const struct layout *l, raddr_t obj, char *buf, size_t size)
{
	uint32_t d[LONG_MAX_DIGITS];
	char tmp[LONG_MAX_DIGITS * 10 + 2];
	size_t pos = sizeof(tmp) - 1;
	uint64_t nd;
	int sign, ret;

	if ((ret = long_head(r, l, obj, &sign, &nd)))
		return ret;
	if (nd > LONG_MAX_DIGITS)
		return snprintf(buf, size, "<int of %llu digits>", (unsigned long long)nd);
	if (nd && (ret = remote__read(r, long_digits(l, obj), d, nd * 4)))
		return ret;
	tmp[pos] = 0;
	while (nd && !d[nd - 1])
		nd--;
	if (!nd)
		tmp[--pos] = '0';
	while (nd) {
		uint64_t rem = 0;

		for (uint64_t i = nd; i-- > 0;) {
			uint64_t cur = rem << LONG_SHIFT | (d[i] & ((1u << LONG_SHIFT) - 1));
			d[i] = (uint32_t)(cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		while (nd && !d[nd - 1])
			nd--;
		for (int k = 0; k < 9 && (nd || rem); k++) {
			tmp[--pos] = (char)('0' + rem % 10);
			rem /= 10;
		}
	}
	if (sign < 0)
		tmp[--pos] = '-';
	return snprintf(buf, size, "%s", tmp + pos);
}

int pyobj__float(struct remote *r, const struct layout *l, raddr_t obj, double *out)
{
	raddr_t type;
	int ret;

	if ((ret = pyobj__type(r, l, obj, &type)))
		return ret;
	if (!type || type != l->types[T_FLOAT])
		return -EINVAL;
	/* PyFloatObject: ob_fval right after the PyObject header */
	return remote__read(r, obj + (raddr_t)l->v[F_OB_SIZE], out, sizeof(*out));
}

int pyobj__bytes(struct remote *r, const struct layout *l, raddr_t obj, void *buf, size_t size,
		 size_t *len)
{
	raddr_t type;
	uint64_t n;
	int ret;

	if ((ret = pyobj__type(r, l, obj, &type)))
		return ret;
	if (!type || type != l->types[T_BYTES] || !layout__has(l, F_VAR_OB_SIZE))
		return -EINVAL;
	if ((ret = remote__u64(r, field_addr(l, obj, F_VAR_OB_SIZE), &n)))
		return ret;
	if (n > (1ull << 40))
		return -EINVAL;
	*len = (size_t)n;
	/* PyBytesObject: PyVarObject, ob_shash, then ob_sval (3.8 - 3.14) */
	return remote__read(r, field_addr(l, obj, F_VAR_OB_SIZE) + 16, buf, MIN((size_t)n, size));
}

/* Append s to buf at *pos, keeping room for "..." and the NUL. */
struct rbuf {
	char *buf;
	size_t size, pos;
	bool cut;
};

static void rb_put(struct rbuf *b, const char *s, size_t n)
{
	if (b->cut)
		return;
	if (b->pos + n + 4 > b->size) {
		b->cut = true;
		return;
	}
	memcpy(b->buf + b->pos, s, n);
	b->pos += n;
	b->buf[b->pos] = 0;
}

/* Quote like Python's repr: '...', or "..." when only that avoids escaping a quote. */
static void rb_quoted(struct rbuf *b, const unsigned char *s, size_t n, bool bytes)
{
	char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';

	rb_put(b, &q, 1);
	for (size_t i = 0; i < n && !b->cut; i++) {
		unsigned char c = s[i];
		char esc[8];

		if (c == '\\' || c == (unsigned char)q) {
			esc[0] = '\\';
			esc[1] = (char)c;
			rb_put(b, esc, 2);
		} else if (c == '\n')
			rb_put(b, "\\n", 2);
		else if (c == '\r')
			rb_put(b, "\\r", 2);
		else if (c == '\t')
			rb_put(b, "\\t", 2);
		else if (c < 0x20 || c == 0x7f || (bytes && c >= 0x80)) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			rb_put(b, esc, 4);
		} else
			rb_put(b, (const char *)&c, 1);
	}
	if (b->cut) {
		/* rb_put left room for this */
		memcpy(b->buf + b->pos, "...", 4);
		b->pos += 3;
		return;
	}
	rb_put(b, &q, 1);
}

/* A value decoded only in part: "...", instead of the closing quote. */
static void rb_cut_quote(struct rbuf *b)
{
	if (b->cut || !b->pos)
		return;
	/* rb_put always leaves 4 bytes free: room for two more characters */
	memcpy(b->buf + b->pos - 1, "...", 4);
	b->pos += 2;
	b->cut = true;
}

/* The shortest %g that reads back as v, with Python's ".0" for integral values. */
static int float_repr(double v, char *buf, size_t size)
{
	char tmp[40];

	if (isnan(v))
		return snprintf(buf, size, "nan");
	if (isinf(v))
		return snprintf(buf, size, v > 0 ? "inf" : "-inf");
	for (int p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*g", p, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (!strpbrk(tmp, ".en"))
		return snprintf(buf, size, "%s.0", tmp);
	return snprintf(buf, size, "%s", tmp);
}

int pyobj__repr(struct remote *r, const struct layout *l, raddr_t obj, char *buf, size_t size)
{
	raddr_t type;
	int ret;

	if (size < 8)
		return -EINVAL;
	buf[0] = 0;
	if ((ret = pyobj__type(r, l, obj, &type)))
		return ret;
	if (!type)
		return -EINVAL;
	if (type == l->str_type) {
		char s[PYOBJ_REPR_MAX + 1];
		struct rbuf b = { buf, size, 0, false };

		uint64_t length = 0, npoints = 0;

		if ((ret = pyobj__str(r, l, obj, s, sizeof(s))) < 0)
			return ret;
		for (int i = 0; i < ret; i++)
			npoints += ((unsigned char)s[i] & 0xc0) != 0x80;
		remote__u64(r, field_addr(l, obj, F_STR_LENGTH), &length);
		rb_quoted(&b, (const unsigned char *)s, (size_t)ret, false);
		if (length > npoints)
			rb_cut_quote(&b);
		return (int)b.pos;
	}
	if (type == l->types[T_BYTES]) {
		unsigned char s[PYOBJ_REPR_MAX];
		struct rbuf b = { buf, size, 0, false };
		size_t n;

		if ((ret = pyobj__bytes(r, l, obj, s, sizeof(s), &n)))
			return ret;
		rb_put(&b, "b", 1);
		rb_quoted(&b, s, MIN(n, sizeof(s)), true);
		if (n > sizeof(s))
			rb_cut_quote(&b);
		return (int)b.pos;
	}
	if (type == l->types[T_BOOL]) {
		int64_t v;
		if ((ret = pyobj__int(r, l, obj, &v)))
			return ret;
		return snprintf(buf, size, "%s", v ? "True" : "False");
	}
	if (type == l->types[T_INT]) {
		int64_t v;
		ret = pyobj__int(r, l, obj, &v);
		if (ret == -ERANGE)
			return long_decimal(r, l, obj, buf, size);
		if (ret)
			return ret;
		return snprintf(buf, size, "%lld", (long long)v);
	}
	if (type == l->types[T_FLOAT]) {
		double v;
		if ((ret = pyobj__float(r, l, obj, &v)))
			return ret;
		return float_repr(v, buf, size);
	}
	if (type == l->types[T_NONE])
		return snprintf(buf, size, "None");
	return -EINVAL;
}
