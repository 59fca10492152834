# SPDX-License-Identifier: MIT
# Benchmark target: a heap of about 1,000,000 GC-tracked objects, and the in-process anchor.
#
# The anchor is what the same census costs from inside: gc.get_objects() plus a
# per-type count. memalot walks the same lists from outside, so its pause is
# compared with this figure (bench/run.sh, bench/attach.sh).
#
# With --why-anchor (bench/why.sh) the heap is kept in the module global HEAP
# instead, so that every Node has a chain of three referrers up to a global:
# Node <- the round's tuple <- the HEAP list <- this module's __dict__ (HEAP).
# memalot --why Node finds that chain from outside; the anchor is then what
# finding it costs from inside, the way an in-process tool does it: one
# gc.get_referrers() call per level (each a pass over every tracked object),
# three levels up to the module global.
#
# usage: heap1m.py [N] [--why-anchor]   (N: objects to build, default 1000000)
# prints "objects=...", "anchor_ms=..." (median of 5 passes), "anchor_runs=..."
# and "ready" on stdout, then waits for a line or the end of stdin and exits.
# With --why-anchor it prints "objects=...", "anchor_referrers_ms=..." (one
# gc.get_referrers() of a Node, median of 3), "anchor_chain_ms=..." (the
# three-level climb, median of 3), "anchor_chain_runs=...",
# "anchor_chain_levels=..." (each level of the median climb) and "ready".
# (The mode is an option, not a second script importing this one: an import
# compiles source, which creates some 600 objects of the parser's own.)
import gc
import sys
import time

HEAP = None


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


def census(n):
    gc.disable()  # no collection while we build; we collect once below
    heap = build(n)
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


def climb(start, module_dict):
    """Referrers up from start until a dict that is module_dict: the times of each level (ms)."""
    levels = []
    cur = start
    for _ in range(3):
        t0 = time.perf_counter()
        refs = gc.get_referrers(cur)
        levels.append((time.perf_counter() - t0) * 1e3)
        nxt = None
        for r in refs:
            if r is module_dict:
                nxt = r
                break
            # the next link of the chain: the round's tuple, then the HEAP list
            if (type(r) is tuple and len(r) == 8 and r[0] is cur) or r is HEAP:
                nxt = r
        del refs
        if nxt is None or nxt is module_dict:
            break
        cur = nxt
    return levels


def referrers_anchor():
    node = HEAP[len(HEAP) // 2][0]
    one = []
    for _ in range(3):
        t0 = time.perf_counter()
        refs = gc.get_referrers(node)
        one.append((time.perf_counter() - t0) * 1e3)
        del refs
    chains = [climb(node, globals()) for _ in range(3)]
    totals = [sum(c) for c in chains]
    med = sorted(range(3), key=lambda k: totals[k])[1]
    if len(chains[med]) != 3:
        raise SystemExit("heap1m: the climb did not reach the module global in 3 levels")
    return sorted(one)[1], totals, chains[med]


def why(n):
    global HEAP
    gc.disable()  # no collection while we build; we collect once below
    HEAP = build(n)
    gc.collect()
    gc.collect()
    lines = ["objects=%d" % len(gc.get_objects())]
    one, totals, levels = referrers_anchor()
    lines += ["anchor_referrers_ms=%.3f" % one,
              "anchor_chain_ms=%.3f" % sorted(totals)[1],
              "anchor_chain_runs=%s" % ",".join("%.3f" % t for t in totals),
              "anchor_chain_levels=%s" % ",".join("%.3f" % t for t in levels)]
    sys.stdout.write("\n".join(lines) + "\nready\n")
    sys.stdout.flush()
    gc.enable()
    sys.stdin.readline()


def main():
    n = 1_000_000
    mode = census
    for arg in sys.argv[1:]:
        if arg == "--why-anchor":
            mode = why
        else:
            n = int(arg)
    mode(n)


if __name__ == "__main__":
    main()
