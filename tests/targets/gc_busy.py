# SPDX-License-Identifier: MIT
# A target that is always in the middle of a garbage collection: a thread
# runs gc.collect() in a loop, and a gc callback sleeps at the start of each
# collection, so the interpreter's "collecting" flag is set at nearly every
# moment and a snapshot can never see settled GC lists (memalot's exit 9).
# Between two collections the flag is clear for a few microseconds, and
# memalot watches for that moment before each try: a second per collection
# leaves two or three such moments in its ten tries (0.05 s left forty, and
# one try in six runs caught one).
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
        time.sleep(1.0)


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
