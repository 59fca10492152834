# SPDX-License-Identifier: MIT
# A target that is always in the middle of a garbage collection: a thread
# runs gc.collect() in a loop, and a gc callback sleeps at the start of each
# collection, so the interpreter's "collecting" flag is set at nearly every
# moment and a snapshot can never see settled GC lists (memalot's exit 9).
# Prints "ready COUNT" once the first collection has started, answers each
# line on stdin with "collections COUNT", and exits when its stdin closes.
import gc
import sys
import threading
import time

started = threading.Event()
count = [0]


def slow_start(phase, info):
    if phase == "start":
        count[0] += 1
        started.set()
        time.sleep(0.05)


def collect_forever():
    while True:
        gc.collect()


gc.callbacks.append(slow_start)
threading.Thread(target=collect_forever, daemon=True).start()
started.wait()
sys.stdout.write("ready %d\n" % count[0])
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write("collections %d\n" % count[0])
    sys.stdout.flush()
