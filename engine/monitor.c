/* SPDX-License-Identifier: MIT */
/*
 * The monitoring engine (monitor.h): snapshots every --check-interval,
 * learns when each object was first seen (analyzer/lifetime.c), and after
 * the warm-up prints a report every lifetime: the objects first seen after
 * the warm-up that are now older than the lifetime, with referrer graphs
 * for some of them, and the target's native figures. One session a target,
 * all driven by one loop that runs the check due first.
 */
#define _GNU_SOURCE
#include "monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../analyzer/graph.h"
#include "../analyzer/lifetime.h"
#include "../analyzer/pyobj.h"
#include "../analyzer/snapshot.h"
#include "../attach/freeze.h"
#include "../attach/native.h"
#include "../attach/proc.h"
#include "../attach/remote.h"
#include "status.h"
#include "control.h"
#include "../reports/render.h"
#include "../reports/store.h"
#include "../symbols/layout.h"

/* FNV-1a over bytes */
static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* A hash of an immutable object's contents (str, tuple items, int), 0 for others. */
static uint64_t content_hash(const struct graph *g, long node)
{
	const struct layout *l = g->ctx.l;
	struct remote *r = g->ctx.r;
	raddr_t addr = g->nodes[node].addr, type = g->snap->types.v[g->nodes[node].type].addr;
	uint64_t h = 0xcbf29ce484222325ull;
	char buf[512];
	int64_t iv;

	if (type == l->types[T_STR]) {
		int n = pyobj__str(r, l, addr, buf, sizeof(buf));
		return n < 0 ? 1 : fnv(buf, (size_t)n, h);
	}
	if (type == l->types[T_INT])
		return pyobj__int(r, l, addr, &iv) ? 1 : fnv(&iv, sizeof(iv), h);
	if (type == l->types[T_FLOAT]) {
		double d;
		return pyobj__float(r, l, addr, &d) ? 1 : fnv(&d, sizeof(d), h);
	}
	if (type == l->types[T_BYTES]) {
		size_t n = 0;
		return pyobj__bytes(r, l, addr, buf, sizeof(buf), &n) ? 1 : fnv(buf, MIN(n, sizeof(buf)), fnv(&n, sizeof(n), h));
	}
	if (type == l->types[T_TUPLE]) {
		uint64_t n = 0, items[64];
		if (remote__u64(r, addr + (raddr_t)l->v[F_VAR_OB_SIZE], &n) || n > (1u << 24))
			return 1;
		n = MIN(n, (uint64_t)ARRAY_SIZE(items));
		if (remote__read(r, addr + (raddr_t)l->v[F_TUPLE_ITEMS], items, n * 8))
			return 1;
		return fnv(items, n * 8, fnv(&n, sizeof(n), h));
	}
	return 0;
}

static bool name_passes(const struct monitor_opts *o, const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; i < o->nexclude; i++)
		if (strstr(name, o->exclude[i]))
			return false;
	if (!o->ninclude)
		return true;
	for (size_t i = 0; i < o->ninclude; i++)
		if (strstr(name, o->include[i]))
			return true;
	return false;
}

/* The lifetime tracker's generation of the objects of GC list name. */
static int8_t gen_of_list(const char *name)
{
	if (!strcmp(name, "permanent"))
		return LT_PERMANENT;
	if (!strcmp(name, "gen0") || !strcmp(name, "young"))
		return 0;
	if (!strcmp(name, "gen1"))
		return 1;
	return 2; /* gen2, or either old space of 3.14 (see lifetime.h) */
}

/* A reference that keeps an object alive and names it the same way in every snapshot (rules 7 and 8). */
static bool identity_edge(const struct graph *g, const struct gedge *e)
{
	return !e->derived && e->kind != EDGE_WEAK && e->kind != EDGE_TYPE_OF && e->kind != EDGE_SCANNED &&
	       e->from != e->to && e->from < g->n && e->to < g->n;
}

/*
 * A hash of a reference: its kind, index, key object and name (name_hash:
 * of each of g's names). Only compared within one run, between snapshots.
 */
static uint64_t edge_hash(const struct graph *g, const struct gedge *e, const uint64_t *name_hash)
{
	uint64_t h = ((uint64_t)e->kind << 32 | (uint32_t)e->index) * 0x9e3779b97f4a7c15ull;

	h ^= (h >> 29) ^ e->key * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 32)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31) ^ (e->name < g->nnames ? name_hash[e->name] : 0);
}

static uint64_t *name_hashes(const struct graph *g)
{
	uint64_t *name_hash = xcalloc(g->nnames + 1, sizeof(*name_hash));

	for (size_t k = 0; k < g->nnames; k++)
		name_hash[k] = fnv(g->names[k], strlen(g->names[k]), 0xcbf29ce484222325ull);
	return name_hash;
}

/*
 * The references to each node, by node (refs' arrays are owned): rule 8 of
 * analyzer/lifetime.c, and what holders() picks from.
 */
static void referrers(const struct graph *g, const uint64_t *name_hash, struct lt_refs *refs)
{
	size_t *start = xcalloc(g->n + 2, sizeof(*start)), nrefs = 0;
	uint32_t *from;
	uint64_t *edge;

	for (size_t k = 0; k < g->nedges; k++)
		if (identity_edge(g, &g->edges[k])) {
			start[g->edges[k].to + 2]++;
			nrefs++;
		}
	for (size_t i = 0; i < g->n; i++)
		start[i + 2] += start[i + 1];
	from = xmalloc((nrefs ? nrefs : 1) * sizeof(*from));
	edge = xmalloc((nrefs ? nrefs : 1) * sizeof(*edge));
	for (size_t k = 0; k < g->nedges; k++) {
		const struct gedge *e = &g->edges[k];
		size_t at;

		if (!identity_edge(g, e))
			continue;
		at = start[e->to + 1]++;
		from[at] = e->from;
		edge[at] = edge_hash(g, e, name_hash);
	}
	*refs = (struct lt_refs){ start, from, edge };
}

