/* SPDX-License-Identifier: MIT */
/*
 * What the engine and the front ends share about how things end: the
 * version, the exit codes, the one-line messages of a failed attach,
 * durations and write errors (engine/status.c, in the library).
 */
#ifndef MEMALOT_STATUS_H
#define MEMALOT_STATUS_H

#define MEMALOT_VERSION "0.1.0"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes: distinct per failure so scripts and tests can tell them apart. */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,        /* anything not listed below */
	EXIT_USAGE = 2,        /* bad command line */
	EXIT_NO_PROCESS = 3,   /* no such pid */
	EXIT_PERMISSION = 4,   /* not allowed to ptrace it */
	EXIT_TRACED = 5,       /* already traced by a debugger or strace */
	EXIT_NOT_PYTHON = 6,   /* no CPython in that process */
	EXIT_UNSUPPORTED = 7,  /* version, free-threaded build, or no layout for it */
	EXIT_EXITED = 8,       /* the target exited while we worked */
	EXIT_PARTIAL = 9,      /* printed a partial result: the GC lists kept changing */
	EXIT_LEAKED = 10,      /* --fail-on-leak: a process leaked past the thresholds */
	EXIT_INTERRUPTED = 130,
};

/* Map a library error to an exit code. */
int exit_code_for(int err);
/* Parse a pid argument. @return 0 or -1 (message printed) */
int parse_pid(const char *s, int *pid);

/*
 * Say in one line why pid could not be read, err (with why, when it has
 * one) from remote__open, layout__discover or snapshot__take, and return
 * the exit code. found: memalot had found the process (remote__open
 * succeeded). A target that exits while memalot starts or reads it shows as
 * a process without memory, interpreter or GC lists: one that is gone (once
 * found), a zombie or exiting now is 8 whatever err says; 3 is for no
 * process at all.
 */
int cli__target_error(int pid, int err, const char *why, bool found);
/*
 * Whether err (not 0) came from pid exiting: the test of cli__target_error,
 * which waits a moment when err is what a Python tearing its interpreter
 * down gives.
 */
bool cli__target_exited(int pid, int err, bool found);

/* The longest duration an option takes: 10 years, in seconds. */
#define CLI_MAX_SECONDS (10.0 * 365 * 24 * 3600)
/*
 * Parse a number of seconds for --NAME: finite, at most CLI_MAX_SECONDS,
 * positive (or also 0 with allow_zero). @return 0, or -1 with the message
 * "--NAME takes ..." printed (a usage error)
 */
int parse_seconds(const char *name, const char *s, bool allow_zero, double *out);
/* Seconds (as parse_seconds gives them) in nanoseconds. */
uint64_t seconds_ns(double s);

/*
 * Flush f, which the user knows as what ("standard output", "'out.txt'");
 * when this or an earlier write to it failed, say "error writing WHAT:
 * REASON", once per stream. A full disk, a closed or broken stdout are
 * exit 1 (EXIT_ERROR). A write that failed before may have left the only
 * trace of its reason in errno: clear errno before writing what is
 * flushed. @return 0, or -1 after the message
 */
int cli__flush(FILE *f, const char *what);
/* Say "error writing WHAT: strerror(err)" for stream f (once per stream), for a failure seen elsewhere. */
void cli__write_error(FILE *f, const char *what, int err);

#endif
