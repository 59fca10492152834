# SPDX-License-Identifier: MIT
# The seed README's example, without memalot imported: a function appends a
# string to its local list every half second. Prints "ready" when it starts,
# runs until killed (the test stops it).
import sys
from time import sleep


def my_function():
    my_list = []
    for i in range(100000):
        my_list.append(f"Object {i}" if sys.version_info >= (3, 6) else "Object %d" % i)
        sleep(0.5)


sys.stdout.write("ready\n")
sys.stdout.flush()
my_function()
