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
# a fixed mmap threshold of 128 KiB: glibc's own rises with each mapped block freed
_libc.mallopt(-3, 131072)  # M_MMAP_THRESHOLD

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


def say_growth(name, err):
    """The smallest growth of each metric over the runs of a MemoryLeakError: "GROWTH name heap=N mmap=N ..."."""
    print("GROWTH %s %s" % (name, " ".join("%s=%d" % (k, min(v)) for k, v in sorted(err.growth.items()) if v)),
          flush=True)


class Cases(memalot.MemoryLeakTestCase):
    verbosity = 0
    times = 100
    retries = 4

    def test_native_leak(self):
        try:
            self.execute(leak_native, checkers=memalot.Checkers.only("memory"))
        except memalot.MemoryLeakError as e:
            say_growth("test_native_leak", e)
            raise

    def test_native_mmap_leak(self):
        # blocks above malloc's mmap threshold (128 KiB) are mappings of their own
        try:
            self.execute(leak_native, 262144, times=10, checkers=memalot.Checkers.only("memory"))
        except memalot.MemoryLeakError as e:
            say_growth("test_native_mmap_leak", e)
            raise

    def test_native_within_tolerance(self):
        # test_native_leak's leak, allowed up to 8 MiB a run
        self.execute(leak_native, tolerance=8 << 20, checkers=memalot.Checkers.only("memory"))

    def test_malloc_info(self):
        from memalot import _check

        info = memalot.malloc_info()
        self.assertEqual(sorted(info), ["heap_total", "heap_used", "mmap_used"])
        self.assertTrue(all(isinstance(v, int) and v >= 0 for v in info.values()), info)
        p = _libc.malloc(1 << 20)
        self.assertGreaterEqual(memalot.malloc_info()["mmap_used"], info["mmap_used"] + (1 << 20))
        _libc.free(p)
        # the C libraries before mallinfo2 (glibc 2.33): mallinfo, the same figures in ints
        legacy = _check._libc.mallinfo
        legacy.restype, legacy.argtypes = _check._Mallinfo, []
        saved, _check._mallinfo = _check._mallinfo, legacy
        try:
            old = memalot.malloc_info()
        finally:
            _check._mallinfo = saved
        new = memalot.malloc_info()
        self.assertEqual(sorted(old), sorted(new))
        self.assertTrue(all(abs(old[k] - new[k]) < (1 << 20) for k in new), (old, new))
        self.assertIsInstance(memalot.malloc_trim(), bool)

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
