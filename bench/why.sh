#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark memalot snapshot --why on a 1,000,000-object heap against the
# in-process anchor: gc.get_referrers() up a three-level chain to a module
# global, measured inside the same target (bench/targets/heap1m.py --why-anchor).
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

cd "$(dirname "$0")/.."

runs=${1:-3}
objects=${BENCH_OBJECTS:-1000000}
why_type=${BENCH_WHY_TYPE:-Node}
details=${BENCH_WHY_DETAILS:-30}
read -r -a extra_args <<<"${BENCH_MEMALOT_ARGS:-}"
BENCH_NAME=why-bench BENCH_TMP_PREFIX=memalot-why-bench
# shellcheck source=bench/lib.sh
. bench/lib.sh

# --- build ----------------------------------------------------------------
memalot=$(build_memalot)
need_time "the wall time and peak RSS"
command -v jq >/dev/null || { log "jq is needed to read the JSON"; exit 1; }

# --- interpreters ---------------------------------------------------------
find_pythons

# --- one interpreter --------------------------------------------------------
bench_one() {
	local py=$1 ver tag line pid
	ver=$(version_of "$py")
	tag="$ver ($py)"
	log "$tag: building $objects objects and timing the in-process anchor"

	target_start 300 "$py" bench/targets/heap1m.py "$objects" --why-anchor || {
		log "$tag: target did not say ready"
		return 1
	}
	pid=$target_pid
	while IFS= read -r line; do
		case $line in
		objects=*) put "$tag" py_objects "${line#objects=}" ;;
		anchor_referrers_ms=*) put "$tag" anchor_referrers_ms "${line#*=}" ;;
		anchor_chain_runs=*)
			local a x
			IFS=, read -r -a a <<<"${line#*=}"
			for x in "${a[@]}"; do put "$tag" anchor_chain_ms "$x"; done
			;;
		anchor_chain_levels=*) log "$tag: anchor levels (ms): ${line#*=}" ;;
		esac
	done <"$tmp/target.head"

	local i err out tl
	for ((i = 1; i <= runs; i++)); do
		err=$tmp/err.$i
		out=$tmp/why.$i.json
		timed_run "$tag" "$out" "$err" /usr/bin/time -f '%e %M' -o "$tmp/time.out" "$memalot" snapshot "$pid" \
			--why "$why_type" --max-object-details "$details" -v --json ${extra_args[@]+"${extra_args[@]}"} || return 1
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

	target_end
}

for py in "${pythons[@]}"; do
	bench_one "$py"
done

python3 bench/report.py why "$results" "$details"
