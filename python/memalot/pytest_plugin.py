"""memalot's pytest plugin: tests that leak fail, with what holds the leak.

Installed with the memalot wheel it is registered by its entry point; from
a checkout, ``python3 -m pytest -p memalot.pytest_plugin``. Inert unless
``--memalot`` is given or a test has the ``memalot`` marker::

    python3 -m pytest --memalot tests/
    python3 -m pytest --memalot --memalot-fail-on objects,fds,native -n 4 tests/

    @pytest.mark.memalot(max_objects=0, warmup_calls=1, calls=3, included_type_names={"myapp"})
    def test_handler(): ...

A checked test's function runs warmup_calls times (default 1: a cache
filled on the first call is not a leak), then up to `calls` times checked
(default 3). The memalot engine, attached to the test process from outside,
watches each checked call: an object a call made that is still alive one
call later (max_object_age_calls, default 2) is a leak of that call. The
test fails when every checked window leaked, with the leak groups and the
chain from their root. Fixtures are set up once, before the warm-up: what
they make is not the test's (a fixture that leaks across tests shows as the
leak of the test whose calls made the objects). See docs/python-api.md.
"""

import functools
import inspect
from typing import Any, Dict, List, Optional, Tuple

import pytest

from . import _configure
from ._check import CallCheck, close_shared, describe_objects, format_bytes, run_checked, shared_checker
from ._engine import EngineError, python_supported

_KINDS = ("objects", "fds", "native")
_RESULT = pytest.StashKey[Dict[str, Any]]()


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("memalot", "leak checks by memalot")
    group.addoption("--memalot", action="store_true", default=False,
                    help="check every test for leaks (else only tests marked memalot)")
    group.addoption("--memalot-fail-on", metavar="KINDS", default=None,
                    help="what fails a test, comma-separated: objects (Python objects the test's calls keep), fds "
                         "(file descriptors), native (malloc'd memory); default: objects")
    group.addoption("--memalot-calls", metavar="N", type=int, default=None,
                    help="checked calls of each test, after the warm-up (default 3; a clean first window ends "
                         "the check)")
    group.addoption("--memalot-warmup-calls", metavar="N", type=int, default=None,
                    help="calls of each test before the checked ones (default 1)")
    group.addoption("--memalot-no-screen", action="store_true", default=False,
                    help="watch every checked test with the engine (by default a test whose first two calls grow "
                         "neither pymalloc's blocks nor malloc's bytes is cleared without it)")
    group.addoption("--memalot-report-directory", metavar="DIR", default=None,
                    help="where the engine saves its reports (default: memalot's)")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers",
        "memalot(**limits): check this test for leaks with memalot; limits: max_objects, max_bytes, "
        "max_native_bytes, warmup_calls, calls, max_object_age_calls, fail_on, screen, and memalot's options "
        "(included_type_names, ...)")
    fail_on = _parse_kinds(config.getoption("memalot_fail_on") or "objects", "--memalot-fail-on")
    for name in ("memalot_calls", "memalot_warmup_calls"):
        value = config.getoption(name)
        if value is not None and value < (1 if name == "memalot_calls" else 0):
            raise pytest.UsageError("--%s must be %s" % (name.replace("_", "-"),
                                                         "1 or more" if name == "memalot_calls" else "0 or more"))
    config.pluginmanager.register(_Session(config, fail_on), "memalot-session")


def _parse_kinds(value: Any, where: str) -> Tuple[str, ...]:
    words = value.split(",") if isinstance(value, str) else list(value)
    kinds = tuple(w.strip() for w in words if str(w).strip())
    bad = [k for k in kinds if k not in _KINDS]
    if bad or not kinds:
        raise pytest.UsageError("%s: %r is not a list of objects, fds, native" % (where, value))
    return kinds


