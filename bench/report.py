# SPDX-License-Identifier: MIT
# The tables the bench scripts print: median/min/max of every figure, one column group per
# interpreter, then the goals met or missed.
#
# usage: report.py snapshot RESULTS [TIMER]                          (bench/run.sh)
#        report.py why RESULTS DETAILS                               (bench/why.sh)
#        report.py attach RESULTS ANCHOR_S WINDOW RSS_SECONDS PATHS  (bench/attach.sh)
# RESULTS lines: interpreter TAB key TAB value (bench/lib.sh's put). Exit status: 0 when every
# goal is met, 3 when one is missed.
import math
import statistics
import sys


def load(path):
    """Interpreters in the order of their first line, their numbers and their other values."""
    data, order, text = {}, [], {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) != 3 or not parts[2]:
                continue
            tag, key, val = parts
            if tag not in data:
                data[tag] = {}
                order.append(tag)
            try:
                data[tag].setdefault(key, []).append(float(val))
            except ValueError:
                text.setdefault(tag, {})[key] = val
    return order, data, text


def med(v):
    """The median of the numbers that are not NaN (NaN when there are none)."""
    v = [x for x in v if not math.isnan(x)]
    return statistics.median(v) if v else float("nan")


def met(ok):
    return "met" if ok else "MISSED"


def table(order, data, rows, w0=34, all_rows=False):
    """Rows of (key, label, format), a (heading, None, None) row starts a section; a row
    no interpreter has is left out unless all_rows."""
    cell = 10
    head = "%-*s" % (w0, "figure")
    sub = "%-*s" % (w0, "")
    for tag in order:
        head += " | %-*s" % (3 * cell + 2, tag.split(" ")[0])
        sub += " | " + " ".join("%*s" % (cell, c) for c in ("median", "min", "max"))
    print(head)
    print(sub)
    print("-" * len(sub))
    for key, label, fmt in rows:
        if label is None:
            print("[%s]" % key)
            continue
        if not all_rows and not any(key in data[t] for t in order):
            continue
        line = "%-*s" % (w0, label)
        for tag in order:
            v = data[tag].get(key)
            if not v:
                line += " | " + " ".join("%*s" % (cell, "-") for _ in range(3))
                continue
            ok = [x for x in v if not math.isnan(x)]
            cells = (med(v), min(ok), max(ok)) if ok else (float("nan"),) * 3
            line += " | " + " ".join("%*s" % (cell, fmt % x) for x in cells)
        print(line)
    print()


# --- bench/run.sh: memalot snapshot on a 1,000,000-object heap ----------------------------

SNAPSHOT_PAUSE_GOAL_MS = 150.0
SNAPSHOT_WALL_GOAL_MS = 1000.0

