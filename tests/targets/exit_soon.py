# SPDX-License-Identifier: MIT
# A target that exits on its own right after it says it is ready: for the
# race of memalot starting on a process that goes away. Builds N small
# objects (argument 1, default 20000), prints "ready N", sleeps argument 2
# milliseconds (default 0), then exits the normal way (the interpreter is
# torn down, Py_Finalize, before the process exits) or, with argument 3
# "hard", at once with os._exit.
import os
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
delay_ms = int(sys.argv[2]) if len(sys.argv) > 2 else 0
hard = len(sys.argv) > 3 and sys.argv[3] == "hard"
objs = [{"i": i, "l": [i]} for i in range(n)]
sys.stdout.write("ready %d\n" % n)
sys.stdout.flush()
if delay_ms:
    time.sleep(delay_ms / 1000.0)
if hard:
    os._exit(0)
sys.exit(0)
