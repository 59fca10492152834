"""MemoryLeakTestCase run by pytest, with the plugin's engine in the same process: they share it."""

import memalot

import myapp.cache
import myapp.once


class TestWithPsleakApi(memalot.MemoryLeakTestCase):
    times = 50
    retries = 2
    verbosity = 0

    def test_object_leak(self):
        with self.assertRaises(memalot.ObjectLeakError) as cm:
            self.execute(myapp.cache.handle, "GET /case", checkers=memalot.Checkers.only("objects"))
        assert "myapp.cache._CACHE (global)" in str(cm.exception)

    def test_clean(self):
        self.execute(myapp.once.lookup, "k3", checkers=memalot.Checkers.exclude("memory"))


def test_plugin_checked_leak_after_the_case():
    # the plugin's check after MemoryLeakTestCase's: the same engine, still working
    assert myapp.cache.handle("GET /after") > 0
