"""Memalot finds memory leaks in Python programs.

The analysis runs in the memalot engine, a helper process attached to this
one from outside (ptrace and process_vm_readv): the program pauses only while
its memory is copied, and no analysis code runs in it.

Time-based leak discovery::

    import memalot
    memalot.start_leak_monitoring(max_object_lifetime=60.0)

Function-based leak discovery::

    from memalot import leak_monitor

    @leak_monitor
    def process_batch(batch): ...

Options have the names and defaults of the memalot package's (the seed's)
options and of ``memalot attach --help``; see ``memalot options``.
"""

import atexit
import functools
import gc
import inspect
import math
import os
import sys
import threading
from typing import Any, Callable, Dict, List, Optional, TypeVar, Union, overload

from ._engine import EngineError, EngineGone, Helper, python_supported
from ._options import OPTIONS

__all__ = [
    "start_leak_monitoring",
    "leak_monitor",
    "create_leak_monitor",
    "LeakMonitor",
    "Stoppable",
    "EngineError",
    "EngineGone",
    "MemoryLeakTestCase",
    "Checkers",
    "LeakError",
    "MemoryLeakError",
    "ObjectLeakError",
    "UnclosedFdError",
    "UnclosedPythonThreadError",
    "UnclosedNativeThreadError",
    "UncollectableGarbageError",
    "malloc_info",
    "malloc_trim",
]

# psleak's API, loaded on first use (unittest and ctypes are not needed to monitor)
_LAZY = {"malloc_info": "_check", "malloc_trim": "_check"}
_LAZY.update((name, "testing") for name in __all__[__all__.index("MemoryLeakTestCase"):__all__.index("malloc_info")])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module 'memalot' has no attribute %r" % name)
    import importlib

    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value

__version__ = "0.1.0"

F = TypeVar("F", bound=Callable[..., Any])

_MAX_COUNT = 100_000_000
_MAX_SECONDS = 10 * 365 * 86400.0
# options whose None means "no limit", as in the seed
_NONE_IS_UNLIMITED = {"referrers_max_depth", "single_object_referrer_limit", "referrers_search_timeout"}
_TIME_ONLY = {"max_object_lifetime", "warmup_period"}
_CALLS_ONLY = {"max_object_age_calls", "warmup_calls"}
# handled here, in the program: where reports go
_PYTHON_ONLY = {"output_func", "str_func", "tee_console"}

_str_func_warned = False


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s must be a number, not %s" % (name, type(value).__name__))
    return value


def _option_args(name: str, value: Any) -> List[str]:
    """The engine's command-line arguments for one keyword, checked."""
    flag, kind, negates, _default = OPTIONS[name]
    if value is None:
        if name in _NONE_IS_UNLIMITED:
            return ["--" + flag, str(int(_MAX_SECONDS) if kind == "seconds" else _MAX_COUNT)]
        if kind in ("strings", "path", "accepted"):
            return []
        raise TypeError("%s must not be None" % name)
    if kind in ("seconds", "seconds_or_zero"):
        v = float(_number(name, value))
        if not math.isfinite(v) or v < 0 or (v == 0 and kind == "seconds") or v > _MAX_SECONDS:
            raise ValueError("%s must be a number of seconds %s 0 and at most 10 years, not %r"
                             % (name, "above" if kind == "seconds" else "from", value))
        return ["--" + flag, repr(v)]
    if kind in ("count", "count_or_zero"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))
        low = 1 if kind == "count" else 0
        if not low <= value <= _MAX_COUNT:
            raise ValueError("%s must be from %d to %d, not %d" % (name, low, _MAX_COUNT, value))
        return ["--" + flag, str(value)]
    if kind == "flag":
        if not isinstance(value, bool):
            raise TypeError("%s must be True or False, not %r" % (name, value))
        return ["--" + flag] if value != negates else []
    if kind == "strings":
        items = [value] if isinstance(value, str) else value
        try:
            items = list(items)
        except TypeError:
            raise TypeError("%s must be a set of strings, not %s" % (name, type(value).__name__)) from None
        out: List[str] = []
        for s in sorted(items, key=str) if isinstance(items, (set, frozenset)) else items:
            if not isinstance(s, str) or not s:
                raise TypeError("%s must hold non-empty strings, not %r" % (name, s))
            out += ["--" + flag, s]
        return out
    if kind == "path":
        path = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
        if not isinstance(path, str) or not path:
            raise TypeError("%s must be a path, not %r" % (name, value))
        return ["--" + flag, os.path.abspath(path)]
    # "accepted": taken for the seed's sake (colour is the engine's to decide)
    if not isinstance(value, bool):
        raise TypeError("%s must be True, False or None, not %r" % (name, value))
    return []


class _Output:
    """Where reports go: output_func, the console, or both (tee_console)."""

    def __init__(self, output_func: Optional[Callable[[str], Any]], tee_console: bool) -> None:
        self.func = output_func
        self.console = output_func is None or tee_console

    def __call__(self, text: str) -> None:
        if self.func is not None:
            self.func(text.strip("\n"))
        if self.console:
            sys.stdout.write(text)
            sys.stdout.flush()


