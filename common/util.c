/* SPDX-License-Identifier: MIT */
/* Allocation that aborts on failure, error strings and stderr logging. */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
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

void *table_zalloc(size_t bytes)
{
	size_t len = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	void *p;

	if (bytes < TABLE_HUGE_MIN)
		return xcalloc(bytes ? bytes : 1, 1);
	p = map_aligned(len, HUGE_PAGE);
	if (!p)
		oom(len);
	(void)madvise(p, len, MADV_HUGEPAGE); /* a hint: without THP we get small pages */
	return p;
}

void table_free(void *p, size_t bytes)
{
	if (!p)
		return;
	if (bytes < TABLE_HUGE_MIN)
		free(p);
	else
		munmap(p, (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
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

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	fputs("memalot: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
