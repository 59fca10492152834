/* SPDX-License-Identifier: MIT */
/*
 * Frame locals as roots. Up to 3.10 a thread's frames are PyFrameObjects
 * chained by f_back with the locals in f_localsplus; from 3.11 they are
 * _PyInterpreterFrames in the thread's data stack, chained by previous, with
 * localsplus and the names in co_localsplusnames. Which of the two a build
 * has is read from the layout (the fields it has), not from its version.
 */
#define _GNU_SOURCE
#include "roots.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyobj.h"

#define MAX_THREADS 4096
#define MAX_FRAMES 10000
/* frames over all threads: a garbage chain must not multiply per thread */
#define MAX_TOTAL_FRAMES 100000
#define MAX_LOCALS 65536
#define LINETABLE_MAX (1u << 20)
/* 3.14 keeps tagged stack references in frames: the low bits are flags */
#define STACKREF_MASK (~(uint64_t)3)
/* _PyInterpreterFrame.owner values that are not Python code: C-stack shims (3.12+) */
#define FRAME_OWNED_BY_CSTACK 3

static raddr_t field(const struct layout *l, raddr_t base, enum field_id f)
{
	return base + (raddr_t)l->v[f];
}

static uint64_t varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t val = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (*p >= end || shift > 56)
			return val;
		b = *(*p)++;
		val |= (uint64_t)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	return val;
}

static int64_t svarint(const uint8_t **p, const uint8_t *end)
{
	uint64_t u = varint(p, end);
	return (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
}

/* 3.11+ location table: entries of (code, length) with a line delta each. */
static int line_from_locations(const uint8_t *p, size_t n, int first, int64_t addr)
{
	const uint8_t *end = p + n;
	int64_t start = 0, stop = 0, line = first;

	while (p < end) {
		uint8_t b = *p++;
		int code = (b >> 3) & 15, ar_line;

		if (!(b & 0x80))
			return -1; /* not at an entry: garbage */
		start = stop;
		stop = start + ((b & 7) + 1) * 2;
		if (code == 15)
			ar_line = -1;
		else {
			if (code == 13 || code == 14)
				line += svarint(&p, end);
			else if (code >= 10)
				line += code - 10;
			ar_line = (int)line;
		}
		while (p < end && !(*p & 0x80))
			p++; /* the columns */
		if (addr >= start && addr < stop)
			return ar_line;
	}
	return -1;
}

/* 3.10 line table: (start delta, line delta) byte pairs, -128 for "no line". */
static int line_from_pairs(const uint8_t *p, size_t n, int first, int64_t addr)
{
	int64_t start, stop = 0, line = first;

	for (size_t i = 0; i + 1 < n; i += 2) {
		int8_t ld = (int8_t)p[i + 1];
		int ar_line = -1;

		start = stop;
		stop += p[i];
		if (ld != -128) {
			line += ld;
			ar_line = (int)line;
		}
		if (addr >= start && addr < stop)
			return ar_line;
	}
	return -1;
}

/* 3.8/3.9 lnotab: (address increment, signed line increment) byte pairs. */
static int line_from_lnotab(const uint8_t *p, size_t n, int first, int64_t addr)
{
	int64_t a = 0, line = first;

	for (size_t i = 0; i + 1 < n; i += 2) {
		a += p[i];
		if (a > addr)
			break;
		line += (int8_t)p[i + 1];
	}
	return (int)line;
}

int roots__code_line(struct remote *r, const struct layout *l, raddr_t code, int64_t addr)
{
	raddr_t table;
	uint8_t *buf;
	size_t len = 0;
	int32_t first = 0;
	int line = -1;
	bool lnotab = !layout__has(l, F_CODE_LINETABLE);

	if (remote__read(r, field(l, code, F_CODE_FIRSTLINENO), &first, 4))
		return -1;
	if (lnotab && !layout__has(l, F_CODE_LNOTAB))
		return first;
	if (remote__u64(r, field(l, code, lnotab ? F_CODE_LNOTAB : F_CODE_LINETABLE), &table))
		return first;
	/* the length first, then a buffer of that size */
	if (pyobj__bytes(r, l, table, NULL, 0, &len))
		return first;
	len = MIN(len, (size_t)LINETABLE_MAX);
	buf = xmalloc(len + 1);
	if (pyobj__bytes(r, l, table, buf, len, &len) == 0) {
		len = MIN(len, (size_t)LINETABLE_MAX);
		if (lnotab)
			line = line_from_lnotab(buf, len, first, addr);
		else if (layout__has(l, F_IFRAME_LOCALSPLUS))
			line = line_from_locations(buf, len, first, addr);
		else
			line = line_from_pairs(buf, len, first, addr);
	}
	free(buf);
	return line;
}

/* The local variable names of code, as str object addresses, from the names tuple(s). */
static size_t local_names(struct remote *r, const struct layout *l, raddr_t code, raddr_t **names)
{
	static const enum field_id tuples[] = { F_CODE_LOCALSPLUSNAMES, F_CODE_VARNAMES,
						F_CODE_CELLVARS, F_CODE_FREEVARS };
	size_t n = 0, cap = 0;

	*names = NULL;
	for (size_t t = 0; t < ARRAY_SIZE(tuples); t++) {
		raddr_t tup;
		uint64_t size;

		if (!layout__has(l, tuples[t]))
			continue;
		if (t > 0 && layout__has(l, F_CODE_LOCALSPLUSNAMES))
			break; /* 3.11+: one tuple holds them all */
		if (remote__u64(r, field(l, code, tuples[t]), &tup) || !tup ||
		    remote__u64(r, tup + (raddr_t)l->v[F_VAR_OB_SIZE], &size))
			continue;
		size = MIN(size, (uint64_t)(MAX_LOCALS - n));
		GROW(*names, cap, n + size + 1);
		for (uint64_t i = 0; i < size; i++, n++)
			if (remote__u64(r, tup + (raddr_t)l->v[F_TUPLE_ITEMS] + i * 8, &(*names)[n]))
				return n;
	}
	return n;
}

static char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return xstrdup(s ? s + 1 : path);
}

