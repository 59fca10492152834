#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every Criterion test binary in BUILD/tests and print one "N passed, N failed" line.
#
# usage: tests/run-tests.sh [BUILD]          (default: build)
#
# A test binary that runs no test at all (every one skipped: an interpreter or a
# tool missing) fails the run unless MEMALOT_ALLOW_SKIP=1.
#
# Builds the sid chroot first (tests/setup-sid-root.sh) unless MEMALOT_SKIP_SID=1.
# Exports MEMALOT, MEMALOT_SRCDIR and MEMALOT_SID_ROOT for the test harness.
# Extra Criterion options can be given in CRITERION_OPTS (e.g. "--filter census/pyenv*").
#
# Then four steps, each skipped when its variable is 1:
#   valgrind  tests/valgrind-snapshot.sh: one test              MEMALOT_SKIP_VALGRIND
#   mcp       tests/mcp/run.sh, memalot mcp under the official MCP TypeScript SDK
#             client (node, npm): one test                        MEMALOT_SKIP_MCP
#   asan      `make SANITIZE=address,undefined BUILD=build-asan all tests`, then
#             MEMALOT_ASAN_TESTS (default: census, layout, faults, attach_faults, options, walk, refs,
#             refs_image, store, reports, mcp) from there
#             against build-asan/memalot; a sanitizer report fails it  MEMALOT_SKIP_ASAN
#   fuzz      `make fuzz`, then fuzz_walk, fuzz_graph, fuzz_store, fuzz_mcp, fuzz_control and
#             fuzz_native for a sixth of FUZZ_SECONDS (default 60) each on temporary copies of
#             their seeds (fuzz/corpus, corpus-graph, corpus-store, corpus-mcp, corpus-control,
#             corpus-native): one test                                         MEMALOT_SKIP_FUZZ
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build=${1:-build}
build_arg=$build
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
make=${MAKE:-make}
# Sub-makes build in parallel: with the -jN of `make -jN test` if given, else
# one job per CPU. This script is not a recursive rule, so the parent's
# jobserver pipe is not ours to use: drop it from MAKEFLAGS.
if [ -n "${MAKEFLAGS:-}" ]; then
	MAKEFLAGS=$(printf '%s\n' "$MAKEFLAGS" | sed 's/ *--jobserver-[a-z]*=[^ ]*//g')
	export MAKEFLAGS
fi
jflag=-j$(nproc 2>/dev/null || echo 1)
case " ${MAKEFLAGS:-} " in *" -j"*) jflag= ;; esac

# run_bin BIN LABEL SANCHECK: run one Criterion binary and add its synthesis line
# to the counts; with SANCHECK=1 a sanitizer report in its output is a failure
# even when every test passed (LeakSanitizer reports after the result is sent).
run_bin() {
	bin=$1 label=$2 sancheck=$3
	jobs=
	# integration tests ptrace real processes: one at a time
	[ -f "tests/integration/${bin##*/}.c" ] && jobs=--jobs=1
	echo "== $label" >&2
	t0=$(date +%s)
	# shellcheck disable=SC2086 # option words
	{ "$bin" --verbose $jobs ${CRITERION_OPTS:-} 2>&1; echo $? >"$tmp/rc"; } | tee "$tmp/out"
	rc=$(cat "$tmp/rc")
	echo "$(($(date +%s) - t0)) $label" >>"$tmp/times"
	sed "s/$esc\[[0-9;]*m//g" "$tmp/out" >"$tmp/plain"
	syn=$(sed -n 's/.*Synthesis: Tested: *\([0-9]*\) *| *Passing: *\([0-9]*\) *| *Failing: *\([0-9]*\).*/\1 \2 \3/p' \
		"$tmp/plain" | tail -n 1)
	nskip=$(grep "^\[SKIP\]" "$tmp/plain" | grep -vc "Test is disabled$")
	skipped=$((skipped + nskip))
	if [ -z "$syn" ]; then
		say "$label ended (status $rc) without a Criterion synthesis line: counted as one failure"
		failed=$((failed + 1))
		bad_bins="$bad_bins $label"
		return
	fi
	set -- $syn
	passed=$(($passed + $2))
	failed=$(($failed + $3))
	if [ "$1" -eq 0 ] && [ "${MEMALOT_ALLOW_SKIP:-0}" != 1 ]; then
		say "$label ran no test ($nskip skipped, reasons above): counted as one failure" \
			"(MEMALOT_ALLOW_SKIP=1 allows it)"
		failed=$((failed + 1))
		bad_bins="$bad_bins $label"
	elif [ "$rc" -ne 0 ] && [ "$3" -eq 0 ]; then
		say "$label exited $rc with no failing test: counted as one failure"
		failed=$((failed + 1))
	elif [ "$sancheck" = 1 ] && [ "$3" -eq 0 ] &&
		grep -q -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' -e 'runtime error:' "$tmp/plain"; then
		say "$label: a sanitizer report with no failing test: counted as one failure"
		failed=$((failed + 1))
		rc=1
	fi
	if [ "$rc" -ne 0 ]; then
		bad_bins="$bad_bins $label"
		keep_failure "$label" "$tmp/plain"
	fi
}

