#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark memalot attach against the speed goals of time-based leak
# discovery, all in one run, with one table at the end:
#
#  1. first leak report latency: the seed README's example (a string a half
#     second on a function's local list, tests/targets/attach_seed_example.py)
#     under `memalot attach PID --max-object-lifetime 1 --json -v`; the time
#     from launching memalot to the first JSON line whose leak summary names
#     builtins.str. Goal <= 2 lifetimes + 1 s (3 s; warm-up = lifetime). The
#     seed's in-process figure quoted in issue 4 (38.7 s) is the anchor.
#  2. the target's throughput: bench/targets/request_loop.py, requests per
#     second in windows of BENCH_WINDOW s, unmonitored, monitored at the
#     default interval (--max-object-lifetime 60, so a check every 12 s) and
#     at --check-interval 1, the three modes alternated BENCH_ROUNDS times
#     (every other round in reverse order) so that drift cancels; memalot is
#     started at the start of its window, so its start-up counts. Goal:
#     default interval within 3 % of unmonitored.
#  3. memalot's own RSS over BENCH_RSS_SECONDS: `--max-object-lifetime 1
#     --check-interval 1` on tests/targets/attach_churn.py 1, VmRSS and VmHWM
#     sampled every 5 s; first, last, max and the slope of VmRSS over the
#     second half. VmRSS swings by the size of one check's graph depending on
#     whether a sample falls inside a check, so flatness is judged on the peak
#     (VmHWM), which does not: goal, its slope over the second half,
#     projected over 10 minutes, below 1 MiB and below 2 % of the peak.
#  4. per-iteration cost on a 1,000,000-object heap (bench/targets/heap1m.py):
#     `--max-object-lifetime 10 --check-interval 5 --iterations 1 -v` under
#     /usr/bin/time; each check's time (from its scheduled start to its
#     "check: ... pause X ms" line, stderr lines timestamped as they arrive),
#     its pause, and memalot's peak RSS.
#
# usage: bench/attach.sh
# environment:
#   BENCH_PARTS         parts to run, default "1 2 3 4"
#   BENCH_PYTHONS       interpreters (space-separated); default pyenv 3.12 and
#                       /usr/bin/python3.11 when present
#   BENCH_HEAVY_ALL=1   run parts 2 and 3 on every interpreter (default: the
#                       first only, which keeps the run under 15 minutes)
#   BENCH_LATENCY_RUNS  part 1 runs per interpreter, default 3
#   BENCH_WINDOW        part 2 window in seconds, default 20
#   BENCH_ROUNDS        part 2 rounds of (unmonitored, default, 1 s), default 3
#   BENCH_LOOP_HEAP     part 2 long-lived objects in the target, default 100000
#   BENCH_RSS_SECONDS   part 3 duration, default 600 (60 for a quick run)
#   BENCH_OBJECTS       part 4 heap, default 1000000
#   BENCH_BUILD         default bench/build;  BENCH_KEEP=1 keeps the raw files
# Default run time is about 15 minutes (part 3 alone is 10); with
# BENCH_RSS_SECONDS=60 about 6.
# Exit status: 0 when every goal is met, 3 when one is missed, 1 when the
# benchmark failed.
set -euo pipefail

cd "$(dirname "$0")/.."

parts=${BENCH_PARTS:-1 2 3 4}
latency_runs=${BENCH_LATENCY_RUNS:-3}
window=${BENCH_WINDOW:-20}
rounds=${BENCH_ROUNDS:-3}
loop_heap=${BENCH_LOOP_HEAP:-100000}
rss_seconds=${BENCH_RSS_SECONDS:-600}
rss_every=5
objects=${BENCH_OBJECTS:-1000000}
anchor_latency_s=38.7 # issue 4: the seed's in-process first report with leaks
BENCH_NAME=attach-bench BENCH_TMP_PREFIX=memalot-attach-bench
# shellcheck source=bench/lib.sh
. bench/lib.sh
pids=() # every process we started and may have to stop, oldest first

alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# a sleep that Ctrl-C or SIGTERM cuts short (bash runs traps only between commands)
nap() {
	sleep "$1" &
	wait $!
}

