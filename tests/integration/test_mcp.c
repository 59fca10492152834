/* SPDX-License-Identifier: MIT */
/* memalot mcp: the JSON-RPC transport line by line, the tools on real and made-up reports and their output schemas, no escape from the report directory. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../cli/cli.h"
#include "../../engine/options.h"
#include "../../reports/store.h"
#include "../lib/groups.h"
#include "../lib/harness.h"
#include "../lib/start.h"

#define LABEL DEFAULT_PYTHON
#define MCP_MS 60000            /* one memalot mcp session */
#define MAX_MSGS 64
#define MAX_RESULT (4u << 20)   /* mcp/server.c's MCP_MAX_RESULT */

/* ------------------------------------------------------------ helpers */

/* What one memalot mcp session answered. */
struct session {
	struct run_result r;
	json_t *msg[MAX_MSGS];
	size_t n;
};

/* Every stdout line of s as JSON: the transport allows nothing else there. */
static void parse_answers(struct session *s)
{
	const char *p = s->r.out;

	s->n = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		json_error_t err;

		cr_assert_not_null(nl, "the last answer has no newline: %.200s", p);
		cr_assert_lt(s->n, MAX_MSGS, "too many answers");
		s->msg[s->n] = json_loadb(p, (size_t)(nl - p), 0, &err);
		cr_assert_not_null(s->msg[s->n], "answer %zu is not JSON (%s): %.300s", s->n, err.text, p);
		cr_assert_str_eq(json_string_value(json_object_get(s->msg[s->n], "jsonrpc")), "2.0");
		s->n++;
		p = nl + 1;
	}
}

/* Run memalot mcp with extra options (NULL-terminated) and input on its stdin until EOF. */
static void mcp_run(const char *input, size_t len, char *const extra[], struct session *s)
{
	char *argv[16] = { (char *)harness__memalot(), "mcp" };
	struct bgrun_opts o = { 0 };
	struct bgrun b;
	size_t off = 0;
	int n = 2, fd;

	while (extra && *extra && n < 15)
		argv[n++] = *extra++;
	argv[n] = NULL;
	fd = memfd_create("mcp-input", MFD_CLOEXEC);
	cr_assert_geq(fd, 0, "memfd_create: %s", strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, input + off, len - off);
		cr_assert_gt(w, 0, "writing the input: %s", strerror(errno));
		off += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	o.stdin_fd = fd;
	cr_assert_eq(bgrun__start(&b, argv, &o), 0);
	close(fd);
	cr_assert_eq(bgrun__wait(&b, MCP_MS, &s->r), 0);
	cr_assert(!s->r.timed_out, "memalot mcp did not exit at the end of its input; stderr: %s", s->r.err);
	cr_assert_eq(s->r.status, 0, "memalot mcp exited %d at EOF; stderr: %s", s->r.status, s->r.err);
	parse_answers(s);
}

static void session__release(struct session *s)
{
	for (size_t i = 0; i < s->n; i++)
		json_decref(s->msg[i]);
	run_result__release(&s->r);
}

/* An input buffer of lines. */
struct input {
	char *buf;
	size_t len;
	FILE *f;
};

static void input__init(struct input *in)
{
	in->buf = NULL;
	in->len = 0;
	in->f = open_memstream(&in->buf, &in->len);
	cr_assert_not_null(in->f);
}

static void input__raw(struct input *in, const char *line)
{
	fprintf(in->f, "%s\n", line);
}

/* A request line; takes the references to id and params (either may be NULL). */
static void input__request(struct input *in, json_t *id, const char *method, json_t *params)
{
	json_t *m = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
	char *text;

	if (id)
		json_object_set_new(m, "id", id);
	if (params)
		json_object_set_new(m, "params", params);
	text = json_dumps(m, JSON_COMPACT);
	fprintf(in->f, "%s\n", text);
	free(text);
	json_decref(m);
}

static void input__call(struct input *in, int id, const char *tool, json_t *args)
{
	input__request(in, json_integer(id), "tools/call", json_pack("{s:s, s:o}", "name", tool, "arguments", args));
}

static void input__initialize(struct input *in)
{
	input__request(in, json_integer(0), "initialize",
		       json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", "2025-11-25", "capabilities",
				 "clientInfo", "name", "test_mcp", "version", "1"));
	input__request(in, NULL, "notifications/initialized", NULL);
}

/* Run the input through memalot mcp and free it. */
static void input__run(struct input *in, char *const extra[], struct session *s)
{
	cr_assert_eq(fclose(in->f), 0);
	mcp_run(in->buf, in->len, extra, s);
	free(in->buf);
}

/* The answer to request id (an integer), or fail. */
static json_t *answer(const struct session *s, json_int_t id)
{
	for (size_t i = 0; i < s->n; i++) {
		json_t *v = json_object_get(s->msg[i], "id");
		if (json_is_integer(v) && json_integer_value(v) == id)
			return s->msg[i];
	}
	cr_assert_fail("no answer to request %lld in: %s", (long long)id, s->r.out);
	return NULL;
}

static int error_code(const struct session *s, json_int_t id)
{
	json_t *e = json_object_get(answer(s, id), "error");

	cr_assert(json_is_object(e), "request %lld was not answered with an error: %s", (long long)id, s->r.out);
	return (int)json_integer_value(json_object_get(e, "code"));
}

static json_t *result(const struct session *s, json_int_t id)
{
	json_t *r = json_object_get(answer(s, id), "result");

	cr_assert(json_is_object(r), "request %lld has no result: %s", (long long)id, s->r.out);
	return r;
}

/* A tool call's structured result, after checking it is no error and its text is the same JSON. */
static json_t *tool_ok(const struct session *s, json_int_t id)
{
	json_t *r = result(s, id), *sc = json_object_get(r, "structuredContent"), *text;
	const char *t = json_string_value(json_object_get(json_array_get(json_object_get(r, "content"), 0), "text"));

	cr_assert(json_is_false(json_object_get(r, "isError")), "request %lld failed: %s", (long long)id,
		  t ? t : "(no text)");
	cr_assert(json_is_object(sc), "request %lld: no structuredContent", (long long)id);
	cr_assert_not_null(t, "request %lld: no text content", (long long)id);
	text = json_loads(t, 0, NULL);
	cr_assert(json_equal(text, sc), "request %lld: the text block is not the structured content",
		  (long long)id);
	json_decref(text);
	return sc;
}

/* A tool call's error text, after checking it is an isError result. */
static const char *tool_error(const struct session *s, json_int_t id)
{
	json_t *r = result(s, id);
	const char *t = json_string_value(json_object_get(json_array_get(json_object_get(r, "content"), 0), "text"));

	cr_assert(json_is_true(json_object_get(r, "isError")), "request %lld did not fail: %s", (long long)id,
		  s->r.out);
	cr_assert_not_null(t, "request %lld: an error without a text block", (long long)id);
	return t;
}

static void rm_rf(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };
	struct run_result r;

	if (!run__capture(argv, RUN_TIMEOUT, &r))
		run_result__release(&r);
}

/* A fresh directory under TMPDIR, into dir. */
static void temp_dir(char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/memalot-mcp.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

/* The ID of the only report under root, into id. */
static void only_report(const char *root, char *id)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d, "no report directory %s: %s", root, strerror(errno));
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "memalot_report_", 15)) {
			snprintf(id, STORE_ID_LEN + 1, "%s", e->d_name + 15);
			n++;
		}
	closedir(d);
	cr_assert_eq(n, 1, "%d reports in %s, not 1", n, root);
}

/*
 * A real report: two iterations of `memalot attach` on tests/targets/leaky_app.py,
 * saved under root. Its ID goes to id.
 */
static void monitoring_run(const char *root, char *id)
{
	char pidstr[16];
	char *args[] = { "attach", pidstr, "--max-object-lifetime", "1", "--iterations", "2",
			 "--report-directory", (char *)root, NULL };
	struct run_result r;
	struct target t;

	start_target(&t, LABEL, "leaky_app.py", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t.pid);
	cr_assert_eq(memalot__run(args, &r), 0);
	cr_assert_eq(r.status, 0, "memalot attach exited %d: %s", r.status, r.err);
	run_result__release(&r);
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
	only_report(root, id);
}

/*
 * A made-up report written through the store: nits iterations with
 * ndetails object details each, detail strings of strlen bytes.
 */
