/* SPDX-License-Identifier: MIT */
/*
 * Layout discovery: which mapped file holds the interpreter, its version and
 * flavour, and where every field the analyzer reads sits. DWARF is exact;
 * _Py_DebugOffsets (3.13+) is exact for what it covers; a committed table is
 * exact for the build it was made from; everything else is validated against
 * the live target before it is trusted.
 */
#define _GNU_SOURCE
#include "layout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../attach/proc.h"
#include "dwarf.h"
#include "elfimg.h"
#include "tables.h"

#define MAX_INTERPRETERS 256
#define MAX_CANDIDATE_FILES 512

/* The CPython minor versions memalot reads: the check and every refusal use these. */
#define SUPPORTED_MINOR_FIRST 8u
#define SUPPORTED_MINOR_LAST 15u

static bool version_supported(const struct layout *l)
{
	return l->major == 3 && l->minor >= SUPPORTED_MINOR_FIRST && l->minor <= SUPPORTED_MINOR_LAST;
}

/*
 * Why an interpreter is refused: its version when it is known, else the
 * image that holds it (a CPython too old to have _PyRuntime).
 */
static char *unsupported_why(const struct layout *l, const char *image)
{
	char range[32];

	snprintf(range, sizeof(range), "3.%u to 3.%u", SUPPORTED_MINOR_FIRST, SUPPORTED_MINOR_LAST);
	if (l->major)
		return xasprintf("Python %s is not supported (memalot supports %s)", l->version, range);
	return xasprintf("%s is a CPython older than 3.7, not supported (memalot supports %s)", image,
			 range);
}

static const char *const source_names[] = {
	[LSRC_NONE] = "none",
	[LSRC_DWARF] = "dwarf",
	[LSRC_DEBUG_OFFSETS] = "debug-offsets",
	[LSRC_TABLE] = "table",
	[LSRC_TABLE_NEAREST] = "table-nearest",
	[LSRC_SCAN] = "scan",
};

const char *const layout_type_sym_names[T__COUNT] = {
#define X(id, name) [T_##id] = name,
	LAYOUT_TYPE_SYMBOLS(X)
#undef X
};

const char *layout_source__name(enum layout_source s)
{
	return s < ARRAY_SIZE(source_names) ? source_names[s] : "?";
}

void layout__init(struct layout *l)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < F__COUNT; i++)
		l->dbgpos[i] = -1;
}

void layout__release(struct layout *l)
{
	zfree(&l->image_path);
	zfree(&l->warning);
}

static void set_field(struct layout *l, int f, int64_t v, enum layout_source src)
{
	l->v[f] = v;
	l->src[f] = (uint8_t)src;
}

int layout__fill_dwarf(struct layout *l, struct dwtypes *t)
{
	int found = 0;

	for (int i = 0; i < F__COUNT; i++) {
		const struct field_spec *s = &field_specs[i];
		int64_t v;
		int ret;

		if (s->kind == OFF)
			ret = dwtypes__offsetof(t, s->dw_type, s->dw_path, &v);
		else if (s->kind == SIZE)
			ret = dwtypes__sizeof(t, s->dw_type, &v);
		else if (s->kind == ENUM)
			ret = dwtypes__enumval(t, s->dw_type, s->dw_path, &v);
		else
			ret = dwtypes__bitpos(t, s->dw_type, s->dw_path, &v);
		if (!ret) {
			set_field(l, i, v, LSRC_DWARF);
			found++;
		}
		if (s->dbg_path && !dwtypes__offsetof(t, "_Py_DebugOffsets", s->dbg_path, &v))
			l->dbgpos[i] = v;
	}
	return found ? 0 : -ENODATA;
}

static void set_version(struct layout *l, unsigned major, unsigned minor, unsigned micro,
			const char *suffix)
{
	l->major = major;
	l->minor = minor;
	l->micro = micro;
	snprintf(l->version, sizeof(l->version), "%u.%u.%u%s", major, minor, micro, suffix);
}

/*
 * Before 3.11 the only record of the exact version is the PY_VERSION string.
 * The linker merges string tails, so it may only exist as the end of a longer
 * string such as a build path ("/opt/python/3.8.18"): a standalone match wins,
 * a tail match preceded by '/' or a space is kept as a fallback.
 */
struct version_scan {
	struct layout *l;
	bool exact, tail;
};

