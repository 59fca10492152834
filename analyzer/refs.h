/* SPDX-License-Identifier: MIT */
/* Referents: the objects one object refers to, with a label for each edge. */
#ifndef MEMALOT_REFS_H
#define MEMALOT_REFS_H

#include <stdbool.h>
#include <stdint.h>

#include "../attach/remote.h"
#include "../symbols/layout.h"

/* How an edge was found; rendered into labels like "dict key='user:42'". */
enum edge_kind {
	EDGE_DICT_VALUE,   /* value of a dict entry; key = the key object */
	EDGE_DICT_KEY,     /* a dict key object itself */
	EDGE_ATTR,         /* instance attribute (from __dict__, managed dict or inline values); name */
	EDGE_SLOT,         /* __slots__ member; name */
	EDGE_INSTANCE_DICT,/* an instance's materialised __dict__ */
	EDGE_LIST_INDEX,   /* index */
	EDGE_TUPLE_INDEX,  /* index */
	EDGE_SET_MEMBER,
	EDGE_DEQUE_INDEX,  /* index */
	EDGE_CELL,         /* cell contents */
	EDGE_FUNC,         /* function field; name = "__globals__", "__closure__", "__defaults__", ... */
	EDGE_METHOD,       /* bound method field: "__self__" or "__func__" */
	EDGE_MODULE_DICT,  /* a module's __dict__ */
	EDGE_TYPE,         /* type field: "__dict__", "__mro__", "__bases__" */
	EDGE_TYPE_OF,      /* ob_type of a heap-type instance */
	EDGE_WEAK,         /* weak reference: never keeps alive (reported, not followed as strong) */
	EDGE_SCANNED,      /* found by the conservative word scan of an unknown type */
	EDGE_FRAME_LOCAL,  /* a local variable of a suspended frame (generator, frame object); name */
	EDGE_OTHER,        /* any other field; name says which */
};

struct edge {
	raddr_t to;
	enum edge_kind kind;
	int64_t index;     /* list/tuple/deque index, or -1 */
	raddr_t key;       /* EDGE_DICT_VALUE: the key object (decode it for the label), or 0 */
	char name[64];     /* attribute/slot/field name, "" when none */
	/*
	 * The reference is held by another object (an instance's attribute read
	 * through its __dict__): show it, but do not count it as a reference.
	 */
	bool derived;
};

/* Called for each referent; return nonzero to stop. */
typedef int (*refs_fn)(const struct edge *e, void *arg);

/* What decoders need beyond the layout. */
struct refs_ctx {
	struct remote *r;
	const struct layout *l;
	/* known objects, for the conservative scan: returns true if addr is a tracked object */
	bool (*is_known)(raddr_t addr, void *arg);
	void *known_arg;
};

/*
 * Call fn for every object obj (of type type) refers to. Decodes the builtin
 * containers and instances of every supported version from the layout; an
 * unknown type is scanned word by word within tp_basicsize + tp_itemsize *
 * ob_size, keeping only words that ctx->is_known accepts (EDGE_SCANNED).
 * Every count read from the target is capped. @return fn's nonzero value, 0,
 * or -errno when obj could not be read (its edges so far were given)
 */
int refs__each(const struct refs_ctx *ctx, raddr_t obj, raddr_t type, refs_fn fn, void *arg);

/* A human label for an edge, e.g. "User.session (instance attribute)", "list index=3". */
void refs__label(const struct refs_ctx *ctx, const struct edge *e, const char *owner_type,
		 char *buf, size_t size);

#endif
