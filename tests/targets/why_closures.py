# SPDX-License-Identifier: MIT
# Why-scenario: a module-level list HANDLERS of closures, each capturing a
# LeakedBigObject. Prints "ready", then idles until stdin closes.
import gc
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


for i in range(10):
    HANDLERS.append(make_handler(LeakedBigObject(i)))

gc.collect()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