static bool parse_version(const char *s, size_t len, struct layout *l)
{
	unsigned ma, mi, mc;
	char rest[16] = "";
	int n = 0;

	if (len < 5 || len > 20 || s[0] != '3' || s[1] != '.')
		return false;
	if (sscanf(s, "%u.%u.%u%n", &ma, &mi, &mc, &n) != 3 || (size_t)n > len)
		return false;
	if ((size_t)n != len) {
		/* pre-release suffix like "rc1" or "+": keep only short, plain ones */
		if (len - (size_t)n >= sizeof(rest))
			return false;
		for (size_t i = (size_t)n; i < len; i++)
			if (!strchr("abrc0123456789+", s[i]))
				return false;
		memcpy(rest, s + n, len - (size_t)n);
	}
	if (l)
		set_version(l, ma, mi, mc, rest);
	return true;
}

static int version_string_cb(const char *s, size_t len, void *arg)
{
	struct version_scan *vs = arg;
	const char *tail;

	if (parse_version(s, len, vs->l)) {
		vs->exact = true;
		return 1;
	}
	if (vs->tail)
		return 0;
	tail = memrchr(s, '/', len);
	if (!tail)
		tail = memrchr(s, ' ', len);
	if (tail && parse_version(tail + 1, len - (size_t)(tail + 1 - s), vs->l))
		vs->tail = true;
	return 0;
}

int layout__image_version(struct elfimg *img, struct layout *l)
{
	uint64_t addr, hex = 0, dummy;

	if (!elfimg__symbol(img, "Py_Version", &addr, NULL) && !elfimg__read_vaddr(img, addr, &hex, 4)) {
		static const char *const level[16] = { [0xA] = "a", [0xB] = "b", [0xC] = "rc" };
		char suffix[8] = "";
		unsigned lv = (hex >> 4) & 0xf;

		if (lv != 0xf && level[lv])
			snprintf(suffix, sizeof(suffix), "%s%u", level[lv], (unsigned)(hex & 0xf));
		set_version(l, (hex >> 24) & 0xff, (hex >> 16) & 0xff, (hex >> 8) & 0xff, suffix);
	} else {
		struct version_scan vs = { l, false, false };
		elfimg__each_rodata_string(img, version_string_cb, &vs);
		if (!vs.exact && !vs.tail)
			return -ME_NOTPYTHON;
	}
	l->debug_build = !elfimg__symbol(img, "_Py_NegativeRefcount", &dummy, NULL);
	snprintf(l->flavour, sizeof(l->flavour), "%s", l->debug_build ? "debug" : "release");
	if (!elfimg__symbol(img, "_Py_MergeZeroLocalRefcount", &dummy, NULL) ||
	    !elfimg__symbol(img, "_Py_brc_queue_object", &dummy, NULL))
		return -ME_FREETHREADED;
	return 0;
}

static bool build_id_matches(struct elfimg *dbg, const char *want)
{
	char got[129];

	if (!want[0])
		return true;
	return !elfimg__build_id(dbg, got, sizeof(got)) && !strcmp(got, want);
}

static struct elfimg *try_debug_file(const char *path, const char *build_id)
{
	struct elfimg *dbg;

	if (access(path, R_OK) || elfimg__open(path, &dbg))
		return NULL;
	if (!elfimg__has_dwarf(dbg) || !build_id_matches(dbg, build_id)) {
		elfimg__free(dbg);
		return NULL;
	}
	return dbg;
}

