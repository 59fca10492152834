/* SPDX-License-Identifier: MIT */
/* Unit tests of reports/store.c's encoding: round trips and every way a file can be bad. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../reports/render.h"
#include "../../reports/store.h"

static json_t *sample(void)
{
	json_error_t e;
	json_t *doc = json_loads("{\"report_id\": \"abcd-1234\", \"iteration_number\": 2, \"max_object_lifetime\": 1.5,"
				 " \"leak_summary\": {\"type_summaries\": [{\"object_type\": \"builtins.str\","
				 " \"count\": 3, \"shallow_size_bytes\": null}], \"size_computed\": false},"
				 " \"object_id\": 140000000000000, \"neg\": -7, \"s\": \"caf\\u00e9\"}",
				 0, &e);
	cr_assert_not_null(doc, "%s", e.text);
	return doc;
}

/* The envelope around any document, with the given major version and kind. */
static void *envelope(int major, const char *kind, const char *body, size_t body_len, size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	void *out;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	msgpack_pack_str_with_body(&pk, "format", 6);
	msgpack_pack_str_with_body(&pk, "memalot-report", 14);
	msgpack_pack_str_with_body(&pk, "schema_major", 12);
	msgpack_pack_int(&pk, major);
	msgpack_pack_str_with_body(&pk, "kind", 4);
	msgpack_pack_str_with_body(&pk, kind, strlen(kind));
	msgpack_pack_str_with_body(&pk, "document", 8);
	msgpack_sbuffer_write(&sb, body, body_len);
	*len = sb.size;
	out = malloc(sb.size);
	memcpy(out, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return out;
}

static void expect_error(const void *buf, size_t len, const char *kind, const char *what)
{
	char err[256] = "";
	json_t *doc = (json_t *)1;

	cr_assert_neq(store__decode(buf, len, kind, &doc, err, sizeof(err)), 0, "accepted: %s", what);
	cr_assert_null(doc);
	cr_assert(strstr(err, what), "error '%s' does not say '%s'", err, what);
	cr_assert_null(strchr(err, '\n'), "not one line: %s", err);
}

Test(store, round_trip)
{
	json_t *doc = sample(), *back;
	size_t len;
	char err[256];
	void *buf = store__encode(doc, "iteration", &len);

	cr_assert_eq(store__decode(buf, len, "iteration", &back, err, sizeof(err)), 0, "%s", err);
	cr_assert(json_equal(doc, back));
	/* key order is kept: the JSON text is the same */
	{
		char *a = json_dumps(doc, JSON_COMPACT), *b = json_dumps(back, JSON_COMPACT);
		cr_assert_str_eq(a, b);
		free(a);
		free(b);
	}
	expect_error(buf, len, "summary", "not a summary file");
	json_decref(back);
	json_decref(doc);
	free(buf);
}

Test(store, truncated_files_are_refused)
{
	json_t *doc = sample();
	size_t len;
	void *buf = store__encode(doc, "iteration", &len);

	for (size_t cut = 0; cut < len; cut++) {
		char err[256];
		json_t *back;
		cr_assert_neq(store__decode(buf, cut, "iteration", &back, err, sizeof(err)), 0, "cut at %zu", cut);
	}
	expect_error(buf, len / 2, "iteration", "truncated");
	json_decref(doc);
	free(buf);
}

Test(store, a_future_major_version_is_refused)
{
	size_t len;
	void *buf = envelope(2, "iteration", "\x80", 1, &len);

	expect_error(buf, len, "iteration", "schema version 2");
	free(buf);
}

Test(store, trailing_bytes_are_refused)
{
	size_t len;
	void *buf = envelope(1, "iteration", "\x80\x00", 2, &len);

	expect_error(buf, len, "iteration", "trailing bytes");
	free(buf);
}

Test(store, a_container_bigger_than_the_file_is_refused)
{
	size_t len;
	/* an array that claims 4 billion elements: msgpack-c must not be asked to allocate them */
	void *buf = envelope(1, "iteration", "\x81\xa1x\xdd\xff\xff\xff\xff", 8, &len);

	expect_error(buf, len, "iteration", "container larger than the file");
	free(buf);
}

Test(store, nesting_is_bounded)
{
	char body[300];
	size_t len;
	void *buf;

	body[0] = '\x81';
	body[1] = '\xa1';
	body[2] = 'x';
	memset(body + 3, '\x91', sizeof(body) - 4); /* arrays in arrays */
	body[sizeof(body) - 1] = '\xc0';
	buf = envelope(1, "iteration", body, sizeof(body), &len);
	expect_error(buf, len, "iteration", "nested too deeply");
	free(buf);
}

Test(store, what_json_cannot_hold_is_refused)
{
	size_t len;
	void *buf;

	buf = envelope(1, "iteration", "\x81\xa1x\xa2\xff\xfe", 6, &len);
	expect_error(buf, len, "iteration", "not UTF-8");
	free(buf);
	buf = envelope(1, "iteration", "\x81\x01\x02", 3, &len);
	expect_error(buf, len, "iteration", "not a string");
	free(buf);
	buf = envelope(1, "iteration", "\x81\xa1x\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 12, &len);
	expect_error(buf, len, "iteration", "not finite");
	free(buf);
	buf = envelope(1, "iteration", "\x81\xa1x\xc4\x01\x00", 6, &len);
	expect_error(buf, len, "iteration", "binary");
	free(buf);
	buf = envelope(1, "iteration", "\x92\x01\x02", 3, &len);
	expect_error(buf, len, "iteration", "no document");
	free(buf);
	expect_error("\xc1", 1, "iteration", "invalid msgpack type byte");
	expect_error("\x80", 1, "iteration", "not a memalot report file");
}

Test(store, report_ids)
{
	char id[STORE_ID_LEN + 1];

	cr_assert(store__valid_id("abcd-1234"));
	cr_assert_not(store__valid_id("ABCD-1234"));
	cr_assert_not(store__valid_id("../../etc"));
	cr_assert_not(store__valid_id("abcd-12345"));
	cr_assert_not(store__valid_id("abcd/1234"));
	cr_assert_not(store__valid_id(""));
	for (int i = 0; i < 100; i++) {
		store__new_id(id);
		cr_assert(store__valid_id(id), "%s", id);
	}
}

/* ---- writing: the files of a session ---- */

static char tmp_root[64];

/* nftw callback: remove one file or (emptied) directory. */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* .fini: remove the directory a test made, also when it failed. */
static void remove_tmp_root(void)
{
	if (tmp_root[0])
		nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmp_root[0] = 0;
}

/* A fresh directory under /tmp, removed by remove_tmp_root. */
static const char *make_tmp_root(void)
{
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/memalot-test-store-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp_root), "mkdtemp: %m");
	return tmp_root;
}

