/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every stage: allocation, error codes, logging. */
#ifndef MEMALOT_UTIL_H
#define MEMALOT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A remote address: an address in the target, never dereferenced here. */
typedef uint64_t raddr_t;

/*
 * Library layers return 0 or a negative errno; what errno lacks lives in this
 * private range (all below -4096 so they never collide with errno values).
 */
enum {
	ME_BASE = 4200,
	ME_NOTPYTHON,    /* no CPython interpreter found in the process */
	ME_NOLAYOUT,     /* no DWARF, table or debug offsets cover this build */
	ME_UNSUPPORTED,  /* CPython version outside what memalot supports */
	ME_FREETHREADED, /* free-threaded (no-GIL) build */
	ME_INCONSISTENT, /* GC lists changed under us on every retry */
	ME_GARBAGE,      /* target memory does not look like what it should */
	ME_TRACED,       /* already traced by another process */
	ME_EXITED,       /* target exited while we were working on it */
	ME_INTERRUPTED,  /* memalot got a signal and stopped */
	ME_MAX
};

/* Describe a 0/-errno/-ME_* code, like strerror(3). */
const char *me_strerror(int err);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Map len bytes of zeroes aligned to align (a power of two). The kernel only
 * aligns large anonymous mappings to huge pages on its own since 6.7, and
 * only some: this maps align more and cuts off the ends. @return NULL on failure
 */
void *map_aligned(size_t len, size_t align);

/*
 * Zeroed memory for a big table that is read at random (a hash table over
 * a million objects): in huge pages when it is big enough, so that a
 * look-up is one cache miss and not also a TLB miss. Free with table_free.
 */
void *table_zalloc(size_t bytes);
/* Free a table: kept (up to 1 GiB in all) for a later table_zalloc of about its size. */
void table_free(void *p, size_t bytes);
/* Unmap the tables table_free kept. */
void table_cache_drop(void);

/* Free *pp and set it to NULL. */
void zfree_(void **pp);
#define zfree(pp) zfree_((void **)(pp))

/* Grow *v (element size sz) so that it holds at least want elements. */
void grow_(void **v, size_t *cap, size_t want, size_t sz);
#define GROW(v, cap, want) grow_((void **)&(v), &(cap), (want), sizeof(*(v)))

/* Logging to stderr. Level: 0 quiet (errors only), 1 normal, 2+ verbose. */
extern int log_level;
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) log_msg(0, __VA_ARGS__)
/* The subcommand running ("attach"), for usage errors; NULL outside the command line. */
extern const char *log_command;
/* Colour in what is printed: 0 auto (a terminal, no NO_COLOR), 1 always (--force-terminal), -1 never (--no-color). */
extern int color_mode;
/*
 * Whether what is written to fd is coloured: --force-terminal (color_mode 1)
 * yes, --no-color no; else when fd is a terminal, NO_COLOR unset or empty
 * and TERM not "dumb".
 */
bool color_wanted(int fd);
/*
 * A usage error, always said, in one line: "memalot CMD: MESSAGE; see
 * 'memalot CMD --help'" (the caller exits 2).
 */
void log_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An option getopt_long refused, in one line (argv[optind - 1], optopt). */
void log_bad_option(const char *arg, int opt);
/*
 * One status line on stderr (a terminal's), rewritten in place; any message
 * or report clears it first (status_clear).
 */
void status_show(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void status_clear(void);
#define log_info(...) do { if (log_level >= 1) log_msg(1, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_level >= 2) log_msg(2, __VA_ARGS__); } while (0)

/* Replace every byte that is not part of valid UTF-8 with '?', in place. @return s */
char *utf8_sanitize(char *s);

/* Monotonic clock in nanoseconds. */
uint64_t now_ns(void);

/*
 * A number of bytes as people write it: "1048576", "64K", "512M", "1.5G",
 * "2GiB", "300MB" (K, M, G, T are powers of 1024, with or without "B" or
 * "iB", any case). @return 0, or -1 when s says no such number
 */
int parse_size(const char *s, uint64_t *out);

/* Peak resident set size of this process in KiB (from getrusage). */
long peak_rss_kib(void);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