def _configure(options: Dict[str, Any], calls: bool, module: str) -> "tuple[List[str], _Output]":
    """Check every option before anything starts; the engine's arguments and the output."""
    global _str_func_warned
    args: List[str] = []
    for name, value in options.items():
        if name not in OPTIONS and name not in _PYTHON_ONLY:
            raise TypeError("unknown option %r (memalot's options are those of 'memalot options')" % name)
        if name in (_TIME_ONLY if calls else _CALLS_ONLY):
            raise TypeError("%s is an option of %s leak discovery" % (name, "time-based" if calls else "function-based"))
        if name in _PYTHON_ONLY:
            continue
        args += _option_args(name, value)
    output_func = options.get("output_func")
    if output_func is not None and not callable(output_func):
        raise TypeError("output_func must be callable, not %r" % (output_func,))
    tee = options.get("tee_console", False)
    if not isinstance(tee, bool):
        raise TypeError("tee_console must be True or False, not %r" % (tee,))
    str_func = options.get("str_func")
    if str_func is not None:
        if not callable(str_func):
            raise TypeError("str_func must be callable, not %r" % (str_func,))
        if not _str_func_warned:
            _str_func_warned = True
            sys.stderr.write("memalot: str_func is ignored: the engine reads objects from outside the process "
                             "and cannot call Python code in it (the text of builtin objects is shown)\n")
    if options.get("referrers_module_prefixes") is None and module:
        # the seed's default: the top-level package of the calling code
        args += ["--referrers-module-prefix", module.split(".")[0]]
    return args, _Output(output_func, tee)


def _check_python() -> None:
    why = python_supported()
    if why:
        raise EngineError(why, 7)


def _caller_module(depth: int) -> str:
    try:
        return sys._getframe(depth + 1).f_globals.get("__name__", "") or ""
    except (AttributeError, ValueError):
        return ""


def _say(text: str) -> None:
    sys.stderr.write("memalot: %s\n" % text)
    sys.stderr.flush()


class Stoppable:
    """A running time-based leak monitor: stop() ends it, join() waits for its end."""

    def __init__(self, helper: Helper) -> None:
        self._helper = helper
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="memalot-reports", daemon=True)
        self._thread.start()
        atexit.register(self.stop)

    @property
    def report_id(self) -> Optional[str]:
        """The ID of the saved report ('memalot print ID'), or None when reports are not saved."""
        return self._helper.report_id

    def _run(self) -> None:
        try:
            self._helper.read_until(None)
        except EngineGone as e:
            if not self._stopping:
                _say(str(e))
        except Exception as e:  # the program carries on
            _say("leak monitoring stopped: %s" % e)

    def stop(self) -> None:
        """Stop monitoring: the engine detaches, and the program runs on."""
        if self._stopping:
            return
        self._stopping = True
        self._helper.ask_stop()
        self._thread.join(timeout=30)
        self._helper.stop()
        try:
            atexit.unregister(self.stop)
        except Exception:
            pass

    def join(self, timeout: Optional[float] = None) -> None:
        """Wait until monitoring ends (stop(), or the engine ends)."""
        self._thread.join(timeout)


def start_leak_monitoring(max_object_lifetime: float, warmup_time: Optional[float] = None,
                          **options: Any) -> Stoppable:
    """Starts monitoring for memory leaks (time-based leak discovery).

    An object is considered a potential leak if it lives for more than
    max_object_lifetime seconds. Objects created during the warm-up period
    (by default max_object_lifetime seconds; warmup_time, or the seed's
    warmup_period) are never reported. A report is printed (or given to
    output_func) every max_object_lifetime seconds after the warm-up.

    The analysis runs in a memalot engine attached to this process; it stops
    at interpreter exit, or with the returned handle's stop().
    """
    _check_python()
    if warmup_time is not None:
        if "warmup_period" in options:
            raise TypeError("give warmup_time or warmup_period, not both")
        options["warmup_period"] = warmup_time
    options["max_object_lifetime"] = max_object_lifetime
    args, output = _configure(options, False, _caller_module(1))
    return Stoppable(Helper(args, output))


