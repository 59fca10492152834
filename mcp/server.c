/* SPDX-License-Identifier: MIT */
/* memalot mcp: the saved leak reports (and, when allowed, live snapshots) for AI assistants, an MCP server on stdio. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/util.h"
#include "../reports/render.h"
#include "../reports/store.h"
#include "../cli/cli.h"
#include "../engine/options.h"

/*
 * The transport is MCP's stdio transport: JSON-RPC 2.0, one message per
 * line on stdin and stdout, stdout carrying nothing else. Every request is
 * answered before the next line is read, so answers come in request order.
 */

#define MCP_MAX_LINE (16u << 20)         /* a longer message is a parse error */
#define MCP_MAX_RESULT (4u << 20)        /* a bigger tool result or resource is cut */
#define MCP_FIT_SLACK 4096               /* room for the truncation note */
#define MCP_PAGE 100                     /* resources per resources/list page */
#define MCP_MAX_MSG 512                  /* an error message */
#define SNAPSHOT_MAX_OUT (64u << 20)     /* memalot snapshot --json output we accept */
#define SNAPSHOT_MAX_ERR (64u << 10)     /* its stderr we keep */
#define SNAPSHOT_TIMEOUT_S 600           /* then SIGTERM (it thaws the target), SIGKILL 10 s later */
#define FIT_TYPES 20                     /* type summaries kept per iteration when cutting */
#define ARG_ITEM_MAX 256                 /* longest string in a string-array argument */

/* JSON-RPC and MCP error codes */
enum {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_INTERNAL_ERROR = -32603,
	MCP_RESOURCE_NOT_FOUND = -32002,
};

/* Newest first: the answer to a client that asks for a version we do not know. */
static const char *const protocol_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26" };

#define REPORT_URI_PREFIX "memalot://reports/"

static const char mcp_usage[] =
	"usage: memalot mcp [options]\n"
	"\n"
	"Serve the saved leak reports to an AI assistant: a Model Context Protocol\n"
	"server speaking JSON-RPC on stdin and stdout, one message per line. In the\n"
	"assistant, configure the command 'memalot' with the arguments ['mcp'].\n"
	"\n"
	"tools: list_leak_reports, get_leak_report, get_object_details (read-only),\n"
	"and with --allow-attach snapshot_process and watch_process. Every saved\n"
	"report is also the\n"
	"resource memalot://reports/<id>.\n"
	"\n"
	"options:\n"
	"  --report-directory DIR  the reports to serve (default $MEMALOT_REPORT_DIRECTORY,\n"
	"                          else ~/.memalot/reports); a tool's report_directory\n"
	"                          must be DIR or a directory inside it\n"
	"  --allow-attach          offer snapshot_process, which pauses a running Python\n"
	"                          process briefly to count its objects (memalot snapshot),\n"
	"                          and watch_process, which watches one for leaks for up\n"
	"                          to 300 s (memalot attach) and saves its report in DIR\n"
	CLI_COMMON_HELP;

struct mcp_server {
	char *root;             /* the report directory served */
	bool allow_attach;
	bool out_failed;        /* stdout is gone: stop */
};

struct rpc_error {
	int code;
	char message[MCP_MAX_MSG];
	json_t *data;           /* owned; NULL for none */
};

static void rpc_fail(struct rpc_error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rpc_fail(struct rpc_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/*
 * A JSON string from text that may hold a path or a cut multi-byte character:
 * jansson refuses invalid UTF-8, so such bytes become '?'.
 */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j)
		return j;
	copy = utf8_sanitize(xstrdup(s));
	j = json_string(copy);
	free(copy);
	return j ? j : json_string("?");
}

/* Bytes of j serialized compactly. */
static size_t json_size(const json_t *j)
{
	return json_dumpb(j, NULL, 0, JSON_COMPACT);
}

static void log_store_warning(const char *msg, void *arg)
{
	(void)arg;
	log_info("mcp: %s", msg);
}

/* ------------------------------------------------------------ transport */

/* Reads stdin line by line, lines capped at MCP_MAX_LINE. */
struct line_reader {
	char *buf;
	size_t pos, scan, len, cap;   /* buf[pos..len) not returned yet, no '\n' in buf[pos..scan) */
	bool eof, skipping;           /* skipping: dropping the rest of an over-long line */
};

/*
 * The next line, without its newline and NUL-terminated, valid until the next call.
 * @return 1 with *line and *n set, 0 at end of input, -E2BIG for a line over
 *         MCP_MAX_LINE (dropped up to its newline)
 */
