/* SPDX-License-Identifier: MIT */
/* Subcommands and the exit codes they share. */
#ifndef MEMALOT_CLI_H
#define MEMALOT_CLI_H

#define MEMALOT_VERSION "0.1.0"

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
	EXIT_INTERRUPTED = 130,
};

int cmd_snapshot(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_print(int argc, char **argv);
int cmd_mcp(int argc, char **argv);

/* Map a library error to an exit code. */
int exit_code_for(int err);
/* Parse a pid argument. @return 0 or -1 (message printed) */
int parse_pid(const char *s, int *pid);

#endif
