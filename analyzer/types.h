/* SPDX-License-Identifier: MIT */
/* Fully-qualified type names ("builtins.dict", "myapp.models.User") for type objects. */
#ifndef MEMALOT_TYPES_H
#define MEMALOT_TYPES_H

#include <stddef.h>

#include "../attach/remote.h"
#include "../symbols/layout.h"

struct type_entry {
	raddr_t addr;
	char *name;   /* owned */
	bool valid;   /* is a type object */
};

/* A set of type objects seen in one snapshot, by address. */
struct type_table {
	struct type_entry *v;
	size_t n, cap;
	uint32_t *slots; /* index+1 into v, 0 = empty */
	size_t nslots;
};

void type_table__init(struct type_table *t);
void type_table__release(struct type_table *t);

/*
 * The index of type t, validating it on first sight (its metatype chain must
 * reach PyType_Type). @return index, or -1 when t is not a type object
 */
long type_table__intern(struct type_table *t, struct remote *r, const struct layout *l, raddr_t type);

/*
 * Give every valid entry its fully-qualified name: static types use tp_name
 * ("dict" becomes "builtins.dict"); heap types use __module__ from the
 * type's dict and __qualname__.
 */
void type_table__name_all(struct type_table *t, struct remote *r, const struct layout *l);

/* The name of one type object (caller frees). */
char *type__qualified_name(struct remote *r, const struct layout *l, raddr_t type);

#endif
