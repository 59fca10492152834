#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every Criterion test binary in BUILD/tests and print one "N passed, N failed" line.
#
# usage: tests/run-tests.sh [BUILD]          (default: build)
#
# Builds the sid chroot first (tests/setup-sid-root.sh) unless MEMALOT_SKIP_SID=1.
# Exports MEMALOT, MEMALOT_SRCDIR and MEMALOT_SID_ROOT for the test harness.
# Extra Criterion options can be given in CRITERION_OPTS (e.g. "--filter census/pyenv*").
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build=${1:-build}
case $build in
/*) ;;
*) build=$top/$build ;;
esac

MEMALOT=$build/memalot
MEMALOT_SRCDIR=$top
MEMALOT_SID_ROOT=${MEMALOT_SID_ROOT:-$top/.cache/sid-root}
export MEMALOT MEMALOT_SRCDIR MEMALOT_SID_ROOT

say() { echo "run-tests: $*" >&2; }

[ -x "$MEMALOT" ] || { say "no $MEMALOT: run make first"; exit 1; }

setup_failed=0
if [ "${MEMALOT_SKIP_SID:-0}" != 1 ]; then
	if ! sh tests/setup-sid-root.sh "$MEMALOT_SID_ROOT"; then
		say "the sid chroot could not be built; its tests will be skipped and the run fails"
		setup_failed=1
	fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memalot-tests.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
esc=$(printf '\033')

passed=0 failed=0 skipped=0 nbins=0 bad_bins=
for bin in "$build"/tests/test_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=${bin##*/}
	case $name in *.o|*.d) continue ;; esac
	nbins=$((nbins + 1))
	jobs=
	# integration tests ptrace real processes: one at a time
	[ -f "tests/integration/$name.c" ] && jobs=--jobs=1
	echo "== $name" >&2
	# shellcheck disable=SC2086 # option words
	{ "$bin" --verbose $jobs ${CRITERION_OPTS:-} 2>&1; echo $? >"$tmp/rc"; } | tee "$tmp/out"
	rc=$(cat "$tmp/rc")
	sed "s/$esc\[[0-9;]*m//g" "$tmp/out" >"$tmp/plain"
	syn=$(sed -n 's/.*Synthesis: Tested: *\([0-9]*\) *| *Passing: *\([0-9]*\) *| *Failing: *\([0-9]*\).*/\1 \2 \3/p' \
		"$tmp/plain" | tail -n 1)
	nskip=$(grep "^\[SKIP\]" "$tmp/plain" | grep -vc "Test is disabled$")
	skipped=$((skipped + nskip))
	if [ -z "$syn" ]; then
		say "$name ended (status $rc) without a Criterion synthesis line: counted as one failure"
		failed=$((failed + 1))
		bad_bins="$bad_bins $name"
		continue
	fi
	set -- $syn
	passed=$(($passed + $2))
	failed=$(($failed + $3))
	if [ "$rc" -ne 0 ] && [ "$3" -eq 0 ]; then
		say "$name exited $rc with no failing test: counted as one failure"
		failed=$((failed + 1))
	fi
	[ "$rc" -ne 0 ] && bad_bins="$bad_bins $name"
done

[ "$nbins" -gt 0 ] || { say "no test binaries in $build/tests"; failed=$((failed + 1)); }
[ -z "$bad_bins" ] || say "failed:$bad_bins"
[ "$setup_failed" -eq 0 ] || say "tests/setup-sid-root.sh failed"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$setup_failed" -eq 0 ]