static int line_reader__next(struct line_reader *r, char **line, size_t *n)
{
	for (;;) {
		char *nl = r->len > r->scan ? memchr(r->buf + r->scan, '\n', r->len - r->scan) : NULL;
		ssize_t got;

		if (nl) {
			size_t end = (size_t)(nl - r->buf), start = r->pos;

			r->pos = r->scan = end + 1;
			if (r->skipping) {
				r->skipping = false;
				return -E2BIG;
			}
			*nl = '\0';
			*line = r->buf + start;
			*n = end - start;
			return 1;
		}
		r->scan = r->len;
		if (r->skipping || r->len - r->pos > MCP_MAX_LINE) {
			/* over-long: forget what we have and look for its end */
			r->skipping = true;
			r->pos = r->scan = r->len = 0;
		}
		if (r->eof) {
			if (r->skipping) {
				r->skipping = false;
				return -E2BIG;
			}
			if (r->len > r->pos) {
				/* a last line without a newline */
				*line = r->buf + r->pos;
				*n = r->len - r->pos;
				r->buf[r->len] = '\0';
				r->pos = r->scan = r->len;
				return 1;
			}
			return 0;
		}
		if (r->pos) {
			memmove(r->buf, r->buf + r->pos, r->len - r->pos);
			r->len -= r->pos;
			r->scan -= r->pos;
			r->pos = 0;
		}
		if (r->cap - r->len < 65536 + 1) {
			r->cap = MIN(MAX(r->cap * 2, (size_t)131072), (size_t)MCP_MAX_LINE + 65536 + 2);
			r->buf = xrealloc(r->buf, r->cap);
		}
		got = read(STDIN_FILENO, r->buf + r->len, r->cap - r->len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			log_err("mcp: reading stdin: %s", strerror(errno));
		if (got <= 0)
			r->eof = true;
		else
			r->len += (size_t)got;
	}
}

/* Write one message and its newline, flushed. Takes the reference to msg. */
static void send_message(struct mcp_server *s, json_t *msg)
{
	if (s->out_failed) {
		json_decref(msg);
		return;
	}
	if (json_dumpf(msg, stdout, JSON_COMPACT) || fputc('\n', stdout) == EOF || fflush(stdout)) {
		log_err("error writing standard output: %s", strerror(errno));
		/* said once, here: nothing left for main's check at exit to say again; exit 1 */
		__fpurge(stdout);
		clearerr(stdout);
		s->out_failed = true;
	}
	json_decref(msg);
}

static void send_result(struct mcp_server *s, const json_t *id, json_t *result)
{
	send_message(s, json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", (json_t *)id, "result", result));
}

/* id NULL: the request could not be read, the answer has "id": null. Takes e->data. */
static void send_error(struct mcp_server *s, const json_t *id, struct rpc_error *e)
{
	json_t *err = json_pack("{s:i, s:o}", "code", e->code, "message", jstr(e->message));

	if (e->data)
		json_object_set_new(err, "data", e->data);
	e->data = NULL;
	send_message(s, json_pack("{s:s, s:o, s:o}", "jsonrpc", "2.0", "id", id ? json_incref((json_t *)id) : json_null(),
				  "error", err));
}

/* ------------------------------------------------------------ tool arguments */

enum arg_kind { ARG_INT, ARG_STRING, ARG_STRINGS, ARG_NUMBER, ARG_BOOL };

/* One argument of a tool: its inputSchema entry and how it is checked. */
struct tool_arg {
	const char *name;
	enum arg_kind kind;
	bool required;
	/*
	 * ARG_INT: the range; ARG_STRING: the length; ARG_STRINGS: the items;
	 * ARG_NUMBER: max the largest, min 1 "above 0" or 0 "from 0"
	 */
	long long min, max;
	/* ARG_INT: the value when absent; ARG_NUMBER: its default when above 0; ARG_BOOL: its default */
	long long def;
	const char *pattern;    /* ARG_STRING: a regex for the schema (checked by the tool itself) */
	const char *description;
};

#define REPORT_DIRECTORY_ARG                                                                                   \
	{ "report_directory", ARG_STRING, false, 1, PATH_MAX, 0, NULL,                                        \
	  "directory of saved reports: the server's report directory (the default) or a directory inside it" }
#define REPORT_ID_ARG                                                                                          \
	{ "report_id", ARG_STRING, true, 1, 64, 0, "^[a-z0-9]{4}-[a-z0-9]{4}$",                               \
	  "the report's ID, as list_leak_reports gives it (e.g. 'abcd-1234')" }

static const struct tool_arg *find_arg(const struct tool_arg *args, const char *name)
{
	for (; args->name; args++)
		if (!strcmp(args->name, name))
			return args;
	return NULL;
}

static json_t *arg_schema(const struct tool_arg *a)
{
	json_t *p = json_object();

	switch (a->kind) {
	case ARG_INT:
		json_object_set_new(p, "type", json_string("integer"));
		json_object_set_new(p, "minimum", json_integer(a->min));
		json_object_set_new(p, "maximum", json_integer(a->max));
		if (!a->required)
			json_object_set_new(p, "default", json_integer(a->def));
		break;
	case ARG_STRING:
		json_object_set_new(p, "type", json_string("string"));
		json_object_set_new(p, "minLength", json_integer(a->min));
		json_object_set_new(p, "maxLength", json_integer(a->max));
		if (a->pattern)
			json_object_set_new(p, "pattern", json_string(a->pattern));
		break;
	case ARG_STRINGS:
		/* a list, or the seed's comma-separated string (anyOf: strict validators refuse type unions) */
		json_object_set_new(p, "anyOf",
				    json_pack("[{s:s, s:{s:s, s:i, s:i}, s:I}, {s:s, s:I}]", "type", "array", "items", "type",
					      "string", "minLength", 1, "maxLength", ARG_ITEM_MAX, "maxItems",
					      (json_int_t)a->max, "type", "string", "maxLength",
					      (json_int_t)a->max * (ARG_ITEM_MAX + 1)));
		break;
	case ARG_NUMBER:
		json_object_set_new(p, "type", json_string("number"));
		json_object_set_new(p, a->min ? "exclusiveMinimum" : "minimum", json_integer(0));
		json_object_set_new(p, "maximum", json_integer(a->max));
		if (a->def > 0)
			json_object_set_new(p, "default", json_integer(a->def));
		break;
	case ARG_BOOL:
		json_object_set_new(p, "type", json_string("boolean"));
		json_object_set_new(p, "default", json_boolean(a->def));
		break;
	}
	json_object_set_new(p, "description", json_string(a->description));
	return p;
}

static json_t *input_schema(const struct tool_arg *args)
{
	json_t *props = json_object(), *req = json_array();

	for (; args->name; args++) {
		json_object_set_new(props, args->name, arg_schema(args));
		if (args->required)
			json_array_append_new(req, json_string(args->name));
	}
	return json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props, "required", req,
			 "additionalProperties", 0);
}

/*
 * Check arguments against the table (what the inputSchema says, but the
 * pattern). A null counts as absent. @return 0, or -1 with a message in msg
 */
static int check_args(const char *tool, const struct tool_arg *spec, const json_t *args, char *msg, size_t len)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)args, key, v) {
		if (!find_arg(spec, key)) {
			snprintf(msg, len, "%s has no argument '%.64s'", tool, key);
			return -1;
		}
	}
	for (const struct tool_arg *a = spec; a->name; a++) {
		v = json_object_get(args, a->name);
		if (!v || json_is_null(v)) {
			if (a->required) {
				snprintf(msg, len, "%s needs the argument '%s'", tool, a->name);
				return -1;
			}
			continue;
		}
		switch (a->kind) {
		case ARG_INT:
			if (!json_is_integer(v) || json_integer_value(v) < a->min || json_integer_value(v) > a->max) {
				snprintf(msg, len, "%s: '%s' must be an integer from %lld to %lld", tool, a->name, a->min,
					 a->max);
				return -1;
			}
			break;
		case ARG_STRING:
			if (!json_is_string(v) || (long long)json_string_length(v) < a->min ||
			    (long long)json_string_length(v) > a->max) {
				snprintf(msg, len, "%s: '%s' must be a string of %lld to %lld bytes", tool, a->name,
					 a->min, a->max);
				return -1;
			}
			break;
		case ARG_STRINGS: {
			size_t i;
			json_t *item;

			if (!json_is_array(v) || (long long)json_array_size(v) > a->max) {
				snprintf(msg, len, "%s: '%s' must be an array of at most %lld strings", tool, a->name,
					 a->max);
				return -1;
			}
			json_array_foreach(v, i, item) {
				if (!json_is_string(item) || !json_string_length(item) ||
				    json_string_length(item) > ARG_ITEM_MAX) {
					snprintf(msg, len, "%s: every item of '%s' must be a string of 1 to %d bytes",
						 tool, a->name, ARG_ITEM_MAX);
					return -1;
				}
			}
			break;
		}
		case ARG_NUMBER:
			if (!json_is_number(v) || !(json_number_value(v) > 0 || (!a->min && json_number_value(v) == 0)) ||
			    json_number_value(v) > (double)a->max) {
				snprintf(msg, len, "%s: '%s' must be a number %s 0 to %lld", tool, a->name,
					 a->min ? "above" : "from", a->max);
				return -1;
			}
			break;
		case ARG_BOOL:
			if (!json_is_boolean(v)) {
				snprintf(msg, len, "%s: '%s' must be true or false", tool, a->name);
				return -1;
			}
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ reading reports */

/* Is the canonical path p root itself or inside it? */
static bool path_within(const char *p, const char *root)
{
	size_t n = strlen(root);

	if (strncmp(p, root, n))
		return false;
	return p[n] == '\0' || p[n] == '/' || (n == 1 && root[0] == '/');
}

/*
 * The directory a tool reads: the server's, or the tool's report_directory
 * when that resolves (symbolic links and '..' followed) to the server's
 * directory or a directory inside it, so that no argument reads elsewhere.
 * @return the directory (the caller owns it), or NULL with a message in msg
 */
static char *report_dir(const struct mcp_server *s, const json_t *args, char *msg, size_t len)
{
	const char *want = json_string_value(json_object_get(args, "report_directory"));
	char *real, *root_real;

	if (!want || !strcmp(want, s->root))
		return xstrdup(s->root);
	real = realpath(want, NULL);
	if (!real) {
		snprintf(msg, len, "report directory '%.200s': %s", want, strerror(errno));
		return NULL;
	}
	root_real = realpath(s->root, NULL);
	if (!root_real || !path_within(real, root_real)) {
		snprintf(msg, len,
			 "report directory '%.200s' is outside the directory this server reads (%.200s); "
			 "start 'memalot mcp --report-directory DIR' to read another",
			 want, s->root);
		free(real);
		free(root_real);
		return NULL;
	}
	free(root_real);
	return real;
}

/* Load a report for a tool. @return 0, or -1 with a message in msg */
static int load_report(const char *dir, const char *id, int num_iterations, json_t **summary, json_t **iterations,
		       char *msg, size_t len)
{
	int ret;

	*summary = *iterations = NULL;
	if (!store__valid_id(id)) {
		snprintf(msg, len, "'%.64s' is not a report ID (they look like abcd-1234; list_leak_reports lists them)",
			 id);
		return -1;
	}
	ret = store__load(dir, id, num_iterations, summary, iterations, log_store_warning, NULL, msg, len);
	if (ret) {
		json_decref(*summary);
		json_decref(*iterations);
		*summary = *iterations = NULL;
		return -1;
	}
	return 0;
}

/* Does name contain one of the filters (a JSON array of strings)? */
static bool type_matches(const char *name, const json_t *filters)
{
	size_t i;
	json_t *f;

	if (!name)
		return false;
	json_array_foreach(filters, i, f)
		if (strcasestr(name, json_string_value(f))) /* any case, as the seed */
			return true;
	return false;
}

/* Keep the entries of array whose member key matches filters. */
static void filter_array(json_t *array, const char *key, const json_t *filters)
{
	for (size_t i = json_array_size(array); i-- > 0;)
		if (!type_matches(json_string_value(json_object_get(json_array_get(array, i), key)), filters))
			json_array_remove(array, i);
}

/* Keep the leak groups of an iteration that hold a type matching filters (whole, as memalot print does). */
static void filter_groups(json_t *it, const json_t *filters)
{
	json_t *groups = json_object_get(it, "leak_groups");

	if (!json_is_array(groups))
		return;
	for (size_t i = json_array_size(groups); i-- > 0;) {
		const json_t *t;
		bool wanted = false;
		size_t k;

		json_array_foreach(json_object_get(json_array_get(groups, i), "types"), k, t)
			wanted = wanted || type_matches(json_string_value(json_object_get(t, "object_type")), filters);
		if (!wanted)
			json_array_remove(groups, i);
	}
	if (json_is_integer(json_object_get(it, "total_leak_groups")))
		json_object_set_new(it, "total_leak_groups", json_integer((json_int_t)json_array_size(groups)));
}

/* Set the members of obj named in keys that it lacks to null. */
static void null_if_absent(json_t *obj, const char *const *keys)
{
	for (; json_is_object(obj) && *keys; keys++)
		if (!json_object_get(obj, *keys))
			json_object_set_new(obj, *keys, json_null());
}

/* The members of schema 1.1 an older report's object details lack: null. */
static void fill_details_1_1(json_t *d)
{
	static const char *const keys[] = { "retained_size_bytes", "deep_size_complete", "deep_size_objects", NULL };

	null_if_absent(d, keys);
}

/*
 * The members of schema 1.1 and 1.2 that a report written before them lacks
 * (leak groups, retained and bounded deep sizes, native figures): null, so that every member the
 * output schema requires is there and says "not known".
 */
static void fill_schema_1_1(json_t *it)
{
	static const char *const it_keys[] = { "leak_groups", "total_leak_groups", "native", "native_growth",
					       "native_window_growth", NULL };
	json_t *d;
	size_t i;

	null_if_absent(it, it_keys);
	json_array_foreach(json_object_get(it, "object_details_list"), i, d)
		fill_details_1_1(d);
}

static void set_truncated(json_t *res, const char *note)
{
	json_object_set_new(res, "truncated", json_true());
	json_object_set_new(res, "note", jstr(note));
}

/*
 * Cut a report (report_id, summary, iterations oldest first) to at most cap
 * bytes: first the object details, oldest iterations first so that the newest
 * keeps its own longest, then the type summaries past the first FIT_TYPES, then
 * the oldest iterations. What was cut is said in "note".
 */
static void fit_report(json_t *res, size_t cap)
{
	json_t *iters = json_object_get(res, "iterations"), *it;
	size_t size = json_size(res), n = json_array_size(iters), details = 0, types = 0, dropped = 0;
	char note[MCP_MAX_MSG];

	if (size <= cap)
		return;
	for (size_t i = 0; i < n && size > cap; i++) {
		json_t *d = json_object_get(json_array_get(iters, i), "object_details_list");

		if (!json_array_size(d))
			continue;
		size -= json_size(d) - 2;
		details += json_array_size(d);
		json_array_clear(d);
	}
	for (size_t i = 0; i < n && size > cap; i++) {
		json_t *ts = json_object_get(json_object_get(json_array_get(iters, i), "leak_summary"), "type_summaries");

		while (json_array_size(ts) > FIT_TYPES) {
			size -= json_size(json_array_get(ts, json_array_size(ts) - 1)) + 1;
			json_array_remove(ts, json_array_size(ts) - 1);
			types++;
		}
	}
	while (size > cap && (it = json_array_get(iters, 0))) {
		size -= json_size(it) + 1;
		json_array_remove(iters, 0);
		dropped++;
	}
	snprintf(note, sizeof(note),
		 "the report is larger than %u MiB: left out %zu object details, %zu type summaries and the %zu "
		 "oldest iterations; ask for fewer iterations, or filter_types, or get_object_details for one object",
		 MCP_MAX_RESULT >> 20, details, types, dropped);
	set_truncated(res, note);
}

/* Cut the array res[key] from its end until res fits in cap bytes. @return how many went */
static size_t fit_array_tail(json_t *res, const char *key, size_t cap)
{
	json_t *a = json_object_get(res, key);
	size_t size = json_size(res), dropped = 0;

	while (size > cap && json_array_size(a)) {
		size -= json_size(json_array_get(a, json_array_size(a) - 1)) + 1;
		json_array_remove(a, json_array_size(a) - 1);
		dropped++;
	}
	return dropped;
}

/* ------------------------------------------------------------ tools */

struct tool {
	const char *name, *title, *description;
	const struct tool_arg *args;   /* ends with a NULL name */
	const char *output_schema;     /* JSON */
	bool needs_attach;             /* offered with --allow-attach only */
	/* @return the structured result, or NULL with a message in msg (an isError result) */
	json_t *(*fn)(const struct mcp_server *s, const struct tool *t, const json_t *args, char *msg, size_t len);
};

static long long arg_int(const struct tool *t, const json_t *args, const char *name)
{
	const json_t *v = json_object_get(args, name);

	return json_is_integer(v) ? json_integer_value(v) : find_arg(t->args, name)->def;
}

static json_t *tool_list_reports(const struct mcp_server *s, const struct tool *t, const json_t *args, char *msg,
				 size_t len)
{
	size_t n, want = (size_t)arg_int(t, args, "num_reports");
	struct store_entry *v;
	char *dir = report_dir(s, args, msg, len);
	json_t *res, *reports;

	if (!dir)
		return NULL;
	if (store__list(dir, &v, &n, log_store_warning, NULL, msg, len)) {
		free(dir);
		return NULL;
	}
	reports = json_array();
	for (size_t i = 0; i < n && i < want; i++) {
		json_t *r = json_object(), *x;
		const json_t *sum = v[i].summary;

		/* what the summary or the last iteration does not tell (unreadable, none yet) is null */
		json_object_set_new(r, "report_id", json_string(v[i].id));
		x = json_object_get(sum, "start_time");
		json_object_set_new(r, "start_time", json_is_string(x) ? json_incref(x) : json_null());
		x = json_object_get(sum, "pid");
		json_object_set_new(r, "pid", json_is_integer(x) ? json_incref(x) : json_null());
		x = json_object_get(sum, "command");
		json_object_set_new(r, "command", json_is_string(x) ? json_incref(x) : json_null());
		json_object_set_new(r, "iterations", json_integer(v[i].iterations));
		x = json_object_get(json_object_get(v[i].last, "leak_summary"), "total_objects");
		json_object_set_new(r, "leaked_objects",
				    json_is_integer(x) ? json_integer(render__alive_leaks(v[i].last)) : json_null());
		json_array_append_new(reports, r);
	}
	res = json_pack("{s:o, s:I, s:o}", "reports", reports, "total_reports", (json_int_t)n, "report_directory",
			jstr(dir));
	if (fit_array_tail(res, "reports", MCP_MAX_RESULT - MCP_FIT_SLACK))
		set_truncated(res, "the list is too long: ask for fewer reports");
	store__list_free(v, n);
	free(dir);
	return res;
}

static json_t *tool_get_report(const struct mcp_server *s, const struct tool *t, const json_t *args, char *msg,
			       size_t len)
{
	const char *id = json_string_value(json_object_get(args, "report_id"));
	const json_t *filters = json_object_get(args, "filter_types");
	char *dir = report_dir(s, args, msg, len);
	json_t *summary, *iters, *res, *it;
	size_t i;

	if (!dir)
		return NULL;
	if (load_report(dir, id, (int)arg_int(t, args, "num_iterations"), &summary, &iters, msg, len)) {
		free(dir);
		return NULL;
	}
	free(dir);
	json_array_foreach(iters, i, it)
		fill_schema_1_1(it);
	if (json_array_size(filters)) {
		json_array_foreach(iters, i, it) {
			filter_array(json_object_get(json_object_get(it, "leak_summary"), "type_summaries"),
				     "object_type", filters);
			filter_array(json_object_get(it, "object_details_list"), "object_type_name", filters);
			filter_groups(it, filters);
		}
	}
	/* an unreadable summary is null: the output schema requires the member */
	res = json_pack("{s:s, s:o, s:o}", "report_id", id, "summary", summary ? summary : json_null(), "iterations",
			iters);
	if (json_array_size(filters))
		json_object_set(res, "filter_types", (json_t *)filters);
	fit_report(res, MCP_MAX_RESULT - MCP_FIT_SLACK);
	return res;
}

static json_t *tool_get_object(const struct mcp_server *s, const struct tool *t, const json_t *args, char *msg,
			       size_t len)
{
	const char *id = json_string_value(json_object_get(args, "report_id"));
	long long number = arg_int(t, args, "iteration"), addr = arg_int(t, args, "object_id");
	char *dir = report_dir(s, args, msg, len);
	json_t *summary, *iters, *it = NULL, *list, *d = NULL, *res = NULL;
	size_t i, k;

	if (!dir)
		return NULL;
	if (load_report(dir, id, 0, &summary, &iters, msg, len)) {
		free(dir);
		return NULL;
	}
	free(dir);
	json_array_foreach(iters, i, it)
		if (json_integer_value(json_object_get(it, "iteration_number")) == number)
			break;
	if (i == json_array_size(iters)) {
		snprintf(msg, len, "report %s has no iteration %lld (it has %zu)", id, number, json_array_size(iters));
		goto out;
	}
	list = json_object_get(it, "object_details_list");
	json_array_foreach(list, k, d)
		if (json_integer_value(json_object_get(d, "object_id")) == addr)
			break;
	if (k == json_array_size(list)) {
		snprintf(msg, len,
			 "iteration %lld of report %s has no details for object %lld (details are kept for a few "
			 "objects per iteration: get_leak_report lists them)",
			 number, id, addr);
		goto out;
	}
	res = json_object();
	json_object_update(res, d);
	fill_details_1_1(res);
	json_object_set_new(res, "report_id", json_string(id));
	json_object_set_new(res, "iteration", json_integer((json_int_t)number));
	if (json_size(res) > MCP_MAX_RESULT - MCP_FIT_SLACK) {
		json_object_set_new(res, "referrer_graph", json_null());
		set_truncated(res, "the referrer graph is too large to send and was left out");
	}
out:
	json_decref(summary);
	json_decref(iters);
	return res;
}

/* The last non-empty line of text, into line. */
static void last_line(const char *text, char *line, size_t len)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(line, len, "%.*s", (int)MIN((size_t)(end - start), len - 1), start);
}

/*
 * Run argv (argv[0] a path) with stdin from /dev/null; collect stdout (up to
 * SNAPSHOT_MAX_OUT) and stderr (the first SNAPSHOT_MAX_ERR bytes).
 * @return its exit status (128+signal when killed), or -errno with a message in msg
 */
static int run_child(char *const argv[], int timeout_s, char **out, char **err, char *msg, size_t len)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, st = 0, ret = 0, open_fds = 2;
	size_t olen = 0, ocap = 0, elen = 0, ecap = 0;
	char *obuf = NULL, *ebuf = NULL;
	time_t deadline = time(NULL) + timeout_s;
	bool killed = false, too_big = false;
	struct pollfd p[2];
	pid_t pid;

	*out = *err = NULL;
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		ret = -errno;
		snprintf(msg, len, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		snprintf(msg, len, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		/* never the MCP channel: the child's stdin is /dev/null, its stdout ours to read */
		if (null < 0 || dup2(null, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		dprintf(2, "memalot: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	p[0] = (struct pollfd){ .fd = po[0], .events = POLLIN };
	p[1] = (struct pollfd){ .fd = pe[0], .events = POLLIN };
	while (open_fds) {
		time_t now = time(NULL);
		int n;

		if (now >= deadline) {
			if (killed)
				break;
			/* memalot thaws the target on SIGTERM; SIGKILL if it will not go */
			log_err("mcp: memalot %s took over %d s: stopping it", argv[1], timeout_s);
			kill(pid, SIGTERM);
			killed = true;
			deadline = now + 10;
		}
		n = poll(p, 2, (int)(deadline - now) * 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < 2; i++) {
			char **buf = i ? &ebuf : &obuf;
			size_t *l = i ? &elen : &olen, *c = i ? &ecap : &ocap;
			size_t limit = i ? SNAPSHOT_MAX_ERR : SNAPSHOT_MAX_OUT;
			char chunk[65536];
			ssize_t got;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			got = read(p[i].fd, chunk, sizeof(chunk));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			if (*l + (size_t)got > limit) {
				if (!i && !too_big) {
					too_big = killed = true;
					kill(pid, SIGTERM);
					deadline = time(NULL) + 10;
				}
				got = (ssize_t)(limit - *l);
			}
			if (*l + (size_t)got + 1 > *c) {
				*c = MAX(*c * 2, *l + (size_t)got + 1);
				*buf = xrealloc(*buf, *c);
			}
			memcpy(*buf + *l, chunk, (size_t)got);
			*l += (size_t)got;
			(*buf)[*l] = '\0';
		}
	}
	if (open_fds)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			st = 0;
			break;
		}
	if (killed || too_big) {
		ret = -ETIMEDOUT;
		if (too_big)
			snprintf(msg, len, "memalot %s printed more than %u MiB", argv[1], SNAPSHOT_MAX_OUT >> 20);
		else
			snprintf(msg, len, "memalot %s took longer than %d s and was stopped", argv[1], timeout_s);
		goto out;
	}
	ret = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (ret < 0) {
		free(obuf);
		free(ebuf);
		return ret;
	}
	*out = obuf ? obuf : xstrdup("");
	*err = ebuf ? ebuf : xstrdup("");
	return ret;
}

static json_t *tool_snapshot(const struct mcp_server *s, const struct tool *t, const json_t *args, char *msg,
			     size_t len)
{
	const char *why = json_string_value(json_object_get(args, "why"));
	char pid[24], *whyarg = NULL, *out, *err, line[MCP_MAX_MSG - 64];
	char *argv[] = { "/proc/self/exe", "snapshot", "--json", "--", pid, NULL, NULL };
	json_error_t jerr;
	json_t *res;
	int status;

	(void)s;
	snprintf(pid, sizeof(pid), "%lld", arg_int(t, args, "pid"));
	if (why) {
		/* --why=TYPE: a TYPE that starts with '-' stays an argument */
		whyarg = xasprintf("--why=%s", why);
		argv[3] = whyarg;
		argv[4] = "--";
		argv[5] = pid;
	}
	log_info("mcp: snapshot of pid %s%s%s", pid, why ? ", why " : "", why ? why : "");
	status = run_child(argv, SNAPSHOT_TIMEOUT_S, &out, &err, msg, len);
	free(whyarg);
	if (status < 0)
		return NULL;
	res = json_loadb(out, strlen(out), JSON_REJECT_DUPLICATES, &jerr);
	if ((status != EXIT_OK && status != EXIT_PARTIAL) || !json_is_object(res)) {
		last_line(err, line, sizeof(line));
		if (status == EXIT_OK || status == EXIT_PARTIAL)
			snprintf(msg, len, "memalot snapshot printed no JSON object: %s", jerr.text);
		else
			snprintf(msg, len, "memalot snapshot of pid %s failed (exit %d): %s", pid, status,
				 line[0] ? line : "no message");
		json_decref(res);
		res = NULL;
	} else if (json_size(res) > MCP_MAX_RESULT - MCP_FIT_SLACK) {
		size_t details = fit_array_tail(res, "object_details", MCP_MAX_RESULT - MCP_FIT_SLACK);
		size_t types = fit_array_tail(res, "types", MCP_MAX_RESULT - MCP_FIT_SLACK);
		char note[MCP_MAX_MSG];

		snprintf(note, sizeof(note),
			 "the snapshot is larger than %u MiB: left out %zu object details and the %zu least common types",
			 MCP_MAX_RESULT >> 20, details, types);
		set_truncated(res, note);
	}
	free(out);
	free(err);
	return res;
}

/* ------------------------------------------------------------ watch_process */

#define WATCH_MAX_S 300 /* the longest watch: MCP clients time out calls */

/* The seed's options a watch takes: every monitoring option of the table but where reports go. */
static bool watch_takes(const struct option_def *d)
{
	static const char *const not_here[] = { "report_directory", "tee_console", "color", "force_terminal",
						 "max_object_age_calls", "warmup_calls" };

	if (!d->seed || !(d->cmds & OPTS_ATTACH) || d->type == OPT_PATH || d->type == OPT_ACCEPTED)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(not_here); i++)
		if (!strcmp(d->seed, not_here[i]))
			return false;
	return true;
}

/*
 * watch_process's arguments: pid, duration, then the seed's options made
 * from the engine's option table (engine/option_table.c), with its names,
 * bounds and defaults, as the Python package's keywords are.
 */
static struct tool_arg watch_args[OPTIONS_MAX + 3];

static void watch_args_init(void)
{
	static char descr[OPTIONS_MAX][256];
	size_t n = 0, ntable;
	const struct option_def *table = options__table(&ntable);

	if (watch_args[0].name)
		return;
	watch_args[n++] = (struct tool_arg){ "pid", ARG_INT, true, 1, INT_MAX, 0, NULL,
					     "the process ID of a running CPython program" };
	watch_args[n++] = (struct tool_arg){ "duration", ARG_NUMBER, false, 1, WATCH_MAX_S, 0, NULL,
					     "seconds to watch (default: long enough for one report after the "
					     "warm-up: warm-up + lifetime + 2 s, at most 300)" };
	for (size_t i = 0; i < ntable && n < ARRAY_SIZE(watch_args) - 1; i++) {
		const struct option_def *d = &table[i];
		struct tool_arg a = { d->seed, ARG_INT, false, 0, 0, 0, NULL, descr[i] };

		if (!watch_takes(d))
			continue;
		snprintf(descr[i], sizeof(descr[i]), "%s%s%s%s (memalot attach --%s)", d->seed_negates ? "false: " : "",
			 d->help, d->dflt ? "; default " : "", d->dflt ? d->dflt : "", d->name);
		switch (d->type) {
		case OPT_SECONDS:
		case OPT_SECONDS0:
			a.kind = ARG_NUMBER;
			a.min = d->type == OPT_SECONDS;
			a.max = 315360000; /* ten years, as the command line */
			a.def = d->dflt ? atoll(d->dflt) : 0;
			break;
		case OPT_COUNT:
		case OPT_COUNT0:
		case OPT_BYTES:
			a.min = d->type == OPT_COUNT;
			a.max = d->max;
			a.def = d->dflt ? atoll(d->dflt) : 0;
			break;
		case OPT_FLAG:
			a.kind = ARG_BOOL;
			a.def = d->seed_negates; /* check_referrers=true is the flag's absence */
			break;
		case OPT_WORDS:
			a.kind = ARG_STRINGS;
			a.max = 64;
			break;
		default:
			continue;
		}
		watch_args[n++] = a;
	}
	watch_args[n] = (struct tool_arg){ 0 };
}

static json_t *tool_watch(const struct mcp_server *s, const struct tool *t, const json_t *args, char *msg,
			  size_t len)
{
	size_t ntable, nargv = 0;
	const struct option_def *table = options__table(&ntable);
	char **argv = xcalloc(8 + 4 * OPTIONS_MAX + 64 * 2, sizeof(*argv)), *out, *err, line[MCP_MAX_MSG - 64];
	const json_t *v;
	double lifetime = 60, warmup = -1, duration;
	json_t *res = NULL, *iters = json_array();
	int status;
	const char *p;

	(void)t;
	argv[nargv++] = xstrdup("/proc/self/exe");
	argv[nargv++] = xstrdup("attach");
	argv[nargv++] = xstrdup("--json");
	argv[nargv++] = xasprintf("--report-directory=%s", s->root); /* saved where this server reads */
	for (size_t i = 0; i < ntable; i++) {
		const struct option_def *d = &table[i];

		if (!watch_takes(d) || !(v = json_object_get(args, d->seed)) || json_is_null(v))
			continue;
		if (json_is_boolean(v)) {
			if (json_is_true(v) != d->seed_negates)
				argv[nargv++] = xasprintf("--%s", d->name);
		} else if (json_is_array(v)) {
			size_t k;
			json_t *item;

			json_array_foreach(v, k, item)
				argv[nargv++] = xasprintf("--%s=%s", d->name, json_string_value(item));
		} else if (json_is_integer(v)) {
			argv[nargv++] = xasprintf("--%s=%lld", d->name, (long long)json_integer_value(v));
		} else {
			argv[nargv++] = xasprintf("--%s=%.17g", d->name, json_number_value(v));
			if (!strcmp(d->seed, "max_object_lifetime"))
				lifetime = json_number_value(v);
			else if (!strcmp(d->seed, "warmup_period"))
				warmup = json_number_value(v);
		}
	}
	v = json_object_get(args, "duration");
	duration = json_is_number(v) ? json_number_value(v) : MIN((double)WATCH_MAX_S,
								   (warmup < 0 ? lifetime : warmup) + lifetime + 2);
	argv[nargv++] = xasprintf("--duration=%.17g", duration);
	argv[nargv++] = xstrdup("--");
	argv[nargv++] = xasprintf("%lld", arg_int(t, args, "pid"));
	log_info("mcp: watching pid %s for %g s", argv[nargv - 1], duration);
	status = run_child(argv, (int)duration + 60, &out, &err, msg, len);
	if (status < 0)
		goto done;
	/* one JSON report per line */
	for (p = out; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		json_t *it = n ? json_loadb(p, n, JSON_REJECT_DUPLICATES, NULL) : NULL;

		if (json_is_object(it))
			json_array_append_new(iters, it);
		else
			json_decref(it);
		p += n + (nl != NULL);
	}
	last_line(err, line, sizeof(line));
	if (status != EXIT_OK && !json_array_size(iters)) {
		snprintf(msg, len, "memalot attach %s failed (exit %d): %s", argv[nargv - 1], status,
			 line[0] ? line : "no message");
		goto done;
	}
	res = json_pack("{s:I, s:i, s:O, s:s}", "pid", (json_int_t)arg_int(t, args, "pid"), "exit_code", status,
			"iterations", iters, "messages", err);
	v = json_array_size(iters) ? json_object_get(json_array_get(iters, 0), "report_id") : NULL;
	json_object_set_new(res, "report_id", json_is_string(v) ? json_incref((json_t *)v) : json_null());
	if (json_size(res) > MCP_MAX_RESULT - MCP_FIT_SLACK) {
		size_t cut = 0;

		while (json_array_size(iters) > 1 && json_size(res) > MCP_MAX_RESULT - MCP_FIT_SLACK) {
			json_array_remove(iters, 0);
			cut++;
		}
		snprintf(line, sizeof(line), "left out the %zu oldest iterations (get_leak_report has them)", cut);
		set_truncated(res, line);
	}
done:
	if (status >= 0) {
		free(out);
		free(err);
	}
	json_decref(iters);
	for (size_t i = 0; i < nargv; i++)
		free(argv[i]);
	free(argv);
	return res;
}

static const struct tool_arg list_args[] = {
	{ "num_reports", ARG_INT, false, 1, 1000, 5, NULL, "how many reports to list, newest first" },
	REPORT_DIRECTORY_ARG,
	{ 0 },
};

static const struct tool_arg get_args[] = {
	REPORT_ID_ARG,
	{ "num_iterations", ARG_INT, false, 0, 100000, 1, NULL,
	  "how many of the newest iterations to return (0: all)" },
	REPORT_DIRECTORY_ARG,
	{ "filter_types", ARG_STRINGS, false, 0, 64, 0, NULL,
	  "keep only the types whose fully-qualified name contains one of these strings (e.g. 'builtins.dict', "
	  "'myapp.')" },
	{ 0 },
};

static const struct tool_arg object_args[] = {
	REPORT_ID_ARG,
	{ "iteration", ARG_INT, true, 1, INT_MAX, 0, NULL, "the iteration_number of the iteration" },
	{ "object_id", ARG_INT, true, 1, (1LL << 53) - 1, 0, NULL,
	  "the object's object_id (its address) from the iteration's object_details_list" },
	REPORT_DIRECTORY_ARG,
	{ 0 },
};

static const struct tool_arg snapshot_args[] = {
	{ "pid", ARG_INT, true, 1, INT_MAX, 0, NULL, "the process ID of a running CPython program" },
	{ "why", ARG_STRING, false, 1, 256, 0, NULL,
	  "also explain why the objects of every type whose fully-qualified name contains this are alive: "
	  "details and referrer graphs" },
	{ 0 },
};

/*
 * Output schemas: what every result of the tool matches ("truncated" and "note" when it was cut).
 * Every member the README promises is required; one that a report does not
 * tell (an unreadable summary, no finished iteration yet) is null, not absent.
 * The saved documents are those of docs/report-format.md, where every field
 * of schema 1.0 is always written.
 */
#define TRUNCATION_PROPS "\"truncated\": {\"type\": \"boolean\"}, \"note\": {\"type\": \"string\"}"

static const char list_output[] =
	"{\"type\": \"object\", \"properties\": {"
	"  \"reports\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
	"    \"report_id\": {\"type\": \"string\"}, \"start_time\": {\"type\": [\"string\", \"null\"]},"
	"    \"pid\": {\"type\": [\"integer\", \"null\"]}, \"command\": {\"type\": [\"string\", \"null\"]},"
	"    \"iterations\": {\"type\": \"integer\"}, \"leaked_objects\": {\"type\": [\"integer\", \"null\"]}},"
	"    \"required\": [\"report_id\", \"start_time\", \"pid\", \"command\", \"iterations\", \"leaked_objects\"]}},"
	"  \"total_reports\": {\"type\": \"integer\"}, \"report_directory\": {\"type\": \"string\"}, "
	TRUNCATION_PROPS "},"
	" \"required\": [\"reports\", \"total_reports\", \"report_directory\"]}";

/* One entry of object_details_list (and of snapshot --why's object_details): its properties, then its required list. */
#define OBJECT_DETAILS_PROPS                                                                                   \
	"\"object_type_name\": {\"type\": \"string\"}, \"object_id\": {\"type\": \"integer\"},"              \
	"\"object_str\": {\"type\": \"string\"}, \"shallow_size_bytes\": {\"type\": \"integer\"},"           \
	"\"deep_size_bytes\": {\"type\": \"integer\"}, \"referrers_checked\": {\"type\": \"boolean\"},"      \
	"\"deep_size_complete\": {\"type\": [\"boolean\", \"null\"]},"                                       \
	"\"deep_size_objects\": {\"type\": [\"integer\", \"null\"]},"                                        \
	"\"retained_size_bytes\": {\"type\": [\"integer\", \"null\"]},"                                      \
	"\"referrer_graph\": {\"anyOf\": [{\"type\": \"null\"}, {\"type\": \"object\", \"properties\": {"      \
	"  \"target_ids\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}},"                       \
	"  \"root_ids\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}},"                         \
	"  \"graph_nodes\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"        \
	"    \"id\": {\"type\": \"integer\"}, \"name\": {\"type\": \"string\"},"                              \
	"    \"object_id\": {\"type\": [\"integer\", \"null\"]},"                                             \
	"    \"referent_ids\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}},"                    \
	"    \"kind\": {\"type\": \"string\"}},"                                                              \
	"    \"required\": [\"id\", \"name\", \"object_id\", \"referent_ids\"]}},"                            \
	"  \"stopped_by_limit\": {\"type\": \"boolean\"}},"                                                   \
	"  \"required\": [\"target_ids\", \"root_ids\", \"graph_nodes\", \"stopped_by_limit\"]}]}"
#define OBJECT_DETAILS_REQUIRED                                                                                \
	"\"object_type_name\", \"object_id\", \"object_str\", \"shallow_size_bytes\", \"deep_size_bytes\","   \
	"\"deep_size_complete\", \"deep_size_objects\", \"retained_size_bytes\","                             \
	"\"referrers_checked\", \"referrer_graph\""

/* One entry of leak_groups (attach's iterations, snapshot --why). */
/* An iteration's native figures and their growth (schema 1.2; null in older reports or when /proc was not read). */
#define NATIVE_PROPS \
	"\"rss_bytes\": {\"type\": \"integer\"}, \"uss_bytes\": {\"type\": \"integer\"}," \
	"\"pss_bytes\": {\"type\": \"integer\"}, \"anon_bytes\": {\"type\": \"integer\"}," \
	"\"heap_bytes\": {\"type\": \"integer\"}, \"swap_bytes\": {\"type\": \"integer\"}," \
	"\"fds\": {\"type\": \"integer\"}, \"threads\": {\"type\": \"integer\"}," \
	"\"python_object_bytes\": {\"type\": \"integer\"}"
#define NATIVE_REQUIRED \
	"\"rss_bytes\", \"uss_bytes\", \"pss_bytes\", \"anon_bytes\", \"heap_bytes\", \"swap_bytes\", \"fds\", " \
	"\"threads\", \"python_object_bytes\""
#define NATIVE_OBJECT \
	"{\"type\": [\"object\", \"null\"], \"properties\": {" NATIVE_PROPS "}, \"required\": [" NATIVE_REQUIRED "]}"
#define NATIVE_WINDOW_OBJECT \
	"{\"type\": [\"object\", \"null\"], \"properties\": {" NATIVE_PROPS \
	", \"unexplained_bytes\": {\"type\": \"integer\"}}, \"required\": [" NATIVE_REQUIRED ", \"unexplained_bytes\"]}"
#define NATIVE_GROWTH_OBJECT \
	"{\"type\": [\"object\", \"null\"], \"properties\": {" NATIVE_PROPS \
	", \"unexplained_bytes\": {\"type\": \"integer\"}, \"total_new_fds\": {\"type\": \"integer\"}," \
	" \"new_fds\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {" \
	"  \"fd\": {\"type\": \"integer\"}, \"target\": {\"type\": \"string\"}}, \"required\": [\"fd\", \"target\"]}}}," \
	" \"required\": [" NATIVE_REQUIRED ", \"unexplained_bytes\", \"new_fds\", \"total_new_fds\"]}"

#define LEAK_GROUP_ITEM                                                                                        \
	"{\"type\": \"object\", \"properties\": {"                                                            \
	"  \"root\": {\"type\": \"string\"}, \"root_kind\": {\"type\": \"string\"},"                      \
	"  \"path\": {\"type\": \"string\"}, \"object_count\": {\"type\": \"integer\"},"                  \
	"  \"retained_size_bytes\": {\"type\": \"integer\"}, \"retained_size_exact\": {\"type\": \"boolean\"}," \
	"  \"types\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"         \
	"    \"object_type\": {\"type\": \"string\"}, \"count\": {\"type\": \"integer\"}},"               \
	"    \"required\": [\"object_type\", \"count\"]}},"                                                   \
	"  \"total_types\": {\"type\": \"integer\"}},"                                                        \
	"  \"required\": [\"root\", \"root_kind\", \"path\", \"object_count\", \"retained_size_bytes\","     \
	"    \"retained_size_exact\", \"types\", \"total_types\"]}"

static const char report_output[] =
	"{\"type\": \"object\", \"properties\": {"
	"  \"report_id\": {\"type\": \"string\"},"
	"  \"summary\": {\"anyOf\": [{\"type\": \"null\"}, {\"type\": \"object\", \"properties\": {"
	"    \"report_id\": {\"type\": \"string\"}, \"pid\": {\"type\": \"integer\"},"
	"    \"command\": {\"type\": \"string\"}, \"executable\": {\"type\": \"string\"},"
	"    \"python_version\": {\"type\": \"string\"}, \"host_name\": {\"type\": \"string\"},"
	"    \"start_time\": {\"type\": \"string\"}, \"memalot_version\": {\"type\": \"string\"},"
	"    \"max_object_lifetime\": {\"type\": [\"number\", \"null\"]},"
	"    \"check_interval\": {\"type\": [\"number\", \"null\"]},"
	"    \"warmup_time\": {\"type\": [\"number\", \"null\"]}, \"schema_version\": {\"type\": \"string\"},"
	"    \"discovery\": {\"type\": \"string\"},"
	"    \"max_object_age_calls\": {\"type\": [\"integer\", \"null\"]},"
	"    \"warmup_calls\": {\"type\": [\"integer\", \"null\"]}},"
	"    \"required\": [\"report_id\", \"pid\", \"command\", \"executable\", \"python_version\", \"host_name\","
	"      \"start_time\", \"memalot_version\", \"max_object_lifetime\", \"check_interval\", \"warmup_time\","
	"      \"schema_version\"]}]},"
	"  \"iterations\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
	"    \"report_id\": {\"type\": \"string\"}, \"iteration_number\": {\"type\": \"integer\"},"
	"    \"pid\": {\"type\": \"integer\"}, \"command\": {\"type\": \"string\"},"
	"    \"start_time\": {\"type\": \"string\"}, \"end_time\": {\"type\": \"string\"},"
	"    \"max_object_lifetime\": {\"type\": [\"number\", \"null\"]}, \"warmup_report\": {\"type\": \"boolean\"},"
	"    \"max_object_age_calls\": {\"type\": \"integer\"}, \"call_number\": {\"type\": \"integer\"},"
	"    \"memory_usage\": {\"type\": \"object\", \"properties\": {"
	"      \"rss_bytes\": {\"type\": \"integer\"}, \"peak_rss_bytes\": {\"type\": \"integer\"},"
	"      \"rss_change_bytes\": {\"type\": \"integer\"}, \"peak_rss_change_bytes\": {\"type\": \"integer\"}},"
	"      \"required\": [\"rss_bytes\", \"peak_rss_bytes\", \"rss_change_bytes\", \"peak_rss_change_bytes\"]},"
	"    \"leak_summary\": {\"type\": \"object\", \"properties\": {"
	"      \"type_summaries\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
	"        \"object_type\": {\"type\": \"string\"}, \"count\": {\"type\": \"integer\"},"
	"        \"shallow_size_bytes\": {\"type\": [\"integer\", \"null\"]}},"
	"        \"required\": [\"object_type\", \"count\", \"shallow_size_bytes\"]}},"
	"      \"total_objects\": {\"type\": \"integer\"}, \"total_types\": {\"type\": \"integer\"},"
	"      \"total_alive_objects\": {\"type\": \"integer\"},"
	"      \"size_computed\": {\"type\": \"boolean\"}},"
	"      \"required\": [\"type_summaries\", \"total_objects\", \"total_types\", \"size_computed\"]},"
	"    \"object_details_list\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
	OBJECT_DETAILS_PROPS "}, \"required\": [" OBJECT_DETAILS_REQUIRED "]}},"
	"    \"details_matched_objects\": {\"type\": \"integer\"}, \"details_matched_types\": {\"type\": \"integer\"},"
	"    \"leak_groups\": {\"type\": [\"array\", \"null\"], \"items\": " LEAK_GROUP_ITEM "},"
	"    \"total_leak_groups\": {\"type\": [\"integer\", \"null\"]},"
	"    \"native\": " NATIVE_OBJECT ","
	"    \"native_growth\": " NATIVE_GROWTH_OBJECT ","
	"    \"native_window_growth\": " NATIVE_WINDOW_OBJECT "},"
	"    \"required\": [\"report_id\", \"iteration_number\", \"pid\", \"command\", \"start_time\", \"end_time\","
	"      \"max_object_lifetime\", \"memory_usage\", \"leak_summary\", \"object_details_list\","
	"      \"details_matched_objects\", \"details_matched_types\", \"leak_groups\", \"total_leak_groups\","
	"      \"native\", \"native_growth\", \"native_window_growth\"]}},"
	"  \"filter_types\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}, " TRUNCATION_PROPS "},"
	" \"required\": [\"report_id\", \"summary\", \"iterations\"]}";

static const char object_output[] =
	"{\"type\": \"object\", \"properties\": {"
	"  \"report_id\": {\"type\": \"string\"}, \"iteration\": {\"type\": \"integer\"}, "
	OBJECT_DETAILS_PROPS ", " TRUNCATION_PROPS "},"
	" \"required\": [\"report_id\", \"iteration\", " OBJECT_DETAILS_REQUIRED "]}";

/*
 * memalot snapshot --json. python_image and layout_detail hold paths, which
 * that command leaves out when they are not UTF-8: typed, not required.
 */
static const char snapshot_output[] =
	"{\"type\": \"object\", \"properties\": {"
	"  \"pid\": {\"type\": \"integer\"}, \"command\": {\"type\": [\"string\", \"null\"]},"
	"  \"python_version\": {\"type\": \"string\"}, \"python_flavour\": {\"type\": \"string\"},"
	"  \"python_image\": {\"type\": \"string\"}, \"layout_source\": {\"type\": \"string\"},"
	"  \"layout_detail\": {\"type\": \"string\"}, \"layout_warning\": {\"type\": \"string\"},"
	"  \"reader\": {\"type\": \"string\"}, \"pause_ms\": {\"type\": \"number\"},"
	"  \"tries\": {\"type\": \"integer\"}, \"interpreters\": {\"type\": \"integer\"},"
	"  \"total_objects\": {\"type\": \"integer\"},"
	"  \"generations\": {\"type\": \"object\", \"additionalProperties\": {\"type\": \"integer\"}},"
	"  \"partial\": {\"type\": \"boolean\"}, \"partial_reason\": {\"type\": \"string\"},"
	"  \"types\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
	"    \"type\": {\"type\": \"string\"}, \"count\": {\"type\": \"integer\"},"
	"    \"generations\": {\"type\": \"object\", \"additionalProperties\": {\"type\": \"integer\"}}},"
	"    \"required\": [\"type\", \"count\", \"generations\"]}},"
	"  \"leak_groups\": {\"type\": \"array\", \"items\": " LEAK_GROUP_ITEM "},"
	"  \"object_details\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
	OBJECT_DETAILS_PROPS "}, \"required\": [" OBJECT_DETAILS_REQUIRED "]}}, " TRUNCATION_PROPS "},"
	" \"required\": [\"pid\", \"command\", \"python_version\", \"python_flavour\", \"layout_source\", \"reader\","
	"   \"pause_ms\", \"tries\", \"interpreters\", \"total_objects\", \"generations\", \"partial\", \"types\"]}";

static const char watch_output[] =
	"{\"type\": \"object\", \"properties\": {"
	"  \"pid\": {\"type\": \"integer\"}, \"exit_code\": {\"type\": \"integer\"},"
	"  \"report_id\": {\"type\": [\"string\", \"null\"]},"
	"  \"iterations\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}},"
	"  \"messages\": {\"type\": \"string\"}, " TRUNCATION_PROPS "},"
	" \"required\": [\"pid\", \"exit_code\", \"report_id\", \"iterations\", \"messages\"]}";

static const struct tool tools[] = {
	{ "list_leak_reports", "List leak reports",
	  "List the saved memory leak reports, newest first: ID, start time, pid and command of the monitored "
	  "Python process, iterations, and how many objects the last iteration found leaking.",
	  list_args, list_output, false, tool_list_reports },
	{ "get_leak_report", "Get a leak report",
	  "Get a saved memory leak report: its summary (process, Python version, options) and its newest "
	  "iterations, each with the leaked objects grouped by what holds them (leak_groups: root, path, "
	  "object count, retained bytes, counts by type, most retained first), the leaked object counts by type "
	  "and details (sizes, string form, and the "
	  "referrer graph that keeps the object alive, from a root such as a module global or a local "
	  "variable) for a sample of the objects.",
	  get_args, report_output, false, tool_get_report },
	{ "get_object_details", "Get one leaked object",
	  "Get the details and the full referrer graph of one leaked object of a saved report, by the "
	  "iteration number and object_id that get_leak_report shows.",
	  object_args, object_output, false, tool_get_object },
	{ "snapshot_process", "Snapshot a Python process",
	  "Count the objects of a running CPython process by type (it is paused for the copy, not changed), "
	  "and with 'why' explain why the objects of a type are alive.",
	  snapshot_args, snapshot_output, true, tool_snapshot },
	{ "watch_process", "Watch a Python process for leaks",
	  "Watch a running CPython process for `duration` seconds as `memalot attach` does (time-based leak "
	  "discovery: objects that live longer than max_object_lifetime after the warm-up are leaks) and return "
	  "its reports: the leaked objects grouped by what holds them, counts by type, and referrer graphs. "
	  "The process is paused only while its memory is copied. The report is saved: get_leak_report reads "
	  "it later. The options are the memalot package's, with the same names and defaults.",
	  watch_args, watch_output, true, tool_watch },
};

static const struct tool *find_tool(const struct mcp_server *s, const char *name)
{
	watch_args_init();
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++)
		if (!strcmp(tools[i].name, name) && (!tools[i].needs_attach || s->allow_attach))
			return &tools[i];
	return NULL;
}

/* ------------------------------------------------------------ methods */

static json_t *rpc_initialize(struct mcp_server *s, const json_t *params, struct rpc_error *e)
{
	const char *want = json_string_value(json_object_get(params, "protocolVersion"));
	const json_t *client = json_object_get(params, "clientInfo");
	const char *version = protocol_versions[0], *cname, *cversion;

	(void)s, (void)e;
	for (size_t i = 0; want && i < ARRAY_SIZE(protocol_versions); i++)
		if (!strcmp(want, protocol_versions[i]))
			version = protocol_versions[i];
	cname = json_string_value(json_object_get(client, "name"));
	cversion = json_string_value(json_object_get(client, "version"));
	log_info("mcp: client %.64s %.64s asked for protocol %.32s: %s", cname ? cname : "?", cversion ? cversion : "?",
		 want ? want : "(none)", version);
	return json_pack("{s:s, s:{s:{}, s:{}, s:{}}, s:{s:s, s:s, s:s}, s:s}", "protocolVersion", version,
			 "capabilities", "tools", "resources", "prompts", "serverInfo", "name", "memalot", "title",
			 "memalot", "version", MEMALOT_VERSION, "instructions",
			 "memalot finds memory leaks in running Python programs. `memalot attach PID` saves a leak "
			 "report per monitoring session; list_leak_reports lists them, get_leak_report shows which "
			 "object types leaked and what keeps sample objects alive (referrer graphs back to a module "
			 "global, a local variable or native code), get_object_details shows one object.");
}

static json_t *rpc_ping(struct mcp_server *s, const json_t *params, struct rpc_error *e)
{
	(void)s, (void)params, (void)e;
	return json_object();
}

static json_t *rpc_tools_list(struct mcp_server *s, const json_t *params, struct rpc_error *e)
{
	json_t *list = json_array();

	(void)params;
	watch_args_init();
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		const struct tool *t = &tools[i];
		json_error_t jerr;
		json_t *out;

		if (t->needs_attach && !s->allow_attach)
			continue;
		out = json_loads(t->output_schema, 0, &jerr);
		if (!out) {
			/* a bug in the table above: the tests list the tools */
			rpc_fail(e, RPC_INTERNAL_ERROR, "output schema of %s: %s", t->name, jerr.text);
			json_decref(list);
			return NULL;
		}
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:b, s:b, s:b, s:b}}", "name",
						      t->name, "title", t->title, "description", t->description,
						      "inputSchema", input_schema(t->args), "outputSchema", out,
						      "annotations", "readOnlyHint", 1, "destructiveHint", 0,
						      "idempotentHint", !t->needs_attach, "openWorldHint", 0));
	}
	return json_pack("{s:o}", "tools", list);
}

