#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Side by side: the cost of one `memalot attach` check on a 1,000,000-object
# heap (bench/targets/heap1m.py), for two memalot binaries on the same target
# in one run, in the order A B B A (drift on a shared machine cancels).
#
# Each run is `attach --max-object-lifetime 2 --check-interval 0.05
# --iterations 2 -vv`: checks back to back (the interval is shorter than a
# check), so the time between two "check:" lines is the cost of a check,
# pause and analysis; the median over all runs of a binary is its figure
# (two iterations: since the warm-up report, one iteration ends at the warm-up).
#
# usage: bench/check-cost.sh [BASE [NEW]]
#   BASE  a memalot binary, or a git revision to build into bench/build-base
#         (default: the binary of $BENCH_BASE, else HEAD~1)
#   NEW   a memalot binary (default: build/memalot)
# environment: BENCH_PYTHON (default pyenv 3.12), BENCH_OBJECTS (1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_NAME=check-cost
BENCH_TMP_PREFIX=memalot-check-cost
# shellcheck source=bench/lib.sh
. bench/lib.sh
# shellcheck source=tests/lib/python.sh
. tests/lib/python.sh

base=${1:-${BENCH_BASE:-HEAD~1}}
new=${2:-build/memalot}
objects=${BENCH_OBJECTS:-1000000}
py=$(find_python "${BENCH_PYTHON:-}") || { log "no CPython found"; exit 1; }

if [ ! -x "$base" ]; then
	rev=$(git rev-parse --verify "$base^{commit}") || { log "'$base' is neither a binary nor a revision"; exit 1; }
	log "building $rev into bench/build-base"
	rm -rf bench/build-base-src
	git worktree add -f -q bench/build-base-src "$rev"
	make -C bench/build-base-src -j"$(nproc)" BUILD="$PWD/bench/build-base" all >/dev/null
	git worktree remove -f bench/build-base-src
	base_label="$base (${rev:0:8})"
	base=bench/build-base/memalot
else
	base_label=$base
fi
[ -x "$new" ] || { log "no $new: run make first"; exit 1; }

log "target: $py, $objects objects"
mkfifo "$tmp/in"
"$py" bench/targets/heap1m.py "$objects" <"$tmp/in" >"$tmp/out" &
target_pid=$!
exec 3>"$tmp/in"
for _ in $(seq 600); do
	grep -qx ready "$tmp/out" && break
	sleep 0.5
done
grep -qx ready "$tmp/out" || { log "the target did not say ready"; exit 1; }

# One run; prints the times between its consecutive check lines (stderr
# lines are stamped as they arrive), in ms, one per line. Back to back, that
# is the cost of a check; the median leaves out the one with the report.
run() {
	# (reports saved by versions that save them go to the temporary directory)
	MEMALOT_REPORT_DIRECTORY=$tmp/reports "$1" attach "$target_pid" --max-object-lifetime 2 \
		--check-interval 0.05 --iterations 2 -vv 2>&1 >/dev/null |
		while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$tmp/err"
	grep -q 'check:' "$tmp/err" || { log "$1 failed:"; tail -n 3 "$tmp/err" >&2; exit 1; }
	awk '/check:/ { if (last) printf "%.1f\n", ($1 - last) * 1000; last = $1 }' "$tmp/err"
}

: >"$tmp/base.ms"
: >"$tmp/new.ms"
for which in base new new base; do
	bin=$base
	[ "$which" = new ] && bin=$new
	run "$bin" >>"$tmp/$which.ms"
	log "$which: $(paste -sd' ' "$tmp/$which.ms")"
done
exec 3>&-

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
bm=$(median "$tmp/base.ms")
nm=$(median "$tmp/new.ms")
printf '%-28s %10s %10s\n' "per check on the heap" base new
printf '%-28s %10d %10d\n' "checks timed" "$(wc -l <"$tmp/base.ms")" "$(wc -l <"$tmp/new.ms")"
printf '%-28s %10.0f %10.0f\n' "median ms per check" "$bm" "$nm"
printf 'base: %s\nnew:  %s\nbase / new: %s (load average at end %s)\n' "$base_label" "$new" \
	"$(awk -v a="$bm" -v b="$nm" 'BEGIN { printf "%.2f", a / b }')" "$(cut -d' ' -f1-3 /proc/loadavg)"
