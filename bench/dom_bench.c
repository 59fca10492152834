/* SPDX-License-Identifier: MIT */
/*
 * What leak groups and retained sizes add to a report, on a live process:
 * one snapshot with a copy of its memory, then RUNS times what memalot
 * attach does for a check with a report: the graph's nodes and edges (the
 * check), then the report of the objects whose type name contains TYPE
 * taken for leaks, the way cli/cmd_attach.c makes one (the graph's
 * indexes, engine/why.c's why__run_nodes, the JSON of its groups and
 * details). Of each report: the extra, every node's sys.getsizeof
 * (analyzer/sizes.c), the dominator tree (analyzer/dominators.c) and the
 * groups (analyzer/groups.c); and the rest, what a report cost without
 * them: the indexes, DETAILS objects' referrer searches and sizes, the JSON.
 *
 * usage: dom_bench PID [TYPE [RUNS [DETAILS]]]   (TYPE "Node", RUNS 5, DETAILS 30)
 * prints "key<TAB>value" lines: nodes, edges, leaked; per run graph_ms (the
 * check's), index_ms, sizes_ms, dominators_ms, groups_ms, extra_ms (the
 * three), base_ms (index_ms, the details and the JSON: the report without
 * them) and report_ms (base_ms + extra_ms); then the groups of the last run.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/dominators.h"
#include "../analyzer/graph.h"
#include "../analyzer/groups.h"
#include "../analyzer/snapshot.h"
#include "../attach/freeze.h"
#include "../attach/remote.h"
#include "../engine/why.h"
#include "../symbols/layout.h"

int main(int argc, char **argv)
{
	struct snapshot_opts so = { .copy_memory = true };
	struct graph_opts go = { 3 };
	const char *want = argc > 2 ? argv[2] : "Node";
	int runs = argc > 3 ? atoi(argv[3]) : 5, details = argc > 4 ? atoi(argv[4]) : 30, pid, ret;
	struct why_opts wo = { NULL, NULL, 0, details, 3, false, 100, { 50, 300.0, 100, NULL } };
	struct remote r;
	struct layout l;
	struct snapshot s;
	struct graph g;
	uint64_t t0, index_ns;
	uint32_t *leaked = NULL;
	size_t nl = 0;
	char *why = NULL;

	if (argc < 2 || (pid = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: dom_bench PID [TYPE [RUNS [DETAILS]]]\n");
		return 2;
	}
	freezer__install_signal_handlers();
	/* BENCH_MALLOC: "mmap" as attach with a long interval, "heap" as function-based checks; unset: glibc's own */
	if (getenv("BENCH_MALLOC") && !strcmp(getenv("BENCH_MALLOC"), "heap")) {
		mallopt(M_MMAP_THRESHOLD, 1 << 30);
		mallopt(M_TRIM_THRESHOLD, 1 << 30);
	} else if (getenv("BENCH_MALLOC") && !strcmp(getenv("BENCH_MALLOC"), "mmap")) {
		mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	}
	if ((ret = remote__open(&r, pid)) || (ret = layout__discover(&r, LWANT_AUTO, &l, &why)) ||
	    (ret = snapshot__take(&r, &l, &so, &s))) {
		fprintf(stderr, "dom_bench: %s%s%s\n", me_strerror(ret), why ? ": " : "", why ? why : "");
		return 1;
	}
	if (s.partial || s.copy_incomplete)
		fprintf(stderr, "dom_bench: warning: partial snapshot or incomplete copy\n");
	for (int run = 0; run < runs; run++) {
		struct why_result w = { 0 };
		json_t *doc;
		uint64_t total, extra;

		/* a check: the nodes and edges; a report adds the indexes */
		graph__build_nodes(&g, &s, &r, &l, &go);
		if (!run) {
			leaked = malloc((g.n ? g.n : 1) * sizeof(*leaked));
			for (size_t v = 0; v < g.n; v++) {
				const char *tn = s.types.v[g.nodes[v].type].name;
				if (tn && strstr(tn, want))
					leaked[nl++] = (uint32_t)v;
			}
			printf("nodes\t%zu\nedges\t%zu\nleaked\t%zu\n", g.n, g.nedges, nl);
		}
		t0 = now_ns();
		graph__index(&g);
		index_ns = now_ns() - t0;
		printf("graph_ms\t%.1f\nindex_ms\t%.1f\n", (double)g.build_ns / 1e6, (double)index_ns / 1e6);
		t0 = now_ns();
		if ((ret = why__run_nodes(&g, &wo, leaked, nl, &w)) || !w.have_dom || !w.have_groups) {
			fprintf(stderr, "dom_bench: no groups or retained sizes: %s\n", me_strerror(ret));
			return 1;
		}
		doc = json_pack("{s:o, s:o}", "leak_groups", why__groups_json(&g, &w), "object_details_list",
				why__json(&g, &w));
		free(json_dumps(doc, JSON_COMPACT));
		json_decref(doc);
		total = now_ns() - t0;
		extra = w.sizes_ns + w.dom_ns + w.groups_ns;
		printf("sizes_ms\t%.1f\ndominators_ms\t%.1f\ngroups_ms\t%.1f\nextra_ms\t%.1f\nbase_ms\t%.1f\n"
		       "report_ms\t%.1f\n", w.sizes_ns / 1e6, w.dom_ns / 1e6, w.groups_ns / 1e6, extra / 1e6,
		       (total - extra + index_ns) / 1e6, (total + index_ns) / 1e6);
		if (run == runs - 1) {
			printf("details\t%zu\nroots\t%zu\nunreachable_roots\t%zu\ntotal_bytes\t%llu\ngroups\t%zu\n", w.n,
			       w.dom.nroots, w.dom.nunreachable, (unsigned long long)w.dom.total, w.groups.n);
			for (size_t i = 0; i < w.groups.n && i < 5; i++)
				printf("group\t%s: %zu objects (%zu types, first %s), %llu bytes%s\n", w.groups.v[i].path,
				       w.groups.v[i].object_count, w.groups.v[i].ntypes, w.groups.v[i].types[0].name,
				       (unsigned long long)w.groups.v[i].retained_bytes,
				       w.groups.v[i].retained_exact ? "" : " (at least)");
		}
		why__release(&w);
		graph__release(&g);
	}
	printf("peak_rss_mib\t%.1f\n", (double)peak_rss_kib() / 1024);
	free(leaked);
	snapshot__release(&s);
	layout__release(&l);
	remote__release(&r);
	return 0;
}
