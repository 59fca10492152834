/* SPDX-License-Identifier: MIT */
/*
 * refs__each, refs__label and the pyobj atom decoders over synthetic memory
 * images laid out with the committed offset tables of 3.8, 3.11, 3.12, 3.13
 * and 3.14, so each managed-dict scheme and int representation is covered;
 * and over random memory, which must never crash or hang them.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/pyobj.h"
#include "../../analyzer/refs.h"
#include "../../symbols/tables.h"

#define BASE ((raddr_t)0x10000000)
#define SEG_SIZE ((size_t)1 << 20)
#define TYPE_SIZE 1024

#define F_HEAPTYPE (1ull << 9)
#define F_READY (1ull << 12)
#define F_INLINE_VALUES (1ull << 2)
#define F_MANAGED_DICT (1ull << 4)
#define F_DICT_SUBCLASS (1ull << 29)
#define F_TYPE_SUBCLASS (1ull << 31)

struct img {
	unsigned char *mem;
	size_t used;
	struct remote r;
	struct layout l;
	bool open;
	raddr_t known[16];
	int nknown;
};

static struct img M;

static raddr_t alloc(size_t n)
{
	raddr_t a;

	/* room for the managed dict pre-header (obj[-4] .. obj[-1]) before every object */
	M.used = (M.used + 32 + 15) & ~(size_t)15;
	cr_assert(M.used + n <= SEG_SIZE, "image full");
	a = BASE + M.used;
	M.used += n;
	return a;
}

static void *ptr(raddr_t a)
{
	cr_assert(a >= BASE && a < BASE + SEG_SIZE);
	return M.mem + (a - BASE);
}

static void put(raddr_t a, uint64_t v)
{
	memcpy(ptr(a), &v, 8);
}

static void put_f(raddr_t obj, enum field_id f, uint64_t v)
{
	cr_assert(layout__has(&M.l, f), "field %d absent", f);
	put(obj + (raddr_t)M.l.v[f], v);
}

static void put8(raddr_t a, uint8_t v)
{
	*(uint8_t *)ptr(a) = v;
}

static raddr_t cstr(const char *s)
{
	raddr_t a = alloc(strlen(s) + 1);

	memcpy(ptr(a), s, strlen(s) + 1);
	return a;
}

static raddr_t obj_new(raddr_t type, size_t size)
{
	raddr_t o = alloc(size);

	put_f(o, F_OB_REFCNT, 1);
	put_f(o, F_OB_TYPE, type);
	return o;
}

static raddr_t type_new(const char *name, uint64_t flags, int64_t basicsize, int64_t itemsize, raddr_t base)
{
	raddr_t t = obj_new(M.l.type_type ? M.l.type_type : 0, TYPE_SIZE);

	if (!M.l.type_type) /* PyType_Type is its own type */
		put_f(t, F_OB_TYPE, t);
	put_f(t, F_TP_NAME, cstr(name));
	put_f(t, F_TP_FLAGS, flags | F_READY);
	put_f(t, F_TP_BASICSIZE, (uint64_t)basicsize);
	put_f(t, F_TP_ITEMSIZE, (uint64_t)itemsize);
	put_f(t, F_TP_BASE, base);
	return t;
}

static raddr_t str_new(const char *s)
{
	size_t n = strlen(s);
	raddr_t o = obj_new(M.l.str_type, (size_t)M.l.v[F_STR_ASCII_SIZE] + n + 1);
	uint32_t state = (1u << M.l.v[F_STR_KIND_BIT]) | (1u << M.l.v[F_STR_COMPACT_BIT]) |
			 (1u << M.l.v[F_STR_ASCII_BIT]);

	put_f(o, F_STR_LENGTH, n);
	memcpy(ptr(o + (raddr_t)M.l.v[F_STR_STATE]), &state, 4);
	memcpy(ptr(o + (raddr_t)M.l.v[F_STR_ASCII_SIZE]), s, n + 1);
	return o;
}

static bool tagged_ints(void)
{
	return M.l.minor >= 12;
}

