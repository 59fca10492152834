/* SPDX-License-Identifier: MIT */
/* Allocation that aborts on failure, error strings and stderr logging. */
#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

int log_level = 1;

static const char *const me_messages[] = {
	[ME_NOTPYTHON - ME_BASE] = "not a Python process",
	[ME_NOLAYOUT - ME_BASE] = "no layout information for this Python build",
	[ME_UNSUPPORTED - ME_BASE] = "unsupported Python version",
	[ME_FREETHREADED - ME_BASE] = "free-threaded Python builds are not supported yet",
	[ME_INCONSISTENT - ME_BASE] = "garbage collector lists kept changing",
	[ME_GARBAGE - ME_BASE] = "target memory is not what was expected",
	[ME_TRACED - ME_BASE] = "process is already traced",
	[ME_EXITED - ME_BASE] = "target process exited",
	[ME_INTERRUPTED - ME_BASE] = "interrupted",
};

const char *me_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err > ME_BASE && err < ME_MAX)
		return me_messages[err - ME_BASE];
	return strerror(err);
}

static void oom(size_t n)
{
	fprintf(stderr, "memalot: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom(strlen(s));
	return p;
}

void *map_aligned(size_t len, size_t align)
{
	unsigned char *map, *start;
	size_t head;

	map = mmap(NULL, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	start = (unsigned char *)(((uintptr_t)map + align - 1) & ~(uintptr_t)(align - 1));
	head = (size_t)(start - map);
	if (head)
		munmap(map, head);
	if (align - head)
		munmap(start + len, align - head);
	return start;
}

#define HUGE_PAGE ((size_t)2 << 20)
#define TABLE_HUGE_MIN ((size_t)8 << 20)

/*
 * Tables freed and kept for the next table_zalloc of about their size. A
 * report builds the same dozen tables of a million nodes each time: mapped
 * anew, each of their pages faults in and is cleared by the kernel, which
 * in a virtual machine with 4 KiB pages costs several times the work done
 * in them (a quarter of a second for the dominator tree of 1.2 million
 * nodes, against 70 ms when its memory is reused). A kept table is marked
 * MADV_FREE, so the kernel may take its pages back under memory pressure
 * (a read then gives zeroes), and is cleared by memset when reused.
 */
#define TABLE_CACHE_SLOTS 16
#define TABLE_CACHE_MAX ((size_t)1 << 30)

static struct {
	void *p;
	size_t len;
} table_cache[TABLE_CACHE_SLOTS];
static size_t table_cache_bytes;

/* A kept mapping of len bytes or up to twice as many, the smallest; NULL if none. */
static void *table_cache_take(size_t len)
{
	size_t best = TABLE_CACHE_SLOTS;
	void *p;

	for (size_t i = 0; i < TABLE_CACHE_SLOTS; i++)
		if (table_cache[i].p && table_cache[i].len >= len && table_cache[i].len / 2 <= len &&
		    (best == TABLE_CACHE_SLOTS || table_cache[i].len < table_cache[best].len))
			best = i;
	if (best == TABLE_CACHE_SLOTS)
		return NULL;
	p = table_cache[best].p;
	table_cache_bytes -= table_cache[best].len;
	if (table_cache[best].len > len) /* table_free is told the size asked for: keep just that */
		munmap((unsigned char *)p + len, table_cache[best].len - len);
	table_cache[best].p = NULL;
	return p;
}

void table_cache_drop(void)
{
	for (size_t i = 0; i < TABLE_CACHE_SLOTS; i++)
		if (table_cache[i].p) {
			munmap(table_cache[i].p, table_cache[i].len);
			table_cache[i].p = NULL;
		}
	table_cache_bytes = 0;
}

void *table_zalloc(size_t bytes)
{
	size_t len = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	void *p;

	if (bytes < TABLE_HUGE_MIN)
		return xcalloc(bytes ? bytes : 1, 1);
	p = table_cache_take(len);
	if (p) {
		memset(p, 0, bytes);
		return p;
	}
	p = map_aligned(len, HUGE_PAGE);
	if (!p)
		oom(len);
	(void)madvise(p, len, MADV_HUGEPAGE); /* a hint: without THP we get small pages */
	return p;
}

void table_free(void *p, size_t bytes)
{
	size_t len = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);

	if (!p)
		return;
	if (bytes < TABLE_HUGE_MIN) {
		free(p);
		return;
	}
	if (table_cache_bytes + len <= TABLE_CACHE_MAX)
		for (size_t i = 0; i < TABLE_CACHE_SLOTS; i++)
			if (!table_cache[i].p) {
				(void)madvise(p, len, MADV_FREE);
				table_cache[i].p = p;
				table_cache[i].len = len;
				table_cache_bytes += len;
				return;
			}
	munmap(p, len);
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom(n);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom(0);
	va_end(ap);
	return s;
}

void zfree_(void **pp)
{
	free(*pp);
	*pp = NULL;
}

void grow_(void **v, size_t *cap, size_t want, size_t sz)
{
	size_t n = *cap ? *cap : 16;

	if (want <= *cap)
		return;
	while (n < want)
		n *= 2;
	*v = xrealloc(*v, n * sz);
	*cap = n;
}

static bool status_shown;

void status_show(const char *fmt, ...)
{
	va_list ap;

	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	status_shown = true;
}

void status_clear(void)
{
	if (!status_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	status_shown = false;
}

const char *log_command;
int color_mode; /* 0 auto, 1 always (--force-terminal), -1 never (--no-color) */

bool color_wanted(int fd)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (color_mode)
		return color_mode > 0;
	return !(no && *no) && isatty(fd) && !(term && !strcmp(term, "dumb"));
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *const marks[][2] = { { "warning:", "\033[1;33m" }, { "error:", "\033[1;31m" } };
	char *msg = NULL;
	va_list ap;
	int n;

	if (level > log_level)
		return;
	status_clear();
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("memalot: (out of memory)\n", stderr);
		return;
	}
	fputs("memalot: ", stderr);
	/* a warning or an error stands out on a terminal */
	for (size_t i = 0; i < ARRAY_SIZE(marks) && color_wanted(STDERR_FILENO); i++)
		if (!strncmp(msg, marks[i][0], strlen(marks[i][0]))) {
			fprintf(stderr, "%s%s\033[0m%s\n", marks[i][1], marks[i][0], msg + strlen(marks[i][0]));
			free(msg);
			return;
		}
	fprintf(stderr, "%s\n", msg);
	free(msg);
}

