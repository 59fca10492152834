"""For `memalot run -- python3 -m pytest` (tests/integration/test_pytest.c):
a test that leaks until memalot, watching the pytest process from outside,
has saved a report that names leaked objects (MEMALOT_WAIT_REPORTS: the
report directory), or 120 s pass."""

import json
import os
import subprocess
import time

import pytest

import myapp.cache


def _leaked(directory):
    p = subprocess.run([os.environ["MEMALOT_BIN"], "list", "--json", "--report-directory", directory],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        return any(s.get("leaked_objects", 0) > 0 for s in json.loads(p.stdout or b"[]"))
    except ValueError:
        return False


def test_leaks_until_reported():
    directory = os.environ.get("MEMALOT_WAIT_REPORTS")
    if not directory:
        pytest.skip("run by tests/integration/test_pytest.c under memalot run")
    end = time.monotonic() + 120
    while time.monotonic() < end and not _leaked(directory):
        for _ in range(5):
            myapp.cache.handle("GET /slow")
            time.sleep(0.02)
    assert _leaked(directory), "memalot saved no report naming a leak"
