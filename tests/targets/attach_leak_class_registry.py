# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_class_registry.py, leaking over time): every
# Connection appends itself to the class attribute Connection._registry; one
# more Connection every 0.1 s, from "ready" until stdin closes.
import gc
import select
import sys


class Connection(object):
    _registry = []

    def __init__(self, n):
        self.n = n
        Connection._registry.append(self)


def main():
    n = 0
    for _ in range(3):
        Connection(n)
        n += 1
    gc.collect()
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        Connection(n)
        n += 1


main()
