/* SPDX-License-Identifier: MIT */
/*
 * memalot attach: time-based leak discovery from outside the process (the
 * seed's start_leak_monitoring(max_object_lifetime=...)): the options, then
 * the monitoring engine (engine/monitor.c) on the target.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../attach/freeze.h"
#include "../common/util.h"
#include "../engine/monitor.h"
#include "cli.h"

static const char attach_usage[] =
	"usage: memalot attach [options] PID\n"
	"\n"
	"Watch the Python process PID and report objects that live longer than\n"
	"--max-object-lifetime: every lifetime after the warm-up, the objects first\n"
	"seen after the warm-up that are still alive. Runs until Ctrl-C, the target\n"
	"exits, or --iterations / --duration is reached.\n"
	"\n"
	"options:\n"
	"  --max-object-lifetime S          seconds an object may live (default 60)\n"
	"  --check-interval S               seconds between snapshots (default lifetime/5)\n"
	"  --warmup-time S                  seconds before objects count (default: the lifetime;\n"
	"                                   --warmup-period is the same)\n"
	"  --iterations N                   stop after N reports\n"
	"  --duration S                     stop after S seconds\n"
	"  --included-type-names T          only types whose name contains T (repeatable)\n"
	"  --excluded-type-names T          leave out types whose name contains T (repeatable)\n"
	"  --max-types-in-leak-summary N    rows of the leak table (default 500)\n"
	"  --compute-size-in-leak-summary   add the shallow size of each type's objects\n"
	"  --max-object-details N           objects with referrer graphs per report (default 30)\n"
	"  --no-referrers                   no referrer graphs\n"
	"  --referrers-max-depth N, --referrers-search-timeout S,\n"
	"  --single-object-referrer-limit N, --referrers-module-prefix P,\n"
	"  --max-untracked-search-depth N, --str-max-length N   as for 'memalot snapshot'\n"
	"  --json                           one JSON object per report, one per line\n"
	"  --output FILE                    write reports to FILE instead of stdout\n"
	"  --tee-console                    with --output, print them too\n"
	"  --report-directory D             save reports under D (default $MEMALOT_REPORT_DIRECTORY,\n"
	"                                   else ~/.memalot/reports)\n"
	"  --no-save-reports                do not save reports\n"
	"  --no-color, --force-terminal     colour control (reports are plain text; NO_COLOR\n"
	"                                   is honoured)\n"
	"  -v, --verbose / -q, --quiet      more or less on stderr\n"
	"  -h, --help                       this help\n";

static void add_word(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = (char *)s;
	(*v)[*n] = NULL;
}

int cmd_attach(int argc, char **argv)
{
	enum { O_LIFE = 256, O_INTERVAL, O_WARMUP, O_ITER, O_DURATION, O_INC, O_EXC, O_MAXTYPES, O_SIZE,
	       O_DETAILS, O_NOREF, O_RDEPTH, O_RTIMEOUT, O_RLIMIT, O_RPREFIX, O_UDEPTH, O_STRLEN, O_JSON,
	       O_OUTPUT, O_TEE, O_NOCOLOR, O_FORCETERM, O_REPDIR, O_NOSAVE };
	static const struct option longopts[] = {
		{ "max-object-lifetime", required_argument, NULL, O_LIFE },
		{ "check-interval", required_argument, NULL, O_INTERVAL },
		{ "warmup-time", required_argument, NULL, O_WARMUP },
		{ "warmup-period", required_argument, NULL, O_WARMUP },
		{ "iterations", required_argument, NULL, O_ITER },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "included-type-names", required_argument, NULL, O_INC },
		{ "excluded-type-names", required_argument, NULL, O_EXC },
		{ "max-types-in-leak-summary", required_argument, NULL, O_MAXTYPES },
		{ "compute-size-in-leak-summary", no_argument, NULL, O_SIZE },
		{ "max-object-details", required_argument, NULL, O_DETAILS },
		{ "no-referrers", no_argument, NULL, O_NOREF },
		{ "referrers-max-depth", required_argument, NULL, O_RDEPTH },
		{ "referrers-search-timeout", required_argument, NULL, O_RTIMEOUT },
		{ "single-object-referrer-limit", required_argument, NULL, O_RLIMIT },
		{ "referrers-module-prefix", required_argument, NULL, O_RPREFIX },
		{ "max-untracked-search-depth", required_argument, NULL, O_UDEPTH },
		{ "str-max-length", required_argument, NULL, O_STRLEN },
		{ "json", no_argument, NULL, O_JSON },
		{ "output", required_argument, NULL, O_OUTPUT },
		{ "tee-console", no_argument, NULL, O_TEE },
		{ "report-directory", required_argument, NULL, O_REPDIR },
		{ "no-save-reports", no_argument, NULL, O_NOSAVE },
		{ "no-color", no_argument, NULL, O_NOCOLOR },
		{ "force-terminal", no_argument, NULL, O_FORCETERM },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct monitor_opts o = { 60, 0, -1, 0, 0, NULL, NULL, 0, 0, 500, false, false, false, NULL, NULL, false,
				 { "", NULL, 0, 30, 3, false, 100, { 50, 300.0, 100, NULL } } };
	char **prefixes = NULL, *end;
	size_t nprefixes = 0;
	struct monitor_out out = { stdout, "standard output", false, false };
	struct monitor m;
	int c, pid, code = EXIT_OK;
	long num;
	int li = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", longopts, &li)) != -1) {
		const char *flag = NULL;
		switch (c) {
		/* durations: finite, not negative, at most 10 years (seconds_ns cannot overflow) */
		case O_LIFE: if (parse_seconds("max-object-lifetime", optarg, false, &o.lifetime)) goto usage; break;
		case O_INTERVAL: if (parse_seconds("check-interval", optarg, false, &o.interval)) goto usage; break;
		case O_WARMUP:
			if (parse_seconds(longopts[li].name, optarg, true, &o.warmup)) /* -time or -period */
				goto usage;
			break;
		case O_DURATION: if (parse_seconds("duration", optarg, false, &o.duration)) goto usage; break;
		case O_RTIMEOUT:
			if (parse_seconds("referrers-search-timeout", optarg, false, &o.why.ref.timeout_s))
				goto usage;
			break;
		case O_ITER: case O_MAXTYPES: case O_DETAILS: case O_RDEPTH: case O_RLIMIT: case O_UDEPTH: case O_STRLEN:
			num = strtol(optarg, &end, 10);
			if (*end || end == optarg || num < (c == O_UDEPTH || c == O_DETAILS ? 0 : 1) || num > 100000000) {
				flag = "(number)";
				break;
			}
			if (c == O_ITER) o.iterations = num;
			else if (c == O_MAXTYPES) o.max_types = num;
			else if (c == O_DETAILS) o.why.max_object_details = (int)num;
			else if (c == O_RDEPTH) o.why.ref.max_depth = (int)num;
			else if (c == O_RLIMIT) o.why.ref.single_object_limit = (int)num;
			else if (c == O_UDEPTH) o.why.untracked_depth = (int)num;
			else o.why.str_max_length = (int)num;
			break;
		case O_INC: add_word(&o.include, &o.ninclude, optarg); break;
		case O_EXC: add_word(&o.exclude, &o.nexclude, optarg); break;
		case O_RPREFIX: add_word(&prefixes, &nprefixes, optarg); break;
		case O_SIZE: o.compute_size = true; break;
		case O_NOREF: o.why.no_referrers = true; break;
		case O_JSON: o.json = true; break;
		case O_OUTPUT: o.output = optarg; break;
		case O_TEE: o.tee = true; break;
		case O_REPDIR:
			if (!*optarg) {
				log_err("--report-directory takes a directory");
				goto usage;
			}
			o.report_dir = optarg;
			break;
		case O_NOSAVE: o.no_save = true; break;
		case O_NOCOLOR: case O_FORCETERM: break; /* reports are plain text */
		case 'v': log_level++; break;
		case 'q': log_level = 0; break;
		case 'h': fputs(attach_usage, stdout); goto done;
		default: fputs(attach_usage, stderr); goto usage;
		}
		if (flag) {
			if (!strcmp(flag, "(number)")) {
				const char *name = "?";
				for (const struct option *lo = longopts; lo->name; lo++)
					if (lo->val == c) {
						name = lo->name;
						break;
					}
				log_err("'%s' is not a valid number for --%s", optarg, name);
			}
			goto usage;
		}
	}
	if (optind != argc - 1) {
		log_err(optind >= argc ? "attach needs a PID" : "attach takes one PID");
		fputs(attach_usage, stderr);
		goto usage;
	}
	if (parse_pid(argv[optind], &pid))
		goto usage;
	if (o.tee && !o.output) {
		log_err("--tee-console goes with --output");
		goto usage;
	}
	if (o.warmup < 0)
		o.warmup = o.lifetime;
	if (!o.interval)
		o.interval = MAX(0.1, MIN(60.0, o.lifetime / 5));
	if (o.interval > o.lifetime) {
		log_err("--check-interval (%g s) must not be longer than --max-object-lifetime (%g s)",
			o.interval, o.lifetime);
		goto usage;
	}
	if (o.interval < 0.001) {
		/* and so the lifetime: a report every lifetime needs a lifetime of some nanoseconds */
		log_err("--check-interval (%g s) must be at least 0.001 s", o.interval);
		goto usage;
	}
	o.why.ref.module_prefixes = prefixes;
	if (o.output) {
		int fd = open(o.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

		if (!f) {
			log_err("cannot write '%s': %s", o.output, strerror(errno));
			if (fd >= 0)
				close(fd);
			code = EXIT_ERROR;
			goto done;
		}
		out.f = f;
		out.name = xasprintf("'%s'", o.output);
	}
	out.tee = o.tee;

	freezer__install_signal_handlers();
	/*
	 * Every check allocates and frees tens of MB in big arrays; from mmap
	 * they go back to the system at once, where glibc's growing dynamic
	 * threshold would keep them in a fragmenting heap (RSS creeping up
	 * over a long run).
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	monitor__init(&m, &o, &out);
	code = monitor__add(&m, pid);
	if (!code)
		code = monitor__run(&m, NULL, NULL, 0);
	monitor__release(&m);
	goto done;
usage:
	code = EXIT_USAGE;
done:
	free(prefixes);
	free(o.include);
	free(o.exclude);
	if (out.f != stdout) {
		/* a report the file system took but could not write shows at the close */
		bool failed = cli__flush(out.f, out.name) != 0;

		if (fclose(out.f) && !failed) {
			log_err("error writing %s: %s", out.name, strerror(errno));
			failed = true;
		}
		if (failed && code == EXIT_OK)
			code = EXIT_ERROR;
		free((char *)out.name);
	}
	if (out.failed && code == EXIT_OK)
		code = EXIT_ERROR;
	return code;
}
