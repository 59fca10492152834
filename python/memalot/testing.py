"""psleak's MemoryLeakTestCase on memalot: unittest checks that a function
leaks no memory, descriptors, threads or uncollectable garbage, plus the
check psleak lacks: the Python objects each call keeps, found by the memalot
engine with the chain of references that keeps them::

    import memalot

    class TestLeaks(memalot.MemoryLeakTestCase):
        def test_my_function(self):
            self.execute(my_c_function)

Each check raises its own error, all of them AssertionErrors (a unittest
failure): MemoryLeakError (heap, mmap, uss, rss, vms kept growing; its
`growth` has the figures per metric), UnclosedFdError,
UnclosedPythonThreadError, UnclosedNativeThreadError,
UncollectableGarbageError, and ObjectLeakError (a MemoryLeakError, with
`windows`: what the engine found).
"""

import functools
import gc
import os
import sys
import threading
import unittest
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Union

from ._check import (CallCheck, describe_objects, format_bytes, malloc_info, malloc_trim, native_threads,
                     new_fds, open_fds, run_checked, shared_checker)

__all__ = ["MemoryLeakTestCase", "Checkers", "LeakError", "MemoryLeakError", "ObjectLeakError", "UnclosedFdError",
           "UnclosedPythonThreadError", "UnclosedNativeThreadError", "UncollectableGarbageError"]

METRICS = ("heap", "mmap", "uss", "rss", "vms")


class LeakError(AssertionError):
    """A check of MemoryLeakTestCase failed."""


class MemoryLeakError(LeakError):
    """The process's memory kept growing; growth: {metric: [bytes per run]}."""

    def __init__(self, message: str, growth: Optional[Dict[str, List[int]]] = None) -> None:
        super().__init__(message)
        self.growth = growth or {}


class ObjectLeakError(MemoryLeakError):
    """Each checked call left Python objects alive; the engine's windows say
    which and what holds them."""

    def __init__(self, message: str, check: CallCheck) -> None:
        super().__init__(message, {"objects": [w.objects for w in check.windows]})
        self.windows = check.windows
        self.report_id = check.report_id


class UnclosedFdError(LeakError):
    """A call left file descriptors open."""


class UnclosedPythonThreadError(LeakError):
    """A call left threading.Thread objects running."""


class UnclosedNativeThreadError(LeakError):
    """A call left operating-system threads running."""


class UncollectableGarbageError(LeakError):
    """A call left objects in gc.garbage (cycles the collector cannot free)."""


class Checkers:
    """Which checks execute() runs: Checkers.only("memory", "fds"), Checkers.exclude("objects")."""

    NAMES = frozenset({"memory", "objects", "fds", "python_threads", "native_threads", "gcgarbage"})

    def __init__(self, names: Iterable[str] = NAMES) -> None:
        names = frozenset(names)
        bad = sorted(names - self.NAMES)
        if bad:
            raise ValueError("unknown checker %s (the checkers: %s)" % (", ".join(bad), ", ".join(sorted(self.NAMES))))
        self.names: FrozenSet[str] = names

    @classmethod
    def only(cls, *names: str) -> "Checkers":
        return cls(names)

    @classmethod
    def exclude(cls, *names: str) -> "Checkers":
        cls(names)  # the names are checked
        return cls(cls.NAMES - frozenset(names))

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def __repr__(self) -> str:
        return "Checkers.only(%s)" % ", ".join(repr(n) for n in sorted(self.names))


def _statm() -> Dict[str, int]:
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as f:
        size, resident = f.read().split()[:2]
    return {"vms": int(size) * page, "rss": int(resident) * page}


def _uss() -> int:
    total = 0
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:", "Private_Hugetlb:")):
                    total += int(line.split()[1]) * 1024
    except OSError:
        return 0
    return total


def memory_metrics() -> Dict[str, int]:
    """heap and mmap (malloc_info), uss, rss and vms of this process, in bytes."""
    info = malloc_info()
    out = {"heap": info["heap_used"], "mmap": info["mmap_used"], "uss": _uss()}
    out.update(_statm())
    return out


