#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What `memalot run` costs the program it runs: bench/targets/request_loop.py
# (requests per second of a small service loop over a heap of HEAP objects)
# plain and under `memalot run` at the default interval (lifetime 60 s, a
# check every 12 s), alternated in one run (P R R P ...), each for WINDOW
# seconds after a 2 s start. Prints each round's rate and the ratio of the
# medians (goal: >= 0.98).
#
# usage: bench/run-throughput.sh [ROUNDS] [WINDOW] [MEMALOT]   (default 4, 30 s, build/memalot)
# environment: BENCH_PYTHON, BENCH_HEAP (default 100000)
set -euo pipefail

cd "$(dirname "$0")/.."
rounds=${1:-4}
window=${2:-30}
memalot=${3:-build/memalot}
heap=${BENCH_HEAP:-100000}
BENCH_NAME=run-throughput BENCH_TMP_PREFIX=memalot-run-tp
# shellcheck source=bench/lib.sh
. bench/lib.sh
# shellcheck source=tests/lib/python.sh
. tests/lib/python.sh
py=$(find_python "${BENCH_PYTHON:-}")
[ -x "$memalot" ] || { log "no $memalot: make first"; exit 1; }

# one MODE: the requests per second of one window, plain or under memalot run
one() {
	local mode=$1 c0 t0 c1 t1 line
	local cmd=("$py" bench/targets/request_loop.py "$heap")
	[ "$mode" = run ] && cmd=("$memalot" run --no-save-reports -q -- "${cmd[@]}")
	coproc LOOP { "${cmd[@]}" 2>"$tmp/err.$mode"; }
	while read -r line <&"${LOOP[0]}"; do [ "$line" = ready ] && break; done
	sleep 2
	echo >&"${LOOP[1]}"; read -r _ c0 t0 _ <&"${LOOP[0]}"
	sleep "$window"
	echo >&"${LOOP[1]}"; read -r _ c1 t1 _ <&"${LOOP[0]}"
	exec {LOOP[1]}>&-
	wait "$LOOP_PID" 2>/dev/null || true
	awk -v a="$c0" -v b="$c1" -v x="$t0" -v y="$t1" 'BEGIN { printf "%.1f\n", (b - a) / (y - x) }'
}

log "$py, heap $heap, $rounds rounds of $window s"
for ((r = 1; r <= rounds; r++)); do
	if [ $((r % 2)) = 1 ]; then order="plain run"; else order="run plain"; fi
	for mode in $order; do
		rate=$(one "$mode")
		printf '%s\t%s\t%s\n' "$r" "$mode" "$rate" | tee -a "$tmp/rates"
	done
done
med() { awk -F'\t' -v m="$1" '$2 == m { print $3 }' "$tmp/rates" | sort -n |
	awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
p=$(med plain) q=$(med run)
awk -v p="$p" -v q="$q" -v l="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
	printf "requests/s, median: plain %.1f, under memalot run %.1f: %.3f of plain (goal >= 0.98; load average %s)\n", p, q, q / p, l }'
