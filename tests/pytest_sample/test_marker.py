"""The memalot marker: only marked tests are checked without --memalot, each with its own limits."""

import pytest

import myapp.cache
import myapp.native

@pytest.mark.memalot
def test_marked_leak():
    assert myapp.cache.handle("POST /") > 0


@pytest.mark.memalot(max_objects=5)
def test_within_max_objects():
    # 3 objects per call: within the limit
    assert myapp.cache.handle("PUT /") > 0


@pytest.mark.memalot(included_type_names={"collections"})
def test_other_types_only():
    # what leaks is not of the types asked for
    assert myapp.cache.handle("HEAD /") > 0


@pytest.mark.memalot(fail_on="fds")
def test_marked_fd_leak():
    assert myapp.native.open_config()


@pytest.mark.memalot(max_objects=100, max_bytes=10)
def test_over_max_bytes():
    # 3 objects per call, within max_objects, but more than 10 bytes
    assert myapp.cache.handle("PATCH /") > 0


def _fill(table, size):
    """A table that grows by one entry a call over its first `size` calls, then is only read."""
    if len(table) < size:
        table.append(myapp.cache.Response("entry %d" % len(table)))


_FILLED_IN_WARMUP = []
_FILLED_IN_FIVE = []


@pytest.mark.memalot(warmup_calls=4, calls=3, screen=False)
def test_warmup_covers_the_filling():
    # fills over 4 calls, all of them the warm-up (with 1, every checked call would leak)
    _fill(_FILLED_IN_WARMUP, 4)


@pytest.mark.memalot(calls=6, screen=False)
def test_more_calls_see_the_filling_end():
    # fills over calls 1-5: the 6th checked call's window is clean (with 3, every window leaks)
    _fill(_FILLED_IN_FIVE, 5)


def test_unmarked_leak():
    assert myapp.cache.handle("GET /unchecked") > 0
