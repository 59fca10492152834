/* SPDX-License-Identifier: MIT */
/*
 * A process that looks like a free-threaded CPython 3.13 to memalot and is
 * nothing else: an executable named python3.13t with the symbols memalot
 * recognises an interpreter by (_PyRuntime, Py_Version) and the two that
 * only a free-threaded build has (_Py_MergeZeroLocalRefcount,
 * _Py_brc_queue_object). memalot must refuse it with exit 7 before it
 * reads anything else. Prints "ready PID" and exits when its stdin closes.
 * Built by `make tests` as BUILD/tests/python3.13t.
 */
#include <stdio.h>
#include <unistd.h>

const unsigned int Py_Version = 0x030D00F0; /* 3.13.0 final */
char _PyRuntime[4096];

void _Py_MergeZeroLocalRefcount(void);
void _Py_brc_queue_object(void);

void _Py_MergeZeroLocalRefcount(void)
{
}

void _Py_brc_queue_object(void)
{
}

int main(void)
{
	_PyRuntime[0] = 1; /* keep it in .bss, written */
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (getchar() != EOF)
		;
	return 0;
}