/*
 * Rule 7 of analyzer/lifetime.c: each node's holder, the referrer of a
 * smaller depth (a tracked node: a tracked referrer) with the lowest
 * address, then the lowest hash of the reference; strong references only.
 * Independent of the order of the edges, so the same in every snapshot.
 */
static void holders(const struct graph *g, const struct lt_refs *refs, struct lt_obj *objs)
{
	for (size_t i = 0; i < g->n; i++) {
		uint8_t dto = g->nodes[i].depth;
		raddr_t best = 0;

		for (size_t r = refs->start[i]; r < refs->start[i + 1]; r++) {
			uint32_t f = refs->from[r];
			uint8_t dfrom = g->nodes[f].depth;
			raddr_t from = g->nodes[f].addr;

			if (dto ? dfrom >= dto : dfrom != 0)
				continue;
			if (!objs[i].holder || from < best || (from == best && refs->edge[r] < objs[i].edge)) {
				objs[i].holder = f + 1;
				objs[i].edge = refs->edge[r];
				best = from;
			}
		}
	}
}

/*
 * The tracker's view of every node of g: identity keys per type and
 * generations per list, computed once; and the references between them
 * into refs.
 */
static void tracker_objects(const struct snapshot *snap, const struct graph *g, struct lt_obj *objs,
			    struct lt_refs *refs)
{
	uint64_t *name_hash = name_hashes(g);
	uint64_t *type_key = xcalloc(snap->types.n + 1, sizeof(*type_key));
	const struct layout *l = g->ctx.l;
	int8_t gen[SNAP_MAX_LISTS];

	for (size_t t = 0; t < snap->types.n; t++) {
		const char *name = snap->types.v[t].name;
		type_key[t] = snap->types.v[t].addr ^ fnv(name, name ? strlen(name) : 0, 0);
	}
	for (int k = 0; k < snap->nlists; k++)
		gen[k] = gen_of_list(snap->lists[k].name);
	for (size_t i = 0; i < g->n; i++) {
		bool tracked = i < snap->n && !g->nodes[i].depth;
		uint16_t list = tracked ? snap->objs[i].list : 0;
		raddr_t type = snap->types.v[g->nodes[i].type].addr;
		uint8_t flags = 0;

		if (type && type == l->types[T_DICT])
			flags = LT_MAY_UNTRACK | LT_MAY_RETRACK;
		else if (type && type == l->types[T_TUPLE])
			flags = LT_MAY_UNTRACK;
		objs[i] = (struct lt_obj){ g->nodes[i].addr, type_key[g->nodes[i].type],
					   tracked ? gen[list] : (int8_t)LT_UNTRACKED, (uint32_t)i,
					   content_hash(g, (long)i), list, 0, 0, g->nodes[i].depth, flags };
	}
	referrers(g, name_hash, refs);
	holders(g, refs, objs);
	free(name_hash);
	free(type_key);
}

struct type_row {
	uint32_t type;
	size_t count;
	uint64_t size;
};

static int cmp_rows(const void *a, const void *b)
{
	const struct type_row *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : (x->type > y->type) - (x->type < y->type);
}

