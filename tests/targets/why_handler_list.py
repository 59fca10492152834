# SPDX-License-Identifier: MIT
# Why-scenario: a request handler appends every LeakedRequest to the
# module-level list REQUESTS. Prints "ready", then idles until stdin closes.
import gc
import sys


class LeakedRequest(object):
    def __init__(self, n):
        self.n = n
        self.payload = [n] * 8


REQUESTS = []


def handle_request(n):
    request = LeakedRequest(n)
    REQUESTS.append(request)  # the bug: nothing ever removes it
    return n * 2


for i in range(20):
    handle_request(i)

gc.collect()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
