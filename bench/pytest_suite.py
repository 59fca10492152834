"""Writes the suites of bench/pytest.sh into a directory: usage: pytest_suite.py DIR TESTS HEAP.

DIR/conftest.py builds a heap of HEAP objects at start (what a real
application's imports and fixtures leave); DIR/test_small.py has TESTS small
tests, in the shapes of a real suite (plain asserts, parametrized, a class,
fixtures, containers made and dropped); DIR/test_grow.py has 20 tests whose
every call keeps one object for good, which the screen cannot clear: the
engine watches them.
"""

import os
import sys

out, tests, heap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "conftest.py"), "w") as f:
    f.write("import pytest\n\n_HEAP = [{'k': i, 'v': [i]} for i in range(%d)]\n\n\n"
            "@pytest.fixture\ndef numbers():\n    return list(range(50))\n" % max(heap // 3, 1))
with open(os.path.join(out, "test_small.py"), "w") as f:
    f.write("import pytest\n\n")
    for i in range(tests):
        kind = i % 4
        if kind == 0:
            f.write("def test_add_%d():\n    assert %d + 1 == %d\n\n\n" % (i, i, i + 1))
        elif kind == 1:
            f.write("def test_containers_%d():\n    d = {str(k): [k] for k in range(40)}\n"
                    "    assert len(d) == 40\n\n\n" % i)
        elif kind == 2:
            f.write("def test_fixture_%d(numbers):\n    assert sum(numbers) == 1225\n\n\n" % i)
        else:
            f.write("class TestC%d:\n    def test_method(self):\n        assert 'a%d'.upper() == 'A%d'\n\n\n"
                    % (i, i, i))
with open(os.path.join(out, "test_grow.py"), "w") as f:
    # kept objects within the marker's limit: the tests pass, the engine watches each
    f.write("import pytest\n\npytestmark = pytest.mark.memalot(max_objects=100)\n\n_KEEP = []\n\n")
    for i in range(20):
        f.write("def test_grow_%d():\n    _KEEP.append(object())\n    _KEEP.pop()\n    _KEEP.append([%d])\n\n\n" % (i, i))
