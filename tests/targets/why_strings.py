# SPDX-License-Identifier: MIT
# Why-scenario: a module-level list NAMES of 100 str objects built at run time
# (untracked by the GC: found only as referents of NAMES). Prints "ready ID"
# with id(NAMES[7]), then idles until stdin closes.
import gc
import sys

NAMES = []
for i in range(100):
    NAMES.append("leaked-name-%d" % i)

gc.collect()
sys.stdout.write("ready %d\n" % id(NAMES[7]))
sys.stdout.flush()
sys.stdin.readline()