static void fake_report(const char *root, const char *start_time, int nits, int ndetails, int strlen_, char *id)
{
	struct store_session ss;
	char err[256], *str = malloc((size_t)strlen_ + 1);
	json_t *summary;

	cr_assert_not_null(str);
	memset(str, 'x', (size_t)strlen_);
	str[strlen_] = '\0';
	cr_assert_eq(store__create(root, &ss, err, sizeof(err)), 0, "%s", err);
	summary = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:s}", "report_id", ss.id, "pid",
			    4242, "command", "python3 fake.py", "executable", "/usr/bin/python3", "python_version",
			    "3.12.1", "host_name", "test", "start_time", start_time, "memalot_version", MEMALOT_VERSION,
			    "max_object_lifetime", 1.0, "check_interval", 0.2, "warmup_time", 1.0, "schema_version",
			    STORE_SCHEMA_STRING);
	cr_assert_eq(store__write_summary(&ss, summary, err, sizeof(err)), 0, "%s", err);
	json_decref(summary);
	for (int k = 1; k <= nits; k++) {
		json_t *details = json_array();
		json_t *it;

		for (int i = 0; i < ndetails; i++)
			json_array_append_new(details,
				json_pack("{s:s, s:I, s:s, s:i, s:i, s:b, s:n}", "object_type_name",
					  i % 2 ? "builtins.str" : "__main__.Session", "object_id",
					  (json_int_t)(0x7f0000000000LL + 16 * i), "object_str", str,
					  "shallow_size_bytes", 56, "deep_size_bytes", 56, "referrers_checked", 0,
					  "referrer_graph"));
		it = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:f, s:{s:i, s:i, s:i, s:i},"
			       " s:{s:[{s:s, s:i, s:n}, {s:s, s:i, s:n}], s:i, s:i, s:b}, s:o, s:i, s:i}",
			       "report_id", ss.id, "iteration_number", k, "pid", 4242, "command", "python3 fake.py",
			       "start_time", start_time, "end_time", start_time, "max_object_lifetime", 1.0,
			       "memory_usage", "rss_bytes", 1, "peak_rss_bytes", 1, "rss_change_bytes", 0,
			       "peak_rss_change_bytes", 0,
			       "leak_summary", "type_summaries", "object_type", "__main__.Session", "count", 10 * k,
			       "shallow_size_bytes", "object_type", "builtins.str", "count", 5 * k, "shallow_size_bytes",
			       "total_objects", 15 * k, "total_types", 2, "size_computed", 0,
			       "object_details_list", details, "details_matched_objects", ndetails,
			       "details_matched_types", 2);
		cr_assert_not_null(it);
		cr_assert_eq(store__write_iteration(&ss, k, it, err, sizeof(err)), 0, "%s", err);
		json_decref(it);
	}
	snprintf(id, STORE_ID_LEN + 1, "%s", ss.id);
	store__close(&ss);
	free(str);
}

/* An object that report id under root has details for: its iteration and object_id. */
static void some_object(const char *root, const char *id, json_int_t *iteration, json_int_t *object_id)
{
	json_t *summary, *iters, *it;
	char err[256];
	size_t i;

	cr_assert_eq(store__load(root, id, 0, &summary, &iters, NULL, NULL, err, sizeof(err)), 0, "%s", err);
	*object_id = 0;
	json_array_foreach(iters, i, it) {
		json_t *d = json_array_get(json_object_get(it, "object_details_list"), 0);

		if (d) {
			*iteration = json_integer_value(json_object_get(it, "iteration_number"));
			*object_id = json_integer_value(json_object_get(d, "object_id"));
		}
	}
	cr_assert_neq(*object_id, 0, "report %s in %s has no object details", id, root);
	json_decref(summary);
	json_decref(iters);
}

/* Copy the directory src into the directory dst (cp -a). */
static void copy_tree(const char *src, const char *dst)
{
	char *argv[] = { "cp", "-a", (char *)src, (char *)dst, NULL };
	struct run_result r;

	cr_assert_eq(run__capture(argv, RUN_TIMEOUT, &r), 0);
	cr_assert_eq(r.status, 0, "cp -a %s %s: %s", src, dst, r.err);
	run_result__release(&r);
}

/* A directory watched with inotify for opens and reads, and what it saw. */
struct watch {
	int wd;
	int events;
	char names[1024];       /* the entries opened or read, "." for the directory itself */
};

/* Watch the directory path on the inotify instance fd: whatever opens or reads it or an entry in it. */
static void watch__add(int fd, struct watch *w, const char *path)
{
	w->events = 0;
	w->names[0] = '\0';
	w->wd = inotify_add_watch(fd, path, IN_OPEN | IN_ACCESS | IN_ONLYDIR);
	cr_assert_geq(w->wd, 0, "inotify_add_watch %s: %s", path, strerror(errno));
}

/*
 * Read every event queued on fd (non-blocking) and count it to its watch.
 * The kernel queues an event during the open or read itself, so once the
 * process that did it has exited, everything it did is there.
 */
static void watch__drain(int fd, struct watch *w, size_t n)
{
	_Alignas(struct inotify_event) char buf[8192];

	for (;;) {
		ssize_t got = read(fd, buf, sizeof(buf));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			cr_assert(got < 0 && errno == EAGAIN, "reading inotify events: %s", strerror(errno));
			return;
		}
		for (char *p = buf; p < buf + got;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			cr_assert_eq(ev->mask & IN_Q_OVERFLOW, 0, "the inotify queue overflowed: events were lost");
			for (size_t i = 0; i < n; i++) {
				size_t used = strlen(w[i].names);

				if (w[i].wd != ev->wd)
					continue;
				w[i].events++;
				if (used + 1 < sizeof(w[i].names))
					snprintf(w[i].names + used, sizeof(w[i].names) - used, " %s",
						 ev->len ? ev->name : ".");
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* A member of a tool's result: its name and the JSON types it may have ('|' between them). */
struct field {
	const char *name;
	const char *types;
};

static const char *const json_types[] = { "object", "array", "string", "integer", "number", "boolean", "null" };

/* Is name one of the '|'-separated types? */
static bool type_listed(const char *types, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = types; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
		if (!strncmp(p, name, n) && (p[n] == '|' || p[n] == '\0'))
			return true;
	return false;
}

/* The JSON Schema type name of v ("number" for a real). */
static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

/* Does the schema prop allow the type name: by its "type" (a name or an array of them) or one of its "anyOf"? */
static bool schema_allows(const json_t *prop, const char *name)
{
	const json_t *type = json_object_get(prop, "type"), *x;
	size_t i;

	if (json_is_string(type) && !strcmp(json_string_value(type), name))
		return true;
	json_array_foreach((json_t *)type, i, x)
		if (!strcmp(json_string_value(x), name))
			return true;
	json_array_foreach(json_object_get(prop, "anyOf"), i, x)
		if (schema_allows(x, name))
			return true;
	return false;
}

/* The object schema of schema: itself, or its "anyOf" branch of type object. */
static const json_t *schema_object(const json_t *schema)
{
	const json_t *x;
	size_t i;

	json_array_foreach(json_object_get(schema, "anyOf"), i, x)
		if (schema_allows(x, "object"))
			return x;
	return schema;
}

/* The schema of member name of an object schema. */
static const json_t *schema_prop(const json_t *schema, const char *name)
{
	return json_object_get(json_object_get(schema_object(schema), "properties"), name);
}

/* The items' schema of array member name of an object schema. */
static const json_t *schema_items(const json_t *schema, const char *name)
{
	return json_object_get(schema_prop(schema, name), "items");
}

/*
 * value (an object, named what in messages) has every field with one of its
 * types, and the object schema says the same: exactly those types allowed,
 * and the field required unless it is one of the optional fields.
 */
static void assert_members(const char *what, const json_t *value, const json_t *schema, const struct field *f,
			   bool optional)
{
	const json_t *obj = schema_object(schema), *req = json_object_get(obj, "required"), *x;

	cr_assert(json_is_object(value), "%s is not an object", what);
	cr_assert(json_is_object(obj) && schema_allows(obj, "object"), "%s: no object schema", what);
	for (; f->name; f++) {
		const json_t *v = json_object_get(value, f->name), *prop = schema_prop(obj, f->name);
		bool required = false;
		size_t i;

		cr_assert_not_null(v, "%s has no '%s'", what, f->name);
		cr_assert(type_listed(f->types, json_type_name(v)) ||
			  (json_is_integer(v) && type_listed(f->types, "number")),
			  "%s.%s is a JSON %s, not %s", what, f->name, json_type_name(v), f->types);
		json_array_foreach(req, i, x)
			required |= !strcmp(json_string_value(x), f->name);
		cr_assert(required || optional, "%s: the output schema does not require '%s'", what, f->name);
		cr_assert_not_null(prop, "%s: the output schema has no property '%s'", what, f->name);
		for (size_t k = 0; k < sizeof(json_types) / sizeof(json_types[0]); k++)
			cr_assert_eq(schema_allows(prop, json_types[k]), type_listed(f->types, json_types[k]),
				     "%s.%s: the output schema %s type %s (the field is %s)", what, f->name,
				     schema_allows(prop, json_types[k]) ? "allows" : "does not allow", json_types[k],
				     f->types);
	}
}

/* The required fields of value, as assert_members. */
static void assert_fields(const char *what, const json_t *value, const json_t *schema, const struct field *f)
{
	assert_members(what, value, schema, f, false);
}

/* v (named what) is an array of integers, and the array schema prop says so. */
static void assert_int_array(const char *what, const json_t *v, const json_t *prop)
{
	const json_t *x;
	size_t i;

	cr_assert(json_is_array(v), "%s is not an array", what);
	json_array_foreach((json_t *)v, i, x)
		cr_assert(json_is_integer(x), "%s[%zu] is not an integer", what, i);
	cr_assert(schema_allows(json_object_get(prop, "items"), "integer"), "%s: the schema's items are not integers",
		  what);
}

/* ------------------------------------------------------------ the transport */

/* Malformed lines, notifications, unknown methods, ids of every kind, EOF. */
Test(mcp, raw_lines, .timeout = 120)
{
	struct session s;
	struct input in;
	json_t *r;

	input__init(&in);
	/* before initialize: answered at once, not held back */
	input__request(&in, json_integer(1), "server/discover", json_object());
	input__raw(&in, "{not json");
	input__initialize(&in);
	input__raw(&in, "");
	input__raw(&in, "   ");
	input__request(&in, json_integer(2), "no/such/method", NULL);
	input__request(&in, NULL, "notifications/cancelled", json_pack("{s:i}", "requestId", 2));
	input__request(&in, NULL, "no/such/notification", NULL);
	input__raw(&in, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}"); /* a ping without an id: a notification */
	input__request(&in, json_string("str-id \xc3\xa9"), "ping", NULL);
	input__request(&in, json_integer(-7), "ping", NULL);
	input__request(&in, json_integer(0x7fffffffffffLL), "ping", NULL);
	input__request(&in, json_string(""), "ping", NULL);
	input__raw(&in, "{\"jsonrpc\":\"2.0\",\"id\":3}");                        /* no method */
	input__raw(&in, "{\"id\":4,\"method\":\"ping\"}");                        /* no jsonrpc */
	input__raw(&in, "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}"); /* id an object */
	input__raw(&in, "[{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}]");  /* a batch */
	input__raw(&in, "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}");          /* a response: ignored */
	input__raw(&in, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":[1]}");
	input__raw(&in, "\"just a string\"");
	input__request(&in, json_integer(8), "prompts/list", NULL);
	input__request(&in, json_integer(9), "resources/templates/list", NULL);
	input__raw(&in, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\"}\r");  /* CRLF */
	input__raw(&in, "{\"jsonrpc\":\"2.0\",\"id\":11,\"id\":12,\"method\":\"ping\"}");
	fputs("{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"ping\"}", in.f);      /* no newline at EOF */
	input__run(&in, NULL, &s);

	/* 1, parse, 0 (initialize), 2, 4 ids, 3, 4, id object, batch, params, string, 8, 9, 10, dup, 13 */
	cr_assert_eq(s.n, 19, "%zu answers, not 19: %s", s.n, s.r.out);
	cr_assert_eq(error_code(&s, 1), -32601);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(s.msg[0], "error"), "code")), -32601,
		     "server/discover was not answered first");
	/* the parse error: id null, and the server keeps serving */
	cr_assert(json_is_null(json_object_get(s.msg[1], "id")));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(s.msg[1], "error"), "code")), -32700);
	r = result(&s, 0);
	cr_assert_str_eq(json_string_value(json_object_get(r, "protocolVersion")), "2025-11-25");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "serverInfo"), "name")), "memalot");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "serverInfo"), "version")),
			 MEMALOT_VERSION);
	cr_assert(json_is_object(json_object_get(json_object_get(r, "capabilities"), "tools")));
	cr_assert(json_is_object(json_object_get(json_object_get(r, "capabilities"), "resources")));
	cr_assert(json_is_object(json_object_get(json_object_get(r, "capabilities"), "prompts")));
	cr_assert_eq(error_code(&s, 2), -32601);
	/* ids come back exactly as sent */
	cr_assert_str_eq(json_string_value(json_object_get(s.msg[4], "id")), "str-id \xc3\xa9");
	cr_assert(json_is_object(json_object_get(s.msg[4], "result")));
	cr_assert(strstr(s.r.out, "\"id\":-7,") && strstr(s.r.out, "\"id\":140737488355327,") &&
		  strstr(s.r.out, "\"id\":\"\","), "ids not echoed: %s", s.r.out);
	cr_assert_eq(json_object_size(result(&s, -7)), 0, "ping answers {}");
	cr_assert_eq(error_code(&s, 3), -32600);
	cr_assert_eq(error_code(&s, 4), -32600);
	/* an unusable id and a batch: -32600 with id null */
	for (size_t i = 10; i <= 11; i++) {
		cr_assert(json_is_null(json_object_get(s.msg[i], "id")), "answer %zu: %s", i, s.r.out);
		cr_assert_eq(json_integer_value(json_object_get(json_object_get(s.msg[i], "error"), "code")), -32600);
	}
	cr_assert_eq(error_code(&s, 7), -32602);
	cr_assert(json_is_null(json_object_get(s.msg[13], "id")));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(s.msg[13], "error"), "code")), -32600,
		     "a JSON value that is not a request object is an invalid request: %s", s.r.out);
	cr_assert_eq(json_array_size(json_object_get(result(&s, 8), "prompts")), 0);
	cr_assert(json_is_array(json_object_get(result(&s, 9), "resourceTemplates")));
	cr_assert_eq(json_object_size(result(&s, 10)), 0);
	/* duplicate keys: refused as malformed */
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(s.msg[17], "error"), "code")), -32700);
	cr_assert_eq(json_object_size(result(&s, 13)), 0);
	for (size_t i = 0; i < s.n; i++)
		cr_assert_neq(json_integer_value(json_object_get(s.msg[i], "id")), 6, "a response was answered");
	session__release(&s);
}

