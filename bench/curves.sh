#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cost curves: how memalot's pause, wall time and peak memory grow with the
# heap, at 100k, 1M and 3M objects (bench/targets/heap1m.py), in one run:
#
#   copy       `snapshot --json`: the target stopped while its writable
#              memory is copied, the walk on the copy after it goes on
#   in place   `snapshot --json --max-memory 1`: walked while stopped (what
#              every snapshot did before, and the fallback when a copy would
#              be more than --max-memory)
#   why        `snapshot --why Node --max-object-details 30 --json`: the copy,
#              the reference graph and the referrer search
#
# and the copy floor: the bytes the copy took at the rate process_vm_readv
# reaches on this target (bench/vm_readv_bw.c, 64 KiB iovecs into a
# destination already faulted in). Each figure is the median of RUNS runs.
#
# usage: bench/curves.sh [RUNS]      (default 3)
# environment: BENCH_SIZES (default "100000 1000000 3000000"), BENCH_PYTHON
#              (default pyenv 3.12), BENCH_BUILD (default bench/build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
read -r -a sizes <<<"${BENCH_SIZES:-100000 1000000 3000000}"
BENCH_NAME=curves BENCH_TMP_PREFIX=memalot-curves
# shellcheck source=bench/lib.sh
. bench/lib.sh

memalot=$(build_memalot)
need_time "the wall time and peak RSS"
command -v jq >/dev/null || { log "jq is needed to read the JSON"; exit 1; }
cc -O2 -Wall -Wextra -o "$tmp/vm_readv_bw" bench/vm_readv_bw.c
if [ -n "${BENCH_PYTHON:-}" ]; then
	py=$BENCH_PYTHON
else
	find_pythons
	py=${pythons[0]}
fi
log "interpreter $py ($(version_of "$py")); $(grep AnonHugePages /proc/meminfo | tr -s ' ')"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

# one MODE N: RUNS runs of one mode on the target; prints "pause wall rss bytes nodes edges graph_ms" medians
one() {
	local mode=$1 n=$2 i args out err tl
	: >"$tmp/m"
	for ((i = 1; i <= runs; i++)); do
		case $mode in
		copy) args=(--json -v) ;;
		inplace) args=(--json -v --max-memory 1) ;;
		why) args=(--json -v --why Node --max-object-details 30) ;;
		esac
		out=$tmp/out.json err=$tmp/err
		/usr/bin/time -f '%e %M' -o "$tmp/time.out" "$memalot" snapshot "$target_pid" "${args[@]}" >"$out" 2>"$err" || {
			log "$mode $n: memalot failed:"
			cat "$err" >&2
			return 1
		}
		tl=$(tail -n 1 "$tmp/time.out")
		graph=$(sed -n 's/.*why: graph of \([0-9]*\) nodes and \([0-9]*\) edges in \([0-9.]*\) ms.*/\1 \2 \3/p' "$err" | head -n 1)
		printf '%s %s %s %s %s\n' \
			"$(jq -r .pause_ms "$out")" \
			"$(awk '{ print $1 * 1000 }' <<<"$tl")" \
			"$(awk '{ printf "%.0f", $2 / 1024 }' <<<"$tl")" \
			"$(jq -r 'if .walked_in_place then "-" else .copied_bytes end' "$out")" \
			"${graph:-- - -}" >>"$tmp/m"
	done
	for col in 1 2 3 4 5 6 7; do
		awk -v c=$col '{ print $c }' "$tmp/m" | median
	done | paste -sd' '
}

printf '%-9s %-8s %9s %9s %7s %9s %8s %10s %9s %9s %11s\n' objects mode "pause ms" "floor ms" "p/floor" \
	"wall ms" "RSS MiB" "copied MiB" "ns/object" "edges" "graph ns/e" >"$tmp/table"
for n in "${sizes[@]}"; do
	log "$n objects: building the target"
	target_start 600 "$py" bench/targets/heap1m.py "$n" || { log "the target did not say ready"; exit 1; }
	"$tmp/vm_readv_bw" "$target_pid" 4096 3 >"$tmp/bw.out" 2>/dev/null || { log "vm_readv_bw failed"; exit 1; }
	# the rate into a destination already faulted in, as memalot's cache is before it stops the target
	gbps=$(sed -n 's/^batched_gbps=\([0-9.]*\).*/\1/p' "$tmp/bw.out")
	for mode in copy inplace why; do
		log "$n objects: $mode"
		read -r pause wall rss bytes nodes edges graph_ms <<<"$(one "$mode" "$n")"
		floor=- ratio=- mib=-
		if [ "$bytes" != - ]; then
			floor=$(awk -v b="$bytes" -v g="$gbps" 'BEGIN { printf "%.1f", b / (g * 1e9) * 1000 }')
			ratio=$(awk -v p="$pause" -v f="$floor" 'BEGIN { printf "%.2f", p / f }')
			mib=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
		fi
		per_obj=$(awk -v w="$wall" -v n="$n" 'BEGIN { printf "%.0f", w * 1e6 / n }')
		per_edge=-
		[ "$edges" != - ] && per_edge=$(awk -v g="$graph_ms" -v e="$edges" 'BEGIN { printf "%.0f", g * 1e6 / e }')
		printf '%-9s %-8s %9.1f %9s %7s %9.0f %8s %10s %9s %9s %11s\n' "$n" "${mode/inplace/in place}" "$pause" \
			"$floor" "$ratio" "$wall" "$rss" "$mib" "$per_obj" "$edges" "$per_edge" >>"$tmp/table"
	done
	target_end
done
echo "memalot $memalot, $(version_of "$py"), $runs runs each (medians); process_vm_readv at the last size: ${gbps} GB/s"
cat "$tmp/table"
