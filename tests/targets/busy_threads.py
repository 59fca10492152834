# SPDX-License-Identifier: MIT
# A busy multithreaded target: N worker threads (default 4) allocate and free
# containers in a loop and count their rounds, next to a still heap of B
# (default 0) one-element lists that makes a snapshot's walk longer. It
# prints "ready N" once every worker has started, then answers each line on
# stdin with "count C", C the rounds done so far by all workers, and exits
# when its stdin closes.
import sys
import threading

nthreads = int(sys.argv[1]) if len(sys.argv) > 1 else 4
ballast = [[i] for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 0)]
counts = [0] * nthreads
stop = threading.Event()
started = threading.Barrier(nthreads + 1)


def work(i):
    started.wait()
    keep = []
    while not stop.is_set():
        # lists and dicts are tracked by the GC: they go on and off its lists
        objs = [{"i": [j]} for j in range(200)]
        keep.append(objs)
        if len(keep) > 20:
            del keep[:10]
        counts[i] += 1


threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(nthreads)]
for t in threads:
    t.start()
started.wait()
sys.stdout.write("ready %d\n" % nthreads)
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write("count %d\n" % sum(counts))
    sys.stdout.flush()
stop.set()
for t in threads:
    t.join()
