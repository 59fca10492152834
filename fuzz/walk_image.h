/* SPDX-License-Identifier: MIT */
/*
 * A synthetic CPython 3.12 memory image (runtime -> interpreter -> GC lists ->
 * objects with real-looking type objects) and the fuzz input format that
 * carries one: shared by fuzz_walk, the seed corpus generator and the unit
 * tests, so all three see the same heap. Header-only (static inline) because
 * unit tests are single files linked against libmemalot.a.
 *
 * Fuzz input format (integers little-endian):
 *   byte 0      flags: bits 0-1 segment count - 1 (3 means 3), bit 2 split
 *               the heap segment in two adjacent mappings
 *   bytes 1-2   length of segment 0 (runtime, types, strings)
 *   bytes 3-4   length of segment 1 (interpreter and GC state)
 *   bytes 5-6   where the heap is split (offset into segment 2)
 *   then        segment 0, segment 1, segment 2 (the rest of the input)
 * The last segment takes whatever is left; a shorter input yields fewer or
 * shorter segments. Every segment has a fixed base address.
 */
#ifndef MEMALOT_FUZZ_WALK_IMAGE_H
#define MEMALOT_FUZZ_WALK_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../attach/remote.h"
#include "../symbols/layout.h"

/* Fixed bases. The heap starts 256 bytes before a 64 KiB cache block ends, so
 * objects straddle blocks and the walker's remote__read fallback is used. */
#define WI_SEG0 ((raddr_t)0x10000000)
#define WI_SEG1 ((raddr_t)0x20000000)
#define WI_SEG2 ((raddr_t)0x3000ff00)
#define WI_NSEG 3
#define WI_MAX_SEGS 4 /* the heap may be split in two */
#define WI_SEG_CAP ((size_t)1 << 20)
#define WI_HDR 7

#define WI_FLAG_SPLIT 4

/* segment 0: the runtime, three probe words for the fuzzer, types, strings */
#define WI_RUNTIME (WI_SEG0 + 0x000)
#define WI_PROBES (WI_SEG0 + 0x040) /* str, dict, type: decoders try these */
#define WI_TYPE_TYPE (WI_SEG0 + 0x060)
#define WI_STR_TYPE (WI_SEG0 + 0x180)
#define WI_DICT_TYPE (WI_SEG0 + 0x2a0)
#define WI_LEAF_TYPE (WI_SEG0 + 0x3c0) /* a heap type: 880 bytes */
#define WI_CSTRS (WI_SEG0 + 0x730)     /* tp_name C strings */
#define WI_STR_MODKEY (WI_SEG0 + 0x750) /* "__module__" */
#define WI_STR_MODVAL (WI_SEG0 + 0x788) /* "myapp.models" */
#define WI_STR_QUAL (WI_SEG0 + 0x7c0)   /* "Leaf" */
#define WI_STR_WIDE (WI_SEG0 + 0x7f0)   /* "h\u00e9llo" (2-byte kind) */
#define WI_LEAF_DICT (WI_SEG0 + 0x838)  /* Leaf's tp_dict */
#define WI_LEAF_KEYS (WI_SEG0 + 0x868)
#define WI_SEG0_LEN 0x8a0

/* segment 1: the interpreter; its GC state at interp.gc */
#define WI_INTERP WI_SEG1
#define WI_GC (WI_INTERP + 112)
#define WI_SEG1_LEN (112 + 240)

/* the four GC lists of 3.12: gen0, gen1, gen2, permanent */
#define WI_NLISTS 4
#define WI_LEAF_SIZE 48 /* PyGC_Head + refcnt, type, two payload words */
#define WI_DICT_SIZE 64 /* PyGC_Head + PyDictObject */
#define WI_KEYS_SIZE 64 /* PyDictKeysObject: header, 8 indices, one entry */

#define WI_TPFLAGS_HEAPTYPE (1ull << 9)
#define WI_TPFLAGS_BASETYPE (1ull << 10)
#define WI_TPFLAGS_READY (1ull << 12)
#define WI_TPFLAGS_HAVE_GC (1ull << 14)
#define WI_TPFLAGS_UNICODE_SUBCLASS (1ull << 28)
#define WI_TPFLAGS_DICT_SUBCLASS (1ull << 29)
#define WI_TPFLAGS_TYPE_SUBCLASS (1ull << 31)

struct wi_image {
	unsigned char *seg[WI_NSEG]; /* WI_SEG_CAP bytes each */
	size_t len[WI_NSEG];
	raddr_t tail[WI_NLISTS];     /* PyGC_Head of the last object of each list */
	raddr_t heap_top;
};

