/* SPDX-License-Identifier: MIT */
/* memalot snapshot: a census of the objects the garbage collector tracks (objgraph's most common types). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../analyzer/snapshot.h"
#include "../attach/freeze.h"
#include "../attach/proc.h"
#include "../attach/remote.h"
#include "../symbols/layout.h"
#include "cli.h"
#include "../engine/why.h"
#include "../reports/render.h"

static const char snapshot_usage[] =
	"usage: memalot snapshot [options] PID\n"
	"\n"
	"Freeze the Python process PID, walk every object the garbage collector\n"
	"tracks, thaw it, and print how many objects of each type there are.\n"
	"\n"
	"options:\n"
	"  --json                  print one JSON object instead of text\n"
	"  --top N                 text output: show the N most common types (default 30, 0: all)\n"
	"  --max-objects N         stop walking after N objects (default 200000000)\n"
	"  --layout-source SRC     where struct offsets come from: auto (default), dwarf, table\n"
	"  --max-memory B          the most memory the copy of the process may take (512M, 2G;\n"
	"                          default or 0: half the memory available); the process is copied\n"
	"                          while stopped and walked after it goes on, or, with more\n"
	"                          writable memory than that, walked in place while stopped\n"
	"\n"
	"why is it alive:\n"
	"  --why TYPE              object details and referrer graphs for the objects of every\n"
	"                          type whose fully-qualified name contains TYPE\n"
	"  --object ADDR           details for the object at ADDR (its id(); decimal or 0x hex;\n"
	"                          repeatable), instead of or besides --why\n"
	"  --max-object-details N  how many objects to detail (default 30)\n"
	"  --max-untracked-search-depth N  follow untracked objects (str, int, ...) this many\n"
	"                          references deep (default 3)\n"
	"  --referrers-max-depth N           longest referrer chain searched (default 50)\n"
	"  --referrers-search-timeout S      seconds per object (default 300)\n"
	"  --single-object-referrer-limit N  referrers shown per object (default 100)\n"
	"  --referrers-module-prefix P       only module globals of modules starting with P\n"
	"                          (repeatable)\n"
	"  --no-referrers          details without referrer graphs\n"
	"  --str-max-length N      longest string representation (default 100)\n"
	CLI_COMMON_HELP
	"\n"
	"exit status: 0 done, 2 usage, 3 no such process, 4 not allowed to trace,\n"
	"5 already traced, 6 not Python, 7 unsupported build or no layout,\n"
	"8 target exited, 9 partial result, 130 interrupted, 1 anything else.\n"
	"environment: MEMALOT_TABLES=FILE uses the offset tables in FILE\n"
	"(from memalot-gen-offsets) instead of the built-in ones;\n"
	"MEMALOT_READ_PROC_MEM=1 reads through /proc/PID/mem, not process_vm_readv.\n";

struct gen_total {
	const char *name;
	size_t count;
};

/* Per-generation totals summed over interpreters, in list order. */
static int gen_totals(const struct snapshot *s, struct gen_total *out)
{
	int n = 0;

	for (int i = 0; i < s->nlists; i++) {
		int k;
		for (k = 0; k < n; k++)
			if (!strcmp(out[k].name, s->lists[i].name))
				break;
		if (k == n)
			out[n++] = (struct gen_total){ s->lists[i].name, 0 };
		out[k].count += s->lists[i].count;
	}
	return n;
}

static size_t row_gen(const struct snapshot *s, const struct census_row *row, const char *name)
{
	size_t c = 0;

	for (int i = 0; i < s->nlists; i++)
		if (!strcmp(s->lists[i].name, name))
			c += row->per_list[i];
	return c;
}

