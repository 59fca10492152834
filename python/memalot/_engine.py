"""The helper process: the memalot engine attached to this process.

The package never reads its own memory: it starts ``memalot attach PID
--control-fd N`` as a child, lets it trace this process
(``prctl(PR_SET_PTRACER)``, for yama ``ptrace_scope=1``) and talks to it over
a socket pair, as docs/control-protocol.md describes. When the helper dies
the program carries on: the kernel releases a tracee whose tracer is gone,
and the next request says that the engine is gone instead of waiting.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
from typing import Callable, List, Optional

PROTOCOL_VERSION = 1

# the exit codes of memalot (README), for messages
_EXIT_MEANINGS = {
    1: "an error (see the message above)",
    2: "a bad option",
    3: "no such process",
    4: "not allowed to trace this process (ptrace is forbidden here: run as the same user, "
       "or allow it with kernel.yama.ptrace_scope)",
    5: "this process is already traced by a debugger or strace",
    6: "no CPython interpreter was found in this process",
    7: "this Python is not supported",
    8: "the process exited",
    130: "interrupted",
}

_PR_SET_PTRACER = 0x59616D61


class EngineError(RuntimeError):
    """The memalot engine could not start, or stopped with an error."""

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        self.code = code


class EngineGone(EngineError):
    """The helper process exited or was killed; the program runs on, unmonitored."""


def _bundled() -> Optional[str]:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", "memalot")
    return path if os.access(path, os.X_OK) else None


def find_engine() -> str:
    """The memalot binary: the one in the wheel, else $MEMALOT_BIN, else memalot on PATH."""
    path = _bundled() or os.environ.get("MEMALOT_BIN") or shutil.which("memalot")
    if not path:
        raise EngineError("the memalot engine was not found: install the memalot wheel, "
                          "put memalot on PATH or set MEMALOT_BIN to it")
    if not os.access(path, os.X_OK):
        raise EngineError("the memalot engine %r is not an executable file (MEMALOT_BIN)" % path)
    return path


def engine_env(path: str) -> dict:
    """The environment to run path in: a wheel's binary finds the libraries it carries."""
    env = dict(os.environ)
    libdir = os.path.join(os.path.dirname(path), "lib")
    if os.path.isdir(libdir):
        env["LD_LIBRARY_PATH"] = libdir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


