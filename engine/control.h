/* SPDX-License-Identifier: MIT */
/*
 * The control channel between the Python package (python/memalot) and the
 * engine running in its helper process, `memalot attach PID --control-fd N`:
 * a stream socket the package made, line-based, versioned. The protocol is
 * docs/control-protocol.md; in short:
 *
 *   package -> engine   hello 1            (the helper may attach now)
 *                       enter N | exit N [ADDR...]  (function-based: call N's entry or exit)
 *                       stop
 *   engine -> package   memalot 1 ready REPORT_ID VERSION | memalot 1 error CODE
 *                       report BYTES\n<text>     (a report, for the package to print)
 *                       ok N | fail N CODE       (the snapshot of a call is taken)
 *                       bye CODE
 *
 * Every line the package sends is untrusted input: bounded, parsed strictly.
 */
#ifndef MEMALOT_CONTROL_H
#define MEMALOT_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor.h"

#define CONTROL_VERSION 1
/* The longest line either side sends but a report frame's text. */
#define CONTROL_LINE_MAX 256

/* Send "kind LEN\n" and the bytes. @return 0, or -1 (errno) */
int control__send(int fd, const char *kind, const char *text, size_t len);

/* Send one line (printf format, '\n' added). @return 0, or -1 (errno) */
int control__sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A request of the package, as control__parse reads one line. */
enum control_req {
	CREQ_BAD,   /* not a request of this protocol */
	CREQ_HELLO, /* n: the package's protocol version */
	CREQ_ENTER, /* n: the call */
	CREQ_EXIT,  /* n: the call, addrs: what it leaves to its caller (its return value...) */
	CREQ_NEXT,  /* n: the call that ends, and n + 1 begins at the same point; addrs as for exit */
	CREQ_STOP,
};

/* The most objects an exit names. */
#define CONTROL_MAX_EXCLUDE 8

/* Parse one line (without its '\n'); addrs gets up to CONTROL_MAX_EXCLUDE addresses, naddrs their count. */
enum control_req control__parse(const char *line, uint64_t *n, uint64_t *addrs, size_t *naddrs);

/*
 * Serve the package on fd for pid: wait for its hello, attach, say ready
 * (or error), then drive m: checks every interval (time-based) or at each
 * call's entry and exit (m->o->calls), until stop, the channel closes, the
 * target exits or a signal. Reports go to the channel. @return the exit code
 */
int control__serve(struct monitor *m, int fd, int pid);

#endif
