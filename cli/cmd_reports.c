/* SPDX-License-Identifier: MIT */
/* memalot list / memalot print: the saved reports (reports/store.h), read back. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/util.h"
#include "../reports/render.h"
#include "../reports/store.h"
#include "cli.h"

static const char list_usage[] =
	"usage: memalot list [options]\n"
	"\n"
	"List the saved leak reports, newest first: ID, iterations, start time,\n"
	"target, and the leaked objects of the last iteration.\n"
	"\n"
	"options:\n"
	"  --num-reports N          at most N reports (default 10; 0 for all)\n"
	"  --report-directory D     where reports are (default $MEMALOT_REPORT_DIRECTORY,\n"
	"                           else ~/.memalot/reports)\n"
	"  --json                   one JSON array\n"
	CLI_COMMON_HELP;

static const char print_usage[] =
	"usage: memalot print [options] ID\n"
	"\n"
	"Print the saved report ID as it was printed live. ID is a report's ID\n"
	"('memalot list'), a prefix that only one ID starts with, or 'latest'.\n"
	"\n"
	"options:\n"
	"  --num-iterations N       the last N iterations (default 1; 0 for all)\n"
	"  --filter-types A,B       only types whose name contains A or B (any case)\n"
	"  --summary-only           the leak tables, without object details\n"
	"  --json                   one JSON object per iteration, one per line\n"
	"  --graph FILE             write the referrer graphs instead of the report: one\n"
	"                           merged graph per iteration, Graphviz DOT for FILE.dot,\n"
	"                           SVG, PNG or PDF (through Graphviz's dot) for .svg, .png,\n"
	"                           .pdf; several iterations go to FILE-N.EXT\n"
	"  --html FILE              write the report as one self-contained HTML page (the\n"
	"                           leak groups, charts over every iteration, the graph,\n"
	"                           the object details) instead of printing it\n"
	"  --report-directory D     where reports are (default $MEMALOT_REPORT_DIRECTORY,\n"
	"                           else ~/.memalot/reports)\n"
	CLI_COMMON_HELP;

static void warn_line(const char *msg, void *arg)
{
	(void)arg;
	log_err("%s", msg);
}

static bool parse_count(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > INT_MAX)
		return false;
	*out = v;
	return true;
}

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : dflt;
}

int cmd_list(int argc, char **argv)
{
	enum { O_NUM = 256, O_DIR, O_JSON };
	static const struct option longopts[] = {
		{ "num-reports", required_argument, NULL, O_NUM },
		{ "report-directory", required_argument, NULL, O_DIR },
		{ "json", no_argument, NULL, O_JSON },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	long num = 10;
	bool json = false;
	char *dir = NULL, err[512];
	struct store_entry *v;
	size_t n, shown;
	int c;

	optind = 1;
	opterr = 0; /* said in one line */
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		if (cli__common(c))
			continue;
		switch (c) {
		case O_NUM:
			if (!parse_count(optarg, &num)) {
				log_usage("--num-reports takes a number, not '%s'", optarg);
				free(dir);
				return EXIT_USAGE;
			}
			break;
		case O_DIR:
			if (!*optarg) {
				log_usage("--report-directory takes a directory");
				free(dir);
				return EXIT_USAGE;
			}
			free(dir);
			dir = xstrdup(optarg);
			break;
		case O_JSON: json = true; break;
		case 'h': fputs(list_usage, stdout); free(dir); return EXIT_OK;
		default: free(dir); return cli__bad_option(argv);
		}
	}
	if (optind < argc) {
		log_usage("list takes no arguments, not '%s'", argv[optind]);
		free(dir);
		return EXIT_USAGE;
	}
	if (!dir)
		dir = store__default_dir();
	if (store__list(dir, &v, &n, warn_line, NULL, err, sizeof(err))) {
		log_err("%s", err);
		free(dir);
		return EXIT_ERROR;
	}
	shown = num && (size_t)num < n ? (size_t)num : n; /* newest first: the head */
	errno = 0; /* a failed write's reason, for cli__flush */
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < shown; i++) {
			json_t *r = json_object();
			json_object_set_new(r, "report_id", json_string(v[i].id));
			json_object_set_new(r, "iterations", json_integer(v[i].iterations));
			json_object_set_new(r, "start_time", json_string(str_or(v[i].summary, "start_time", "")));
			json_object_set_new(r, "pid", json_integer(json_integer_value(json_object_get(v[i].summary, "pid"))));
			json_object_set_new(r, "command", json_string(str_or(v[i].summary, "command", "")));
			json_object_set_new(r, "leaked_objects",
					    json_integer(render__alive_leaks(v[i].last)));
			json_array_append_new(arr, r);
		}
		json_dumpf(arr, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
		putchar('\n');
		json_decref(arr);
	} else if (!shown) {
		printf("No reports found in %s\n", dir);
	} else {
		render__set_color(render__want_color(stdout));
		printf("%s%-10s %10s  %-20s  %8s  %s%s\n", render__style(STYLE_HEAD), "ID", "ITERATIONS", "START (UTC)",
		       "LEAKED", "TARGET", render__style(STYLE_OFF));
		for (size_t i = 0; i < shown; i++) {
			const json_t *s = v[i].summary;
			char leaked[32] = "-";
			long long alive = v[i].last ? render__alive_leaks(v[i].last) : 0;

			if (v[i].last)
				snprintf(leaked, sizeof(leaked), "%lld", alive);
			printf("%s%-10s%s %10d  %-20s  %s%8s%s  pid %lld (%s)\n", render__style(STYLE_TYPE), v[i].id,
			       render__style(STYLE_OFF), v[i].iterations, str_or(s, "start_time", "?"),
			       render__style(alive > 0 ? STYLE_SIZE : STYLE_OFF), leaked, render__style(STYLE_OFF),
			       (long long)json_integer_value(json_object_get(s, "pid")), str_or(s, "command", "?"));
		}
	}
	store__list_free(v, n);
	free(dir);
	return cli__flush(stdout, "standard output") ? EXIT_ERROR : EXIT_OK; /* says why */
}