# keep_failure LABEL FILE: the lines of FILE that say what failed, kept for the
# end of the run, where CI logs that show only their tail still show them
keep_failure() {
	{
		echo "--- $1"
		# each failed test's own lines (from its [RUN ] to its [FAIL]), at most
		# the last 40 of them, then any sanitizer report
		awk '/^\[RUN \]/ { n = 0 }
			{ buf[n++ % 40] = $0 }
			/^\[FAIL\]|CRASH/ { for (i = (n > 40 ? n - 40 : 0); i < n; i++) print buf[i % 40]; n = 0 }' "$2"
		grep -E -A20 -e 'ERROR: (Address|Leak)Sanitizer' -e 'runtime error:' "$2" | head -n 60
	} >>"$tmp/failures"
}

# step NAME VAR COMMAND...: a step outside Criterion, counted as one test;
# skipped (and counted so) when $VAR is 1
step() {
	name=$1 var=$2
	shift 2
	echo "== $name" >&2
	t0=$(date +%s)
	if [ "$(eval "echo \${$var:-0}")" = 1 ]; then
		say "$name: skipped ($var=1)"
		skipped=$((skipped + 1))
	elif "$@"; then
		passed=$((passed + 1))
	else
		say "$name: failed"
		failed=$((failed + 1))
		bad_bins="$bad_bins $name"
	fi
	echo "$(($(date +%s) - t0)) $name" >>"$tmp/times"
}

