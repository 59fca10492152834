# SPDX-License-Identifier: MIT
# No-leak target for memalot attach: 4 threads churn short-lived dicts, lists,
# tuples and instances (heavy address reuse through free lists), each thread
# keeps "request" objects for about half of LIFETIME seconds, and 2,000
# long-lived objects are made at start (during the warm-up). Nothing lives
# longer than LIFETIME/2 once the warm-up is over, so memalot must report no
# leak. With GC_EVERY, a fifth thread runs gc.collect() every GC_EVERY
# seconds: a full collection reorders the oldest generation and moves every
# younger object into it, the case where only the references tell a request
# from the one made at its address after it died.
# Usage: attach_churn.py LIFETIME [GC_EVERY]. Prints "ready", answers each line
# of stdin with "rounds N stall S" (S: the longest gap, in seconds, between
# two rounds of one thread), runs until stdin closes.
import array
import gc
import sys
import threading
import time

LIFETIME = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
GC_EVERY = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0


class LongLived(object):
    def __init__(self, i):
        self.i = i
        self.data = [i]


class ChurnRequest(object):
    def __init__(self, i):
        self.i = i
        self.payload = {"i": [i]}


LONG = [LongLived(i) for i in range(2000)]
stop = threading.Event()
rounds = [0] * 4
# raw doubles (array), not float objects: a float kept until the next
# longest gap would live longer than LIFETIME, a real leak
last_round = array.array("d", [0.0] * 4)
stall = array.array("d", [0.0])


def tick(k):
    # a round done; the longest time between two rounds of one thread tells
    # a starved process (a loaded machine): then objects do outlive LIFETIME
    # in wall-clock time, and a report of them is no false leak
    now = time.monotonic()
    if last_round[k]:
        stall[0] = max(stall[0], now - last_round[k])
    last_round[k] = now
    rounds[k] += 1


def churn(k):
    live = []  # (deadline, request)
    n = 0
    while not stop.is_set():
        for _ in range(100):
            d = {"k": [n]}
            lst = [d, n]
            t = (lst, d)
            obj = ChurnRequest(n)
            del d, lst, t, obj
            n += 1
        now = time.monotonic()
        live.append((now + LIFETIME / 2, ChurnRequest(n)))
        while live and live[0][0] <= now:
            live.pop(0)
        tick(k)
        time.sleep(0.001)


def collect():
    # time.sleep, not stop.wait(GC_EVERY): each wait makes a lock that lives
    # GC_EVERY seconds, held by the same deque slot as the last one, at its
    # address, untracked: memalot would see one lock living on (see the note
    # on untracked objects in analyzer/lifetime.c)
    while not stop.is_set():
        time.sleep(GC_EVERY)
        gc.collect()


threads = [threading.Thread(target=churn, args=(k,), daemon=True) for k in range(4)]
if GC_EVERY > 0:
    threads.append(threading.Thread(target=collect, daemon=True))
for t in threads:
    t.start()
sys.stdout.write("ready\n")
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write("rounds %d stall %.3f\n" % (sum(rounds), stall[0]))
    sys.stdout.flush()
stop.set()
for t in threads:
    t.join()