class _Session:
    def __init__(self, config: Any, fail_on: Tuple[str, ...]) -> None:
        self.config = config
        self.all = bool(config.getoption("memalot"))
        self.fail_on = fail_on
        self.calls = config.getoption("memalot_calls") or 3
        warmup = config.getoption("memalot_warmup_calls")
        self.warmup = 1 if warmup is None else warmup
        self.report_directory = config.getoption("memalot_report_directory")
        self.screen = not config.getoption("memalot_no_screen")
        # on the controller (or without xdist): what the tests' reports said
        self.checked: List[Tuple[str, Dict[str, Any]]] = []
        self.report_ids: List[str] = []

    # -- running a test

    def _settings(self, item: Any) -> Optional[Dict[str, Any]]:
        marker = item.get_closest_marker("memalot")
        if marker is None and not self.all:
            return None
        if marker is not None and marker.args:
            pytest.fail("the memalot marker takes keywords only", pytrace=False)
        kw = dict(marker.kwargs) if marker is not None else {}
        s: Dict[str, Any] = {
            "warmup": kw.pop("warmup_calls", self.warmup),
            "calls": kw.pop("calls", self.calls),
            "max_objects": kw.pop("max_objects", 0),
            "max_bytes": kw.pop("max_bytes", None),
            "max_native_bytes": kw.pop("max_native_bytes", 4096),
            "age": kw.pop("max_object_age_calls", 2),
            "screen": kw.pop("screen", self.screen),
        }
        try:
            s["fail_on"] = _parse_kinds(kw.pop("fail_on"), "fail_on") if "fail_on" in kw else self.fail_on
        except pytest.UsageError as e:
            pytest.fail("memalot marker: %s" % e, pytrace=False)
        for name in ("warmup", "calls", "max_objects", "max_native_bytes", "age"):
            v = s[name]
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if name in ("calls", "age") else 0):
                pytest.fail("memalot marker: %s must be an int of %d or more, not %r"
                            % ({"warmup": "warmup_calls", "age": "max_object_age_calls"}.get(name, name),
                               1 if name in ("calls", "age") else 0, v), pytrace=False)
        if "objects" in s["fail_on"] and s["calls"] < s["age"]:
            pytest.fail("memalot marker: calls (%d) must be at least max_object_age_calls (%d): an object is a leak "
                        "once it has lived that many calls" % (s["calls"], s["age"]), pytrace=False)
        if s["max_bytes"] is not None and (isinstance(s["max_bytes"], bool) or not isinstance(s["max_bytes"], int)
                                           or s["max_bytes"] < 0):
            pytest.fail("memalot marker: max_bytes must be an int of 0 or more", pytrace=False)
        if "report_directory" not in kw and self.report_directory:
            kw["report_directory"] = self.report_directory
        try:
            s["args"] = _configure(kw, True, "")[0] if kw else []
        except (TypeError, ValueError) as e:
            pytest.fail("memalot marker: %s" % e, pytrace=False)
        return s

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: Any) -> Optional[bool]:
        s = self._settings(pyfuncitem)
        if s is None:
            return None
        fn = pyfuncitem.obj
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):
            pyfuncitem.stash[_RESULT] = {"checked": False, "why": "async and generator tests are not checked"}
            return None
        why = python_supported()
        if why:
            pytest.skip("memalot: %s" % why)
        call = _bind(fn, pyfuncitem.funcargs, pyfuncitem._fixtureinfo.argnames)
        checker = shared_checker(s["args"], s["age"]) if "objects" in s["fail_on"] else None
        try:
            result = run_checked(call, checker, s["warmup"], s["calls"], s["fail_on"], s["max_objects"],
                                 s["max_bytes"], s["max_native_bytes"], bool(s["screen"]))
        except EngineError as e:
            pyfuncitem.stash[_RESULT] = {"checked": False, "why": str(e)}
            pytest.fail("memalot could not check this test: %s" % e, pytrace=False)
        failed = result.leaking(s["fail_on"], s["max_objects"], s["max_bytes"], s["max_native_bytes"])
        summary = _summary(result, failed)
        pyfuncitem.stash[_RESULT] = summary
        if failed:
            pytest.fail(_message(pyfuncitem.name, result, failed, s), pytrace=False)
        return True

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: Any, call: Any) -> Any:
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" and _RESULT in item.stash:
            # user_properties travel from xdist's workers to the controller
            report.user_properties.append(("memalot", item.stash[_RESULT]))

    # -- the session's summary (on xdist's controller, from the workers' reports)

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when != "call":
            return
        for name, value in getattr(report, "user_properties", ()):
            if name == "memalot" and isinstance(value, dict):
                self.checked.append((report.nodeid, value))
                rid = value.get("report_id")
                if rid and rid not in self.report_ids:
                    self.report_ids.append(rid)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.checked:
            return
        tr = terminalreporter
        tr.section("memalot")
        done = [(n, v) for n, v in self.checked if v.get("checked")]
        leaking = [(n, v) for n, v in done if v.get("failed")]
        engine = sum(1 for _, v in done if v.get("engine"))
        tr.write_line("%d test%s checked for leaks (fail on %s), %d leaking; %d watched by the engine, the others "
                      "cleared by the in-process counters"
                      % (len(done), "" if len(done) == 1 else "s", ",".join(self.fail_on), len(leaking), engine))
        for nodeid, v in leaking:
            tr.write_line("LEAK %s: %s" % (nodeid, v.get("line", "")))
        if self.config.option.verbose > 0:
            for nodeid, v in done:
                if not v.get("failed"):
                    tr.write_line("clean %s: %d call%s, %s" % (nodeid, v.get("calls", 0),
                                                               "" if v.get("calls") == 1 else "s",
                                                               "watched by the engine" if v.get("engine")
                                                               else "cleared by the counters"))
        for nodeid, v in self.checked:
            if not v.get("checked"):
                tr.write_line("not checked %s: %s" % (nodeid, v.get("why", "")))
        if self.report_ids:
            tr.write_line("memalot report%s: %s (memalot print ID)" % ("" if len(self.report_ids) == 1 else "s",
                                                                         ", ".join(self.report_ids)))

    def pytest_sessionfinish(self) -> None:
        close_shared()