struct elfimg *layout__open_debug(struct elfimg *img, const char *img_path, const char *root,
				  char **path_out)
{
	char id[129] = "", link[256], *dir, *slash, *path;
	struct elfimg *dbg = NULL;

	elfimg__build_id(img, id, sizeof(id));
	if (id[0] && strlen(id) > 2) {
		path = xasprintf("%s/usr/lib/debug/.build-id/%.2s/%s.debug", root, id, id + 2);
		dbg = try_debug_file(path, id);
		if (dbg)
			goto found;
		free(path);
	}
	if (!img_path || elfimg__debuglink(img, link, sizeof(link)))
		return NULL;
	dir = xstrdup(img_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	const char *const fmts[] = { "%s%s/%s", "%s%s/.debug/%s", "%s/usr/lib/debug%s/%s" };
	for (size_t i = 0; i < ARRAY_SIZE(fmts) && !dbg; i++) {
		path = xasprintf(fmts[i], root, dir, link);
		dbg = try_debug_file(path, id);
		if (!dbg)
			free(path);
	}
	free(dir);
	if (!dbg)
		return NULL;
found:
	if (path_out)
		*path_out = path;
	else
		free(path);
	return dbg;
}

/* Find the mapped file that defines _PyRuntime. */
static int find_image(struct remote *r, struct elfimg **out, const struct proc_map **map_out,
		      uint64_t *runtime_sym)
{
	const struct proc_maps *maps = &r->maps;
	unsigned long long seen[MAX_CANDIDATE_FILES];
	size_t nseen = 0;

	/* two passes: files named like python first, then every other mapped file */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < maps->n; i++) {
			const struct proc_map *m = &maps->v[i];
			const char *base;
			struct elfimg *img;
			uint64_t v, sz;
			bool dup = false;
			int fd;

			if (!m->path || m->path[0] != '/' || !m->inode || m->offset != 0)
				continue;
			base = strrchr(m->path, '/') + 1;
			if ((strstr(base, "python") != NULL) != (pass == 0))
				continue;
			for (size_t k = 0; k < nseen; k++)
				dup |= seen[k] == m->inode;
			if (dup || nseen >= MAX_CANDIDATE_FILES)
				continue;
			seen[nseen++] = m->inode;
			fd = proc__open_mapped(r->pid, m, NULL);
			if (fd < 0 || elfimg__open_fd(fd, &img))
				continue;
			if (!elfimg__symbol(img, "_PyRuntime", &v, &sz) ||
			    !elfimg__section(img, ".PyRuntime", &v, &sz)) {
				if (*out)
					elfimg__free(*out);
				*out = img;
				*map_out = m;
				*runtime_sym = v;
				return 0;
			}
			/* a CPython without _PyRuntime: 3.6 or older, to be named and refused */
			if (!*out && !elfimg__symbol(img, "PyType_Type", &v, &sz) &&
			    !elfimg__symbol(img, "Py_Initialize", &v, &sz)) {
				*out = img;
				*map_out = m;
				continue;
			}
			elfimg__free(img);
		}
	}
	return *out ? -ME_UNSUPPORTED : -ME_NOTPYTHON;
}

static raddr_t sym_addr(struct elfimg *img, const struct layout *l, const char *name)
{
	uint64_t v;

	return elfimg__symbol(img, name, &v, NULL) ? 0 : l->bias + v;
}

raddr_t layout__gc_state(const struct layout *l, raddr_t interp)
{
	if (layout__has(l, F_RT_GC))
		return l->runtime + (raddr_t)l->v[F_RT_GC];
	return interp + (raddr_t)l->v[F_INTERP_GC];
}

enum gc_model layout__gc_model(const struct layout *l)
{
	if (layout__has(l, F_GC_GENERATIONS))
		return GCM_GENERATIONS;
	if (layout__has(l, F_GC_YOUNG) && layout__has(l, F_GC_OLD))
		return GCM_INCREMENTAL;
	return GCM_NONE;
}

int layout__gc_heads(const struct layout *l, raddr_t interp, struct gc_list_head *out)
{
	static const char *const gen_names[] = { "gen0", "gen1", "gen2" };
	static const char *const old_names[] = { "old0", "old1" };
	raddr_t gc = layout__gc_state(l, interp);
	int64_t gsz = l->v[F_GCGEN_SIZE];
	int n = 0;

	if (!layout__has(l, F_GCGEN_SIZE) || (!layout__has(l, F_RT_GC) && !layout__has(l, F_INTERP_GC)))
		return 0;
	if (layout__gc_model(l) == GCM_GENERATIONS) {
		for (int i = 0; i < 3; i++)
			out[n++] = (struct gc_list_head){ gc + (raddr_t)(l->v[F_GC_GENERATIONS] + i * gsz),
							  gen_names[i] };
	} else if (layout__gc_model(l) == GCM_INCREMENTAL) {
		out[n++] = (struct gc_list_head){ gc + (raddr_t)l->v[F_GC_YOUNG], "young" };
		for (int i = 0; i < 2; i++)
			out[n++] = (struct gc_list_head){ gc + (raddr_t)(l->v[F_GC_OLD] + i * gsz),
							  old_names[i] };
	} else
		return 0;
	if (layout__has(l, F_GC_PERMANENT))
		out[n++] = (struct gc_list_head){ gc + (raddr_t)l->v[F_GC_PERMANENT], "permanent" };
	return n;
}

