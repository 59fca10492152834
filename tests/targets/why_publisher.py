# SPDX-License-Identifier: MIT
# Why-scenario: an event publisher (module global `publisher`) keeps the bound
# methods of its LeakedSubscriber objects in a list. Prints "ready", then
# idles until stdin closes.
import gc
import sys


class Publisher(object):
    def __init__(self):
        self._handlers = []

    def subscribe(self, handler):
        self._handlers.append(handler)

    def publish(self, event):
        for h in self._handlers:
            h(event)


class LeakedSubscriber(object):
    def __init__(self, n):
        self.n = n
        self.seen = 0

    def on_event(self, event):
        self.seen += 1


publisher = Publisher()


def attach(n):
    sub = LeakedSubscriber(n)
    publisher.subscribe(sub.on_event)  # never unsubscribed


for i in range(10):
    attach(i)
publisher.publish("start")

gc.collect()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
