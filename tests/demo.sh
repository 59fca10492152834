#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's first command: start a leaking sample program, take two
# snapshots of it a few seconds apart with memalot (the Session count grows),
# then let `memalot attach` find the leak and say who holds it, and list the
# report it saved (in ~/.memalot/reports, or $MEMALOT_REPORT_DIRECTORY).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3)}
fifo=$(mktemp -u /tmp/memalot-demo.XXXXXX)
mkfifo "$fifo"
# the sample runs until the trap below kills it
"$PY" tests/targets/leaky_app.py --forever < /dev/null > "$fifo" &
read -r _ pid < "$fifo"
trap 'kill $pid 2>/dev/null || true; rm -f "$fifo"' EXIT INT TERM
echo "== sample leaking program started: pid $pid"
./build/memalot snapshot --top 8 "$pid"
echo
echo "== a few seconds later"
i=0; while [ $i -lt 3 ]; do sleep 1; i=$((i + 1)); done
./build/memalot snapshot --top 8 "$pid"
echo
echo "== memalot attach: objects that outlive a lifetime of 1 s, and who holds them"
./build/memalot attach "$pid" --max-object-lifetime 1 --iterations 2 --max-object-details 2
echo
echo "== the saved report (memalot print ID shows it again)"
./build/memalot list --num-reports 1