static char *iso_time(time_t t)
{
	char buf[64];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

/* Write a report to out (and stdout with tee); a write error is said once and ends the run. */
static void emit(struct monitor_out *out, const char *text)
{
	status_clear(); /* the report replaces the status line */
	if (out->control_fd > 0) {
		/* the package prints it, or gives it to its output_func */
		if (control__send(out->control_fd, "report", text, strlen(text))) {
			log_err("the control channel is closed: %s", strerror(errno));
			out->failed = true;
		}
		return;
	}
	errno = 0; /* a failed write's reason, for cli__flush */
	fputs(text, out->f);
	if (cli__flush(out->f, out->name))
		out->failed = true;
	if (out->tee && out->f != stdout) {
		errno = 0;
		fputs(text, stdout);
		if (cli__flush(stdout, "standard output"))
			out->failed = true;
	}
}

struct iteration {
	const char *report_id;
	int number;
	pid_t pid;
	const char *command;
	time_t start, end;
	long rss, hwm, rss_prev, hwm_prev; /* KiB */
	bool warmup;                       /* the warm-up report: no leaks yet */
	struct native *native;             /* the native figures across iterations */
	const raddr_t *exclude;            /* function-based: what the call leaves to its caller */
	size_t nexclude;
	uint64_t call;                     /* function-based: the call's number, or 0 */
	/* set by report(): the window's new leaks */
	size_t leaked_objects;
	uint64_t leaked_bytes;
};

/*
 * The target's native figures (attach/native.h) at the warm-up report, the
 * last report and now, with the bytes of its Python objects at each: growth
 * since the warm-up and in the window, and how much of it Python objects do
 * not explain.
 */
struct native {
	struct native_stats base, prev, now;
	uint64_t py_base, py_prev, py_now;
	struct fd_table base_fds;
	bool have_base, have_now;
	/* of the last report, since the warm-up */
	int64_t unexplained, new_fds;
	pid_t read_pid; /* whose /proc is read: a live thread when the main thread has exited */
};

#define NATIVE_MAX_NEW_FDS 20

static void native_set(json_t *o, const struct native_stats *a, const struct native_stats *b, uint64_t py_a,
		       uint64_t py_b)
{
	/* a - b, or a alone when b is NULL */
#define D(x) (b ? (json_int_t)a->x - (json_int_t)b->x : (json_int_t)a->x)
	json_object_set_new(o, "rss_bytes", json_integer(D(rss)));
	json_object_set_new(o, "uss_bytes", json_integer(D(uss)));
	json_object_set_new(o, "pss_bytes", json_integer(D(pss)));
	json_object_set_new(o, "anon_bytes", json_integer(D(anon)));
	json_object_set_new(o, "heap_bytes", json_integer(D(heap)));
	json_object_set_new(o, "swap_bytes", json_integer(D(swap)));
	json_object_set_new(o, "fds", json_integer(D(fds)));
	json_object_set_new(o, "threads", json_integer(D(threads)));
#undef D
	json_object_set_new(o, "python_object_bytes", json_integer(b ? (json_int_t)py_a - (json_int_t)py_b : (json_int_t)py_a));
	if (b)
		json_object_set_new(o, "unexplained_bytes",
				    json_integer(((json_int_t)a->rss - (json_int_t)b->rss) -
						 ((json_int_t)py_a - (json_int_t)py_b)));
}

/* The iteration's "native", "native_growth" and "native_window_growth" (null when /proc could not be read). */
static void native_json(json_t *root, struct native *n, pid_t pid)
{
	json_t *now, *growth, *window, *fds;
	const struct fd_entry *fresh[NATIVE_MAX_NEW_FDS];
	struct fd_table cur = { 0 };
	size_t total = 0;

	if (!n->have_now || !n->have_base) {
		json_object_set_new(root, "native", json_null());
		json_object_set_new(root, "native_growth", json_null());
		json_object_set_new(root, "native_window_growth", json_null());
		return;
	}
	now = json_object();
	growth = json_object();
	window = json_object();
	fds = json_array();
	native_set(now, &n->now, NULL, n->py_now, 0);
	native_set(growth, &n->now, &n->base, n->py_now, n->py_base);
	native_set(window, &n->now, &n->prev, n->py_now, n->py_prev);
	if (!native__fds(pid, &cur))
		total = native__new_fds(&n->base_fds, &cur, fresh, NATIVE_MAX_NEW_FDS);
	for (size_t i = 0; i < MIN(total, (size_t)NATIVE_MAX_NEW_FDS); i++)
		json_array_append_new(fds, json_pack("{s:i, s:s}", "fd", fresh[i]->fd, "target", fresh[i]->target));
	/* the descriptors open now that were not at the warm-up (at most NATIVE_MAX_NEW_FDS listed) */
	json_object_set_new(growth, "new_fds", fds);
	json_object_set_new(growth, "total_new_fds", json_integer((json_int_t)total));
	n->new_fds = (int64_t)total;
	n->unexplained = ((int64_t)n->now.rss - (int64_t)n->base.rss) - ((int64_t)n->py_now - (int64_t)n->py_base);
	native__fds_release(&cur);
	json_object_set_new(root, "native", now);
	json_object_set_new(root, "native_growth", growth);
	json_object_set_new(root, "native_window_growth", window);
}

/*
 * Report the objects that became leaks in this iteration's window
 * (lifetime__is_new_leak() decides which), with the count of all leaks still
 * alive; nothing but the memory use for the warm-up report. @return the
 * report's document
 */
static json_t *report(struct monitor_out *out, const struct monitor_opts *o, struct graph *g, const struct lt_ages *a,
		     struct iteration *it)
{
	size_t ntypes = g->snap->types.n, nrows = 0, nleaks = 0, nalive = 0, ndetail = 0;
	struct type_row *rows = xcalloc(ntypes + 1, sizeof(*rows));
	long *row_of = xcalloc(ntypes + 1, sizeof(*row_of));
	struct why_opts wopts = o->why;
	struct why_result wr = { 0 };
	char *buf = NULL, *start, *end;
	size_t buflen = 0;
	json_t *root;
	FILE *mem = open_memstream(&buf, &buflen);
	uint32_t *lk = xmalloc((it->warmup ? 1 : g->n + 1) * sizeof(*lk)); /* the window's leaks, node order */
	long ex[CONTROL_MAX_EXCLUDE];
	size_t nex = 0, ncand = 0;

	for (size_t i = 0; i < ntypes; i++)
		row_of[i] = -1;
	/* the leaks alive, of the types asked for (lk holds them until the window's are picked) */
	for (size_t i = 0; i < g->n && !it->warmup; i++)
		if (lifetime__is_leak(a, i) && name_passes(o, g->snap->types.v[g->nodes[i].type].name))
			lk[ncand++] = (uint32_t)i;
	/*
	 * A monitored call's return value is alive at its exit: it and what
	 * only it holds (its dominator subtree) are the caller's, not leaks.
	 * The dominator tree only when some object is a new leak (most calls
	 * leak nothing new).
	 */
	bool any_new = false;

	for (size_t c = 0; c < ncand && !any_new; c++)
		any_new = lifetime__is_new_leak(a, lk[c]);
	/* no new leak: the window reports none, and the older ones are counted as they are */
	for (size_t k = 0; k < it->nexclude && nex < ARRAY_SIZE(ex) && any_new; k++)
		if ((ex[nex] = graph__find(g, it->exclude[k])) >= 0)
			nex++;
	if (nex && (why__sizes(g, &wr) || !wr.have_dom))
		nex = 0;
	for (size_t c = 0; c < ncand; c++) {
		uint32_t i = lk[c], t = g->nodes[i].type;
		bool dominated = false;

		for (size_t k = 0; k < nex && !dominated; k++)
			dominated = wr.dom.pre[ex[k]] <= wr.dom.pre[i] && wr.dom.pre[i] <= wr.dom.end[ex[k]];
		if (dominated)
			continue;
		nalive++;
		if (!lifetime__is_new_leak(a, i))
			continue;
		if (row_of[t] < 0) {
			row_of[t] = (long)nrows;
			rows[nrows++] = (struct type_row){ t, 0, 0 };
		}
		rows[row_of[t]].count++;
		lk[nleaks++] = i; /* nleaks <= c: over what was read already */
	}
	/*
	 * The leaked objects grouped by the root and path that hold them, with
	 * every object's sys.getsizeof and retained size (one sizes cache for
	 * the report), and details sampled across the groups.
	 */
	if (nleaks) {
		why__run_nodes(g, &wopts, lk, nleaks, &wr);
		ndetail = wr.n;
		for (size_t k = 0; k < nleaks; k++) {
			if (o->compute_size)
				rows[row_of[g->nodes[lk[k]].type]].size += wr.node_size[lk[k]];
			if (wr.node_size)
				it->leaked_bytes += wr.node_size[lk[k]];
		}
		it->leaked_objects = nleaks;
		log_debug("report: %zu leaks in %zu groups; sizes %.0f ms, dominators %.0f ms, groups %.0f ms, "
			  "details %.0f ms", nleaks, wr.groups.n, wr.sizes_ns / 1e6, wr.dom_ns / 1e6, wr.groups_ns / 1e6,
			  wr.search_ns / 1e6);
	}
	free(lk);
	qsort(rows, nrows, sizeof(*rows), cmp_rows);
	/* re-index after sorting */
	for (size_t k = 0; k < nrows; k++)
		row_of[rows[k].type] = (long)k;
	start = iso_time(it->start);
	end = iso_time(it->end);
	{
		json_t *mu = json_object(), *ls = json_object(), *ts = json_array();

		root = json_object();
		json_object_set_new(root, "report_id", json_string(it->report_id));
		json_object_set_new(root, "iteration_number", json_integer(it->number));
		json_object_set_new(root, "pid", json_integer(it->pid));
		json_object_set_new(root, "command", json_string(it->command ? it->command : ""));
		json_object_set_new(root, "start_time", json_string(start));
		json_object_set_new(root, "end_time", json_string(end));
		json_object_set_new(root, "max_object_lifetime", o->calls ? json_null() : json_real(o->lifetime));
		if (o->calls) {
			/* function-based (schema 1.3) */
			json_object_set_new(root, "max_object_age_calls", json_integer(o->age_calls));
			json_object_set_new(root, "call_number", json_integer((json_int_t)it->call));
		}
		json_object_set_new(root, "warmup_report", json_boolean(it->warmup));
		json_object_set_new(mu, "rss_bytes", json_integer((json_int_t)it->rss * 1024));
		json_object_set_new(mu, "peak_rss_bytes", json_integer((json_int_t)it->hwm * 1024));
		json_object_set_new(mu, "rss_change_bytes", json_integer((json_int_t)(it->rss - it->rss_prev) * 1024));
		json_object_set_new(mu, "peak_rss_change_bytes",
				    json_integer((json_int_t)(it->hwm - it->hwm_prev) * 1024));
		json_object_set_new(root, "memory_usage", mu);
		if (it->native) {
			struct native *n = it->native;

			n->py_now = why__object_bytes(g, nleaks ? &wr : NULL);
			if (it->warmup || !n->have_base) {
				/* the baseline: growth is counted from here */
				n->base = n->prev = n->now;
				n->py_base = n->py_prev = n->py_now;
				n->have_base = n->have_now;
				native__fds_release(&n->base_fds);
				if (n->have_now && native__fds(n->read_pid, &n->base_fds))
					native__fds_release(&n->base_fds);
			}
			native_json(root, n, n->read_pid);
			n->prev = n->now;
			n->py_prev = n->py_now;
		}
		/* what holds the leaks leads the report (schema 1.1) */
		json_object_set_new(root, "leak_groups", why__groups_json(g, &wr));
		json_object_set_new(root, "total_leak_groups", json_integer((json_int_t)wr.groups.n));
		for (size_t k = 0; k < nrows && (long)k < o->max_types; k++) {
			json_t *t = json_object();
			json_object_set_new(t, "object_type", json_string(g->snap->types.v[rows[k].type].name));
			json_object_set_new(t, "count", json_integer((json_int_t)rows[k].count));
			json_object_set_new(t, "shallow_size_bytes",
					    o->compute_size ? json_integer((json_int_t)rows[k].size) : json_null());
			json_array_append_new(ts, t);
		}
		json_object_set_new(ls, "type_summaries", ts);
		json_object_set_new(ls, "total_objects", json_integer((json_int_t)nleaks));
		/* the leaks of every window since the warm-up, still alive */
		json_object_set_new(ls, "total_alive_objects", json_integer((json_int_t)nalive));
		json_object_set_new(ls, "total_types", json_integer((json_int_t)nrows));
		json_object_set_new(ls, "size_computed", json_boolean(o->compute_size));
		json_object_set_new(root, "leak_summary", ls);
		json_object_set_new(root, "object_details_list", ndetail ? why__json(g, &wr) : json_array());
		/* the details are chosen among all the leaked objects */
		json_object_set_new(root, "details_matched_objects", json_integer((json_int_t)nleaks));
		json_object_set_new(root, "details_matched_types", json_integer((json_int_t)nrows));
	}
	if (o->json)
		render__iteration_json(mem, root);
	else {
		/* colour where the report is read on a terminal (never in the package's frames) */
		render__set_color(out->control_fd <= 0 && render__want_color(out->f));
		render__iteration_text(mem, root, false);
		render__set_color(false);
	}
	fclose(mem);
	emit(out, buf);
	free(buf);
	free(start);
	free(end);
	why__release(&wr);
	free(rows);
	free(row_of);
	return root;
}

/* The summary document of a saved session (docs/report-format.md). */
static json_t *session_summary(const struct monitor *m, pid_t pid, const char *command, const char *version,
			       const char *report_id)
{
	json_t *s = json_object();
	char host[256] = "", *exe = proc__exe(pid), *start = iso_time(time(NULL));

	if (gethostname(host, sizeof(host) - 1))
		host[0] = 0;
	json_object_set_new(s, "report_id", json_string(report_id));
	json_object_set_new(s, "pid", json_integer(pid));
	json_object_set_new(s, "command", json_string(command ? command : ""));
	json_object_set_new(s, "executable", json_string(exe ? exe : ""));
	json_object_set_new(s, "python_version", json_string(version));
	json_object_set_new(s, "host_name", json_string(utf8_sanitize(host)));
	json_object_set_new(s, "start_time", json_string(start));
	json_object_set_new(s, "memalot_version", json_string(MEMALOT_VERSION));
	/* function-based (schema 1.3): the clock counts calls, the times are nil */
	json_object_set_new(s, "discovery", json_string(m->o->calls ? "function" : "time"));
	json_object_set_new(s, "max_object_lifetime", m->o->calls ? json_null() : json_real(m->o->lifetime));
	json_object_set_new(s, "check_interval", m->o->calls ? json_null() : json_real(m->o->interval));
	json_object_set_new(s, "warmup_time", m->o->calls ? json_null() : json_real(m->o->warmup));
	json_object_set_new(s, "max_object_age_calls", m->o->calls ? json_integer(m->o->age_calls) : json_null());
	json_object_set_new(s, "warmup_calls", m->o->calls ? json_integer(m->o->warmup_calls) : json_null());
	json_object_set_new(s, "schema_version", json_string(STORE_SCHEMA_STRING));
	/* the sessions of one run (memalot run, attach with several processes) share it (schema 1.2) */
	json_object_set_new(s, "run_id", m->run_id[0] ? json_string(m->run_id) : json_null());
	free(exe);
	free(start);
	return s;
}

/* A wait before the next check this long gives the heap back first (malloc_trim). */
#define IDLE_TRIM_NS (5 * 1000000000ull)

static void sleep_until(uint64_t t)
{
	while (!freezer_stop_requested) {
		uint64_t now = now_ns();
		struct timespec ts;

		if (now >= t)
			return;
		/* in slices, so that Ctrl-C is noticed at once */
		uint64_t d = MIN(t - now, (uint64_t)100000000);
		ts.tv_sec = (time_t)(d / 1000000000ull);
		ts.tv_nsec = (long)(d % 1000000000ull);
		nanosleep(&ts, NULL);
	}
}

/*
 * Create the saved report (under --report-directory, $MEMALOT_REPORT_DIRECTORY
 * or ~/.memalot/reports) and write its summary; report_id becomes its ID.
 * @return 0, or -1 after the message
 */
static int start_session(const struct monitor *m, pid_t pid, const char *command, const char *version,
			 struct store_session *store, char **report_dir, char *report_id)
{
	char err[512];
	json_t *summary;
	int ret;

	*report_dir = m->o->report_dir ? xstrdup(m->o->report_dir) : store__default_dir();
	if (store__create_id(*report_dir, store, report_id, err, sizeof(err))) {
		log_err("%s (--report-directory, or --no-save-reports)", err);
		return -1;
	}
	memcpy(report_id, store->id, sizeof(store->id));
	summary = session_summary(m, pid, command, version, report_id);
	ret = store__write_summary(store, summary, err, sizeof(err));
	json_decref(summary);
	if (ret) {
		log_err("%s (--report-directory, or --no-save-reports)", err);
		/* no summary, no report: the session directory is empty still */
		rmdir(store->path);
		store__close(store);
	}
	return ret ? -1 : 0;
}


/* ------------------------------------------------------------ sessions */

struct monitor_session {
	pid_t pid; /* as given */
	struct remote r;
	struct layout layout;
	struct lifetimes lt;
	struct store_session store;
	struct snapshot_opts sopts;
	struct native native;
	char *report_dir, *command, report_id[16];
	uint64_t warmup_end, next_report, next_check, prev_report_now;
	uint32_t checks_since; /* snapshots since the last report but the warm-up one */
	uint64_t nchecks;      /* for the status line */
	json_t *html_iters;    /* --html: the iterations so far (details only in the newest that has them) */
	bool said_in_place;    /* that its memory is more than --max-memory, once */
	long rss_prev, hwm_prev;
	time_t iter_start;
	int iteration;
	/* function-based: the call being checked, at its entry or exit, and its return value */
	uint64_t call;
	bool call_exit;
	const raddr_t *exclude;
	size_t nexclude;
	bool started, have_snapshot, final, ended;
	int code; /* the session's exit code */
	/* for the summary: new leaks of every report, reports made */
	uint64_t leaked_objects, leaked_bytes;
	int reports;
};

/* What a check says of its session. */
enum step {
	STEP_GO_ON,
	STEP_END,       /* this session is over */
	STEP_STOP_ALL,  /* the run is over (a write failed, --duration) */
	STEP_INTERRUPTED,
};

void monitor__init(struct monitor *m, const struct monitor_opts *o, struct monitor_out *out)
{
	memset(m, 0, sizeof(*m));
	m->o = o;
	m->out = out;
	m->deadline = UINT64_MAX;
	m->status = out->control_fd <= 0 && log_level >= 1 && isatty(STDERR_FILENO);
}

/*
 * A session is over: what it holds of its target (the copied memory, the
 * ages of its objects) goes at once, not at the end of the run, where a
 * long run whose workers come and go would keep every one's. What the
 * summary and the "saved" line need stays.
 */
static void session_end(struct monitor_session *s)
{
	s->ended = true;
	native__fds_release(&s->native.base_fds);
	lifetimes__release(&s->lt);
	layout__release(&s->layout);
	remote__release(&s->r);
}

static void session_free(struct monitor_session *s)
{
	store__close(&s->store);
	native__fds_release(&s->native.base_fds);
	free(s->report_dir);
	lifetimes__release(&s->lt);
	layout__release(&s->layout);
	remote__release(&s->r);
	json_decref(s->html_iters);
	free(s->command);
	free(s);
}

int monitor__add(struct monitor *m, pid_t pid)
{
	struct monitor_session *s = xcalloc(1, sizeof(*s));
	uint64_t start;
	char *why = NULL;
	int ret;

	s->pid = pid;
	s->r.mem_fd = -1;
	s->store.dirfd = -1;
	ret = remote__open(&s->r, pid);
	if (ret) {
		ret = m->quiet && (ret == -ESRCH || ret == -ENOENT) ? EXIT_NO_PROCESS : cli__target_error(pid, ret, NULL, false);
		session_free(s);
		return ret;
	}
	ret = layout__discover(&s->r, LWANT_AUTO, &s->layout, &why);
	if (ret) {
		/* a target that exits as memalot starts is 8, not "not Python" or "not readable" */
		if (m->quiet && cli__target_exited(pid, ret, true))
			ret = EXIT_EXITED;
		else if (m->quiet && exit_code_for(ret) == EXIT_NOT_PYTHON)
			ret = EXIT_NOT_PYTHON;
		else
			ret = cli__target_error(pid, ret, why, true);
		free(why);
		session_free(s);
		return ret;
	}
	s->command = proc__cmdline(s->r.pid); /* r.pid: a live thread when the main thread has exited */
	lifetimes__init(&s->lt);
	s->lt.incremental = layout__gc_model(&s->layout) == GCM_INCREMENTAL; /* 3.14.0-3.14.4: young and old spaces */
	store__new_id(s->report_id); /* the saved report's own ID once it is created */
	s->sopts.copy_memory = true;
	s->sopts.max_copy = m->o->max_memory ? m->o->max_memory : proc__default_max_copy();
	start = now_ns();
	/* bounded by parse_seconds: no overflow, and the waits end at the deadline */
	s->warmup_end = start + seconds_ns(m->o->warmup);
	if (m->o->duration && m->deadline == UINT64_MAX)
		m->deadline = start + seconds_ns(m->o->duration);
	/*
	 * The first report, the warm-up report, comes at the first check after
	 * the warm-up; the second one check after the earliest moment an
	 * object first seen after the warm-up can be older than the lifetime,
	 * then one every lifetime, each with the leaks of its window.
	 */
	s->next_report = s->warmup_end;
	s->next_check = start;
	s->iter_start = time(NULL);
	proc__rss(s->r.pid, &s->rss_prev, &s->hwm_prev);
	GROW(m->s, m->cap, m->n + 1);
	m->s[m->n++] = s;
	return 0;
}

bool monitor__watching(const struct monitor *m, pid_t pid)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->s[i]->pid == pid && !m->s[i]->ended)
			return true;
	return false;
}

