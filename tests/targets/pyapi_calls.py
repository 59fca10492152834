# Function-based discovery through the package, one scenario per argv[1];
# prints what the test checks ("REPORT_ID ...", "RAISED ...", "OK ...").
import asyncio
import gc
import logging
import os
import signal
import sys

import memalot
from memalot import create_leak_monitor, leak_monitor

mode = sys.argv[1]


class Forever:
    pass


class OneCall:
    pass


class TwoCalls:
    pass


_FOREVER = []
_LAST = [None, None, None]  # call k's OneCall and TwoCalls are dropped during calls k+1 and k+2


def body(k):
    """Call k: one object kept for good, one dropped during the next call, one two calls later."""
    _FOREVER.append(Forever())
    _LAST[0] = OneCall()
    _LAST[2], _LAST[1] = _LAST[1], TwoCalls()
    garbage = [object() for _ in range(50)]  # dies with the call
    return len(garbage)


def ages(n):
    @leak_monitor(max_object_age_calls=n, warmup_calls=1)
    def work(k):
        return [body(k)]  # the return value is the caller's: not a leak

    for k in range(1, 7):
        work(k)
    print("REPORT_ID", work.leak_monitor.report_id)


def context_manager():
    monitor = create_leak_monitor(included_type_names={"Forever"})
    for k in range(1, 5):
        with monitor:
            body(k)
    print("REPORT_ID", monitor.report_id)
    helper = monitor._helper.proc
    monitor.close()  # as at interpreter exit: the engine detaches and ends
    print("OK closed helper_exit=%s tracer=%d" % (helper.returncode, tracer_pid()))


def plain_decorator():
    @leak_monitor
    def work(k):
        body(k)

    for k in range(1, 4):
        work(k)
    print("REPORT_ID", work.leak_monitor.report_id)


def async_function():
    # included: a call that suspends is resumed by an asyncio Handle made
    # during the call and alive at its exit (docs/python-api.md)
    @leak_monitor(included_type_names="Forever")
    async def work(k):
        await asyncio.sleep(0)
        body(k)

    async def main():
        for k in range(1, 4):
            await work(k)

    asyncio.run(main())
    print("REPORT_ID", work.leak_monitor.report_id)


def output(tee):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="LOG: %(message)s")

    @leak_monitor(output_func=logging.getLogger("leaks").info, tee_console=tee, save_reports=False)
    def work(k):
        body(k)

    for k in range(1, 3):
        work(k)
    print("REPORT_ID", work.leak_monitor.report_id)


def bad_options():
    cases = [
        dict(max_object_details=-1),
        dict(max_object_details="30"),
        dict(referrers_max_depth=0),
        dict(check_referrers="yes"),
        dict(included_type_names=[1]),
        dict(no_such_option=1),
        dict(max_object_lifetime=5.0),
        dict(output_func=42),
        dict(report_directory=""),
    ]
    for c in cases:
        try:
            leak_monitor(**c)
        except (TypeError, ValueError) as e:
            print("RAISED", type(e).__name__, next(iter(c)), "|", e)
        else:
            print("NOT RAISED", c)
    for c in [dict(max_object_lifetime=0), dict(max_object_lifetime=float("nan")),
              dict(max_object_lifetime=1.0, warmup_calls=2)]:
        try:
            memalot.start_leak_monitoring(**c)
        except (TypeError, ValueError) as e:
            print("RAISED", type(e).__name__, "start", "|", e)
        else:
            print("NOT RAISED", c)
    # nothing was started: no child process, no tracer
    with open("/proc/self/status") as f:
        tracer = [l.split()[1] for l in f if l.startswith("TracerPid:")][0]
    children = []
    for tid in os.listdir("/proc/self/task"):
        with open("/proc/self/task/%s/children" % tid) as f:
            children += f.read().split()
    print("OK children=%d tracer=%s" % (len(children), tracer))


def tracer_pid():
    with open("/proc/self/status") as f:
        return int([l.split()[1] for l in f if l.startswith("TracerPid:")][0])


def stop():
    handle = memalot.start_leak_monitoring(max_object_lifetime=30.0, save_reports=False)
    helper = handle._helper.proc
    handle.stop()
    handle.join()
    print("OK stopped helper_exit=%s tracer=%d" % (helper.returncode, tracer_pid()))
    sum(range(1000))  # runs on
    print("OK runs on")


def exit_time():
    """Time-based monitoring ends at interpreter exit: the helper detaches and ends with it."""
    handle = memalot.start_leak_monitoring(max_object_lifetime=30.0, save_reports=False)
    print("HELPER %d" % handle._helper.proc.pid)


def kill_helper():
    """The helper SIGKILLed while it holds this process: the program runs on."""
    monitor = create_leak_monitor(save_reports=False)
    with monitor:  # the warm-up call starts the helper
        pass
    helper = monitor._helper.proc.pid
    heap = [{"i": i} for i in range(300000)]  # snapshots long enough to be caught
    watcher = os.fork()
    if watcher == 0:
        # kill the helper the moment it traces the parent (a snapshot is being taken)
        path = "/proc/%d/status" % os.getppid()
        while True:
            with open(path) as f:
                if ("TracerPid:\t%d\n" % helper) in f.read():
                    os.kill(helper, signal.SIGKILL)
                    os._exit(0)
    for k in range(200):
        with monitor:
            heap.append(object())
        if monitor._gone:
            break
    else:
        os.kill(watcher, signal.SIGKILL)
        os.waitpid(watcher, 0)
        print("the watcher never saw the helper trace this process")
        sys.exit(1)
    os.waitpid(watcher, 0)
    with monitor:  # the engine is gone: said, and the call runs
        pass
    with monitor:
        pass
    print("OK survived tracer=%d" % tracer_pid())


def forked():
    """A forked child's monitored calls get an engine of their own; the parent's goes on."""
    monitor = create_leak_monitor(save_reports=False, included_type_names={"Forever"})
    with monitor:
        body(1)
    child = os.fork()
    if child == 0:
        texts = []
        monitor._output = texts.append  # the child's reports, to count
        for k in range(2, 4):
            with monitor:
                body(k)
        ok = sum("held by __main__._FOREVER (global)" in t for t in texts)
        os._exit(0 if ok == 1 and monitor._helper.owner == os.getpid() else 1)
    _, status = os.waitpid(child, 0)
    with monitor:
        body(2)
    print("OK forked child_status=%d parent_calls=%d" % (status, monitor._calls))


def unsupported():
    try:
        leak_monitor(lambda: None)
    except memalot.EngineError as e:
        print("RAISED EngineError |", e)
    else:
        print("NOT RAISED")


{
    "ages1": lambda: ages(1),
    "ages2": lambda: ages(2),
    "ages3": lambda: ages(3),
    "context_manager": context_manager,
    "plain_decorator": plain_decorator,
    "async": async_function,
    "output": lambda: output(False),
    "output_tee": lambda: output(True),
    "bad_options": bad_options,
    "stop": stop,
    "kill_helper": kill_helper,
    "exit_time": exit_time,
    "forked": forked,
    "unsupported": unsupported,
}[mode]()
sys.stdout.flush()