/* A tool result: the structured content, and the same JSON as text. */
static json_t *tool_result(json_t *structured)
{
	char *text = json_dumps(structured, JSON_COMPACT);
	json_t *res = json_pack("{s:[{s:s, s:s}], s:o, s:b}", "content", "type", "text", "text", text ? text : "{}",
				"structuredContent", structured, "isError", 0);

	free(text);
	return res;
}

static json_t *tool_error(const char *msg)
{
	return json_pack("{s:[{s:s, s:o}], s:b}", "content", "type", "text", "text", jstr(msg), "isError", 1);
}

/*
 * args with each string given for a list of strings split at commas (items
 * trimmed, empty ones dropped). @return a new reference (owned is released)
 */
static json_t *normalize_args(const struct tool_arg *spec, json_t *args, json_t *owned)
{
	json_t *out = json_copy(args);

	json_decref(owned);
	for (const struct tool_arg *a = spec; a->name; a++) {
		const char *v = json_string_value(json_object_get(out, a->name));
		json_t *arr;

		if (a->kind != ARG_STRINGS || !v)
			continue;
		arr = json_array();
		for (const char *p = v; *p;) {
			size_t n = strcspn(p, ",");
			const char *b = p, *e = p + n;

			while (b < e && (*b == ' ' || *b == '\t'))
				b++;
			while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e > b)
				json_array_append_new(arr, json_stringn(b, (size_t)(e - b)));
			p += n + (p[n] == ',');
		}
		json_object_set_new(out, a->name, arr);
	}
	return out;
}