def _allow_tracer(pid: int) -> None:
    """Let pid trace this process under yama ptrace_scope=1 (no-op where yama is absent)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PTRACER, ctypes.c_ulong(pid), 0, 0, 0)
    except Exception:  # no ctypes, no prctl: ptrace works as the system allows
        pass


def exit_meaning(code: Optional[int]) -> str:
    if code is None:
        return "it was killed"
    if code < 0:
        return "it was killed by signal %d" % -code
    return "exit %d: %s" % (code, _EXIT_MEANINGS.get(code, "an error"))


class Helper:
    """One memalot engine attached to this process, and its control channel."""

    def __init__(self, args: List[str], on_report: Callable[[str], None]) -> None:
        path = find_engine()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._on_report = on_report
        self.owner = os.getpid()  # a forked child must not use its parent's engine
        self._lock = threading.Lock()
        self._gone: Optional[str] = None
        self._stop_sent = False
        self.report_id: Optional[str] = None
        self.python_version = ""
        # MEMALOT_HELPER_ARGS: more options for the engine, e.g. "-vv" to see its timings on stderr
        extra = os.environ.get("MEMALOT_HELPER_ARGS", "-q").split()
        argv = [path, "attach"] + extra + ["--control-fd", str(theirs.fileno())] + args + [str(os.getpid())]
        try:
            # its own session: Ctrl-C in the terminal is the program's, not the helper's
            self.proc = subprocess.Popen(argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, start_new_session=True, env=engine_env(path))
        except OSError as e:
            ours.close()
            theirs.close()
            raise EngineError("cannot start the memalot engine %r: %s" % (path, e)) from None
        theirs.close()
        self._sock = ours
        self._fd = ours.fileno()
        self._buf = b""
        _allow_tracer(self.proc.pid)
        self._send("hello %d" % PROTOCOL_VERSION)
        line = self._line()
        words = line.split()
        if len(words) >= 4 and words[:3] == ["memalot", str(PROTOCOL_VERSION), "ready"]:
            self.report_id = None if words[3] == "-" else words[3]
            self.python_version = words[4] if len(words) > 4 else ""
            return
        code = None
        if len(words) == 4 and words[2] == "error" and words[3].isdigit():
            code = int(words[3])
        self.close()
        if code is None:
            code = self.proc.returncode
        raise EngineError("memalot cannot monitor this process (%s)" % exit_meaning(code), code)

    # -- the channel

    def _gone_error(self) -> EngineGone:
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if not self._gone:
            self._gone = exit_meaning(self.proc.returncode)
        return EngineGone("the memalot engine is gone (%s); the program runs on, unmonitored" % self._gone)

    def _send(self, line: str) -> None:
        if self._gone:
            raise self._gone_error()
        data = (line + "\n").encode("ascii")
        try:
            # os.write, not sendall: sendall's args tuple would be alive, held
            # by native code, if the engine's snapshot came before it returned
            while data:
                data = data[os.write(self._fd, data):]
        except OSError:
            raise self._gone_error() from None

    def _fill(self) -> bool:
        """More bytes from the engine into the buffer; False at the end.

        Raw reads, no buffered file: while the reader waits, nothing of it
        made after the warm-up stays alive to be reported as a leak.
        """
        try:
            # os.read takes its arguments without a tuple: socket.recv's args
            # tuple would be held by native code for as long as it waits
            data = os.read(self._fd, 65536)
        except OSError:
            data = b""
        if not data:
            return False
        self._buf = self._buf + data if self._buf else data
        return True

    def _line(self) -> str:
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                raw, self._buf = self._buf[:end], self._buf[end + 1:] or b""
                return raw.decode("utf-8", "replace")
            if len(self._buf) > 4096 or not self._fill():
                raise self._gone_error()

    def _frame(self, size: int) -> str:
        while len(self._buf) < size:
            if not self._fill():
                raise self._gone_error()
        raw, self._buf = self._buf[:size], self._buf[size:] or b""
        return raw.decode("utf-8", "replace")

    def read_until(self, want: Optional[str]) -> Optional[str]:
        """Read messages, handing reports on, until the line starting with want
        (None: until the end). Returns that line, or None at the end ("bye")."""
        while True:
            line = self._line()
            kind, _, rest = line.partition(" ")
            if kind == "report" and rest.isdigit():
                self._on_report(self._frame(int(rest)))
                continue
            if kind == "bye":
                self._gone = "it stopped"
                return None
            if kind == "fail":
                code = rest.split()[-1] if rest else ""
                self._gone = exit_meaning(int(code)) if code.isdigit() else "it failed"
                raise EngineGone("the memalot engine stopped (%s); the program runs on, unmonitored" % self._gone)
            if want is None or line.startswith(want):
                return line

    def call_point(self, exit: bool, number: int, keep1: int = 0, keep2: int = 0) -> None:
        """The snapshot at a monitored call's entry or exit (and at an exit its report)."""
        # acquire/release, not `with`: a with-statement keeps the lock's bound
        # __exit__ on the frame's stack, a new object alive at the snapshot
        self._lock.acquire()
        try:
            if exit:
                # no container made here outlives this line: it would be alive at the snapshot
                self._send("exit %d %#x %#x" % (number, keep1, keep2))
            else:
                self._send("enter %d" % number)
            self.read_until("ok %d" % number)
        finally:
            self._lock.release()

    def ask_stop(self) -> None:
        """Ask the engine to stop and detach, once; its "bye" ends read_until(None)."""
        if self._gone or self._stop_sent:
            return
        self._stop_sent = True
        try:
            self._send("stop")
        except EngineGone:
            pass

    def abandon(self) -> None:
        """In a forked child: let go of the parent's engine without stopping it."""
        try:
            self._sock.close()
        except OSError:
            pass

    def stop(self, timeout: Optional[float] = 10.0) -> None:
        """Ask the engine to stop and detach; wait for it."""
        self.ask_stop()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.close()

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def python_supported() -> Optional[str]:
    """Why this interpreter cannot be monitored, or None."""
    if sys.implementation.name != "cpython":
        return "memalot monitors CPython only, not %s" % sys.implementation.name
    if sys.version_info < (3, 8):
        return "Python %d.%d is not supported (memalot supports 3.8 and later)" % sys.version_info[:2]
    try:
        import sysconfig

        if sysconfig.get_config_var("Py_GIL_DISABLED"):
            return "free-threaded Python builds are not supported"
    except Exception:
        pass
    if not sys.platform.startswith("linux"):
        return "memalot runs on Linux only"
    return None