/* A client asking for an older version gets it; an unknown one gets the newest. */
Test(mcp, version_negotiation, .timeout = 60)
{
	const char *asked[] = { "2025-06-18", "2025-03-26", "2024-11-05", "1999-01-01" };
	const char *given[] = { "2025-06-18", "2025-03-26", "2025-11-25", "2025-11-25" };
	struct session s;
	struct input in;

	input__init(&in);
	for (int i = 0; i < 4; i++)
		input__request(&in, json_integer(i), "initialize",
			       json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", asked[i], "capabilities",
					 "clientInfo", "name", "t", "version", "1"));
	input__request(&in, json_integer(4), "initialize", json_object());
	input__run(&in, NULL, &s);
	for (int i = 0; i < 4; i++)
		cr_assert_str_eq(json_string_value(json_object_get(result(&s, i), "protocolVersion")), given[i],
				 "asked %s", asked[i]);
	cr_assert_str_eq(json_string_value(json_object_get(result(&s, 4), "protocolVersion")), "2025-11-25");
	session__release(&s);
}

/* A line over 16 MiB is a parse error; the next line is served. */
Test(mcp, overlong_line, .timeout = 120)
{
	size_t big = (16u << 20) + 4096;
	struct session s;
	struct input in;
	char *line = malloc(big + 1);

	cr_assert_not_null(line);
	memset(line, ' ', big);
	memcpy(line, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"", 46);
	line[big - 2] = '"';
	line[big - 1] = '}';
	line[big] = '\0';
	input__init(&in);
	input__raw(&in, line);
	input__request(&in, json_integer(2), "ping", NULL);
	input__run(&in, NULL, &s);
	free(line);
	cr_assert_eq(s.n, 2, "%zu answers: %.500s", s.n, s.r.out);
	cr_assert(json_is_null(json_object_get(s.msg[0], "id")));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(s.msg[0], "error"), "code")), -32700);
	cr_assert_eq(json_object_size(result(&s, 2)), 0);
	session__release(&s);
}

/* A request before initialize is answered while stdin stays open; EOF then ends the server with 0. */
Test(mcp, answers_promptly, .fini = harness__cleanup, .timeout = 60)
{
	const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":\"d1\",\"method\":\"server/discover\",\"params\":{}}\n";
	char *argv[] = { (char *)harness__memalot(), "mcp", NULL };
	struct bgrun_opts o = { 0 };
	struct run_result r;
	struct bgrun b;
	char buf[512] = "";
	int in[2];
	long long deadline;

	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	o.stdin_fd = in[0];
	cr_assert_eq(bgrun__start(&b, argv, &o), 0);
	close(in[0]);
	cr_assert_eq(write(in[1], req, strlen(req)), (ssize_t)strlen(req));
	deadline = harness__now_ms() + 10000;
	while (!strchr(buf, '\n') && harness__now_ms() < deadline) {
		ssize_t k = pread(b.out_fd, buf, sizeof(buf) - 1, 0);
		buf[k > 0 ? k : 0] = '\0';
		if (!strchr(buf, '\n'))
			bgrun__exited(&b, 10);
	}
	cr_assert(strstr(buf, "\"id\":\"d1\"") && strstr(buf, "-32601"), "no prompt answer: '%s'", buf);
	close(in[1]);
	cr_assert_eq(bgrun__wait(&b, 10000, &r), 0);
	cr_assert(!r.timed_out, "memalot mcp did not exit at EOF");
	cr_assert_eq(r.status, 0, "exit %d at EOF: %s", r.status, r.err);
	run_result__release(&r);
}

Test(mcp, command_line)
{
	char *help[] = { "mcp", "--help", NULL }, *bad[] = { "mcp", "--no-such-option", NULL };
	char *extra[] = { "mcp", "extra", NULL };
	struct run_result r;

	cr_assert_eq(memalot__run(help, &r), 0);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "--report-directory") && strstr(r.out, "--allow-attach"), "%s", r.out);
	run_result__release(&r);
	cr_assert_eq(memalot__run(bad, &r), 0);
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.out, "");
	run_result__release(&r);
	cr_assert_eq(memalot__run(extra, &r), 0);
	cr_assert_eq(r.status, 2);
	run_result__release(&r);
}

/* ------------------------------------------------------------ tools */

static bool has_tool(const json_t *list, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(list, "tools"), i, t)
		if (!strcmp(json_string_value(json_object_get(t, "name")), name))
			return true;
	return false;
}

