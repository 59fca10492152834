# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_slots.py, leaking over time): every 0.1 s one more
# LeakedSlotHolder (a __slots__ class) holding a LeakedSlotted in its slot
# "item" is appended to the module-level list HOLDERS; from "ready" until
# stdin closes.
import gc
import select
import sys


class LeakedSlotHolder(object):
    __slots__ = ("item",)


class LeakedSlotted(object):
    def __init__(self):
        self.payload = list(range(10))


HOLDERS = []


def leak():
    holder = LeakedSlotHolder()
    holder.item = LeakedSlotted()
    HOLDERS.append(holder)


def main():
    for _ in range(3):
        leak()
    gc.collect()
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        leak()


main()
