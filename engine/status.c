/* SPDX-License-Identifier: MIT */
/*
 * What the engine and every front end say about a target and how they
 * end (status.h): exit codes, the messages of a failed attach, durations,
 * write errors. In the library, so that the engine does not depend on cli/.
 */
#define _GNU_SOURCE
#include "status.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../attach/freeze.h"
#include "../attach/proc.h"
#include "../common/util.h"

int exit_code_for(int err)
{
	switch (err) {
	case 0: return EXIT_OK;
	case -ESRCH: return EXIT_NO_PROCESS;
	case -EPERM: case -EACCES: return EXIT_PERMISSION;
	case -ME_TRACED: return EXIT_TRACED;
	case -ME_NOTPYTHON: return EXIT_NOT_PYTHON;
	case -ME_UNSUPPORTED: case -ME_FREETHREADED: case -ME_NOLAYOUT: return EXIT_UNSUPPORTED;
	case -ME_EXITED: return EXIT_EXITED;
	case -ME_INTERRUPTED: return EXIT_INTERRUPTED;
	default: return EXIT_ERROR;
	}
}

int parse_pid(const char *s, int *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > INT_MAX) {
		log_usage("'%s' is not a process id", s);
		return -1;
	}
	*pid = (int)v;
	return 0;
}

/* Errors an interpreter that is being torn down gives: its interpreter list or GC lists going away under the reads. */
static bool exit_symptom(int err)
{
	return err == -ME_GARBAGE || err == -ME_INCONSISTENT || err == -EFAULT || err == -EIO;
}

/* Up to this long, an error that an exiting interpreter gives waits for the exit to show. */
#define EXIT_GRACE_MS 300

bool cli__target_exited(int pid, int err, bool found)
{
	bool gone = kill(pid, 0) && errno == ESRCH;

	if (err == -ME_INTERRUPTED)
		return false;
	if (!gone && !proc__exiting(pid) && exit_symptom(err)) {
		/*
		 * Python tears its interpreter down (Py_Finalize) before the
		 * process exits: one read then finds no interpreter or torn
		 * lists while the process is still alive. Wait a little for
		 * the exit before blaming the target.
		 */
		for (int ms = 0; ms < EXIT_GRACE_MS && !gone && !proc__exiting(pid); ms += 10) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			gone = kill(pid, 0) && errno == ESRCH;
		}
	}
	return (found && gone) || proc__exiting(pid);
}

int cli__target_error(int pid, int err, const char *why, bool found)
{
	if (cli__target_exited(pid, err, found))
		err = -ME_EXITED;
	if (err == -EPERM || err == -EACCES || err == -ME_TRACED) {
		char *msg = freezer__explain_eperm(pid);
		log_err("cannot attach to pid %d: %s", pid, msg);
		free(msg);
	} else if (err == -ESRCH)
		log_err("no process with pid %d", pid);
	else if (err == -ME_EXITED && proc__exited(pid))
		log_err("process %d has exited (a zombie its parent has not reaped yet)", pid);
	else if (err == -ME_EXITED)
		log_err("process %d exited while memalot read it", pid);
	else if (why)
		log_err("pid %d: %s", pid, why);
	else if (err == -ME_NOTPYTHON)
		log_err("pid %d is not a Python process (no CPython interpreter is mapped)", pid);
	else
		log_err("pid %d: %s", pid, me_strerror(err));
	return exit_code_for(err);
}

int parse_seconds(const char *name, const char *s, bool allow_zero, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || end == s || !isfinite(v) || v < 0 || (!allow_zero && !(v > 0)) || v > CLI_MAX_SECONDS) {
		log_usage("--%s takes a %snumber of seconds up to %.0f (10 years), not '%s'", name,
			allow_zero ? "" : "positive ", CLI_MAX_SECONDS, s);
		return -1;
	}
	*out = v;
	return 0;
}

uint64_t seconds_ns(double s)
{
	/* parse_seconds bounds s: 10 years are 3.2e17 ns, well inside uint64_t */
	return s > 0 ? (uint64_t)(MIN(s, CLI_MAX_SECONDS) * 1e9) : 0;
}

/* The streams whose write error was said already (stdout and an --output file at most). */
static FILE *reported[4];

void cli__write_error(FILE *f, const char *what, int err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(reported) && reported[i]; i++)
		if (reported[i] == f)
			return;
	if (i < ARRAY_SIZE(reported))
		reported[i] = f;
	log_err("error writing %s: %s", what, err ? strerror(err) : "unknown write error");
}

int cli__flush(FILE *f, const char *what)
{
	/*
	 * A failed write that went through the buffer is tried again here, and
	 * this fflush's errno says why; one that bypassed it (a text bigger
	 * than the buffer) is lost, and only the errno it left says why: the
	 * callers clear errno before they write. A stream whose error was said
	 * before fails again without a second message.
	 */
	int before = errno, ret = fflush(f);

	if (!ret && !ferror(f))
		return 0;
	cli__write_error(f, what, ret ? errno : before);
	return -1;
}