/* Every tool has an object input schema that allows nothing else, and an object output schema. */
Test(mcp, tools_list, .timeout = 60)
{
	char *attach[] = { "--allow-attach", NULL };
	struct session s, sa;
	struct input in;
	size_t i;
	json_t *t;

	input__init(&in);
	input__initialize(&in);
	input__request(&in, json_integer(1), "tools/list", NULL);
	input__call(&in, 2, "snapshot_process", json_pack("{s:i}", "pid", 1));
	input__call(&in, 3, "no_such_tool", json_object());
	input__call(&in, 4, "list_leak_reports", json_pack("{s:s}", "num_reports", "five"));
	input__call(&in, 5, "list_leak_reports", json_pack("{s:i}", "num_reports", 0));
	input__call(&in, 6, "list_leak_reports", json_pack("{s:b}", "no_such_argument", 1));
	input__call(&in, 7, "get_leak_report", json_object());
	input__call(&in, 8, "get_leak_report", json_pack("{s:s, s:[i]}", "report_id", "abcd-1234", "filter_types", 1));
	input__request(&in, json_integer(9), "tools/call", json_pack("{s:s, s:i}", "name", "list_leak_reports",
								      "arguments", 1));
	input__request(&in, json_integer(10), "tools/call", json_object());
	input__run(&in, NULL, &s);
	json_array_foreach(json_object_get(result(&s, 1), "tools"), i, t) {
		json_t *is = json_object_get(t, "inputSchema"), *os = json_object_get(t, "outputSchema");

		cr_assert_str_eq(json_string_value(json_object_get(is, "type")), "object");
		cr_assert(json_is_false(json_object_get(is, "additionalProperties")));
		cr_assert_str_eq(json_string_value(json_object_get(os, "type")), "object");
		cr_assert(json_is_string(json_object_get(t, "description")));
		cr_assert(json_is_true(json_object_get(json_object_get(t, "annotations"), "readOnlyHint")));
	}
	cr_assert(has_tool(result(&s, 1), "list_leak_reports") && has_tool(result(&s, 1), "get_leak_report") &&
		  has_tool(result(&s, 1), "get_object_details"));
	cr_assert(!has_tool(result(&s, 1), "snapshot_process"), "snapshot_process offered without --allow-attach");
	/* protocol errors: a tool not offered, an unknown one, arguments that are not an object, no name */
	for (int id = 2; id <= 10; id++)
		if (id <= 3 || id >= 9)
			cr_assert_eq(error_code(&s, id), -32602, "request %d: %s", id, s.r.out);
	/* arguments a model can correct: a tool result with isError naming the argument (SEP-1303) */
	{
		static const char *const want[] = { "num_reports", "num_reports", "no_such_argument", "report_id",
						     "filter_types" };

		for (int id = 4; id <= 8; id++)
			cr_assert(strstr(tool_error(&s, id), want[id - 4]), "request %d: %s", id, tool_error(&s, id));
	}
	session__release(&s);

	input__init(&in);
	input__initialize(&in);
	input__request(&in, json_integer(1), "tools/list", NULL);
	input__run(&in, attach, &sa);
	cr_assert(has_tool(result(&sa, 1), "snapshot_process"));
	session__release(&sa);
}

