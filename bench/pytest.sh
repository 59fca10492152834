#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The pytest plugin's cost (python/memalot/pytest_plugin.py), side by side in
# one run, with Debian's pytest on /usr/bin/python3.11 (bench/pytest_bench.py
# prints the figures):
#  - a suite of TESTS small tests (default 200) on pytest's own heap, plain and
#    with --memalot: the ratio (goal <= 3x);
#  - the same tests on a HEAP-object heap (default 100,000): the cost per
#    checked test, cleared by the in-process screen, and with
#    --memalot-no-screen (every test watched by the engine; goal <= 0.3 s);
#  - 20 tests that keep objects on every call (the engine watches each).
#
# usage: bench/pytest.sh [TESTS] [HEAP] [MEMALOT]   (default 200 100000 build/memalot)
set -euo pipefail

cd "$(dirname "$0")/.."
memalot=${3:-build/memalot}
py=/usr/bin/python3.11
[ -x "$memalot" ] || { echo "bench/pytest.sh: no $memalot: make first" >&2; exit 1; }
"$py" -c 'import pytest' 2>/dev/null || { echo "bench/pytest.sh: $py has no pytest (make setup-deps)" >&2; exit 1; }
grep -H AnonHugePages /proc/meminfo || true
exec "$py" bench/pytest_bench.py "${1:-200}" "${2:-100000}" "$memalot"
