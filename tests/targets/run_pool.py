# SPDX-License-Identifier: MIT
# For `memalot run`: a parent that keeps a pool of two forked workers busy,
# every 0.1 s, from "ready" until stdin closes. Each task leaves a
# WorkerLeak in the worker's module-level list WORKER_LEAKS; the parent
# keeps nothing (results are dropped).
import multiprocessing
import select
import sys

WORKER_LEAKS = []


class WorkerLeak(object):
    pass


def work(i):
    WORKER_LEAKS.append(WorkerLeak())
    return i


def main():
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(2)
    pool.map(work, range(2))
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.1)[0]:
        pool.map(work, range(4))
    pool.terminate()
    pool.join()


main()
