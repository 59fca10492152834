# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_closures.py, leaking over time): a module-level
# list HANDLERS of closures, each capturing a LeakedBigObject; one more
# closure every 0.1 s, from "ready" until stdin closes.
import gc
import select
import sys


class LeakedBigObject(object):
    def __init__(self, n):
        self.n = n
        self.data = bytearray(4096)


HANDLERS = []


def make_handler(big):
    def handler():
        return big.n

    return handler


def main():
    n = 0
    for _ in range(3):
        HANDLERS.append(make_handler(LeakedBigObject(n)))
        n += 1
    gc.collect()
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        HANDLERS.append(make_handler(LeakedBigObject(n)))
        n += 1


main()
