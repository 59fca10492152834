# The seed README's function-based example: @leak_monitor on a function that
# leaks (the seed's body is the comment "Code that leaks memory here").
import sys

from memalot import leak_monitor

_LEAKED = []


class Request:
    def __init__(self, n):
        self.n = n
        self.payload = [n] * 10


@leak_monitor
def function_that_leaks_memory():
    # Code that leaks memory here
    _LEAKED.append(Request(len(_LEAKED)))


for _ in range(3):
    function_that_leaks_memory()
print("REPORT_ID", function_that_leaks_memory.leak_monitor.report_id)
print("done", len(_LEAKED))
sys.stdout.flush()