/* The fixed layout: the 3.12.1 offsets memalot-gen-offsets prints. */
static inline void wi_layout(struct layout *l)
{
	static const struct { enum field_id f; int64_t v; } fields[] = {
		{ F_RT_INTERP_HEAD, 40 }, { F_INTERP_NEXT, 0 }, { F_INTERP_GC, 112 },
		{ F_INTERP_SIZE, 383552 }, { F_GC_GENERATIONS, 24 }, { F_GC_PERMANENT, 104 },
		{ F_GC_GENERATION0, 96 }, { F_GC_COLLECTING, 200 }, { F_GC_SIZE, 240 },
		{ F_GCGEN_SIZE, 24 }, { F_GCGEN_THRESHOLD, 16 }, { F_GCGEN_COUNT, 20 },
		{ F_GCHEAD_SIZE, 16 }, { F_OB_REFCNT, 0 }, { F_OB_TYPE, 8 }, { F_OB_SIZE, 16 },
		{ F_VAR_OB_SIZE, 16 }, { F_TP_NAME, 24 }, { F_TP_BASICSIZE, 32 },
		{ F_TP_ITEMSIZE, 40 }, { F_TP_FLAGS, 168 }, { F_TP_BASE, 256 }, { F_TP_DICT, 264 },
		{ F_TP_MRO, 344 }, { F_HT_NAME, 856 }, { F_HT_QUALNAME, 872 },
		{ F_STR_LENGTH, 16 }, { F_STR_STATE, 32 }, { F_STR_KIND_BIT, 2 },
		{ F_STR_COMPACT_BIT, 5 }, { F_STR_ASCII_BIT, 6 }, { F_STR_ASCII_SIZE, 40 },
		{ F_STR_COMPACT_SIZE, 56 }, { F_DICT_USED, 16 }, { F_DICT_KEYS, 32 },
		{ F_DICT_VALUES, 40 }, { F_DK_LOG2_SIZE, 8 }, { F_DK_LOG2_INDEX_BYTES, 9 },
		{ F_DK_KIND, 10 }, { F_DK_NENTRIES, 24 }, { F_DK_INDICES, 32 },
		{ F_DK_ENTRY_SIZE, 24 }, { F_DK_UENTRY_SIZE, 16 },
	};

	layout__init(l);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		l->v[fields[i].f] = fields[i].v;
		l->src[fields[i].f] = LSRC_TABLE;
	}
	strcpy(l->version, "3.12.1");
	l->major = 3;
	l->minor = 12;
	l->micro = 1;
	strcpy(l->flavour, "release");
	l->runtime = WI_RUNTIME;
	l->type_type = WI_TYPE_TYPE;
	l->str_type = WI_STR_TYPE;
	l->dict_type = WI_DICT_TYPE;
	l->source = LSRC_TABLE;
	strcpy(l->source_desc, "fuzz image (3.12.1 offsets)");
}

static inline int wi_seg_of(raddr_t a)
{
	if (a >= WI_SEG0 && a < WI_SEG0 + WI_SEG_CAP)
		return 0;
	if (a >= WI_SEG1 && a < WI_SEG1 + WI_SEG_CAP)
		return 1;
	if (a >= WI_SEG2 && a < WI_SEG2 + WI_SEG_CAP)
		return 2;
	abort(); /* a bug in the builder, not in what it builds */
}

static inline raddr_t wi_base(int seg)
{
	return seg == 0 ? WI_SEG0 : seg == 1 ? WI_SEG1 : WI_SEG2;
}

/* Where the n bytes at a live in the builder; grows the segment to cover them. */
static inline unsigned char *wi_at(struct wi_image *im, raddr_t a, size_t n)
{
	int s = wi_seg_of(a);
	size_t off = (size_t)(a - wi_base(s));

	if (off + n > WI_SEG_CAP)
		abort();
	if (off + n > im->len[s])
		im->len[s] = off + n;
	return im->seg[s] + off;
}

static inline void wi_put64(struct wi_image *im, raddr_t a, uint64_t v)
{
	memcpy(wi_at(im, a, 8), &v, 8);
}

static inline void wi_put32(struct wi_image *im, raddr_t a, uint32_t v)
{
	memcpy(wi_at(im, a, 4), &v, 4);
}

static inline void wi_put8(struct wi_image *im, raddr_t a, uint8_t v)
{
	*wi_at(im, a, 1) = v;
}

static inline uint64_t wi_get64(struct wi_image *im, raddr_t a)
{
	uint64_t v;

	memcpy(&v, wi_at(im, a, 8), 8);
	return v;
}

