# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_cycle_del.py, leaking over time): with gc.disable()
# on, every 0.1 s one more cycle of two LeakedCycle objects with __del__ whose
# outside references are dropped: unreachable, never collected. From "ready"
# until stdin closes. The loop itself makes no other cyclic garbage.
import gc
import select
import sys


class LeakedCycle(object):
    def __init__(self, n):
        self.n = n
        self.other = None

    def __del__(self):
        pass


def make_cycle(n):
    a = LeakedCycle(n)
    b = LeakedCycle(n + 1)
    a.other = b
    b.other = a


def main():
    n = 0
    gc.collect()
    gc.disable()
    # no gc.collect() from here on: an explicit collection would free the
    # cycles even with the collector disabled (PEP 442)
    for _ in range(3):
        make_cycle(n)
        n += 2
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        make_cycle(n)
        n += 2


main()
