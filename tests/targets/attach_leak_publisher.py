# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_publisher.py, leaking over time): an event
# publisher (module global `publisher`) keeps the bound methods of its
# LeakedSubscriber objects in a list; one more subscriber every 0.1 s, from
# "ready" until stdin closes.
import gc
import select
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


def main():
    n = 0
    for _ in range(3):
        attach(n)
        n += 1
    publisher.publish("start")
    gc.collect()
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        attach(n)
        n += 1


main()