def _qualname(fun: Any) -> str:
    return getattr(fun, "__qualname__", getattr(fun, "__name__", repr(fun)))


class MemoryLeakTestCase(unittest.TestCase):
    """unittest.TestCase with execute(fun, *args, **kwargs): fun must not leak.

    The tunables are class attributes, or keywords of execute() for one call.
    """

    # calls of fun per run of the memory check
    times = 200
    # runs of the memory check after the first, while memory grows
    retries = 5
    # calls before any check: caches fill, imports happen
    warmup_times = 10
    # growth allowed per run, in bytes: an int, or {metric: bytes}
    tolerance: Union[int, Dict[str, int]] = 0
    # 0: quiet; 1: print the runs where memory grew
    verbosity = 1
    # calls per run at most, as the runs double
    max_calls_per_retry = 1600
    # which checks run (None: all)
    checkers: Optional[Checkers] = None
    # the object check: checked calls, the age (in calls) that makes a leak, objects allowed per call
    object_calls = 3
    object_age_calls = 2
    max_objects = 0
    # called before each measure, to empty caches the function fills on purpose
    trim_callback: Optional[Callable[[], Any]] = None

    def _log(self, msg: str, level: int = 1) -> None:
        if level <= self.verbosity:
            sys.stderr.write(msg + "\n")
            sys.stderr.flush()

    # -- the checks

    def _check_resources(self, fun: Callable[[], Any], checkers: Checkers) -> None:
        """One call: descriptors, threads, gc.garbage."""
        gc.collect()
        fds = open_fds()
        pythreads = threading.active_count()
        natives = native_threads()
        garbage = len(gc.garbage)
        fun()
        gc.collect()
        name = _qualname(fun)
        if "fds" in checkers:
            after = open_fds()
            new = new_fds(fds, after)
            if len(after) > len(fds):
                n = len(after) - len(fds)
                raise UnclosedFdError("detected %d unclosed fd%s after calling %r 1 time: %s"
                                      % (n, "" if n == 1 else "s", name,
                                         ", ".join("%d -> %s" % kv for kv in sorted(new.items())[:10])))
        if "python_threads" in checkers:
            n = threading.active_count() - pythreads
            if n > 0:
                raise UnclosedPythonThreadError("%r left %d Python thread%s running after 1 call: %s"
                                                % (name, n, "" if n == 1 else "s",
                                                   ", ".join(t.name for t in threading.enumerate()[-n:])))
        if "native_threads" in checkers:
            n = native_threads() - natives
            if n > 0:
                raise UnclosedNativeThreadError("%r left %d native thread%s running after 1 call"
                                                % (name, n, "" if n == 1 else "s"))
        if "gcgarbage" in checkers and len(gc.garbage) > garbage:
            new_garbage = gc.garbage[garbage:]
            n = len(new_garbage)
            kinds = ", ".join(sorted({type(o).__name__ for o in new_garbage}))
            del new_garbage
            raise UncollectableGarbageError("%r left %d uncollectable object%s in gc.garbage (%s)"
                                            % (name, n, "" if n == 1 else "s", kinds))

    def _check_objects(self, fun: Callable[[], Any]) -> None:
        check = run_checked(fun, shared_checker([], self.object_age_calls), 0, self.object_calls, ("objects",),
                            self.max_objects)
        if check.objects_leak(self.max_objects, None):
            lines = describe_objects(_qualname(fun), check, self.warmup_times)
            if check.report_id:
                lines.append("  the whole report: memalot print %s" % check.report_id)
            raise ObjectLeakError("\n".join(lines), check)

    def _measure(self, fun: Callable[[], Any], times: int) -> Dict[str, int]:
        if self.trim_callback is not None:
            self.trim_callback()
        gc.collect()
        malloc_trim()
        before = memory_metrics()
        for _ in range(times):
            fun()
        if self.trim_callback is not None:
            self.trim_callback()
        gc.collect()
        after = memory_metrics()
        return {k: after[k] - before[k] for k in METRICS}

    def _check_memory(self, fun: Callable[[], Any], times: int, retries: int,
                      tolerance: Union[int, Dict[str, int]]) -> None:
        """Runs of `times` calls, twice as many each run (up to
        max_calls_per_retry): a metric leaks when it grew by more than its
        tolerance in every run, about as much per call. Memory figures move
        by pages and by the allocator's whims, a leak grows with the calls: a
        metric that stood still once (rss and uss take turns by a page), or
        whose growth per call halved, is out."""
        growth: Dict[str, List[int]] = {k: [] for k in METRICS}
        growing = set(METRICS)
        lines = []
        prev_times = times
        for run in range(1, retries + 2):
            diffs = self._measure(fun, times)
            for k in METRICS:
                growth[k].append(diffs[k])
            grew = {k: v for k, v in diffs.items() if v > 0}
            if grew:
                line = "Run #%2d: %s (calls=%5d, avg/call=+%s)" % (
                    run, " | ".join("%s=+%s" % (k, format_bytes(v)) for k, v in grew.items()), times,
                    format_bytes(max(grew.values()) // times))
                lines.append(line)
                self._log(line)
            # out: a metric that stood still, or grew by the same per run while
            # the calls doubled (touching pages again after malloc_trim)
            growing = {k for k in growing
                       if diffs[k] > (tolerance.get(k, 0) if isinstance(tolerance, dict) else tolerance)
                       and (run == 1 or diffs[k] / times > growth[k][-2] / prev_times / 2)}
            prev_times = times
            if not growing:
                if run > 1 and grew:
                    self._log("memory stabilized (no further growth)")
                return
            times = min(times * 2, self.max_calls_per_retry) if self.max_calls_per_retry else times * 2
        raise MemoryLeakError("memory kept increasing after %d runs of %r (%s grew in every run)\n%s"
                              % (retries + 1, _qualname(fun), ", ".join(k for k in METRICS if k in growing),
                                 "\n".join(lines)), growth)

    # -- the API

    def call(self, fun: Callable[[], Any]) -> Any:
        return fun()

    def execute(self, fun: Callable[..., Any], *args: Any, times: Optional[int] = None,
                warmup_times: Optional[int] = None, retries: Optional[int] = None,
                tolerance: Optional[Union[int, Dict[str, int]]] = None, checkers: Optional[Checkers] = None,
                **kwargs: Any) -> None:
        """Check that fun(*args, **kwargs) leaks nothing: warm-up calls, then one
        call for descriptors, threads and gc.garbage, the engine's object check,
        and the memory check. The keywords override the class's attributes."""
        times = self.times if times is None else times
        warmup_times = self.warmup_times if warmup_times is None else warmup_times
        retries = self.retries if retries is None else retries
        tolerance = self.tolerance if tolerance is None else tolerance
        checkers = checkers or self.checkers or Checkers()
        for name, value, low in (("times", times, 1), ("warmup_times", warmup_times, 0), ("retries", retries, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError("%s must be an int >= %d (got %r)" % (name, low, value))
        values = tolerance.values() if isinstance(tolerance, dict) else [tolerance]
        if isinstance(tolerance, dict) and set(tolerance) - set(METRICS):
            raise ValueError("tolerance: unknown metric %s (the metrics: %s)"
                             % (", ".join(sorted(set(tolerance) - set(METRICS))), ", ".join(METRICS)))
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
            raise ValueError("tolerance must be >= 0 bytes (got %r)" % (tolerance,))
        if not isinstance(checkers, Checkers):
            raise TypeError("checkers must be a memalot.Checkers, not %r" % (checkers,))
        if args or kwargs:
            target = functools.partial(fun, *args, **kwargs)
            functools.update_wrapper(target, fun)
        else:
            target = fun
        call = functools.partial(self.call, target)
        functools.update_wrapper(call, target)
        for _ in range(warmup_times):
            call()
        if checkers.names & {"fds", "python_threads", "native_threads", "gcgarbage"}:
            self._check_resources(call, checkers)
        if "objects" in checkers:
            self._check_objects(call)
        if "memory" in checkers:
            self._check_memory(call, times, retries, tolerance)