size_t monitor__live(const struct monitor *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		n += !m->s[i]->ended;
	return n;
}

/*
 * --html: the page rewritten with this report. The object details of older
 * iterations are dropped once a newer one has some: the page shows the
 * newest, and a long run keeps its memory.
 */
static void html_update(const struct monitor *m, struct monitor_session *s, json_t *doc)
{
	const char *path = m->o->html, *dot = strrchr(path, '.');
	char *mine;

	if (!s->html_iters)
		s->html_iters = json_array();
	if (json_array_size(json_object_get(doc, "object_details_list"))) {
		size_t i;
		json_t *old;

		json_array_foreach(s->html_iters, i, old)
			json_object_set_new(old, "object_details_list", json_array());
	}
	json_array_append(s->html_iters, doc); /* the caller is done with it: shared, not copied */
	/* the first process watched has FILE, the others FILE-PID */
	if (m->n && m->s[0] == s)
		mine = xstrdup(path);
	else if (dot && !strchr(dot, '/'))
		mine = xasprintf("%.*s-%d%s", (int)(dot - path), path, (int)s->pid, dot);
	else
		mine = xasprintf("%s-%d", path, (int)s->pid);
	status_clear();
	if (render__html_file(mine, NULL, s->html_iters))
		log_err("--html %s is not up to date", mine);
	free(mine);
}