class LeakMonitor:
    """Function-based leak discovery around a block of code, reusable.

    Each ``with monitor:`` is one monitored call. After the warm-up calls, at
    the exit of each call, the objects created during a monitored call that
    are still alive max_object_age_calls calls later are reported. Create it
    once and reuse it.
    """

    def __init__(self, args: List[str], output: _Output, name: str = "") -> None:
        self._args = args + ["--calls"]
        self._output = output
        self._name = name
        self._helper: Optional[Helper] = None
        self._gone = False
        self._calls = 0
        self._lock = threading.Lock()
        self._owner: Optional[int] = None
        self._depth = 0
        self._announced = False
        self._tls = threading.local()

    @property
    def report_id(self) -> Optional[str]:
        """The ID of the saved report ('memalot print ID'), once the first call started the engine."""
        return self._helper.report_id if self._helper else None

    def _begin(self) -> int:
        """Start a monitored call: its number, or 0 when this one is not monitored."""
        me = threading.get_ident()
        with self._lock:
            if self._owner is not None:
                if self._owner == me:
                    self._depth += 1  # a nested call is part of the outer one
                return 0  # another thread's call is being monitored
            if self._helper is not None and self._helper.owner != os.getpid():
                # a forked child: the parent's engine watches the parent; this
                # process gets its own, with its own warm-up
                self._helper.abandon()
                self._helper, self._calls, self._announced = None, 0, False
            if self._gone:
                return 0
            self._owner, self._depth = me, 1
            self._calls += 1
            number = self._calls
        try:
            if self._helper is None:
                self._helper = Helper(self._args, self._output)
                atexit.register(self.close)
            if not self._announced and self._name:
                self._announced = True
                self._output("memalot: performing leak monitoring for %s (report %s)\n"
                             % (self._name, self._helper.report_id or "not saved"))
            self._helper.call_point(False, number)
        except EngineGone as e:
            self._lose(str(e))
            return 0
        except BaseException:
            with self._lock:
                self._owner = None
            raise
        return number

    def _end(self, number: int, keep1: Any = None, keep2: Any = None) -> None:
        """End monitored call number (from _begin); keep: what the call leaves to its caller
        (its return value or exception): what only they hold is not a leak."""
        if not number:
            if self._owner == threading.get_ident():
                self._depth -= 1
            return
        try:
            gc.collect()  # what is garbage now is not a leak
            if self._helper is not None and not self._gone:
                self._helper.call_point(True, number, 0 if keep1 is None else id(keep1),
                                        0 if keep2 is None else id(keep2))
        except EngineGone as e:
            self._lose(str(e))
        finally:
            with self._lock:
                self._owner = None
                self._depth = 0

    def _lose(self, why: str) -> None:
        with self._lock:
            self._gone = True
            self._owner = None
        _say(why)

    def __enter__(self) -> "LeakMonitor":
        stack = self._tls.__dict__.setdefault("numbers", [])
        stack.append(self._begin())
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._end(self._tls.numbers.pop(), exc)

    def close(self) -> None:
        """Stop the engine; the next monitored call starts a new one."""
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.stop()
            try:
                atexit.unregister(self.close)
            except Exception:
                pass


def create_leak_monitor(**options: Any) -> LeakMonitor:
    """Creates a reusable context manager for function-based leak discovery.

    Call it once and use the returned object each time::

        monitor = create_leak_monitor()
        with monitor:
            run_job()
    """
    _check_python()
    args, output = _configure(options, True, _caller_module(1))
    return LeakMonitor(args, output)


def _running_handle() -> Any:
    """The asyncio handle that runs the current task, where the loop keeps it
    (debug mode): made during a call that suspended, alive at its exit."""
    try:
        import asyncio

        return getattr(asyncio.get_running_loop(), "_current_handle", None)
    except RuntimeError:
        return None


def _wrap(func: F, monitor: LeakMonitor) -> F:
    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            number = monitor._begin()
            try:
                result = await func(*args, **kwargs)
            except BaseException as e:
                monitor._end(number, e, _running_handle())
                raise
            monitor._end(number, result, _running_handle())
            return result

        async_wrapper.leak_monitor = monitor  # type: ignore[attr-defined]
        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        number = monitor._begin()
        try:
            result = func(*args, **kwargs)
        except BaseException as e:
            monitor._end(number, e)
            raise
        monitor._end(number, result)
        return result

    wrapper.leak_monitor = monitor  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


@overload
def leak_monitor(func: F) -> F: ...


@overload
def leak_monitor(func: None = None, **options: Any) -> Callable[[F], F]: ...


def leak_monitor(func: Optional[F] = None, **options: Any) -> Union[F, Callable[[F], F]]:
    """Decorator for function-based leak discovery, with or without arguments.

    When the function exits, Memalot prints out potential memory leaks: objects
    created while the function was being called that are still alive after
    max_object_age_calls calls (default 1: at the exit of the call that made
    them). The first warmup_calls calls (default 1) are the warm-up. The
    function's return value, and what only it holds, is not a leak.
    Works on plain and async functions.
    """
    _check_python()

    def decorate(f: F) -> F:
        module = getattr(f, "__module__", "") or ""
        args, output = _configure(dict(options), True, module)
        name = "%s.%s" % (module, getattr(f, "__qualname__", getattr(f, "__name__", "?")))
        return _wrap(f, LeakMonitor(args, output, name))

    if func is not None:
        if options:
            raise TypeError("leak_monitor takes options as keywords only")
        if not callable(func):
            raise TypeError("leak_monitor decorates a function, not %r" % (func,))
        return decorate(func)
    # validate now: a bad option raises where the decorator is written
    _configure(dict(options), True, "")
    return decorate
