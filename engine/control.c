/* SPDX-License-Identifier: MIT */
/* The control channel of the Python package (control.h, docs/control-protocol.md). */
#define _GNU_SOURCE
#include "control.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../attach/freeze.h"
#include "status.h"
#include "../common/util.h"

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int control__send(int fd, const char *kind, const char *text, size_t len)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "%s %zu\n", kind, len);

	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	return write_all(fd, head, (size_t)n) || write_all(fd, text, len) ? -1 : 0;
}

int control__sendf(int fd, const char *fmt, ...)
{
	char line[CONTROL_LINE_MAX + 2];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > CONTROL_LINE_MAX)
		return -1;
	line[n++] = '\n';
	return write_all(fd, line, (size_t)n);
}

/* A decimal or 0x-hex number taking the whole of s, below 2^64. */
static bool number(const char *s, int base, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return !errno && !*end;
}

enum control_req control__parse(const char *line, uint64_t *n, uint64_t *addrs, size_t *naddrs)
{
	char buf[CONTROL_LINE_MAX + 1], *word[CONTROL_MAX_EXCLUDE + 3], *save = NULL, *w;
	size_t k = 0;

	*n = 0;
	*naddrs = 0;
	if (strlen(line) > CONTROL_LINE_MAX)
		return CREQ_BAD;
	strcpy(buf, line);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (k == ARRAY_SIZE(word))
			return CREQ_BAD;
		word[k++] = w;
	}
	if (k == 1 && !strcmp(word[0], "stop"))
		return CREQ_STOP;
	if (k == 2 && !strcmp(word[0], "hello") && number(word[1], 10, n))
		return CREQ_HELLO;
	if (k < 2 || !number(word[1], 10, n) || !*n || *n >= UINT32_MAX)
		return CREQ_BAD;
	if (k == 2 && !strcmp(word[0], "enter"))
		return CREQ_ENTER;
	if ((strcmp(word[0], "exit") && strcmp(word[0], "next")) || k - 2 > CONTROL_MAX_EXCLUDE ||
	    (word[0][0] == 'n' && *n >= UINT32_MAX - 1))
		return CREQ_BAD;
	for (size_t i = 2; i < k; i++)
		if (!number(word[i], 0, &addrs[(*naddrs)++]))
			return CREQ_BAD;
	return word[0][0] == 'n' ? CREQ_NEXT : CREQ_EXIT;
}

/* Lines from the package, buffered. */
struct reader {
	int fd;
	char buf[CONTROL_LINE_MAX + 1];
	size_t len;
	bool eof;
};

/*
 * The next line into line (no '\n'), waiting at most timeout_ms (-1: until
 * one comes or a signal asks to stop). @return 1 with a line, 0 on timeout,
 * -1 at the end (closed, a read error, a line too long, a signal)
 */
static int read_line(struct reader *r, char *line, int timeout_ms)
{
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		struct pollfd p = { r->fd, POLLIN, 0 };
		ssize_t got;
		int ret;

		if (nl) {
			size_t n = (size_t)(nl - r->buf);

			memcpy(line, r->buf, n);
			line[n] = 0;
			memmove(r->buf, nl + 1, r->len - n - 1);
			r->len -= n + 1;
			return 1;
		}
		if (r->eof || r->len >= CONTROL_LINE_MAX || freezer_stop_requested)
			return -1;
		ret = poll(&p, 1, timeout_ms < 0 ? 1000 : timeout_ms);
		if (ret < 0 && errno != EINTR)
			return -1;
		if (ret <= 0) {
			if (timeout_ms >= 0 && ret == 0)
				return 0;
			continue;
		}
		got = read(r->fd, r->buf + r->len, CONTROL_LINE_MAX - r->len);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			r->eof = true;
		else
			r->len += (size_t)got;
	}
}