/* A compact str object: ASCII (kind 1) when wide is false, else 2-byte code units. */
static inline void wi_str(struct wi_image *im, raddr_t obj, const char *ascii,
			  const uint16_t *wide, size_t n)
{
	wi_put64(im, obj, 1);
	wi_put64(im, obj + 8, WI_STR_TYPE);
	wi_put64(im, obj + 16, n);                 /* length */
	wi_put64(im, obj + 24, (uint64_t)-1);      /* hash not computed */
	if (!wide) {
		wi_put32(im, obj + 32, (1u << 2) | (1u << 5) | (1u << 6)); /* kind 1, compact, ascii */
		memcpy(wi_at(im, obj + 40, n + 1), ascii, n + 1);
	} else {
		wi_put32(im, obj + 32, (2u << 2) | (1u << 5)); /* kind 2, compact */
		wi_put64(im, obj + 40, 0);                    /* utf8_length */
		wi_put64(im, obj + 48, 0);                    /* utf8 */
		memcpy(wi_at(im, obj + 56, 2 * (n + 1)), wide, 2 * n);
		wi_put8(im, obj + 56 + 2 * n, 0);
		wi_put8(im, obj + 56 + 2 * n + 1, 0);
	}
}

/* A static (non-heap) type object whose metatype is type. */
static inline void wi_static_type(struct wi_image *im, raddr_t t, raddr_t name, uint64_t flags)
{
	wi_put64(im, t, 1);             /* ob_refcnt */
	wi_put64(im, t + 8, WI_TYPE_TYPE);
	wi_put64(im, t + 16, 0);        /* ob_size */
	wi_put64(im, t + 24, name);     /* tp_name */
	wi_put64(im, t + 32, 64);       /* tp_basicsize */
	wi_put64(im, t + 168, flags);   /* tp_flags */
	wi_put64(im, t + 256, 0);       /* tp_base */
	wi_put64(im, t + 264, 0);       /* tp_dict */
	wi_at(im, t, 0x120);
}

/*
 * A dict keys object with one entry (key, value): 8 slots, 1-byte indices;
 * unicode kind has {key, value} entries, general kind {hash, key, value}.
 */
static inline void wi_keys(struct wi_image *im, raddr_t k, bool unicode, raddr_t key, raddr_t value)
{
	wi_put64(im, k, 1);      /* dk_refcnt */
	wi_put8(im, k + 8, 3);   /* dk_log2_size */
	wi_put8(im, k + 9, 3);   /* dk_log2_index_bytes */
	wi_put8(im, k + 10, unicode ? 1 : 0); /* dk_kind */
	wi_put32(im, k + 12, 0); /* dk_version */
	wi_put64(im, k + 16, 4); /* dk_usable */
	wi_put64(im, k + 24, 1); /* dk_nentries */
	memset(wi_at(im, k + 32, 8), 0xff, 8);
	wi_put8(im, k + 32 + 5, 0); /* slot 5 -> entry 0 */
	if (unicode) {
		wi_put64(im, k + 40, key);
		wi_put64(im, k + 48, value);
	} else {
		wi_put64(im, k + 40, 0x5eed);
		wi_put64(im, k + 48, key);
		wi_put64(im, k + 56, value);
	}
}

/* A dict object (without PyGC_Head) that uses keys. */
static inline void wi_dict(struct wi_image *im, raddr_t d, raddr_t keys)
{
	wi_put64(im, d, 1);
	wi_put64(im, d + 8, WI_DICT_TYPE);
	wi_put64(im, d + 16, 1);    /* ma_used */
	wi_put64(im, d + 24, 0);    /* ma_version_tag */
	wi_put64(im, d + 32, keys); /* ma_keys */
	wi_put64(im, d + 40, 0);    /* ma_values: combined table */
}

static inline raddr_t wi_list_head(int list)
{
	return list < 3 ? WI_GC + 24 + 24 * (raddr_t)list : WI_GC + 104;
}

