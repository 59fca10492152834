# SPDX-License-Identifier: MIT
# Threads that start and exit all the time: two spawner threads each start
# short-lived threads in a loop (each allocates a little and exits). Prints
# "ready" once both spawners run, then answers each line on stdin with
# "count C", C the threads started so far; exits when its stdin closes.
import sys
import threading

started = [0, 0]
stop = threading.Event()


def short_lived():
    junk = [{"x": [1]} for _ in range(50)]
    del junk


def spawner(i):
    while not stop.is_set():
        t = threading.Thread(target=short_lived)
        t.start()
        started[i] += 1
        if started[i] % 8 == 0:
            t.join()


spawners = [threading.Thread(target=spawner, args=(i,), daemon=True) for i in range(2)]
for s in spawners:
    s.start()
while min(started) == 0:
    threading.Event().wait(0.001)
sys.stdout.write("ready\n")
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write("count %d\n" % sum(started))
    sys.stdout.flush()
stop.set()
for s in spawners:
    s.join()
