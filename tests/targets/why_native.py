# SPDX-License-Identifier: MIT
# Why-scenario: a LeakedNative object whose only reference is an extra one
# taken from C (Py_IncRef); every Python reference is dropped. Prints
# "ready", then idles until stdin closes.
import ctypes
import gc
import sys


class LeakedNative(object):
    pass


def leak():
    obj = LeakedNative()
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
    del obj


leak()

gc.collect()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