SNAPSHOT_ROWS = [
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


def derive_snapshot(d):
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


def report_snapshot(args):  # RESULTS [TIMER]
    order, data, _ = load(args[0])
    timer = args[1] if len(args) > 1 else "?"
    for tag in order:
        derive_snapshot(data[tag])
    table(order, data, SNAPSHOT_ROWS)
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
        gp = p <= SNAPSHOT_PAUSE_GOAL_MS
        gw = w <= SNAPSHOT_WALL_GOAL_MS
        ok = ok and gp and gw
        print("goals %s: pause median %.1f ms (max %.1f) <= %.0f: %s; wall median %.1f ms (max %.1f) <= %.0f: %s"
              % (tag.split(" ")[0], p, pm, SNAPSHOT_PAUSE_GOAL_MS, met(gp),
                 w, wm, SNAPSHOT_WALL_GOAL_MS, met(gw)))
    return 0 if ok else 3


# --- bench/why.sh: memalot snapshot --why against gc.get_referrers -----------------------

WHY_WALL_GOAL_MS = 2000.0
WHY_PAUSE_GOAL_MS = 150.0
WHY_RSS_GOAL_MIB = 1024.0

WHY_ROWS = [
    ("target (in-process anchor)", None, None),
    ("py_objects", "objects (gc.get_objects)", "%.0f"),
    ("anchor_referrers_ms", "one gc.get_referrers ms", "%.1f"),
    ("anchor_chain_ms", "3-level climb ms (3 calls)", "%.1f"),
    ("memalot snapshot --why", None, None),
    ("total_objects", "objects found", "%.0f"),
    ("pause_ms", "pause ms (JSON pause_ms)", "%.1f"),
    ("walk_ms", "walk ms (-v)", "%.1f"),
    ("graph_nodes", "graph nodes", "%.0f"),
    ("graph_edges", "graph edges", "%.0f"),
    ("graph_ms", "graph build ms (-v)", "%.1f"),
    ("referrers_ms", "referrer search ms (-v)", "%.1f"),
    ("wall_ms", "wall ms, whole memalot", "%.1f"),
    ("time_wall_s", "wall s (/usr/bin/time %e)", "%.2f"),
    ("wall_minus_graph_ms", "wall - graph - search ms", "%.1f"),
    ("rss_mib", "peak RSS MiB (%M)", "%.1f"),
    ("cache_kib", "cache KiB", "%.0f"),
    ("partial", "partial (1 = yes)", "%.0f"),
    ("ratios", None, None),
    ("wall_per_chain", "memalot wall / anchor climb", "%.2f"),
    ("search_per_chain", "(graph + search) / anchor climb", "%.2f"),
    ("wall_per_one", "memalot wall / one get_referrers", "%.2f"),
    ("wall_per_chains", "memalot wall / (details x climb)", "%.2f"),
]


def derive_why(d, details):
    """Per-run ratios against the in-process climb; details: the objects memalot details,
    each with its own referrer search."""
    chain = statistics.median(d["anchor_chain_ms"])
    one = statistics.median(d["anchor_referrers_ms"])
    d["wall_per_chain"] = [w / chain for w in d["wall_ms"]]
    d["search_per_chain"] = [(g + r) / chain for g, r in zip(d["graph_ms"], d["referrers_ms"])]
    d["wall_per_one"] = [w / one for w in d["wall_ms"]]
    d["wall_per_chains"] = [w / (details * chain) for w in d["wall_ms"]]
    d["wall_minus_graph_ms"] = [w - g - r for w, g, r in zip(d["wall_ms"], d["graph_ms"], d["referrers_ms"])]


def report_why(args):  # RESULTS DETAILS
    order, data, _ = load(args[0])
    details = int(args[1])
    for d in data.values():
        derive_why(d, details)
    table(order, data, WHY_ROWS, all_rows=True)
    print("interpreters: " + "; ".join(order))
    ok = True
    for tag in order:
        d = data[tag]
        w, p, m = (statistics.median(d[k]) for k in ("wall_ms", "pause_ms", "rss_mib"))
        gw, gp, gm = w < WHY_WALL_GOAL_MS, p <= WHY_PAUSE_GOAL_MS, m < WHY_RSS_GOAL_MIB
        ok = ok and gw and gp and gm
        print("goals %s: wall %.0f ms < %.0f: %s; pause %.1f ms <= %.0f: %s; peak RSS %.0f MiB < %.0f: %s"
              % (tag.split(" ")[0], w, WHY_WALL_GOAL_MS, met(gw), p, WHY_PAUSE_GOAL_MS,
                 met(gp), m, WHY_RSS_GOAL_MIB, met(gm)))
    return 0 if ok else 3


# --- bench/attach.sh: the speed goals of memalot attach -----------------------------------

ATTACH_LIFETIME = 1.0
ATTACH_LATENCY_GOAL_S = 2 * ATTACH_LIFETIME + 1
ATTACH_THROUGHPUT_GOAL = 0.97
ATTACH_FLAT_MIB_PER_10MIN = 1.0
ATTACH_FLAT_FRACTION = 0.02


def attach_rows(window, rss_seconds):
    return [
        ("1. first leak report (seed example, lifetime 1 s, warm-up 1 s)", None, None),
        ("l_first_str_s", "first report with builtins.str s", "%.3f"),
        ("l_startup_s", "  launch -> watching (start-up) s", "%.3f"),
        ("l_behind_schedule_ms", "  behind warm-up + k lifetimes ms", "%.1f"),
        ("l_report_ms", "  its check line -> report ms", "%.1f"),
        ("l_first_report_s", "first report (any) s", "%.3f"),
        ("l_str_iteration", "iteration of that report", "%.0f"),
        ("l_str_count", "builtins.str leaks in it", "%.0f"),
        ("l_other_types", "other types in it", "%.0f"),
        ("l_anchor_ratio", "anchor 38.7 s / memalot", "%.1f"),
        ("2. request loop throughput (%g s windows)" % window, None, None),
        ("t_objects", "target objects (gc.get_objects)", "%.0f"),
        ("t_rate_unmonitored", "unmonitored requests/s", "%.0f"),
        ("t_rate_default", "default interval (12 s) req/s", "%.0f"),
        ("t_rate_fast", "--check-interval 1 req/s", "%.0f"),
        ("t_ratio_default", "default / unmon. (same round)", "%.4f"),
        ("t_ratio_fast", "1 s / unmon. (same round)", "%.4f"),
        ("t_meanratio_default", "default / unmon. (means)", "%.4f"),
        ("t_meanratio_fast", "1 s / unmon. (means)", "%.4f"),
        ("t_spread_unmonitored", "unmon. spread (max-min)/med %", "%.1f"),
        ("t_cpurate_unmonitored", "unmonitored req/CPU-s", "%.0f"),
        ("t_cpurate_default", "default req/CPU-s", "%.0f"),
        ("t_cpurate_fast", "1 s req/CPU-s", "%.0f"),
        ("t_cpuratio_default", "default / unmon., per CPU-s", "%.4f"),
        ("t_cpuratio_fast", "1 s / unmon., per CPU-s", "%.4f"),
        ("t_cpu_share_unmonitored", "target CPU % of wall, unmon.", "%.1f"),
        ("t_cpu_share_default", "target CPU % of wall, default", "%.1f"),
        ("t_cpu_share_fast", "target CPU % of wall, 1 s", "%.1f"),
        ("t_loadavg", "1-min load average (windows)", "%.2f"),
        ("t_checks_default", "checks a window, default", "%.0f"),
        ("t_checks_fast", "checks a window, 1 s", "%.0f"),
        ("t_pause_sum_default_ms", "paused ms a window, default", "%.1f"),
        ("t_pause_sum_fast_ms", "paused ms a window, 1 s", "%.1f"),
        ("t_paused_pct_default", "  % of the window, default", "%.3f"),
        ("t_paused_pct_fast", "  % of the window, 1 s", "%.3f"),
        ("3. memalot RSS, lifetime 1 s, check every 1 s, churn target (%g s)" % rss_seconds, None, None),
        ("r_first_mib", "memalot RSS first sample MiB", "%.2f"),
        ("r_last_mib", "memalot RSS last sample MiB", "%.2f"),
        ("r_max_mib", "memalot RSS max MiB", "%.2f"),
        ("r_min_mib", "memalot RSS min MiB", "%.2f"),
        ("r_slope_kib_per_min", "RSS slope, second half KiB/min", "%.2f"),
        ("r_hwm_mid_mib", "memalot peak (VmHWM) at half MiB", "%.2f"),
        ("r_hwm_last_mib", "memalot peak (VmHWM) at end MiB", "%.2f"),
        ("r_hwm_slope_kib_per_min", "VmHWM slope, 2nd half KiB/min", "%.2f"),
        ("r_samples", "samples (every 5 s)", "%.0f"),
        ("r_target_first_mib", "target RSS first MiB", "%.1f"),
        ("r_target_last_mib", "target RSS last MiB", "%.1f"),
        ("r_reports", "reports printed", "%.0f"),
        ("r_leaks", "objects reported as leaks", "%.0f"),
        ("4. one iteration on the 1,000,000-object heap (lifetime 10 s, check 5 s)", None, None),
        ("h_py_objects", "objects (gc.get_objects)", "%.0f"),
        ("h_anchor_ms", "anchor ms: get_objects + count", "%.1f"),
        ("h_objects", "objects in memalot's graph", "%.0f"),
        ("h_startup_s", "launch -> watching (start-up) s", "%.3f"),
        ("h_check_first_s", "check 1 (every object fresh) s", "%.3f"),
        ("h_check_steady_s", "checks 2.. s", "%.3f"),
        ("h_pause_first_ms", "pause, check 1 ms", "%.1f"),
        ("h_pause_ms", "pause, checks 2.. ms", "%.1f"),
        ("h_beyond_pause_s", "check - pause (all checks) s", "%.3f"),
        ("h_last_check_to_exit_s", "last check -> exit (report) s", "%.3f"),
        ("h_wall_s", "memalot wall s", "%.3f"),
        ("h_peak_rss_mib", "memalot peak RSS MiB (%M)", "%.1f"),
        ("h_pause_per_anchor", "pause / anchor", "%.2f"),
        ("h_check_per_anchor", "check (steady) / anchor", "%.2f"),
    ]


def derive_attach(d, anchor_s, window):
    if "l_first_str_s" in d:
        d["l_anchor_ratio"] = [anchor_s / x for x in d["l_first_str_s"]]
    u = d.get("t_rate_unmonitored")
    if u:
        # how much the machine itself moves: the unmonitored windows' spread
        d["t_spread_unmonitored"] = [(max(u) - min(u)) / statistics.median(u) * 100]
        for mode in ("default", "fast"):
            rates = d.get("t_rate_" + mode)
            if not rates:
                continue
            # each monitored window against the unmonitored one of its round
            d["t_ratio_" + mode] = [m / x for m, x in zip(rates, u)]
            d["t_meanratio_" + mode] = [statistics.mean(rates) / statistics.mean(u)]
            cu, cm = d.get("t_cpurate_unmonitored"), d.get("t_cpurate_" + mode)
            if cu and cm:
                d["t_cpuratio_" + mode] = [m / x for m, x in zip(cm, cu)]
            if "t_pause_sum_%s_ms" % mode in d:
                d["t_paused_pct_" + mode] = [p / (window * 10) for p in d["t_pause_sum_%s_ms" % mode]]
    if "h_pause_ms" in d and "h_anchor_ms" in d:
        a = med(d["h_anchor_ms"])
        d["h_pause_per_anchor"] = [p / a for p in d["h_pause_ms"]]
        d["h_check_per_anchor"] = [c * 1e3 / a for c in d["h_check_steady_s"]]
    for k in ("r_first_kib", "r_last_kib", "r_max_kib", "r_min_kib", "r_target_first_kib", "r_target_last_kib",
              "r_hwm_mid_kib", "r_hwm_last_kib"):
        if k in d:
            d[k.replace("_kib", "_mib")] = [x / 1024 for x in d[k]]


def report_attach(args):  # RESULTS ANCHOR_S WINDOW RSS_SECONDS PATHS
    order, data, text = load(args[0])
    anchor_s, window, rss_seconds = float(args[1]), float(args[2]), float(args[3])
    paths = dict(x.split("=", 1) for x in args[4].split(";") if x)
    for d in data.values():
        derive_attach(d, anchor_s, window)
    table(order, data, attach_rows(window, rss_seconds), w0=36)
    for tag in order:
        print("%s: %s" % (tag, paths.get(tag, "?")))
        d, t = data[tag], text.get(tag, {})
        if "t_rate_unmonitored" in d:
            for r in range(1, 100):
                k = "t_round%d_unmonitored" % r
                if k not in d:
                    break
                print("  round %d req/s: unmonitored %.0f, default %.0f, 1 s %.0f"
                      % (r, d[k][0], d.get("t_round%d_default" % r, [math.nan])[0],
                         d.get("t_round%d_fast" % r, [math.nan])[0]))
        if "r_series" in t:
            print("  memalot RSS (minute:MiB): " + t["r_series"])
    print()

    ok = True

    def goal(tag, what, value, this):
        nonlocal ok
        ok = ok and this
        print("goal %s: %s: %s (%s)" % (tag, what, met(this), value))

    for tag in order:
        d = data[tag]
        if "l_first_str_s" in d:
            # every run must make it: which of two report times a run gets
            # depends on when the target's strings fall between memalot's checks
            v = d["l_first_str_s"]
            within = sum(1 for x in v if x <= ATTACH_LATENCY_GOAL_S)
            worst = max(v) if not any(math.isnan(x) for x in v) else float("nan")
            goal(tag, "first leak report <= %.0f s in every run" % ATTACH_LATENCY_GOAL_S,
                 "%d of %d runs within; median %.3f s, max %.3f s; anchor %.1f s"
                 % (within, len(v), med(v), worst, anchor_s), within == len(v))
        if "t_rate_default" in d:
            r = d["t_meanratio_default"][0]
            goal(tag, "throughput at the default interval >= %.0f %% of unmonitored" % (ATTACH_THROUGHPUT_GOAL * 100),
                 "%.2f %% (means), same-round ratios %.2f..%.2f %%, unmonitored spread %.1f %%; at 1 s: %.2f %%"
                 % (r * 100, min(d["t_ratio_default"]) * 100, max(d["t_ratio_default"]) * 100,
                    d["t_spread_unmonitored"][0],
                    d["t_meanratio_fast"][0] * 100 if "t_meanratio_fast" in d else math.nan),
                 r >= ATTACH_THROUGHPUT_GOAL)
        if "r_hwm_slope_kib_per_min" in d:
            s = d["r_hwm_slope_kib_per_min"][0]
            per10 = s * 10 / 1024
            last = d["r_hwm_last_kib"][0] / 1024
            goal(tag, "memalot RSS flat (VmHWM slope over the second half x 10 min < %.0f MiB and < %.0f %% of it)"
                 % (ATTACH_FLAT_MIB_PER_10MIN, ATTACH_FLAT_FRACTION * 100),
                 "%.2f KiB/min = %.3f MiB per 10 min, peak %.2f MiB; VmRSS slope %.2f KiB/min"
                 % (s, per10, last, d["r_slope_kib_per_min"][0]),
                 per10 < ATTACH_FLAT_MIB_PER_10MIN and per10 < ATTACH_FLAT_FRACTION * last)
        if "r_leaks" in d and not math.isnan(d["r_leaks"][0]):
            # not a goal of this run: issue 4 asks for no false positives at the
            # default interval (lifetime / 5), this part checks once a lifetime
            print("note %s: churn target at --check-interval = lifetime: %.0f objects reported as leaks in %.0f reports"
                  % (tag, d["r_leaks"][0], d["r_reports"][0]))
        if "h_check_steady_s" in d:
            print("figure %s: per-iteration cost on %.0f objects: check %.3f s (first %.3f s), pause %.1f ms, "
                  "peak RSS %.0f MiB"
                  % (tag, med(d["h_objects"]), med(d["h_check_steady_s"]), med(d["h_check_first_s"]),
                     med(d["h_pause_ms"]), med(d["h_peak_rss_mib"])))
    return 0 if ok else 3


COMMANDS = {
    "snapshot": (report_snapshot, 1),
    "why": (report_why, 2),
    "attach": (report_attach, 5),
}


def main(argv):
    cmd = COMMANDS.get(argv[1]) if len(argv) > 1 else None
    if cmd is None or len(argv) - 2 < cmd[1]:
        sys.stderr.write("usage: report.py {snapshot RESULTS [TIMER] | why RESULTS DETAILS |"
                         " attach RESULTS ANCHOR_S WINDOW RSS_SECONDS PATHS}\n")
        return 2
    return cmd[0](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
