# SPDX-License-Identifier: MIT
# Native growth that no Python object explains, every 0.2 s from "ready"
# until stdin closes:
#   native_growth.py fds DIR   one more file DIR/leak-N.txt opened with
#                              os.open and never closed (only an int, dropped)
#   native_growth.py malloc    1 MiB more from libc's malloc, written so that it
#                              is resident, never freed (the pointer, an int, dropped)
import ctypes
import os
import select
import sys

MIB = 1 << 20


def main():
    what = sys.argv[1]
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    n = 0

    def leak():
        nonlocal n
        if what == "fds":
            os.open(os.path.join(sys.argv[2], "leak-%d.txt" % n), os.O_CREAT | os.O_WRONLY, 0o600)
        else:
            ctypes.memset(libc.malloc(MIB), 1, MIB)
        n += 1

    # select's argument lists are made once (fresh ones each round would be
    # short-lived lists at reused addresses)
    rlist, none = [sys.stdin], []
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not select.select(rlist, none, none, 0.2)[0]:
        leak()


main()
