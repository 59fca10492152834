/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the engine's side of the Python package's control
 * channel (engine/control.c) on arbitrary bytes, as a broken or hostile
 * package would send them: the hello, then requests, read line by line and
 * parsed. The first byte chooses function-based (odd) or time-based
 * serving. The engine behind it is stubbed: nothing is attached, and each
 * accepted request is checked to follow the protocol's order.
 */
#include "../engine/control.c"

#include <sys/socket.h>

static uint64_t last_call;
static bool in_call;

int monitor__add(struct monitor *m, pid_t pid)
{
	(void)m;
	(void)pid;
	return 0;
}

size_t monitor__live(const struct monitor *m)
{
	(void)m;
	return 1;
}

const char *monitor__report_id(const struct monitor *m, size_t i)
{
	(void)m;
	(void)i;
	return "abcd-0000";
}

const char *monitor__python_version(const struct monitor *m, size_t i)
{
	(void)m;
	(void)i;
	return "3.12.1";
}

int monitor__call(struct monitor *m, uint64_t call, bool exit, const raddr_t *exclude, size_t n)
{
	(void)m;
	(void)exclude;
	/*
	 * serve_calls lets through only an entry of a later call, or the exit of
	 * the call entered; after an exit, the exit of the next call ("next N"
	 * began it: this stub cannot tell an exit from a next)
	 */
	if (exit ? !(in_call ? call == last_call : call == last_call + 1) : in_call || call <= last_call)
		abort();
	if (n > CONTROL_MAX_EXCLUDE || !call || call >= UINT32_MAX)
		abort();
	in_call = !exit;
	last_call = call;
	return 0;
}

int monitor__run(struct monitor *m, monitor_poll_fn poll, void *arg, uint64_t poll_ns)
{
	(void)poll_ns;
	while (poll(m, arg))
		;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct monitor_opts o = { 0 };
	struct monitor_out out = { 0 };
	struct monitor m = { 0 };
	int sv[2];

	if (size < 1 || size > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 0;
	o.calls = data[0] & 1;
	m.o = &o;
	m.out = &out;
	last_call = 0;
	in_call = false;
	/* the package's bytes, then its end: the engine reads them all and stops */
	if (write(sv[0], data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	shutdown(sv[0], SHUT_WR);
	out.control_fd = sv[1];
	control__serve(&m, sv[1], 1);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
