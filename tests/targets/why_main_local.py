# SPDX-License-Identifier: MIT
# Why-scenario: the main thread's function main() holds LeakedMainItem objects
# in its local "keep" while it waits on stdin, at line 16 of this file (the
# test checks that exact line: keep it there).
import gc
import sys


class LeakedMainItem(object):
    pass


def main():
    keep = [LeakedMainItem() for _ in range(3)]
    gc.collect(); sys.stdout.write("ready\n"); sys.stdout.flush()
    sys.stdin.readline()
    return keep


main()
