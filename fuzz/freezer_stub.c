/* SPDX-License-Identifier: MIT */
/*
 * Stand-ins for attach/freeze.c in the fuzz targets. snapshot.c refers to the
 * freezer from snapshot__take, which shares the walk with snapshot__walk but
 * must never run in a fuzzer: these make sure nothing is stopped or traced.
 */
#include <stdlib.h>

#include "../attach/freeze.h"

volatile int freezer_stop_requested;

int freezer__freeze(struct freezer *fz, pid_t pid)
{
	(void)fz;
	(void)pid;
	abort();
}

int freezer__thaw(struct freezer *fz)
{
	(void)fz;
	abort();
}

void freezer__release(struct freezer *fz)
{
	(void)fz;
	abort();
}

char *freezer__explain_eperm(pid_t pid)
{
	(void)pid;
	abort();
}
