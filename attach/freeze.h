/* SPDX-License-Identifier: MIT */
/* Freezing and thawing every thread of a target with PTRACE_SEIZE/INTERRUPT. */
#ifndef MEMALOT_FREEZE_H
#define MEMALOT_FREEZE_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/util.h"

struct freezer {
	pid_t pid;
	pid_t *tids;     /* seized threads */
	int *pending;    /* signal to re-inject at detach, per thread, or 0 */
	size_t n, cap;
	uint64_t frozen_ns; /* when the last thread stopped */
	uint64_t start_ns;  /* when the first thread was interrupted */
	bool frozen;
};

/*
 * Install handlers so that SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT and fatal
 * signals (SIGSEGV, SIGBUS, SIGABRT, SIGFPE) detach every seized thread before
 * memalot dies. Call once at start-up. SIGKILL needs no handler: threads taken
 * with PTRACE_SEIZE are released by the kernel when their tracer dies.
 */
void freezer__install_signal_handlers(void);

/* True once SIGINT/SIGTERM/SIGHUP arrived (handlers installed with want_stop). */
extern volatile int freezer_stop_requested;

/*
 * Seize and interrupt every thread of pid, re-scanning /proc/PID/task until
 * no new thread appears, and wait until each one is stopped.
 * @return 0, -ESRCH (no such process / it exited), -EPERM (see
 *         freezer__explain_eperm), -ME_TRACED, -ETIMEDOUT or -errno.
 *         On failure nothing stays seized and fz holds nothing to release.
 */
int freezer__freeze(struct freezer *fz, pid_t pid);

/* Detach every seized thread, re-injecting signals that arrived meanwhile. */
int freezer__thaw(struct freezer *fz);

/* Frees what fz holds; thaws first if still frozen. */
void freezer__release(struct freezer *fz);

/*
 * Explain why attaching to pid is not allowed, as a one-line message with
 * what to do (already traced, other user, yama ptrace_scope, missing
 * CAP_SYS_PTRACE). @return the message (caller frees)
 */
char *freezer__explain_eperm(pid_t pid);

#endif
