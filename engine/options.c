/* SPDX-License-Identifier: MIT */
/* The options of a monitoring run (options.h): the table, and what is made from it. */
#define _GNU_SOURCE
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/cli.h"
#include "../common/util.h"

#define C(field) offsetof(struct monitor_config, field), sizeof(((struct monitor_config *)0)->field)
#define W(field, count) offsetof(struct monitor_config, field), offsetof(struct monitor_config, count)
#define N 100000000ll         /* the largest count */
#define B (1ll << 50)         /* the largest number of bytes */

static const struct option_def table[] = {
	{ "max-object-lifetime", "max_object_lifetime", false, OPT_SECONDS, OPTS_MONITOR, C(o.lifetime), 0, "S", "60",
	  "seconds an object may live" },
	{ "check-interval", NULL, false, OPT_SECONDS, OPTS_MONITOR, C(o.interval), 0, "S", NULL,
	  "seconds between snapshots (default: the lifetime / 5, from 0.1 to 60)" },
	{ "warmup-time", "warmup_period", false, OPT_SECONDS0, OPTS_MONITOR, C(o.warmup), 0, "S", NULL,
	  "seconds before objects count (default: the lifetime; --warmup-period is the same)" },
	{ "warmup-period", NULL, false, OPT_SECONDS0, OPTS_MONITOR, C(o.warmup), 0, "S", NULL, NULL },
	{ "iterations", NULL, false, OPT_COUNT, OPTS_MONITOR, C(o.iterations), N, "N", NULL,
	  "stop after N reports (of each process)" },
	{ "duration", NULL, false, OPT_SECONDS, OPTS_MONITOR, C(o.duration), 0, "S", NULL, "stop after S seconds" },
	{ "included-type-names", "included_type_names", false, OPT_WORDS, OPTS_MONITOR, W(o.include, o.ninclude), 0,
	  "T", NULL, "only types whose name contains T (repeatable)" },
	{ "excluded-type-names", "excluded_type_names", false, OPT_WORDS, OPTS_MONITOR, W(o.exclude, o.nexclude), 0,
	  "T", NULL, "leave out types whose name contains T (repeatable)" },
	{ "max-types-in-leak-summary", "max_types_in_leak_summary", false, OPT_COUNT, OPTS_MONITOR, C(o.max_types), N,
	  "N", "500", "rows of the leak table" },
	{ "compute-size-in-leak-summary", "compute_size_in_leak_summary", false, OPT_FLAG, OPTS_MONITOR,
	  C(o.compute_size), 0, NULL, NULL, "add the shallow size of each type's objects" },
	{ "max-object-details", "max_object_details", false, OPT_COUNT0, OPTS_MONITOR, C(o.why.max_object_details), N,
	  "N", "30", "objects with referrer graphs per report" },
	{ "no-referrers", "check_referrers", true, OPT_FLAG, OPTS_MONITOR, C(o.why.no_referrers), 0, NULL, NULL,
	  "no referrer graphs" },
	{ "referrers-max-depth", "referrers_max_depth", false, OPT_COUNT, OPTS_MONITOR, C(o.why.ref.max_depth), N, "N",
	  "50", "how far back a referrer search goes" },
	{ "referrers-search-timeout", "referrers_search_timeout", false, OPT_SECONDS, OPTS_MONITOR,
	  C(o.why.ref.timeout_s), 0, "S", "300", "seconds a report's referrer searches may take" },
	{ "single-object-referrer-limit", "single_object_referrer_limit", false, OPT_COUNT, OPTS_MONITOR,
	  C(o.why.ref.single_object_limit), N, "N", "100", "referrers shown of one object" },
	{ "referrers-module-prefix", "referrers_module_prefixes", false, OPT_WORDS, OPTS_MONITOR,
	  W(prefixes, nprefixes), 0, "P", NULL, "stop referrer searches at modules named P... (repeatable)" },
	{ "max-untracked-search-depth", "max_untracked_search_depth", false, OPT_COUNT0, OPTS_MONITOR,
	  C(o.why.untracked_depth), N, "N", "3", "how deep objects the collector does not track are looked for" },
	{ "str-max-length", "str_max_length", false, OPT_COUNT, OPTS_MONITOR, C(o.why.str_max_length), N, "N", "100",
	  "characters of an object's text shown" },
	{ "referrers-max-untracked-search-depth", "referrers_max_untracked_search_depth", false, OPT_COUNT,
	  OPTS_MONITOR, C(untracked_referrer_depth), N, "N", "30",
	  "taken for the seed's sake: memalot searches referrers in the whole graph" },
	{ "max-object-age-calls", "max_object_age_calls", false, OPT_COUNT, OPTS_ATTACH, C(o.age_calls), N, "N", "1",
	  "with --calls: calls an object created during one must live to be a leak" },
	{ "warmup-calls", "warmup_calls", false, OPT_COUNT0, OPTS_ATTACH, C(o.warmup_calls), N, "N", "1",
	  "with --calls: the first N calls are the warm-up" },
	{ "calls", NULL, false, OPT_FLAG, OPTS_ATTACH, C(o.calls), 0, NULL, NULL,
	  "with --control-fd: function-based discovery, a check at each monitored call's entry and exit" },
	{ "control-fd", NULL, false, OPT_COUNT, OPTS_ATTACH, C(control_fd), 1 << 20, "FD", NULL,
	  "driven by the Python package over socket FD (docs/control-protocol.md)" },
	{ "json", NULL, false, OPT_FLAG, OPTS_MONITOR, C(o.json), 0, NULL, NULL,
	  "one JSON object per report, one per line" },
	{ "output", NULL, false, OPT_PATH, OPTS_MONITOR, C(o.output), 0, "FILE", NULL,
	  "write reports to FILE, mode 0600 (default: attach standard output, run standard error)" },
	{ "tee-console", "tee_console", false, OPT_FLAG, OPTS_MONITOR, C(o.tee), 0, NULL, NULL,
	  "with --output, print them too" },
	{ "report-directory", "report_directory", false, OPT_PATH, OPTS_MONITOR, C(o.report_dir), 0, "D", NULL,
	  "save reports under D (default: $MEMALOT_REPORT_DIRECTORY, else ~/.memalot/reports)" },
	{ "no-save-reports", "save_reports", true, OPT_FLAG, OPTS_MONITOR, C(o.no_save), 0, NULL, NULL,
	  "do not save reports" },
	{ "no-color", "color", true, OPT_ACCEPTED, OPTS_MONITOR, 0, 0, 0, NULL, NULL,
	  "no colour (reports are plain text; NO_COLOR is honoured)" },
	{ "force-terminal", "force_terminal", false, OPT_ACCEPTED, OPTS_MONITOR, 0, 0, 0, NULL, NULL,
	  "terminal codes even when not on a terminal (reports are plain text)" },
	{ "children", NULL, false, OPT_FLAG, OPTS_ATTACH, C(children), 0, NULL, NULL,
	  "also watch the Python processes among the PIDs' descendants (a master's workers), new ones too" },
	{ "max-processes", NULL, false, OPT_COUNT, OPTS_MONITOR, C(max_processes), N, "N", "64",
	  "watch at most N processes at a time" },
	{ "fail-on-leak", NULL, false, OPT_FLAG, OPTS_MONITOR, C(fail.on_leak), 0, NULL, NULL,
	  "exit 10 when a process leaked (run: when PROGRAM exited 0), by the thresholds below" },
	{ "fail-min-objects", NULL, false, OPT_COUNT0, OPTS_MONITOR, C(fail.min_objects), N, "N", "1",
	  "... at least N objects over the run (0: not by count)" },
	{ "fail-min-bytes", NULL, false, OPT_BYTES, OPTS_MONITOR, C(fail.min_bytes), B, "B", NULL,
	  "... or at least B bytes of them" },
	{ "fail-on-fd-leak", NULL, false, OPT_FLAG, OPTS_MONITOR, C(fail.on_fd_leak), 0, NULL, NULL,
	  "... or still has a descriptor opened after the warm-up" },
	{ "fail-native-bytes", NULL, false, OPT_BYTES, OPTS_MONITOR, C(fail.native_bytes), B, "B", NULL,
	  "... or grew B bytes that Python objects do not explain" },
};