int layout__first_interp(const struct layout *l, struct remote *r, raddr_t *out)
{
	if (!layout__has(l, F_RT_INTERP_HEAD))
		return -ME_NOLAYOUT;
	return remote__u64(r, l->runtime + (raddr_t)l->v[F_RT_INTERP_HEAD], out);
}

#define TPFLAGS_TYPE_SUBCLASS (1ul << 31)

bool layout__is_type(const struct layout *l, struct remote *r, raddr_t t)
{
	for (int i = 0; i < 4; i++) {
		uint64_t meta, flags;

		if (!t || (t & 7) || remote__u64(r, t + (raddr_t)l->v[F_OB_TYPE], &meta))
			return false;
		/*
		 * The chain alone accepts any instance (instance -> its class ->
		 * type): every metatype must also be a subclass of type.
		 */
		if (!meta || (meta & 7) ||
		    remote__u64(r, meta + (raddr_t)l->v[F_TP_FLAGS], &flags) ||
		    !(flags & TPFLAGS_TYPE_SUBCLASS))
			return false;
		if (meta == l->type_type)
			return true;
		t = meta;
	}
	return false;
}

/*
 * A list head is sound when it is empty (points at itself) or its first and
 * last members point back at it, and the first member's type is a type.
 */
static bool head_sound(const struct layout *l, struct remote *r, raddr_t h)
{
	uint64_t next, prev, back, ty;

	if (remote__u64(r, h, &next) || remote__u64(r, h + 8, &prev))
		return false;
	next &= GC_LINK_MASK;
	prev &= GC_LINK_MASK;
	if (next == h && prev == h)
		return true;
	if (next == h || prev == h || !next || !prev)
		return false;
	if (remote__u64(r, next + 8, &back) || (back & GC_LINK_MASK) != h)
		return false;
	if (remote__u64(r, prev, &back) || (back & GC_LINK_MASK) != h)
		return false;
	if (remote__u64(r, next + (raddr_t)l->v[F_GCHEAD_SIZE] + (raddr_t)l->v[F_OB_TYPE], &ty))
		return false;
	return layout__is_type(l, r, ty);
}

static bool gc_heads_sound(const struct layout *l, struct remote *r, raddr_t interp)
{
	struct gc_list_head heads[LAYOUT_MAX_GC_LISTS];
	int n = layout__gc_heads(l, interp, heads);

	if (n < 3)
		return false;
	for (int i = 0; i < n; i++)
		if (!head_sound(l, r, heads[i].addr))
			return false;
	return true;
}

/*
 * Find the generation list heads by their shape: three sound heads 24 bytes
 * apart (struct gc_generation), at least one of them with members, then the
 * permanent generation's head right after them or after the generation0
 * pointer that some versions keep between them. The heads keep the model the
 * layout has (young and two old spaces lie in the same shape as gen0..gen2).
 */
static int scan_gc_heads(struct layout *l, struct remote *r, raddr_t interp)
{
	raddr_t gc = layout__gc_state(l, interp);
	int64_t gsz = 24, span = layout__has(l, F_GC_SIZE) ? l->v[F_GC_SIZE] : 512;
	bool incremental = layout__gc_model(l) == GCM_INCREMENTAL;

	if (span <= 0 || span > 4096)
		span = 4096;
	for (int64_t off = 0; off + 3 * gsz <= span; off += 4) {
		raddr_t a = gc + (raddr_t)off;
		bool any = false;
		uint64_t next;
		int ok = 0;

		for (int i = 0; i < 3; i++) {
			if (!head_sound(l, r, a + (raddr_t)(i * gsz)))
				break;
			if (!remote__u64(r, a + (raddr_t)(i * gsz), &next) &&
			    (next & GC_LINK_MASK) != a + (raddr_t)(i * gsz))
				any = true;
			ok++;
		}
		if (ok < 3 || !any)
			continue;
		if (incremental) {
			set_field(l, F_GC_YOUNG, off, LSRC_SCAN);
			set_field(l, F_GC_OLD, off + gsz, LSRC_SCAN);
			l->src[F_GC_GENERATIONS] = LSRC_NONE;
		} else {
			set_field(l, F_GC_GENERATIONS, off, LSRC_SCAN);
			l->src[F_GC_YOUNG] = l->src[F_GC_OLD] = LSRC_NONE;
		}
		set_field(l, F_GCGEN_SIZE, gsz, LSRC_SCAN);
		l->src[F_GC_PERMANENT] = LSRC_NONE;
		for (int64_t p = off + 3 * gsz; p <= off + 3 * gsz + 12; p += 4)
			if (head_sound(l, r, gc + (raddr_t)p)) {
				set_field(l, F_GC_PERMANENT, p, LSRC_SCAN);
				break;
			}
		return 0;
	}
	return -ME_NOLAYOUT;
}