# SIGTERM (memalot then detaches cleanly), SIGKILL after 10 s
stop_pid() {
	local p=$1 i
	if alive "$p"; then
		kill -TERM "$p" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			alive "$p" || break
			sleep 0.1
		done
		if alive "$p"; then
			kill -KILL "$p" 2>/dev/null || true
		fi
	fi
	wait "$p" 2>/dev/null || true
}

# a process we stopped ourselves
forget() {
	local i
	for i in "${!pids[@]}"; do
		[ "${pids[i]}" = "$1" ] && unset 'pids[i]'
	done
	return 0
}

# lib.sh stops one target on exit; here memalot and the line stamper run
# beside it, so stop every process first (newest first: memalot before its
# target), then let lib.sh's cleanup keep the exit status and the files
stop_all() {
	local p
	for p in $(printf '%s\n' "${pids[@]}" | tac); do
		stop_pid "$p"
	done
}
trap 'st=$?; set +e; stop_all; (exit "$st"); cleanup' EXIT

# --- tools --------------------------------------------------------------------
memalot=$(build_memalot)
need_time "memalot's peak RSS"
command -v python3 >/dev/null || { log "python3 is needed for the timestamps and the table"; exit 1; }

# Timestamps each line as it arrives: "EPOCH_SECONDS<TAB>line". Python reads
# a pipe line by line without waiting for a full buffer, and a long JSON line
# costs it one read, not one system call per byte as bash's read would. It
# reads a FIFO that it opens itself once it has started, so that its own
# start-up cannot delay memalot's first lines (stamp_start waits for that).
cat >"$tmp/stamp.py" <<'EOF'
import sys, time
open(sys.argv[1] + ".listening", "w").close()
with open(sys.argv[1]) as src:
    for line in src:
        sys.stdout.write("%.6f\t%s" % (time.time(), line))
        sys.stdout.flush()
EOF
fifo=$tmp/lines.fifo
mkfifo "$fifo"
stamper_pid=
# stamp_start OUT: a stamper from $fifo to OUT, listening when this returns
stamp_start() {
	rm -f "$fifo.listening"
	python3 -u "$tmp/stamp.py" "$fifo" >"$1" &
	stamper_pid=$!
	pids+=("$stamper_pid")
	while [ ! -e "$fifo.listening" ]; do
		alive "$stamper_pid" || { log "the line stamper did not start"; return 1; }
		sleep 0.01
	done
}
# stamp_end: wait for the stamper to read the last line (memalot has exited)
stamp_end() {
	wait "$stamper_pid" 2>/dev/null || true
	forget "$stamper_pid"
}

# Figures from the stamped outputs, as "key<TAB>value" lines.
cat >"$tmp/figures.py" <<'EOF'
import json, re, sys

CHECK = re.compile(r"check: (\d+) objects .*pause ([0-9.]+) ms")

def lines(path):
    out = []
    with open(path) as f:
        for raw in f:
            ts, _, text = raw.rstrip("\n").partition("\t")
            out.append((float(ts), text))
    return out

def put(key, val):
    print("%s\t%s" % (key, val))

def latency(path, t0, warmup, lifetime):
    """Part 1: when the first report naming builtins.str came, and why then."""
    watch = last_check = None
    first_report = None
    for ts, text in lines(path):
        if "watching pid" in text and watch is None:
            watch = ts
            put("l_startup_s", "%.3f" % (ts - t0))
        elif CHECK.search(text):
            last_check = ts
        elif text.startswith("{"):
            rep = json.loads(text)
            if first_report is None:
                first_report = ts
                put("l_first_report_s", "%.3f" % (ts - t0))
            types = [t["object_type"] for t in rep["leak_summary"]["type_summaries"]]
            if "builtins.str" in types:
                put("l_first_str_s", "%.3f" % (ts - t0))
                put("l_str_iteration", rep["iteration_number"])
                put("l_str_count", [t["count"] for t in rep["leak_summary"]["type_summaries"]
                                    if t["object_type"] == "builtins.str"][0])
                put("l_other_types", len(types) - 1)
                if watch is not None:
                    # reports fall on warm-up + k lifetimes after memalot's start
                    sched = watch + warmup + lifetime * rep["iteration_number"]
                    put("l_behind_schedule_ms", "%.1f" % ((ts - sched) * 1e3))
                if last_check is not None:
                    put("l_report_ms", "%.1f" % ((ts - last_check) * 1e3))
                return 0
    put("l_first_str_s", "nan")
    return 0

