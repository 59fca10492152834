"""A marker with an option memalot does not have: the test fails, saying which."""

import pytest


@pytest.mark.memalot(no_such_option=1)
def test_bad_option():
    pass
