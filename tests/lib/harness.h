/* SPDX-License-Identifier: MIT */
/* Helpers for the Criterion integration tests: find interpreters, start targets, run memalot. */
#ifndef MEMALOT_TESTS_HARNESS_H
#define MEMALOT_TESTS_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../attach/proc.h" /* proc__state, proc__tracer */

/* The stamp tests/setup-sid-root.sh writes into a finished sid chroot. */
#define SID_ROOT_STAMP ".memalot-sid-root.done"

/* Seconds a target may take to print its "ready" line. */
#define TARGET_READY_TIMEOUT 60
/* Seconds a memalot or interpreter run may take. */
#define RUN_TIMEOUT 120

/* One interpreter of the test matrix. */
struct interp {
	const char *label;      /* "pyenv-3.12", "debian-3.11d", "sid-3.14" */
	char *argv[4];          /* argv prefix, NULL-terminated: { python } or { chroot, DIR, python } */
	const char *root;       /* chroot directory, NULL when the interpreter runs on the host */
	bool stripped;          /* a distribution release build: its DWARF is in a separate -dbg file */
	bool debug_build;       /* configured --with-pydebug ("python3.Xd") */
	const char *skip;       /* why it cannot run here, NULL when it can */
};

/*
 * The label of the interpreter for tests about memalot's behaviour rather than
 * the matrix: the newest pyenv 3.12 (then 3.13, 3.11, 3.10, 3.9, 3.8), else
 * Debian's python3.11, as tests/lib/python.sh picks it, so that a plain Debian
 * machine without pyenv runs every such test.
 */
#define DEFAULT_PYTHON "default"

/**
 * The matrix entry called label (pyenv-3.6 .. pyenv-3.13, debian-3.11, debian-3.11d,
 * sid-3.13, sid-3.13d, sid-3.14, sid-3.14d, sid-3.15, sid-3.15d, or DEFAULT_PYTHON for the first of its
 * list that runs here), discovered on first use.
 * @return the entry (owned by the harness), or NULL for an unknown label
 */
const struct interp *interp__get(const char *label);

/**
 * Ask the interpreter for platform.python_version().
 * @return the version (the caller owns it), or NULL with a reason in err
 */
char *interp__version(const struct interp *py, char *err, size_t errlen);

/**
 * The path under which the interpreter sees tests/targets/name; for a chroot the
 * script is first copied to DIR/tmp/memalot-tests/.
 * @return the path (the caller owns it), or NULL with a reason in err
 */
char *interp__script(const struct interp *py, const char *name, char *err, size_t errlen);

/* A running target program. */
struct target {
	pid_t pid;              /* the interpreter itself, also under chroot */
	int in_fd;              /* its stdin: closing it tells the target to exit */
	int out_fd;             /* its stdout */
	char ready[512];        /* the "ready ..." line, without the newline */
	char err[512];          /* why target__start or target__stop failed */
};

/**
 * Start script under py with extra arguments (NULL-terminated, may be NULL) and wait,
 * up to TARGET_READY_TIMEOUT seconds, for the line starting with "ready".
 * The target is registered for harness__cleanup.
 * @return 0, or -errno with a reason in t->err (the target is then already gone)
 */
int target__start(struct target *t, const struct interp *py, const char *script, char *const extra[]);

/* target__start for any program: argv (argv[0] a path), the same ready line and cleanup. */
int target__start_argv(struct target *t, char *const argv[]);

/**
 * Close the target's stdin, wait for it to exit, SIGKILL it if it will not.
 * @return its exit status (0..255, 128+signal when killed), or -errno with t->err
 */
int target__stop(struct target *t);


/*
 * Copy src to dst (mode) through a temporary name, so a reader never sees
 * half a file. @return 0 or -errno
 */
int harness__copy_file(const char *src, const char *dst, mode_t mode);
/* Remove path and everything below it, without following symlinks; errors are ignored. */
void harness__remove_tree(const char *path);

/* splitmix64: the next number of a small PRNG whose seed is printed, so a failing run can be repeated. */
uint64_t harness__random(uint64_t *state);

/* A seed for harness__random: $MEMALOT_FAULT_SEED when set, else one from the clock and the pid. */
uint64_t harness__seed(void);

