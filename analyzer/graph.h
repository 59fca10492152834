/* SPDX-License-Identifier: MIT */
/* The reference graph of a snapshot, its roots, and referrer chains ("why is it alive?"). */
#ifndef MEMALOT_GRAPH_H
#define MEMALOT_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "refs.h"
#include "snapshot.h"

/* What keeps a chain alive at its top. */
enum root_kind {
	ROOT_NONE = 0,
	ROOT_GLOBAL,          /* module global: "myapp.cache._CACHE (global)" */
	ROOT_CLASS_ATTRIBUTE, /* "Connection._registry (class attribute)" */
	ROOT_LOCAL,           /* a running frame's local: "handle.pending (local) at app.py:42" */
	ROOT_CLOSURE,         /* closure variable */
	ROOT_NATIVE,          /* refcount exceeds the references found */
	ROOT_SYS_MODULES,     /* "sys.modules['myapp']" */
	ROOT_GC_GARBAGE,      /* gc.garbage */
	ROOT_PERMANENT,       /* gc.freeze()'s permanent generation */
	ROOT_LIMIT,           /* not a root: the search stopped here (depth, fan-in, time) */
	ROOT_UNREACHABLE,     /* nothing holds it but a reference cycle the GC has not freed */
};

const char *root_kind__name(enum root_kind k);

struct gnode {
	raddr_t addr;
	uint32_t type;      /* index into the snapshot's type table */
	uint32_t inbound;   /* strong references found from other objects */
	uint8_t depth;      /* 0: on a GC list; n: untracked, found n edges below */
	bool immortal;      /* 3.12+ immortal refcount */
	bool instance_dict; /* the materialised __dict__ of an instance */
	uint32_t refcnt;    /* ob_refcnt's low 32 bits when built (0: not read) */
};

struct gedge {
	uint32_t from, to;
	uint8_t kind;       /* enum edge_kind */
	int32_t index;
	raddr_t key;
	uint32_t name;      /* into graph.names, 0 = none */
	bool derived;       /* restates a reference another object holds (see refs.h) */
};

/* A root that is not an object: a frame's local variable holding node. */
struct groot {
	uint32_t node;
	uint8_t kind;       /* enum root_kind */
	char *label;        /* owned */
};

struct graph {
	struct snapshot *snap;
	struct refs_ctx ctx;
	struct gnode *nodes;
	size_t n, cap;
	struct gedge *edges; /* in source order: edges[fwd_start[i] .. fwd_start[i+1]) leave node i */
	size_t nedges, ecap;
	size_t *fwd_start;
	uint32_t *rev;       /* edge numbers by target: edges[rev[rev_start[i] .. rev_start[i+1])] point to */
	size_t *rev_start;   /* node i, in source order */
	char **names;        /* interned names; names[0] = "" */
	size_t nnames, names_cap;
	/* open-addressing: addr -> node index + 1 (the address kept beside it: one cache miss a probe) */
	bool indexed;          /* graph__index done */
	struct gslot { raddr_t addr; uint32_t idx, inb; } *slots; /* inb: while building */
	size_t nslots;
	/* node -> module (for module dicts) / type (for type dicts) owning it, + 1; 0 none */
	uint32_t *dict_owner;
	bool *owner_is_type;
	struct groot *roots;  /* sorted by node once built */
	size_t nroots, roots_cap;
	uint64_t build_ns;
};

struct graph_opts {
	int untracked_depth;   /* --max-untracked-search-depth (3) */
};

/*
 * Decode every object of snap (and untracked referents up to the depth)
 * into a graph with reverse edges. r should be sealed on a copy taken with
 * the snapshot (snapshot_opts.copy_memory). @return 0 or -errno
 */
int graph__build(struct graph *g, struct snapshot *snap, struct remote *r, const struct layout *l,
		 const struct graph_opts *opts);

/*
 * graph__build in two halves, for who needs the indexes only now and then
 * (memalot attach tracks ages at every check, searches referrers only for
 * a report): the nodes and edges, then the owners of dicts, the roots and
 * the edge indexes that referrer searches use. graph__index is idempotent.
 */
int graph__build_nodes(struct graph *g, struct snapshot *snap, struct remote *r, const struct layout *l,
		       const struct graph_opts *opts);
void graph__index(struct graph *g);
/* graph__index's edge indexes alone (sorting edges made in any order by source first), for tests. */
void graph__index_edges(struct graph *g);
void graph__release(struct graph *g);
/* The node of addr, or -1. */
long graph__find(const struct graph *g, raddr_t addr);

/* A referrer graph of some targets, in the seed's shape. */
struct rnode {
	long node;          /* graph node, or -1 for a synthetic root / limit node */
	char *name;         /* label (owned) */
	enum root_kind root;
	size_t *referents;  /* indices into rgraph.nodes: what this node refers to */
	size_t nref, refcap;
};

struct rgraph {
	struct rnode *nodes;
	size_t n, cap;
	size_t *targets, ntargets;
	size_t *roots, nroots, rootcap;
	bool stopped;        /* a limit cut the search */
};

struct referrer_opts {
	int max_depth;            /* --referrers-max-depth (50) */
	double timeout_s;         /* --referrers-search-timeout (300) */
	int single_object_limit;  /* --single-object-referrer-limit (100) */
	char **module_prefixes;   /* --referrers-module-prefix, NULL-terminated, or NULL */
};

/* Search back from target to its roots. @return 0 or -errno */
int graph__referrers(struct graph *g, long target, const struct referrer_opts *opts,
		     struct rgraph *out);
void rgraph__release(struct rgraph *rg);

/* A one-line description of a node: "__main__.Session at 0x7f..". (caller frees) */
char *graph__describe(const struct graph *g, long node);

/*
 * The root that edge (an index into g->edges) makes of its target: a module
 * global, a class attribute, sys.modules or gc.garbage, else ROOT_NONE; with
 * its label as the referrer search gives it, "app._CACHE (global)" (caller
 * frees; NULL when the edge makes no root). No module prefix filter.
 */
enum root_kind graph__root_edge_kind(const struct graph *g, size_t edge);
char *graph__root_label(const struct graph *g, size_t edge, enum root_kind *kind);
/* The closure variable a cell node is, "make.<locals>.f.conn (closure)". @return false if unknown */
bool graph__closure_label(const struct graph *g, uint32_t cell, char *buf, size_t size);

#endif
