/* SPDX-License-Identifier: MIT */
/*
 * The monitoring engine: time-based leak discovery from outside the process
 * (the seed's start_leak_monitoring(max_object_lifetime=...)) for one or
 * more targets at once. Each target is a session of its own: its snapshots
 * every --check-interval, the ages of its objects (analyzer/lifetime.c),
 * a report every lifetime after the warm-up, its native figures and its
 * saved report. The front ends (`memalot attach`, `memalot run`) only
 * configure it, add targets and drive it.
 */
#ifndef MEMALOT_MONITOR_H
#define MEMALOT_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "why.h"

struct monitor_opts {
	double lifetime, interval, warmup, duration;
	long iterations;
	char **include, **exclude;
	size_t ninclude, nexclude;
	long max_types;
	bool compute_size, json, tee;
	const char *output, *report_dir, *html;
	bool no_save;
	/* --max-memory: the largest copy of a target's writable memory (0: proc__default_max_copy()) */
	uint64_t max_memory;
	struct why_opts why;
	/*
	 * Function-based discovery (the seed's @leak_monitor), driven by the
	 * Python package over its control channel (engine/control.h): a
	 * snapshot at each monitored call's entry and exit instead of every
	 * interval; the first warmup_calls calls are the warm-up, and an object
	 * created during a call is a leak once it has lived age_calls calls.
	 */
	bool calls;
	long age_calls, warmup_calls;
};

/* Where reports go: a stream the user knows as name ("standard output", "'FILE'"), and stdout too with tee. */
struct monitor_out {
	FILE *f;
	const char *name;
	bool tee;
	bool failed; /* a write failed (said once): the run ends with 1 */
	int control_fd; /* > 0: reports go as frames to the control channel (engine/control.h), not to f */
};

struct monitor_session;

struct monitor {
	const struct monitor_opts *o;
	struct monitor_out *out;
	struct monitor_session **s;
	size_t n, cap;
	uint64_t deadline;
	bool final; /* Ctrl-C: a last report of each target, then stop */
	int stop_signal; /* the signal that stopped the run (SIGINT, SIGTERM, SIGHUP), or 0 */
	/*
	 * monitor__add says nothing of a process that is not Python or is gone
	 * (the descendants of `run` and `--children`)
	 */
	bool quiet;
	/* with several targets: the ID that links their saved reports ("run_id" in each summary) */
	char run_id[16];
	/* called once a check's memory copy is taken, before it is analysed (may be NULL) */
	void (*snapped)(void *arg);
	void *snapped_arg;
	/* a status line on stderr after each check (a terminal, not -q, not the package's helper) */
	bool status;
	/* a check ran since the heap was last given back (monitor__run trims it before a long wait) */
	bool heap_used;
};

/* When a run fails for its leaks (--fail-on-leak and its thresholds). */
struct monitor_fail {
	bool on_leak;          /* --fail-on-leak */
	uint64_t min_objects;  /* --fail-min-objects (default 1; 0: objects do not count) */
	uint64_t min_bytes;    /* --fail-min-bytes (0: bytes do not count) */
	bool on_fd_leak;       /* --fail-on-fd-leak: a descriptor opened since the warm-up still open */
	uint64_t native_bytes; /* --fail-native-bytes (0: native growth does not count) */
};


void monitor__init(struct monitor *m, const struct monitor_opts *o, struct monitor_out *out);

/*
 * Start watching pid: find its interpreter (remote__open,
 * layout__discover). @return 0, or the exit code after the message
 * (EXIT_NOT_PYTHON said nothing with quiet_not_python)
 */
int monitor__add(struct monitor *m, pid_t pid);

/* Whether pid is being watched (its session has not ended). */
bool monitor__watching(const struct monitor *m, pid_t pid);

/* Sessions that have not ended. */
size_t monitor__live(const struct monitor *m);

/*
 * Called between checks with the time of the next one (ns, now_ns's
 * clock): may add targets, and returns false to stop the run.
 */
typedef bool (*monitor_poll_fn)(struct monitor *m, void *arg);

/*
 * Check and report until every session ended (the targets exited, or
 * --iterations reports each), --duration is over, Ctrl-C (a last report
 * first), a write failed, or poll says stop. poll (may be NULL) runs at
 * least every poll_ns. @return the exit code: the first session's error,
 * else 0
 */
int monitor__run(struct monitor *m, monitor_poll_fn poll, void *arg, uint64_t poll_ns);

/*
 * One line per target to f (pid, command, new leaks over the run and their
 * bytes, reports, native growth Python objects do not explain, descriptors
 * opened since the warm-up), then whether they pass fail.
 * @return whether some target leaked past fail's thresholds (false without on_leak)
 */
bool monitor__summary(const struct monitor *m, FILE *f, const struct monitor_fail *fail);

/*
 * Function-based discovery (o->calls): the snapshot at the entry (exit
 * false) or exit of monitored call number call (from 1) of the first
 * target, and at an exit its report. exclude[n] are objects the call
 * leaves to its caller (its return value, its exception): what only they
 * hold is not a leak. @return 0, or the session's exit code once it has ended
 */
int monitor__call(struct monitor *m, uint64_t call, bool exit, const raddr_t *exclude, size_t n);

/* The ID of target i's saved report (its summary is written at the first snapshot). */
const char *monitor__report_id(const struct monitor *m, size_t i);

/* The Python version of target i ("3.12.1"), while its session has not ended. */
const char *monitor__python_version(const struct monitor *m, size_t i);

/* End every session (nothing is left stopped) and free them. */
void monitor__release(struct monitor *m);

#endif
