# SPDX-License-Identifier: MIT
# Why-scenario: with gc.disable() on, a cycle of two LeakedCycle objects with
# __del__ whose last outside references are dropped: unreachable, but never
# collected. Prints "ready", then idles until stdin closes.
import gc
import sys


class LeakedCycle(object):
    def __init__(self, n):
        self.n = n
        self.other = None

    def __del__(self):
        pass


gc.collect()
gc.disable()


def make_cycle():
    a = LeakedCycle(1)
    b = LeakedCycle(2)
    a.other = b
    b.other = a


make_cycle()
# no gc.collect() here: an explicit collection would free the cycle even with
# the collector disabled (PEP 442)
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
