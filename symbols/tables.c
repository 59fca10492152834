/* SPDX-License-Identifier: MIT */
/*
 * Offset tables. For interpreters without DWARF (distribution builds are
 * stripped) the layout comes from a table made by memalot-gen-offsets from a
 * DWARF build of the same version and flavour. Layouts can change inside a
 * minor series, so a table of another patch release is only ever a
 * candidate that the caller must validate against the live target.
 */
#define _GNU_SOURCE
#include "tables.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern const char memalot_layouts_tsv[]; /* generated from tables/layouts.tsv */

static struct offset_table *g_tables;
static int g_ntables = -1;

static void table_init(struct offset_table *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < F__COUNT; i++)
		t->dbgpos[i] = -1;
}

int tables__parse(const char *text, struct offset_table **out, int *line)
{
	struct offset_table *v = NULL, *cur = NULL;
	size_t n = 0, cap = 0;
	const char *p = text;
	int lineno = 0;

	while (*p) {
		char buf[512], a[160], b[160], c[160], d[160], e[160];
		size_t len = strcspn(p, "\n");
		int k;

		lineno++;
		if (len >= sizeof(buf))
			goto bad;
		memcpy(buf, p, len);
		buf[len] = 0;
		p += len + (p[len] == '\n');
		if (!buf[0] || buf[0] == '#')
			continue;
		a[0] = b[0] = c[0] = d[0] = e[0] = 0;
		k = sscanf(buf, "%159[^\t]\t%159[^\t]\t%159[^\t]\t%159[^\t]\t%159[^\n]", a, b, c, d, e);
		if (!strcmp(a, "layout") && k >= 4) {
			GROW(v, cap, n + 1);
			cur = &v[n++];
			table_init(cur);
			snprintf(cur->version, sizeof(cur->version), "%s", b);
			snprintf(cur->flavour, sizeof(cur->flavour), "%s", c);
			snprintf(cur->build_id, sizeof(cur->build_id), "%s", strcmp(d, "-") ? d : "");
			snprintf(cur->origin, sizeof(cur->origin), "%s", k >= 5 ? e : "");
		} else if ((!strcmp(a, "field") || !strcmp(a, "dbgpos")) && k == 3 && cur) {
			int f = field__by_name(b);
			char *end;
			long long val = strtoll(c, &end, 10);
			if (*end)
				goto bad;
			if (f < 0)
				continue; /* a field this build does not know: newer table */
			if (a[0] == 'f') {
				cur->v[f] = val;
				cur->has[f] = true;
			} else
				cur->dbgpos[f] = val;
		} else if (!strcmp(a, "end") && cur) {
			cur = NULL;
		} else
			goto bad;
	}
	*out = v;
	return (int)n;
bad:
	free(v);
	if (line)
		*line = lineno;
	return -EINVAL;
}

/* Read a whole file of at most 16 MiB. @return its text (caller frees) or NULL */
/* A table file: a regular file of at most 16 MiB, as text. @return it (caller frees), or NULL with errno */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	size_t n = 0, cap = 0;
	char *buf = NULL;
	struct stat st;
	int err = 0;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st))
		err = errno;
	else if (S_ISDIR(st.st_mode))
		err = EISDIR;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL; /* /dev/zero and the like: no end, no tables */
	else if (st.st_size > (16 << 20))
		err = EFBIG;
	for (; !err;) {
		GROW(buf, cap, n + 65536);
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (!got || n > (16u << 20))
			break;
	}
	if (!err && ferror(f))
		err = EIO;
	fclose(f);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

/*
 * The built-in tables, or those in the file $MEMALOT_TABLES (made by
 * memalot-gen-offsets for a build memalot does not know yet).
 */
static void load(void)
{
	const char *path = getenv("MEMALOT_TABLES");
	char *text = NULL;
	int line = 0;

	if (g_ntables >= 0)
		return;
	if (path && *path) {
		text = slurp(path);
		if (!text)
			log_err("warning: cannot read MEMALOT_TABLES file '%s' (%s); using the built-in tables",
				path, errno == EINVAL ? "not a regular file" : strerror(errno));
	}
	g_ntables = tables__parse(text ? text : memalot_layouts_tsv, &g_tables, &line);
	if (g_ntables < 0) {
		log_err("%s: bad offset table at line %d", text ? path : "internal", line);
		g_ntables = 0;
	} else if (!g_ntables && text) {
		log_err("warning: MEMALOT_TABLES file '%s' has no offset table (make them with "
			"memalot-gen-offsets)", path);
	}
	free(text);
}

static int micro_of(const char *version)
{
	unsigned ma, mi, mc = 0;

	if (sscanf(version, "%u.%u.%u", &ma, &mi, &mc) < 2)
		return -1;
	return (int)mc;
}

static bool same_minor(const char *a, const char *b)
{
	unsigned ma1, mi1, ma2, mi2;

	return sscanf(a, "%u.%u", &ma1, &mi1) == 2 && sscanf(b, "%u.%u", &ma2, &mi2) == 2 &&
	       ma1 == ma2 && mi1 == mi2;
}

const struct offset_table *tables__find(const char *version, const char *flavour,
					const char *build_id, enum table_match *how)
{
	const struct offset_table *best = NULL;
	int want = micro_of(version), bestdist = 1 << 30;

	load();
	*how = TM_NONE;
	for (int i = 0; build_id && build_id[0] && i < g_ntables; i++)
		if (!strcmp(g_tables[i].build_id, build_id)) {
			*how = TM_BUILD_ID;
			return &g_tables[i];
		}
	for (int i = 0; i < g_ntables; i++)
		if (!strcmp(g_tables[i].version, version) && !strcmp(g_tables[i].flavour, flavour)) {
			*how = TM_VERSION;
			return &g_tables[i];
		}
	for (int i = 0; i < g_ntables; i++) {
		const struct offset_table *t = &g_tables[i];
		int dist;
		if (!same_minor(t->version, version) || strcmp(t->flavour, flavour))
			continue;
		dist = abs(micro_of(t->version) - want);
		if (dist < bestdist) {
			bestdist = dist;
			best = t;
		}
	}
	if (best)
		*how = TM_NEAREST;
	return best;
}

void tables__write(FILE *f, const struct layout *l, const char *origin)
{
	fprintf(f, "layout\t%s\t%s\t%s\t%s\n", l->version, l->flavour,
		l->build_id[0] ? l->build_id : "-", origin);
	for (int i = 0; i < F__COUNT; i++)
		if (l->src[i] != LSRC_NONE)
			fprintf(f, "field\t%s\t%lld\n", field_specs[i].name, (long long)l->v[i]);
	for (int i = 0; i < F__COUNT; i++)
		if (l->dbgpos[i] >= 0)
			fprintf(f, "dbgpos\t%s\t%lld\n", field_specs[i].name, (long long)l->dbgpos[i]);
	fprintf(f, "end\n");
}
