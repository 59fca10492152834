#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Python package (python/memalot) on the engine: a monitored call on a
# 100,000-object heap leaking 10 objects a call, beside the same call
# unmonitored; a monitored call that leaks nothing; and the time-based API's
# first report. Figures printed by bench/pyapi.py.
#
# usage: bench/pyapi.sh [HEAP] [CALLS] [MEMALOT]   (default 100000 objects, 20 calls, build/memalot)
# environment: BENCH_PYTHON (default pyenv 3.12, else /usr/bin/python3.11)
set -euo pipefail

cd "$(dirname "$0")/.."
heap=${1:-100000}
calls=${2:-20}
memalot=${3:-build/memalot}
# shellcheck source=tests/lib/python.sh
. tests/lib/python.sh
py=$(find_python "${BENCH_PYTHON:-}")
[ -x "$memalot" ] || { echo "bench/pyapi.sh: no $memalot: make first" >&2; exit 1; }
echo "python: $py ($("$py" -c 'import platform; print(platform.python_version())'))"
grep -H AnonHugePages /proc/meminfo || true
PYTHONPATH=python MEMALOT_BIN=$memalot "$py" bench/pyapi.py "$heap" "$calls"