void log_usage(const char *fmt, ...)
{
	va_list ap;

	status_clear();
	if (log_command)
		fprintf(stderr, "memalot %s: ", log_command);
	else
		fputs("memalot: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (log_command)
		fprintf(stderr, "; see 'memalot %s --help'", log_command);
	fputc('\n', stderr);
}

/*
 * getopt_long's '?' said in one line: which option, and whether it is
 * unknown, lacks its value or was given one it does not take. arg is
 * argv[optind - 1]; opt is optopt (the option's value when it is known,
 * 0 for an unknown long option); the short options of every command take
 * no value.
 */
void log_bad_option(const char *arg, int opt)
{
	if (arg && !strncmp(arg, "--", 2)) {
		int n = (int)strcspn(arg, "=");

		if (!opt)
			log_usage("unknown option '%.*s'", n, arg);
		else if (arg[n])
			log_usage("option '%.*s' takes no value", n, arg);
		else
			log_usage("option '%s' needs a value", arg);
	} else if (opt > 0 && opt < 256) {
		log_usage("unknown option '-%c'", opt);
	} else {
		log_usage("unknown option '%s'", arg ? arg : "?");
	}
}

char *utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 1 :
			(*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 3 : -1;
		int k;

		for (k = 1; n > 0 && k <= n; k++)
			if ((p[k] & 0xc0) != 0x80)
				break;
		if (n < 0 || k <= n) {
			*p++ = '?'; /* a stray byte: drop it, resynchronise on the next */
			continue;
		}
		p += n + 1;
	}
	return s;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long peak_rss_kib(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return -1;
	return ru.ru_maxrss;
}

int parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	const char *u;
	double shift = 1, v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v != v)
		return -1;
	if (*end && (u = strchr(units, toupper((unsigned char)*end))) != NULL) {
		for (const char *k = units; k <= u; k++)
			shift *= 1024;
		end++;
		if ((end[0] == 'i' || end[0] == 'I') && (end[1] == 'b' || end[1] == 'B'))
			end += 2;
		else if (end[0] == 'b' || end[0] == 'B')
			end++;
	} else if (*end == 'b' || *end == 'B') {
		end++;
	}
	if (*end)
		return -1;
	v *= shift;
	if (v >= 18446744073709551616.0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}
