# SPDX-License-Identifier: MIT
# For `memalot run`: says "ready", reads stdin to its end, then ends as
# argv says: "exit N" (status N), "term" (killed by SIGTERM), "leak" (exit 0
# after leaking an object every 0.05 s into LEAKS meanwhile), "cache" (exit 0,
# a cache filled before "ready" and churn meanwhile: no leak), or "print N"
# (N bytes of every byte value on stdout, then exit 0). Ctrl-C (SIGINT) at any
# time: "interrupted" and status 3.
import os
import select
import signal
import sys

LEAKS = []
CACHE = {}


class RunLeak(object):
    pass


def main():
    what = sys.argv[1]
    if what == "print":
        n = int(sys.argv[2])
        block = bytes(range(256)) * 4096
        out = sys.stdout.buffer
        while n > 0:
            out.write(block[:n])
            n -= len(block)
        out.flush()
        return 0
    if what == "cache":
        for i in range(1000):
            CACHE[i] = str(i) * 3
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.05)[0]:
        if what == "leak":
            LEAKS.append(RunLeak())
        elif what == "cache":
            junk = [CACHE[i % 1000] for i in range(100)]
            del junk
    sys.stdin.read()
    if what == "term":
        os.kill(os.getpid(), signal.SIGTERM)
    if what == "exit":
        return int(sys.argv[2])
    return 0


try:
    sys.exit(main())
except KeyboardInterrupt:
    # Ctrl-C: said, and a status of its own, so that a test sees it came
    sys.stdout.write("interrupted\n")
    sys.stdout.flush()
    sys.exit(3)
