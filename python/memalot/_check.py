"""Checks of a function called again and again: what the pytest plugin and
MemoryLeakTestCase share.

- The engine's object check: after the warm-up, each checked call runs as a
  monitored call of one memalot engine (function-based discovery, JSON
  reports). An object made by checked call k that is still alive at the exit
  of call k + age - 1 is a leak of that call (the engine's
  max_object_age_calls; 2 by default here, so that what a call replaces on
  the next call, a "last result" kept in a global, is not a leak, while what
  every call adds for good is).
- The process's own figures: malloc's bytes in use (glibc's mallinfo2), open
  descriptors, threads.

A check ends at the first window where nothing grew: clean functions cost
the fewest snapshots; a leak has to show in every window to be one.
"""

import array
import ctypes
import ctypes.util
import gc
import json
import os
import re
import sys
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from ._engine import EngineError, Helper

__all__ = ["malloc_info", "malloc_trim", "open_fds", "new_fds", "ObjectChecker", "Window", "CallCheck", "run_checked", "describe_objects",
           "format_bytes", "root_location", "shared_checker", "close_shared"]


# -- glibc's allocator ------------------------------------------------------

class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


class _Mallinfo(ctypes.Structure):
    _fields_ = [(_f[0], ctypes.c_int) for _f in _Mallinfo2._fields_]


_libc: Any = None
_mallinfo: Any = None


def _load_libc() -> Any:
    global _libc, _mallinfo
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        for name, struct in (("mallinfo2", _Mallinfo2), ("mallinfo", _Mallinfo)):
            fn = getattr(_libc, name, None)
            if fn is not None:
                fn.restype = struct
                fn.argtypes = []
                _mallinfo = fn
                break
        trim = getattr(_libc, "malloc_trim", None)
        if trim is not None:
            trim.restype = ctypes.c_int
            trim.argtypes = [ctypes.c_size_t]
    return _libc


def malloc_info() -> Dict[str, int]:
    """glibc's allocator figures, as psleak gives them: heap_used (bytes in use
    from malloc's heaps), mmap_used (bytes of blocks malloc mapped on their
    own) and heap_total (bytes of the heaps). From mallinfo2(), or mallinfo()
    before glibc 2.33 (whose int fields wrap above 2 GiB)."""
    _load_libc()
    if _mallinfo is None:
        raise OSError("this C library has no mallinfo (memalot.malloc_info needs glibc)")
    mi = _mallinfo()
    mask = (1 << 32) - 1 if isinstance(mi, _Mallinfo) else -1
    return {"heap_used": mi.uordblks & mask, "mmap_used": mi.hblkhd & mask, "heap_total": mi.arena & mask}


def malloc_trim(pad: int = 0) -> bool:
    """Give the allocator's free memory back to the system (glibc's
    malloc_trim). True when some was released."""
    libc = _load_libc()
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return False
    return bool(trim(pad))


def _malloc_used() -> int:
    """heap_used + mmap_used, making no dict (the screen's readings keep the
    interpreter's free lists as they were)."""
    if _mallinfo is None:
        _load_libc()
        if _mallinfo is None:
            return 0
    mi = _mallinfo()
    if isinstance(mi, _Mallinfo):
        return (mi.uordblks & 0xFFFFFFFF) + (mi.hblkhd & 0xFFFFFFFF)
    return mi.uordblks + mi.hblkhd


# -- the process's descriptors and threads ----------------------------------

def open_fds() -> Dict[int, str]:
    """This process's open descriptors and what each is (readlink of /proc/self/fd/N)."""
    out = {}
    fd_dir = "/proc/self/fd"
    for name in os.listdir(fd_dir):
        try:
            out[int(name)] = os.readlink(os.path.join(fd_dir, name))
        except (OSError, ValueError):
            pass  # the listing's own descriptor, closed already
    return out


def new_fds(before: Dict[int, str], after: Dict[int, str]) -> Dict[int, str]:
    """The descriptors of after (open_fds) not open before, or open on another file."""
    return {fd: what for fd, what in after.items() if before.get(fd) != what}


def native_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def format_bytes(n: float) -> str:
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return "%s%d %s" % (sign, n, unit) if unit == "B" else "%s%.1f %s" % (sign, n, unit)
        n /= 1024.0
    return "%s%d B" % (sign, n)


# -- the engine --------------------------------------------------------------

