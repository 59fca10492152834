# SPDX-License-Identifier: MIT
# A target with a known heap: 12,345 instances of a uniquely named class and
# 777 dicts held in a list. It prints its own gc.get_objects() counts for
# those types on a "ready" line, then idles until its stdin closes.
import gc
import sys


class MemalotCensusMarker(object):
    pass


markers = [MemalotCensusMarker() for _ in range(12345)]
# dicts holding a container stay tracked by the GC (dicts of atoms may not be)
dicts = [{"i": [i]} for i in range(777)]


def count():
    n_marker = n_dict = 0
    for o in gc.get_objects():
        t = type(o)
        if t is MemalotCensusMarker:
            n_marker += 1
        elif t is dict:
            n_dict += 1
    return n_marker, n_dict


gc.collect()
count()  # warm up: anything count() allocates once is allocated now
n_marker, n_dict = count()
sys.stdout.write("ready %d %s.MemalotCensusMarker=%d builtins.dict=%d\n"
                 % (len(sys.argv), __name__, n_marker, n_dict))
sys.stdout.flush()
sys.stdin.readline()
