# SPDX-License-Identifier: MIT
# Benchmark target for `memalot attach`: a service loop that handles
# "requests" as fast as it can, so that its requests per second show what
# being monitored costs it.
#
# Each request builds what a small web handler builds (a request dict with a
# headers dict, a parsed path list, a response instance with a body list and
# a few strings and tuples) and keeps none of it, so the collector runs on
# its usual schedule. Before the loop starts, the process builds HEAP
# long-lived GC-tracked objects (its caches and configuration), which is what
# every snapshot has to walk: memalot's pause grows with it.
#
# usage: request_loop.py [HEAP]   (HEAP: long-lived objects, default 100000)
# prints "objects=..." and "ready" on stdout; then, for every line read on
# stdin, one line "count N T CPU": N requests handled so far, T the target's
# time.monotonic() and CPU its time.process_time() when it was read (the CPU
# time leaves out what the machine's other load takes from the target).
# Exits at the end of stdin.
import gc
import sys
import threading
import time

HEAP = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


class Entry:
    def __init__(self, i):
        self.key = "k%d" % i
        self.values = [i, i + 1]


class Response:
    def __init__(self, status, body):
        self.status = status
        self.body = body
        self.headers = {"content-type": "text/plain", "content-length": str(len(body))}


def build_heap(n):
    # four GC-tracked objects a round: an Entry, its __dict__ (materialised),
    # its values list and the tuple kept in the cache
    cache = []
    for i in range(n // 4):
        e = Entry(i)
        e.__dict__
        cache.append((e, i))
    return cache


def handle(i):
    req = {
        "id": i,
        "method": "GET",
        "path": "/items/%d/detail" % (i % 1000),
        "headers": {"host": "example", "accept": "*/*", "x-request-id": str(i)},
    }
    parts = req["path"].strip("/").split("/")
    args = tuple((k, v) for k, v in zip(parts[::2], parts[1::2]))
    body = [p.upper() for p in parts] + [req["headers"]["x-request-id"]]
    resp = Response(200, body)
    return resp.status + len(args)


# requests handled, published every BATCH requests so that the reader thread
# sees a recent figure without the loop paying for a shared counter each time
done = 0
BATCH = 100


def reader():
    for _ in sys.stdin:
        sys.stdout.write("count %d %.6f %.6f\n" % (done, time.monotonic(), time.process_time()))
        sys.stdout.flush()
    stop.set()


def main():
    global done
    cache = build_heap(HEAP)
    gc.collect()
    sys.stdout.write("objects=%d\nready\n" % len(gc.get_objects()))
    sys.stdout.flush()
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    n = 0
    while not stop.is_set():
        for _ in range(BATCH):
            handle(n)
            n += 1
        done = n
    del cache


stop = threading.Event()

if __name__ == "__main__":
    main()
