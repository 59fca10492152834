# SPDX-License-Identifier: MIT
# No-leak target for memalot attach: 4 threads churn short-lived dicts, lists,
# tuples and instances (heavy address reuse through free lists), each thread
# keeps "request" objects for about half of LIFETIME seconds, and 2,000
# long-lived objects are made at start (during the warm-up). Nothing lives
# longer than LIFETIME/2 once the warm-up is over, so memalot must report no
# leak. Usage: attach_churn.py LIFETIME. Prints "ready", runs until stdin
# closes.
import sys
import threading
import time

LIFETIME = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0


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
        rounds[k] += 1
        time.sleep(0.001)


threads = [threading.Thread(target=churn, args=(k,), daemon=True) for k in range(4)]
for t in threads:
    t.start()
sys.stdout.write("ready\n")
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write("rounds %d\n" % sum(rounds))
    sys.stdout.flush()
stop.set()
for t in threads:
    t.join()
