#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark retained sizes and leak groups on a 1,000,000-object heap: what
# they add to a report of memalot attach, beside what a report costs without
# them. bench/dom_bench.c takes one snapshot of bench/targets/heap1m.py, then
# RUNS times builds the graph as a check does and makes a report as
# cli/cmd_attach.c does (indexes, groups, sizes, details, JSON), the Node
# objects (a tenth of the heap, one group of 100,000) taken for leaks. Of a
# report: the extra (every node's sys.getsizeof, the dominator tree, the
# groups) and the rest (the graph's indexes, 30 objects' referrer searches
# and sizes, the JSON), medians side by side.
#
# usage: bench/dom.sh [RUNS]        (RUNS: rounds per interpreter, default 5)
# environment: BENCH_OBJECTS (default 1000000), BENCH_BUILD (default bench/build),
#              BENCH_PYTHONS (space-separated interpreters; default: pyenv 3.12
#              and /usr/bin/python3.11 when present), BENCH_DOM_TYPE (default
#              Node), BENCH_KEEP=1 keeps the raw files, BENCH_MALLOC (mmap: big
#              arrays mapped and returned at once, as attach with a long
#              interval; heap: kept in the heap, as function-based checks;
#              unset: glibc's default)
# Exit status: 0 when the goal (sizes + dominators + groups <= 300 ms a report,
# median) is met for every interpreter, 3 when it is missed, 1 when the
# benchmark failed.
set -euo pipefail

cd "$(dirname "$0")/.."

runs=${1:-5}
objects=${BENCH_OBJECTS:-1000000}
leak_type=${BENCH_DOM_TYPE:-Node}
BENCH_NAME=dom-bench BENCH_TMP_PREFIX=memalot-dom-bench
# shellcheck source=bench/lib.sh
. bench/lib.sh

build=${BENCH_BUILD:-bench/build}
log "building libmemalot into $build"
make --no-print-directory BUILD="$build" "$build/libmemalot.a" >&2
pkgs="libdw libelf jansson $(pkg-config --exists msgpack-c && echo msgpack-c || echo msgpack)"
# shellcheck disable=SC2046
cc -std=c11 -O2 -g -Wall -Wextra -o "$tmp/dom_bench" bench/dom_bench.c "$build/libmemalot.a" \
	$(pkg-config --libs $pkgs)

find_pythons
status=0
for py in "${pythons[@]}"; do
	ver=$(version_of "$py")
	log "$ver ($py): building $objects objects"
	target_start 120 "$py" bench/targets/heap1m.py "$objects" || {
		log "$ver: target did not say ready"
		exit 1
	}
	"$tmp/dom_bench" "$target_pid" "$leak_type" "$runs" >"$tmp/out.$ver" || {
		log "$ver: dom_bench failed"
		exit 1
	}
	target_end
	sed "s/^/$ver: /" "$tmp/out.$ver" >&2
	med() {
		awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$tmp/out.$ver" | sort -n |
			awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
	}
	median=$(med extra_ms)
	printf '%s, %s objects, %s leaked, median of %s reports (load average %s):\n' "$ver" \
		"$(awk -F'\t' '$1 == "nodes" { print $2 }' "$tmp/out.$ver")" \
		"$(awk -F'\t' '$1 == "leaked" { print $2 }' "$tmp/out.$ver")" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf '  %-44s %8s ms\n' "report without groups and retained sizes" "$(med base_ms)" \
		"  of which the graph's indexes" "$(med index_ms)" \
		"report with them" "$(med report_ms)" \
		"extra: sizes + dominators + groups" "$median" \
		"  sizes (sys.getsizeof of every node)" "$(med sizes_ms)" \
		"  dominator tree" "$(med dominators_ms)" \
		"  groups (paths, retained bytes)" "$(med groups_ms)" \
		"(the check's graph, for scale)" "$(med graph_ms)"
	log "$ver: the extra per report, median of $runs: $median ms (goal <= 300 ms)"
	awk -v m="$median" 'BEGIN { exit !(m <= 300) }' || status=3
done
exit $status
