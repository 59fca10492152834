/* SPDX-License-Identifier: MIT */
/* The report store: msgpack files in per-session directories (see store.h). */
#define _GNU_SOURCE
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <msgpack.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"

#define FORMAT_NAME "memalot-report"
#define SESSION_PREFIX "memalot_report_"
#define SUMMARY_FILE "summary.msgpack"
#define MAX_DEPTH 64
#define MAX_ITERATIONS 1000000

bool store__valid_id(const char *id)
{
	if (!id || strlen(id) != STORE_ID_LEN)
		return false;
	for (int i = 0; i < STORE_ID_LEN; i++) {
		char c = id[i];
		if (i == 4 ? c != '-' : !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

char *store__default_dir(void)
{
	const char *env = getenv("MEMALOT_REPORT_DIRECTORY"), *home = getenv("HOME");

	if (env && *env)
		return xstrdup(env);
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw && pw->pw_dir ? pw->pw_dir : "/";
	}
	return xasprintf("%s/.memalot/reports", home);
}

/* ---- encoding ---- */

static void pack_json(msgpack_packer *pk, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		msgpack_pack_map(pk, json_object_size(v));
		json_object_foreach((json_t *)v, key, val) {
			msgpack_pack_str_with_body(pk, key, strlen(key));
			pack_json(pk, val);
		}
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *val;
		msgpack_pack_array(pk, json_array_size(v));
		json_array_foreach(v, i, val)
			pack_json(pk, val);
		break;
	}
	case JSON_STRING:
		msgpack_pack_str_with_body(pk, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(v));
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(v));
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	default:
		msgpack_pack_nil(pk);
		break;
	}
}

void *store__encode(const json_t *doc, const char *kind, size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	void *out;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	/* the envelope: what this is and which schema, then the document */
	msgpack_pack_map(&pk, 5);
	msgpack_pack_str_with_body(&pk, "format", 6);
	msgpack_pack_str_with_body(&pk, FORMAT_NAME, strlen(FORMAT_NAME));
	msgpack_pack_str_with_body(&pk, "schema_major", 12);
	msgpack_pack_int(&pk, STORE_SCHEMA_MAJOR);
	msgpack_pack_str_with_body(&pk, "schema_minor", 12);
	msgpack_pack_int(&pk, STORE_SCHEMA_MINOR);
	msgpack_pack_str_with_body(&pk, "kind", 4);
	msgpack_pack_str_with_body(&pk, kind, strlen(kind));
	msgpack_pack_str_with_body(&pk, "document", 8);
	pack_json(&pk, doc);
	*len = sb.size;
	out = xmalloc(sb.size ? sb.size : 1);
	memcpy(out, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return out;
}

/* ---- decoding untrusted bytes ---- */

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Check the structure before msgpack-c sees it: every header complete,
 * every string inside the buffer, nesting at most MAX_DEPTH, and no
 * container declaring more elements than bytes are left (msgpack-c
 * allocates a container's elements up front, so a few bytes could
 * otherwise ask for gigabytes). @return NULL or what is wrong
 */
static const char *prescan(const uint8_t *p, size_t len)
{
	uint64_t pending[MAX_DEPTH + 1];
	int depth = 0;
	size_t off = 0;

	pending[0] = 1;
	while (depth >= 0) {
		uint8_t b;
		uint64_t n = 0, skip = 0;
		int hdr = 0;
		bool container = false;

		if (!pending[depth]) {
			depth--;
			continue;
		}
		pending[depth]--;
		if (off >= len)
			return "truncated";
		b = p[off++];
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
			continue;
		if ((b & 0xf0) == 0x80 || (b & 0xf0) == 0x90) {
			n = (uint64_t)(b & 0x0f) * ((b & 0xf0) == 0x80 ? 2 : 1);
			container = true;
		} else if ((b & 0xe0) == 0xa0) {
			skip = b & 0x1f;
		} else {
			switch (b) {
			case 0xc4: case 0xd9: hdr = 1; break;              /* bin8, str8 */
			case 0xc5: case 0xda: hdr = 2; break;              /* bin16, str16 */
			case 0xc6: case 0xdb: hdr = 4; break;              /* bin32, str32 */
			case 0xc7: hdr = 1; skip = 1; break;               /* ext8 */
			case 0xc8: hdr = 2; skip = 1; break;               /* ext16 */
			case 0xc9: hdr = 4; skip = 1; break;               /* ext32 */
			case 0xca: skip = 4; break;
			case 0xcb: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: case 0xd2: skip = 4; break;
			case 0xcf: case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break;                        /* fixext 1..16 */
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: case 0xde: hdr = 2; container = true; break;
			case 0xdd: case 0xdf: hdr = 4; container = true; break;
			default: return "invalid msgpack type byte";
			}
		}
		if (hdr) {
			if (len - off < (size_t)hdr)
				return "truncated";
			n = be(p + off, hdr);
			off += (size_t)hdr;
			if (container) {
				if (b == 0xde || b == 0xdf)
					n *= 2;
			} else {
				skip += n;
			}
		}
		if (container) {
			if (n > len - off)
				return n > len ? "a container larger than the file" : "truncated";
			if (depth == MAX_DEPTH)
				return "nested too deeply";
			pending[++depth] = n;
			continue;
		}
		if (skip > len - off)
			return "truncated";
		off += (size_t)skip;
	}
	return off == len ? NULL : "trailing bytes after the document";
}

static bool key_is(const msgpack_object *k, const char *s)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(s) &&
	       !memcmp(k->via.str.ptr, s, k->via.str.size);
}