def checks(path, t0, tend, interval):
    """Part 4: each check's time from its scheduled start, and its pause."""
    watch = None
    sched = prev = None
    k = 0
    for ts, text in lines(path):
        if "watching pid" in text and watch is None:
            watch = ts
            sched = ts
            put("h_startup_s", "%.3f" % (ts - t0))
            continue
        m = CHECK.search(text)
        if not m or sched is None:
            continue
        if k:
            # as cmd_attach.c: the next check is due an interval after the
            # last one was due, or at once when that has passed
            sched = max(sched + interval, prev)
        took = ts - sched
        pause = float(m.group(2))
        key = "h_check_first_s" if k == 0 else "h_check_steady_s"
        put(key, "%.3f" % took)
        put("h_check_s", "%.3f" % took)
        put("h_pause_ms" if k else "h_pause_first_ms", "%.1f" % pause)
        put("h_beyond_pause_s", "%.3f" % (took - pause / 1e3))
        put("h_objects", m.group(1))
        prev = ts
        k += 1
    put("h_checks", k)
    if prev is not None:
        put("h_last_check_to_exit_s", "%.3f" % (tend - prev))
    put("h_wall_s", "%.3f" % (tend - t0))
    return 0 if k else 1

def slope(rows, col):
    """Least-squares slope of column col against time, KiB per minute."""
    n = len(rows)
    mt = sum(r[0] for r in rows) / n
    mv = sum(r[col] for r in rows) / n
    var = sum((r[0] - mt) ** 2 for r in rows)
    cov = sum((r[0] - mt) * (r[col] - mv) for r in rows)
    return cov / var * 60 if var else 0.0

def rss(path, half_from):
    """Part 3: first, last, max of memalot's VmRSS and its slope over the second half."""
    rows = []
    with open(path) as f:
        for raw in f:
            t, m, hwm, tg = raw.split()
            rows.append((float(t), int(m), int(tg), int(hwm)))
    if len(rows) < 2:
        return 1
    put("r_samples", len(rows))
    put("r_first_kib", rows[0][1])
    put("r_last_kib", rows[-1][1])
    put("r_max_kib", max(r[1] for r in rows))
    put("r_min_kib", min(r[1] for r in rows))
    put("r_target_first_kib", rows[0][2])
    put("r_target_last_kib", rows[-1][2])
    put("r_hwm_last_kib", rows[-1][3])
    half = [r for r in rows if r[0] >= half_from]
    if len(half) >= 2:
        put("r_slope_kib_per_min", "%.2f" % slope(half, 1))
        put("r_hwm_slope_kib_per_min", "%.2f" % slope(half, 3))
        put("r_hwm_mid_kib", half[0][3])
    # one sample a minute, for the table
    series, nxt = [], 60.0
    for t, m, _, _ in rows:
        if t >= nxt - 1e-6:
            series.append("%.0f:%.1f" % (t / 60, m / 1024))
            nxt += 60.0
    put("r_series", " ".join(series) or "-")
    return 0

cmd = sys.argv[1]
if cmd == "latency":
    sys.exit(latency(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])))
if cmd == "checks":
    sys.exit(checks(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])))
if cmd == "rss":
    sys.exit(rss(sys.argv[2], float(sys.argv[3])))
sys.exit(2)
EOF

# --- interpreters -------------------------------------------------------------
find_pythons
heavy=("${pythons[0]}")
[ "${BENCH_HEAVY_ALL:-0}" = 1 ] && heavy=("${pythons[@]}")

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# Start a target (lib.sh's target_start) that stop_all stops too; lines
# before its "ready" go to $tmp/target.head.
start_target() {
	target_start 300 "$@" || {
		log "target '$*' did not say ready"
		return 1
	}
	pids+=("$target_pid")
}

# the targets here are stopped by a signal, not by the end of their stdin
end_target() {
	stop_pid "$target_pid"
	forget "$target_pid"
	target_pid=
}