/* store_warn_fn: log the warning and count it in *(int *)arg. */
static void count_warning(const char *msg, void *arg)
{
	cr_log_info("warning: %s", msg);
	(*(int *)arg)++;
}

/* The entries of dir (without . and ..), sorted, joined with spaces. */
static char *entries(const char *dir)
{
	struct dirent **v;
	int n = scandir(dir, &v, NULL, alphasort);
	char *out = calloc(1, 1);
	size_t len = 0;

	cr_assert_geq(n, 0, "%s: %m", dir);
	for (int i = 0; i < n; i++) {
		if (strcmp(v[i]->d_name, ".") && strcmp(v[i]->d_name, "..")) {
			size_t k = strlen(v[i]->d_name);
			out = realloc(out, len + k + 2);
			sprintf(out + len, "%s%s", len ? " " : "", v[i]->d_name);
			len += k + (len ? 1 : 0);
		}
		free(v[i]);
	}
	free(v);
	return out;
}

/* Every write leaves its file, mode 0600, and nothing else: no temp file, also for a rewrite. */
Test(store, writes_leave_only_their_files, .fini = remove_tmp_root)
{
	struct store_session s;
	json_t *doc = sample(), *other = json_pack("{s:i}", "iteration_number", 7), *summary, *its;
	char err[256], *names;
	int warnings = 0;

	cr_assert_eq(store__create(make_tmp_root(), &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store__write_summary(&s, doc, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store__write_iteration(&s, 1, doc, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store__write_iteration(&s, 2, doc, err, sizeof(err)), 0, "%s", err);
	/* a name that exists: replaced, through a temp name that must not stay */
	cr_assert_eq(store__write_iteration(&s, 1, other, err, sizeof(err)), 0, "%s", err);
	names = entries(s.path);
	cr_assert_str_eq(names, "iteration_000001.msgpack iteration_000002.msgpack summary.msgpack");
	free(names);
	{
		const char *files[] = { "summary.msgpack", "iteration_000001.msgpack", "iteration_000002.msgpack" };
		for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
			struct stat st;
			cr_assert_eq(fstatat(s.dirfd, files[i], &st, AT_SYMLINK_NOFOLLOW), 0, "%s: %m", files[i]);
			cr_assert(S_ISREG(st.st_mode), "%s", files[i]);
			cr_assert_eq(st.st_mode & 0777, 0600, "%s: mode %o", files[i], st.st_mode & 0777);
			cr_assert_eq(st.st_nlink, 1, "%s: %lu links", files[i], (unsigned long)st.st_nlink);
		}
	}
	cr_assert_eq(store__load(tmp_root, s.id, 0, &summary, &its, count_warning, &warnings, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(warnings, 0);
	cr_assert(json_equal(summary, doc));
	cr_assert_eq(json_array_size(its), 2);
	cr_assert(json_equal(json_array_get(its, 0), other), "the rewrite did not replace iteration 1");
	cr_assert(json_equal(json_array_get(its, 1), doc));
	json_decref(summary);
	json_decref(its);
	json_decref(other);
	json_decref(doc);
	store__close(&s);
}

/*
 * A session with no file yet (its writer stopped before the summary was
 * complete) is no damage: listed and loaded without a warning. A missing
 * summary next to iterations is warned about.
 */
Test(store, a_session_without_files_is_no_damage, .fini = remove_tmp_root)
{
	struct store_session s;
	struct store_entry *v;
	json_t *doc = sample(), *summary, *its;
	char err[256];
	size_t n;
	int warnings = 0;

	cr_assert_eq(store__create(make_tmp_root(), &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store__list(tmp_root, &v, &n, count_warning, &warnings, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 1);
	cr_assert_null(v[0].summary);
	cr_assert_eq(v[0].iterations, 0);
	store__list_free(v, n);
	cr_assert_eq(store__load(tmp_root, s.id, 0, &summary, &its, count_warning, &warnings, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_null(summary);
	cr_assert_eq(json_array_size(its), 0);
	json_decref(its);
	cr_assert_eq(warnings, 0);

	cr_assert_eq(store__write_iteration(&s, 1, doc, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store__list(tmp_root, &v, &n, count_warning, &warnings, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].iterations, 1);
	store__list_free(v, n);
	cr_assert_eq(warnings, 1, "a missing summary next to an iteration was not warned about");
	json_decref(doc);
	store__close(&s);
}

/* One detail of the graph test: TYPE at ADDR held by the dict at 0x9000 as HOW, in group GROUP. */
static json_t *held_detail(const char *type, unsigned addr, const char *how, int group)
{
	json_error_t e;
	char *text = xasprintf("{\"object_type_name\": \"%s\", \"object_id\": %u, \"leak_group\": %d,"
			       " \"referrer_graph\": {\"target_ids\": [0], \"root_ids\": [2], \"graph_nodes\": ["
			       "{\"id\": 0, \"name\": \"%s at 0x%x\", \"object_id\": %u, \"referent_ids\": []},"
			       "{\"id\": 1, \"name\": \"builtins.dict at 0x9000, %s\", \"object_id\": 36864,"
			       " \"referent_ids\": [0]},"
			       "{\"id\": 2, \"name\": \"app._CACHE (global)\", \"kind\": \"global\", \"referent_ids\": [1]}]}}",
			       type, addr, group, type, addr, addr, how);
	json_t *d = json_loads(text, 0, &e);

	cr_assert_not_null(d, "%s: %s", e.text, text);
	free(text);
	return d;
}

/*
 * render__graph_dot: a dict's values and its keys are two leak groups with
 * one root and one holder; each gets its cluster, the values' siblings
 * beyond the first few collapse into one node, the key stays in its group.
 */
Test(render, graph_keeps_groups_under_one_holder_apart)
{
	json_error_t e;
	json_t *it = json_loads("{\"report_id\": \"abcd-1234\", \"iteration_number\": 2, \"leak_groups\": ["
				"{\"root\": \"app._CACHE (global)\", \"root_kind\": \"global\", \"path\": \"dict[*]\","
				" \"object_count\": 8, \"retained_size_bytes\": 800, \"total_types\": 1,"
				" \"types\": [{\"object_type\": \"app.Resp\", \"count\": 8}]},"
				"{\"root\": \"app._CACHE (global)\", \"root_kind\": \"global\", \"path\": \"dict (key)\","
				" \"object_count\": 8, \"retained_size_bytes\": 400, \"total_types\": 1,"
				" \"types\": [{\"object_type\": \"builtins.str\", \"count\": 8}]}],"
				" \"object_details_list\": []}", 0, &e);
	json_t *details;
	char *dot = NULL;
	size_t len = 0;
	FILE *f;

	cr_assert_not_null(it, "%s", e.text);
	details = json_object_get(it, "object_details_list");
	for (unsigned i = 0; i < 8; i++) {
		char how[32];

		snprintf(how, sizeof(how), "dict key='k%u'", i);
		json_array_append_new(details, held_detail("app.Resp", 0x1000 + 0x40 * i, how, 0));
	}
	json_array_append_new(details, held_detail("builtins.str", 0x2000, "dict key", 1));
	f = open_memstream(&dot, &len);
	render__graph_dot(f, it);
	fclose(f);
	cr_assert(strstr(dot, "subgraph cluster_g0") && strstr(dot, "subgraph cluster_g1"), "%s", dot);
	cr_assert(strstr(dot, "label=\"8 \u00d7 app.Resp, 800 bytes retained\""), "%s", dot);
	cr_assert(strstr(dot, "... 3 more app.Resp"), "%s", dot);
	/* the key is drawn in its group's cluster, after cluster_g1's label */
	cr_assert(strstr(dot, "label=\"builtins.str at 0x2000\"") > strstr(dot, "subgraph cluster_g1"), "%s", dot);
	cr_assert_eq(strstr(strstr(dot, "builtins.dict at 0x9000") + 1, "builtins.dict at 0x9000"), NULL,
		     "the holder is drawn twice: %s", dot);
	free(dot);
	json_decref(it);
}