/* msgpack object to JSON. @return NULL (reason in *why) on what JSON cannot hold */
static json_t *to_json(const msgpack_object *o, int depth, const char **why)
{
	json_t *v = NULL;

	if (depth > MAX_DEPTH) {
		*why = "nested too deeply";
		return NULL;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return json_null();
	case MSGPACK_OBJECT_BOOLEAN: return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX) {
			*why = "an integer out of range";
			return NULL;
		}
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer((json_int_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (!isfinite(o->via.f64)) {
			*why = "a number that is not finite";
			return NULL;
		}
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		v = json_stringn(o->via.str.ptr, o->via.str.size);
		if (!v)
			*why = "a string that is not UTF-8";
		return v;
	case MSGPACK_OBJECT_ARRAY:
		v = json_array();
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			json_t *e = to_json(&o->via.array.ptr[i], depth + 1, why);
			if (!e || json_array_append_new(v, e)) {
				json_decref(v);
				return NULL;
			}
		}
		return v;
	case MSGPACK_OBJECT_MAP:
		v = json_object();
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			char *key;
			json_t *e;

			if (kv->key.type != MSGPACK_OBJECT_STR ||
			    memchr(kv->key.via.str.ptr, 0, kv->key.via.str.size)) {
				*why = "a map key that is not a string";
				json_decref(v);
				return NULL;
			}
			key = xstrndup(kv->key.via.str.ptr, kv->key.via.str.size);
			e = to_json(&kv->val, depth + 1, why);
			if (!e || json_object_set_new(v, key, e)) {
				if (e)
					*why = "a map key that is not UTF-8";
				free(key);
				json_decref(v);
				return NULL;
			}
			free(key);
		}
		return v;
	default:
		*why = "binary or extension data";
		return NULL;
	}
}

