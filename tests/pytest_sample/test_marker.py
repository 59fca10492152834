"""The memalot marker: only marked tests are checked without --memalot, each with its own limits."""

import pytest

import myapp.cache
import myapp.native

_CALLS = [0]


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


@pytest.mark.memalot(calls=2, warmup_calls=1)
def test_leak_after_more_calls_than_checked():
    _CALLS[0] += 1
    if _CALLS[0] > 5:
        myapp.cache.handle("late")


def test_unmarked_leak():
    assert myapp.cache.handle("GET /unchecked") > 0
