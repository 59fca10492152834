/* SPDX-License-Identifier: MIT */
/*
 * memalot attach: time-based leak discovery from outside the process (the
 * seed's start_leak_monitoring(max_object_lifetime=...)): the options, then
 * the monitoring engine (engine/monitor.c) on the target.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../attach/freeze.h"
#include "../attach/proc.h"
#include "../common/util.h"
#include "../engine/control.h"
#include "../engine/monitor.h"
#include "../engine/options.h"
#include "../reports/store.h"
#include "cli.h"

static const char attach_usage[] =
	"usage: memalot attach [options] PID [PID...]\n"
	"\n"
	"Watch the Python processes PID... and report objects that live longer than\n"
	"--max-object-lifetime: every lifetime after the warm-up, the objects first\n"
	"seen after the warm-up that are still alive. Runs until Ctrl-C, the targets\n"
	"exit, or --iterations / --duration is reached.\n"
	"\n"
	"options:\n";

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
	"options:\n";

/*
 * Every check allocates and frees tens to hundreds of MB in big arrays.
 * They are kept in the heap and reused by the next check: faulting them in
 * anew costs more than the check's own work on a machine without huge
 * pages (bench/check-cost.sh, 1M objects: 1.15 s a check instead of 3.1 s).
 * The price is memalot's resident memory staying near its peak between
 * checks that come often; before a wait of more than a few seconds the
 * monitor gives the heap back (malloc_trim, engine/monitor.c). A fixed
 * threshold also keeps glibc from moving its own.
 */
