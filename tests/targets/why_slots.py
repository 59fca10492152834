# SPDX-License-Identifier: MIT
# Why-scenario: a LeakedSlotted object held in a __slots__ member of the
# module global HOLDER. Prints "ready", then idles until stdin closes.
import gc
import sys


class LeakedSlotHolder(object):
    __slots__ = ("item",)


class LeakedSlotted(object):
    def __init__(self):
        self.payload = list(range(10))


HOLDER = LeakedSlotHolder()
HOLDER.item = LeakedSlotted()

gc.collect()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