/* One check of s: a snapshot, the ages, and the report when one is due. */
static enum step session_check(struct monitor *m, struct monitor_session *s)
{
	const struct monitor_opts *o = m->o;
	struct snapshot snap;
	struct graph g;
	struct graph_opts gopts = { o->why.untracked_depth };
	struct lt_obj *objs;
	struct lt_refs refs = { NULL, NULL, NULL };
	uint64_t *first_seen, now, t_check, t_build, t_ages;
	uint16_t *checks;
	int ret;

	t_check = now_ns();
	ret = snapshot__take(&s->r, &s->layout, &s->sopts, &snap);
	if (!ret && m->snapped)
		m->snapped(m->snapped_arg); /* the program may go on: what follows works on the copy */
	/* function-based, the clock counts calls: call k's entry is 2k, its exit 2k + 1 */
	now = o->calls ? 2 * s->call + s->call_exit : now_ns();
	if (ret) {
		snapshot__release(&snap); /* what a failed snapshot read */
		if (ret == -ME_INTERRUPTED)
			return STEP_INTERRUPTED;
		if (!s->started) {
			/* no snapshot yet: the attach failed (8 for a target that exited as it began) */
			if (m->quiet && cli__target_exited(s->pid, ret, true))
				return STEP_END; /* a descendant that came and went: nothing to say */
			s->code = cli__target_error(s->pid, ret, NULL, true);
			return STEP_END;
		}
		if (ret == -ME_EXITED || ret == -ESRCH || cli__target_exited(s->pid, ret, true)) {
			log_info("process %d exited; monitoring ends", s->pid);
			return STEP_END;
		}
		log_err("pid %d: %s", s->pid, me_strerror(ret));
		s->code = exit_code_for(ret);
		return STEP_END;
	}
	if (!s->started) {
		/* saved from the first snapshot on: a failed attach leaves no empty report behind */
		s->started = true;
		if (!o->no_save && start_session(m, s->pid, s->command, s->layout.version, &s->store, &s->report_dir,
						 s->report_id)) {
			snapshot__release(&snap);
			s->code = EXIT_ERROR;
			return STEP_END;
		}
		if (o->calls)
			log_info("watching pid %d (Python %s): monitored calls, age %ld calls, warm-up %ld calls, report %s",
				 s->pid, s->layout.version, o->age_calls, o->warmup_calls, s->report_id);
		else
			log_info("watching pid %d (Python %s): lifetime %g s, check every %g s, warm-up %g s "
				 "(the warm-up report in %.0f s, then one every %g s), report %s",
				 s->pid, s->layout.version, o->lifetime, o->interval, o->warmup,
				 s->warmup_end > now_ns() ? (s->warmup_end - now_ns()) / 1e9 : 0.0, o->lifetime,
				 s->report_id);
	}
	if (snap.walked_in_place && !s->said_in_place) {
		s->said_in_place = true;
		snapshot__say_in_place(s->pid, &snap);
	}
	if (snap.partial) {
		/* an unreliable snapshot must not reset ages: skip it, keep the last one */
		log_info("snapshot skipped: %s", snap.partial_reason);
		snapshot__release(&snap);
		s->next_check += seconds_ns(o->interval);
		return STEP_GO_ON;
	}
	t_build = now_ns();
	graph__build_nodes(&g, &snap, &s->r, &s->layout, &gopts); /* indexes only for a report */
	t_ages = now_ns();
	objs = xcalloc(g.n + 1, sizeof(*objs));
	first_seen = xcalloc(g.n + 1, sizeof(*first_seen));
	checks = xcalloc(g.n + 1, sizeof(*checks));
	/*
	 * Rule 8 (the references) only when ages are times: it may restart a
	 * long-lived object whose references all changed (a later leak), but
	 * counting calls, an object that starts again at a call's exit looks
	 * made during that call: a leak at once.
	 */
	tracker_objects(&snap, &g, objs, &refs);
	lifetimes__update(&s->lt, objs, g.n, o->calls ? NULL : &refs, snap.collections, snap.have_collections, now,
			  first_seen, checks);
	free((void *)refs.start);
	free((void *)refs.from);
	free((void *)refs.edge);
	s->checks_since++;
	log_debug("check: %zu objects (%zu kept, %zu fresh; reused: type %zu, generation %zu, "
		  "collection %zu, order %zu, content %zu, holder %zu, referrers %zu), pause %.1f ms; snapshot %.0f ms, "
		  "graph %.0f ms, ages %.0f ms",
		  g.n, s->lt.kept, s->lt.fresh, s->lt.reused_type, s->lt.reused_gen, s->lt.reused_collected,
		  s->lt.reused_order, s->lt.reused_content, s->lt.reused_holder, s->lt.reused_referrers, snap.pause_ns / 1e6,
		  (t_build - t_check) / 1e6, (t_ages - t_build) / 1e6, (now_ns() - t_ages) / 1e6);
	s->have_snapshot = true;
	if (o->calls ? s->call_exit : now >= s->next_report || (s->final && now >= s->warmup_end)) {
		struct iteration it = { s->report_id, ++s->iteration, s->pid, s->command, s->iter_start, time(NULL),
					0, 0, s->rss_prev, s->hwm_prev, false, &s->native, s->exclude, s->nexclude, s->call, 0, 0 };
		/* a last report (Ctrl-C) has the leaks so far */
		it.warmup = o->calls ? s->call <= (uint64_t)o->warmup_calls : it.number == 1 && !s->final;
		proc__rss(s->r.pid, &it.rss, &it.hwm);
		s->native.read_pid = s->r.pid;
		s->native.have_now = !native__read(s->r.pid, &s->native.now);
		if (m->status && !o->calls)
			status_show("memalot: pid %d: %zu objects; making report %d (what holds each leak, their sizes)",
				    s->pid, g.n, it.number);
		graph__index(&g);
		struct lt_ages a = { first_seen, checks, s->warmup_end, now, (uint64_t)(o->lifetime * 1e9),
				     s->prev_report_now, s->checks_since, 0 };

		if (o->calls) {
			a.age_calls = (uint32_t)o->age_calls;
			a.warmup_end = 2 * ((uint64_t)o->warmup_calls + 1);
		}
		json_t *doc = report(m->out, o, &g, &a, &it);
		char err[512];

		if (s->store.dirfd >= 0 && store__write_iteration(&s->store, it.number, doc, err, sizeof(err))) {
			log_err("%s", err);
			s->code = EXIT_ERROR; /* reports go on live; the run ends with 1 */
		}
		if (o->html)
			html_update(m, s, doc);
		json_decref(doc);
		s->leaked_objects += it.leaked_objects;
		s->leaked_bytes += it.leaked_bytes;
		s->reports++;
		s->rss_prev = it.rss;
		s->hwm_prev = it.hwm;
		s->iter_start = it.end;
		if (o->calls) {
			/* the next report is at the next exit */
		} else if (it.warmup) {
			s->next_report = s->warmup_end + (uint64_t)((o->lifetime + o->interval) * 1e9);
		} else {
			s->prev_report_now = now; /* the next window starts here */
			s->checks_since = 0;
		}
		while (s->next_report <= now)
			s->next_report += (uint64_t)(o->lifetime * 1e9);
	}
	if (m->status && !o->calls) {
		uint64_t t = now_ns(), due = s->iteration ? s->next_report : s->warmup_end;

		s->nchecks++;
		status_show("memalot: pid %d: %" PRIu64 " check%s, %zu objects, %d report%s, next report in %.0f s",
			    s->pid, s->nchecks, s->nchecks == 1 ? "" : "s", g.n, s->iteration,
			    s->iteration == 1 ? "" : "s", due > t ? (due - t) / 1e9 : 0.0);
	}
	free(objs);
	free(first_seen);
	free(checks);
	graph__release(&g);
	snapshot__release(&snap);
	if (s->final || (o->iterations && s->iteration >= o->iterations && !o->calls))
		return STEP_END;
	if (m->out->failed)
		return STEP_STOP_ALL; /* said by emit */
	if (now >= m->deadline)
		return STEP_STOP_ALL;
	s->next_check += seconds_ns(o->interval);
	if (s->next_check < now)
		s->next_check = now; /* a check took longer than the interval */
	return STEP_GO_ON;
}