/* Kill and reap every target still running; installed with atexit, also usable as .fini. */
void harness__cleanup(void);

/* What a finished program did. */
struct run_result {
	char *out;              /* everything it wrote to stdout, NUL-terminated */
	char *err;              /* everything it wrote to stderr, NUL-terminated */
	int status;             /* exit code, 128+signal when killed, -1 when it could not run */
	bool timed_out;         /* killed after the timeout */
};

/**
 * Run argv (argv[0] looked up in PATH) with stdin from /dev/null and capture its output.
 * @return 0 (see r->status), or -errno when it could not be started
 */
int run__capture(char *const argv[], int timeout_s, struct run_result *r);

/* Free the buffers of r. */
void run_result__release(struct run_result *r);

/* The memalot binary under test: $MEMALOT, else ../memalot next to the test binary. */
const char *harness__memalot(void);

/* The source tree: $MEMALOT_SRCDIR, else two folders above the test binary. */
const char *harness__srcdir(void);

/**
 * Run memalot with args (NULL-terminated, without argv[0]).
 * @return as run__capture
 */
int memalot__run(char *const args[], struct run_result *r);

/**
 * The number of objects of type (e.g. "builtins.dict") in a snapshot's JSON, summed
 * over its generations except "permanent": gc.get_objects() leaves out what
 * gc.freeze() moved there.
 * @return the count (0 when the type is absent), or -1 when the JSON is malformed
 */
long long snap__type_count(const json_t *snap, const char *type);

/* ------------------------------------------------------------ fault tests */

/* Milliseconds on the monotonic clock. */
long long harness__now_ms(void);

/* How bgrun__start starts a program; NULL means the defaults (all zero). */
struct bgrun_opts {
	int stdin_fd;           /* its stdin; 0 means /dev/null */
	bool set_ids;           /* drop to uid/gid (and no supplementary groups) before exec */
	uid_t uid;
	gid_t gid;
};

/* A program running in the background, its stdout and stderr going to memory files. */
struct bgrun {
	pid_t pid;              /* -1 once reaped */
	int pidfd;              /* readable once it exited; -1 without pidfd support */
	int out_fd, err_fd;     /* the memory files its stdout and stderr go to */
	int wstatus;            /* the raw waitpid status, once reaped */
	long long start_ms;     /* harness__now_ms() when it was started */
};

/**
 * Start argv (argv[0] looked up in PATH) and return once it has called exec, so
 * that it is the program named and no longer a copy of the test. It is
 * registered for harness__cleanup and dies with the test.
 * @return 0, or -errno when it could not be started (also when exec failed)
 */
int bgrun__start(struct bgrun *b, char *const argv[], const struct bgrun_opts *o);

/**
 * Wait up to timeout_ms for it to exit, without reaping it.
 * @return 1 when it has exited, 0 when it is still running
 */
int bgrun__exited(struct bgrun *b, int timeout_ms);

/**
 * Wait up to timeout_ms for it to exit (SIGKILL it after that: r->timed_out),
 * reap it and collect its output into r (release with run_result__release).
 * b->wstatus gets the raw status, r->status the exit code or 128+signal.
 * @return 0, or -errno when it was already reaped
 */
int bgrun__wait(struct bgrun *b, int timeout_ms, struct run_result *r);

/**
 * Write line (which ends with a newline) to the target's stdin and read its
 * one-line reply, without the newline, into reply.
 * @return 0, -ETIMEDOUT after timeout_ms, or -errno (-EPIPE when it closed stdout)
 */
int target__request(struct target *t, const char *line, char *reply, size_t len, int timeout_ms);


/**
 * Whether some thread of pid is in a stop ('t' ptrace stop, 'T' job control stop),
 * or pid is traced. why (if not NULL) says which thread, in what state.
 * @return 1 when stopped or traced, 0 when every thread runs free, -errno
 *         (-ESRCH when pid is gone)
 */
int proc__held(pid_t pid, char *why, size_t whylen);

/**
 * Poll, for up to timeout_ms, until proc__held(pid) is 0: the kernel finishes a
 * detach on its own time. why says what still held it.
 * @return 0, -ETIMEDOUT or -errno
 */
int proc__wait_released(pid_t pid, int timeout_ms, char *why, size_t whylen);

#endif
