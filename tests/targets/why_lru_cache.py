# SPDX-License-Identifier: MIT
# Why-scenario: an unbounded functools.lru_cache holding the LeakedResult
# objects its function returned. Prints "ready", then idles until stdin closes.
import functools
import gc
import sys


class LeakedResult(object):
    def __init__(self, i):
        self.i = i


@functools.lru_cache(maxsize=None)
def compute(i):
    return LeakedResult(i)


for i in range(3):
    compute(i)

gc.collect()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