/* The live session whose check is due first, or NULL. */
static struct monitor_session *next_due(const struct monitor *m)
{
	struct monitor_session *best = NULL;

	for (size_t i = 0; i < m->n; i++)
		if (!m->s[i]->ended && (!best || m->s[i]->next_check < best->next_check))
			best = m->s[i];
	return best;
}

int monitor__run(struct monitor *m, monitor_poll_fn poll, void *arg, uint64_t poll_ns)
{
	uint64_t next_poll = 0;
	int code = EXIT_OK;

	for (;;) {
		struct monitor_session *s = next_due(m);
		uint64_t wake, now;
		enum step step;

		if (!s && (!poll || m->final))
			break;
		wake = MIN(s ? s->next_check : UINT64_MAX, m->deadline);
		/*
		 * A check's big arrays stay in the heap for the next one (set by
		 * the front end: cli/cmd_attach.c); before a long wait they go
		 * back to the system.
		 */
		if (m->heap_used && wake > now_ns() + IDLE_TRIM_NS) {
			malloc_trim(0);
			m->heap_used = false;
		}
		if (poll && !m->final)
			wake = MIN(wake, next_poll);
		sleep_until(wake);
		if (freezer_stop_requested) {
			bool any = false;

			for (size_t i = 0; i < m->n; i++)
				any |= !m->s[i]->ended && m->s[i]->have_snapshot;
			if (m->final || !any)
				break;
			/*
			 * Ctrl-C: one last snapshot and report of each target, then
			 * stop. The handler released the target already; a
			 * second Ctrl-C during this last round ends it at once.
			 */
			m->final = true;
			m->stop_signal = freezer_stop_requested;
			freezer_stop_requested = 0;
			log_info("stopping: a last report first (Ctrl-C again to skip it)");
			for (size_t i = 0; i < m->n; i++) {
				struct monitor_session *x = m->s[i];

				if (!x->ended && !x->have_snapshot)
					session_end(x);
				x->final = true;
				x->next_check = 0;
			}
			continue;
		}
		now = now_ns();
		if (poll && !m->final && now >= next_poll) {
			next_poll = now + poll_ns;
			if (!poll(m, arg))
				break;
			continue; /* targets may have come */
		}
		if (!s) {
			if (now >= m->deadline)
				break;
			continue;
		}
		if (s->next_check > m->deadline)
			break; /* --duration is over before the next check */
		if (s->next_check > now)
			continue;
		step = session_check(m, s);
		m->heap_used = true;
		if (step != STEP_GO_ON)
			session_end(s);
		if (s->code && !code)
			code = s->code;
		if (step == STEP_INTERRUPTED || step == STEP_STOP_ALL)
			break;
	}
	status_clear();
	if (freezer_stop_requested && !m->stop_signal)
		m->stop_signal = freezer_stop_requested;
	if (m->final || freezer_stop_requested)
		log_info(m->n > 1 ? "stopped; the targets run on" : "stopped; the target runs on");
	for (size_t i = 0; i < m->n; i++)
		if (m->s[i]->store.dirfd >= 0)
			log_info("report %s saved in %s ('memalot print %s')", m->s[i]->report_id, m->s[i]->store.path,
				 m->s[i]->report_id);
	return code;
}