static void add_root(struct graph *g, long node, enum root_kind kind, char *label)
{
	GROW(g->roots, g->roots_cap, g->nroots + 1);
	g->roots[g->nroots++] = (struct groot){ (uint32_t)node, (uint8_t)kind, label };
	g->nodes[node].inbound++;
}

static bool is_code(const struct layout *l, struct remote *r, raddr_t obj)
{
	raddr_t type;
	return obj && !pyobj__type(r, l, obj, &type) && type == l->types[T_CODE];
}

int roots__frame_locals(struct remote *r, const struct layout *l, raddr_t code, raddr_t locals,
			frame_local_fn fn, void *arg)
{
	raddr_t *names;
	size_t n = local_names(r, l, code, &names);
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		uint64_t v;

		if (remote__u64(r, locals + i * 8, &v))
			break;
		ret = fn(v & STACKREF_MASK, names[i], arg);
	}
	free(names);
	return ret;
}

struct frame_root_arg {
	struct graph *g;
	const char *func, *file;
	int line;
	size_t added;
};

static int frame_root_cb(raddr_t v, raddr_t name, void *p)
{
	struct frame_root_arg *a = p;
	char var[256];
	long node;

	if (!v || (node = graph__find(a->g, v)) < 0)
		return 0;
	if (pyobj__str(a->g->ctx.r, a->g->ctx.l, name, var, sizeof(var)) < 0)
		snprintf(var, sizeof(var), "<local>");
	add_root(a->g, node, ROOT_LOCAL,
		 utf8_sanitize(xasprintf("%s.%s (local) at %s:%d", a->func, var, a->file, a->line)));
	a->added++;
	return 0;
}

/* Add a root for each local of one frame: code object code, locals at locals. */
static size_t frame_roots(struct graph *g, raddr_t code, raddr_t locals, int line)
{
	const struct layout *l = g->ctx.l;
	struct remote *r = g->ctx.r;
	char func[256] = "?", file[1024] = "?";
	struct frame_root_arg a = { g, func, NULL, line, 0 };
	raddr_t p;
	char *base;

	if (!remote__u64(r, field(l, code, layout__has(l, F_CODE_QUALNAME) ? F_CODE_QUALNAME : F_CODE_NAME), &p))
		pyobj__str(r, l, p, func, sizeof(func));
	if (!remote__u64(r, field(l, code, F_CODE_FILENAME), &p))
		pyobj__str(r, l, p, file, sizeof(file));
	base = basename_of(file);
	a.file = base;
	roots__frame_locals(r, l, code, locals, frame_root_cb, &a);
	free(base);
	return a.added;
}


