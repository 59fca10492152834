# SPDX-License-Identifier: MIT
# A target with one worker thread besides the main one: prints "ready TID"
# with the worker's native thread id (for `strace -p TID`), answers each line
# on stdin with "alive", and exits when its stdin closes.
import sys
import threading

started = threading.Event()
stop = threading.Event()
tid = []


def work():
    tid.append(threading.get_native_id())
    started.set()
    while not stop.wait(0.05):
        pass


worker = threading.Thread(target=work, daemon=True)
worker.start()
started.wait()
sys.stdout.write("ready %d\n" % tid[0])
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write("alive\n")
    sys.stdout.flush()
stop.set()
worker.join()
