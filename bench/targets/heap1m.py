# SPDX-License-Identifier: MIT
# Benchmark target: a heap of about 1,000,000 GC-tracked objects, and the in-process anchor.
#
# The anchor is what the same census costs from inside: gc.get_objects() plus a
# per-type count. memalot walks the same lists from outside, so its pause is
# compared with this figure.
#
# usage: heap1m.py [N]   (N: objects to build, default 1000000)
# prints "objects=...", "anchor_ms=..." (median of 5 passes), "anchor_runs=..."
# and "ready" on stdout, then waits for a line or the end of stdin and exits.
import gc
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000


class Node:
    def __init__(self, i):
        self.i = i
        self.name = "n"
        self.peer = None


class Leaf:
    def __init__(self, i):
        self.i = i
        self.tags = None


class Record:
    __slots__ = ("a", "b")  # GC-tracked but without a __dict__

    def __init__(self, a, b):
        self.a = a
        self.b = b


def build(n):
    # One round leaves 10 GC-tracked objects: a Node and its materialised
    # __dict__, a Leaf (its values stay inline on 3.11+, no dict), a
    # __slots__ Record, a dict holding the Leaf, a list holding that dict,
    # two tuples holding containers, a list holding a dict, and the tuple
    # kept in `keep`. `inner` holds only atoms, so CPython never tracks it.
    keep = []
    rounds = n // 10
    for i in range(rounds):
        node = Node(i)
        node.__dict__  # materialise the instance dict (3.11+ keeps it lazy)
        leaf = Leaf(i)
        d = {"k": i, "leaf": leaf}
        lst = [d, i]
        inner = {"x": i}
        t1 = (lst, node)  # tuples holding containers stay tracked
        t2 = (t1, leaf)
        rec = Record(t2, inner)
        holder = [inner]
        node.peer = rec
        keep.append((node, leaf, d, lst, t1, t2, rec, holder))
    return keep


def main():
    gc.disable()  # no collection while we build; we collect once below
    heap = build(N)
    gc.collect()
    gc.collect()
    # The anchor, five times (the first pass also warms caches): the median
    # is anchor_ms, every pass is in anchor_runs.
    runs = []
    nobj = 0
    for _ in range(5):
        t0 = time.perf_counter()
        objs = gc.get_objects()
        counts = {}
        for o in objs:
            t = type(o)
            counts[t] = counts.get(t, 0) + 1
        runs.append((time.perf_counter() - t0) * 1e3)
        nobj = len(objs)
        del objs, counts
    anchor = sorted(runs)[len(runs) // 2]
    sys.stdout.write("objects=%d\nanchor_ms=%.3f\nanchor_runs=%s\nready\n"
                     % (nobj, anchor, ",".join("%.3f" % r for r in runs)))
    sys.stdout.flush()
    gc.enable()
    sys.stdin.readline()
    del heap


if __name__ == "__main__":
    main()
