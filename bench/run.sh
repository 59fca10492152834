#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark memalot snapshot on a 1,000,000-object heap against the in-process
# anchor (gc.get_objects() + a per-type count) and the process_vm_readv ceiling.
#
# usage: bench/run.sh [RUNS]        (RUNS: snapshots per interpreter, default 5)
# environment: BENCH_OBJECTS (default 1000000), BENCH_BUILD (default bench/build),
#              BENCH_PYTHONS (space-separated interpreters; default: pyenv 3.12
#              and /usr/bin/python3.11 when present), BENCH_MEMALOT_ARGS (extra
#              snapshot options, e.g. "--layout-source table"), BENCH_KEEP=1 keeps
#              the raw files
# Exit status: 0 when both goals (pause <= 150 ms, memalot wall <= 1 s) are met
# for every interpreter, 3 when one is missed, 1 when the benchmark failed.
set -euo pipefail

cd "$(dirname "$0")/.."

runs=${1:-5}
objects=${BENCH_OBJECTS:-1000000}
read -r -a extra_args <<<"${BENCH_MEMALOT_ARGS:-}"
BENCH_NAME=bench BENCH_TMP_PREFIX=memalot-bench
# shellcheck source=bench/lib.sh
. bench/lib.sh

# --- build ----------------------------------------------------------------
memalot=$(build_memalot)
cc -O2 -Wall -Wextra -o "$tmp/vm_readv_bw" bench/vm_readv_bw.c
if command -v /usr/bin/time >/dev/null 2>&1; then
	timer=(/usr/bin/time -f '%e %M' -o "$tmp/time.out")
	timer_desc="/usr/bin/time"
else
	cc -O2 -Wall -Wextra -o "$tmp/rusage" bench/rusage.c
	timer=("$tmp/rusage")
	timer_desc="bench/rusage.c"
fi

# --- interpreters ---------------------------------------------------------
find_pythons

# --- one interpreter --------------------------------------------------------
bench_one() {
	local py=$1 ver tag line pid
	ver=$(version_of "$py")
	tag="$ver ($py)"
	log "$tag: building $objects objects"

	target_start 120 "$py" bench/targets/heap1m.py "$objects" || {
		log "$tag: target did not say ready"
		return 1
	}
	pid=$target_pid
	while IFS= read -r line; do
		case $line in
		objects=*) put "$tag" py_objects "${line#objects=}" ;;
		anchor_runs=*)
			local a x
			IFS=, read -r -a a <<<"${line#anchor_runs=}"
			for x in "${a[@]}"; do put "$tag" anchor_ms "$x"; done
			;;
		esac
	done <"$tmp/target.head"

	local i err
	for ((i = 1; i <= runs; i++)); do
		err=$tmp/err.$i
		timed_run "$tag" "$tmp/snap.json" "$err" \
			"${timer[@]}" "$memalot" snapshot "$pid" --json -v ${extra_args[@]+"${extra_args[@]}"} || return 1
		# /usr/bin/time writes its own file; bench/rusage.c appends to stderr
		local tl
		if [ -f "$tmp/time.out" ]; then tl=$(tail -n 1 "$tmp/time.out"); else tl=$(tail -n 1 "$err"); fi
		put "$tag" rss_mib "$(awk '{ printf "%.1f", $2 / 1024 }' <<<"$tl")"
		jq -r '"pause_ms \(.pause_ms)\ntotal_objects \(.total_objects)\ntries \(.tries)\npartial \(if .partial then 1 else 0 end)"' \
			"$tmp/snap.json" | while read -r k v; do put "$tag" "$k" "$v"; done
		sed -n 's/.*snapshot: \([0-9]*\) objects, \([0-9]*\) bytes in \([0-9]*\) reads, walk \([0-9.]*\) ms, cache \([0-9]*\) KiB.*/bytes_read \2\nreads \3\nwalk_ms \4\ncache_kib \5/p' \
			"$err" | while read -r k v; do put "$tag" "$k" "$v"; done
		if grep -q 'partial result' "$err"; then
			log "$tag: run $i: $(grep 'partial result' "$err")"
		fi
	done

	log "$tag: process_vm_readv bandwidth"
	"$tmp/vm_readv_bw" "$pid" 256 5 >"$tmp/bw.out" 2>"$tmp/bw.err" || {
		cat "$tmp/bw.err" >&2
		return 1
	}
	local k v
	while IFS='=' read -r k v; do
		case $k in
		*_gbps | *_us)
			# median, min and max of the tool's repetitions, stored as three
			# samples so the report's median/min/max give them back
			local med lo hi
			IFS=, read -r med lo hi <<<"$v"
			put "$tag" "bw_$k" "$med"
			put "$tag" "bw_$k" "$lo"
			put "$tag" "bw_$k" "$hi"
			;;
		bytes) put "$tag" bw_bytes "$v" ;;
		esac
	done <"$tmp/bw.out"

	target_end
}

for py in "${pythons[@]}"; do
	bench_one "$py"
done

python3 bench/report.py snapshot "$results" "$timer_desc"