/* Segment 0 and 1 complete, every list empty (each head points at itself). */
static inline void wi_init(struct wi_image *im)
{
	static const uint16_t hello[] = { 'h', 0xe9, 'l', 'l', 'o' };
	static const char cstrs[] = "type\0str\0dict\0Leaf";
	raddr_t heap_type = WI_LEAF_TYPE;

	memset(im, 0, sizeof(*im));
	for (int s = 0; s < WI_NSEG; s++)
		im->seg[s] = calloc(1, WI_SEG_CAP);

	/* the runtime: interpreters.head, then the probe words */
	wi_put64(im, WI_RUNTIME + 40, WI_INTERP);
	wi_put64(im, WI_PROBES, WI_STR_WIDE);
	wi_put64(im, WI_PROBES + 8, WI_LEAF_DICT);
	wi_put64(im, WI_PROBES + 16, WI_LEAF_TYPE);

	memcpy(wi_at(im, WI_CSTRS, sizeof(cstrs)), cstrs, sizeof(cstrs));
	wi_static_type(im, WI_TYPE_TYPE, WI_CSTRS,
		       WI_TPFLAGS_TYPE_SUBCLASS | WI_TPFLAGS_READY | WI_TPFLAGS_HAVE_GC | WI_TPFLAGS_BASETYPE);
	wi_static_type(im, WI_STR_TYPE, WI_CSTRS + 5,
		       WI_TPFLAGS_UNICODE_SUBCLASS | WI_TPFLAGS_READY | WI_TPFLAGS_BASETYPE);
	wi_static_type(im, WI_DICT_TYPE, WI_CSTRS + 9,
		       WI_TPFLAGS_DICT_SUBCLASS | WI_TPFLAGS_READY | WI_TPFLAGS_HAVE_GC | WI_TPFLAGS_BASETYPE);

	/* class Leaf in module myapp.models: a heap type named through its dict */
	wi_static_type(im, heap_type, WI_CSTRS + 14,
		       WI_TPFLAGS_HEAPTYPE | WI_TPFLAGS_READY | WI_TPFLAGS_HAVE_GC | WI_TPFLAGS_BASETYPE);
	wi_put64(im, heap_type + 264, WI_LEAF_DICT);
	wi_put64(im, heap_type + 856, WI_STR_QUAL); /* ht_name */
	wi_put64(im, heap_type + 872, WI_STR_QUAL); /* ht_qualname */
	wi_str(im, WI_STR_MODKEY, "__module__", NULL, 10);
	wi_str(im, WI_STR_MODVAL, "myapp.models", NULL, 12);
	wi_str(im, WI_STR_QUAL, "Leaf", NULL, 4);
	wi_str(im, WI_STR_WIDE, NULL, hello, 5);
	wi_dict(im, WI_LEAF_DICT, WI_LEAF_KEYS);
	wi_keys(im, WI_LEAF_KEYS, true, WI_STR_MODKEY, WI_STR_MODVAL);
	wi_at(im, WI_SEG0, WI_SEG0_LEN);

	/* the interpreter: no next; GC state with four empty lists, not collecting */
	wi_put64(im, WI_INTERP, 0);
	for (int i = 0; i < WI_NLISTS; i++) {
		raddr_t h = wi_list_head(i);
		wi_put64(im, h, h);
		wi_put64(im, h + 8, h);
		if (i < 3)
			wi_put32(im, h + 16, i ? 10 : 2000); /* threshold */
		im->tail[i] = h;
	}
	wi_put64(im, WI_GC + 96, wi_list_head(0)); /* generation0 */
	wi_put32(im, WI_GC + 200, 0);              /* collecting */
	wi_at(im, WI_SEG1, WI_SEG1_LEN);

	im->heap_top = WI_SEG2;
}

static inline void wi_release(struct wi_image *im)
{
	for (int s = 0; s < WI_NSEG; s++) {
		free(im->seg[s]);
		im->seg[s] = NULL;
	}
}

/* size bytes of heap, 16-aligned. */
static inline raddr_t wi_alloc(struct wi_image *im, size_t size)
{
	raddr_t a = im->heap_top;

	im->heap_top += (size + 15) & ~(size_t)15;
	wi_at(im, a, size);
	return a;
}

/*
 * A GC object of size bytes (PyGC_Head included) and type type, appended to
 * list. @return the object's address (after its PyGC_Head)
 */
static inline raddr_t wi_add(struct wi_image *im, int list, raddr_t type, size_t size)
{
	raddr_t g = wi_alloc(im, size), head = wi_list_head(list), tail = im->tail[list];

	wi_put64(im, g, head);          /* _gc_next */
	wi_put64(im, g + 8, tail);      /* _gc_prev */
	wi_put64(im, tail, g);
	wi_put64(im, head + 8, g);
	wi_put64(im, g + 16, 1);        /* ob_refcnt */
	wi_put64(im, g + 24, type);
	im->tail[list] = g;
	wi_put32(im, head + 20, (uint32_t)(wi_get64(im, head + 16) >> 32) + 1); /* gen count */
	return g + 16;
}

/* An instance of Leaf. */
static inline raddr_t wi_add_leaf(struct wi_image *im, int list)
{
	raddr_t o = wi_add(im, list, WI_LEAF_TYPE, WI_LEAF_SIZE);

	wi_put64(im, o + 16, 0);
	wi_put64(im, o + 24, 42);
	return o;
}

