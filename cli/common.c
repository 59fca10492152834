/* SPDX-License-Identifier: MIT */
/* What every subcommand shares: the common flags and the one-line usage error (cli.h). */
#define _GNU_SOURCE
#include <getopt.h>

#include "../common/util.h"
#include "cli.h"

bool cli__common(int c)
{
	switch (c) {
	case 'v': log_level++; return true;
	case 'q': log_level = 0; return true;
	case CLI_NO_COLOR: color_mode = -1; return true;
	case CLI_FORCE_TERMINAL:
		if (color_mode >= 0)
			color_mode = 1; /* --no-color wins, whatever the order */
		return true;
	default: return false;
	}
}

int cli__bad_option(char **argv)
{
	log_bad_option(argv[optind - 1], optopt);
	return EXIT_USAGE;
}