/*
 * The target runs while the layout is checked, so a list may be caught in
 * the middle of an update. A layout that fits is sound at some moment of a
 * few looks; one that does not fit never is. Each look reads afresh.
 */
#define SOUND_TRIES 20

static void look_again(struct remote *r)
{
	struct timespec ts = { 0, 500 * 1000 };

	nanosleep(&ts, NULL);
	remote__reset(r);
}

static bool gc_heads_sound_retry(const struct layout *l, struct remote *r, raddr_t interp)
{
	for (int i = 0; i < SOUND_TRIES; i++) {
		if (i)
			look_again(r);
		if (gc_heads_sound(l, r, interp))
			return true;
		if (r->gone)
			break;
	}
	return false;
}

static int scan_gc_heads_retry(struct layout *l, struct remote *r, raddr_t interp)
{
	int ret = -ME_NOLAYOUT;

	for (int i = 0; i < SOUND_TRIES && ret; i++) {
		if (i)
			look_again(r);
		ret = scan_gc_heads(l, r, interp);
		if (r->gone)
			break;
	}
	return ret;
}

/* Read _Py_DebugOffsets (3.13+) and take or check every field it covers. */
static int apply_debug_offsets(struct layout *l, struct remote *r, int *mismatches)
{
	char cookie[8];
	uint64_t ver, ft;
	int used = 0;

	*mismatches = 0;
	if (remote__read(r, l->runtime, cookie, 8) || memcmp(cookie, "xdebugpy", 8))
		return -ENOENT;
	if (remote__u64(r, l->runtime + 8, &ver) || remote__u64(r, l->runtime + 16, &ft))
		return -EFAULT;
	if (ft)
		return -ME_FREETHREADED;
	for (int i = 0; i < F__COUNT; i++) {
		uint64_t v;
		if (l->dbgpos[i] < 0 || remote__u64(r, l->runtime + (raddr_t)l->dbgpos[i], &v))
			continue;
		if (v > (1u << 20))
			continue; /* not an offset: the position is wrong for this build */
		if (layout__has(l, i) && l->v[i] != (int64_t)v) {
			log_debug("layout: %s is %lld in %s but %llu in _Py_DebugOffsets",
				  field_specs[i].name, (long long)l->v[i],
				  layout_source__name(l->src[i]), (unsigned long long)v);
			(*mismatches)++;
		}
		if (l->src[i] != LSRC_DWARF)
			set_field(l, i, (int64_t)v, LSRC_DEBUG_OFFSETS);
		used++;
	}
	return used;
}

static void apply_table(struct layout *l, const struct offset_table *t, enum layout_source src)
{
	for (int i = 0; i < F__COUNT; i++) {
		if (t->has[i])
			set_field(l, i, t->v[i], src);
		if (t->dbgpos[i] >= 0)
			l->dbgpos[i] = t->dbgpos[i];
	}
}

static int from_dwarf(struct layout *l, struct elfimg *img, const char *img_path, pid_t pid)
{
	struct elfimg *dbg = NULL;
	struct dwtypes *t = NULL;
	char *dbg_path = NULL, root[64];
	int ret;

	if (elfimg__has_dwarf(img)) {
		ret = dwtypes__open(elfimg__fd(img), field_dwarf_types, &t);
		if (!ret)
			snprintf(l->source_desc, sizeof(l->source_desc), "DWARF in %s", img_path);
	} else {
		snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
		dbg = layout__open_debug(img, img_path, root, &dbg_path);
		if (!dbg)
			dbg = layout__open_debug(img, img_path, "", &dbg_path);
		if (!dbg)
			return -ENODATA;
		ret = dwtypes__open(elfimg__fd(dbg), field_dwarf_types, &t);
		if (!ret) {
			/* show the path as the target sees it */
			const char *shown = dbg_path;
			if (!strncmp(shown, root, strlen(root)))
				shown += strlen(root);
			snprintf(l->source_desc, sizeof(l->source_desc), "DWARF in %s", shown);
		}
	}
	if (!ret)
		ret = layout__fill_dwarf(l, t);
	dwtypes__free(t);
	elfimg__free(dbg);
	free(dbg_path);
	return ret;
}