/* An int of up to three 30-bit digits. */
static raddr_t int_new_type(raddr_t type, int sign, const uint32_t *digits, int nd)
{
	raddr_t o = obj_new(type, 24 + 4 * (size_t)(nd ? nd : 1) + 8);

	if (tagged_ints())
		put_f(o, F_VAR_OB_SIZE, (uint64_t)nd << 3 | (sign < 0 ? 2 : sign == 0 ? 1 : 0));
	else
		put_f(o, F_VAR_OB_SIZE, (uint64_t)(sign < 0 ? -nd : nd));
	if (nd)
		memcpy(ptr(o + 24), digits, 4 * (size_t)nd);
	return o;
}

static raddr_t small_int(int64_t v)
{
	uint32_t d[3] = { 0 };
	uint64_t m = v < 0 ? (uint64_t)-v : (uint64_t)v;
	int nd = 0;

	while (m) {
		d[nd++] = (uint32_t)(m & ((1u << 30) - 1));
		m >>= 30;
	}
	return int_new_type(M.l.types[T_INT], v < 0 ? -1 : v > 0, d, nd);
}

static raddr_t tuple_new(const raddr_t *items, int n)
{
	raddr_t o = obj_new(M.l.types[T_TUPLE], (size_t)M.l.v[F_TUPLE_ITEMS] + 8 * (size_t)n);

	put_f(o, F_VAR_OB_SIZE, (uint64_t)n);
	for (int i = 0; i < n; i++)
		put(o + (raddr_t)M.l.v[F_TUPLE_ITEMS] + 8 * (raddr_t)i, items[i]);
	return o;
}

/* A keys object of 8 slots: general entries {hash, key, value}, or (split) keys only. */
static raddr_t keys_new(const raddr_t *keys, const raddr_t *values, int n, bool split)
{
	bool unicode = split && layout__has(&M.l, F_DK_LOG2_SIZE);
	size_t esize = (size_t)(unicode ? M.l.v[F_DK_UENTRY_SIZE] : M.l.v[F_DK_ENTRY_SIZE]);
	raddr_t k = alloc((size_t)M.l.v[F_DK_INDICES] + 8 + 8 * esize), e;

	if (layout__has(&M.l, F_DK_LOG2_SIZE)) {
		put8(k + (raddr_t)M.l.v[F_DK_LOG2_SIZE], 3);
		put8(k + (raddr_t)M.l.v[F_DK_LOG2_INDEX_BYTES], 3);
		put8(k + (raddr_t)M.l.v[F_DK_KIND], split ? 2 : 0);
	} else
		put_f(k, F_DK_SIZE, 8);
	put_f(k, F_DK_NENTRIES, (uint64_t)n);
	e = k + (raddr_t)M.l.v[F_DK_INDICES] + 8;
	for (int i = 0; i < n; i++, e += esize) {
		put8(k + (raddr_t)M.l.v[F_DK_INDICES] + (raddr_t)i, (uint8_t)i);
		if (unicode) {
			put(e, keys[i]);
			continue;
		}
		put(e, 0x1234 + (uint64_t)i);
		put(e + 8, keys[i]);
		if (!split)
			put(e + 16, values[i]);
	}
	return k;
}

static raddr_t dict_new_type(raddr_t type, const raddr_t *keys, const raddr_t *values, int n)
{
	raddr_t d = obj_new(type, 64);

	put_f(d, F_DICT_USED, (uint64_t)n);
	put_f(d, F_DICT_KEYS, keys_new(keys, values, n, false));
	return d;
}

static raddr_t dict_new(const raddr_t *keys, const raddr_t *values, int n)
{
	return dict_new_type(M.l.dict_type, keys, values, n);
}

static const char *const VERSIONS[] = { "3.8.18", "3.11.7", "3.12.1", "3.13.0", "3.14.10" };

