/* SPDX-License-Identifier: MIT */
/* Object decoders. Every length read from the target is capped here. */
#define _GNU_SOURCE
#include "pyobj.h"

#include <errno.h>
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

int pyobj__dict_each(struct remote *r, const struct layout *l, raddr_t obj, pyobj_dict_fn fn,
		     void *arg)
{
	raddr_t type, keys, values, entries;
	uint64_t nentries, size = 0, index_bytes;
	size_t esize;
	bool unicode_entries = false;
	int ret;

	if ((ret = pyobj__type(r, l, obj, &type)))
		return ret;
	/* a dict or an instance of a dict subclass; any other object is no dict */
	if (type != l->dict_type &&
	    (!layout__has(l, F_TP_FLAGS) || !type_has_flags(r, l, type, TPFLAGS_DICT_SUBCLASS) ||
	     !pyobj__is_type(r, l, type)))
		return -EINVAL;
	if (!layout__has(l, F_DICT_KEYS) || !layout__has(l, F_DK_NENTRIES) || !layout__has(l, F_DK_INDICES))
		return -ENOTSUP;
	if ((ret = remote__u64(r, field_addr(l, obj, F_DICT_KEYS), &keys)) ||
	    (ret = remote__u64(r, field_addr(l, obj, F_DICT_VALUES), &values)))
		return ret;
	if (!keys)
		return -EINVAL;
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
		unicode_entries = kind != 0 && layout__has(l, F_DK_UENTRY_SIZE);
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
	nentries = MIN(nentries, (uint64_t)PYOBJ_DICT_CAP);
	esize = (size_t)(unicode_entries ? l->v[F_DK_UENTRY_SIZE] : l->v[F_DK_ENTRY_SIZE]);
	entries = field_addr(l, keys, F_DK_INDICES) + index_bytes;
	for (uint64_t i = 0; i < nentries; i++) {
		raddr_t e = entries + i * esize, key, value;
		/* general entries are {hash, key, value}; unicode ones {key, value} */
		raddr_t kaddr = unicode_entries ? e : e + 8;

		if ((ret = remote__u64(r, kaddr, &key)))
			return ret;
		if (!key)
			continue;
		if (values) {
			/* split table: values live in the dict's own array */
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
