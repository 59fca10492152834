# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Shared set-up of the bench scripts (sourced): a temporary directory, a
# target process that is always stopped on exit, logging, the figures file
# for bench/report.py, the interpreters, memalot's build and the targets'
# start and end.
# Before sourcing, set BENCH_NAME (the log prefix) and BENCH_TMP_PREFIX.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/${BENCH_TMP_PREFIX:-memalot-bench}.XXXXXX")
target_pid=

cleanup() {
	local st=$?
	if [ -n "$target_pid" ] && kill -0 "$target_pid" 2>/dev/null; then
		kill "$target_pid" 2>/dev/null || true
		wait "$target_pid" 2>/dev/null || true
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "${BENCH_NAME:-bench}: raw files kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; }

# The figures, "interpreter<TAB>key<TAB>value" lines, that bench/report.py
# makes the table of.
results=$tmp/results.tsv
: >"$results"
put() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }
put_figures() { # TAG < "key<TAB>value" lines
	local k v
	while IFS=$'\t' read -r k v; do put "$1" "$k" "$v"; done
}

version_of() { "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'; }

# find_pythons: sets pythons to $BENCH_PYTHONS (space-separated), else to
# pyenv's CPython 3.12 and /usr/bin/python3.11 when present; exits when there
# is none.
find_pythons() {
	local pyroot p
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
}

# build_memalot: makes memalot into $BENCH_BUILD (default bench/build), run
# from the top of the repository, and prints the binary's path.
build_memalot() {
	local build=${BENCH_BUILD:-bench/build}
	log "building memalot into $build"
	make --no-print-directory BUILD="$build" "$build/memalot" >&2 || return 1
	echo "$build/memalot"
}

# need_time WHAT: exits unless /usr/bin/time, which WHAT is measured with, is there.
need_time() {
	[ -x /usr/bin/time ] && return 0
	log "/usr/bin/time is needed for $1 (apt-get install time)"
	exit 1
}

# timed_run TAG OUT ERR CMD...: runs memalot's CMD, its stdout to OUT and its
# stderr to ERR, and puts its wall time as wall_ms; fails, showing ERR, when
# CMD fails.
timed_run() {
	local tag=$1 out=$2 err=$3 t0 t1
	shift 3
	t0=$EPOCHREALTIME
	if ! "$@" >"$out" 2>"$err"; then
		log "$tag: memalot failed:"
		cat "$err" >&2
		return 1
	fi
	t1=$EPOCHREALTIME
	put "$tag" wall_ms "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')"
}

# target_start SECONDS CMD...: starts CMD as the coprocess TARGET, its stdin
# a pipe we hold (the bench targets exit at its end), and waits up to SECONDS
# for each line until it says "ready"; the lines before go to
# $tmp/target.head. Sets target_pid, which cleanup stops. Fails when the
# target ends or falls silent first.
target_start() {
	local wait_s=$1 line
	shift
	coproc TARGET { exec "$@"; }
	# shellcheck disable=SC2153 # set by coproc TARGET
	target_pid=$TARGET_PID
	: >"$tmp/target.head"
	while IFS= read -r -t "$wait_s" line <&"${TARGET[0]}"; do
		[ "$line" = ready ] && return 0
		printf '%s\n' "$line" >>"$tmp/target.head"
	done
	return 1
}

# target_end: closes the target's stdin, which tells it to exit, and waits for it.
target_end() {
	local in_fd=${TARGET[1]}
	eval "exec $in_fd>&-"
	wait "$target_pid" 2>/dev/null || true
	target_pid=
}