/* A fresh image with the layout of version and its builtin types. */
static void img_init(const char *version)
{
	static const char *const names[T__COUNT] = {
#define X(id, name) [T_##id] = name,
		LAYOUT_TYPE_SYMBOLS(X)
#undef X
	};
	enum table_match how;
	const struct offset_table *t = tables__find(version, "release", NULL, &how);

	cr_assert_not_null(t, "no table for %s", version);
	memset(&M, 0, sizeof(M));
	M.mem = calloc(1, SEG_SIZE);
	layout__init(&M.l);
	for (int f = 0; f < F__COUNT; f++)
		if (t->has[f]) {
			M.l.v[f] = t->v[f];
			M.l.src[f] = LSRC_TABLE;
		}
	snprintf(M.l.version, sizeof(M.l.version), "%s", version);
	sscanf(version, "%u.%u.%u", &M.l.major, &M.l.minor, &M.l.micro);
	M.l.type_type = type_new("type", F_TYPE_SUBCLASS, TYPE_SIZE, 40, 0);
	M.l.types[T_TYPE] = M.l.type_type;
	M.l.object_type = M.l.types[T_OBJECT] = type_new("object", 0, 16, 0, 0);
	for (int i = 0; i < T__COUNT; i++) {
		if (M.l.types[i])
			continue;
		/* the tp_name matters only to naming; the layout facts to the decoders */
		M.l.types[i] = type_new(names[i], i == T_DICT ? F_DICT_SUBCLASS : 0,
					i == T_DICT ? 48 : 16, 0, M.l.object_type);
	}
	M.l.str_type = M.l.types[T_STR];
	M.l.dict_type = M.l.types[T_DICT];
}

static void img_open(void)
{
	struct remote_segment seg = { BASE, M.mem, SEG_SIZE };

	cr_assert_eq(remote__open_image(&M.r, &seg, 1), 0);
	M.open = true;
}

static void img_release(void)
{
	if (M.open)
		remote__release(&M.r);
	free(M.mem);
	memset(&M, 0, sizeof(M));
}

static bool known_cb(raddr_t a, void *arg)
{
	(void)arg;
	for (int i = 0; i < M.nknown; i++)
		if (M.known[i] == a)
			return true;
	return false;
}

static struct refs_ctx ctx(void)
{
	return (struct refs_ctx){ &M.r, &M.l, known_cb, NULL };
}

struct edges {
	struct edge v[512];
	int n;
};

static int collect_cb(const struct edge *e, void *arg)
{
	struct edges *es = arg;

	if (es->n < 512)
		es->v[es->n++] = *e;
	return 0;
}

static int collect(raddr_t obj, struct edges *es)
{
	struct refs_ctx c = ctx();
	raddr_t type;

	es->n = 0;
	cr_assert_eq(pyobj__type(&M.r, &M.l, obj, &type), 0);
	return refs__each(&c, obj, type, collect_cb, es);
}

static const struct edge *find(const struct edges *es, enum edge_kind k, raddr_t to)
{
	for (int i = 0; i < es->n; i++)
		if (es->v[i].kind == k && es->v[i].to == to)
			return &es->v[i];
	return NULL;
}

static void label_is(const struct edge *e, const char *owner, const char *want)
{
	struct refs_ctx c = ctx();
	char buf[200];

	cr_assert_not_null(e, "%s: no edge for '%s'", M.l.version, want);
	refs__label(&c, e, owner, buf, sizeof(buf));
	cr_assert_str_eq(buf, want, "%s", M.l.version);
}

static void repr_is(raddr_t obj, const char *want)
{
	char buf[64];
	int n = pyobj__repr(&M.r, &M.l, obj, buf, sizeof(buf));

	cr_assert_geq(n, 0, "%s: repr of 0x%llx: %d", M.l.version, (unsigned long long)obj, n);
	cr_assert_str_eq(buf, want, "%s", M.l.version);
}