# ask request_loop.py for its count: sets q_count, q_time (its clock) and
# q_cpu (its CPU time)
query() {
	local line
	printf 'q\n' >&"${TARGET[1]}"
	if ! IFS= read -r -t 10 line <&"${TARGET[0]}"; then
		log "request loop did not answer"
		return 1
	fi
	read -r _ q_count q_time q_cpu <<<"$line"
}

# --- 1. first leak report latency ----------------------------------------------
part_latency() {
	local py=$1 tag=$2 i t0 out
	for ((i = 1; i <= latency_runs; i++)); do
		start_target "$py" tests/targets/attach_seed_example.py
		out=$tmp/latency.$tag.$i
		stamp_start "$out"
		t0=$EPOCHREALTIME
		# four reports: the first with leaks is the second when all is well
		timeout 60 "$memalot" attach "$TARGET_PID" --max-object-lifetime 1 --json -v --iterations 4 \
			>"$fifo" 2>&1 || true
		stamp_end
		end_target
		python3 "$tmp/figures.py" latency "$out" "$t0" 1 1 | put_figures "$tag"
		log "$tag: latency run $i: first builtins.str report after $(awk -F'\t' '$2 == "l_first_str_s" { print $3 }' "$results" | tail -n 1) s"
	done
}

# --- 2. throughput of a request loop --------------------------------------------
part_throughput() {
	local py=$1 tag=$2 r mode modes c0 t0 cpu0 mpid err rate n
	start_target "$py" bench/targets/request_loop.py "$loop_heap"
	sed -n 's/^objects=/t_objects\t/p' "$tmp/target.head" | put_figures "$tag"
	sleep 2 # past start-up: caches warm, first collections done
	for ((r = 1; r <= rounds; r++)); do
		# every other round backwards (U D F, F D U, ...) so that a steady
		# drift of the machine's speed does not favour one mode
		modes="unmonitored default fast"
		[ $((r % 2)) = 0 ] && modes="fast default unmonitored"
		for mode in $modes; do
			err=$tmp/tp.$tag.$r.$mode.err
			query
			c0=$q_count t0=$q_time cpu0=$q_cpu
			mpid=
			case $mode in
			default) "$memalot" attach "$TARGET_PID" --max-object-lifetime 60 -v >/dev/null 2>"$err" & mpid=$! ;;
			fast) "$memalot" attach "$TARGET_PID" --max-object-lifetime 60 --check-interval 1 -v >/dev/null 2>"$err" & mpid=$! ;;
			esac
			[ -n "$mpid" ] && pids+=("$mpid")
			nap "$window"
			query
			rate=$(awk -v c0="$c0" -v c1="$q_count" -v a="$t0" -v b="$q_time" 'BEGIN { printf "%.1f", (c1 - c0) / (b - a) }')
			put "$tag" "t_rate_$mode" "$rate"
			put "$tag" "t_round${r}_$mode" "$rate"
			put "$tag" "t_cpurate_$mode" "$(awk -v c0="$c0" -v c1="$q_count" -v a="$cpu0" -v b="$q_cpu" 'BEGIN { printf "%.1f", (c1 - c0) / (b - a) }')"
			put "$tag" "t_cpu_share_$mode" "$(awk -v a="$t0" -v b="$q_time" -v x="$cpu0" -v y="$q_cpu" 'BEGIN { printf "%.2f", (y - x) / (b - a) * 100 }')"
			put "$tag" t_loadavg "$(cut -d' ' -f1 /proc/loadavg)"
			if [ -n "$mpid" ]; then
				# the checks done inside the window (the last one, on SIGTERM, is after it)
				cp "$err" "$err.window"
				stop_pid "$mpid"
				forget "$mpid"
				n=$(grep -c 'check: ' "$err.window" || true)
				put "$tag" "t_checks_$mode" "$n"
				put "$tag" "t_pause_sum_${mode}_ms" "$(sed -n 's/.*check: .*pause \([0-9.]*\) ms.*/\1/p' "$err.window" | awk '{ s += $1 } END { printf "%.1f", s }')"
			fi
			log "$tag: round $r $mode: $rate requests/s"
		done
	done
	end_target
}