const struct option_def *options__table(size_t *n)
{
	*n = ARRAY_SIZE(table);
	return table;
}

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
	case OPT_COUNT:
	case OPT_COUNT0:
	case OPT_BYTES:
		errno = 0;
		num = strtoll(arg, &end, 10);
		if (errno || *end || end == arg || num < (d->type == OPT_COUNT ? 1 : 0) || num > d->max) {
			log_err("'%s' is not a valid number for --%s", arg, name);
			return -1;
		}
		set_int(c, d, num);
		return 0;
	case OPT_FLAG:
		*(bool *)p = true;
		return 0;
	case OPT_PATH:
		if (!*arg) {
			log_err("--%s takes a %s", name, !strcmp(d->meta, "D") ? "directory" : "file");
			return -1;
		}
		*(const char **)p = arg;
		return 0;
	case OPT_WORDS:
		add_word((char ***)p, (size_t *)((char *)c + d->size), arg);
		return 0;
	case OPT_ACCEPTED:
		return 0;
	}
	return -1;
}

void options__init(struct monitor_config *c)
{
	memset(c, 0, sizeof(*c));
	c->o.warmup = -1; /* the lifetime, once it is known */
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i].dflt && apply(c, &table[i], table[i].name, table[i].dflt))
			abort(); /* a default the table's own type refuses */
}

void options__help(FILE *f, unsigned cmd)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
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
	struct option longopts[ARRAY_SIZE(table) + 4];
	size_t n = 0;
	int ch, li = 0;

	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
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
			if (ch >= 256 && (size_t)(ch - 256) < ARRAY_SIZE(table)) {
				if (apply(c, &table[ch - 256], longopts[li].name, optarg))
					return EXIT_USAGE;
				break;
			}
			/* one line, as every usage error */
			log_err("%s: option '%s' is unknown or lacks its value ('memalot %s --help' lists them)",
				cmd == OPTS_RUN ? "run" : "attach", argv[optind - 1], cmd == OPTS_RUN ? "run" : "attach");
			return EXIT_USAGE;
		}
	}
	if (c->o.tee && !c->o.output) {
		log_err("--tee-console goes with --output");
		return EXIT_USAGE;
	}
	if (c->o.warmup < 0)
		c->o.warmup = c->o.lifetime;
	if (!c->o.interval)
		c->o.interval = MAX(0.1, MIN(60.0, c->o.lifetime / 5));
	if (c->o.interval > c->o.lifetime) {
		log_err("--check-interval (%g s) must not be longer than --max-object-lifetime (%g s)", c->o.interval,
			c->o.lifetime);
		return EXIT_USAGE;
	}
	if (c->o.interval < 0.001) {
		/* and so the lifetime: a report every lifetime needs a lifetime of some nanoseconds */
		log_err("--check-interval (%g s) must be at least 0.001 s", c->o.interval);
		return EXIT_USAGE;
	}
	if (c->o.calls && !c->control_fd) {
		log_err("--calls goes with --control-fd: monitored calls are counted by the Python package");
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