/* "1.5 MiB", "880 bytes" */
static void human_bytes(char *buf, size_t len, double b)
{
	if (fabs(b) >= 1048576)
		snprintf(buf, len, "%.1f MiB", b / 1048576);
	else if (fabs(b) >= 1024)
		snprintf(buf, len, "%.1f KiB", b / 1024);
	else
		snprintf(buf, len, "%.0f bytes", b);
}

bool monitor__summary(const struct monitor *m, FILE *f, const struct monitor_fail *fail)
{
	bool tripped = false;

	fprintf(f, "memalot: summary: %zu process%s watched\n", m->n, m->n == 1 ? "" : "es");
	for (size_t i = 0; i < m->n; i++) {
		const struct monitor_session *s = m->s[i];
		char bytes[32], native[32];
		bool leak = false;

		human_bytes(bytes, sizeof(bytes), (double)s->leaked_bytes);
		human_bytes(native, sizeof(native), (double)s->native.unexplained);
		if (fail && fail->on_leak) {
			leak = (fail->min_objects && s->leaked_objects >= fail->min_objects) ||
			       (fail->min_bytes && s->leaked_bytes >= fail->min_bytes) ||
			       (fail->on_fd_leak && s->native.new_fds > 0) ||
			       (fail->native_bytes && s->native.unexplained > 0 &&
				(uint64_t)s->native.unexplained >= fail->native_bytes);
			tripped |= leak;
		}
		fprintf(f, "  pid %d (%.80s): %" PRIu64 " leaked object%s (%s) in %d report%s; native growth not explained "
			   "by Python objects %s%s, %" PRId64 " descriptor%s opened since the warm-up%s\n",
			(int)s->pid, s->command ? s->command : "?", s->leaked_objects, s->leaked_objects == 1 ? "" : "s",
			bytes, s->reports, s->reports == 1 ? "" : "s", s->native.unexplained > 0 ? "+" : "", native,
			s->native.new_fds, s->native.new_fds == 1 ? "" : "s", leak ? "  <- fails the run" : "");
	}
	return tripped;
}

int monitor__call(struct monitor *m, uint64_t call, bool exit, const raddr_t *exclude, size_t n)
{
	struct monitor_session *s = m->n ? m->s[0] : NULL;
	enum step step;

	if (!s)
		return EXIT_ERROR;
	if (s->ended)
		return s->code ? s->code : EXIT_EXITED;
	s->call = call;
	s->call_exit = exit;
	s->exclude = exclude;
	s->nexclude = n;
	step = session_check(m, s);
	s->exclude = NULL;
	s->nexclude = 0;
	if (step != STEP_GO_ON) {
		session_end(s);
		if (!s->code)
			s->code = step == STEP_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_ERROR;
	}
	return s->code;
}

const char *monitor__report_id(const struct monitor *m, size_t i)
{
	return i < m->n ? m->s[i]->report_id : "";
}

const char *monitor__python_version(const struct monitor *m, size_t i)
{
	return i < m->n && !m->s[i]->ended ? m->s[i]->layout.version : "?";
}

void monitor__release(struct monitor *m)
{
	for (size_t i = 0; i < m->n; i++)
		session_free(m->s[i]);
	free(m->s);
	m->s = NULL;
	m->n = m->cap = 0;
}
