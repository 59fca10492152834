"""A table built on first use, then only read: not a leak."""

_TABLE = {}
_LAST = None


def lookup(key):
    if not _TABLE:
        for i in range(200):
            _TABLE["k%d" % i] = ["value", i]
    return _TABLE.get(key)


def remember_last(value):
    """Keeps only the latest value: each call frees the one before."""
    global _LAST
    _LAST = {"value": value, "items": [value] * 3}
    return True
