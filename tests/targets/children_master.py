# SPDX-License-Identifier: MIT
# For `memalot attach --children`: a master that forks a worker for each
# "fork" line on stdin and answers "worker PID". A worker leaks a ChildLeak
# into its module-level CHILD_LEAKS every 0.05 s until its master is gone.
# When stdin closes the master kills its workers and exits.
import os
import select
import signal
import sys
import time

CHILD_LEAKS = []


class ChildLeak(object):
    pass


def worker(master):
    while os.getppid() == master:
        CHILD_LEAKS.append(ChildLeak())
        time.sleep(0.05)
    os._exit(0)


def main():
    workers = []
    master = os.getpid()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        if line.strip() == "fork":
            pid = os.fork()
            if pid == 0:
                worker(master)
            workers.append(pid)
            sys.stdout.write("worker %d\n" % pid)
            sys.stdout.flush()
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


main()
