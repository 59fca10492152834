# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_handler_list.py, leaking over time): a request
# handler appends every LeakedRequest to the module-level list REQUESTS, one
# request every 0.1 s, from "ready" until stdin closes.
import gc
import select
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


def main():
    n = 0
    for _ in range(3):
        handle_request(n)
        n += 1
    gc.collect()
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        handle_request(n)
        n += 1


main()