static json_t *rpc_tools_call(struct mcp_server *s, const json_t *params, struct rpc_error *e)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *args = json_object_get(params, "arguments"), *empty = NULL, *res;
	char msg[MCP_MAX_MSG] = "";
	const struct tool *t;

	if (!name) {
		rpc_fail(e, RPC_INVALID_PARAMS, "tools/call needs the name of a tool");
		return NULL;
	}
	t = find_tool(s, name);
	if (!t) {
		rpc_fail(e, RPC_INVALID_PARAMS, "unknown tool '%.64s'%s", name,
			 !strcmp(name, "snapshot_process") || !strcmp(name, "watch_process") ?
				 " (start memalot mcp with --allow-attach to offer it)" : "");
		return NULL;
	}
	if (!args || json_is_null(args))
		args = empty = json_object();
	if (!json_is_object(args)) {
		rpc_fail(e, RPC_INVALID_PARAMS, "%s: arguments must be an object", name);
		return NULL;
	}
	/* a string for a list of strings: the seed's comma-separated form ("Session,Request") */
	args = empty = normalize_args(t->args, args, empty);
	if (check_args(t->name, t->args, args, msg, sizeof(msg))) {
		/* a tool's input the model can correct: a tool result with isError (SEP-1303), not a protocol error */
		json_decref(empty);
		log_info("mcp: %s: %s", name, msg);
		return tool_error(msg);
	}
	res = t->fn(s, t, args, msg, sizeof(msg));
	json_decref(empty);
	if (!res) {
		log_info("mcp: %s: %s", name, msg);
		return tool_error(msg[0] ? msg : "failed");
	}
	return tool_result(res);
}

