/* SPDX-License-Identifier: MIT */
/* Offset tables generated from DWARF builds and committed as data (tables/layouts.tsv). */
#ifndef MEMALOT_TABLES_H
#define MEMALOT_TABLES_H

#include "layout.h"

struct offset_table {
	char version[32];
	char flavour[16];
	char build_id[129];
	char origin[128];
	int64_t v[F__COUNT];
	bool has[F__COUNT];
	int64_t dbgpos[F__COUNT];
};

enum table_match { TM_NONE, TM_BUILD_ID, TM_VERSION, TM_NEAREST };

/*
 * The best table for (version, flavour, build_id): same build-id, else same
 * version and flavour, else the nearest patch release of the same minor
 * version and flavour. @return the table or NULL; *how says which
 */
const struct offset_table *tables__find(const char *version, const char *flavour,
					const char *build_id, enum table_match *how);

/* Parse a layouts.tsv text. @return number of tables, or -EINVAL with *line set */
int tables__parse(const char *text, struct offset_table **out, int *line);

/* Write one table in the layouts.tsv format. */
#include <stdio.h>
void tables__write(FILE *f, const struct layout *l, const char *origin);

#endif
