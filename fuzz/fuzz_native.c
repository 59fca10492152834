/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the smaps parser of the native figures
 * (attach/native.c, native__parse_smaps) on arbitrary text. The kernel
 * writes /proc/PID/smaps, but the names of mapped files in it are the
 * target's to choose: any bytes, any length, on any line.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>

#include "../attach/native.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct native_stats st = { 0 };
	FILE *f;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	native__parse_smaps(f, &st);
	fclose(f);
	return 0;
}
