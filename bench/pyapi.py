"""The Python package's costs (bench/pyapi.sh runs it): one line of figures each.

- function-based: a monitored call on a heap of HEAP objects that leaks 10
  objects a call (the seed: 28-30 s a call on this machine), the same call
  unmonitored, and a monitored call that leaks nothing;
- time-based: how long after start_leak_monitoring the first report with
  leaks comes (goal: at most 2 x lifetime + 1 s).
"""
import statistics
import sys
import threading
import time

import memalot

HEAP = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
CALLS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
LIFETIME = 1.0


class Item:
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


heap = [{"i": i} if i % 2 else [i] for i in range(HEAP)]
kept = []
reports = []


def leaky(k):
    kept.extend(Item(k) for _ in range(10))


def clean(k):
    return sum(range(100))


def per_call(func, n):
    times = []
    for k in range(n):
        t = time.perf_counter()
        func(k)
        times.append(time.perf_counter() - t)
    return times[1:]  # the first call starts the engine (warm-up)


def ms(v):
    return "median %.1f ms, max %.1f ms" % (statistics.median(v) * 1e3, max(v) * 1e3)


quiet = dict(output_func=reports.append, save_reports=False)
plain_leaky = per_call(leaky, CALLS)
plain_clean = per_call(clean, CALLS)
mon_leaky = per_call(memalot.leak_monitor(**quiet)(leaky), CALLS)
mon_clean = per_call(memalot.leak_monitor(**quiet)(clean), CALLS)
print("function-based, heap %d objects, %d calls:" % (len(heap) + 1, CALLS - 1))
print("  leaking 10 objects a call: monitored %s; unmonitored %s" % (ms(mon_leaky), ms(plain_leaky)))
print("  leaking nothing:           monitored %s; unmonitored %s" % (ms(mon_clean), ms(plain_clean)))
got = [r for r in reports if "Item" in r and "Possible New Leaks" in r]
print("  reports naming the leaked Item: %d of %d" % (len(got), CALLS - 1))

# time-based: the first report that lists a leak
first = threading.Event()
start = time.monotonic()


def out(text):
    if "Possible New Leaks" in text and "Item" in text:
        first.set()


handle = memalot.start_leak_monitoring(max_object_lifetime=LIFETIME, output_func=out, save_reports=False)
while not first.wait(0.01):
    kept.append(Item(0))
    if time.monotonic() - start > 30:
        break
took = time.monotonic() - start
handle.stop()
print("time-based, lifetime %.1f s: first report with the leak after %.2f s (goal <= %.1f s)"
      % (LIFETIME, took, 2 * LIFETIME + 1))