static bool required_present(const struct layout *l, char *missing, size_t size)
{
	static const enum field_id req[] = { F_RT_INTERP_HEAD, F_INTERP_NEXT, F_GCGEN_SIZE,
					     F_GCHEAD_SIZE, F_OB_TYPE, F_TP_NAME, F_TP_FLAGS };
	missing[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(req); i++)
		if (!layout__has(l, req[i])) {
			snprintf(missing, size, "%s", field_specs[req[i]].name);
			return false;
		}
	if (!layout__has(l, F_RT_GC) && !layout__has(l, F_INTERP_GC)) {
		snprintf(missing, size, "interp.gc");
		return false;
	}
	return true;
}

int layout__discover(struct remote *r, enum layout_want want, struct layout *l, char **why)
{
	const struct proc_map *map;
	const struct offset_table *table;
	enum table_match how = TM_NONE;
	struct elfimg *img = NULL;
	uint64_t runtime_sym;
	char *img_path = NULL, missing[64];
	raddr_t interp;
	bool exact;
	int ret, mism = 0;

	layout__init(l);
	*why = NULL;
	ret = find_image(r, &img, &map, &runtime_sym);
	if (ret == -ME_UNSUPPORTED) {
		/* an interpreter older than 3.7: its version, if it tells, for the refusal */
		layout__image_version(img, l);
		*why = unsupported_why(l, map->path);
		elfimg__free(img);
		return ret;
	}
	if (ret)
		return ret;
	l->image_path = xstrdup(map->path);
	{
		/* the path inside the target's root */
		char *root = xasprintf("/proc/%d/root", (int)r->pid), buf[4096];
		ssize_t n = readlink(root, buf, sizeof(buf) - 1);
		free(root);
		if (n > 1) {
			buf[n] = 0;
			if (!strncmp(l->image_path, buf, (size_t)n) && l->image_path[n] == '/')
				memmove(l->image_path, l->image_path + n, strlen(l->image_path + n) + 1);
		}
	}
	img_path = l->image_path;
	elfimg__build_id(img, l->build_id, sizeof(l->build_id));
	l->bias = map->start - elfimg__base_vaddr(img);
	l->runtime = l->bias + runtime_sym;
	ret = layout__image_version(img, l);
	if (ret == -ME_FREETHREADED) {
		*why = xasprintf("%s is a free-threaded build", img_path);
		goto out;
	}
	if (ret) {
		*why = xasprintf("cannot tell the Python version of %s", img_path);
		goto out;
	}
	if (!version_supported(l)) {
		ret = -ME_UNSUPPORTED;
		*why = unsupported_why(l, img_path);
		goto out;
	}
	l->type_type = sym_addr(img, l, "PyType_Type");
	l->str_type = sym_addr(img, l, "PyUnicode_Type");
	l->dict_type = sym_addr(img, l, "PyDict_Type");
	l->object_type = sym_addr(img, l, "PyBaseObject_Type");
	for (int i = 0; i < T__COUNT; i++)
		l->types[i] = sym_addr(img, l, layout_type_sym_names[i]);
	if (!l->type_type) {
		ret = -ME_NOTPYTHON;
		*why = xasprintf("%s has _PyRuntime but no PyType_Type", img_path);
		goto out;
	}

	/*
	 * A table made from this very build (same build-id) holds what its DWARF
	 * would give, without reading and inflating megabytes of debug info.
	 */
	ret = -ENODATA;
	table = want == LWANT_AUTO ? tables__find(l->version, l->flavour, l->build_id, &how) : NULL;
	if (table && how == TM_BUILD_ID) {
		apply_table(l, table, LSRC_TABLE);
		l->source = LSRC_TABLE;
		snprintf(l->source_desc, sizeof(l->source_desc), "table %s %s (made from this build)",
			 table->version, table->flavour);
	} else if (want != LWANT_TABLE)
		ret = from_dwarf(l, img, img_path, r->pid);
	if (l->source == LSRC_TABLE) {
		/* taken above */
	} else if (!ret) {
		l->source = LSRC_DWARF;
	} else if (want == LWANT_DWARF) {
		ret = -ME_NOLAYOUT;
		*why = xasprintf("no DWARF for %s (build-id %s); install its debug symbols "
				 "(e.g. the python3.X-dbg package)", img_path, l->build_id);
		goto out;
	} else {
		table = tables__find(l->version, l->flavour, l->build_id, &how);
		if (table) {
			apply_table(l, table, how == TM_NEAREST ? LSRC_TABLE_NEAREST : LSRC_TABLE);
			l->source = how == TM_NEAREST ? LSRC_TABLE_NEAREST : LSRC_TABLE;
			snprintf(l->source_desc, sizeof(l->source_desc), "table %s %s (%s)",
				 table->version, table->flavour,
				 how == TM_BUILD_ID ? "made from this build" :
				 how == TM_VERSION  ? "same version, other build" :
						      "nearest release, validated");
			if (how == TM_NEAREST)
				l->warning = xasprintf("no table for Python %s %s; using the one for %s, "
						       "checked against the target",
						       l->version, l->flavour, table->version);
		}
	}

	if (l->minor >= 13) {
		/* positions inside _Py_DebugOffsets: from DWARF, or any table of this minor */
		if (l->dbgpos[F_RT_INTERP_HEAD] < 0) {
			char v[16];
			snprintf(v, sizeof(v), "%u.%u.0", l->major, l->minor);
			enum table_match any;
			table = tables__find(v, l->flavour, NULL, &any);
			if (!table)
				table = tables__find(v, l->debug_build ? "release" : "debug", NULL, &any);
			for (int i = 0; table && i < F__COUNT; i++)
				l->dbgpos[i] = table->dbgpos[i];
		}
		ret = apply_debug_offsets(l, r, &mism);
		if (ret == -ME_FREETHREADED) {
			*why = xasprintf("%s is a free-threaded build", img_path);
			goto out;
		}
		if (ret > 0 && l->source == LSRC_NONE) {
			l->source = LSRC_DEBUG_OFFSETS;
			snprintf(l->source_desc, sizeof(l->source_desc), "_Py_DebugOffsets");
		} else if (ret > 0) {
			size_t len = strlen(l->source_desc);
			snprintf(l->source_desc + len, sizeof(l->source_desc) - len,
				 " + _Py_DebugOffsets%s", mism ? " (mismatches)" : "");
		}
	}

	if (!required_present(l, missing, sizeof(missing))) {
		ret = -ME_NOLAYOUT;
		*why = xasprintf("no layout for Python %s %s (build-id %s): '%s' is unknown; "
				 "install its debug symbols (python3.%u-dbg) or add a table with "
				 "memalot-gen-offsets",
				 l->version, l->flavour, l->build_id[0] ? l->build_id : "none", missing,
				 l->minor);
		goto out;
	}

	/* Check the layout against the live target; fall back to a scan. */
	ret = layout__first_interp(l, r, &interp);
	if (ret || !interp || !remote__mapped(r, interp, 8)) {
		ret = ret == -ESRCH ? -ESRCH : -ME_GARBAGE;
		*why = xasprintf("interpreter list of %s is not readable; is the interpreter "
				 "initialised?", img_path);
		goto out;
	}
	exact = !mism && (l->source == LSRC_DWARF || (l->source == LSRC_TABLE && how == TM_BUILD_ID));
	if (!gc_heads_sound_retry(l, r, interp)) {
		if (exact) {
			/* an exact layout with lists in flux: the walk freezes and retries */
			ret = 0;
			goto out;
		}
		if (scan_gc_heads_retry(l, r, interp)) {
			ret = -ME_NOLAYOUT;
			*why = xasprintf("the garbage collector lists of Python %s %s could not be "
					 "located: the layout from %s does not fit the target; install "
					 "its debug symbols (python3.%u-dbg)",
					 l->version, l->flavour, l->source_desc, l->minor);
			goto out;
		}
		size_t len = strlen(l->source_desc);
		snprintf(l->source_desc + len, sizeof(l->source_desc) - len,
			 " + scan for GC lists");
	}
	ret = 0;
out:
	elfimg__free(img);
	return ret;
}