/* The resources/list cursor: the offset of the page, in decimal. @return it, or -1 */
static long parse_cursor(const json_t *params)
{
	const json_t *c = json_object_get(params, "cursor");
	const char *s = json_string_value(c);
	char *end;
	long v;

	if (!c || json_is_null(c))
		return 0;
	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end || v < 0 ? -1 : v;
}

static json_t *rpc_resources_list(struct mcp_server *s, const json_t *params, struct rpc_error *e)
{
	long first = parse_cursor(params);
	struct store_entry *v;
	char msg[MCP_MAX_MSG];
	json_t *list, *res;
	size_t n;

	if (first < 0) {
		rpc_fail(e, RPC_INVALID_PARAMS, "resources/list: not a cursor this server gave");
		return NULL;
	}
	if (store__list(s->root, &v, &n, log_store_warning, NULL, msg, sizeof(msg))) {
		rpc_fail(e, RPC_INTERNAL_ERROR, "%s", msg);
		return NULL;
	}
	list = json_array();
	for (size_t i = (size_t)first; i < n && i < (size_t)first + MCP_PAGE; i++) {
		const char *cmd = json_string_value(json_object_get(v[i].summary, "command"));
		const char *start = json_string_value(json_object_get(v[i].summary, "start_time"));
		char *uri = xasprintf(REPORT_URI_PREFIX "%s", v[i].id);
		char *title = xasprintf("Leak report %s%s%.80s", v[i].id, cmd ? ": " : "", cmd ? cmd : "");
		char *desc = xasprintf("memalot leak report, started %s, %d iteration%s", start ? start : "?",
				       v[i].iterations, v[i].iterations == 1 ? "" : "s");

		json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:o, s:s}", "uri", uri, "name", v[i].id,
						      "title", jstr(title), "description", jstr(desc), "mimeType",
						      "application/json"));
		free(uri);
		free(title);
		free(desc);
	}
	res = json_pack("{s:o}", "resources", list);
	if ((size_t)first + MCP_PAGE < n) {
		char next[24];

		snprintf(next, sizeof(next), "%zu", (size_t)first + MCP_PAGE);
		json_object_set_new(res, "nextCursor", json_string(next));
	}
	store__list_free(v, n);
	return res;
}