# --- 3. memalot's RSS over time ---------------------------------------------------
part_rss() {
	local py=$1 tag=$2 mpid start now t m hwm tg samples
	samples=$tmp/rss.$tag.samples
	start_target "$py" tests/targets/attach_churn.py 1
	"$memalot" attach "$TARGET_PID" --max-object-lifetime 1 --check-interval 1 --json \
		>"$tmp/rss.$tag.json" 2>"$tmp/rss.$tag.err" &
	mpid=$!
	pids+=("$mpid")
	start=$EPOCHREALTIME
	: >"$samples"
	log "$tag: memalot's RSS for $rss_seconds s"
	for ((t = rss_every; t <= rss_seconds; t += rss_every)); do
		# sleep to the next multiple of the sample period: no drift
		nap "$(awk -v s="$start" -v n="$EPOCHREALTIME" -v t="$t" 'BEGIN { d = s + t - n; if (d < 0) d = 0; printf "%.3f", d }')"
		if ! alive "$mpid"; then
			log "$tag: memalot ended early:"
			tail -n 5 "$tmp/rss.$tag.err" >&2
			return 1
		fi
		now=$EPOCHREALTIME
		read -r m hwm < <(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r, h }' "/proc/$mpid/status")
		tg=$(awk '/^VmRSS:/ { print $2 }' "/proc/$TARGET_PID/status")
		printf '%s %s %s %s\n' "$(elapsed "$start" "$now")" "$m" "$hwm" "$tg" >>"$samples"
	done
	stop_pid "$mpid"
	forget "$mpid"
	end_target
	python3 "$tmp/figures.py" rss "$samples" "$(awk -v s="$rss_seconds" 'BEGIN { print s / 2 }')" | put_figures "$tag"
	# the churn target leaks nothing: whatever is reported is a false positive
	put "$tag" r_reports "$(grep -c '^{' "$tmp/rss.$tag.json" || true)"
	put "$tag" r_leaks "$(jq -s 'map(.leak_summary.total_objects) | add // 0' "$tmp/rss.$tag.json" 2>/dev/null || echo nan)"
}

# --- 4. one iteration on a 1,000,000-object heap ---------------------------------
part_heap() {
	local py=$1 tag=$2 t0 tend tl out
	out=$tmp/heap.$tag
	log "$tag: building $objects objects"
	start_target "$py" bench/targets/heap1m.py "$objects"
	sed -n 's/^objects=/h_py_objects\t/p; s/^anchor_ms=/h_anchor_ms\t/p' "$tmp/target.head" | put_figures "$tag"
	stamp_start "$out.err"
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M %e' -o "$out.time" "$memalot" attach "$TARGET_PID" --max-object-lifetime 10 \
		--check-interval 5 --iterations 1 -v >"$out.report" 2>"$fifo" || true
	tend=$EPOCHREALTIME
	stamp_end
	end_target
	if ! python3 "$tmp/figures.py" checks "$out.err" "$t0" "$tend" 5 >"$out.fig"; then
		log "$tag: no check line from memalot:"
		tail -n 5 "$out.err" >&2
		return 1
	fi
	put_figures "$tag" <"$out.fig"
	tl=$(tail -n 1 "$out.time")
	put "$tag" h_peak_rss_mib "$(awk '{ printf "%.1f", $1 / 1024 }' <<<"$tl")"
}

# --- run ------------------------------------------------------------------------
declare -A tags
for py in "${pythons[@]}"; do
	tags[$py]=$(version_of "$py")
	put "${tags[$py]}" path 0 # keeps the column order
done
t_all=$EPOCHREALTIME
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
for part in $parts; do
	case $part in
	1) for py in "${pythons[@]}"; do part_latency "$py" "${tags[$py]}"; done ;;
	2) for py in "${heavy[@]}"; do part_throughput "$py" "${tags[$py]}"; done ;;
	3) for py in "${heavy[@]}"; do part_rss "$py" "${tags[$py]}"; done ;;
	4) for py in "${pythons[@]}"; do part_heap "$py" "${tags[$py]}"; done ;;
	*) log "unknown part '$part' (1 to 4)"; exit 1 ;;
	esac
done
log "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
log "all parts in $(awk -v a="$t_all" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"

paths=
for py in "${pythons[@]}"; do paths+="${tags[$py]}=$py;"; done
python3 bench/report.py attach "$results" "$anchor_latency_s" "$window" "$rss_seconds" "$paths"