int roots__object_frame(struct remote *r, const struct layout *l, raddr_t obj, bool generator,
			raddr_t *code, raddr_t *locals)
{
	uint64_t c, f;
	int8_t state = 0;

	if (generator) {
		raddr_t iframe;

		if (!layout__has(l, F_GEN_IFRAME))
			return -ENOENT; /* up to 3.10 the frame is the gi_frame object */
		/*
		 * gi_frame_state: created, suspended and executing come first, then
		 * the states of a finished frame. The numbers are the build's
		 * (FRAME_EXECUTING is 0 up to 3.14, 4 in 3.15), 0 when unknown.
		 */
		if (layout__has(l, F_GEN_FRAME_STATE) &&
		    (remote__read(r, field(l, obj, F_GEN_FRAME_STATE), &state, 1) ||
		     state > (layout__has(l, F_FRAMESTATE_EXECUTING) ? l->v[F_FRAMESTATE_EXECUTING] : 0)))
			return -ENOENT;
		iframe = field(l, obj, F_GEN_IFRAME);
		if (remote__u64(r, field(l, iframe, layout__has(l, F_IFRAME_EXECUTABLE) ?
						    F_IFRAME_EXECUTABLE : F_IFRAME_CODE), &c))
			return -EFAULT;
		*code = c & STACKREF_MASK;
		*locals = field(l, iframe, F_IFRAME_LOCALSPLUS);
		return is_code(l, r, *code) ? 0 : -ENOENT;
	}
	if (layout__has(l, F_FRAME_FRAME)) {
		/* 3.11+ frame object: its _PyInterpreterFrame */
		if (remote__u64(r, field(l, obj, F_FRAME_FRAME), &f) || !f ||
		    remote__u64(r, field(l, f, layout__has(l, F_IFRAME_EXECUTABLE) ?
						F_IFRAME_EXECUTABLE : F_IFRAME_CODE), &c))
			return -ENOENT;
		*code = c & STACKREF_MASK;
		*locals = field(l, f, F_IFRAME_LOCALSPLUS);
		return is_code(l, r, *code) ? 0 : -ENOENT;
	}
	if (!layout__has(l, F_FRAME_LOCALSPLUS) || remote__u64(r, field(l, obj, F_FRAME_CODE), &c))
		return -ENOENT;
	*code = c;
	*locals = field(l, obj, F_FRAME_LOCALSPLUS);
	return is_code(l, r, *code) ? 0 : -ENOENT;
}

/*
 * The frames and thread states already visited: garbage links can point
 * back into a chain, and each visit costs reads and allocations.
 */
struct visited {
	raddr_t *v;
	size_t n, cap, total;
};