for bin in "$build"/tests/test_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	case ${bin##*/} in *.o|*.d) continue ;; esac
	nbins=$((nbins + 1))
	run_bin "$bin" "${bin##*/}" 0
done

# The attach path under valgrind: memory errors and definite leaks fail it.
step valgrind MEMALOT_SKIP_VALGRIND sh tests/valgrind-snapshot.sh "$MEMALOT"

# memalot mcp driven by a real MCP client over the reports of a real monitoring run.
step mcp MEMALOT_SKIP_MCP sh tests/mcp/run.sh "$MEMALOT"

# The same sources built with ASan and UBSan; the integration tests drive the
# sanitized memalot, the unit tests run the sanitized library in-process.
asan_build=${MEMALOT_ASAN_BUILD:-build-asan}
echo "== asan ($asan_build)" >&2
if [ "${MEMALOT_SKIP_ASAN:-0}" = 1 ]; then
	say "asan: skipped (MEMALOT_SKIP_ASAN=1)"
	skipped=$((skipped + 1))
elif t0=$(date +%s) && ! "$make" --no-print-directory ${jflag:+"$jflag"} SANITIZE=address,undefined BUILD="$asan_build" all tests; then
	say "asan: make SANITIZE=address,undefined BUILD=$asan_build all tests failed: counted as one failure"
	failed=$((failed + 1))
	bad_bins="$bad_bins asan-build"
else
	echo "$(($(date +%s) - t0)) asan-build" >>"$tmp/times"
	case $asan_build in /*) ;; *) asan_build=$top/$asan_build ;; esac
	# UBSan stops at the first report (-fno-sanitize-recover), with its stack
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
	export UBSAN_OPTIONS
	MEMALOT=$asan_build/memalot
	for t in ${MEMALOT_ASAN_TESTS:-test_census test_layout test_faults test_attach_faults test_native test_options test_walk test_refs test_refs_image test_store test_reports test_mcp}; do
		if [ -x "$asan_build/tests/$t" ]; then
			run_bin "$asan_build/tests/$t" "asan/$t" 1
		else
			say "asan: no $asan_build/tests/$t: counted as one failure"
			failed=$((failed + 1))
			bad_bins="$bad_bins asan/$t"
		fi
	done
	MEMALOT=$build/memalot
fi

# fuzz_walk, fuzz_graph, fuzz_store, fuzz_mcp, fuzz_control and fuzz_native (libFuzzer, ASan, UBSan) for a sixth of FUZZ_SECONDS each
# on a copy of their seeds, with the options of `make fuzz-run` (fuzz/fuzz.mk);
# crashes, leaks and timeouts fail it and leave their input in BUILD/fuzz/artifacts/.
fuzz_one() { # target, seed directory, dictionary, seconds
	mkdir -p "$tmp/$1-corpus" && cp "$2"/* "$tmp/$1-corpus/" || return 1
	say "fuzz: $1 for $4 s (log in $build/fuzz/$1-last-run.log)"
	timeout -k 10 $(($4 + 300)) "$build/fuzz/$1" -max_total_time="$4" -timeout=5 \
		-rss_limit_mb=2048 -max_len="${FUZZ_MAX_LEN:-16384}" -dict="$3" -print_final_stats=1 \
		-artifact_prefix="$build/fuzz/artifacts/" "$tmp/$1-corpus" >"$build/fuzz/$1-last-run.log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 80 "$build/fuzz/$1-last-run.log" >&2
		say "fuzz: $1 exited $rc (the log above; crash, leak and timeout inputs go to $build/fuzz/artifacts/)"
		return 1
	fi
	grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+[[:space:]]+DONE' \
		"$build/fuzz/$1-last-run.log" | sed "s/^/fuzz: $1: /" >&2
	return 0
}

fuzz_step() {
	fuzz_secs=${FUZZ_SECONDS:-60}
	quarter=$(((fuzz_secs + 5) / 6)) # a sixth each: six targets
	"$make" --no-print-directory ${jflag:+"$jflag"} BUILD="$build_arg" fuzz || {
		say "fuzz: make fuzz failed (clang and libclang-rt-14-dev: run tests/setup-deps.sh)"
		return 1
	}
	mkdir -p "$build/fuzz/artifacts" || return 1
	fuzz_ok=0
	fuzz_one fuzz_walk fuzz/corpus fuzz/walk.dict "$quarter" || fuzz_ok=1
	fuzz_one fuzz_graph fuzz/corpus-graph fuzz/graph.dict "$quarter" || fuzz_ok=1
	fuzz_one fuzz_store fuzz/corpus-store fuzz/store.dict "$quarter" || fuzz_ok=1
	fuzz_one fuzz_mcp fuzz/corpus-mcp fuzz/mcp.dict "$quarter" || fuzz_ok=1
	fuzz_one fuzz_control fuzz/corpus-control fuzz/control.dict "$quarter" || fuzz_ok=1
	fuzz_one fuzz_native fuzz/corpus-native fuzz/native.dict "$quarter" || fuzz_ok=1
	return $fuzz_ok
}
step fuzz MEMALOT_SKIP_FUZZ fuzz_step

[ "$nbins" -gt 0 ] || { say "no test binaries in $build/tests"; failed=$((failed + 1)); }
# where the time went: the slowest steps (the whole run must stay well under CI's limit)
if [ -s "$tmp/times" ]; then
	say "seconds, slowest first: $(sort -rn "$tmp/times" | head -n 8 | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')" \
		"; all $(awk '{ s += $1 } END { print s }' "$tmp/times") s"
fi
if [ -s "$tmp/failures" ]; then
	say "what the failing tests printed (their whole output is above):"
	cat "$tmp/failures" >&2
fi
[ -z "$bad_bins" ] || say "failed:$bad_bins"
[ "$setup_failed" -eq 0 ] || say "tests/setup-sid-root.sh failed"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$setup_failed" -eq 0 ]
