/* SPDX-License-Identifier: MIT */
/*
 * Retained sizes from the dominator tree of the reference graph: what would
 * be freed with an object, and with a set of objects.
 *
 * The tree hangs from a virtual super-root whose children are the roots:
 *   - module globals (values of a module's dict), class attributes (values of
 *     a class's dict), sys.modules entries and gc.garbage items: the edges
 *     graph__root_edge_kind names;
 *   - the local variables of every thread's running frames (g->roots);
 *   - objects of the permanent generation (gc.freeze);
 *   - "held by native code": objects whose ob_refcnt exceeds the references
 *     found (gnode.inbound), and immortal objects (3.12+), which nothing
 *     Python holds can free;
 *   - objects on no path from any of the above (unreachable cycles, or held
 *     only by such): after the search from the roots, each unreached object
 *     without an unreached referrer, then each one still unreached in node
 *     order, becomes a child of the super-root (ROOT_UNREACHABLE) and the
 *     search goes on from it. Their retained sizes are thus what freeing them
 *     would free in the heap as it is.
 * A node that is a root for several reasons gets the first of: global,
 * class attribute, sys.modules, local, gc.garbage, permanent, native.
 *
 * Edges followed: every edge of the graph but EDGE_TYPE_OF (an instance does
 * not keep its class: the class is held by its module) and derived edges (an
 * attribute read through an instance's __dict__ restates the dict's
 * reference; the instance -> __dict__ -> value path holds it), as
 * engine/why.c's deep_size does. Weak references are not in the graph.
 * Closures are not roots of their own: a cell is held by its function's
 * __closure__ tuple, the function by whatever holds it.
 *
 * Lengauer-Tarjan with path compression (iterative: no recursion however
 * deep the graph), O(E log N) time; 32-bit indices, about 40 bytes a node
 * while computing, 21 kept.
 */
#ifndef MEMALOT_DOMINATORS_H
#define MEMALOT_DOMINATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"

/* idom of the super-root's children */
#define DOM_SUPER UINT32_MAX

struct dom_tree {
	size_t n;            /* graph nodes */
	uint32_t *idom;      /* immediate dominator of each node, DOM_SUPER for the roots */
	uint64_t *retained;  /* node_size summed over the node's dominator subtree (itself included) */
	uint8_t *root;       /* enum root_kind that made the node a child of the super-root, or ROOT_NONE */
	/* the dominator tree in preorder: v dominates w iff pre[v] <= pre[w] <= end[v] (super-root: 0) */
	uint32_t *pre, *end;
	uint64_t total;      /* sum of node_size: the super-root's retained size */
	size_t nroots;       /* children of the super-root */
	size_t nunreachable; /* of which ROOT_UNREACHABLE */
	uint64_t ns;         /* time spent in dominators__compute */
	/*
	 * The target of each reference of g (succ[k] is g->edges[k].to: node
	 * v's are succ[g->fwd_start[v] .. g->fwd_start[v + 1])), DOM_DERIVED
	 * set on a derived one (dominators do not follow them), DOM_SKIP for
	 * EDGE_TYPE_OF: for searches, 4 bytes a reference instead of 32.
	 */
	uint32_t *succ;
	void *arena, *adj;   /* the arrays above, in two table_zalloc (huge pages when big) */
	size_t arena_bytes, adj_bytes;
};

/* In dom_tree.succ: the reference is derived (see refs.h); no reference to follow. */
#define DOM_DERIVED 0x80000000u
#define DOM_SKIP UINT32_MAX

/*
 * The dominator tree of g (built and indexed: graph__index) and the retained
 * size of every node, from node_size[g->n] (bytes, e.g. sys.getsizeof; NULL
 * counts every node as 1). The native roots come from gnode.refcnt (the
 * ob_refcnt read at the build; 0, not read, makes no root). @return 0, -EINVAL (graph not indexed) or
 * -E2BIG (too many nodes or edges for 32-bit indices)
 */
int dominators__compute(struct dom_tree *t, const struct graph *g, const uint64_t *node_size);
void dominators__release(struct dom_tree *t);

/* Whether node a dominates node b (a node dominates itself). */
static inline bool dominators__dominates(const struct dom_tree *t, uint32_t a, uint32_t b)
{
	return t->pre[a] <= t->pre[b] && t->pre[b] <= t->end[a];
}

/* The lower bound of a group: the union of the members' dominator subtrees. */
uint64_t dominators__union_retained(const struct dom_tree *t, const uint32_t *members, size_t n);

/*
 * The bytes freed if every member were freed: node_size summed over the
 * members and every node all of whose paths from the super-root pass through
 * a member. Searches again, without the members, from their lowest common
 * dominator within its dominator subtree; when that subtree has more than
 * max_visit nodes, gives dominators__union_retained instead (*exact false).
 * *visited (if not NULL) gets the nodes the search had to consider.
 */
uint64_t dominators__group_retained(const struct dom_tree *t, const struct graph *g, const uint64_t *node_size,
				    const uint32_t *members, size_t n, size_t max_visit, bool *exact,
				    size_t *visited);

/*
 * The nodes dominators__group_retained would search for these members: the
 * dominator subtree of their lowest common dominator (0 when one member
 * dominates the others, or none is in the tree).
 */
size_t dominators__group_region(const struct dom_tree *t, const uint32_t *members, size_t n);

/* Whether an edge counts for dominators (not EDGE_TYPE_OF, not derived). */
static inline bool dominators__edge_counts(const struct gedge *e)
{
	return e->kind != EDGE_TYPE_OF && !e->derived;
}

#endif
