# SPDX-License-Identifier: MIT
# A target with N idle threads (default 20) besides the main one: each has
# its own stack mapping (8 MiB with glibc's default), of which it touched a
# few pages. Prints "ready N" once they all wait, answers each line on stdin
# with "alive", and exits when its stdin closes.
import sys
import threading

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
waiting = threading.Barrier(n + 1)
stop = threading.Event()


def idle():
    waiting.wait()
    stop.wait()


threads = [threading.Thread(target=idle, daemon=True) for _ in range(n)]
for t in threads:
    t.start()
waiting.wait()
sys.stdout.write("ready %d\n" % n)
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write("alive\n")
    sys.stdout.flush()
stop.set()
