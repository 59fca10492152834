# SPDX-License-Identifier: MIT
# For `memalot run --max-processes`: forks N children (argv[1]) that, like
# the parent, wait for the end of stdin; "ready" once all are forked.
import os
import sys


def main():
    n = int(sys.argv[1])
    kids = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            sys.stdin.read()
            os._exit(0)
        kids.append(pid)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.read()
    for pid in kids:
        os.waitpid(pid, 0)


main()