/* No argument reads outside the report directory. */
Test(mcp, no_escape, .timeout = 60)
{
	char dir[PATH_MAX], root[PATH_MAX + 16], sub[PATH_MAX + 32], link[PATH_MAX + 32], up[PATH_MAX + 32];
	char *extra[] = { "--report-directory", root, NULL };
	struct session s;
	struct input in;
	char id[STORE_ID_LEN + 1];
	const char *bad_ids[] = { "../../etc", "/etc/passwd", "abcd-1234/../..", "ABCD-1234", "abcd-12345" };
	const char *bad_dirs[] = { "/etc", link, up, "/", "/nonexistent/memalot" };

	temp_dir(dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/reports", dir);
	snprintf(sub, sizeof(sub), "%s/sub", root);
	snprintf(link, sizeof(link), "%s/escape", root);
	snprintf(up, sizeof(up), "%s/..", root);
	cr_assert_eq(mkdir(root, 0700), 0);
	cr_assert_eq(mkdir(sub, 0700), 0);
	cr_assert_eq(symlink("/etc", link), 0);
	fake_report(root, "2026-01-01T00:00:00Z", 1, 1, 10, id);

	input__init(&in);
	input__initialize(&in);
	for (int i = 0; i < 5; i++)
		input__call(&in, 1 + i, "get_leak_report", json_pack("{s:s}", "report_id", bad_ids[i]));
	for (int i = 0; i < 5; i++)
		input__call(&in, 11 + i, "list_leak_reports", json_pack("{s:s}", "report_directory", bad_dirs[i]));
	input__call(&in, 16, "get_leak_report", json_pack("{s:s, s:s}", "report_id", id, "report_directory", link));
	input__call(&in, 17, "get_object_details", json_pack("{s:s, s:i, s:i, s:s}", "report_id", id, "iteration", 1,
							     "object_id", 1, "report_directory", "/etc"));
	/* inside the root: allowed */
	input__call(&in, 20, "list_leak_reports", json_pack("{s:s}", "report_directory", sub));
	input__call(&in, 21, "list_leak_reports", json_pack("{s:s}", "report_directory", root));
	input__request(&in, json_integer(30), "resources/read", json_pack("{s:s}", "uri", "memalot://reports/../../etc"));
	input__request(&in, json_integer(31), "resources/read", json_pack("{s:s}", "uri", "file:///etc/passwd"));
	input__request(&in, json_integer(32), "resources/read", json_pack("{s:s}", "uri", "memalot://reports/zzzz-9999"));
	input__run(&in, extra, &s);
	for (int i = 0; i < 5; i++)
		cr_assert(strstr(tool_error(&s, 1 + i), "not a report ID"), "%s", tool_error(&s, 1 + i));
	for (int i = 0; i < 5; i++)
		tool_error(&s, 11 + i);
	cr_assert(strstr(tool_error(&s, 11), "outside"), "%s", tool_error(&s, 11));
	cr_assert(strstr(tool_error(&s, 12), "outside"), "a symbolic link out was followed: %s", tool_error(&s, 12));
	tool_error(&s, 16);
	tool_error(&s, 17);
	cr_assert_eq(json_array_size(json_object_get(tool_ok(&s, 20), "reports")), 0);
	cr_assert_eq(json_array_size(json_object_get(tool_ok(&s, 21), "reports")), 1);
	for (int id_ = 30; id_ <= 32; id_++)
		cr_assert_eq(error_code(&s, id_), -32002, "resources/read %d: %s", id_, s.r.out);
	cr_assert_null(strstr(s.r.out, "root:"), "something of /etc came back");
	session__release(&s);
	rm_rf(dir);
}

/*
 * A real report outside the served directory is never read: not through an
 * absolute report_directory, nor one with '..' in it, nor a symbolic link in
 * the served directory, nor a session directory there that is a link out.
 * Every such request fails saying so, and inotify shows that nothing of the
 * outside report was even opened; the same report copied inside is (the
 * control: the watch works).
 */
Test(mcp, outside_report_not_read, .fini = harness__cleanup, .timeout = 180)
{
	char dir[PATH_MAX], root[PATH_MAX + 16], out[PATH_MAX + 16], sub[PATH_MAX + 32], link[PATH_MAX + 32];
	char sess[PATH_MAX + 48], inside[PATH_MAX + 48], session_link[PATH_MAX + 48];
	char up[PATH_MAX + 32], sub_up[PATH_MAX + 48], id[STORE_ID_LEN + 1];
	const char *link_id = "zz00-0000";     /* a session directory in root that is a link to sess */
	const char *outside[] = { out, up, sub_up, link };
	char *extra[] = { "--report-directory", root, NULL };
	json_int_t iteration, object_id;
	struct watch w[3];                      /* out, sess, inside */
	struct session s;
	struct input in;
	json_t *rep;
	int fd;

	temp_dir(dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/reports", dir);
	snprintf(out, sizeof(out), "%s/outside", dir);
	snprintf(sub, sizeof(sub), "%s/sub", root);
	snprintf(link, sizeof(link), "%s/escape", root);
	snprintf(up, sizeof(up), "%s/../outside", root);
	snprintf(sub_up, sizeof(sub_up), "%s/../../outside", sub);
	monitoring_run(out, id);
	cr_assert_str_neq(id, link_id);
	snprintf(sess, sizeof(sess), "%s/memalot_report_%s", out, id);
	snprintf(inside, sizeof(inside), "%s/memalot_report_%s", root, id);
	snprintf(session_link, sizeof(session_link), "%s/memalot_report_%s", root, link_id);
	cr_assert_eq(mkdir(root, 0700), 0);
	cr_assert_eq(mkdir(sub, 0700), 0);
	cr_assert_eq(symlink(out, link), 0);
	cr_assert_eq(symlink(sess, session_link), 0);
	copy_tree(sess, root);
	some_object(out, id, &iteration, &object_id);

	input__init(&in);
	input__initialize(&in);
	for (int i = 0; i < 4; i++) {
		input__call(&in, 10 + i, "list_leak_reports", json_pack("{s:s}", "report_directory", outside[i]));
		input__call(&in, 20 + i, "get_leak_report", json_pack("{s:s, s:i, s:s}", "report_id", id,
								     "num_iterations", 0, "report_directory",
								     outside[i]));
		input__call(&in, 30 + i, "get_object_details",
			    json_pack("{s:s, s:I, s:I, s:s}", "report_id", id, "iteration", iteration, "object_id",
				      object_id, "report_directory", outside[i]));
	}
	input__call(&in, 40, "get_leak_report", json_pack("{s:s}", "report_id", link_id));
	input__call(&in, 41, "get_object_details", json_pack("{s:s, s:I, s:I}", "report_id", link_id, "iteration",
							     iteration, "object_id", object_id));
	/* the control: the copy inside, by the default directory and by report_directory */
	input__call(&in, 50, "get_leak_report", json_pack("{s:s, s:i}", "report_id", id, "num_iterations", 0));
	input__call(&in, 51, "get_object_details", json_pack("{s:s, s:I, s:I, s:s}", "report_id", id, "iteration",
							     iteration, "object_id", object_id, "report_directory",
							     root));

	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	cr_assert_geq(fd, 0, "inotify_init1: %s", strerror(errno));
	watch__add(fd, &w[0], out);
	watch__add(fd, &w[1], sess);
	watch__add(fd, &w[2], inside);
	input__run(&in, extra, &s);
	watch__drain(fd, w, 3);
	close(fd);

	cr_assert(strstr(w[2].names, " summary.msgpack") && strstr(w[2].names, " iteration_000001.msgpack") &&
		  strstr(w[2].names, " iteration_000002.msgpack"),
		  "reading the report inside showed no opens of its files: the watch does not work (%d events:%s)",
		  w[2].events, w[2].names);
	cr_assert_eq(w[0].events, 0, "the outside report directory %s was opened or read:%s", out, w[0].names);
	cr_assert_eq(w[1].events, 0, "the outside session %s was opened or read:%s", sess, w[1].names);
	for (int i = 0; i < 4; i++)
		for (int k = 10; k <= 30; k += 10)
			cr_assert(strstr(tool_error(&s, k + i), "is outside the directory this server reads"),
				  "request %d, report_directory '%s': %s", k + i, outside[i], tool_error(&s, k + i));
	cr_assert(strstr(tool_error(&s, 40), "no report"), "%s", tool_error(&s, 40));
	cr_assert(strstr(tool_error(&s, 41), "no report"), "%s", tool_error(&s, 41));

	rep = tool_ok(&s, 50);
	cr_assert_eq(json_array_size(json_object_get(rep, "iterations")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(rep, "summary"), "report_id")), id);
	cr_assert_eq(json_integer_value(json_object_get(tool_ok(&s, 51), "object_id")), object_id);
	session__release(&s);
	rm_rf(dir);
}

/* The tools and resources on reports of a real monitoring run. */
Test(mcp, real_report, .fini = harness__cleanup, .timeout = 180)
{
	char dir[PATH_MAX], root[PATH_MAX + 16], uri[64], id[STORE_ID_LEN + 1];
	char *extra[] = { "--report-directory", root, NULL };
	json_t *list, *rep, *it, *detail, *obj, *contents, *doc;
	json_int_t number, addr;
	struct session s;
	struct input in;
	size_t i;

	temp_dir(dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/reports", dir);
	monitoring_run(root, id);
	snprintf(uri, sizeof(uri), "memalot://reports/%s", id);

	/* first round: what the IDs of the leaked objects are */
	input__init(&in);
	input__initialize(&in);
	input__call(&in, 1, "list_leak_reports", json_object());
	input__call(&in, 2, "get_leak_report", json_pack("{s:s}", "report_id", id));
	input__call(&in, 3, "get_leak_report", json_pack("{s:s, s:i, s:[s]}", "report_id", id, "num_iterations", 0,
						       "filter_types", "Session"));
	input__request(&in, json_integer(4), "resources/list", NULL);
	input__request(&in, json_integer(5), "resources/read", json_pack("{s:s}", "uri", uri));
	input__call(&in, 6, "get_leak_report", json_pack("{s:s}", "report_id", "zzzz-0000"));
	input__run(&in, extra, &s);

	list = json_object_get(tool_ok(&s, 1), "reports");
	cr_assert_eq(json_array_size(list), 1);
	rep = json_array_get(list, 0);
	cr_assert_str_eq(json_string_value(json_object_get(rep, "report_id")), id);
	cr_assert_eq(json_integer_value(json_object_get(rep, "iterations")), 2);
	cr_assert_gt(json_integer_value(json_object_get(rep, "leaked_objects")), 0);
	cr_assert(strstr(json_string_value(json_object_get(rep, "command")), "leaky_app.py"));
	cr_assert(json_is_string(json_object_get(rep, "start_time")));

	rep = tool_ok(&s, 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(rep, "summary"), "report_id")), id);
	cr_assert_eq(json_array_size(json_object_get(rep, "iterations")), 1, "num_iterations defaults to 1");
	it = json_array_get(json_object_get(rep, "iterations"), 0);
	cr_assert_eq(json_integer_value(json_object_get(it, "iteration_number")), 2, "not the newest iteration");

	rep = tool_ok(&s, 3);
	cr_assert_eq(json_array_size(json_object_get(rep, "iterations")), 2);
	json_array_foreach(json_object_get(rep, "iterations"), i, it) {
		json_t *ts = json_object_get(json_object_get(it, "leak_summary"), "type_summaries"), *x;
		size_t k;

		json_array_foreach(ts, k, x)
			cr_assert(strstr(json_string_value(json_object_get(x, "object_type")), "Session"));
		json_array_foreach(json_object_get(it, "object_details_list"), k, x)
			cr_assert(strstr(json_string_value(json_object_get(x, "object_type_name")), "Session"));
	}
	it = json_array_get(json_object_get(rep, "iterations"), 1);
	cr_assert_gt(json_array_size(json_object_get(json_object_get(it, "leak_summary"), "type_summaries")), 0,
		     "no __main__.Session leak in the last iteration: %s", s.r.out);
	detail = json_array_get(json_object_get(it, "object_details_list"), 0);
	cr_assert_not_null(detail, "no object details for __main__.Session");
	number = json_integer_value(json_object_get(it, "iteration_number"));
	addr = json_integer_value(json_object_get(detail, "object_id"));
	detail = json_deep_copy(detail);

	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(result(&s, 4), "resources"),
									   0), "uri")), uri);
	contents = json_array_get(json_object_get(result(&s, 5), "contents"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(contents, "mimeType")), "application/json");
	doc = json_loads(json_string_value(json_object_get(contents, "text")), 0, NULL);
	cr_assert_not_null(doc);
	cr_assert_eq(json_array_size(json_object_get(doc, "iterations")), 2);
	cr_assert(json_is_object(json_object_get(doc, "summary")));
	json_decref(doc);
	cr_assert(strstr(tool_error(&s, 6), "no report"), "%s", tool_error(&s, 6));
	session__release(&s);

	/* second round: one object, and objects or iterations that are not there */
	input__init(&in);
	input__initialize(&in);
	input__call(&in, 1, "get_object_details", json_pack("{s:s, s:I, s:I}", "report_id", id, "iteration", number,
							    "object_id", addr));
	input__call(&in, 2, "get_object_details", json_pack("{s:s, s:i, s:I}", "report_id", id, "iteration", 99,
							    "object_id", addr));
	input__call(&in, 3, "get_object_details", json_pack("{s:s, s:I, s:i}", "report_id", id, "iteration", number,
							    "object_id", 8));
	input__run(&in, extra, &s);
	obj = tool_ok(&s, 1);
	cr_assert_str_eq(json_string_value(json_object_get(obj, "report_id")), id);
	cr_assert_eq(json_integer_value(json_object_get(obj, "iteration")), number);
	json_object_set_new(detail, "report_id", json_string(id));
	json_object_set_new(detail, "iteration", json_integer(number));
	cr_assert(json_equal(obj, detail), "the object is not the report's entry");
	cr_assert(json_is_array(json_object_get(json_object_get(obj, "referrer_graph"), "graph_nodes")));
	cr_assert(strstr(tool_error(&s, 2), "no iteration 99"), "%s", tool_error(&s, 2));
	cr_assert(strstr(tool_error(&s, 3), "no details"), "%s", tool_error(&s, 3));
	json_decref(detail);
	session__release(&s);
	rm_rf(dir);
}

