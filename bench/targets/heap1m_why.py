# SPDX-License-Identifier: MIT
# Benchmark target for `memalot snapshot --why`: heap1m.py's 1,000,000-object
# heap, held by a module global, and the in-process anchor of a referrer search.
#
# The heap is heap1m.py's (same rounds, same ten GC-tracked objects a round),
# but kept in the module global HEAP, so that every Node has a chain of three
# referrers up to a global: Node <- the round's tuple <- the HEAP list <- this
# module's __dict__ (HEAP). memalot --why Node finds that chain from outside;
# the anchor is what finding it costs from inside, the way an in-process tool
# does it: one gc.get_referrers() call per level (each a pass over every
# tracked object), three levels up to the module global.
#
# usage: heap1m_why.py [N] [--why-anchor]   (N: objects to build, default 1000000)
# prints "objects=...", with --why-anchor also "anchor_referrers_ms=..." (one
# gc.get_referrers() of a Node, median of 3), "anchor_chain_ms=..." (the
# three-level climb, median of 3), "anchor_chain_runs=..." and
# "anchor_chain_levels=..." (each level of the median climb), then "ready" on
# stdout; waits for a line or the end of stdin and exits.
import gc
import sys
import time

N = 1_000_000
WHY_ANCHOR = False
for arg in sys.argv[1:]:
    if arg == "--why-anchor":
        WHY_ANCHOR = True
    else:
        N = int(arg)

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
    # as heap1m.py: ten GC-tracked objects a round
    keep = []
    rounds = n // 10
    for i in range(rounds):
        node = Node(i)
        node.__dict__  # materialise the instance dict (3.11+ keeps it lazy)
        leaf = Leaf(i)
        d = {"k": i, "leaf": leaf}
        lst = [d, i]
        inner = {"x": i}
        t1 = (lst, node)
        t2 = (t1, leaf)
        rec = Record(t2, inner)
        holder = [inner]
        node.peer = rec
        keep.append((node, leaf, d, lst, t1, t2, rec, holder))
    return keep


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


def anchor():
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
        raise SystemExit("heap1m_why: the climb did not reach the module global in 3 levels")
    return sorted(one)[1], totals, chains[med]


def main():
    global HEAP
    gc.disable()  # no collection while we build; we collect once below
    HEAP = build(N)
    gc.collect()
    gc.collect()
    lines = ["objects=%d" % len(gc.get_objects())]
    if WHY_ANCHOR:
        one, totals, levels = anchor()
        lines += ["anchor_referrers_ms=%.3f" % one,
                  "anchor_chain_ms=%.3f" % sorted(totals)[1],
                  "anchor_chain_runs=%s" % ",".join("%.3f" % t for t in totals),
                  "anchor_chain_levels=%s" % ",".join("%.3f" % t for t in levels)]
    sys.stdout.write("\n".join(lines) + "\nready\n")
    sys.stdout.flush()
    gc.enable()
    sys.stdin.readline()


if __name__ == "__main__":
    main()