static json_t *rpc_resources_read(struct mcp_server *s, const json_t *params, struct rpc_error *e)
{
	const char *uri = json_string_value(json_object_get(params, "uri"));
	const char *id = uri && !strncmp(uri, REPORT_URI_PREFIX, strlen(REPORT_URI_PREFIX)) ?
			 uri + strlen(REPORT_URI_PREFIX) : NULL;
	char msg[MCP_MAX_MSG];
	json_t *summary, *iters, *doc;
	char *text;

	if (!uri) {
		rpc_fail(e, RPC_INVALID_PARAMS, "resources/read needs a uri");
		return NULL;
	}
	if (!id || !store__valid_id(id) || load_report(s->root, id, 0, &summary, &iters, msg, sizeof(msg))) {
		rpc_fail(e, MCP_RESOURCE_NOT_FOUND, "resource not found: '%.200s'", uri);
		e->data = json_pack("{s:o}", "uri", jstr(uri));
		return NULL;
	}
	doc = json_pack("{s:s, s:o}", "report_id", id, "iterations", iters);
	if (summary)
		json_object_set_new(doc, "summary", summary);
	fit_report(doc, MCP_MAX_RESULT - MCP_FIT_SLACK);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	doc = json_pack("{s:[{s:s, s:s, s:s}]}", "contents", "uri", uri, "mimeType", "application/json", "text",
			text ? text : "{}");
	free(text);
	return doc;
}

