/* SPDX-License-Identifier: MIT */
/*
 * The options of a monitoring run, in one table: each with its command-line
 * name, the seed's keyword (memalot.start_leak_monitoring(...)), its type,
 * default and help. The command-line parsing and --help of `attach` and
 * `run` are made from it, and so will the Python package's keywords be.
 */
#ifndef MEMALOT_OPTIONS_H
#define MEMALOT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "monitor.h"

/* Which commands take an option. */
enum {
	OPTS_ATTACH = 1,
	OPTS_RUN = 2,
	OPTS_MONITOR = OPTS_ATTACH | OPTS_RUN,
};

enum option_type {
	OPT_SECONDS,  /* a duration above 0, at most 10 years (double) */
	OPT_SECONDS0, /* the same, 0 allowed */
	OPT_COUNT,    /* an integer from 1 (int, long or uint64_t: see size) */
	OPT_COUNT0,   /* an integer from 0 */
	OPT_BYTES,    /* a number of bytes from 0 (uint64_t) */
	OPT_FLAG,     /* true when given (bool) */
	OPT_PATH,     /* a non-empty string (const char *) */
	OPT_WORDS,    /* repeatable: a NULL-terminated array (char **) and its count (size_t) */
	OPT_ACCEPTED, /* accepted and ignored */
};

/* Everything the command line of attach or run says. */
struct monitor_config {
	struct monitor_opts o;
	char **prefixes; /* --referrers-module-prefix, repeatable */
	size_t nprefixes;
	bool children;
	long max_processes;
	struct monitor_fail fail;
	int control_fd; /* --control-fd: driven by the Python package (engine/control.h), or 0 */
	long untracked_referrer_depth; /* the seed's referrers_max_untracked_search_depth: taken, not used */
};

struct option_def {
	const char *name;   /* --name */
	const char *seed;   /* the seed's keyword, NULL when it has none */
	bool seed_negates;  /* the keyword means the opposite of the flag (check_referrers=False is --no-referrers) */
	enum option_type type;
	unsigned cmds;      /* OPTS_* */
	size_t offset;      /* of the value in struct monitor_config */
	size_t size;        /* of the value (integers), or the offset of the count (OPT_WORDS) */
	long long max;      /* the largest integer taken */
	const char *meta;   /* what the help calls the value: "S", "N", "T"... */
	const char *dflt;   /* the default, as the command line would give it (applied by options__init); NULL: none */
	const char *help;   /* NULL: an alias of the entry before, not listed */
};

/* The most entries the table may have. */
#define OPTIONS_MAX 64

/* The table (engine/option_table.c), and how many entries it has. */
const struct option_def *options__table(size_t *n);

/* c with every default of the table. */
void options__init(struct monitor_config *c);

/*
 * Parse argv's options for cmd (OPTS_ATTACH or OPTS_RUN) into c, stopping
 * at the first operand for run (its PROGRAM keeps its own options); optind
 * is then the first operand. usage_head is the start of --help.
 * @return 0, -1 after --help, or EXIT_USAGE after the message
 */
int options__parse(int argc, char **argv, unsigned cmd, const char *usage_head, struct monitor_config *c);

/* Print the help of cmd's options, made from the table. */
void options__help(FILE *f, unsigned cmd);

void options__release(struct monitor_config *c);

#endif
