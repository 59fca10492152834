# SPDX-License-Identifier: MIT
# Why-scenario: a class-level registry: every Connection appends itself to
# Connection._registry. Prints "ready", then idles until stdin closes.
import gc
import sys


class Connection(object):
    _registry = []

    def __init__(self, n):
        self.n = n
        Connection._registry.append(self)


for i in range(10):
    Connection(i)

gc.collect()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
