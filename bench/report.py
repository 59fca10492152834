# SPDX-License-Identifier: MIT
# The table bench/run.sh prints: median/min/max of every figure, one column group per interpreter.
#
# usage: report.py RESULTS.tsv [TIMER]   (lines: interpreter TAB key TAB value)
import statistics
import sys

PAUSE_GOAL_MS = 150.0
WALL_GOAL_MS = 1000.0


def load(path):
    data = {}
    order = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or not parts[2]:
                continue
            tag, key, val = parts
            if tag not in data:
                data[tag] = {}
                order.append(tag)
            data[tag].setdefault(key, []).append(float(val))
    return order, data


def derive(d):
    """Per-run ratios: each run's figure against the anchor median or the bandwidth median."""
    out = {}
    if "anchor_ms" in d:
        anchor = statistics.median(d["anchor_ms"])
        if "wall_ms" in d:
            out["wall_per_anchor"] = [w / anchor for w in d["wall_ms"]]
        if "pause_ms" in d:
            out["pause_per_anchor"] = [p / anchor for p in d["pause_ms"]]
    if "bytes_read" in d and "pause_ms" in d:
        rates = [b / (p / 1e3) / 1e9 for b, p in zip(d["bytes_read"], d["pause_ms"])]
        out["read_rate_gbps"] = rates
        if "bw_batched_gbps" in d:
            bw = statistics.median(d["bw_batched_gbps"])
            out["read_rate_per_bw"] = [r / bw * 100 for r in rates]
            out["copy_floor_ms"] = [b / (bw * 1e9) * 1e3 for b in d["bytes_read"]]
        if "bw_batched_fresh_gbps" in d:
            bw = statistics.median(d["bw_batched_fresh_gbps"])
            out["copy_floor_fresh_ms"] = [b / (bw * 1e9) * 1e3 for b in d["bytes_read"]]
    if "reads" in d and "bw_single64k_us" in d:
        us = statistics.median(d["bw_single64k_us"])
        out["syscall_floor_ms"] = [n * us / 1e3 for n in d["reads"]]
    if "bytes_read" in d:
        d["bytes_read_mib"] = [b / 2**20 for b in d["bytes_read"]]
    if "pause_ms" in d and "walk_ms" in d:
        out["pause_minus_walk_ms"] = [p - w for p, w in zip(d["pause_ms"], d["walk_ms"])]
    if "wall_ms" in d and "pause_ms" in d:
        out["wall_minus_pause_ms"] = [w - p for w, p in zip(d["wall_ms"], d["pause_ms"])]
    d.update(out)


ROWS = [
    ("target", None, None),
    ("py_objects", "objects (in-process count)", "%.0f"),
    ("anchor_ms", "anchor ms: get_objects + count", "%.1f"),
    ("memalot snapshot", None, None),
    ("total_objects", "objects found", "%.0f"),
    ("pause_ms", "pause ms (JSON pause_ms)", "%.1f"),
    ("walk_ms", "walk ms (-v)", "%.1f"),
    ("pause_minus_walk_ms", "pause - walk ms (freeze/thaw)", "%.1f"),
    ("wall_ms", "wall ms, whole memalot", "%.1f"),
    ("wall_minus_pause_ms", "wall - pause ms (setup, output)", "%.1f"),
    ("rss_mib", "peak RSS MiB", "%.1f"),
    ("bytes_read_mib", "bytes read MiB", "%.1f"),
    ("reads", "reads (system calls)", "%.0f"),
    ("cache_kib", "cache KiB", "%.0f"),
    ("tries", "tries", "%.0f"),
    ("partial", "partial (1 = yes)", "%.0f"),
    ("process_vm_readv (256 MiB anon)", None, None),
    ("bw_batched_gbps", "batched 64K iovecs GB/s", "%.2f"),
    ("bw_batched_fresh_gbps", "batched, fresh dest GB/s", "%.2f"),
    ("bw_single64k_gbps", "one 64K per call GB/s", "%.2f"),
    ("bw_single64k_us", "one 64K per call us", "%.1f"),
    ("bw_small32_us", "one 32 B per call us", "%.2f"),
    ("ratios", None, None),
    ("wall_per_anchor", "memalot wall / anchor", "%.2f"),
    ("pause_per_anchor", "pause / anchor", "%.2f"),
    ("read_rate_gbps", "bytes read / pause GB/s", "%.2f"),
    ("read_rate_per_bw", "  as % of batched bw", "%.0f"),
    ("copy_floor_ms", "copy floor ms (bytes/batched bw)", "%.1f"),
    ("copy_floor_fresh_ms", "copy floor ms, fresh dest", "%.1f"),
    ("syscall_floor_ms", "reads x one-64K-call ms", "%.1f"),
]


def main():
    order, data = load(sys.argv[1])
    timer = sys.argv[2] if len(sys.argv) > 2 else "?"
    for tag in order:
        derive(data[tag])
    w0 = 34
    cell = 10
    head = "%-*s" % (w0, "figure")
    sub = "%-*s" % (w0, "")
    for tag in order:
        head += " | %-*s" % (3 * cell + 2, tag.split(" ")[0])
        sub += " | " + " ".join("%*s" % (cell, c) for c in ("median", "min", "max"))
    print(head)
    print(sub)
    print("-" * len(sub))
    for key, label, fmt in ROWS:
        if label is None:
            print("[%s]" % key)
            continue
        if not any(key in data[t] for t in order):
            continue
        line = "%-*s" % (w0, label)
        for tag in order:
            v = data[tag].get(key)
            if not v:
                line += " | " + " ".join("%*s" % (cell, "-") for _ in range(3))
                continue
            line += " | " + " ".join(
                "%*s" % (cell, fmt % x) for x in (statistics.median(v), min(v), max(v)))
        print(line)
    print()
    print("interpreters: " + "; ".join(order))
    print("wall and peak RSS from %s; bandwidth rows are the tool's median/min/max over 5 repetitions" % timer)
    ok = True
    for tag in order:
        d = data[tag]
        if "pause_ms" not in d or "wall_ms" not in d:
            continue
        p = statistics.median(d["pause_ms"])
        w = statistics.median(d["wall_ms"])
        pm, wm = max(d["pause_ms"]), max(d["wall_ms"])
        gp = p <= PAUSE_GOAL_MS
        gw = w <= WALL_GOAL_MS
        ok = ok and gp and gw
        print("goals %s: pause median %.1f ms (max %.1f) <= %.0f: %s; wall median %.1f ms (max %.1f) <= %.0f: %s"
              % (tag.split(" ")[0], p, pm, PAUSE_GOAL_MS, "met" if gp else "MISSED",
                 w, wm, WALL_GOAL_MS, "met" if gw else "MISSED"))
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
