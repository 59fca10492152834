# SPDX-License-Identifier: MIT
# Attach-leak scenario (why_native.py, leaking over time): every 0.1 s one
# more LeakedNative whose only reference is an extra one taken from C
# (Py_IncRef), every Python reference dropped; from "ready" until stdin
# closes.
import ctypes
import gc
import select
import sys


class LeakedNative(object):
    pass


def leak():
    obj = LeakedNative()
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
    del obj


def main():
    for _ in range(3):
        leak()
    gc.collect()
    # select's argument lists are made once: fresh ones each 0.1 s would be
    # short-lived lists held only by the C call, at reused addresses
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        leak()


main()
