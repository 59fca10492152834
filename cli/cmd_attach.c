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
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../attach/freeze.h"
#include "../attach/proc.h"
#include "../common/util.h"
#include "../engine/monitor.h"
#include "../reports/store.h"
#include "cli.h"

/* The options of attach and run, for both usages. */
#define MONITOR_OPTIONS_HELP \
	"  --max-object-lifetime S          seconds an object may live (default 60)\n" \
	"  --check-interval S               seconds between snapshots (default lifetime/5)\n" \
	"  --warmup-time S                  seconds before objects count (default: the lifetime;\n" \
	"                                   --warmup-period is the same)\n" \
	"  --iterations N                   stop after N reports\n" \
	"  --duration S                     stop after S seconds\n" \
	"  --included-type-names T          only types whose name contains T (repeatable)\n" \
	"  --excluded-type-names T          leave out types whose name contains T (repeatable)\n" \
	"  --max-types-in-leak-summary N    rows of the leak table (default 500)\n" \
	"  --compute-size-in-leak-summary   add the shallow size of each type's objects\n" \
	"  --max-object-details N           objects with referrer graphs per report (default 30)\n" \
	"  --no-referrers                   no referrer graphs\n" \
	"  --referrers-max-depth N, --referrers-search-timeout S,\n" \
	"  --single-object-referrer-limit N, --referrers-module-prefix P,\n" \
	"  --max-untracked-search-depth N, --str-max-length N   as for 'memalot snapshot'\n" \
	"  --json                           one JSON object per report, one per line\n" \
	"  --output FILE                    write reports to FILE (default: standard output;\n" \
	"                                   run: standard error)\n" \
	"  --tee-console                    with --output, print them too\n" \
	"  --report-directory D             save reports under D (default $MEMALOT_REPORT_DIRECTORY,\n" \
	"                                   else ~/.memalot/reports)\n" \
	"  --no-save-reports                do not save reports\n" \
	"  --no-color, --force-terminal     colour control (reports are plain text; NO_COLOR\n" \
	"                                   is honoured)\n" \
	"  --fail-on-leak                   exit 10 when a process leaked (the thresholds below)\n" \
	"  --fail-min-objects N             ... at least N objects over the run (default 1; 0: not by count)\n" \
	"  --fail-min-bytes B               ... or at least B bytes of them\n" \
	"  --fail-on-fd-leak                ... or kept a descriptor opened after the warm-up\n" \
	"  --fail-native-bytes B            ... or grew B bytes that Python objects do not explain\n"

static const char attach_usage[] =
	"usage: memalot attach [options] PID [PID...]\n"
	"\n"
	"Watch the Python processes PID... and report objects that live longer than\n"
	"--max-object-lifetime: every lifetime after the warm-up, the objects first\n"
	"seen after the warm-up that are still alive. Runs until Ctrl-C, the targets\n"
	"exit, or --iterations / --duration is reached.\n"
	"\n"
	"options:\n"
	MONITOR_OPTIONS_HELP
	"  --children                       also watch the Python processes among the PIDs'\n"
	"                                   descendants (a master's workers), new ones too\n"
	"  --max-processes N                watch at most N processes (default 64)\n"
	"  -v, --verbose / -q, --quiet      more or less on stderr\n"
	"  -h, --help                       this help\n";

static const char run_usage[] =
	"usage: memalot run [options] -- PROGRAM [ARGS...]\n"
	"\n"
	"Start PROGRAM and watch it and every Python process among its descendants\n"
	"(multiprocessing pools, workers, subprocesses) as they appear; processes that\n"
	"are not Python are ignored. PROGRAM's standard input and output are its own;\n"
	"reports go to standard error (or --output), each labelled with its pid. At the\n"
	"end, one summary of every process. Exits with PROGRAM's status (128+N when\n"
	"signal N killed it), or 10 with --fail-on-leak when a process leaked and PROGRAM\n"
	"exited 0; 127 or 126 when PROGRAM cannot be found or run.\n"
	"\n"
	"options:\n"
	MONITOR_OPTIONS_HELP
	"  --max-processes N                watch at most N processes (default 64)\n"
	"  -v, --verbose / -q, --quiet      more or less on stderr\n"
	"  -h, --help                       this help\n";

static void add_word(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = (char *)s;
	(*v)[*n] = NULL;
}


