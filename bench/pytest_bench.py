"""The figures of bench/pytest.sh: usage: pytest_bench.py TESTS HEAP MEMALOT."""

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

tests, heap, memalot = int(sys.argv[1]), int(sys.argv[2]), os.path.abspath(sys.argv[3])
src = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
tmp = tempfile.mkdtemp(prefix="memalot-bench-pytest.")
env = dict(os.environ, PYTHONPATH=os.path.join(src, "python"), MEMALOT_BIN=memalot, PYTHONDONTWRITEBYTECODE="1")


def run(suite, file, *args):
    """Seconds of one pytest run; without args, plain pytest (the plugin not loaded)."""
    plugin = ["-p", "memalot.pytest_plugin", "--memalot-report-directory", os.path.join(tmp, "reports")] if args else []
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"] + plugin + list(args) + [file],
                       cwd=os.path.join(tmp, suite), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    t = time.perf_counter() - t0
    if p.returncode:
        sys.exit("pytest exited %d:\n%s" % (p.returncode, p.stdout.decode(errors="replace")))
    return t


def best(*a, n=3):
    return min(run(*a) for _ in range(n))


try:
    for suite, h in (("small", 0), ("heap", heap)):
        subprocess.run([sys.executable, os.path.join(src, "bench", "pytest_suite.py"), os.path.join(tmp, suite),
                        str(tests), str(h)], check=True)
    print("python %s, pytest %s, %d cores" % (platform.python_version(), pytest.__version__, os.cpu_count()))
    # each mode in turn, best of 3: the machine is shared
    plain, checked = best("small", "test_small.py"), best("small", "test_small.py", "--memalot")
    print("%d small tests, pytest's own heap: plain %.2f s, --memalot %.2f s: %.2fx (goal <= 3x), +%.1f ms a test"
          % (tests, plain, checked, checked / plain, (checked - plain) * 1000 / tests))
    plain, checked = best("heap", "test_small.py"), best("heap", "test_small.py", "--memalot")
    engine = run("heap", "test_small.py", "--memalot", "--memalot-no-screen")
    print("%d small tests, %d-object heap: plain %.2f s, --memalot %.2f s (+%.1f ms a test), --memalot-no-screen "
          "%.2f s (+%.0f ms a test; goal <= 300)"
          % (tests, heap, plain, checked, (checked - plain) * 1000 / tests, engine, (engine - plain) * 1000 / tests))
    plain, checked = best("heap", "test_grow.py"), run("heap", "test_grow.py", "--memalot")
    print("20 tests keeping objects (the engine watches each), %d-object heap: plain %.2f s, --memalot %.2f s: "
          "+%.0f ms a test (goal <= 300)" % (heap, plain, checked, (checked - plain) * 1000 / 20))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
