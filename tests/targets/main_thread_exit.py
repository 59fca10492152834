# SPDX-License-Identifier: MIT
# A live Python whose main thread has exited: the main thread starts a
# worker and ends with pthread_exit (through ctypes), so the process is a
# zombie thread-group leader whose worker runs on. The worker keeps a known
# heap (N one-element lists, argument 1, default 1000), prints "ready N"
# once the main thread is a zombie, answers each line on stdin with "alive
# N", and exits the process when its stdin closes.
import ctypes
import os
import sys
import threading
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
main_tid = threading.get_native_id()


def main_state():
    try:
        with open("/proc/self/task/%d/stat" % main_tid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def work():
    objs = [[i] for i in range(n)]
    while main_state() != "Z":
        time.sleep(0.01)
    sys.stdout.write("ready %d\n" % len(objs))
    sys.stdout.flush()
    for line in sys.stdin:
        sys.stdout.write("alive %d\n" % len(objs))
        sys.stdout.flush()
    os._exit(0)


threading.Thread(target=work).start()
ctypes.CDLL(None).pthread_exit(None)
