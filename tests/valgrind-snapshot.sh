#!/bin/sh
# SPDX-License-Identifier: MIT
# Run `memalot snapshot` under valgrind against tests/targets/census.py: the attach path must be free of memory errors and definite leaks.
#
# usage: tests/valgrind-snapshot.sh [MEMALOT]     (default: $MEMALOT, else build/memalot)
#
# The interpreter is the newest pyenv CPython 3.12 (then 3.13, 3.11, 3.10, 3.9, 3.8),
# found as tests/lib/harness.c finds it, else /usr/bin/python3.11; set
# MEMALOT_VALGRIND_PYTHON to choose another. Exits 0 when memalot exited 0 under
# valgrind and counted the target's 12345 markers, 1 otherwise.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
memalot=${1:-${MEMALOT:-$top/build/memalot}}
ready_timeout=${MEMALOT_READY_TIMEOUT:-60}
run_timeout=${MEMALOT_VALGRIND_TIMEOUT:-600}
marker=__main__.MemalotCensusMarker
want=12345

say() { echo "valgrind-snapshot: $*" >&2; }
fail() { say "$*"; exit 1; }

# shellcheck source=tests/lib/python.sh
. "$top/tests/lib/python.sh"

[ -x "$memalot" ] || fail "no $memalot: run make first"
command -v valgrind >/dev/null 2>&1 || fail "valgrind is not installed (run tests/setup-deps.sh)"
py=$(find_python "${MEMALOT_VALGRIND_PYTHON:-}") || fail "no CPython found: pyenv install 3.12, or run tests/setup-deps.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memalot-valgrind.XXXXXX") || exit 1
pid=
cleanup() {
	exec 3>&- 4<&-
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The target's stdin and stdout are FIFOs: closing fd 3 tells it to exit, and its
# "ready" line arrives on fd 4 the moment it is written.
mkfifo "$tmp/in" "$tmp/out" || exit 1
"$py" "$top/tests/targets/census.py" <"$tmp/in" >"$tmp/out" &
pid=$!
exec 3>"$tmp/in" 4<"$tmp/out"
# read(1) takes one byte at a time from a pipe, so nothing past the line is lost
# shellcheck disable=SC2016 # $l is the inner shell's
ready=$(timeout "$ready_timeout" sh -c 'IFS= read -r l && printf "%s\n" "$l"' <&4)
rc=$?
case $ready in
"ready "*" $marker=$want "*) ;;
"") [ "$rc" -eq 124 ] && fail "$py (pid $pid) printed no ready line within $ready_timeout s"
	fail "$py (pid $pid) closed its stdout without a ready line" ;;
*) fail "unexpected ready line from $py: '$ready'" ;;
esac
say "target: $py, pid $pid: $ready"

timeout -k 10 "$run_timeout" valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	"$memalot" snapshot "$pid" --json >"$tmp/snap.json" 2>"$tmp/valgrind.log" </dev/null
rc=$?

state=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$pid/stat" 2>/dev/null)
case $rc in
0) ;;
99) cat "$tmp/valgrind.log" >&2; fail "valgrind found memory errors or definite leaks in memalot" ;;
124 | 137) cat "$tmp/valgrind.log" >&2; fail "memalot under valgrind timed out after $run_timeout s" ;;
*) cat "$tmp/valgrind.log" >&2; fail "memalot under valgrind exited $rc" ;;
esac
case $state in
t | T | Z | X | '') cat "$tmp/valgrind.log" >&2; fail "pid $pid is in state '${state:--}' after memalot" ;;
esac

# the count the harness takes: summed over the generations except "permanent"
got=$("$py" - "$tmp/snap.json" "$marker" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    snap = json.load(f)
n = 0
for t in snap.get("types", []):
    if t.get("type") == sys.argv[2]:
        n = sum(v for g, v in t["generations"].items() if g != "permanent")
print("%d %s %s" % (n, snap.get("pid"), snap.get("partial")))
EOF
) || { cat "$tmp/valgrind.log" >&2; head -c 400 "$tmp/snap.json" >&2; fail "memalot printed no valid JSON"; }
# shellcheck disable=SC2086 # three words
set -- $got
[ "$2" = "$pid" ] || fail "the snapshot is of pid $2, not $pid"
[ "$3" = False ] || fail "the snapshot is partial"
[ "$1" = "$want" ] || fail "memalot counted $1 $marker under valgrind, the target $want"

# memalot attach for one iteration, saving its report, then memalot print of it
vg() { # log, command...
	log=$1
	shift
	timeout -k 10 "$run_timeout" valgrind --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite "$@" 2>"$log" </dev/null
	rc=$?
	case $rc in
	0) ;;
	99) cat "$log" >&2; fail "valgrind found memory errors or definite leaks in: $*" ;;
	*) cat "$log" >&2; fail "exit $rc under valgrind: $*" ;;
	esac
}
vg "$tmp/attach.log" "$memalot" attach "$pid" --max-object-lifetime 1 --iterations 2 \
	--report-directory "$tmp/reports" --max-object-details 3 >"$tmp/attach.txt"
id=
for d in "$tmp/reports"/memalot_report_*; do
	[ -d "$d" ] && id=${d##*/memalot_report_}
done
[ -n "$id" ] || fail "memalot attach saved no report"
vg "$tmp/print.log" "$memalot" print "$id" --num-iterations 0 --report-directory "$tmp/reports" >"$tmp/print.txt"
cmp -s "$tmp/attach.txt" "$tmp/print.txt" || fail "memalot print differs from what memalot attach printed"
state=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$pid/stat" 2>/dev/null)
case $state in
t | T | Z | X | '') fail "pid $pid is in state '${state:--}' after memalot attach" ;;
esac
say "ok: memalot attach and memalot print, no valgrind errors"

# tell the target to exit; it is running (checked above), so it reads EOF at once
exec 3>&-
wait "$pid"
st=$?
pid=
[ "$st" -eq 0 ] || fail "the target exited $st after the snapshot"
grep -E "ERROR SUMMARY|definitely lost|in use at exit" "$tmp/valgrind.log" | sed 's/^==[0-9]*== /valgrind-snapshot: /' >&2
say "ok: $1 $marker, no valgrind errors"
