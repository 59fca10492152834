# SPDX-License-Identifier: MIT
# A target with a large heap, so that a snapshot of it takes a while: N
# (default 2,000,000) one-element lists, all tracked by the GC. It prints
# "ready N" when they are built, answers each line on stdin with "alive N",
# and exits when its stdin closes.
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000000
objs = [[i] for i in range(n)]
sys.stdout.write("ready %d\n" % n)
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write("alive %d\n" % len(objs))
    sys.stdout.flush()