static void set_malloc_policy(void)
{
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

/* Open --output (mode 0600) into out, else leave it on dflt. @return 0, or EXIT_ERROR after the message */
static int open_output(const struct monitor_opts *o, FILE *dflt, const char *dflt_name, struct monitor_out *out)
{
	*out = (struct monitor_out){ dflt, dflt_name, o->tee, false, 0 };
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
	if ((long)monitor__live(m) >= f->max_processes) {
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
	struct monitor_config c;
	struct monitor_out out;
	struct monitor m;
	pid_t *pids = NULL;
	size_t npids = 0;
	int code;

	options__init(&c);
	code = options__parse(argc, argv, OPTS_ATTACH, attach_usage, &c);
	if (code) {
		options__release(&c);
		return code < 0 ? EXIT_OK : code;
	}
	if (optind >= argc) {
		log_usage("attach needs a PID");
		options__release(&c);
		return EXIT_USAGE;
	}
	pids = xcalloc((size_t)(argc - optind), sizeof(*pids));
	for (int i = optind; i < argc; i++) {
		int pid;

		if (parse_pid(argv[i], &pid)) {
			free(pids);
			options__release(&c);
			return EXIT_USAGE;
		}
		pids[npids++] = pid;
	}
	if ((long)npids > c.max_processes) {
		log_usage("%zu PIDs, more than --max-processes %ld", npids, c.max_processes);
		free(pids);
		options__release(&c);
		return EXIT_USAGE;
	}
	if (c.control_fd && (npids != 1 || c.children)) {
		log_usage("--control-fd takes one PID, the package's process");
		free(pids);
		options__release(&c);
		return EXIT_USAGE;
	}
	if (c.control_fd) {
		struct stat st;

		if (fstat(c.control_fd, &st) || !S_ISSOCK(st.st_mode)) {
			log_usage("--control-fd %d is not a socket", c.control_fd);
			free(pids);
			options__release(&c);
			return EXIT_USAGE;
		}
	}
	code = open_output(&c.o, stdout, "standard output", &out);
	if (code) {
		free(pids);
		options__release(&c);
		return code;
	}
	out.control_fd = c.control_fd;
	freezer__install_signal_handlers();
	set_malloc_policy();
	monitor__init(&m, &c.o, &out);
	if (c.control_fd) {
		/* the Python package's helper: it drives, reports go back to it */
		code = control__serve(&m, c.control_fd, pids[0]);
		npids = 0;
	}
	/* each PID given must be a Python process; with several, one that is not is said and the others go on */
	for (size_t i = 0; i < npids; i++) {
		int ret = monitor__add(&m, pids[i]);

		if (ret && !code)
			code = ret;
	}
	if (npids > 1 || c.children)
		store__new_id(m.run_id);
	if (m.n && npids && (npids > 1 || !code)) {
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
	options__release(&c);
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
	struct monitor_config c;
	struct monitor_out out;
	struct monitor m;
	struct family fam;
	pid_t child;
	int code, ret;

	options__init(&c);
	code = options__parse(argc, argv, OPTS_RUN, run_usage, &c);
	if (code) {
		options__release(&c);
		return code < 0 ? EXIT_OK : code;
	}
	if (optind >= argc) {
		log_usage("run needs a program: memalot run [options] -- PROGRAM [ARGS...]");
		options__release(&c);
		return EXIT_USAGE;
	}
	code = open_output(&c.o, stderr, "standard error", &out);
	if (code) {
		options__release(&c);
		return code;
	}
	child = start_program(argv + optind);
	if (child < 0) {
		close_output(&out, stderr, 0);
		options__release(&c);
		return -child;
	}
	freezer__install_signal_handlers();
	set_malloc_policy();
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
	options__release(&c);
	return code;
}

/* The names of enum option_type, for `memalot options --json`. */
static const char *type_name(enum option_type t)
{
	switch (t) {
	case OPT_SECONDS: return "seconds";
	case OPT_SECONDS0: return "seconds_or_zero";
	case OPT_COUNT: return "count";
	case OPT_COUNT0: return "count_or_zero";
	case OPT_BYTES: return "bytes";
	case OPT_FLAG: return "flag";
	case OPT_PATH: return "path";
	case OPT_WORDS: return "strings";
	case OPT_ACCEPTED: return "accepted";
	}
	return "?";
}

/*
 * memalot options [--json]: the table of attach's and run's options (with
 * the seed's keywords), for people and for front ends that make their own
 * (the Python package's keywords).
 */
int cmd_options(int argc, char **argv)
{
	enum { O_JSON = 256 };
	static const struct option longopts[] = { { "json", no_argument, NULL, O_JSON }, CLI_COMMON_OPTIONS, { 0 } };
	size_t n;
	const struct option_def *t = options__table(&n);
	bool json = false;
	json_t *all;
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		if (cli__common(ch))
			continue;
		if (ch == O_JSON) {
			json = true;
		} else if (ch == 'h') {
			fputs("usage: memalot options [options]\n\nThe options of attach and run, with the seed's keywords.\n\n"
			      "options:\n  --json                   one JSON array (the Python package's table)\n" CLI_COMMON_HELP,
			      stdout);
			return EXIT_OK;
		} else {
			return cli__bad_option(argv);
		}
	}
	if (optind < argc) {
		log_usage("options takes no arguments, not '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!json) {
		fputs("attach:\n", stdout);
		options__help(stdout, OPTS_ATTACH);
		fputs("run:\n", stdout);
		options__help(stdout, OPTS_RUN);
		return cli__flush(stdout, "standard output") ? EXIT_ERROR : EXIT_OK;
	}
	all = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *cmds = json_array();

		if (t[i].cmds & OPTS_ATTACH)
			json_array_append_new(cmds, json_string("attach"));
		if (t[i].cmds & OPTS_RUN)
			json_array_append_new(cmds, json_string("run"));
		json_array_append_new(all, json_pack("{s:s, s:o, s:b, s:s, s:o, s:o, s:o, s:o}", "name", t[i].name, "seed",
						     t[i].seed ? json_string(t[i].seed) : json_null(), "seed_negates",
						     t[i].seed_negates, "type", type_name(t[i].type), "commands", cmds,
						     "default", t[i].dflt ? json_string(t[i].dflt) : json_null(), "help",
						     t[i].help ? json_string(t[i].help) : json_null(), "alias_of",
						     !t[i].help && i ? json_string(t[i - 1].name) : json_null()));
	}
	json_dumpf(all, stdout, JSON_INDENT(1));
	fputc('\n', stdout);
	json_decref(all);
	return cli__flush(stdout, "standard output") ? EXIT_ERROR : EXIT_OK;
}
