#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark memalot snapshot --why on a 1,000,000-object heap against the
# in-process anchor: gc.get_referrers() up a three-level chain to a module
# global, measured inside the same target (bench/targets/heap1m_why.py).
#
# usage: bench/why.sh [RUNS]        (RUNS: --why runs per interpreter, default 3)
# environment: BENCH_OBJECTS (default 1000000), BENCH_BUILD (default bench/build),
#              BENCH_PYTHONS (space-separated interpreters; default: pyenv 3.12
#              and /usr/bin/python3.11 when present), BENCH_WHY_TYPE (default
#              Node), BENCH_WHY_DETAILS (--max-object-details, default 30),
#              BENCH_MEMALOT_ARGS (extra snapshot options), BENCH_KEEP=1 keeps
#              the raw files
# Each run is `memalot snapshot PID --why Node --max-object-details 30 -v --json`
# under /usr/bin/time: pause from the JSON, graph build and referrer search
# from the -v line "why: graph of N nodes and E edges in X ms, referrers in
# Y ms", wall and peak RSS from the timer.
# Exit status: 0 when every goal (wall < 2 s, pause <= 150 ms, peak RSS < 1 GiB,
# medians) is met for every interpreter, 3 when one is missed, 1 when the
# benchmark failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

runs=${1:-3}
objects=${BENCH_OBJECTS:-1000000}
build=${BENCH_BUILD:-bench/build}
why_type=${BENCH_WHY_TYPE:-Node}
details=${BENCH_WHY_DETAILS:-30}
read -r -a extra_args <<<"${BENCH_MEMALOT_ARGS:-}"
BENCH_NAME=why-bench BENCH_TMP_PREFIX=memalot-why-bench
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

# --- build ----------------------------------------------------------------
log "building memalot into $build"
make --no-print-directory BUILD="$build" "$build/memalot" >&2
memalot=$build/memalot
if [ ! -x /usr/bin/time ]; then
	log "/usr/bin/time is needed for the wall time and peak RSS (apt-get install time)"
	exit 1
fi
command -v jq >/dev/null || { log "jq is needed to read the JSON"; exit 1; }

# --- interpreters ---------------------------------------------------------
pythons=()
if [ -n "${BENCH_PYTHONS:-}" ]; then
	read -r -a pythons <<<"$BENCH_PYTHONS"
else
	pyroot=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
	for p in "$pyroot"/versions/3.12.*/bin/python3; do
		[ -x "$p" ] && pythons+=("$p") && break
	done
	[ -x /usr/bin/python3.11 ] && pythons+=(/usr/bin/python3.11)
fi
if [ ${#pythons[@]} -eq 0 ]; then
	log "no interpreter found (pyenv 3.12 or /usr/bin/python3.11)"
	exit 1
fi

results=$tmp/results.tsv
: >"$results"
put() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }

# --- one interpreter --------------------------------------------------------
bench_one() {
	local py=$1 ver tag line pid
	ver=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
	tag="$ver ($py)"
	log "$tag: building $objects objects and timing the in-process anchor"

	# stdin is a pipe we hold open: closing it (or killing) ends the target
	coproc TARGET { exec "$py" bench/targets/heap1m_why.py "$objects" --why-anchor; }
	target_pid=$TARGET_PID
	pid=$target_pid
	while :; do
		if ! IFS= read -r -t 300 line <&"${TARGET[0]}"; then
			log "$tag: target did not say ready"
			return 1
		fi
		case $line in
		ready) break ;;
		objects=*) put "$tag" py_objects "${line#objects=}" ;;
		anchor_referrers_ms=*) put "$tag" anchor_referrers_ms "${line#*=}" ;;
		anchor_chain_runs=*)
			local a x
			IFS=, read -r -a a <<<"${line#*=}"
			for x in "${a[@]}"; do put "$tag" anchor_chain_ms "$x"; done
			;;
		anchor_chain_levels=*) log "$tag: anchor levels (ms): ${line#*=}" ;;
		esac
	done

	local i t0 t1 err out tl
	for ((i = 1; i <= runs; i++)); do
		err=$tmp/err.$i
		out=$tmp/why.$i.json
		t0=$EPOCHREALTIME
		if ! /usr/bin/time -f '%e %M' -o "$tmp/time.out" "$memalot" snapshot "$pid" --why "$why_type" \
			--max-object-details "$details" -v --json ${extra_args[@]+"${extra_args[@]}"} >"$out" 2>"$err"; then
			log "$tag: memalot failed:"
			cat "$err" >&2
			return 1
		fi
		t1=$EPOCHREALTIME
		put "$tag" wall_ms "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')"
		tl=$(tail -n 1 "$tmp/time.out")
		put "$tag" time_wall_s "$(awk '{ print $1 }' <<<"$tl")"
		put "$tag" rss_mib "$(awk '{ printf "%.1f", $2 / 1024 }' <<<"$tl")"
		jq -r '"pause_ms \(.pause_ms)\ntotal_objects \(.total_objects)\npartial \(if .partial then 1 else 0 end)"' \
			"$out" | while read -r k v; do put "$tag" "$k" "$v"; done
		sed -n 's/.*why: graph of \([0-9]*\) nodes and \([0-9]*\) edges in \([0-9.]*\) ms, referrers in \([0-9.]*\) ms.*/graph_nodes \1\ngraph_edges \2\ngraph_ms \3\nreferrers_ms \4/p' \
			"$err" | while read -r k v; do put "$tag" "$k" "$v"; done
		sed -n 's/.*snapshot: \([0-9]*\) objects, .* walk \([0-9.]*\) ms, cache \([0-9]*\) KiB.*/walk_ms \2\ncache_kib \3/p' \
			"$err" | while read -r k v; do put "$tag" "$k" "$v"; done
		if ! grep -q 'why: graph of' "$err"; then
			log "$tag: run $i: no 'why: graph of' line on stderr:"
			tail -n 5 "$err" >&2
			return 1
		fi
		if grep -q 'partial result' "$err"; then
			log "$tag: run $i: $(grep 'partial result' "$err")"
		fi
		if [ "$i" -eq 1 ]; then
			# what was found, to see that the search reached the global
			jq -r '"\(.object_details | length) objects detailed; roots of the first: " +
				([.object_details[0].referrer_graph as $g | $g.root_ids[] as $r |
				  $g.graph_nodes[] | select(.id == $r) | .name] | unique | join("; "))' \
				"$out" 2>/dev/null | sed "s/^/why-bench: $ver: /" >&2 || true
		fi
	done

	# end of stdin tells the target to exit
	local in_fd=${TARGET[1]}
	eval "exec $in_fd>&-"
	wait "$target_pid" 2>/dev/null || true
	target_pid=
}

