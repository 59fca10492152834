"""MemoryLeakTestCase on this interpreter (tests/integration/test_pytest.c):
the leaking functions must fail with the right error, the clean ones pass.
Prints one line per test: "RESULT name ok|ErrorName: first line"."""

import ctypes
import ctypes.util
import gc
import io
import os
import sys
import threading
import unittest

import memalot

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
_libc.free.argtypes = [ctypes.c_void_p]

_REGISTRY = []
_FDS = []
_STOP = threading.Event()


class Record:
    def __init__(self, n):
        self.n = n
        self.tags = ["t%d" % n]


def leak_native(size=16384):
    p = _libc.malloc(size)
    _libc.memset(p, 1, size)


def clean_native(size=16384):
    p = _libc.malloc(size)
    _libc.memset(p, 1, size)
    _libc.free(p)


def leak_fd():
    os.open(os.devnull, os.O_RDONLY)


def leak_objects(n=3):
    _REGISTRY.append(Record(n))


def leak_thread():
    threading.Thread(target=_STOP.wait, daemon=True).start()


def leak_garbage():
    # what a C extension's cycle without tp_traverse amounts to: objects the collector gives up on
    gc.set_debug(gc.DEBUG_SAVEALL)
    a = []
    a.append(a)
    del a
    gc.collect()
    gc.set_debug(0)


def clean_python(n=50):
    return sorted({i: str(i) for i in range(n)}.items())[-1]


class Cases(memalot.MemoryLeakTestCase):
    verbosity = 0
    times = 100
    retries = 4

    def test_native_leak(self):
        self.execute(leak_native, checkers=memalot.Checkers.only("memory"))

    def test_fd_leak(self):
        self.execute(leak_fd)

    def test_object_leak(self):
        self.execute(leak_objects, 5, checkers=memalot.Checkers.only("objects"))

    def test_thread_leak(self):
        self.execute(leak_thread, warmup_times=1, checkers=memalot.Checkers.only("python_threads"))

    def test_garbage_leak(self):
        self.execute(leak_garbage, warmup_times=0, checkers=memalot.Checkers.only("gcgarbage"))

    def test_clean_native(self):
        self.execute(clean_native)

    def test_clean_python(self):
        self.execute(clean_python, n=20)

    def test_bad_times(self):
        self.execute(clean_python, times=0)


class Result(unittest.TextTestResult):
    def _say(self, test, what):
        print("RESULT %s %s" % (test._testMethodName, what), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._say(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._say(test, "%s: %s" % (err[0].__name__, str(err[1]).splitlines()[0]))
        print(str(err[1]), file=sys.stderr)

    def addError(self, test, err):
        super().addError(test, err)
        self._say(test, "%s: %s" % (err[0].__name__, str(err[1]).splitlines()[0] if str(err[1]) else ""))
        print(str(err[1]), file=sys.stderr)


if __name__ == "__main__":
    # the failures' messages go to stderr (Result); unittest's own summary with tracebacks nowhere
    unittest.main(testRunner=unittest.TextTestRunner(stream=io.StringIO(), resultclass=Result, verbosity=0),
                  exit=False)
    _STOP.set()
    print("done", flush=True)