/* Split "a,b" into words (pointers into s). */
static size_t split_types(char *s, char ***out)
{
	size_t n = 0;

	*out = NULL;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (!*tok)
			continue;
		*out = xrealloc(*out, (n + 1) * sizeof(**out));
		(*out)[n++] = tok;
	}
	return n;
}

/* The format a --graph file name asks for, or NULL. */
static const char *graph_format(const char *path)
{
	static const char *const known[][2] = { { ".dot", "dot" }, { ".gv", "dot" }, { ".svg", "svg" },
						 { ".png", "png" },  { ".pdf", "pdf" } };
	size_t len = strlen(path);

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		size_t n = strlen(known[i][0]);

		if (len > n && !strcmp(path + len - n, known[i][0]))
			return known[i][1];
	}
	return NULL;
}

/*
 * A graph per iteration: path itself for one, path with "-N" (the
 * iteration's number) before its extension for several. @return 0 or -1
 */
static int write_graph(const char *path, const char *format, const json_t *iterations)
{
	const json_t *it;
	size_t i, n = json_array_size(iterations);
	int ret = 0;

	json_array_foreach(iterations, i, it) {
		const char *dot = strrchr(path, '.');
		char *one = n == 1 ? xstrdup(path) :
				     xasprintf("%.*s-%lld%s", (int)(dot - path), path,
					       (long long)json_integer_value(json_object_get(it, "iteration_number")), dot);

		if (render__graph_file(one, format, it))
			ret = -1;
		else
			log_debug("graph of iteration %lld written to %s",
				 (long long)json_integer_value(json_object_get(it, "iteration_number")), one);
		free(one);
	}
	return ret;
}

/*
 * The report ID arg names: a whole ID (store__load checks it), "latest"
 * (the newest in dir), or a prefix only one ID in dir starts with.
 * @return 0 with id set, or the exit code after the message
 */
