# SPDX-License-Identifier: MIT
# No-leak target for memalot attach, made of what the GC does not track:
#  - short-lived holders, each with a small dict of atoms (self.d = {"i": i},
#    untracked on 3.8-3.13), passing through a bounded deque;
#  - dicts, lists and tuples of atoms made and dropped at a high rate, some
#    kept for a while in a bounded deque of their own;
#  - a long-lived dict (made during the warm-up) that a full collection
#    untracks when it holds only atoms and an insert of a list tracks again,
#    like importlib's _module_locks.
# Nothing made after the warm-up lives longer than LIFETIME/2, so memalot
# must report no leak. Usage: attach_churn_untracked.py LIFETIME. Prints
# "ready", answers each line of stdin with "rounds N stall S" (S: the longest
# gap, in seconds, between two rounds of one thread), runs until stdin closes.
import array
import collections
import gc
import sys
import threading
import time

LIFETIME = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0


class Holder(object):
    def __init__(self, i):
        self.i = i
        self.d = {"i": i}


LOCKS = {"boot": 0}
KEEP = [Holder(i) for i in range(500)]  # long-lived, made during the warm-up
stop = threading.Event()
rounds = [0] * 3
# raw doubles (array), not float objects: a float kept until the next
# longest gap would live longer than LIFETIME, a real leak
last_round = array.array("d", [0.0] * 3)
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


def holders(k):
    # about 2,000 holders a second through a deque that keeps the last 100:
    # their dicts cycle through the same few addresses (the dict free list)
    # for seconds, and every 1.5 s a burst of dicts freed in another order
    # moves them to other addresses, after the warm-up as well
    q = collections.deque(maxlen=100)
    n = 0
    shuffled = time.monotonic()
    while not stop.is_set():
        for _ in range(20):
            q.append(Holder(n))
            n += 1
        if time.monotonic() - shuffled > 1.5:
            burst = [{"b": j} for j in range(300 + n % 200)]
            del burst[::2]
            del burst
            shuffled = time.monotonic()
        tick(k)
        time.sleep(0.01)


def atoms(k):
    # containers of atoms, most dropped at once, some kept for up to LIFETIME/2
    q = collections.deque(maxlen=40)
    n = 0
    while not stop.is_set():
        for _ in range(50):
            d = {"a": n, "b": "x"}
            t = (n, "y", 1.5)
            lst = [n, n + 1]
            q.append(d if n % 3 == 0 else t if n % 3 == 1 else lst)
            del d, t, lst
            n += 1
        tick(k)
        time.sleep(0.01)


def retrack(k):
    # LOCKS alternates between holding a list (tracked) and only atoms,
    # and a full collection every 2 s or so untracks it in between (more
    # often, and the churn above would be moved to gen2 at every check,
    # where no interpreter guarantee tells a new holder from an old one:
    # analyzer/lifetime.c, "Limits")
    n = 0
    while not stop.is_set():
        LOCKS["lock"] = [n]
        time.sleep(0.02)
        del LOCKS["lock"]
        if n % 50 == 0:
            gc.collect()
        n += 1
        tick(k)
        time.sleep(0.02)


threads = [threading.Thread(target=f, args=(k,), daemon=True) for k, f in enumerate((holders, atoms, retrack))]
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
