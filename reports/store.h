/* SPDX-License-Identifier: MIT */
/*
 * The report store: one directory per monitoring session,
 * <root>/memalot_report_<id>/, holding summary.msgpack (written at the
 * start) and iteration_<NNNNNN>.msgpack (one per finished iteration). Every
 * file is written atomically (an unnamed O_TMPFILE file, fsync, then linked
 * under its name): a reader never sees half a file, and a writer killed at
 * any moment leaves no temp file (but on a filesystem without O_TMPFILE, see
 * write_atomic); directories are 0700, files 0600. The format is
 * docs/report-format.md.
 *
 * The documents themselves are JSON trees (jansson), the very objects
 * `memalot attach --json` prints: msgpack is their encoding on disk. A
 * reader gets them back as json_t and renders them with reports/render.h,
 * so that `memalot print` is the live output byte for byte.
 *
 * Nothing a reader is given (an ID from the command line or an MCP client,
 * a file name in a report directory) builds a path unless it is validated:
 * IDs must match [a-z0-9]{4}-[a-z0-9]{4}, file names are taken only from the
 * fixed forms above, and files are opened relative to the directory with
 * O_NOFOLLOW.
 */
#ifndef MEMALOT_STORE_H
#define MEMALOT_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define STORE_SCHEMA_MAJOR 1
/* 1.1: leak_groups, retained sizes; 1.2: native; 1.3: function-based discovery (docs/report-format.md) */
#define STORE_SCHEMA_MINOR 3
#define STORE_SCHEMA_STRING "1.3"
#define STORE_ID_LEN 9                       /* "abcd-0123" */
#define STORE_MAX_FILE (256u << 20)           /* a bigger file is refused as corrupt */

/* Is id of the form [a-z0-9]{4}-[a-z0-9]{4}? */
bool store__valid_id(const char *id);

/* A new random ID into buf (STORE_ID_LEN + 1 bytes). */
void store__new_id(char *buf);

/*
 * The default root: $MEMALOT_REPORT_DIRECTORY when set, else
 * $HOME/.memalot/reports (or the passwd entry's home). Owned.
 */
char *store__default_dir(void);

/* ---- writing (memalot attach) ---- */

struct store_session {
	char id[STORE_ID_LEN + 1];
	char *path;    /* the session directory */
	int dirfd;
};

/*
 * Create root (and its missing parents) with mode 0700 and a new session
 * directory in it under a fresh random ID (regenerated on collision).
 * @return 0, or -errno with a message in err
 */
int store__create(const char *root, struct store_session *s, char *err, size_t errlen);

/* The same, with the ID want when no session has it yet (an ID told before the report exists). */
int store__create_id(const char *root, struct store_session *s, const char *want, char *err, size_t errlen);

/* Write summary.msgpack. @return 0 or -errno with a message in err */
int store__write_summary(struct store_session *s, const json_t *summary, char *err, size_t errlen);

/* Write iteration_<number>.msgpack (number from 1). @return 0 or -errno */
int store__write_iteration(struct store_session *s, int number, const json_t *iteration, char *err,
			   size_t errlen);

void store__close(struct store_session *s);

/* ---- reading (memalot list / print / mcp) ---- */

/* Called with a one-line message for every file that cannot be read; reading goes on. */
typedef void (*store_warn_fn)(const char *msg, void *arg);

/* One session, as `memalot list` shows it. */
struct store_entry {
	char id[STORE_ID_LEN + 1];
	json_t *summary;   /* the summary document, or NULL when unreadable */
	int iterations;    /* iteration files, up to the newest that reads back */
	json_t *last;      /* the newest readable iteration, or NULL */
	double mtime;      /* of the session directory, to sort when there is no summary */
};

/*
 * Every session under root, newest first (summary start_time, else mtime).
 * A missing root is no error: *n = 0. @return 0 or -errno (err says why)
 */
int store__list(const char *root, struct store_entry **out, size_t *n, store_warn_fn warn, void *arg,
		char *err, size_t errlen);
void store__list_free(struct store_entry *v, size_t n);

/*
 * Load session id: its summary (NULL if unreadable) and its newest
 * num_iterations iterations (0: all) as a JSON array, oldest first.
 * @return 0; -EINVAL for a malformed ID; -ENOENT for no such report;
 * another -errno (err says which file and why)
 */
int store__load(const char *root, const char *id, int num_iterations, json_t **summary, json_t **iterations,
		store_warn_fn warn, void *arg, char *err, size_t errlen);

/*
 * Decode one file's bytes: check the envelope (format name, schema major
 * version, kind) and return its document. The reader of untrusted input:
 * bounded depth and sizes. kind is "summary" or "iteration".
 * @return 0, or -EINVAL / -EPROTO with a one-line reason in err
 */
int store__decode(const void *buf, size_t len, const char *kind, json_t **doc, char *err, size_t errlen);

/* Encode doc in the envelope for kind. @return malloc'd bytes, length in *len */
void *store__encode(const json_t *doc, const char *kind, size_t *len);

#endif