int store__decode(const void *buf, size_t len, const char *kind, json_t **doc, char *err, size_t errlen)
{
	const char *why = prescan(buf, len);
	msgpack_unpacked up;
	size_t off = 0;
	const msgpack_object *root;
	const msgpack_object *format = NULL, *major = NULL, *kd = NULL, *body = NULL;
	int ret = -EPROTO;

	*doc = NULL;
	if (len > STORE_MAX_FILE)
		why = "larger than any report file";
	if (why) {
		snprintf(err, errlen, "%s", why);
		return -EPROTO;
	}
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
		snprintf(err, errlen, "not a msgpack document");
		goto out;
	}
	root = &up.data;
	if (root->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errlen, "not a memalot report file");
		goto out;
	}
	for (uint32_t i = 0; i < root->via.map.size; i++) {
		const msgpack_object_kv *kv = &root->via.map.ptr[i];
		if (key_is(&kv->key, "format"))
			format = &kv->val;
		else if (key_is(&kv->key, "schema_major"))
			major = &kv->val;
		else if (key_is(&kv->key, "kind"))
			kd = &kv->val;
		else if (key_is(&kv->key, "document"))
			body = &kv->val;
	}
	if (!format || !key_is(format, FORMAT_NAME)) {
		snprintf(err, errlen, "not a memalot report file");
		goto out;
	}
	if (!major || major->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		snprintf(err, errlen, "no schema version");
		goto out;
	}
	if (major->via.u64 != STORE_SCHEMA_MAJOR) {
		snprintf(err, errlen, "schema version %llu, this memalot reads version %d",
			 (unsigned long long)major->via.u64, STORE_SCHEMA_MAJOR);
		goto out;
	}
	if (!kd || !key_is(kd, kind)) {
		snprintf(err, errlen, "not %s %s file", strchr("aeiou", kind[0]) ? "an" : "a", kind);
		goto out;
	}
	if (!body || body->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errlen, "no document");
		goto out;
	}
	why = "corrupt";
	*doc = to_json(body, 0, &why);
	if (!*doc) {
		snprintf(err, errlen, "%s", why);
		goto out;
	}
	ret = 0;
out:
	msgpack_unpacked_destroy(&up);
	return ret;
}

/* ---- files ---- */

/* Write all of buf to fd. @return 0 or -errno */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * The way without O_TMPFILE: a temp file ".NAME.PID.tmp", fsync, rename. A
 * process killed between the create and the rename leaves the temp file.
 * @return 0 or -errno
 */
static int write_named_temp(int dirfd, const char *name, const char *tmp, const void *buf, size_t len)
{
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600), e;

	if (fd < 0)
		return -errno;
	e = write_all(fd, buf, len);
	if (!e && fsync(fd))
		e = -errno;
	if (close(fd) && !e)
		e = -errno;
	if (!e && renameat(dirfd, tmp, dirfd, name))
		e = -errno;
	if (e)
		unlinkat(dirfd, tmp, 0);
	return e;
}

/*
 * Give the unnamed file fd (O_TMPFILE) the name name in dirfd: through
 * /proc/self/fd, which needs no privilege, else AT_EMPTY_PATH (which needs
 * CAP_DAC_READ_SEARCH). @return 0 or -errno (-EEXIST when name exists)
 */
static int link_unnamed(int fd, int dirfd, const char *name)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (!linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW))
		return 0;
	if (errno == EEXIST)
		return -EEXIST;
	if (!linkat(fd, "", dirfd, name, AT_EMPTY_PATH))
		return 0;
	return -errno;
}

/*
 * Write name in dirfd atomically: a reader sees the whole file or none, and
 * a writer killed at any moment (SIGKILL included) leaves nothing behind.
 * The file is made unnamed (O_TMPFILE), written, fsynced, and only then
 * linked under its name; a name that exists already (a file rewritten) is
 * replaced by linking to ".NAME.PID.tmp" and renaming that over it, the one
 * moment a kill leaves a temp file. Where the filesystem has no O_TMPFILE,
 * or the unnamed file cannot be linked, the named temp file of
 * write_named_temp. Then an fsync of the directory, for the new entry.
 * @return 0 or -errno
 */
