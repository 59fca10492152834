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

/* The line executing at byte offset addr of code object code, or -1. */
int roots__code_line(struct remote *r, const struct layout *l, raddr_t code, int64_t addr);

#endif
