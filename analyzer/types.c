/* SPDX-License-Identifier: MIT */
/* Type identity and naming. */
#define _GNU_SOURCE
#include "types.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyobj.h"

#define TPFLAGS_HEAPTYPE (1ul << 9)
#define MAX_TYPES (1u << 24)

void type_table__init(struct type_table *t)
{
	memset(t, 0, sizeof(*t));
}

void type_table__release(struct type_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	zfree(&t->v);
	zfree(&t->slots);
	t->n = t->cap = t->nslots = 0;
}

static size_t hash_addr(raddr_t a, size_t nslots)
{
	return (size_t)((a >> 3) * 0x9E3779B97F4A7C15ull >> 17) & (nslots - 1);
}

static void rehash(struct type_table *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 1024;

	free(t->slots);
	t->slots = xcalloc(n, sizeof(*t->slots));
	t->nslots = n;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = hash_addr(t->v[i].addr, n);
		while (t->slots[j])
			j = (j + 1) & (n - 1);
		t->slots[j] = (uint32_t)(i + 1);
	}
}

long type_table__intern(struct type_table *t, struct remote *r, const struct layout *l, raddr_t type)
{
	size_t j;

	if (!t->nslots)
		rehash(t);
	for (j = hash_addr(type, t->nslots); t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
		struct type_entry *e = &t->v[t->slots[j] - 1];
		if (e->addr == type)
			return e->valid ? (long)(t->slots[j] - 1) : -1;
	}
	if (t->n >= MAX_TYPES)
		return -1;
	GROW(t->v, t->cap, t->n + 1);
	t->v[t->n] = (struct type_entry){ type, NULL, pyobj__is_type(r, l, type) };
	t->slots[j] = (uint32_t)(t->n + 1);
	t->n++;
	if (t->n * 2 > t->nslots)
		rehash(t);
	return t->v[t->n - 1].valid ? (long)(t->n - 1) : -1;
}

char *type__qualified_name(struct remote *r, const struct layout *l, raddr_t type)
{
	char tpname[512], qual[512], mod[512];
	raddr_t p, dict, modobj;
	uint64_t flags = 0;

	if (remote__u64(r, type + (raddr_t)l->v[F_TP_NAME], &p) ||
	    remote__str(r, p, tpname, sizeof(tpname)) < 0)
		snprintf(tpname, sizeof(tpname), "<unreadable type at 0x%llx>", (unsigned long long)type);
	remote__u64(r, type + (raddr_t)l->v[F_TP_FLAGS], &flags);
	if (flags & TPFLAGS_HEAPTYPE) {
		if (!layout__has(l, F_HT_QUALNAME) ||
		    remote__u64(r, type + (raddr_t)l->v[F_HT_QUALNAME], &p) ||
		    pyobj__str(r, l, p, qual, sizeof(qual)) < 0)
			snprintf(qual, sizeof(qual), "%s", tpname);
		if (layout__has(l, F_TP_DICT) && !remote__u64(r, type + (raddr_t)l->v[F_TP_DICT], &dict) &&
		    dict && !pyobj__dict_get_str(r, l, dict, "__module__", &modobj) &&
		    pyobj__str(r, l, modobj, mod, sizeof(mod)) >= 0)
			return xasprintf("%s.%s", mod, qual);
		/* no __module__: tp_name of a heap type may carry it ("mod.Name") */
		if (strchr(tpname, '.'))
			return xstrdup(tpname);
		return xasprintf("builtins.%s", qual);
	}
	if (strchr(tpname, '.'))
		return xstrdup(tpname);
	return xasprintf("builtins.%s", tpname);
}

void type_table__name_all(struct type_table *t, struct remote *r, const struct layout *l)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].valid && !t->v[i].name)
			t->v[i].name = utf8_sanitize(type__qualified_name(r, l, t->v[i].addr));
}
