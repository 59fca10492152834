# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_thread_local.py, the seed README's example): a
# worker thread runs a function that appends one more LeakedItem to its local
# list my_list every 0.1 s. Prints "ready" once the list has items, runs
# until stdin closes.
import sys
import threading
import time


class LeakedItem(object):
    pass


started = threading.Event()
running = [True]


def worker():
    my_list = []
    while running[0]:
        my_list.append(LeakedItem())
        if len(my_list) == 3:
            started.set()
        # time.sleep, not Event.wait: each wait makes a lock and a bound
        # method that live only while it blocks, at reused addresses
        time.sleep(0.1)


t = threading.Thread(target=worker, daemon=True)
t.start()
started.wait()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
running[0] = False
t.join()
