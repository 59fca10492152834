# SPDX-License-Identifier: MIT
# Per-window reports: a Marker is kept in a module-level list five times a
# second, forever, so every window after the warm-up has new leaks and none
# is ever freed. Prints "ready", runs until killed (the test stops it).
import sys
import time

_KEPT = []


class Marker(object):
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


sys.stdout.write("ready\n")
sys.stdout.flush()
n = 0
while True:
    _KEPT.append(Marker(n))
    n += 1
    time.sleep(0.2)