/* What the README promises each tool returns, member by member, with the JSON types of docs/report-format.md. */
static const struct field list_fields[] = {
	{ "reports", "array" }, { "total_reports", "integer" }, { "report_directory", "string" }, { 0 },
};
static const struct field list_entry_fields[] = {
	{ "report_id", "string" }, { "start_time", "string|null" }, { "pid", "integer|null" },
	{ "command", "string|null" }, { "iterations", "integer" }, { "leaked_objects", "integer|null" }, { 0 },
};
static const struct field report_fields[] = {
	{ "report_id", "string" }, { "summary", "object|null" }, { "iterations", "array" }, { 0 },
};
static const struct field summary_fields[] = {
	{ "report_id", "string" }, { "pid", "integer" }, { "command", "string" }, { "executable", "string" },
	{ "python_version", "string" }, { "host_name", "string" }, { "start_time", "string" },
	{ "memalot_version", "string" }, { "max_object_lifetime", "number|null" }, { "check_interval", "number|null" },
	{ "warmup_time", "number|null" }, { "schema_version", "string" }, { 0 },
};
static const struct field iteration_fields[] = {
	{ "report_id", "string" }, { "iteration_number", "integer" }, { "pid", "integer" }, { "command", "string" },
	{ "start_time", "string" }, { "end_time", "string" }, { "max_object_lifetime", "number|null" },
	{ "memory_usage", "object" }, { "leak_summary", "object" }, { "object_details_list", "array" },
	{ "details_matched_objects", "integer" }, { "details_matched_types", "integer" }, { 0 },
};
static const struct field memory_fields[] = {
	{ "rss_bytes", "integer" }, { "peak_rss_bytes", "integer" }, { "rss_change_bytes", "integer" },
	{ "peak_rss_change_bytes", "integer" }, { 0 },
};
static const struct field leak_summary_fields[] = {
	{ "type_summaries", "array" }, { "total_objects", "integer" }, { "total_types", "integer" },
	{ "size_computed", "boolean" }, { 0 },
};
static const struct field type_summary_fields[] = {
	{ "object_type", "string" }, { "count", "integer" }, { "shallow_size_bytes", "integer|null" }, { 0 },
};
static const struct field details_fields[] = {
	{ "object_type_name", "string" }, { "object_id", "integer" }, { "object_str", "string" },
	{ "shallow_size_bytes", "integer" }, { "deep_size_bytes", "integer" }, { "referrers_checked", "boolean" },
	{ "referrer_graph", "object|null" }, { 0 },
};
static const struct field graph_fields[] = {
	{ "target_ids", "array" }, { "root_ids", "array" }, { "graph_nodes", "array" },
	{ "stopped_by_limit", "boolean" }, { 0 },
};
static const struct field node_fields[] = {
	{ "id", "integer" }, { "name", "string" }, { "object_id", "integer|null" }, { "referent_ids", "array" }, { 0 },
};
static const struct field root_node_fields[] = { { "kind", "string" }, { 0 } };     /* optional */
static const struct field object_fields[] = { { "report_id", "string" }, { "iteration", "integer" }, { 0 } };
static const struct field snapshot_fields[] = {
	{ "pid", "integer" }, { "command", "string|null" }, { "python_version", "string" },
	{ "python_flavour", "string" }, { "layout_source", "string" }, { "reader", "string" },
	{ "pause_ms", "number" }, { "tries", "integer" }, { "interpreters", "integer" },
	{ "total_objects", "integer" }, { "generations", "object" }, { "partial", "boolean" }, { "types", "array" },
	{ 0 },
};
/* optional: paths memalot snapshot leaves out when they are not UTF-8, and the details of --why */
static const struct field snapshot_optional_fields[] = {
	{ "python_image", "string" }, { "layout_detail", "string" }, { "object_details", "array" }, { 0 },
};
static const struct field snapshot_type_fields[] = {
	{ "type", "string" }, { "count", "integer" }, { "generations", "object" }, { 0 },
};

/* The outputSchema of tool in a tools/list result. */
static const json_t *output_schema(const json_t *list, const char *tool)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(list, "tools"), i, t)
		if (!strcmp(json_string_value(json_object_get(t, "name")), tool))
			return json_object_get(t, "outputSchema");
	cr_assert_fail("no tool %s", tool);
	return NULL;
}

/* One object's details (what: where it is) against the details' object schema. */
static void assert_details(const char *what, const json_t *d, const json_t *schema)
{
	const json_t *g = json_object_get(d, "referrer_graph"), *gs = schema_prop(schema, "referrer_graph"), *n, *x;
	size_t i, k;

	assert_fields(what, d, schema, details_fields);
	if (json_is_null(g))
		return;
	assert_fields(what, g, gs, graph_fields);
	assert_int_array("target_ids", json_object_get(g, "target_ids"), schema_prop(gs, "target_ids"));
	assert_int_array("root_ids", json_object_get(g, "root_ids"), schema_prop(gs, "root_ids"));
	cr_assert_gt(json_array_size(json_object_get(g, "graph_nodes")), 0, "%s: a graph without nodes", what);
	json_array_foreach(json_object_get(g, "graph_nodes"), i, n) {
		assert_fields("graph node", n, schema_items(gs, "graph_nodes"), node_fields);
		assert_int_array("referent_ids", json_object_get(n, "referent_ids"),
				 schema_prop(schema_items(gs, "graph_nodes"), "referent_ids"));
		/* a root says what kind of root it is */
		json_array_foreach(json_object_get(g, "root_ids"), k, x)
			if (json_integer_value(x) == json_integer_value(json_object_get(n, "id")))
				assert_members("root node", n, schema_items(gs, "graph_nodes"), root_node_fields, true);
	}
}

/*
 * Every member the README promises each tool returns is there with its JSON
 * type, in results on a real report and a real process, and the tool's
 * outputSchema requires it with the same type; what a report does not tell
 * is null, not absent.
 */