Test(pyobj, reprs)
{
	for (size_t v = 0; v < ARRAY_SIZE(VERSIONS); v++) {
		raddr_t s1, s2, s3, s4, b1, b2, i0, i1, i2, i3, i4, t, f, fl1, fl2, fl3, none;
		static const uint32_t two64[3] = { 0, 0, 16 }; /* 2**64 = 16 * 2**60 */
		static const uint32_t maxneg[3] = { 0, 0, 8 }; /* 2**63 */
		char longs[400];
		unsigned char bytes[] = { 'k', 0, '\'', 0x80 };
		double d;
		int64_t iv;

		img_init(VERSIONS[v]);
		s1 = str_new("user:42");
		s2 = str_new("it's");
		s3 = str_new("both ' and \"\n");
		memset(longs, 'x', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = 0;
		s4 = str_new(longs);
		b1 = obj_new(M.l.types[T_BYTES], 40);
		put_f(b1, F_VAR_OB_SIZE, sizeof(bytes));
		memcpy(ptr(b1 + 32), bytes, sizeof(bytes));
		b2 = obj_new(M.l.types[T_BYTES], 40 + 300);
		put_f(b2, F_VAR_OB_SIZE, 300);
		memset(ptr(b2 + 32), 'a', 300);
		i0 = small_int(0);
		i1 = small_int(-5);
		i2 = small_int(1234567890123LL);
		i3 = int_new_type(M.l.types[T_INT], 1, two64, 3);
		i4 = int_new_type(M.l.types[T_INT], -1, maxneg, 3);
		t = int_new_type(M.l.types[T_BOOL], 1, (const uint32_t[]){ 1 }, 1);
		f = int_new_type(M.l.types[T_BOOL], 0, NULL, 0);
		fl1 = obj_new(M.l.types[T_FLOAT], 24);
		d = 1.5;
		memcpy(ptr(fl1 + 16), &d, 8);
		fl2 = obj_new(M.l.types[T_FLOAT], 24);
		d = 3.0;
		memcpy(ptr(fl2 + 16), &d, 8);
		fl3 = obj_new(M.l.types[T_FLOAT], 24);
		d = 0.1;
		memcpy(ptr(fl3 + 16), &d, 8);
		none = obj_new(M.l.types[T_NONE], 16);
		img_open();

		repr_is(s1, "'user:42'");
		repr_is(s2, "\"it's\"");
		repr_is(s3, "'both \\' and \"\\n'");
		{
			char buf[64];
			int n = pyobj__repr(&M.r, &M.l, s4, buf, sizeof(buf));
			cr_assert_eq(n, (int)strlen(buf));
			cr_assert_lt(n, 64);
			cr_assert(!strncmp(buf, "'xxxx", 5) && !strcmp(buf + n - 3, "..."), "%s", buf);
		}
		repr_is(b1, "b\"k\\x00'\\x80\"");
		{
			char buf[400];
			int n = pyobj__repr(&M.r, &M.l, b2, buf, sizeof(buf));
			cr_assert(n > 256 && !strncmp(buf, "b'aaa", 5) && !strcmp(buf + n - 3, "..."), "%s", buf);
		}
		repr_is(i0, "0");
		repr_is(i1, "-5");
		repr_is(i2, "1234567890123");
		repr_is(i3, "18446744073709551616");
		cr_assert_eq(pyobj__int(&M.r, &M.l, i3, &iv), -ERANGE);
		cr_assert_eq(pyobj__int(&M.r, &M.l, i4, &iv), 0);
		cr_assert_eq(iv, INT64_MIN);
		repr_is(t, "True");
		repr_is(f, "False");
		repr_is(fl1, "1.5");
		repr_is(fl2, "3.0");
		repr_is(fl3, "0.1");
		repr_is(none, "None");
		cr_assert_eq(pyobj__repr(&M.r, &M.l, M.l.types[T_LIST], (char[16]){ 0 }, 16), -EINVAL);
		img_release();
	}
}

Test(refs_image, containers)
{
	for (size_t v = 0; v < ARRAY_SIZE(VERSIONS); v++) {
		raddr_t a, b, c, list, items, tup, set, table, dict, k1, k2, tt[3];
		struct edges es;

		img_init(VERSIONS[v]);
		a = obj_new(M.l.object_type, 16);
		b = obj_new(M.l.object_type, 16);
		c = obj_new(M.l.object_type, 16);
		list = obj_new(M.l.types[T_LIST], 48);
		items = alloc(24);
		put(items, a);
		put(items + 8, b);
		put(items + 16, c);
		put_f(list, F_VAR_OB_SIZE, 3);
		put_f(list, F_LIST_ITEMS, items);
		tt[0] = c, tt[1] = a, tt[2] = 0;
		tup = tuple_new(tt, 3);
		/* a set of 8 slots: a, the dummy (hash -1), b, empties */
		set = obj_new(M.l.types[T_SET], 200);
		table = alloc(8 * 16);
		put(table + 0, a);
		put(table + 8, 77);
		put(table + 16, c);
		put(table + 24, (uint64_t)-1);
		put(table + 5 * 16, b);
		put(table + 5 * 16 + 8, 78);
		put_f(set, F_SET_MASK, 7);
		put_f(set, F_SET_TABLE, table);
		k1 = str_new("user:42");
		k2 = small_int(7);
		dict = dict_new((raddr_t[]){ k1, k2 }, (raddr_t[]){ a, b }, 2);
		img_open();

		cr_assert_eq(collect(list, &es), 0);
		cr_assert_eq(es.n, 3);
		for (int i = 0; i < 3; i++)
			cr_assert(es.v[i].kind == EDGE_LIST_INDEX && es.v[i].index == i);
		label_is(find(&es, EDGE_LIST_INDEX, c), "builtins.list", "list index=2");

		cr_assert_eq(collect(tup, &es), 0);
		cr_assert_eq(es.n, 2, "%s: NULL items are no edges", M.l.version);
		label_is(find(&es, EDGE_TUPLE_INDEX, a), "builtins.tuple", "tuple index=1");

		cr_assert_eq(collect(set, &es), 0);
		cr_assert_eq(es.n, 2, "%s: set gave %d edges", M.l.version, es.n);
		cr_assert_not_null(find(&es, EDGE_SET_MEMBER, a));
		cr_assert_not_null(find(&es, EDGE_SET_MEMBER, b));
		cr_assert_null(find(&es, EDGE_SET_MEMBER, c), "the dummy is no member");
		label_is(find(&es, EDGE_SET_MEMBER, b), "builtins.set", "set member");

		cr_assert_eq(collect(dict, &es), 0);
		cr_assert_eq(es.n, 4);
		label_is(find(&es, EDGE_DICT_VALUE, a), "builtins.dict", "dict key='user:42'");
		label_is(find(&es, EDGE_DICT_VALUE, b), "builtins.dict", "dict key=7");
		label_is(find(&es, EDGE_DICT_KEY, k1), "builtins.dict", "dict key");
		img_release();
	}
}

/*
 * A Python class with three attribute slots in its cached keys, and one
 * instance with a and b set, stored the way each version does by default.
 */
Test(refs_image, instance_attributes)
{
	for (size_t v = 0; v < ARRAY_SIZE(VERSIONS); v++) {
		raddr_t plain, inst, name, keys, a, b, values, kk[3];
		bool managed;
		struct edges es;
		uint64_t flags = F_HEAPTYPE;
		int64_t basicsize;

		img_init(VERSIONS[v]);
		managed = M.l.minor >= 11;
		a = obj_new(M.l.object_type, 16);
		b = obj_new(M.l.object_type, 16);
		kk[0] = str_new("a");
		kk[1] = str_new("b");
		kk[2] = str_new("c");
		keys = keys_new(kk, NULL, 3, true);
		if (managed)
			flags |= F_MANAGED_DICT;
		if (M.l.minor >= 13)
			flags |= F_INLINE_VALUES;
		basicsize = managed ? 16 : 32;
		name = str_new("Plain");
		plain = type_new("Plain", flags, basicsize, 0, M.l.object_type);
		put_f(plain, F_TP_NAME, name + (raddr_t)M.l.v[F_STR_ASCII_SIZE]);
		put_f(plain, F_HT_NAME, name);
		put_f(plain, F_HT_CACHED_KEYS, keys);
		put_f(plain, F_TP_MRO, tuple_new((raddr_t[]){ plain, M.l.object_type }, 2));
		if (!managed)
			put_f(plain, F_TP_DICTOFFSET, 16);
		inst = obj_new(plain, (size_t)basicsize + 8 + 3 * 8);
		if (!managed) {
			/* a split dict at tp_dictoffset */
			raddr_t d = obj_new(M.l.dict_type, 64), vals = alloc(24);
			put_f(d, F_DICT_KEYS, keys);
			put_f(d, F_DICT_VALUES, vals);
			put(vals, a);
			put(vals + 8, b);
			put(inst + 16, d);
		} else if (M.l.minor == 11) {
			values = alloc(24);
			put(values, a);
			put(values + 8, b);
			put(inst - 32, values);
		} else if (M.l.minor == 12) {
			values = alloc(24);
			put(values, a);
			put(values + 8, b);
			put(inst - 24, values - 1);
		} else {
			values = inst + 16;
			put8(values + 0, 3); /* capacity */
			put8(values + 1, 2); /* size */
			put8(values + 2, 1); /* embedded */
			put8(values + 3, 1); /* valid */
			put(values + (raddr_t)M.l.v[F_DICTVALUES_VALUES], a);
			put(values + (raddr_t)M.l.v[F_DICTVALUES_VALUES] + 8, b);
		}
		img_open();

		cr_assert_eq(collect(inst, &es), 0, "%s", M.l.version);
		label_is(find(&es, EDGE_ATTR, a), "__main__.Plain", "Plain.a (instance attribute)");
		label_is(find(&es, EDGE_ATTR, b), "__main__.Plain", "Plain.b (instance attribute)");
		label_is(find(&es, EDGE_TYPE_OF, plain), "__main__.Plain", "Plain.__class__");
		cr_assert_eq(es.n, managed ? 3 : 4, "%s: %d edges", M.l.version, es.n);
		if (!managed)
			cr_assert_not_null(find(&es, EDGE_INSTANCE_DICT, *(uint64_t *)ptr(inst + 16)));
		remote__release(&M.r);
		M.open = false;

		if (M.l.minor >= 13) {
			/* values no longer valid and no dict: no attributes */
			put8(inst + 16 + 3, 0);
			img_open();
			cr_assert_eq(collect(inst, &es), 0);
			cr_assert_eq(es.n, 1, "%s: %d edges", M.l.version, es.n);
			remote__release(&M.r);
			M.open = false;
		}
		if (managed) {
			/* a materialised dict in the pre-header wins */
			raddr_t d = dict_new((raddr_t[]){ kk[2] }, (raddr_t[]){ b }, 1);
			put(inst - 24, d);
			img_open();
			cr_assert_eq(collect(inst, &es), 0);
			cr_assert_eq(es.n, 3, "%s: %d edges", M.l.version, es.n);
			label_is(find(&es, EDGE_INSTANCE_DICT, d), "__main__.Plain", "Plain.__dict__");
			label_is(find(&es, EDGE_ATTR, b), "__main__.Plain", "Plain.c (instance attribute)");
		}
		img_release();
	}
}

Test(refs_image, slots)
{
	for (size_t v = 0; v < ARRAY_SIZE(VERSIONS); v++) {
		raddr_t cls, name, dict, descr, member, inst, x, xs;
		struct edges es;

		img_init(VERSIONS[v]);
		x = obj_new(M.l.object_type, 16);
		name = str_new("Slotted");
		cls = type_new("Slotted", F_HEAPTYPE, 32, 0, M.l.object_type);
		put_f(cls, F_TP_NAME, name + (raddr_t)M.l.v[F_STR_ASCII_SIZE]);
		put_f(cls, F_HT_NAME, name);
		xs = str_new("x");
		put(cls + (raddr_t)M.l.v[F_HT_NAME] + 8, tuple_new((raddr_t[]){ xs, str_new("y") }, 2));
		put_f(cls, F_TP_MRO, tuple_new((raddr_t[]){ cls, M.l.object_type }, 2));
		member = alloc(48);
		memcpy(ptr(member + (raddr_t)M.l.v[F_MEMBERDEF_TYPE]), &(int32_t){ 16 }, 4);
		put(member + (raddr_t)M.l.v[F_MEMBERDEF_OFFSET], 16);
		descr = obj_new(M.l.types[T_MEMBERDESCR], 64);
		put_f(descr, F_MEMBERDESCR_MEMBER, member);
		dict = dict_new((raddr_t[]){ xs }, (raddr_t[]){ descr }, 1);
		put_f(cls, F_TP_DICT, dict);
		inst = obj_new(cls, 32);
		put(inst + 16, x);
		put(inst + 24, x); /* slot y has no descriptor here: not given */
		img_open();

		cr_assert_eq(collect(inst, &es), 0);
		cr_assert_eq(es.n, 2, "%s: %d edges", M.l.version, es.n);
		label_is(find(&es, EDGE_SLOT, x), "mod.Slotted", "Slotted.x (slot)");
		img_release();
	}
}

Test(refs_image, deque_weakref_scan)
{
	for (size_t v = 0; v < ARRAY_SIZE(VERSIONS); v++) {
		raddr_t dq_type, dq, b1, b2, o[5], wr, wr_dead, none, ext, thing, known, wr_in;
		struct edges es;

		img_init(VERSIONS[v]);
		for (int i = 0; i < 5; i++)
			o[i] = obj_new(M.l.object_type, 16);
		dq_type = type_new("collections.deque", 0, 216, 0, M.l.object_type);
		dq = obj_new(dq_type, 216);
		b1 = alloc(528);
		b2 = alloc(528);
		/* 5 items from index 62 of the first block on */
		put(b1 + 8 + 62 * 8, o[0]);
		put(b1 + 8 + 63 * 8, o[1]);
		put(b1 + 520, b2);
		put(b2 + 0, b1);
		put(b2 + 8, o[2]);
		put(b2 + 16, o[3]);
		put(b2 + 24, o[4]);
		put_f(dq, F_VAR_OB_SIZE, 5);
		put(dq + 24, b1);
		put(dq + 32, b2);
		put(dq + 40, 62);
		put(dq + 48, 2);

		none = obj_new(M.l.types[T_NONE], 16);
		wr = obj_new(M.l.types[T_WEAKREF], 64);
		put(wr + 16, o[0]);
		wr_dead = obj_new(M.l.types[T_WEAKREF], 64);
		put(wr_dead + 16, none);

		/* an unknown C type: {head; known; unknown; weakref list} */
		ext = type_new("ext.Thing", 0, 40, 0, M.l.object_type);
		thing = obj_new(ext, 40);
		known = o[3];
		wr_in = obj_new(M.l.types[T_WEAKREF], 64);
		put(thing + 16, known);
		put(thing + 24, o[4]);
		put(thing + 32, wr_in);
		M.known[M.nknown++] = known;
		M.known[M.nknown++] = wr_in;
		img_open();

		cr_assert_eq(collect(dq, &es), 0);
		cr_assert_eq(es.n, 5, "%s: %d edges", M.l.version, es.n);
		for (int i = 0; i < 5; i++)
			cr_assert(es.v[i].kind == EDGE_DEQUE_INDEX && es.v[i].to == o[i] && es.v[i].index == i);
		label_is(&es.v[4], "collections.deque", "deque index=4");

		cr_assert_eq(collect(wr, &es), 0);
		label_is(find(&es, EDGE_WEAK, o[0]), "builtins.weakref", "weak reference");
		cr_assert_eq(collect(wr_dead, &es), 0);
		cr_assert_eq(es.n, 0, "a dead weak reference points at nothing");

		cr_assert_eq(collect(thing, &es), 0);
		cr_assert_eq(es.n, 1, "%s: %d edges", M.l.version, es.n);
		cr_assert_eq(es.v[0].index, 16);
		label_is(find(&es, EDGE_SCANNED, known), "ext.Thing", "(scanned)");
		img_release();
	}
}

Test(refs_image, labels)
{
	struct refs_ctx c;
	struct edge e = { .index = -1 };
	char buf[100];

	img_init("3.12.1");
	img_open();
	c = ctx();
	e.kind = EDGE_FUNC;
	strcpy(e.name, "__closure__");
	refs__label(&c, &e, "builtins.function", buf, sizeof(buf));
	cr_assert_str_eq(buf, "function __closure__");
	e.kind = EDGE_METHOD;
	strcpy(e.name, "__self__");
	refs__label(&c, &e, "builtins.method", buf, sizeof(buf));
	cr_assert_str_eq(buf, "bound method __self__");
	e.kind = EDGE_CELL;
	refs__label(&c, &e, "builtins.cell", buf, sizeof(buf));
	cr_assert_str_eq(buf, "cell contents");
	e.kind = EDGE_MODULE_DICT;
	refs__label(&c, &e, "builtins.module", buf, sizeof(buf));
	cr_assert_str_eq(buf, "module __dict__");
	e.kind = EDGE_TYPE;
	strcpy(e.name, "__dict__");
	refs__label(&c, &e, "builtins.type", buf, sizeof(buf));
	cr_assert_str_eq(buf, "type __dict__");
	e.kind = EDGE_ATTR;
	strcpy(e.name, "session");
	refs__label(&c, &e, "myapp.models.User", buf, sizeof(buf));
	cr_assert_str_eq(buf, "User.session (instance attribute)");
	refs__label(&c, &e, "myapp.models.User", buf, 8);
	cr_assert_str_eq(buf, "User.se", "cut to the buffer");
	e.kind = EDGE_DICT_VALUE;
	e.key = M.l.types[T_LIST]; /* a key with no short repr */
	refs__label(&c, &e, "builtins.dict", buf, sizeof(buf));
	cr_assert(!strncmp(buf, "dict key=<", 10), "%s", buf);
	img_release();
}

/* Random memory under real type objects: any result but a crash or a hang. */
Test(refs_image, random_memory, .timeout = 60)
{
	unsigned seed = 12345;
	size_t total = 0;

	for (size_t v = 0; v < ARRAY_SIZE(VERSIONS); v++) {
		raddr_t types[12], heap, name, start;
		size_t nt = 0;

		img_init(VERSIONS[v]);
		name = str_new("Rand");
		heap = type_new("Rand", F_HEAPTYPE | F_MANAGED_DICT | (M.l.minor >= 13 ? F_INLINE_VALUES : 0),
				16, 0, M.l.object_type);
		put_f(heap, F_TP_NAME, name + (raddr_t)M.l.v[F_STR_ASCII_SIZE]);
		put_f(heap, F_HT_NAME, name);
		types[nt++] = heap;
		types[nt++] = type_new("collections.deque", 0, 216, 0, M.l.object_type);
		types[nt++] = type_new("collections.defaultdict", F_DICT_SUBCLASS, 56, 0, M.l.dict_type);
		types[nt++] = type_new("functools._lru_cache_wrapper", 0, 160, 0, M.l.object_type);
		types[nt++] = type_new("ext.Unknown", 0, 4096, 8, M.l.object_type);
		types[nt++] = M.l.types[T_LIST];
		types[nt++] = M.l.types[T_DICT];
		types[nt++] = M.l.types[T_SET];
		types[nt++] = M.l.types[T_TUPLE];
		types[nt++] = M.l.types[T_FUNCTION];
		types[nt++] = M.l.types[T_TYPE];
		types[nt++] = M.l.types[T_WEAKREF];
		start = BASE + ((M.used + 4095) & ~(size_t)4095);
		/* the rest of the image: random words, a third of them pointers into it */
		for (raddr_t a = start; a + 8 <= BASE + SEG_SIZE; a += 8) {
			uint64_t w = (uint64_t)rand_r(&seed) << 32 | (uint64_t)rand_r(&seed);
			if (w % 3 == 0)
				w = BASE + (w >> 8) % SEG_SIZE;
			else if (w % 3 == 1)
				w &= 0xff;
			put(a, w);
		}
		img_open();
		for (int i = 0; i < 3000; i++) {
			raddr_t obj = (start + 64 + ((raddr_t)rand_r(&seed) % (BASE + SEG_SIZE - start - 128))) & ~(raddr_t)7;
			struct refs_ctx c = ctx();
			struct edges es = { .n = 0 };
			char buf[128];
			int ret = refs__each(&c, obj, types[(size_t)i % nt], collect_cb, &es);

			cr_assert(ret <= 0);
			total += (size_t)es.n;
			for (int j = 0; j < es.n && j < 4; j++)
				refs__label(&c, &es.v[j], "x.Y", buf, sizeof(buf));
			pyobj__repr(&M.r, &M.l, obj, buf, sizeof(buf));
		}
		img_release();
	}
	cr_log_info("random memory: %zu edges", total);
}
