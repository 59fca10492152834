/* SPDX-License-Identifier: MIT */
/*
 * Leak groups: leaked objects grouped by the root and the path that retain
 * them, "__main__._RESPONSE_CACHE (global) → dict[*] → Response.request",
 * with the bytes each group retains.
 *
 * The path of an object: one breadth-first search over the whole graph
 * (every edge but EDGE_TYPE_OF; derived attribute edges included, so an
 * attribute reads "Response.request", not "Response.__dict__ → dict[*]")
 * from the roots of the dominator tree, in order of preference: first the
 * Python roots (globals, class attributes, sys.modules, locals, gc.garbage),
 * then what only the permanent generation, then native code, then a
 * reference cycle keeps. Each object's path is its shortest from the first
 * of these that reaches it.
 *
 * The head of a leaked object: going up its path, the last of the leaked
 * objects before the first object that is not leaked (or the root). Objects
 * held through other leaked objects (a Request held by a leaked Response)
 * join the group of their head: the group's path is that of the heads.
 *
 * The label: the root's label as the referrer search gives it ("app._CACHE
 * (global)", "handle.items (local) at app.py:42", "Registry.items (class
 * attribute)", "sys.modules['app']", "gc.garbage[3]"; "permanent generation
 * (gc.freeze)", "held by native code" and "unreachable (reference cycle)"
 * get the root object's type: "held by native code (app.Pool)"), then one
 * element per edge down to the head: "dict[*]" (a dict value, any key; the
 * holder's type's short name), "list[*]", "tuple[*]", "deque[*]" (any
 * index), "set{*}", "dict (key)", "Response.request" (attribute or slot),
 * "Response.__dict__", "function.__defaults__" (other fields), closures as
 * the referrer search names them. A run of the same element becomes
 * "Node.next (repeated)"; a path keeps at most GROUP_PATH_MAX elements
 * ("…" stands for the middle).
 *
 * Retained bytes: dominators__group_retained of all the group's members
 * (heads and followers). Groups whose lowest common dominator's subtree is
 * small are exact; the others share a budget of max_full_passes whole-graph
 * passes, given to the groups in order of their lower bound (the union of
 * their members' dominator subtrees), and the rest keep that lower bound
 * (retained_exact false).
 */
#ifndef MEMALOT_GROUPS_H
#define MEMALOT_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dominators.h"
#include "graph.h"

#define GROUP_PATH_MAX 24

struct group_type {
	uint32_t type;        /* index into the snapshot's type table */
	const char *name;     /* the table's name (not owned) */
	size_t count;
};

struct leak_group {
	char *root_label;     /* "__main__._RESPONSE_CACHE (global)" (owned) */
	char *path;           /* root label and elements: "... (global) → dict[*]" (owned) */
	enum root_kind root_kind;
	uint32_t root_node;   /* the root object of the first head's path */
	size_t object_count;  /* members */
	uint64_t retained_bytes;
	bool retained_exact;  /* false: the lower bound (see above) */
	struct group_type *types; /* by count, most first, then by name */
	size_t ntypes;
	uint32_t *members;    /* graph nodes: the heads first, each part in input order */
	size_t nheads;
};

struct leak_groups {
	struct leak_group *v; /* by retained bytes, most first, then by count and path */
	size_t n;
	size_t nleaked;       /* distinct leaked nodes grouped */
	uint64_t ns;          /* time spent in groups__build */
};

struct group_opts {
	unsigned max_full_passes; /* whole-graph passes for retained sizes (4) */
};
#define GROUP_OPTS_DEFAULT { 4 }

/*
 * Group the leaked nodes (indices into g; out of range and repeated ones are
 * skipped) of g, indexed, with its dominator tree t computed from node_size.
 * opts NULL: the defaults. @return 0, -EINVAL (t not of g) or -E2BIG
 */
int groups__build(const struct graph *g, const struct dom_tree *t, const uint64_t *node_size,
		  const uint32_t *leaked, size_t nleaked, const struct group_opts *opts, struct leak_groups *out);
void groups__release(struct leak_groups *gs);

/* The collapsed label of an edge of g, "dict[*]", "Response.request". */
void groups__edge_label(const struct graph *g, size_t edge, char *buf, size_t size);

#endif