Test(mcp, output_fields, .fini = harness__cleanup, .timeout = 180)
{
	char dir[PATH_MAX], root[PATH_MAX + 16], partial[PATH_MAX + 32], file[PATH_MAX + 80];
	char id[STORE_ID_LEN + 1], no_summary[STORE_ID_LEN + 1], no_iteration[STORE_ID_LEN + 1];
	char *extra[] = { "--report-directory", root, "--allow-attach", NULL };
	const json_t *list, *schema, *x, *y, *z;
	json_int_t iteration, object_id;
	const char *key;
	json_t *res;
	struct session s;
	struct target t;
	struct input in;
	size_t i, k, m, details = 0;

	temp_dir(dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/reports", dir);
	snprintf(partial, sizeof(partial), "%s/partial", root);
	monitoring_run(root, id);
	some_object(root, id, &iteration, &object_id);
	/* in a directory of their own: a report whose summary is gone, and one without an iteration yet */
	fake_report(partial, "2026-01-01T00:00:00Z", 1, 1, 10, no_summary);
	snprintf(file, sizeof(file), "%s/memalot_report_%s/summary.msgpack", partial, no_summary);
	cr_assert_eq(unlink(file), 0, "%s: %s", file, strerror(errno));
	fake_report(partial, "2026-02-01T00:00:00Z", 0, 0, 10, no_iteration);
	start_target(&t, LABEL, "leaky_app.py", NULL);

	input__init(&in);
	input__initialize(&in);
	input__request(&in, json_integer(1), "tools/list", NULL);
	input__call(&in, 2, "list_leak_reports", json_object());
	input__call(&in, 3, "get_leak_report", json_pack("{s:s, s:i}", "report_id", id, "num_iterations", 0));
	input__call(&in, 4, "get_object_details", json_pack("{s:s, s:I, s:I}", "report_id", id, "iteration",
							    iteration, "object_id", object_id));
	input__call(&in, 5, "snapshot_process", json_pack("{s:i, s:s}", "pid", (int)t.pid, "why", "__main__.Session"));
	input__call(&in, 6, "list_leak_reports", json_pack("{s:s}", "report_directory", partial));
	input__call(&in, 7, "get_leak_report", json_pack("{s:s, s:s}", "report_id", no_summary, "report_directory",
							 partial));
	input__run(&in, extra, &s);
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
	list = result(&s, 1);

	/* list_leak_reports: on the real report every member has a value */
	schema = output_schema(list, "list_leak_reports");
	res = tool_ok(&s, 2);
	assert_fields("list_leak_reports", res, schema, list_fields);
	cr_assert_eq(json_array_size(json_object_get(res, "reports")), 1);
	x = json_array_get(json_object_get(res, "reports"), 0);
	assert_fields("reports[0]", x, schema_items(schema, "reports"), list_entry_fields);
	cr_assert(json_is_string(json_object_get(x, "start_time")) && json_is_integer(json_object_get(x, "pid")) &&
		  json_is_string(json_object_get(x, "command")) &&
		  json_is_integer(json_object_get(x, "leaked_objects")),
		  "a real report has null members in list_leak_reports");

	/* get_leak_report: the summary and every iteration as attach --json prints them */
	schema = output_schema(list, "get_leak_report");
	res = tool_ok(&s, 3);
	assert_fields("get_leak_report", res, schema, report_fields);
	assert_fields("summary", json_object_get(res, "summary"), schema_prop(schema, "summary"), summary_fields);
	cr_assert_eq(json_array_size(json_object_get(res, "iterations")), 2);
	json_array_foreach(json_object_get(res, "iterations"), i, x) {
		const json_t *is = schema_items(schema, "iterations"), *ls = schema_prop(is, "leak_summary");

		assert_fields("iteration", x, is, iteration_fields);
		assert_fields("memory_usage", json_object_get(x, "memory_usage"), schema_prop(is, "memory_usage"),
			      memory_fields);
		y = json_object_get(x, "leak_summary");
		assert_fields("leak_summary", y, ls, leak_summary_fields);
		/* iteration 1 is the warm-up report: no leaks yet */
		cr_assert_eq(json_is_true(json_object_get(x, "warmup_report")), i == 0);
		if (i > 0)
			cr_assert_gt(json_array_size(json_object_get(y, "type_summaries")), 0);
		json_array_foreach(json_object_get(y, "type_summaries"), k, z)
			assert_fields("type_summaries[]", z, schema_items(ls, "type_summaries"), type_summary_fields);
		json_array_foreach(json_object_get(x, "object_details_list"), m, z) {
			assert_details("object_details_list[]", z, schema_items(is, "object_details_list"));
			details++;
		}
	}
	cr_assert_gt(details, 0, "no object details in the report");

	/* get_object_details: the details, the referrer graph, and where they are from */
	schema = output_schema(list, "get_object_details");
	res = tool_ok(&s, 4);
	assert_fields("get_object_details", res, schema, object_fields);
	assert_details("get_object_details", res, schema);
	cr_assert(json_is_object(json_object_get(res, "referrer_graph")), "no referrer graph");

	/* snapshot_process: memalot snapshot --json --why */
	schema = output_schema(list, "snapshot_process");
	res = tool_ok(&s, 5);
	assert_fields("snapshot_process", res, schema, snapshot_fields);
	assert_members("snapshot_process", res, schema, snapshot_optional_fields, true);
	cr_assert_gt(json_array_size(json_object_get(res, "types")), 0);
	json_array_foreach(json_object_get(res, "types"), i, x)
		assert_fields("types[]", x, schema_items(schema, "types"), snapshot_type_fields);
	json_object_foreach(json_object_get(res, "generations"), key, y)
		cr_assert(json_is_integer(y), "generations.%s is not an integer", key);
	cr_assert_gt(json_array_size(json_object_get(res, "object_details")), 0);
	json_array_foreach(json_object_get(res, "object_details"), i, x)
		assert_details("object_details[]", x, schema_items(schema, "object_details"));

	/* what a report does not tell is null, not absent */
	schema = output_schema(list, "list_leak_reports");
	res = tool_ok(&s, 6);
	cr_assert_eq(json_array_size(json_object_get(res, "reports")), 2);
	json_array_foreach(json_object_get(res, "reports"), i, x) {
		const char *rid = json_string_value(json_object_get(x, "report_id"));

		assert_fields("reports[]", x, schema_items(schema, "reports"), list_entry_fields);
		if (!strcmp(rid, no_summary))
			cr_assert(json_is_null(json_object_get(x, "start_time")) &&
				  json_is_null(json_object_get(x, "pid")) &&
				  json_is_null(json_object_get(x, "command")) &&
				  json_integer_value(json_object_get(x, "leaked_objects")) == 15,
				  "a report without a summary: %s", json_dumps(x, JSON_COMPACT));
		else
			cr_assert(!strcmp(rid, no_iteration) &&
				  json_integer_value(json_object_get(x, "iterations")) == 0 &&
				  json_is_null(json_object_get(x, "leaked_objects")),
				  "a report without an iteration: %s", json_dumps(x, JSON_COMPACT));
	}
	res = tool_ok(&s, 7);
	assert_fields("get_leak_report", res, output_schema(list, "get_leak_report"), report_fields);
	cr_assert(json_is_null(json_object_get(res, "summary")), "an unreadable summary is not null");
	session__release(&s);
	rm_rf(dir);
}

/* Newest first, num_reports honoured; a report over 4 MiB is cut with a note. */
Test(mcp, list_order_and_truncation, .timeout = 120)
{
	char dir[PATH_MAX], root[PATH_MAX + 16], old[STORE_ID_LEN + 1], mid[STORE_ID_LEN + 1], big[STORE_ID_LEN + 1];
	char *extra[] = { "--report-directory", root, NULL };
	json_t *list, *rep, *it;
	struct session s;
	struct input in;
	size_t i, details = 0;
	const char *text;

	temp_dir(dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/reports", dir);
	fake_report(root, "2026-01-01T00:00:00Z", 1, 1, 10, old);
	fake_report(root, "2026-02-01T00:00:00Z", 2, 1, 10, mid);
	/* 3 iterations of 3000 details of 1 KiB strings: about 10 MiB */
	fake_report(root, "2026-03-01T00:00:00Z", 3, 3000, 1024, big);

	input__init(&in);
	input__initialize(&in);
	input__call(&in, 1, "list_leak_reports", json_object());
	input__call(&in, 2, "list_leak_reports", json_pack("{s:i}", "num_reports", 2));
	input__call(&in, 3, "get_leak_report", json_pack("{s:s, s:i}", "report_id", big, "num_iterations", 0));
	input__call(&in, 4, "get_leak_report", json_pack("{s:s, s:i}", "report_id", mid, "num_iterations", 0));
	input__call(&in, 5, "get_object_details", json_pack("{s:s, s:i, s:I}", "report_id", big, "iteration", 3,
							    "object_id", (json_int_t)0x7f0000000000LL + 16 * 2999));
	input__run(&in, extra, &s);

	list = json_object_get(tool_ok(&s, 1), "reports");
	cr_assert_eq(json_array_size(list), 3);
	cr_assert_eq(json_integer_value(json_object_get(tool_ok(&s, 1), "total_reports")), 3);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "report_id")), big);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 1), "report_id")), mid);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 2), "report_id")), old);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(list, 1), "leaked_objects")), 30);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(list, 1), "iterations")), 2);
	cr_assert_eq(json_array_size(json_object_get(tool_ok(&s, 2), "reports")), 2);

	rep = tool_ok(&s, 3);
	cr_assert(json_is_true(json_object_get(rep, "truncated")), "a 10 MiB report was not cut");
	cr_assert(json_is_string(json_object_get(rep, "note")));
	text = json_string_value(json_object_get(json_array_get(json_object_get(result(&s, 3), "content"), 0), "text"));
	cr_assert_leq(strlen(text), MAX_RESULT, "the cut report is %zu bytes", strlen(text));
	/* the newest iteration keeps what fits */
	json_array_foreach(json_object_get(rep, "iterations"), i, it)
		details += json_array_size(json_object_get(it, "object_details_list"));
	it = json_array_get(json_object_get(rep, "iterations"), json_array_size(json_object_get(rep, "iterations")) - 1);
	cr_assert_eq(json_integer_value(json_object_get(it, "iteration_number")), 3);
	cr_assert_gt(details, 0, "everything was cut");
	cr_assert_null(json_object_get(tool_ok(&s, 4), "truncated"));
	cr_assert_eq(json_array_size(json_object_get(tool_ok(&s, 4), "iterations")), 2);
	cr_assert_eq(json_integer_value(json_object_get(tool_ok(&s, 5), "object_id")), 0x7f0000000000LL + 16 * 2999);
	session__release(&s);
	rm_rf(dir);
}

/* snapshot_process runs memalot snapshot: a census, a why, and a pid that is not there. */
Test(mcp, snapshot_process, .fini = harness__cleanup, .timeout = 180)
{
	char *extra[] = { "--allow-attach", NULL };
	json_t *snap, *details;
	struct session s;
	struct target t;
	struct input in;

	start_target(&t, LABEL, "leaky_app.py", NULL);

	input__init(&in);
	input__initialize(&in);
	input__call(&in, 1, "snapshot_process", json_pack("{s:i}", "pid", (int)t.pid));
	input__call(&in, 2, "snapshot_process", json_pack("{s:i, s:s}", "pid", (int)t.pid, "why", "__main__.Session"));
	input__call(&in, 3, "snapshot_process", json_pack("{s:i}", "pid", INT_MAX));
	input__call(&in, 4, "snapshot_process", json_pack("{s:i, s:s}", "pid", (int)t.pid, "why", "--help"));
	input__run(&in, extra, &s);

	snap = tool_ok(&s, 1);
	cr_assert_eq(json_integer_value(json_object_get(snap, "pid")), t.pid);
	cr_assert_gt(json_integer_value(json_object_get(snap, "total_objects")), 0);
	cr_assert_gt(json_array_size(json_object_get(snap, "types")), 0);
	details = json_object_get(tool_ok(&s, 2), "object_details");
	cr_assert_gt(json_array_size(details), 0, "no details for __main__.Session");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(details, 0), "object_type_name")),
			 "__main__.Session");
	cr_assert(strstr(tool_error(&s, 3), "no process"), "%s", tool_error(&s, 3));
	/* a why that looks like an option is only a type name */
	cr_assert_eq(json_array_size(json_object_get(tool_ok(&s, 4), "object_details")), 0);
	session__release(&s);
	/* the target was not left stopped */
	assert_running_free(t.pid, "after snapshot_process");
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);
}

/* The members of schema 1.1 in get_leak_report, typed as the output schema must say. */
static const struct field groups_iteration_fields[] = {
	{ "leak_groups", "array|null" }, { "total_leak_groups", "integer|null" }, { 0 },
};
static const struct field group_fields[] = {
	{ "root", "string" }, { "root_kind", "string" }, { "path", "string" }, { "object_count", "integer" },
	{ "retained_size_bytes", "integer" }, { "retained_size_exact", "boolean" }, { "types", "array" },
	{ "total_types", "integer" }, { 0 },
};
static const struct field group_type_fields[] = { { "object_type", "string" }, { "count", "integer" }, { 0 } };
static const struct field details_1_1_fields[] = {
	{ "retained_size_bytes", "integer|null" }, { "deep_size_complete", "boolean|null" },
	{ "deep_size_objects", "integer|null" }, { 0 },
};

/*
 * get_leak_report serves the leak groups of a real report (filter_types
 * keeps the groups that hold a type it names), typed as its output schema
 * says; a report written before schema 1.1 gets them, and the retained and
 * bounded deep sizes of its details, as null.
 */
