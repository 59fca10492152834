# SPDX-License-Identifier: MIT
# Leak groups: a module-level cache dict _RESPONSE_CACHE and a list local to a
# running worker thread, both empty at "ready". The line "fill" on stdin puts
# 5,000 CachedResponse objects in the cache (under keys made before "ready")
# and 200 QueuedItem objects in the worker's list, then answers
# "filled SUM DICT_ID": SUM the sum of sys.getsizeof of the 5,000 cached
# objects, DICT_ID id(_RESPONSE_CACHE). Runs until stdin closes.
#
# Nothing else made after "ready" lives on: commands are read with os.read
# (no buffer objects of sys.stdin keep the last line), every temporary is a
# local of a function that returns, and the objects hold only atoms made
# before "ready" (small ints: their contents vouch for their age, where an
# object without contents, such as None, is judged by what holds it).
import os
import sys
import threading

N_CACHE = 5000
N_QUEUE = 200


class CachedResponse(object):
    __slots__ = ("status", "body")

    def __init__(self):
        self.status = 200
        self.body = 0


class QueuedItem(object):
    __slots__ = ("n",)

    def __init__(self):
        self.n = 1


KEYS = ["response:%d" % i for i in range(N_CACHE)]
_RESPONSE_CACHE = {}

go = threading.Lock()
filled = threading.Lock()
stop = threading.Lock()
for lock in (go, filled, stop):
    lock.acquire()
del lock


def worker():
    items = []
    go.acquire()
    for _ in range(N_QUEUE):
        items.append(QueuedItem())
    filled.release()
    stop.acquire()  # blocks here: items stays a local of a running frame
    return len(items)


def fill():
    for k in KEYS:
        _RESPONSE_CACHE[k] = CachedResponse()
    go.release()
    filled.acquire()
    total = sum(sys.getsizeof(v) for v in _RESPONSE_CACHE.values())
    sys.stdout.write("filled %d %d\n" % (total, id(_RESPONSE_CACHE)))
    sys.stdout.flush()


def command():
    """The next command line from stdin, "" at EOF."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(0, 64)
        if not chunk:
            return ""
        data += chunk
    return data.decode()


def main():
    t = threading.Thread(target=worker)
    t.daemon = True
    t.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        cmd = command()
        if not cmd:
            break
        if cmd == "fill\n":
            fill()
        del cmd  # the line must not outlive the command
    stop.release()
    t.join()


main()