class Window:
    """The leaks of one checked call: its objects still alive age - 1 calls later.

    Garbage is not a leak: objects only a reference cycle holds (the
    engine's "unreachable_cycle" groups) go at the next collection, so the
    calls run without a gc.collect() each (it costs more than a snapshot on
    a large heap).
    """

    def __init__(self, call: int, report: Dict[str, Any]) -> None:
        self.call = call
        self.report = report
        summary = report.get("leak_summary") or {}
        groups = list(report.get("leak_groups") or [])
        garbage = sum(int(g.get("object_count") or 0) for g in groups if g.get("root_kind") == "unreachable_cycle")
        self.groups: List[Dict[str, Any]] = [g for g in groups if g.get("root_kind") != "unreachable_cycle"]
        self.objects = max(int(summary.get("total_objects") or 0) - garbage, 0)
        self.bytes = sum(int(g.get("retained_size_bytes") or 0) for g in self.groups)


class ObjectChecker:
    """One memalot engine on this process, for checked calls.

    Calls are numbered for the engine with a gap between two checks, so that
    what one check's last call made is never the age of a leak of the next
    check's windows.
    """

    def __init__(self, args: List[str], age: int) -> None:
        self.args = list(args)
        self.age = age
        self._helper: Optional[Helper] = None
        self._error: Optional[EngineError] = None
        self._last = 0
        self._frames: List[str] = []
        self._keep = ""
        self.report_id: Optional[str] = None

    def _on_report(self, text: str) -> None:
        self._frames.append(text)

    def _start(self) -> Helper:
        if self._error is not None:
            raise self._error
        if self._helper is None or self._helper.owner != os.getpid():
            if self._helper is not None:
                self._helper.abandon()  # a forked child: the parent's engine is the parent's
                self._last = 0
            try:
                self._helper = Helper(self.args + ["--calls", "--json", "--warmup-calls", "0",
                                                   "--max-object-age-calls", str(self.age)], self._on_report)
            except EngineError as e:
                self._error = e
                raise
            self.report_id = self._helper.report_id
        return self._helper

    def first_call(self, *keep: Any) -> int:
        """A new check's first call number (started, the entry snapshot taken).
        keep: what the caller keeps across the check's calls: not leaks, nor
        what only they hold."""
        helper = self._start()
        # made once, before the first call: a new int with the same value at
        # the same address each call would pass for one old object
        self._keep = "".join(" %#x" % id(k) for k in keep)
        number = self._last + self.age + 1
        self._last = number
        helper.call_point(False, number)
        return number

    def _point(self, verb: str, number: int, ret: Any) -> None:
        helper = self._start()
        # Helper.call_point's twin, for "next" and a third address: the line is
        # a temporary of _send, gone before the snapshot (an argument passed
        # down would be alive at it)
        helper._lock.acquire()
        try:
            helper._send("%s %d %#x%s" % (verb, number, 0 if ret is None else id(ret), self._keep))
            helper.read_until("ok %d" % number)
        finally:
            helper._lock.release()

    def next_call(self, number: int, ret: Any) -> None:
        """Call number ends (ret: what it returned) and number + 1 begins, at one snapshot."""
        self._point("next", number, ret)
        self._last = number + 1

    def end_call(self, number: int, ret: Any) -> None:
        self._point("exit", number, ret)

    def enter(self, number: int) -> None:
        self._start().call_point(False, number)
        self._last = number

    def take_frames(self) -> List[str]:
        frames, self._frames = self._frames, []
        return frames

    def close(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None and helper.owner == os.getpid():
            helper.stop()


_shared: Optional[ObjectChecker] = None


def shared_checker(args: List[str], age: int) -> ObjectChecker:
    """The process's engine for checks with these options. One tracer at a
    time may trace a process: the pytest plugin and MemoryLeakTestCase share
    it, and other options stop it and start one with them."""
    global _shared
    if _shared is not None and (_shared.args != list(args) or _shared.age != age):
        _shared.close()
        _shared = None
    if _shared is None:
        import atexit

        _shared = ObjectChecker(args, age)
        atexit.register(_shared.close)
    return _shared


def close_shared() -> None:
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None


class CallCheck:
    """What one check found: the object windows, and per checked call the
    growth of descriptors, malloc's bytes and threads."""

    def __init__(self) -> None:
        self.windows: List[Window] = []
        self.calls = 0
        self.fd_growth: List[int] = []
        self.new_fds: Dict[int, str] = {}
        self.native_growth: List[int] = []
        self.thread_growth: List[int] = []
        self.report_id: Optional[str] = None
        self.age = 0
        self.screened = False  # decided by the in-process counters, without the engine

    def objects_leak(self, max_objects: int, max_bytes: Optional[int]) -> bool:
        return bool(self.windows) and all(
            w.objects > max_objects or (max_bytes is not None and w.bytes > max_bytes) for w in self.windows)

    def fds_leak(self) -> bool:
        return bool(self.fd_growth) and all(g > 0 for g in self.fd_growth)

    def native_leak(self, max_native_bytes: int) -> bool:
        return bool(self.native_growth) and all(g > max_native_bytes for g in self.native_growth)

    def leaking(self, kinds: Tuple[str, ...], max_objects: int = 0, max_bytes: Optional[int] = None,
                max_native_bytes: int = 4096) -> List[str]:
        """The kinds ("objects", "fds", "native") of kinds that leaked in every window or call so far."""
        leaks = {"objects": lambda: self.objects_leak(max_objects, max_bytes), "fds": self.fds_leak,
                 "native": lambda: self.native_leak(max_native_bytes)}
        return [k for k in ("objects", "fds", "native") if k in kinds and leaks[k]()]


class _Sample:
    """The process's cheap counters after a call: pymalloc's blocks, malloc's
    bytes, descriptors, threads."""

    __slots__ = ("blocks", "heap", "fds", "threads")

    def __init__(self) -> None:
        self.blocks = sys.getallocatedblocks()
        self.heap = _malloc_used()
        self.fds = open_fds()
        self.threads = native_threads()


def _read(r: Any, at: int) -> None:
    """pymalloc's blocks, malloc's bytes in use, descriptors and threads into
    r[at:at + 4], keeping nothing alive."""
    r[at] = sys.getallocatedblocks()
    r[at + 1] = _malloc_used()
    r[at + 2] = len(os.listdir("/proc/self/fd"))
    r[at + 3] = native_threads()


def _record(result: CallCheck, before: _Sample, after: _Sample) -> None:
    result.calls += 1
    result.fd_growth.append(len(after.fds) - len(before.fds))
    result.new_fds.update(new_fds(before.fds, after.fds))
    result.native_growth.append(after.heap - before.heap)
    result.thread_growth.append(after.threads - before.threads)


def run_checked(fn: Callable[[], Any], checker: Optional[ObjectChecker], warmup: int, calls: int,
                kinds: Tuple[str, ...], max_objects: int = 0, max_bytes: Optional[int] = None,
                max_native_bytes: int = 4096, screen: bool = True) -> CallCheck:
    """Call fn warmup times, then check it for kinds ("objects", "fds",
    "native"; objects needs checker).

    screen: first two calls measured with in-process counters only (pymalloc's
    allocated blocks and malloc's bytes in use: a call that keeps a new object
    of any size grows one of them). Only when both grew are up to `calls`
    calls watched by the engine, whose windows decide; the check ends at the
    first window where nothing of kinds grew. An exception of fn goes
    through, the engine's call ended first."""
    for _ in range(warmup):
        fn()
    result = CallCheck()
    want_objects = "objects" in kinds and checker is not None
    age = checker.age if want_objects else 1
    result.age = age
    if want_objects and calls < age:
        raise ValueError("calls (%d) must be at least max_object_age_calls (%d): an object is a leak only once "
                         "it has lived that many calls" % (calls, age))
    _malloc_used()  # ctypes makes its caches on the first call, before the checked ones
    if screen:
        # readings go into a preallocated array: measuring keeps no object
        # alive, so the counters move only by what the calls keep
        fds_start = set(os.listdir("/proc/self/fd"))
        r = array.array("q", bytes(8 * 4 * 3))
        # young collections first (cheap); when both calls grew by one block,
        # again with full ones: only those empty the interpreter's free
        # lists, which grow by an object a call in some calls (a **kwargs dict)
        for generation in (1, 2):
            gc.collect(generation)
            _read(r, 0)
            for k in (1, 2):
                fn()
                gc.collect(generation)
                _read(r, 4 * k)
            grew = sum(r[4 * k] > r[4 * k - 4] or r[4 * k + 1] > r[4 * k - 3] for k in (1, 2))
            # a free list grows by one block a call; more, or malloc'd bytes, is
            # worth the engine without the full collections' cost
            small = all(r[4 * k] - r[4 * k - 4] <= 1 and r[4 * k + 1] <= r[4 * k - 3] for k in (1, 2))
            if grew < 2 or not small:
                break
        for k in (1, 2):
            result.calls += 1
            result.fd_growth.append(r[4 * k + 2] - r[4 * k - 2])
            result.native_growth.append(r[4 * k + 1] - r[4 * k - 3])
            result.thread_growth.append(r[4 * k + 3] - r[4 * k - 1])
        if r[10] > r[2]:
            for fd, what in open_fds().items():
                if str(fd) not in fds_start:
                    result.new_fds[fd] = what
        del fds_start, r
        suspect = result.leaking(tuple(k for k in kinds if k != "objects"), max_native_bytes=max_native_bytes)
        if not (want_objects and grew == 2):
            result.screened = True
            return result
        if not suspect:
            # the engine's calls decide
            result.calls = 0
            result.fd_growth, result.native_growth, result.thread_growth = [], [], []
    # everything this check keeps across its calls hangs from `kept` or
    # `result`: passed to the engine as what the calls leave to their
    # caller, they are not leaks
    kept: List[Any] = []
    before = _Sample()
    number = checker.first_call(kept, result) if want_objects else 0
    if want_objects:
        result.report_id = checker.report_id
    in_call = want_objects
    try:
        for k in range(1, calls + 1):
            if want_objects and not in_call:
                number += 1
                checker.enter(number)
                in_call = True
            ret = fn()
            kept.append(ret)
            after = _Sample()
            _record(result, before, after)
            before = after
            del after
            if want_objects:
                if k < age:
                    checker.next_call(number, ret)
                    number += 1
                    del ret
                    continue
                checker.end_call(number, ret)
                in_call = False
                for frame in checker.take_frames():
                    try:
                        report = json.loads(frame)
                    except ValueError:
                        continue
                    if not report.get("warmup_report") and report.get("call_number") == number:
                        result.windows.append(Window(number - age + 1, report))
            del ret
            if k < age:
                continue
            if not result.leaking(kinds, max_objects, max_bytes, max_native_bytes):
                break
    except BaseException:
        if want_objects and in_call:
            try:
                checker.end_call(number, None)
                checker.take_frames()
            except EngineError:
                pass
        raise
    return result


# -- where a root is in the source -------------------------------------------

_GLOBAL = re.compile(r"^(?P<name>[A-Za-z_][\w.]*) \((?:global|class attribute)\)")


def root_location(root: str) -> Optional[str]:
    """file:line of a leak group's root when it is a module global or a class
    attribute of a module loaded here: the line that assigns it (or defines
    the class). None when not found."""
    m = _GLOBAL.match(root)
    if not m:
        return None
    dotted = m.group("name").split(".")
    # the longest prefix that is a loaded module; the rest: attribute names
    for cut in range(len(dotted) - 1, 0, -1):
        module = sys.modules.get(".".join(dotted[:cut]))
        if module is not None:
            break
    else:
        return None
    names = dotted[cut:]
    path = getattr(module, "__file__", None)
    if not path or not names:
        return None
    target = names[0]
    if "(class attribute)" in root and len(names) >= 2:
        pattern = re.compile(r"^\s*class\s+%s\b" % re.escape(target))
    else:
        pattern = re.compile(r"^%s\s*(?::[^=]*)?=" % re.escape(target))
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                if pattern.match(line):
                    return "%s:%d" % (_short(path), lineno)
    except OSError:
        return None
    return _short(path)


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def describe_objects(name: str, result: CallCheck, warmup: int, groups: int = 5) -> List[str]:
    """The lines that say what a check's last window leaked and what holds it."""
    w = result.windows[-1]
    later = ("at the end of the call" if result.age == 1 else
             "%d call%s later" % (result.age - 1, "" if result.age == 2 else "s"))
    counts = " and ".join(str(x.objects) for x in result.windows)
    lines = ["memalot: %s leaked Python objects: what each checked call made is still alive %s "
             "(%s object%s in %d window%s; warm-up %d call%s)"
             % (name, later, counts, "" if counts == "1" else "s", len(result.windows),
                "" if len(result.windows) == 1 else "s", warmup, "" if warmup == 1 else "s")]
    total = w.report.get("total_leak_groups") or len(w.groups)
    for i, g in enumerate(w.groups[:groups], 1):
        count = g.get("object_count", 0)
        types = ", ".join("%s x%d" % (t.get("object_type"), t.get("count", 0)) for t in g.get("types") or [])
        lines.append("  leak group %d of %d: %d object%s, %s retained: %s"
                     % (i, total, count, "" if count == 1 else "s", format_bytes(g.get("retained_size_bytes") or 0),
                        types))
        where = root_location(g.get("root") or "")
        lines.append("    %s%s" % (where + ": " if where else "", g.get("path") or g.get("root") or "?"))
    if total > groups:
        lines.append("  ... %d more group%s" % (total - groups, "" if total == groups + 1 else "s"))
    details = w.report.get("object_details_list") or []
    if details:
        d = details[0]
        lines.append("  for example %s at %#x: %s" % (d.get("object_type_name"), d.get("object_id") or 0,
                                                      (d.get("object_str") or "")[:100]))
    return lines
