/* SPDX-License-Identifier: MIT */
/* memalot's entry point: a git-style table of subcommands. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "attach", cmd_attach, "watch a Python process and report objects that outlive a lifetime" },
	{ "snapshot", cmd_snapshot, "freeze a Python process and count its objects by type" },
	{ "list", cmd_list, "list the saved leak reports, newest first" },
	{ "print", cmd_print, "print a saved leak report as it was printed live" },
	{ "mcp", cmd_mcp, "serve the saved reports to AI assistants (MCP over stdio)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: memalot [--version] [--help] <command> [<args>]\n\n"
		   "Find memory leaks in running Python programs, from outside the process.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nrun 'memalot <command> --help' for a command's options\n");
}

int exit_code_for(int err)
{
	switch (err) {
	case 0: return EXIT_OK;
	case -ESRCH: return EXIT_NO_PROCESS;
	case -EPERM: case -EACCES: return EXIT_PERMISSION;
	case -ME_TRACED: return EXIT_TRACED;
	case -ME_NOTPYTHON: return EXIT_NOT_PYTHON;
	case -ME_UNSUPPORTED: case -ME_FREETHREADED: case -ME_NOLAYOUT: return EXIT_UNSUPPORTED;
	case -ME_EXITED: return EXIT_EXITED;
	case -ME_INTERRUPTED: return EXIT_INTERRUPTED;
	default: return EXIT_ERROR;
	}
}

int parse_pid(const char *s, int *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > INT_MAX) {
		log_err("'%s' is not a process id", s);
		return -1;
	}
	*pid = (int)v;
	return 0;
}

/*
 * A report that could not be written is not a success: a full disk, a
 * closed or broken stdout end a command with one line and exit 1.
 */
static int finish(int code)
{
	int failed = fflush(stdout) ? errno : 0;

	if (!failed && !ferror(stdout))
		return code;
	log_err("cannot write to standard output: %s", failed ? strerror(failed) : "write error");
	return code == EXIT_OK ? EXIT_ERROR : code;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return finish(EXIT_OK);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("memalot %s\n", MEMALOT_VERSION);
		return finish(EXIT_OK);
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return finish(commands[i].fn(argc - 1, argv + 1));
	log_err("'%s' is not a memalot command; see 'memalot --help'", argv[1]);
	return EXIT_USAGE;
}
