#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's first command: start a leaking sample program, and take two
# snapshots of it a few seconds apart with memalot (the Session count grows).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3)}
fifo=$(mktemp -u /tmp/memalot-demo.XXXXXX)
mkfifo "$fifo"
# the sample runs until the trap below kills it
"$PY" tests/targets/leaky_app.py --forever < /dev/null > "$fifo" &
read -r ready pid < "$fifo"
trap 'kill $pid 2>/dev/null || true; rm -f "$fifo"' EXIT INT TERM
echo "== sample leaking program started: pid $pid"
./build/memalot snapshot --top 8 "$pid"
echo
echo "== a few seconds later"
i=0; while [ $i -lt 3 ]; do sleep 1; i=$((i + 1)); done
./build/memalot snapshot --top 8 "$pid"