def _bind(fn: Any, funcargs: Dict[str, Any], argnames: Tuple[str, ...]) -> Any:
    """fn with its fixtures, called as pytest calls it. Positionally where the
    signature allows: a call with keywords makes a dict each time, and the
    interpreter's free lists grow by one a call with it, which the screen
    would take for a leak."""
    try:
        params = list(inspect.signature(fn).parameters.values())[:len(argnames)]
    except (TypeError, ValueError):
        params = []
    if [p.name for p in params] == list(argnames) and all(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
        return functools.partial(fn, *[funcargs[a] for a in argnames])
    return functools.partial(fn, **{a: funcargs[a] for a in argnames})


def _top_group(result: CallCheck) -> Optional[Dict[str, Any]]:
    w = result.windows[-1] if result.windows else None
    return w.groups[0] if w is not None and w.groups else None


def _summary(result: CallCheck, failed: List[str]) -> Dict[str, Any]:
    """What the controller needs: JSON-able (xdist sends it)."""
    parts = []
    w = result.windows[-1] if result.windows else None
    if "objects" in failed and w is not None:
        g = _top_group(result)
        parts.append("%d object%s per call%s" % (w.objects, "" if w.objects == 1 else "s",
                                                 " held by %s" % g.get("root") if g else ""))
    if "fds" in failed:
        parts.append("+%d fd per call" % result.fd_growth[-1])
    if "native" in failed:
        parts.append("+%s malloc'd per call" % format_bytes(result.native_growth[-1]))
    return {"checked": True, "failed": failed, "calls": result.calls, "report_id": result.report_id,
            "engine": not result.screened,
            "objects": [x.objects for x in result.windows], "fd_growth": result.fd_growth,
            "native_growth": result.native_growth, "line": "; ".join(parts)}


def _message(name: str, result: CallCheck, failed: List[str], s: Dict[str, Any]) -> str:
    n = result.calls
    lines = []
    if "objects" in failed:
        lines += describe_objects(name, result, s["warmup"])
    if "fds" in failed:
        lines.append("memalot: %s leaked file descriptors: %s in %d checked call%s"
                     % (name, ", ".join("+%d" % g for g in result.fd_growth), n, "" if n == 1 else "s"))
        for fd, what in sorted(result.new_fds.items())[:5]:
            lines.append("  fd %d -> %s" % (fd, what))
    if "native" in failed:
        lines.append("memalot: %s leaked native memory: malloc's bytes in use grew by %s in %d checked call%s "
                     "(more than max_native_bytes=%d each)"
                     % (name, ", ".join(format_bytes(g) for g in result.native_growth), n, "" if n == 1 else "s",
                        s["max_native_bytes"]))
    if result.report_id and "objects" in failed:
        lines.append("  the whole report: memalot print %s" % result.report_id)
    return "\n".join(lines)
