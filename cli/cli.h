/* SPDX-License-Identifier: MIT */
/* Subcommands; the exit codes they share are engine/status.h's. */
#ifndef MEMALOT_CLI_H
#define MEMALOT_CLI_H

#include "../engine/status.h"

int cmd_snapshot(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_options(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_print(int argc, char **argv);
int cmd_mcp(int argc, char **argv);

#endif
