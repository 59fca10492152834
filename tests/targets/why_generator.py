# SPDX-License-Identifier: MIT
# Why-scenario: a suspended generator (module global G) whose frame holds a
# list of LeakedHeld objects in its local variable "items". Prints "ready",
# then idles until stdin closes.
import gc
import sys


class LeakedHeld(object):
    pass


def producer():
    items = [LeakedHeld() for _ in range(3)]
    while True:
        yield len(items)


G = producer()
next(G)
gc.collect()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