static int write_atomic(int dirfd, const char *name, const void *buf, size_t len)
{
	char tmp[128];
	int fd, e;

	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid());
	fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = -errno;
		if (e != -EOPNOTSUPP && e != -EISDIR && e != -EINVAL)
			return e;
		e = write_named_temp(dirfd, name, tmp, buf, len);
		goto out;
	}
	e = write_all(fd, buf, len);
	if (!e && fsync(fd))
		e = -errno;
	if (!e) {
		e = link_unnamed(fd, dirfd, name);
		if (e == -EEXIST) {
			unlinkat(dirfd, tmp, 0); /* left by a killed process of the same pid */
			e = link_unnamed(fd, dirfd, tmp);
			if (!e && renameat(dirfd, tmp, dirfd, name)) {
				e = -errno;
				unlinkat(dirfd, tmp, 0);
			}
		} else if (e) {
			/* no /proc, no capability: the named way (the unnamed file goes with its fd) */
			close(fd);
			fd = -1;
			e = write_named_temp(dirfd, name, tmp, buf, len);
		}
	}
	if (fd >= 0 && close(fd) && !e)
		e = -errno;
out:
	if (!e)
		fsync(dirfd);
	return e;
}

/* mkdir -p with mode 0700 for what is created. @return 0 or -errno */
static int make_dirs(const char *path)
{
	char *p;
	int e = 0;

	if (!*path)
		return -ENOENT;
	p = xstrdup(path);

	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0700) && errno != EEXIST) {
			e = -errno;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return e;
}

void store__new_id(char *buf)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char raw[8] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) {
		uint64_t t = now_ns() ^ ((uint64_t)getpid() << 32);
		memcpy(raw, &t, sizeof(raw));
	}
	if (fd >= 0)
		close(fd);
	for (int i = 0, k = 0; i < STORE_ID_LEN; i++)
		buf[i] = i == 4 ? '-' : alphabet[raw[k++] % 36];
	buf[STORE_ID_LEN] = 0;
}

int store__create(const char *root, struct store_session *s, char *err, size_t errlen)
{
	return store__create_id(root, s, NULL, err, errlen);
}

int store__create_id(const char *root, struct store_session *s, const char *want, char *err, size_t errlen)
{
	int e = make_dirs(root), rootfd;

	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
	if (e) {
		snprintf(err, errlen, "cannot create the report directory %s: %s", root, strerror(-e));
		return e;
	}
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open the report directory %s: %s", root, strerror(-e));
		return e;
	}
	for (int tries = 0; tries < 100; tries++) {
		char name[sizeof(SESSION_PREFIX) + STORE_ID_LEN];

		if (!tries && want && strlen(want) == STORE_ID_LEN && store__valid_id(want))
			memcpy(s->id, want, STORE_ID_LEN + 1);
		else
			store__new_id(s->id);
		snprintf(name, sizeof(name), SESSION_PREFIX "%s", s->id);
		if (mkdirat(rootfd, name, 0700)) {
			e = -errno;
			if (e == -EEXIST)
				continue; /* another session has this ID: draw again */
			break;
		}
		s->dirfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		e = s->dirfd < 0 ? -errno : 0;
		s->path = xasprintf("%s/%s", root, name);
		break;
	}
	close(rootfd);
	if (s->dirfd < 0) {
		snprintf(err, errlen, "cannot create a report in %s: %s", root,
			 strerror(e ? -e : EEXIST));
		free(s->path);
		s->path = NULL;
		return e ? e : -EEXIST;
	}
	return 0;
}

static int write_doc(struct store_session *s, const char *name, const char *kind, const json_t *doc, char *err,
		     size_t errlen)
{
	size_t len;
	void *buf = store__encode(doc, kind, &len);
	int e = write_atomic(s->dirfd, name, buf, len);

	free(buf);
	if (e)
		snprintf(err, errlen, "cannot write %s/%s: %s", s->path, name, strerror(-e));
	return e;
}

