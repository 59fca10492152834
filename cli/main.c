/* SPDX-License-Identifier: MIT */
/* memalot's entry point: a git-style table of subcommands. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../attach/freeze.h"
#include "../attach/proc.h"
#include "../common/util.h"
#include "cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "attach", cmd_attach, "watch a Python process and report objects that outlive a lifetime" },
	{ "run", cmd_run, "start a program and watch it and its Python descendants for leaks" },
	{ "snapshot", cmd_snapshot, "freeze a Python process and count its objects by type" },
	{ "list", cmd_list, "list the saved leak reports, newest first" },
	{ "print", cmd_print, "print a saved leak report as it was printed live" },
	{ "mcp", cmd_mcp, "serve the saved reports to AI assistants (MCP over stdio)" },
	{ "options", cmd_options, "the options of attach and run, with the seed's keywords (--json)" },
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


/*
 * A closed standard stream would be taken by the next open(): report text
 * sent to a report file or a target's /proc/PID/mem. Hold each with
 * /dev/null, stdout read-only so that writing to it still fails (EBADF) as
 * writing to a closed stdout does.
 */
static void hold_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		nfd = open("/dev/null", fd == 2 ? O_WRONLY : O_RDONLY);
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

/*
 * A report that could not be written is not a success: a full disk, a
 * closed or broken stdout end a command with "error writing standard
 * output: REASON" and exit 1 (or the command's own error code).
 */
static int finish(int code)
{
	errno = 0; /* not a reason left by something else: a lost one is "unknown write error" */
	if (!cli__flush(stdout, "standard output"))
		return code;
	return code == EXIT_OK ? EXIT_ERROR : code;
}

int main(int argc, char **argv)
{
	hold_std_fds();
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
		if (!strcmp(argv[1], commands[i].name)) {
			log_command = commands[i].name; /* for its usage errors */
			return finish(commands[i].fn(argc - 1, argv + 1));
		}
	log_err("'%s' is not a memalot command; see 'memalot --help'", argv[1]);
	return EXIT_USAGE;
}