static json_t *rpc_templates_list(struct mcp_server *s, const json_t *params, struct rpc_error *e)
{
	(void)s, (void)params, (void)e;
	return json_pack("{s:[{s:s, s:s, s:s, s:s, s:s}]}", "resourceTemplates", "uriTemplate",
			 REPORT_URI_PREFIX "{report_id}", "name", "leak_report", "title", "Leak report", "description",
			 "a saved memalot leak report: its summary and every iteration", "mimeType",
			 "application/json");
}

static json_t *rpc_prompts_list(struct mcp_server *s, const json_t *params, struct rpc_error *e)
{
	(void)s, (void)params, (void)e;
	return json_pack("{s:[]}", "prompts");
}

static const struct method {
	const char *name;
	json_t *(*fn)(struct mcp_server *s, const json_t *params, struct rpc_error *e);
} methods[] = {
	{ "initialize", rpc_initialize },
	{ "ping", rpc_ping },
	{ "tools/list", rpc_tools_list },
	{ "tools/call", rpc_tools_call },
	{ "resources/list", rpc_resources_list },
	{ "resources/read", rpc_resources_read },
	{ "resources/templates/list", rpc_templates_list },
	{ "prompts/list", rpc_prompts_list },
};

/* One message: a request is answered, a notification or a response never. */
static void handle_message(struct mcp_server *s, const json_t *msg)
{
	const json_t *id = json_object_get(msg, "id"), *params = json_object_get(msg, "params");
	const char *method = json_string_value(json_object_get(msg, "method"));
	const char *version = json_string_value(json_object_get(msg, "jsonrpc"));
	struct rpc_error e = { 0 };
	json_t *result = NULL;

	if (!json_is_object(msg)) {
		rpc_fail(&e, RPC_INVALID_REQUEST, "a message is one JSON object (batches are not supported)");
		send_error(s, NULL, &e);
		return;
	}
	if (!json_object_get(msg, "method") && id &&
	    (json_object_get(msg, "result") || json_object_get(msg, "error")))
		return; /* a response, and we send no requests */
	if (!id) {
		/* a notification: initialized, cancelled (we answer in order, so too late), or unknown */
		log_debug("mcp: notification %s", method ? method : "(no method)");
		return;
	}
	if (!json_is_string(id) && !json_is_number(id)) {
		rpc_fail(&e, RPC_INVALID_REQUEST, "the id of a request is a string or a number");
		send_error(s, NULL, &e);
		return;
	}
	if (!version || strcmp(version, "2.0") || !method) {
		rpc_fail(&e, RPC_INVALID_REQUEST, "not a JSON-RPC 2.0 request (\"jsonrpc\": \"2.0\" and a method)");
		send_error(s, id, &e);
		return;
	}
	if (params && !json_is_object(params) && !json_is_null(params)) {
		rpc_fail(&e, RPC_INVALID_PARAMS, "%.64s: params must be an object", method);
		send_error(s, id, &e);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (!strcmp(method, methods[i].name)) {
			log_debug("mcp: %s", method);
			result = methods[i].fn(s, params, &e);
			if (result)
				send_result(s, id, result);
			else
				send_error(s, id, &e);
			return;
		}
	rpc_fail(&e, RPC_METHOD_NOT_FOUND, "method not found: '%.64s'", method);
	send_error(s, id, &e);
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* One line of input (without its newline): parsed, and answered if it asks for an answer. */
static void handle_line(struct mcp_server *s, const char *line, size_t n)
{
	struct rpc_error e = { 0 };
	json_error_t jerr;
	json_t *msg;

	if (blank(line, n))
		return;
	/* any JSON value: one that is not a request object is an invalid request, not a parse error */
	msg = json_loadb(line, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!msg) {
		rpc_fail(&e, RPC_PARSE_ERROR, "parse error: %s (column %d)", jerr.text, jerr.column);
		send_error(s, NULL, &e);
		return;
	}
	handle_message(s, msg);
	json_decref(msg);
}

static void serve(struct mcp_server *s)
{
	struct line_reader r = { 0 };
	struct rpc_error e = { 0 };
	char *line;
	size_t n;
	int ret;

	while (!s->out_failed && (ret = line_reader__next(&r, &line, &n))) {
		if (ret == -E2BIG) {
			rpc_fail(&e, RPC_PARSE_ERROR, "parse error: a message is at most %u MiB", MCP_MAX_LINE >> 20);
			send_error(s, NULL, &e);
			continue;
		}
		handle_line(s, line, n);
	}
	free(r.buf);
}

int cmd_mcp(int argc, char **argv)
{
	enum { O_DIR = 256, O_ATTACH };
	static const struct option longopts[] = {
		{ "report-directory", required_argument, NULL, O_DIR },
		{ "allow-attach", no_argument, NULL, O_ATTACH },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	struct mcp_server s = { 0 };
	const char *dir = NULL;
	int c;

	optind = 1;
	opterr = 0; /* said in one line */
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		if (cli__common(c))
			continue;
		switch (c) {
		case O_DIR:
			if (!*optarg) {
				log_usage("--report-directory takes a directory");
				return EXIT_USAGE;
			}
			dir = optarg;
			break;
		case O_ATTACH: s.allow_attach = true; break;
		case 'h': fputs(mcp_usage, stdout); return EXIT_OK;
		default: return cli__bad_option(argv);
		}
	}
	if (optind != argc) {
		log_usage("mcp takes no arguments, not '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	s.root = dir ? xstrdup(dir) : store__default_dir();
	/* a client that goes away must not kill us mid-write: writes fail with EPIPE instead */
	signal(SIGPIPE, SIG_IGN);
	log_info("mcp: serving the reports in %s%s", s.root, s.allow_attach ? ", snapshots allowed" : "");
	serve(&s);
	free(s.root);
	return s.out_failed ? EXIT_ERROR : EXIT_OK;
}
