# SPDX-License-Identifier: MIT
# Why-scenario (the seed README's example): a worker thread runs a function
# that keeps appending LeakedItem objects to its local list my_list. Prints
# "ready" once the list has items, then idles until stdin closes.
import sys
import threading


class LeakedItem(object):
    pass


started = threading.Event()
stop = threading.Event()


def worker():
    my_list = []
    while not stop.is_set():
        my_list.append(LeakedItem())
        if len(my_list) == 5:
            started.set()
        stop.wait(0.01)


t = threading.Thread(target=worker, daemon=True)
t.start()
started.wait()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
stop.set()
t.join()