for py in "${pythons[@]}"; do
	bench_one "$py"
done

python3 - "$results" "$details" <<'EOF'
import statistics
import sys

DETAILS = int(sys.argv[2])  # objects memalot details, each with its referrer search

WALL_GOAL_MS = 2000.0
PAUSE_GOAL_MS = 150.0
RSS_GOAL_MIB = 1024.0

data, order = {}, []
with open(sys.argv[1]) as f:
    for line in f:
        tag, key, val = line.rstrip("\n").split("\t")
        if tag not in data:
            data[tag] = {}
            order.append(tag)
        data[tag].setdefault(key, []).append(float(val))

for d in data.values():
    chain = statistics.median(d["anchor_chain_ms"])
    one = statistics.median(d["anchor_referrers_ms"])
    d["wall_per_chain"] = [w / chain for w in d["wall_ms"]]
    d["search_per_chain"] = [(g + r) / chain for g, r in zip(d["graph_ms"], d["referrers_ms"])]
    d["wall_per_one"] = [w / one for w in d["wall_ms"]]
    d["wall_per_chains"] = [w / (DETAILS * chain) for w in d["wall_ms"]]
    d["wall_minus_graph_ms"] = [w - g - r for w, g, r in zip(d["wall_ms"], d["graph_ms"], d["referrers_ms"])]

ROWS = [
    ("target (in-process anchor)", None, None),
    ("py_objects", "objects (gc.get_objects)", "%.0f"),
    ("anchor_referrers_ms", "one gc.get_referrers ms", "%.1f"),
    ("anchor_chain_ms", "3-level climb ms (3 calls)", "%.1f"),
    ("memalot snapshot --why", None, None),
    ("total_objects", "objects found", "%.0f"),
    ("pause_ms", "pause ms (JSON pause_ms)", "%.1f"),
    ("walk_ms", "walk ms (-v)", "%.1f"),
    ("graph_nodes", "graph nodes", "%.0f"),
    ("graph_edges", "graph edges", "%.0f"),
    ("graph_ms", "graph build ms (-v)", "%.1f"),
    ("referrers_ms", "referrer search ms (-v)", "%.1f"),
    ("wall_ms", "wall ms, whole memalot", "%.1f"),
    ("time_wall_s", "wall s (/usr/bin/time %e)", "%.2f"),
    ("wall_minus_graph_ms", "wall - graph - search ms", "%.1f"),
    ("rss_mib", "peak RSS MiB (%M)", "%.1f"),
    ("cache_kib", "cache KiB", "%.0f"),
    ("partial", "partial (1 = yes)", "%.0f"),
    ("ratios", None, None),
    ("wall_per_chain", "memalot wall / anchor climb", "%.2f"),
    ("search_per_chain", "(graph + search) / anchor climb", "%.2f"),
    ("wall_per_one", "memalot wall / one get_referrers", "%.2f"),
    ("wall_per_chains", "memalot wall / (details x climb)", "%.2f"),
]

w0, cell = 34, 10
head = "%-*s" % (w0, "figure")
sub = "%-*s" % (w0, "")
for tag in order:
    head += " | %-*s" % (3 * cell + 2, tag.split(" ")[0])
    sub += " | " + " ".join("%*s" % (cell, c) for c in ("median", "min", "max"))
print(head)
print(sub)
print("-" * len(sub))
for key, label, fmt in ROWS:
    if label is None:
        print("[%s]" % key)
        continue
    line = "%-*s" % (w0, label)
    for tag in order:
        v = data[tag].get(key)
        if not v:
            line += " | " + " ".join("%*s" % (cell, "-") for _ in range(3))
        else:
            line += " | " + " ".join("%*s" % (cell, fmt % x) for x in (statistics.median(v), min(v), max(v)))
    print(line)
print()
print("interpreters: " + "; ".join(order))
ok = True
for tag in order:
    d = data[tag]
    w, p, m = (statistics.median(d[k]) for k in ("wall_ms", "pause_ms", "rss_mib"))
    gw, gp, gm = w < WALL_GOAL_MS, p <= PAUSE_GOAL_MS, m < RSS_GOAL_MIB
    ok = ok and gw and gp and gm
    print("goals %s: wall %.0f ms < %.0f: %s; pause %.1f ms <= %.0f: %s; peak RSS %.0f MiB < %.0f: %s"
          % (tag.split(" ")[0], w, WALL_GOAL_MS, "met" if gw else "MISSED", p, PAUSE_GOAL_MS,
             "met" if gp else "MISSED", m, RSS_GOAL_MIB, "met" if gm else "MISSED"))
sys.exit(0 if ok else 3)
EOF
