# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_lru_cache.py, leaking over time): an unbounded
# functools.lru_cache keeps the LeakedResult its function returns; called
# with a new argument every 0.1 s, from "ready" until stdin closes.
import functools
import gc
import select
import sys


class LeakedResult(object):
    def __init__(self, i):
        self.i = i


@functools.lru_cache(maxsize=None)
def compute(i):
    return LeakedResult(i)


def main():
    n = 0
    for _ in range(3):
        compute(n)
        n += 1
    gc.collect()
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        compute(n)
        n += 1


main()
