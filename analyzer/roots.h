/* SPDX-License-Identifier: MIT */
/* Roots that are not objects: the local variables of every thread's running frames. */
#ifndef MEMALOT_ROOTS_H
#define MEMALOT_ROOTS_H

#include "graph.h"

/*
 * Walk every thread of every interpreter, every frame of each thread, and
 * add a root edge for each local variable that holds an object of g:
 * "handle_request.pending (local) at app.py:42". Frames are read from the
 * copy taken with the snapshot. @return the number of root edges added
 */
size_t roots__frames(struct graph *g);

/*
 * Call fn(value, name) for each local variable slot of a frame running code,
 * whose locals start at locals (f_localsplus or localsplus); values are
 * untagged and may be 0 (unbound). Stops when fn returns nonzero.
 * @return fn's value or 0
 */
typedef int (*frame_local_fn)(raddr_t value, raddr_t name, void *arg);
int roots__frame_locals(struct remote *r, const struct layout *l, raddr_t code, raddr_t locals,
			frame_local_fn fn, void *arg);

/*
 * For a generator, coroutine or frame object obj (type kind from the
 * caller): the code object and the start of its locals, if it has a live
 * frame. @return 0, or -ENOENT when there is no frame (finished, or 3.10-
 * generators whose frame is a separate object: see gen.gi_frame)
 */
int roots__object_frame(struct remote *r, const struct layout *l, raddr_t obj, bool generator,
			raddr_t *code, raddr_t *locals);

/* The line executing at byte offset addr of code object code, or -1. */
int roots__code_line(struct remote *r, const struct layout *l, raddr_t code, int64_t addr);

#endif
