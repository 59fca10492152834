/* SPDX-License-Identifier: MIT */
/* The options of a monitoring run (options.h): parsing and --help, made from the table (option_table.c). */
#define _GNU_SOURCE
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "../common/util.h"

static void add_word(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = (char *)s;
	(*v)[*n] = NULL;
}

/* Store integer v in the field of d (of its size). */
static void set_int(struct monitor_config *c, const struct option_def *d, long long v)
{
	void *p = (char *)c + d->offset;

	switch (d->size) {
	case sizeof(int): *(int *)p = (int)v; break;
	case sizeof(long long): *(long long *)p = v; break; /* long, uint64_t: 8 bytes here */
	default: abort();
	}
}

/*
 * Give d the value arg (NULL for a flag); name is how the user wrote it.
 * @return 0, or -1 after the message
 */
static int apply(struct monitor_config *c, const struct option_def *d, const char *name, const char *arg)
{
	void *p = (char *)c + d->offset;
	char *end;
	long long num;

	switch (d->type) {
	case OPT_SECONDS:
	case OPT_SECONDS0:
		/* finite, not negative, at most 10 years (seconds_ns cannot overflow) */
		return parse_seconds(name, arg, d->type == OPT_SECONDS0, (double *)p);
	case OPT_BYTES: {
		uint64_t bytes;

		if (parse_size(arg, &bytes) || bytes > (uint64_t)d->max) {
			log_usage("'%s' is not a valid size for --%s (bytes, or with K, M, G: 512M)", arg, name);
			return -1;
		}
		set_int(c, d, (long long)bytes);
		return 0;
	}
	case OPT_COUNT:
	case OPT_COUNT0:
		errno = 0;
		num = strtoll(arg, &end, 10);
		if (errno || *end || end == arg || num < (d->type == OPT_COUNT ? 1 : 0) || num > d->max) {
			log_usage("'%s' is not a valid number for --%s", arg, name);
			return -1;
		}
		set_int(c, d, num);
		return 0;
	case OPT_FLAG:
		*(bool *)p = true;
		return 0;
	case OPT_PATH:
		if (!*arg) {
			log_usage("--%s takes a %s", name, !strcmp(d->meta, "D") ? "directory" : "file");
			return -1;
		}
		*(const char **)p = arg;
		return 0;
	case OPT_WORDS:
		add_word((char ***)p, (size_t *)((char *)c + d->size), arg);
		return 0;
	case OPT_ACCEPTED:
		/* colour: the reports' (the seed's color=False, force_terminal=True) */
		if (!strcmp(name, "no-color"))
			color_mode = -1;
		else if (!strcmp(name, "force-terminal") && color_mode >= 0)
			color_mode = 1;
		return 0;
	}
	return -1;
}

void options__init(struct monitor_config *c)
{
	size_t ntable;
	const struct option_def *table = options__table(&ntable);

	memset(c, 0, sizeof(*c));
	c->o.warmup = -1; /* the lifetime, once it is known */
	for (size_t i = 0; i < ntable; i++)
		if (table[i].dflt && apply(c, &table[i], table[i].name, table[i].dflt))
			abort(); /* a default the table's own type refuses */
}

void options__help(FILE *f, unsigned cmd)
{
	size_t ntable;
	const struct option_def *table = options__table(&ntable);

	for (size_t i = 0; i < ntable; i++) {
		const struct option_def *d = &table[i];
		char left[64];

		if (!(d->cmds & cmd) || !d->help)
			continue;
		snprintf(left, sizeof(left), "--%s%s%s", d->name, d->meta ? " " : "", d->meta ? d->meta : "");
		fprintf(f, "  %-32s %s%s%s%s\n", left, d->help, d->dflt ? " (default " : "", d->dflt ? d->dflt : "",
			d->dflt ? ")" : "");
	}
	fprintf(f, "  %-32s %s\n  %-32s %s\n", "-v, --verbose / -q, --quiet", "more or less on stderr", "-h, --help",
		"this help");
}

int options__parse(int argc, char **argv, unsigned cmd, const char *usage_head, struct monitor_config *c)
{
	size_t ntable;
	const struct option_def *table = options__table(&ntable);
	struct option longopts[OPTIONS_MAX + 4];
	size_t n = 0;
	int ch, li = 0;

	for (size_t i = 0; i < ntable; i++)
		if (table[i].cmds & cmd)
			longopts[n++] = (struct option){ table[i].name,
							 table[i].type == OPT_FLAG || table[i].type == OPT_ACCEPTED ?
								 no_argument :
								 required_argument,
							 NULL, 256 + (int)i };
	longopts[n++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	longopts[n++] = (struct option){ "quiet", no_argument, NULL, 'q' };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ 0 };
	optind = 1;
	opterr = 0; /* said here, in one line */
	/* run: options end at PROGRAM, whose own options are its */
	while ((ch = getopt_long(argc, argv, cmd == OPTS_RUN ? "+vqh" : "vqh", longopts, &li)) != -1) {
		switch (ch) {
		case 'v': log_level++; break;
		case 'q': log_level = 0; break;
		case 'h':
			fputs(usage_head, stdout);
			options__help(stdout, cmd);
			return -1;
		default:
			if (ch >= 256 && (size_t)(ch - 256) < ntable) {
				if (apply(c, &table[ch - 256], longopts[li].name, optarg))
					return EXIT_USAGE;
				break;
			}
			/* one line, as every usage error */
			log_bad_option(argv[optind - 1], optopt);
			return EXIT_USAGE;
		}
	}
	if (c->o.tee && !c->o.output) {
		log_usage("--tee-console goes with --output");
		return EXIT_USAGE;
	}
	if (c->o.warmup < 0)
		c->o.warmup = c->o.lifetime;
	if (!c->o.interval)
		c->o.interval = MAX(0.1, MIN(60.0, c->o.lifetime / 5));
	if (c->o.interval > c->o.lifetime) {
		log_usage("--check-interval (%g s) must not be longer than --max-object-lifetime (%g s)", c->o.interval,
			c->o.lifetime);
		return EXIT_USAGE;
	}
	if (c->o.interval < 0.001) {
		/* and so the lifetime: a report every lifetime needs a lifetime of some nanoseconds */
		log_usage("--check-interval (%g s) must be at least 0.001 s", c->o.interval);
		return EXIT_USAGE;
	}
	if (c->o.calls && !c->control_fd) {
		log_usage("--calls goes with --control-fd: monitored calls are counted by the Python package");
		return EXIT_USAGE;
	}
	c->o.why.ref.module_prefixes = c->prefixes;
	return 0;
}

void options__release(struct monitor_config *c)
{
	free(c->prefixes);
	free(c->o.include);
	free(c->o.exclude);
	memset(c, 0, sizeof(*c));
}
