# SPDX-License-Identifier: MIT
# Shared set-up of the bench scripts (sourced): a temporary directory, a
# target process that is always stopped on exit, and logging.
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
