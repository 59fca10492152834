/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the MCP server (mcp/server.c) on arbitrary input
 * lines, as a misbehaving client would send them. The server's source is
 * included to reach its static line handler; it serves a report directory
 * made at start with one report (the seeds of fuzz/corpus-store, under the
 * ID abcd-0000: an iteration of schema 1.0 and one with leak groups), and
 * its answers go to /dev/null. snapshot_process is not
 * enabled: the fuzzer must never attach to anything.
 */
#include "../mcp/server.c"

#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>

static struct mcp_server server;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_root(void)
{
	nftw(server.root, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Copy src (relative to the source tree, where the fuzzer runs) to dir/name. */
static void copy_seed(const char *src, const char *dir, const char *name)
{
	char *dst = xasprintf("%s/%s", dir, name), buf[65536];
	FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
	size_t n;

	while (in && out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	free(dst);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char root[] = "/tmp/memalot-fuzz-mcp-XXXXXX";
	char *sess;

	(void)argc;
	(void)argv;
	if (!mkdtemp(root))
		abort();
	sess = xasprintf("%s/memalot_report_abcd-0000", root);
	if (mkdir(sess, 0700))
		abort();
	copy_seed("fuzz/corpus-store/summary", sess, "summary.msgpack");
	copy_seed("fuzz/corpus-store/iteration-1", sess, "iteration_000001.msgpack");
	copy_seed("fuzz/corpus-store/iteration-groups", sess, "iteration_000002.msgpack"); /* schema 1.1 */
	free(sess);
	if (!freopen("/dev/null", "w", stdout))
		abort();
	log_level = -1; /* not even errors: a bad request is the normal case here */
	server.root = root;
	atexit(remove_root);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	server.out_failed = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		handle_line(&server, p, n);
		p += n + (nl != NULL);
	}
	return 0;
}
