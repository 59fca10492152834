"""The sample suite of tests/integration/test_pytest.c: three leaking tests, the rest clean."""

import pytest

import myapp.cache
import myapp.native
import myapp.once


def test_leaks_into_cache():
    assert myapp.cache.handle("GET /") > 0


def test_leaks_fd():
    assert myapp.native.open_config()


def test_leaks_native():
    assert myapp.native.native_buffer()


def test_cache_filled_once():
    assert myapp.once.lookup("k7") == ["value", 7]


def test_keeps_last_only():
    assert myapp.once.remember_last("x" * 10)


def test_clean_containers():
    data = [{"n": i, "sq": [i * i]} for i in range(500)]
    assert sum(d["n"] for d in data) == 124750


def test_clean_native():
    assert myapp.native.native_buffer_freed()


def test_clean_file(tmp_path):
    path = tmp_path / "x.txt"
    with open(path, "w") as f:
        f.write("hello")
    with open(path) as f:
        assert f.read() == "hello"


@pytest.mark.parametrize("n", [1, 2])
def test_clean_parametrized(n):
    assert str(n) * 3 == "%d%d%d" % (n, n, n)


class TestClass:
    def test_clean_method(self):
        assert {"a": 1}.get("a") == 1
