#!/bin/sh
# SPDX-License-Identifier: MIT
# memalot mcp under a real MCP client: the official TypeScript SDK (client-test.mjs) against the reports of a real monitoring run.
#
# usage: tests/mcp/run.sh [MEMALOT]     (default: $MEMALOT, else build/memalot)
#
# Installs the pinned npm packages into tests/mcp/node_modules when they are
# missing (npm ci), starts tests/targets/leaky_app.py under the newest pyenv
# CPython 3.12 (then 3.13, 3.11, 3.10, 3.9, 3.8; MEMALOT_MCP_PYTHON chooses
# another), saves a two-iteration report of it with `memalot attach`, and runs
# client-test.mjs on `memalot mcp --allow-attach` over that report directory and
# that process. Prints "mcp-client: PASS" and exits 0, or "mcp-client: FAIL: why"
# and exits 1.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
memalot=${1:-${MEMALOT:-$top/build/memalot}}
ready_timeout=${MEMALOT_READY_TIMEOUT:-60}
run_timeout=${MEMALOT_MCP_TIMEOUT:-300}

say() { echo "mcp-client: $*" >&2; }
fail() { echo "mcp-client: FAIL: $*"; exit 1; }

# shellcheck source=tests/lib/python.sh
. "$top/tests/lib/python.sh"

[ -x "$memalot" ] || fail "no $memalot: run make first"
for tool in node npm; do
	command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (run tests/setup-deps.sh)"
done
py=$(find_python "${MEMALOT_MCP_PYTHON:-}") || fail "no CPython found: pyenv install 3.12, or run tests/setup-deps.sh"

if [ ! -f "$here/node_modules/@modelcontextprotocol/sdk/package.json" ] || [ ! -f "$here/node_modules/ajv/package.json" ]; then
	say "installing the pinned npm packages into $here/node_modules"
	(cd "$here" && npm ci --no-audit --no-fund >&2) || fail "npm ci in $here failed"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memalot-mcp.XXXXXX") || exit 1
pid=
cleanup() {
	exec 4<&-
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The target serves until killed (--forever); its "ready" line arrives on fd 4
# the moment it is written.
mkfifo "$tmp/out" || exit 1
"$py" "$top/tests/targets/leaky_app.py" --forever </dev/null >"$tmp/out" &
pid=$!
exec 4<"$tmp/out"
# shellcheck disable=SC2016 # $l is the inner shell's
ready=$(timeout "$ready_timeout" sh -c 'IFS= read -r l && printf "%s\n" "$l"' <&4)
case $ready in
"ready "*) ;;
*) fail "$py (pid $pid) printed no ready line within $ready_timeout s" ;;
esac
say "target: $py, pid $pid"

timeout -k 10 "$run_timeout" "$memalot" attach "$pid" --max-object-lifetime 1 --iterations 2 \
	--report-directory "$tmp/reports" >/dev/null 2>"$tmp/attach.err" </dev/null
rc=$?
if [ "$rc" -ne 0 ]; then
	cat "$tmp/attach.err" >&2
	fail "memalot attach $pid exited $rc"
fi

timeout -k 10 "$run_timeout" node "$here/client-test.mjs" "$memalot" "$tmp/reports" "$pid" </dev/null ||
	fail "client-test.mjs failed (its checks above)"
echo "mcp-client: PASS"