int store__write_summary(struct store_session *s, const json_t *summary, char *err, size_t errlen)
{
	return write_doc(s, SUMMARY_FILE, "summary", summary, err, errlen);
}

int store__write_iteration(struct store_session *s, int number, const json_t *iteration, char *err,
			   size_t errlen)
{
	char name[64];

	snprintf(name, sizeof(name), "iteration_%06d.msgpack", number);
	return write_doc(s, name, "iteration", iteration, err, errlen);
}

void store__close(struct store_session *s)
{
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->path);
	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
}

/* ---- reading ---- */

static void warnf(store_warn_fn warn, void *arg, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warnf(store_warn_fn warn, void *arg, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(msg, arg);
}

/* Read and decode dirfd/name. @return 0 or -errno, with err naming the problem */
static int read_doc(int dirfd, const char *name, const char *kind, json_t **doc, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), e;

	*doc = NULL;
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "%s", e == -ELOOP ? "a symbolic link, not followed" : strerror(-e));
		return e;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "not a regular file");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > STORE_MAX_FILE) {
		close(fd);
		snprintf(err, errlen, "larger than any report file");
		return -EPROTO;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		snprintf(err, errlen, "short read");
		return -EIO;
	}
	e = store__decode(buf, got, kind, doc, err, errlen);
	free(buf);
	return e;
}

/* Is name iteration_NNNNNN.msgpack? @return its number, or 0 */
static int iteration_number(const char *name)
{
	int n = 0;

	if (strncmp(name, "iteration_", 10) || strlen(name) != 10 + 6 + 8 || strcmp(name + 16, ".msgpack"))
		return 0;
	for (int i = 10; i < 16; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		n = n * 10 + (name[i] - '0');
	}
	return n;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* The iteration numbers in a session directory, sorted. @return how many */
static size_t list_iterations(int dirfd, int **out)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	rewinddir(d);
	while ((de = readdir(d)) && n < MAX_ITERATIONS) {
		int k = iteration_number(de->d_name);
		if (k > 0) {
			GROW(*out, cap, n + 1);
			(*out)[n++] = k;
		}
	}
	closedir(d);
	if (n > 1)
		qsort(*out, n, sizeof(**out), cmp_int);
	return n;
}

/*
 * Read a session's summary, warning when it cannot be read. A session with
 * neither a summary nor an iteration is one whose writer was stopped before
 * its first file was complete, or is starting right now: nothing in it is
 * damaged, so nothing is said.
 */
static void read_summary(int dirfd, const char *path, json_t **summary, store_warn_fn warn, void *arg)
{
	char serr[256];
	int *nums = NULL, e = read_doc(dirfd, SUMMARY_FILE, "summary", summary, serr, sizeof(serr));

	if (e && (e != -ENOENT || list_iterations(dirfd, &nums)))
		warnf(warn, arg, "%s/" SUMMARY_FILE ": %s", path, serr);
	free(nums);
}

/* Open root/memalot_report_<id> (id validated by the caller). @return fd or -errno */
static int open_session(const char *root, const char *id)
{
	char name[sizeof(SESSION_PREFIX) + STORE_ID_LEN];
	int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd, e;

	if (rootfd < 0)
		return -errno;
	snprintf(name, sizeof(name), SESSION_PREFIX "%s", id);
	fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	e = fd < 0 ? -errno : fd;
	close(rootfd);
	return e == -ENOTDIR || e == -ELOOP ? -ENOENT : e;
}

/*
 * Load the iterations of a session: the newest num (0: all), oldest first,
 * skipping (with a warning) the files that do not read back.
 */