static bool visit(struct visited *s, raddr_t a)
{
	size_t lo = 0, hi = s->n;

	if (s->total++ >= MAX_TOTAL_FRAMES)
		return false;
	while (lo < hi) { /* kept sorted: a binary search, then an insert */
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid] == a)
			return false;
		if (s->v[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	GROW(s->v, s->cap, s->n + 1);
	memmove(s->v + lo + 1, s->v + lo, (s->n - lo) * sizeof(*s->v));
	s->v[lo] = a;
	s->n++;
	return true;
}

/* 3.11+: _PyInterpreterFrame chain from the thread's current frame. */
static size_t iframe_roots(struct graph *g, raddr_t frame, struct visited *seen)
{
	const struct layout *l = g->ctx.l;
	struct remote *r = g->ctx.r;
	enum field_id fcode = layout__has(l, F_IFRAME_EXECUTABLE) ? F_IFRAME_EXECUTABLE : F_IFRAME_CODE;
	enum field_id fip = layout__has(l, F_IFRAME_INSTR_PTR) ? F_IFRAME_INSTR_PTR : F_IFRAME_PREV_INSTR;
	size_t added = 0;

	for (int depth = 0; frame && depth < MAX_FRAMES && visit(seen, frame); depth++) {
		uint64_t code, ip = 0, prev;
		uint8_t owner = 0;

		if (remote__u64(r, field(l, frame, fcode), &code) ||
		    remote__u64(r, field(l, frame, F_IFRAME_PREVIOUS), &prev))
			break;
		code &= STACKREF_MASK;
		remote__read(r, field(l, frame, F_IFRAME_OWNER), &owner, 1);
		if (owner != FRAME_OWNED_BY_CSTACK && is_code(l, r, code)) {
			int64_t addr = -1;
			if (!remote__u64(r, field(l, frame, fip), &ip) && ip)
				addr = (int64_t)(ip - (code + (raddr_t)l->v[F_CODE_CODE_ADAPTIVE]));
			added += frame_roots(g, code, field(l, frame, F_IFRAME_LOCALSPLUS),
					     roots__code_line(r, l, code, addr));
		}
		frame = prev;
	}
	return added;
}

/* Up to 3.10: PyFrameObject chain. */
static size_t frameobj_roots(struct graph *g, raddr_t frame, struct visited *seen)
{
	const struct layout *l = g->ctx.l;
	struct remote *r = g->ctx.r;
	size_t added = 0;

	for (int depth = 0; frame && depth < MAX_FRAMES && visit(seen, frame); depth++) {
		uint64_t code, back;
		int32_t lasti = -1;

		if (remote__u64(r, field(l, frame, F_FRAME_CODE), &code) ||
		    remote__u64(r, field(l, frame, F_FRAME_BACK), &back))
			break;
		remote__read(r, field(l, frame, F_FRAME_LASTI), &lasti, 4);
		if (is_code(l, r, code)) {
			/* 3.10 counts f_lasti in code units, 3.8/3.9 in bytes */
			int64_t addr = layout__has(l, F_CODE_LINETABLE) ? (int64_t)lasti * 2 : lasti;
			added += frame_roots(g, code, field(l, frame, F_FRAME_LOCALSPLUS),
					     roots__code_line(r, l, code, addr));
		}
		frame = back;
	}
	return added;
}

size_t roots__frames(struct graph *g)
{
	const struct layout *l = g->ctx.l;
	struct remote *r = g->ctx.r;
	struct visited seen = { 0 }, threads = { 0 };
	raddr_t interp;
	size_t added = 0;

	if (layout__first_interp(l, r, &interp))
		return 0;
	for (int ni = 0; interp && ni < 16; ni++) {
		uint64_t ts = 0, next;

		if (layout__has(l, F_INTERP_THREADS_HEAD))
			remote__u64(r, field(l, interp, F_INTERP_THREADS_HEAD), &ts);
		else if (layout__has(l, F_INTERP_TSTATE_HEAD))
			remote__u64(r, field(l, interp, F_INTERP_TSTATE_HEAD), &ts);
		for (int nt = 0; ts && nt < MAX_THREADS && visit(&threads, ts); nt++) {
			uint64_t frame = 0, cframe;

			if (layout__has(l, F_IFRAME_LOCALSPLUS)) {
				if (layout__has(l, F_TSTATE_CURRENT_FRAME))
					remote__u64(r, field(l, ts, F_TSTATE_CURRENT_FRAME), &frame);
				else if (layout__has(l, F_TSTATE_CFRAME) &&
					 !remote__u64(r, field(l, ts, F_TSTATE_CFRAME), &cframe) && cframe)
					remote__u64(r, field(l, cframe, F_CFRAME_CURRENT), &frame);
				added += iframe_roots(g, frame, &seen);
			} else if (layout__has(l, F_TSTATE_FRAME)) {
				remote__u64(r, field(l, ts, F_TSTATE_FRAME), &frame);
				added += frameobj_roots(g, frame, &seen);
			}
			if (remote__u64(r, field(l, ts, F_TSTATE_NEXT), &ts))
				break;
		}
		if (remote__u64(r, field(l, interp, F_INTERP_NEXT), &next))
			break;
		interp = next;
	}
	free(seen.v);
	free(threads.v);
	return added;
}