/* Time-based: between checks, a stop or a closed channel ends the run. */
static bool time_poll(struct monitor *m, void *arg)
{
	struct reader *r = arg;
	char line[CONTROL_LINE_MAX + 1];
	uint64_t n, addrs[CONTROL_MAX_EXCLUDE];
	size_t naddrs;
	int ret;

	if (!monitor__live(m))
		return false;
	while ((ret = read_line(r, line, 0)) > 0)
		if (control__parse(line, &n, addrs, &naddrs) != CREQ_HELLO)
			return false; /* stop, or what time-based monitoring does not take */
	return ret == 0;
}

struct early_ok {
	int fd;
	uint64_t call;
	bool sent;
};

/* At a call's entry the program waits only for the copy of its memory, not for its analysis. */
static void entry_copied(void *arg)
{
	struct early_ok *e = arg;

	e->sent = !control__sendf(e->fd, "ok %" PRIu64, e->call);
}

/* Function-based: a snapshot at each call's entry and exit, until stop. */
static int serve_calls(struct monitor *m, struct reader *r)
{
	char line[CONTROL_LINE_MAX + 1];
	uint64_t n, addrs[CONTROL_MAX_EXCLUDE], last = 0;
	size_t naddrs;
	bool in_call = false;

	while (read_line(r, line, -1) > 0) {
		enum control_req q = control__parse(line, &n, addrs, &naddrs);
		struct early_ok early = { r->fd, n, false };
		int code;

		if (q == CREQ_STOP)
			break;
		if ((q != CREQ_ENTER && q != CREQ_EXIT && q != CREQ_NEXT) || (q == CREQ_ENTER && (in_call || n <= last)) ||
		    (q != CREQ_ENTER && (!in_call || n != last))) {
			log_err("control channel: unexpected request '%.40s'", line);
			return EXIT_ERROR;
		}
		/* next N: call N's exit is call N + 1's entry (one snapshot for both) */
		in_call = q != CREQ_EXIT;
		last = q == CREQ_NEXT ? n + 1 : n;
		if (q == CREQ_ENTER) {
			m->snapped = entry_copied;
			m->snapped_arg = &early;
		}
		code = monitor__call(m, n, q != CREQ_ENTER, addrs, naddrs);
		m->snapped = NULL;
		if (code) {
			control__sendf(r->fd, "fail %" PRIu64 " %d", n, code);
			return code;
		}
		if (m->out->failed || (!early.sent && control__sendf(r->fd, "ok %" PRIu64, n)))
			return EXIT_ERROR;
	}
	return freezer_stop_requested ? EXIT_INTERRUPTED : EXIT_OK;
}

int control__serve(struct monitor *m, int fd, int pid)
{
	struct reader r = { .fd = fd };
	char line[CONTROL_LINE_MAX + 1];
	uint64_t n, addrs[CONTROL_MAX_EXCLUDE];
	size_t naddrs;
	int code;

	/* the helper goes when the program does, even if a child of the program keeps the channel open */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (read_line(&r, line, 60000) <= 0 || control__parse(line, &n, addrs, &naddrs) != CREQ_HELLO) {
		log_err("control channel: no hello from the package");
		return EXIT_ERROR;
	}
	if (n != CONTROL_VERSION) {
		log_err("control channel: the package speaks version %" PRIu64 ", this memalot %d", n, CONTROL_VERSION);
		control__sendf(fd, "memalot %d error %d", CONTROL_VERSION, EXIT_USAGE);
		return EXIT_USAGE;
	}
	code = monitor__add(m, pid);
	if (code) {
		control__sendf(fd, "memalot %d error %d", CONTROL_VERSION, code);
		return code;
	}
	if (control__sendf(fd, "memalot %d ready %s %s", CONTROL_VERSION, m->o->no_save ? "-" : monitor__report_id(m, 0),
			   monitor__python_version(m, 0)))
		return EXIT_ERROR;
	if (m->o->calls)
		code = serve_calls(m, &r);
	else
		code = monitor__run(m, time_poll, &r, 100000000ull);
	control__sendf(fd, "bye %d", code);
	return code;
}