static int resolve_id(const char *dir, const char *arg, char id[STORE_ID_LEN + 1])
{
	struct store_entry *v;
	size_t n, matches = 0, first = 0, len = strlen(arg);
	char err[512];
	bool latest = !strcmp(arg, "latest");

	if (len == STORE_ID_LEN && !latest) {
		memcpy(id, arg, STORE_ID_LEN + 1); /* store__load says what is wrong with it */
		return 0;
	}
	if (!latest && (!len || len > STORE_ID_LEN || strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789-") != len)) {
		log_err("'%.40s' is not a report ID (they look like abcd-1234)", arg);
		return EXIT_ERROR;
	}
	if (store__list(dir, &v, &n, warn_line, NULL, err, sizeof(err))) {
		log_err("%s", err);
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < n; i++)
		if (latest || !strncmp(v[i].id, arg, len)) {
			if (!matches++)
				first = i;
			if (latest)
				break;
		}
	if (matches == 1)
		memcpy(id, v[first].id, STORE_ID_LEN + 1);
	else if (!matches && latest)
		log_err("No reports found in %s", dir);
	else if (!matches)
		log_err("no report ID starts with '%s' in %s ('memalot list' shows them)", arg, dir);
	else
		log_err("'%s' is the start of %zu report IDs (%s, ...): give more of it", arg, matches, v[first].id);
	store__list_free(v, n);
	return matches == 1 ? 0 : EXIT_ERROR;
}

int cmd_print(int argc, char **argv)
{
	enum { O_NUM = 256, O_FILTER, O_SUMMARY, O_JSON, O_GRAPH, O_DIR, O_HTML };
	static const struct option longopts[] = {
		{ "num-iterations", required_argument, NULL, O_NUM },
		{ "filter-types", required_argument, NULL, O_FILTER },
		{ "summary-only", no_argument, NULL, O_SUMMARY },
		{ "json", no_argument, NULL, O_JSON },
		{ "graph", required_argument, NULL, O_GRAPH },
		{ "html", required_argument, NULL, O_HTML },
		{ "report-directory", required_argument, NULL, O_DIR },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	long num = -1; /* not given: the newest iteration, every one for --html */
	bool json = false, summary_only = false;
	char id[STORE_ID_LEN + 1];
	char *dir = NULL, *filter = NULL, **types = NULL, err[512];
	const char *graph = NULL, *graph_fmt = NULL, *html = NULL;
	json_t *summary = NULL, *iterations = NULL, *it;
	size_t ntypes = 0, i;
	int c, code = EXIT_OK;

	optind = 1;
	opterr = 0; /* said in one line */
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		if (cli__common(c))
			continue;
		switch (c) {
		case O_NUM:
			if (!parse_count(optarg, &num)) {
				log_usage("--num-iterations takes a number (0 for all), not '%s'", optarg);
				code = EXIT_USAGE;
				goto out;
			}
			break;
		case O_FILTER: free(filter); filter = xstrdup(optarg); break;
		case O_SUMMARY: summary_only = true; break;
		case O_JSON: json = true; break;
		case O_GRAPH:
			graph = optarg;
			if (!(graph_fmt = graph_format(graph))) {
				log_usage("--graph writes .dot, .gv, .svg, .png or .pdf files, not '%s'", graph);
				code = EXIT_USAGE;
				goto out;
			}
			break;
		case O_HTML:
			if (!*optarg) {
				log_usage("--html takes a file name");
				code = EXIT_USAGE;
				goto out;
			}
			html = optarg;
			break;
		case O_DIR:
			if (!*optarg) {
				log_usage("--report-directory takes a directory");
				code = EXIT_USAGE;
				goto out;
			}
			free(dir);
			dir = xstrdup(optarg);
			break;
		case 'h': fputs(print_usage, stdout); goto out;
		default: code = cli__bad_option(argv); goto out;
		}
	}
	if (optind + 1 != argc) {
		log_usage(optind == argc ? "which report? 'memalot print ID' (IDs: 'memalot list')"
					 : "print takes one report ID");
		code = EXIT_USAGE;
		goto out;
	}
	if (!dir)
		dir = store__default_dir();
	code = resolve_id(dir, argv[optind], id);
	if (code)
		goto out;
	if (filter)
		ntypes = split_types(filter, &types);
	if (num < 0)
		num = html ? 0 : 1; /* the page's charts cover every iteration */
	if (store__load(dir, id, (int)num, &summary, &iterations, warn_line, NULL, err, sizeof(err))) {
		log_err("%s", err);
		code = EXIT_ERROR;
		goto out;
	}
	if (!json_array_size(iterations)) {
		log_err("report %s has no finished iteration", id);
		code = EXIT_ERROR;
		goto out;
	}
	if (ntypes) {
		json_t *kept = json_array();
		json_array_foreach(iterations, i, it)
			json_array_append_new(kept, render__filter_types(it, types, ntypes));
		json_decref(iterations);
		iterations = kept;
	}
	if (summary_only)
		json_array_foreach(iterations, i, it)
			json_object_set_new(it, "object_details_list", json_array());
	if (html) {
		if (render__html_file(html, summary, iterations))
			code = EXIT_ERROR;
		goto out;
	}
	if (graph) {
		/* the graph only, as objgraph's show_backrefs */
		if (write_graph(graph, graph_fmt, iterations))
			code = EXIT_ERROR;
		goto out;
	}
	errno = 0; /* a failed write's reason, for cli__flush */
	render__set_color(!json && render__want_color(stdout));
	json_array_foreach(iterations, i, it) {
		if (json)
			render__iteration_json(stdout, it);
		else
			render__iteration_text(stdout, it, summary_only);
	}
	if (cli__flush(stdout, "standard output")) /* says why */
		code = EXIT_ERROR;
out:
	json_decref(summary);
	json_decref(iterations);
	free(types);
	free(filter);
	free(dir);
	return code;
}
