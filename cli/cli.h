/* SPDX-License-Identifier: MIT */
/* Subcommands; the exit codes they share are engine/status.h's. */
#ifndef MEMALOT_CLI_H
#define MEMALOT_CLI_H

#include "../engine/status.h"

#include <stdbool.h>

/*
 * The flags every subcommand takes: -v/--verbose, -q/--quiet, -h/--help,
 * --no-color, --force-terminal. Put CLI_COMMON_OPTIONS in a getopt_long
 * table and CLI_COMMON_SHORT in its short options; cli__common() applies
 * the first four kinds it is given.
 */
enum { CLI_NO_COLOR = 0x4000, CLI_FORCE_TERMINAL };
#define CLI_COMMON_SHORT "vqh"
#define CLI_COMMON_OPTIONS                                                                                    \
	{ "verbose", no_argument, NULL, 'v' }, { "quiet", no_argument, NULL, 'q' },                           \
		{ "help", no_argument, NULL, 'h' }, { "no-color", no_argument, NULL, CLI_NO_COLOR },          \
		{ "force-terminal", no_argument, NULL, CLI_FORCE_TERMINAL }
#define CLI_COMMON_HELP                                                                                        \
	"  -v, --verbose / -q, --quiet  more or less on stderr\n"                                             \
	"  --no-color / --force-terminal  no colour / colour even when not on a terminal\n"                  \
	"                           (default: colour on a terminal, unless NO_COLOR is set)\n"              \
	"  -h, --help               this help\n"

/* -v, -q, --no-color, --force-terminal applied; @return false for any other getopt result */
bool cli__common(int c);
/* The usage error for getopt's '?' (opterr = 0): one line naming the option. @return EXIT_USAGE */
int cli__bad_option(char **argv);

int cmd_snapshot(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_options(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_print(int argc, char **argv);
int cmd_mcp(int argc, char **argv);

#endif
