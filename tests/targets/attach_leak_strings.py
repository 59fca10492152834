# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_strings.py, leaking over time): a module-level
# list NAMES gets one more str "leaked-name-N" built at run time every 0.1 s
# (untracked by the GC: found only as a referent of NAMES), from "ready"
# until stdin closes.
import gc
import select
import sys

NAMES = []


def main():
    n = 0
    for _ in range(3):
        NAMES.append("leaked-name-%d" % n)
        n += 1
    gc.collect()
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        NAMES.append("leaked-name-%d" % n)
        n += 1


main()
