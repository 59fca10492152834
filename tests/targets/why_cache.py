# SPDX-License-Identifier: MIT
# Why-scenario: an unbounded module-level cache dict keyed "user:N" holding
# LeakedCacheEntry objects. Prints "ready", then idles until stdin closes.
import gc
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


for i in range(50):
    get_user(i)

gc.collect()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