/* A dict {"__module__": "h\u00e9llo"} with a general-kind keys object. */
static inline raddr_t wi_add_dict(struct wi_image *im, int list)
{
	raddr_t o = wi_add(im, list, WI_DICT_TYPE, WI_DICT_SIZE);
	raddr_t k = wi_alloc(im, WI_KEYS_SIZE);

	wi_dict(im, o, k);
	wi_keys(im, k, false, WI_STR_MODKEY, WI_STR_WIDE);
	return o;
}

/*
 * The reference heap: gen0 Leaf, Leaf, dict; gen1 empty; gen2 Leaf, dict;
 * permanent Leaf. Six objects: four myapp.models.Leaf, two builtins.dict.
 * objs (if not NULL) gets their addresses in that order.
 */
#define WI_SEED_OBJECTS 6
#define WI_SEED_LEAVES 4
#define WI_SEED_DICTS 2
static inline void wi_build_seed(struct wi_image *im, raddr_t *objs)
{
	static const int lists[WI_SEED_OBJECTS] = { 0, 0, 0, 2, 2, 3 };
	static const bool dict[WI_SEED_OBJECTS] = { false, false, true, false, true, false };

	wi_init(im);
	for (int i = 0; i < WI_SEED_OBJECTS; i++) {
		raddr_t o = dict[i] ? wi_add_dict(im, lists[i]) : wi_add_leaf(im, lists[i]);
		if (objs)
			objs[i] = o;
	}
}

/* The image as segments (the builder keeps the bytes). @return how many */
static inline size_t wi_segments(const struct wi_image *im, struct remote_segment *out)
{
	for (int s = 0; s < WI_NSEG; s++)
		out[s] = (struct remote_segment){ wi_base(s), im->seg[s], im->len[s] };
	return WI_NSEG;
}

/*
 * The image as fuzz input (see the top of this file); split is where the heap
 * is cut in two mappings when flags has WI_FLAG_SPLIT.
 * @return its size; *out is the caller's to free
 */
static inline size_t wi_encode(const struct wi_image *im, uint8_t flags, uint16_t split,
			       unsigned char **out)
{
	size_t n = WI_HDR + im->len[0] + im->len[1] + im->len[2];
	unsigned char *p = malloc(n);

	if (!p || im->len[0] > 0xffff || im->len[1] > 0xffff)
		abort();
	p[0] = flags;
	p[1] = (unsigned char)im->len[0];
	p[2] = (unsigned char)(im->len[0] >> 8);
	p[3] = (unsigned char)im->len[1];
	p[4] = (unsigned char)(im->len[1] >> 8);
	p[5] = (unsigned char)split;
	p[6] = (unsigned char)(split >> 8);
	memcpy(p + WI_HDR, im->seg[0], im->len[0]);
	memcpy(p + WI_HDR + im->len[0], im->seg[1], im->len[1]);
	memcpy(p + WI_HDR + im->len[0] + im->len[1], im->seg[2], im->len[2]);
	*out = p;
	return n;
}

/* Cut fuzz input into segments pointing into data. @return how many (at most WI_MAX_SEGS) */
static inline size_t wi_decode(const uint8_t *data, size_t size, struct remote_segment *segs)
{
	size_t want[WI_NSEG], nseg, n = 0, rest;
	const uint8_t *p = data + WI_HDR;

	if (size < WI_HDR) {
		segs[0] = (struct remote_segment){ WI_SEG0, data, size };
		return 1;
	}
	nseg = (size_t)(data[0] & 3) + 1;
	if (nseg > WI_NSEG)
		nseg = WI_NSEG;
	want[0] = (size_t)data[1] | (size_t)data[2] << 8;
	want[1] = (size_t)data[3] | (size_t)data[4] << 8;
	rest = size - WI_HDR;
	for (size_t s = 0; s < nseg; s++) {
		size_t len = s + 1 == nseg ? rest : MIN(want[s], rest);
		size_t split = (size_t)data[5] | (size_t)data[6] << 8;

		if (s == 2 && (data[0] & WI_FLAG_SPLIT) && split < len) {
			/* the same bytes at the same addresses, as two adjacent mappings */
			segs[n++] = (struct remote_segment){ WI_SEG2, p, split };
			segs[n++] = (struct remote_segment){ WI_SEG2 + split, p + split, len - split };
		} else
			segs[n++] = (struct remote_segment){ wi_base((int)s), p, len };
		p += len;
		rest -= len;
	}
	return n;
}

#endif