Test(mcp, get_leak_report_has_leak_groups, .fini = harness__cleanup, .timeout = 180)
{
	char dir[PATH_MAX], root[PATH_MAX + 16], id[STORE_ID_LEN + 1], old[STORE_ID_LEN + 1];
	char *extra[] = { "--report-directory", root, NULL };
	json_t *iters[GROUPS_MAX_REPORTS], *res, *x, *d, *gr;
	const json_t *list, *schema, *is;
	struct groups_run g;
	struct session s;
	struct input in;
	size_t i, k, n = 0;

	temp_dir(dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/reports", dir);
	groups_run__start(&g, LABEL, root);
	cr_assert_eq(target__stop(&g.t), 0, "%s", g.t.err);
	only_report(root, id);
	groups__report_1_0(root, old);

	input__init(&in);
	input__initialize(&in);
	input__request(&in, json_integer(1), "tools/list", NULL);
	input__call(&in, 2, "get_leak_report", json_pack("{s:s, s:i}", "report_id", id, "num_iterations", 0));
	input__call(&in, 3, "get_leak_report", json_pack("{s:s, s:i, s:[s]}", "report_id", id, "num_iterations", 0,
							 "filter_types", "QueuedItem"));
	input__call(&in, 4, "get_leak_report", json_pack("{s:s}", "report_id", old));
	input__call(&in, 5, "get_object_details", json_pack("{s:s, s:i, s:I}", "report_id", old, "iteration", 1,
							    "object_id", (json_int_t)0x7f0000001000LL));
	/* the seed's form: one comma-separated string, any case */
	input__call(&in, 6, "get_leak_report", json_pack("{s:s, s:i, s:s}", "report_id", id, "num_iterations", 0,
							 "filter_types", " queueditem ,NoSuchType"));
	input__run(&in, extra, &s);
	list = result(&s, 1);
	schema = output_schema(list, "get_leak_report");
	is = schema_items(schema, "iterations");

	/* the live reports' groups, and every member typed as the schema says */
	res = tool_ok(&s, 2);
	json_array_foreach(json_object_get(res, "iterations"), i, x) {
		cr_assert_lt(n, GROUPS_MAX_REPORTS);
		iters[n++] = x;
		assert_fields("iteration", x, is, groups_iteration_fields);
		json_array_foreach(json_object_get(x, "leak_groups"), k, gr) {
			const json_t *t;
			size_t m;

			assert_fields("leak_groups[]", gr, schema_items(is, "leak_groups"), group_fields);
			json_array_foreach(json_object_get(gr, "types"), m, t)
				assert_fields("leak_groups[].types[]", t,
					      schema_items(schema_items(is, "leak_groups"), "types"), group_type_fields);
		}
		json_array_foreach(json_object_get(x, "object_details_list"), k, d)
			assert_fields("object_details_list[]", d, schema_items(is, "object_details_list"),
				      details_1_1_fields);
	}
	groups__check("MCP get_leak_report", iters, n, g.sum);
	/* filter_types: only the thread's list's group */
	json_array_foreach(json_object_get(tool_ok(&s, 3), "iterations"), i, x)
		json_array_foreach(json_object_get(x, "leak_groups"), k, gr)
			cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(gr, "types"), 0),
									   "object_type")),
					 GROUPS_QUEUE_TYPE, "filter_types QueuedItem kept another group");
	cr_assert(json_equal(json_object_get(tool_ok(&s, 6), "iterations"), json_object_get(tool_ok(&s, 3), "iterations")),
		  "filter_types \" queueditem ,NoSuchType\" differs from [\"QueuedItem\"]");
	cr_assert_eq(json_array_size(json_object_get(tool_ok(&s, 6), "filter_types")), 2);

	/* a 1.0 report: what it does not tell is null */
	x = json_array_get(json_object_get(tool_ok(&s, 4), "iterations"), 0);
	cr_assert_not_null(x, "no iteration in the 1.0 report");
	assert_fields("iteration of a 1.0 report", x, is, groups_iteration_fields);
	cr_assert(json_is_null(json_object_get(x, "leak_groups")) && json_is_null(json_object_get(x, "total_leak_groups")),
		  "leak_groups of a 1.0 report are not null");
	d = json_array_get(json_object_get(x, "object_details_list"), 0);
	assert_fields("details of a 1.0 report", d, schema_items(is, "object_details_list"), details_1_1_fields);
	cr_assert(json_is_null(json_object_get(d, "retained_size_bytes")) &&
		  json_is_null(json_object_get(d, "deep_size_complete")), "the sizes of a 1.0 report's details");
	res = tool_ok(&s, 5);
	assert_fields("get_object_details of a 1.0 report", res, output_schema(list, "get_object_details"),
		      details_1_1_fields);
	cr_assert(json_is_null(json_object_get(res, "retained_size_bytes")), "get_object_details of a 1.0 report");
	session__release(&s);
	groups_run__release(&g);
	rm_rf(dir);
}

/*
 * watch_process: its input schema is the engine's option table (the seed's
 * keywords, their types and defaults); a watch of a leaking process returns
 * its reports with the exact root, saved where the server reads; its
 * options go through (check_referrers=false: no referrer graphs); bad values
 * are refused before anything runs; not offered without --allow-attach.
 */
Test(mcp, watch_process_made_from_the_option_table, .fini = harness__cleanup, .timeout = 180)
{
	char dir[PATH_MAX], root[PATH_MAX + 16];
	char *extra[] = { "--report-directory", root, "--allow-attach", NULL };
	const json_t *list, *tool = NULL, *props, *x;
	size_t i, ntable, nseed = 0;
	const struct option_def *table = options__table(&ntable);
	json_t *res, *it;
	struct session s;
	struct target t;
	struct input in;
	bool found = false;

	temp_dir(dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/reports", dir);
	start_target(&t, LABEL, "leaky_app.py", NULL);
	input__init(&in);
	input__initialize(&in);
	input__request(&in, json_integer(1), "tools/list", NULL);
	input__call(&in, 2, "watch_process", json_pack("{s:i, s:f, s:f, s:[s]}", "pid", (int)t.pid, "max_object_lifetime",
						       1.0, "duration", 4.5, "included_type_names", "Session"));
	input__call(&in, 3, "watch_process", json_pack("{s:i, s:f, s:f, s:b}", "pid", (int)t.pid,
						       "max_object_lifetime", 0.5, "duration", 2.5, "check_referrers", 0));
	input__call(&in, 4, "watch_process", json_pack("{s:i, s:i}", "pid", (int)t.pid, "max_object_details", -1));
	input__call(&in, 5, "watch_process", json_pack("{s:i, s:s}", "pid", (int)t.pid, "report_directory", "/"));
	input__call(&in, 6, "watch_process", json_pack("{s:i, s:f}", "pid", (int)t.pid, "duration", 301.0));
	input__run(&in, extra, &s);
	cr_assert_eq(target__stop(&t), 0, "%s", t.err);

	list = result(&s, 1);
	json_array_foreach(json_object_get(list, "tools"), i, x)
		if (!strcmp(json_string_value(json_object_get(x, "name")), "watch_process"))
			tool = x;
	cr_assert_not_null(tool, "watch_process is not offered with --allow-attach");
	props = json_object_get(json_object_get(tool, "inputSchema"), "properties");
	for (i = 0; i < ntable; i++) {
		const json_t *p;

		if (!table[i].seed || !(table[i].cmds & OPTS_ATTACH) || table[i].type == OPT_PATH ||
		    table[i].type == OPT_ACCEPTED || !strcmp(table[i].seed, "tee_console") ||
		    !strcmp(table[i].seed, "max_object_age_calls") || !strcmp(table[i].seed, "warmup_calls"))
			continue;
		nseed++;
		p = json_object_get(props, table[i].seed);
		cr_assert_not_null(p, "watch_process has no argument '%s'", table[i].seed);
		if (table[i].dflt && table[i].type != OPT_WORDS)
			cr_assert_eq(json_number_value(json_object_get(p, "default")), atof(table[i].dflt),
				     "%s: default %s", table[i].seed, table[i].dflt);
	}
	cr_assert_eq(json_object_size(props), nseed + 2, "watch_process has arguments the table does not: %s",
		     json_dumps(props, 0));
	cr_assert(json_is_true(json_object_get(json_object_get(props, "check_referrers"), "default")));

	res = tool_ok(&s, 2);
	cr_assert_eq(json_integer_value(json_object_get(res, "exit_code")), 0, "%s", json_dumps(res, 0));
	cr_assert_geq(json_array_size(json_object_get(res, "iterations")), 2, "%s", json_dumps(res, 0));
	it = json_array_get(json_object_get(res, "iterations"), json_array_size(json_object_get(res, "iterations")) - 1);
	cr_assert_gt(leak_count(it, "__main__.Session"), 0, "no Session leaked: %s", json_dumps(it, 0));
	json_array_foreach(json_object_get(it, "leak_groups"), i, x)
		found |= strstr(json_string_value(json_object_get(x, "root")), "__main__._CACHE") != NULL;
	cr_assert(found, "no group held by __main__._CACHE: %s", json_dumps(json_object_get(it, "leak_groups"), 0));
	{
		char path[PATH_MAX + 64];
		struct stat st;

		snprintf(path, sizeof(path), "%s/memalot_report_%s", root,
			 json_string_value(json_object_get(res, "report_id")));
		cr_assert_eq(stat(path, &st), 0, "the watch's report is not saved in %s", path);
	}
	res = tool_ok(&s, 3);
	it = json_array_get(json_object_get(res, "iterations"), json_array_size(json_object_get(res, "iterations")) - 1);
	json_array_foreach(json_object_get(it, "object_details_list"), i, x)
		cr_assert(json_is_false(json_object_get(x, "referrers_checked")),
			  "check_referrers=false still searched referrers");
	/* bad arguments: refused with the argument's name, as a tool error (isError), as every tool's */
	for (json_int_t id = 4; id <= 6; id++) {
		const char *want[] = { "max_object_details", "report_directory", "duration" };
		const char *m = tool_error(&s, id);

		cr_assert(strstr(m, want[id - 4]), "request %lld: %s", (long long)id, m);
	}
	session__release(&s);
}
