# SPDX-License-Identifier: MIT
# A small "service" that leaks: every request leaves a Session in a module-level
# cache that is never pruned, and a string in a list held by a running function.
# Prints "ready" once the first requests are served, then keeps serving until
# its stdin closes (or forever with --forever).
import os
import sys
import threading
import time

_CACHE = {}


class Session(object):
    def __init__(self, n):
        self.n = n
        self.payload = [n] * 10


def handle_request(n):
    _CACHE["session:%d" % n] = Session(n)   # the leak: nothing ever removes it


def serve(stop):
    my_list = []
    n = 0
    while not stop.is_set():
        handle_request(n)
        my_list.append("request %d" % n)
        n += 1
        time.sleep(0.002)


stop = threading.Event()
worker = threading.Thread(target=serve, args=(stop,), daemon=True)
worker.start()
while len(_CACHE) < 50:
    time.sleep(0.01)
sys.stdout.write("ready %d\n" % os.getpid())
sys.stdout.flush()
if "--forever" in sys.argv:
    while True:
        time.sleep(3600)
sys.stdin.readline()
stop.set()
worker.join()