static json_t *load_iterations(int dirfd, const char *path, int num, store_warn_fn warn, void *arg)
{
	int *nums;
	size_t n = list_iterations(dirfd, &nums), first = 0;
	json_t *arr = json_array();

	/* walk back from the newest until num readable ones */
	if (num > 0) {
		size_t got = 0;
		first = n;
		while (first > 0 && got < (size_t)num) {
			first--;
			got++;
		}
	}
	for (size_t k = first; k < n; k++) {
		char name[64], err[256];
		json_t *doc;

		snprintf(name, sizeof(name), "iteration_%06d.msgpack", nums[k]);
		if (read_doc(dirfd, name, "iteration", &doc, err, sizeof(err))) {
			warnf(warn, arg, "%s/%s: %s", path, name, err);
			continue;
		}
		json_array_append_new(arr, doc);
	}
	free(nums);
	return arr;
}

int store__load(const char *root, const char *id, int num_iterations, json_t **summary, json_t **iterations,
		store_warn_fn warn, void *arg, char *err, size_t errlen)
{
	char *path;
	int fd;

	*summary = *iterations = NULL;
	if (!store__valid_id(id)) {
		snprintf(err, errlen, "'%.40s' is not a report ID (they look like abcd-1234)", id ? id : "");
		return -EINVAL;
	}
	fd = open_session(root, id);
	if (fd < 0) {
		if (fd == -ENOENT)
			snprintf(err, errlen, "no report %s in %s", id, root);
		else
			snprintf(err, errlen, "%s/" SESSION_PREFIX "%s: %s", root, id, strerror(-fd));
		return fd;
	}
	path = xasprintf("%s/" SESSION_PREFIX "%s", root, id);
	read_summary(fd, path, summary, warn, arg);
	*iterations = load_iterations(fd, path, num_iterations, warn, arg);
	free(path);
	close(fd);
	return 0;
}

static int cmp_entries(const void *a, const void *b)
{
	const struct store_entry *x = a, *y = b;
	const char *sx = x->summary ? json_string_value(json_object_get(x->summary, "start_time")) : NULL;
	const char *sy = y->summary ? json_string_value(json_object_get(y->summary, "start_time")) : NULL;
	int c = 0;

	/* ISO 8601 UTC times sort as strings; newest first */
	if (sx && sy)
		c = strcmp(sy, sx);
	if (!c)
		c = (y->mtime > x->mtime) - (y->mtime < x->mtime);
	return c ? c : strcmp(x->id, y->id);
}

int store__list(const char *root, struct store_entry **out, size_t *n, store_warn_fn warn, void *arg,
		char *err, size_t errlen)
{
	DIR *d = opendir(root);
	struct dirent *de;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read the report directory %s: %s", root, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		const char *id = de->d_name + strlen(SESSION_PREFIX);
		struct store_entry e = { 0 };
		char serr[256], *path;
		struct stat st;
		json_t *last;
		int fd;

		if (strncmp(de->d_name, SESSION_PREFIX, strlen(SESSION_PREFIX)) || !store__valid_id(id))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		path = xasprintf("%s/%s", root, de->d_name);
		if (fd < 0) {
			warnf(warn, arg, "%s: %s", path, strerror(errno));
			free(path);
			continue;
		}
		memcpy(e.id, id, STORE_ID_LEN + 1);
		if (!fstat(fd, &st))
			e.mtime = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
		read_summary(fd, path, &e.summary, warn, arg);
		{
			int *nums;
			size_t k = list_iterations(fd, &nums);
			/* the newest iteration that reads back */
			while (k > 0 && !e.last) {
				char name[64];
				k--;
				snprintf(name, sizeof(name), "iteration_%06d.msgpack", nums[k]);
				if (read_doc(fd, name, "iteration", &last, serr, sizeof(serr)))
					warnf(warn, arg, "%s/%s: %s", path, name, serr);
				else
					e.last = last;
			}
			e.iterations = e.last ? (int)k + 1 : 0;
			free(nums);
		}
		close(fd);
		free(path);
		GROW(*out, cap, *n + 1);
		(*out)[(*n)++] = e;
	}
	closedir(d);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_entries);
	return 0;
}

void store__list_free(struct store_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_decref(v[i].summary);
		json_decref(v[i].last);
	}
	free(v);
}
