# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_cache.py, leaking over time): an unbounded
# module-level cache dict _CACHE keyed "user:N" gets one more LeakedCacheEntry
# every 0.1 s, from "ready" until stdin closes.
import gc
import select
import sys


class LeakedCacheEntry(object):
    def __init__(self, user_id):
        self.user_id = user_id


_CACHE = {}


def get_user(user_id):
    key = "user:%d" % user_id
    if key not in _CACHE:
        _CACHE[key] = LeakedCacheEntry(user_id)
    return _CACHE[key]


def main():
    n = 0
    for _ in range(3):  # run the leaking path once before the warm-up
        get_user(n)
        n += 1
    gc.collect()
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        get_user(n)
        n += 1


main()