static int print_json(pid_t pid, const struct layout *l, const struct snapshot *s, const char *reader,
		      json_t *details, json_t *groups)
{
	struct gen_total gens[SNAP_MAX_LISTS];
	int ng = gen_totals(s, gens);
	struct census_row *rows;
	size_t nrows = snapshot__census(s, &rows);
	json_t *root = json_object(), *g = json_object(), *types = json_array();
	char *cmd = proc__cmdline(proc__mm_pid(pid)); /* the main thread may have exited */
	int ret;

	json_object_set_new(root, "pid", json_integer(pid));
	json_object_set_new(root, "command", cmd ? json_string(cmd) : json_null());
	json_object_set_new(root, "python_version", json_string(l->version));
	json_object_set_new(root, "python_flavour", json_string(l->flavour));
	json_object_set_new(root, "python_image", json_string(l->image_path));
	json_object_set_new(root, "layout_source", json_string(layout_source__name(l->source)));
	json_object_set_new(root, "layout_detail", json_string(l->source_desc));
	if (l->warning)
		json_object_set_new(root, "layout_warning", json_string(l->warning));
	json_object_set_new(root, "reader", json_string(reader));
	json_object_set_new(root, "pause_ms", json_real((double)s->pause_ns / 1e6));
	json_object_set_new(root, "walked_in_place", json_boolean(s->walked_in_place));
	json_object_set_new(root, "copied_bytes", json_integer((json_int_t)s->copied_bytes));
	json_object_set_new(root, "tries", json_integer(s->tries));
	json_object_set_new(root, "interpreters", json_integer(s->ninterps));
	json_object_set_new(root, "total_objects", json_integer((json_int_t)s->n));
	for (int i = 0; i < ng; i++)
		json_object_set_new(g, gens[i].name, json_integer((json_int_t)gens[i].count));
	json_object_set_new(root, "generations", g);
	json_object_set_new(root, "partial", json_boolean(s->partial));
	if (s->partial)
		json_object_set_new(root, "partial_reason", json_string(s->partial_reason));
	for (size_t i = 0; i < nrows; i++) {
		json_t *t = json_object(), *tg = json_object();
		const char *name = s->types.v[rows[i].type].name;

		json_object_set_new(t, "type", json_string(name ? name : "?"));
		json_object_set_new(t, "count", json_integer((json_int_t)rows[i].count));
		for (int k = 0; k < ng; k++)
			json_object_set_new(tg, gens[k].name,
					    json_integer((json_int_t)row_gen(s, &rows[i], gens[k].name)));
		json_object_set_new(t, "generations", tg);
		json_array_append_new(types, t);
	}
	json_object_set_new(root, "types", types);
	if (groups) /* --why: the matching objects by what holds them */
		json_object_set_new(root, "leak_groups", groups);
	if (details)
		json_object_set_new(root, "object_details", details);
	ret = json_dumpf(root, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
	json_decref(root);
	free(rows);
	free(cmd);
	return ret ? -EIO : 0;
}

static void print_text(pid_t pid, const struct layout *l, const struct snapshot *s, size_t top)
{
	struct gen_total gens[SNAP_MAX_LISTS];
	int ng = gen_totals(s, gens);
	struct census_row *rows;
	size_t nrows = snapshot__census(s, &rows);
	char *cmd = proc__cmdline(proc__mm_pid(pid)); /* the main thread may have exited */

	printf("memalot snapshot of pid %d (%s)\n", (int)pid, cmd ? cmd : "?");
	printf("Python %s %s in %s\n", l->version, l->flavour, l->image_path);
	printf("layout: %s\n", l->source_desc);
	printf("%'zu objects in %d interpreter%s:", s->n, s->ninterps, s->ninterps == 1 ? "" : "s");
	for (int i = 0; i < ng; i++)
		printf(" %s %'zu%s", gens[i].name, gens[i].count, i + 1 < ng ? "," : "");
	printf("\ntarget paused %.1f ms%s\n", (double)s->pause_ns / 1e6,
	       s->tries > 1 ? " (retried while the GC lists were changing)" : "");
	if (s->partial)
		printf("%sPARTIAL RESULT: %s%s\n", render__style(STYLE_ALERT), s->partial_reason, render__style(STYLE_OFF));
	printf("\n%s%12s", render__style(STYLE_HEAD), "count");
	for (int i = 0; i < ng; i++)
		printf(" %10s", gens[i].name);
	printf("  type%s\n", render__style(STYLE_OFF));
	for (size_t i = 0; i < nrows && (!top || i < top); i++) {
		const char *name = s->types.v[rows[i].type].name;
		printf("%s%'12zu%s", render__style(STYLE_SIZE), rows[i].count, render__style(STYLE_OFF));
		for (int k = 0; k < ng; k++)
			printf(" %'10zu", row_gen(s, &rows[i], gens[k].name));
		printf("  %s%s%s\n", render__style(STYLE_TYPE), name ? name : "?", render__style(STYLE_OFF));
	}
	if (top && nrows > top)
		printf("... %zu more types (--top 0 shows all)\n", nrows - top);
	free(rows);
	free(cmd);
}

int cmd_snapshot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 't' },
		{ "max-objects", required_argument, NULL, 'm' },
		{ "layout-source", required_argument, NULL, 'L' },
		{ "why", required_argument, NULL, 'W' },
		{ "object", required_argument, NULL, 'O' },
		{ "max-object-details", required_argument, NULL, 'D' },
		{ "max-untracked-search-depth", required_argument, NULL, 'U' },
		{ "referrers-max-depth", required_argument, NULL, 'R' },
		{ "referrers-search-timeout", required_argument, NULL, 'T' },
		{ "single-object-referrer-limit", required_argument, NULL, 'S' },
		{ "referrers-module-prefix", required_argument, NULL, 'P' },
		{ "no-referrers", no_argument, NULL, 'N' },
		{ "str-max-length", required_argument, NULL, 'X' },
		{ "max-memory", required_argument, NULL, 'M' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	struct snapshot_opts sopts = { 0 };
	struct why_opts wopts = { NULL, NULL, 0, 30, 3, false, 100, { 50, 300.0, 100, NULL } };
	char **prefixes = NULL;
	size_t nprefixes = 0, prefcap = 0;
	long num;
	enum layout_want want = LWANT_AUTO;
	struct snapshot snap;
	struct layout layout;
	struct remote r;
	bool json = false, partial = false, progress = false;
	size_t top = 30;
	char *why = NULL, *end;
	int c, pid, ret, code;

	setlocale(LC_NUMERIC, "");
	optind = 1;
	opterr = 0; /* said in one line */
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		if (cli__common(c))
			continue;
		switch (c) {
		case 'j': json = true; break;
		case 't':
			top = strtoul(optarg, &end, 10);
			if (*end || optarg[0] == '-') {
				log_usage("--top takes a number, not '%s'", optarg);
				goto usage;
			}
			break;
		case 'm':
			sopts.max_objects = strtoul(optarg, &end, 10);
			if (*end || !sopts.max_objects || optarg[0] == '-') {
				log_usage("--max-objects takes a positive number, not '%s'", optarg);
				goto usage;
			}
			break;
		case 'L':
			if (!strcmp(optarg, "auto")) want = LWANT_AUTO;
			else if (!strcmp(optarg, "dwarf")) want = LWANT_DWARF;
			else if (!strcmp(optarg, "table")) want = LWANT_TABLE;
			else {
				log_usage("--layout-source must be auto, dwarf or table, not '%s'", optarg);
				goto usage;
			}
			break;
		case 'W': wopts.type_substring = optarg; break;
		case 'M':
			if (parse_size(optarg, &sopts.max_copy)) {
				log_usage("--max-memory takes a size (bytes, or with K, M, G: 512M), not '%s'", optarg);
				goto usage;
			}
			break;
		case 'O': {
			unsigned long long a;
			errno = 0;
			a = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg || !a || optarg[0] == '-') {
				log_usage("--object takes an object address (id), not '%s'", optarg);
				goto usage;
			}
			wopts.objects = xrealloc(wopts.objects, (wopts.nobjects + 1) * sizeof(*wopts.objects));
			wopts.objects[wopts.nobjects++] = (raddr_t)a;
			break;
		}
		case 'N': wopts.no_referrers = true; break;
		case 'P':
			GROW(prefixes, prefcap, nprefixes + 2);
			prefixes[nprefixes++] = optarg;
			prefixes[nprefixes] = NULL;
			break;
		case 'D': case 'U': case 'R': case 'S': case 'X':
			num = strtol(optarg, &end, 10);
			if (*end || end == optarg || num < (c == 'U' ? 0 : 1) || num > 1000000) {
				log_usage("--%s takes a number from %d to 1000000, not '%s'",
					c == 'D' ? "max-object-details" : c == 'U' ? "max-untracked-search-depth" :
					c == 'R' ? "referrers-max-depth" : c == 'S' ? "single-object-referrer-limit" :
					"str-max-length", c == 'U' ? 0 : 1, optarg);
				goto usage;
			}
			if (c == 'D') wopts.max_object_details = (int)num;
			else if (c == 'U') wopts.untracked_depth = (int)num;
			else if (c == 'R') wopts.ref.max_depth = (int)num;
			else if (c == 'S') wopts.ref.single_object_limit = (int)num;
			else wopts.str_max_length = (int)num;
			break;
		case 'T':
			/* finite, positive, at most 10 years */
			if (parse_seconds("referrers-search-timeout", optarg, false, &wopts.ref.timeout_s))
				goto usage;
			break;
		case 'h': fputs(snapshot_usage, stdout); code = EXIT_OK; goto out;
		default: cli__bad_option(argv); goto usage;
		}
	}
	if (optind != argc - 1) {
		log_usage(optind >= argc ? "snapshot needs a PID" : "snapshot takes one PID");
		goto usage;
	}
	if (parse_pid(argv[optind], &pid))
		goto usage;

	/*
	 * Exit 3 says there is no such process; 8 that there was one and it
	 * exited: a zombie, or a process that vanished or began exiting once
	 * memalot had found it (cli__target_error).
	 */
	freezer__install_signal_handlers();
	ret = remote__open(&r, pid);
	if (ret) {
		code = cli__target_error(pid, ret, NULL, false);
		remote__release(&r);
		goto out;
	}
	ret = layout__discover(&r, want, &layout, &why);
	if (ret) {
		code = cli__target_error(pid, ret, why, true);
		free(why);
		layout__release(&layout);
		remote__release(&r);
		goto out;
	}
	if (layout.warning)
		log_info("%s", layout.warning);
	wopts.ref.module_prefixes = prefixes;
	sopts.copy_memory = wopts.type_substring || wopts.nobjects;
	if (!sopts.max_copy)
		sopts.max_copy = proc__default_max_copy();
	/* long work says where it is, on a terminal, on one line that the results replace */
	progress = log_level >= 1 && isatty(STDERR_FILENO);
	if (progress)
		status_show("memalot: pid %d: copying and walking the objects (the process is paused for the copy)", pid);
	ret = snapshot__take(&r, &layout, &sopts, &snap);
	if (!ret && snap.walked_in_place) {
		if (progress)
			status_clear();
		snapshot__say_in_place(pid, &snap);
	}
	if (ret) {
		code = cli__target_error(pid, ret, NULL, true);
	} else {
		struct graph g;
		struct why_result why_res = { 0 };
		json_t *details = NULL, *groups = NULL;
		bool have_why = false;

		if ((wopts.type_substring || wopts.nobjects) && !snap.partial) {
			struct graph_opts gopts = { wopts.untracked_depth };
			if (snap.copy_incomplete)
				log_err("warning: memory copy incomplete (cache limit): some referents are missing");
			if (progress)
				status_show("memalot: pid %d: %zu objects copied (the process runs on); building the "
					    "reference graph", pid, snap.n);
			graph__build(&g, &snap, &r, &layout, &gopts);
			if (progress)
				status_show("memalot: pid %d: graph of %zu objects and %zu references; searching what holds "
					    "the objects asked for", pid, g.n, g.nedges);
			why__run(&g, &wopts, &why_res);
			have_why = true;
			log_debug("why: graph of %zu nodes and %zu edges in %.1f ms, referrers in %.1f ms",
				  g.n, g.nedges, (double)g.build_ns / 1e6, (double)why_res.search_ns / 1e6);
			log_debug("why: sizes %.1f ms, dominators %.1f ms, groups %.1f ms", why_res.sizes_ns / 1e6,
				  why_res.dom_ns / 1e6, why_res.groups_ns / 1e6);
			if (json) {
				details = why__json(&g, &why_res);
				if (why_res.have_groups)
					groups = why__groups_json(&g, &why_res);
			}
		}
		status_clear();
		log_debug("snapshot: %zu objects, %llu bytes in %llu reads, walk %.1f ms, cache %zu KiB",
			  snap.n, (unsigned long long)snap.bytes_read, (unsigned long long)snap.syscalls,
			  (double)snap.walk_ns / 1e6, remote__cached_bytes(&r) / 1024);
		if (snap.partial)
			log_err("warning: partial result: %s", snap.partial_reason);
		errno = 0; /* a failed write's reason, for cli__flush */
		if (json)
			ret = print_json(pid, &layout, &snap, r.use_mem_fd ? "proc-mem" : "process_vm_readv",
					 details, groups);
		else {
			render__set_color(render__want_color(stdout));
			print_text(pid, &layout, &snap, top);
			if (have_why)
				why__print(stdout, &g, &why_res);
		}
		if (have_why) {
			why__release(&why_res);
			graph__release(&g);
		}
		/* says "error writing standard output: REASON" */
		if (cli__flush(stdout, "standard output") && !ret)
			ret = -EIO;
		partial = snap.partial;
		code = !ret && partial ? EXIT_PARTIAL : exit_code_for(ret);
	}
	snapshot__release(&snap);
	layout__release(&layout);
	remote__release(&r);
	goto out;
usage:
	code = EXIT_USAGE;
out:
	free(prefixes);
	free(wopts.objects);
	return code;
}