/* What the command line of attach or run says. */
struct cmdline {
	struct monitor_opts o;
	char **prefixes;
	size_t nprefixes;
	bool children;
	long max_processes;
	struct monitor_fail fail;
};

enum { O_LIFE = 256, O_INTERVAL, O_WARMUP, O_ITER, O_DURATION, O_INC, O_EXC, O_MAXTYPES, O_SIZE,
       O_DETAILS, O_NOREF, O_RDEPTH, O_RTIMEOUT, O_RLIMIT, O_RPREFIX, O_UDEPTH, O_STRLEN, O_JSON,
       O_OUTPUT, O_TEE, O_NOCOLOR, O_FORCETERM, O_REPDIR, O_NOSAVE,
       O_CHILDREN, O_MAXPROC, O_FAIL, O_FAILOBJ, O_FAILBYTES, O_FAILFD, O_FAILNATIVE };
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
	{ "children", no_argument, NULL, O_CHILDREN },
	{ "max-processes", required_argument, NULL, O_MAXPROC },
	{ "fail-on-leak", no_argument, NULL, O_FAIL },
	{ "fail-min-objects", required_argument, NULL, O_FAILOBJ },
	{ "fail-min-bytes", required_argument, NULL, O_FAILBYTES },
	{ "fail-on-fd-leak", no_argument, NULL, O_FAILFD },
	{ "fail-native-bytes", required_argument, NULL, O_FAILNATIVE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/*
 * Parse the options of attach (run = false) or run into c; optind is then
 * the first operand. @return 0, -1 after --help, or EXIT_USAGE after the message
 */
static int parse(int argc, char **argv, bool run, struct cmdline *c)
{
	const char *usage = run ? run_usage : attach_usage;
	char *end;
	long long num;
	int ch, li = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, run ? "+vqh" : "vqh", longopts, &li)) != -1) {
		const char *flag = NULL;
		switch (ch) {
		/* durations: finite, not negative, at most 10 years (seconds_ns cannot overflow) */
		case O_LIFE: if (parse_seconds("max-object-lifetime", optarg, false, &c->o.lifetime)) return EXIT_USAGE; break;
		case O_INTERVAL: if (parse_seconds("check-interval", optarg, false, &c->o.interval)) return EXIT_USAGE; break;
		case O_WARMUP:
			if (parse_seconds(longopts[li].name, optarg, true, &c->o.warmup)) /* -time or -period */
				return EXIT_USAGE;
			break;
		case O_DURATION: if (parse_seconds("duration", optarg, false, &c->o.duration)) return EXIT_USAGE; break;
		case O_RTIMEOUT:
			if (parse_seconds("referrers-search-timeout", optarg, false, &c->o.why.ref.timeout_s))
				return EXIT_USAGE;
			break;
		case O_ITER: case O_MAXTYPES: case O_DETAILS: case O_RDEPTH: case O_RLIMIT: case O_UDEPTH: case O_STRLEN:
		case O_MAXPROC: case O_FAILOBJ: case O_FAILBYTES: case O_FAILNATIVE:
			num = strtoll(optarg, &end, 10);
			if (*end || end == optarg ||
			    num < (ch == O_UDEPTH || ch == O_DETAILS || ch == O_FAILOBJ || ch == O_FAILBYTES ||
				   ch == O_FAILNATIVE ? 0 : 1) ||
			    num > (ch == O_FAILBYTES || ch == O_FAILNATIVE ? (1ll << 50) : 100000000)) {
				flag = "(number)";
				break;
			}
			if (ch == O_ITER) c->o.iterations = num;
			else if (ch == O_MAXTYPES) c->o.max_types = num;
			else if (ch == O_DETAILS) c->o.why.max_object_details = (int)num;
			else if (ch == O_RDEPTH) c->o.why.ref.max_depth = (int)num;
			else if (ch == O_RLIMIT) c->o.why.ref.single_object_limit = (int)num;
			else if (ch == O_UDEPTH) c->o.why.untracked_depth = (int)num;
			else if (ch == O_MAXPROC) c->max_processes = num;
			else if (ch == O_FAILOBJ) c->fail.min_objects = (uint64_t)num;
			else if (ch == O_FAILBYTES) c->fail.min_bytes = (uint64_t)num;
			else if (ch == O_FAILNATIVE) c->fail.native_bytes = (uint64_t)num;
			else c->o.why.str_max_length = (int)num;
			break;
		case O_INC: add_word(&c->o.include, &c->o.ninclude, optarg); break;
		case O_EXC: add_word(&c->o.exclude, &c->o.nexclude, optarg); break;
		case O_RPREFIX: add_word(&c->prefixes, &c->nprefixes, optarg); break;
		case O_SIZE: c->o.compute_size = true; break;
		case O_NOREF: c->o.why.no_referrers = true; break;
		case O_JSON: c->o.json = true; break;
		case O_OUTPUT: c->o.output = optarg; break;
		case O_TEE: c->o.tee = true; break;
		case O_REPDIR:
			if (!*optarg) {
				log_err("--report-directory takes a directory");
				return EXIT_USAGE;
			}
			c->o.report_dir = optarg;
			break;
		case O_NOSAVE: c->o.no_save = true; break;
		case O_CHILDREN:
			if (run) {
				log_err("--children is for attach: run watches PROGRAM's descendants always");
				return EXIT_USAGE;
			}
			c->children = true;
			break;
		case O_FAIL: c->fail.on_leak = true; break;
		case O_FAILFD: c->fail.on_fd_leak = true; break;
		case O_NOCOLOR: case O_FORCETERM: break; /* reports are plain text */
		case 'v': log_level++; break;
		case 'q': log_level = 0; break;
		case 'h': fputs(usage, stdout); return -1;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
		if (flag) {
			if (!strcmp(flag, "(number)")) {
				const char *name = "?";
				for (const struct option *lo = longopts; lo->name; lo++)
					if (lo->val == ch) {
						name = lo->name;
						break;
					}
				log_err("'%s' is not a valid number for --%s", optarg, name);
			}
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
	c->o.why.ref.module_prefixes = c->prefixes;
	return 0;
}

/* Open --output (mode 0600) into out, else leave it on dflt. @return 0, or EXIT_ERROR after the message */
static int open_output(const struct monitor_opts *o, FILE *dflt, const char *dflt_name, struct monitor_out *out)
{
	*out = (struct monitor_out){ dflt, dflt_name, o->tee, false };
	if (o->output) {
		int fd = open(o->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

		if (!f) {
			log_err("cannot write '%s': %s", o->output, strerror(errno));
			if (fd >= 0)
				close(fd);
			return EXIT_ERROR;
		}
		out->f = f;
		out->name = xasprintf("'%s'", o->output);
	}
	return 0;
}

/* Close --output; a report the file system took but could not write shows at the close. @return code, or 1 */
static int close_output(struct monitor_out *out, FILE *dflt, int code)
{
	if (out->f != dflt) {
		bool failed = cli__flush(out->f, out->name) != 0;

		if (fclose(out->f) && !failed) {
			log_err("error writing %s: %s", out->name, strerror(errno));
			failed = true;
		}
		if (failed && code == EXIT_OK)
			code = EXIT_ERROR;
		free((char *)out->name);
	}
	if (out->failed && code == EXIT_OK)
		code = EXIT_ERROR;
	return code;
}

static void cmdline_release(struct cmdline *c)
{
	free(c->prefixes);
	free(c->o.include);
	free(c->o.exclude);
}

static void cmdline_init(struct cmdline *c)
{
	*c = (struct cmdline){ { 60, 0, -1, 0, 0, NULL, NULL, 0, 0, 500, false, false, false, NULL, NULL, false,
				 { "", NULL, 0, 30, 3, false, 100, { 50, 300.0, 100, NULL } } },
			       NULL, 0, false, 64, { false, 1, 0, false, 0 } };
}

/* ------------------------------------------------------------ families of processes */

/* Processes tried and left alone (not Python, gone), by pid and start time: pid reuse cannot fake them. */
struct family {
	const pid_t *roots;
	size_t nroots;
	bool roots_too;      /* the roots are targets too (run's PROGRAM) */
	long max_processes;
	bool warned_max;
	struct seen {
		pid_t pid;
		unsigned long long start;
	} *seen;
	size_t nseen, cap;
	pid_t child;         /* run: PROGRAM, reaped here */
	bool child_exited;
	int child_status;    /* its raw wait status */
};

static bool seen_before(const struct family *f, pid_t pid, unsigned long long start)
{
	for (size_t i = 0; i < f->nseen; i++)
		if (f->seen[i].pid == pid && f->seen[i].start == start)
			return true;
	return false;
}

/* Seconds since boot, in clock ticks. */
static unsigned long long uptime_ticks(void)
{
	FILE *u = fopen("/proc/uptime", "re");
	double up = 0;

	if (u) {
		if (fscanf(u, "%lf", &up) != 1)
			up = 0;
		fclose(u);
	}
	return (unsigned long long)(up * (double)sysconf(_SC_CLK_TCK));
}

/* Try pid once it is a quarter of a second old (an interpreter that has started, a fork that has exec'd). */
static void try_process(struct monitor *m, struct family *f, pid_t pid, unsigned long long now)
{
	unsigned long long start;
	int ret;

	if (monitor__watching(m, pid) || proc__stat(pid, NULL, &start) || seen_before(f, pid, start))
		return;
	if (now < start + (unsigned long long)sysconf(_SC_CLK_TCK) / 4)
		return; /* too young: next time */
	if ((long)m->n >= f->max_processes) {
		if (!f->warned_max)
			log_err("warning: --max-processes %ld reached: process %d and later ones are not watched",
				f->max_processes, (int)pid);
		f->warned_max = true;
		return;
	}
	ret = monitor__add(m, pid);
	if (ret) {
		GROW(f->seen, f->cap, f->nseen + 1);
		f->seen[f->nseen++] = (struct seen){ pid, start };
	}
}

/* The poll of the engine: PROGRAM's end, and new processes in the families. */
static bool family_poll(struct monitor *m, void *arg)
{
	struct family *f = arg;
	pid_t kids[1024];
	unsigned long long now = uptime_ticks();

	if (f->child > 0 && !f->child_exited) {
		int st;

		if (waitpid(f->child, &st, WNOHANG) == f->child) {
			f->child_exited = true;
			f->child_status = st;
			return false; /* PROGRAM is over: so is the run */
		}
	}
	if (f->child <= 0 && !monitor__live(m)) {
		/* attach --children: over once no target is watched and every PID given is gone */
		bool any = false;

		for (size_t r = 0; r < f->nroots && !any; r++)
			any = !proc__exited(f->roots[r]) && !kill(f->roots[r], 0);
		if (!any)
			return false;
	}
	for (size_t r = 0; r < f->nroots; r++) {
		size_t n;

		if (f->roots_too)
			try_process(m, f, f->roots[r], now);
		n = proc__descendants(f->roots[r], kids, ARRAY_SIZE(kids));
		for (size_t i = 0; i < n; i++)
			try_process(m, f, kids[i], now);
	}
	return true;
}

/* How often families are looked at: new workers are watched within this. */
#define FAMILY_POLL_NS 200000000ull

int cmd_attach(int argc, char **argv)
{
	struct cmdline c;
	struct monitor_out out;
	struct monitor m;
	pid_t *pids = NULL;
	size_t npids = 0;
	int code;

	cmdline_init(&c);
	optind = 1;
	code = parse(argc, argv, false, &c);
	if (code) {
		cmdline_release(&c);
		return code < 0 ? EXIT_OK : code;
	}
	if (optind >= argc) {
		log_err("attach needs a PID");
		fputs(attach_usage, stderr);
		cmdline_release(&c);
		return EXIT_USAGE;
	}
	pids = xcalloc((size_t)(argc - optind), sizeof(*pids));
	for (int i = optind; i < argc; i++) {
		int pid;

		if (parse_pid(argv[i], &pid)) {
			free(pids);
			cmdline_release(&c);
			return EXIT_USAGE;
		}
		pids[npids++] = pid;
	}
	if ((long)npids > c.max_processes) {
		log_err("%zu PIDs, more than --max-processes %ld", npids, c.max_processes);
		free(pids);
		cmdline_release(&c);
		return EXIT_USAGE;
	}
	code = open_output(&c.o, stdout, "standard output", &out);
	if (code) {
		free(pids);
		cmdline_release(&c);
		return code;
	}
	freezer__install_signal_handlers();
	/*
	 * Every check allocates and frees tens of MB in big arrays; from mmap
	 * they go back to the system at once, where glibc's growing dynamic
	 * threshold would keep them in a fragmenting heap (RSS creeping up
	 * over a long run).
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	monitor__init(&m, &c.o, &out);
	/* each PID given must be a Python process; with several, one that is not is said and the others go on */
	for (size_t i = 0; i < npids; i++) {
		int ret = monitor__add(&m, pids[i]);

		if (ret && !code)
			code = ret;
	}
	if (npids > 1 || c.children)
		store__new_id(m.run_id);
	if (m.n && (npids > 1 || !code)) {
		struct family fam = { pids, npids, false, c.max_processes, false, NULL, 0, 0, 0, false, 0 };
		int ret = monitor__run(&m, c.children ? family_poll : NULL, &fam, FAMILY_POLL_NS);

		if (!code)
			code = ret;
		if (m.n > 1 || c.fail.on_leak) {
			if (monitor__summary(&m, stderr, &c.fail) && !code)
				code = EXIT_LEAKED;
		}
		free(fam.seen);
	} else if (c.children && !code) {
		code = EXIT_NOT_PYTHON;
	}
	monitor__release(&m);
	code = close_output(&out, stdout, code);
	free(pids);
	cmdline_release(&c);
	return code;
}

/* The exit status of a shell for wait status st: the code, or 128+N for signal N. */
static int shell_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_ERROR;
}

/*
 * Start argv as a child with memalot's stdin, stdout and stderr. A pipe
 * closed by exec says that it started; errno through it that it did not.
 * @return the child's pid, or -(127 or 126) after the message
 */
static pid_t start_program(char **argv)
{
	int p[2], err = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC)) {
		log_err("cannot start %s: %s", argv[0], strerror(errno));
		return -126;
	}
	pid = fork();
	if (pid < 0) {
		log_err("cannot start %s: %s", argv[0], strerror(errno));
		close(p[0]);
		close(p[1]);
		return -126;
	}
	if (!pid) {
		close(p[0]);
		/* PROGRAM gets the signal dispositions memalot was given */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[0], argv);
		err = errno;
		if (write(p[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(err == ENOENT ? 127 : 126);
	}
	close(p[1]);
	do
		n = read(p[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == (ssize_t)sizeof(err)) {
		waitpid(pid, NULL, 0);
		if (err == ENOENT)
			log_err("%s: command not found", argv[0]);
		else
			log_err("%s: %s", argv[0], strerror(err));
		return err == ENOENT ? -127 : -126;
	}
	return pid;
}

int cmd_run(int argc, char **argv)
{
	struct cmdline c;
	struct monitor_out out;
	struct monitor m;
	struct family fam;
	pid_t child;
	int code, ret;

	cmdline_init(&c);
	optind = 1;
	code = parse(argc, argv, true, &c);
	if (code) {
		cmdline_release(&c);
		return code < 0 ? EXIT_OK : code;
	}
	if (optind >= argc) {
		log_err("run needs a program: memalot run [options] -- PROGRAM [ARGS...]");
		fputs(run_usage, stderr);
		cmdline_release(&c);
		return EXIT_USAGE;
	}
	code = open_output(&c.o, stderr, "standard error", &out);
	if (code) {
		cmdline_release(&c);
		return code;
	}
	child = start_program(argv + optind);
	if (child < 0) {
		close_output(&out, stderr, 0);
		cmdline_release(&c);
		return -child;
	}
	freezer__install_signal_handlers();
	mallopt(M_MMAP_THRESHOLD, 256 * 1024); /* as attach */
	monitor__init(&m, &c.o, &out);
	m.quiet = true;
	store__new_id(m.run_id);
	fam = (struct family){ &child, 1, true, c.max_processes, false, NULL, 0, 0, child, false, 0 };
	ret = monitor__run(&m, family_poll, &fam, FAMILY_POLL_NS);
	if (!fam.child_exited) {
		/* the run ended first (--duration, --iterations, a signal): PROGRAM goes on to its end */
		if (m.stop_signal == SIGTERM || m.stop_signal == SIGHUP)
			kill(child, m.stop_signal); /* what memalot was told, PROGRAM is told (Ctrl-C reached it already) */
		while (waitpid(child, &fam.child_status, 0) < 0 && errno == EINTR)
			;
	}
	code = shell_status(fam.child_status);
	if (!m.n)
		log_info("no Python process was seen among %s and its descendants", argv[optind]);
	else if (monitor__summary(&m, stderr, &c.fail) && code == EXIT_OK)
		code = EXIT_LEAKED;
	if (ret && ret != EXIT_EXITED && code == EXIT_OK)
		code = ret;
	monitor__release(&m);
	code = close_output(&out, stderr, code);
	free(fam.seen);
	cmdline_release(&c);
	return code;
}
