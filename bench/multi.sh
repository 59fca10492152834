#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Many processes at once: `memalot attach` on 8 processes of 100,000 objects
# each beside one process of 800,000, side by side in one run (rounds in the
# order 8 1 1 8). Checks run back to back (--check-interval 0.05, shorter
# than a check) for DURATION seconds; the figure is the objects checked per
# second (the sum of the objects of every "check:" line of -vv over the
# duration), and the ms per check of each.
#
# usage: bench/multi.sh [DURATION] [MEMALOT]   (default 20 s, build/memalot)
# environment: BENCH_PYTHON (default pyenv 3.12, else /usr/bin/python3.11)
set -euo pipefail

cd "$(dirname "$0")/.."
duration=${1:-20}
memalot=${2:-build/memalot}
BENCH_NAME=multi BENCH_TMP_PREFIX=memalot-multi
# shellcheck source=bench/lib.sh
. bench/lib.sh
# shellcheck source=tests/lib/python.sh
. tests/lib/python.sh
py=$(find_python "${BENCH_PYTHON:-}")
[ -x "$memalot" ] || { log "no $memalot: make first"; exit 1; }

pids=()
starts=()
# start N OBJECTS: N heap targets of OBJECTS objects each, their stdin a FIFO held open
start() {
	local n=$1 objects=$2 i
	for ((i = 0; i < n; i++)); do
		mkfifo "$tmp/in.$i.$objects"
		"$py" bench/targets/heap1m.py "$objects" <"$tmp/in.$i.$objects" >"$tmp/out.$i.$objects" 2>&1 &
		pids+=($!)
		exec {fd}>"$tmp/in.$i.$objects"
		starts+=("$fd")
	done
	for ((i = 0; i < n; i++)); do
		until grep -q '^ready' "$tmp/out.$i.$objects" 2>/dev/null; do sleep 0.2; done
	done
}
stop_all() {
	for fd in "${starts[@]}"; do exec {fd}>&-; done
	wait "${pids[@]}" 2>/dev/null || true
	pids=() starts=()
}
trap 'stop_all; cleanup' EXIT

# measure TAG PID...: objects checked per second and ms per check
measure() {
	local tag=$1
	shift
	"$memalot" attach "$@" --max-object-lifetime 3600 --check-interval 0.05 --duration "$duration" \
		--no-save-reports -vv >/dev/null 2>"$tmp/err.$tag" || true
	awk -v d="$duration" -v tag="$tag" '
		/check: [0-9]+ objects/ { for (i = 1; i <= NF; i++) if ($i == "check:") { o += $(i + 1); n++ } }
		END { printf "%s\t%d checks\t%.0f objects/s\t%.0f ms per check\n", tag, n, o / d, n ? d * 1000 / n : 0 }' \
		"$tmp/err.$tag"
}

log "$py: 8 processes of 100,000 objects and 1 of 800,000"
start 8 100000
eight=("${pids[@]}")
start 1 800000
one=${pids[8]}
for r in 1 2; do
	if [ "$r" = 1 ]; then
		measure "8x100k" "${eight[@]}"; measure "1x800k" "$one"
	else
		measure "1x800k" "$one"; measure "8x100k" "${eight[@]}"
	fi
done | tee "$tmp/figures"
awk -F'\t' -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '{ split($3, a, " "); s[$1] += a[1] }
	END { printf "objects checked per second, 8x100k / 1x800k: %.2f (load average %s)\n", s["8x100k"] / s["1x800k"], load }' \
	"$tmp/figures"
