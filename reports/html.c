/* SPDX-License-Identifier: MIT */
/*
 * A report as one self-contained HTML file (render.h): no script, no
 * network (a Content-Security-Policy forbids any), charts as inline SVG,
 * the merged referrer graph as the SVG Graphviz made of it. Everything from
 * the report is text, escaped: a report is untrusted input.
 */
#define _GNU_SOURCE
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/util.h"
#include "doc.h"

#define HTML_MAX_ITERATIONS 2000 /* points in a chart */
#define HTML_MAX_DETAILS 200     /* object details shown */

/* s as HTML text (and attribute values) */
static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
}

/*
 * A line chart of up to three series over the iterations, as inline SVG:
 * values[s][i] for series s at iteration i (NAN: no value).
 */
static void chart(FILE *f, const char *title, const char *unit, const char *const names[], double *const values[],
		  size_t nseries, size_t n)
{
	static const char *const colors[] = { "#d9480f", "#1c7ed6", "#2b8a3e" };
	const double w = 640, h = 220, left = 60, right = 20, top = 30, bottom = 30;
	double max = 0;

	for (size_t s = 0; s < nseries; s++)
		for (size_t i = 0; i < n; i++)
			if (isfinite(values[s][i]) && values[s][i] > max)
				max = values[s][i];
	if (max <= 0)
		max = 1;
	fprintf(f, "<figure class=\"chart\"><svg role=\"img\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\">"
		   "<title>", w, h, w, h);
	esc(f, title);
	fprintf(f, "</title><text x=\"%.0f\" y=\"18\" class=\"ct\">", left);
	esc(f, title);
	if (*unit) {
		fprintf(f, " (");
		esc(f, unit);
		fprintf(f, ")");
	}
	fprintf(f, "</text>");
	/* axes, the top value, the iterations */
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"ax\"/>", left, h - bottom, w - right,
		h - bottom);
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"ax\"/>", left, top, left, h - bottom);
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"lb\" text-anchor=\"end\">%.4g</text>", left - 4, top + 4, max);
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"lb\" text-anchor=\"end\">0</text>", left - 4, h - bottom);
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"lb\">1</text>", left, h - 10);
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"lb\" text-anchor=\"end\">iteration %zu</text>", w - right,
		h - 10, n);
	for (size_t s = 0; s < nseries; s++) {
		bool pen = false;

		fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", colors[s % 3]);
		for (size_t i = 0; i < n; i++) {
			double x = left + (n > 1 ? (w - left - right) * (double)i / (double)(n - 1) : (w - left - right) / 2);
			double y;

			if (!isfinite(values[s][i])) {
				pen = false;
				continue;
			}
			y = h - bottom - (h - top - bottom) * values[s][i] / max;
			fprintf(f, "%c%.1f %.1f ", pen ? 'L' : 'M', x, y);
			pen = true;
		}
		fprintf(f, "\"/><text x=\"%.0f\" y=\"%.0f\" class=\"lb\" style=\"fill:%s\">", w - right - 180,
			top + 14.0 * (double)s, colors[s % 3]);
		esc(f, names[s]);
		fprintf(f, "</text>");
	}
	fprintf(f, "</svg></figure>\n");
}

static void groups_table(FILE *f, const json_t *it)
{
	const json_t *groups = json_object_get(it, "leak_groups"), *g;
	size_t i;
	char b[48];

	if (!json_array_size(groups)) {
		fprintf(f, "<p class=\"none\">No leak groups in this iteration.</p>\n");
		return;
	}
	fprintf(f, "<table id=\"leak-groups\"><thead><tr><th>objects</th><th>retained</th><th>held by</th>"
		   "<th>types</th></tr></thead><tbody>\n");
	json_array_foreach(groups, i, g) {
		const json_t *t;
		size_t k;

		fprintf(f, "<tr><td class=\"num\">%lld</td><td class=\"num\">%s%s</td><td class=\"root\">",
			int_of(g, "object_count"), json_is_false(json_object_get(g, "retained_size_exact")) ? "&ge; " : "",
			render__human_bytes(int_of(g, "retained_size_bytes"), b, sizeof(b)));
		esc(f, str_of(g, "path", ""));
		fprintf(f, "</td><td>");
		json_array_foreach(json_object_get(g, "types"), k, t) {
			if (k == 6)
				break;
			fprintf(f, "%s%lld <span class=\"type\">", k ? ", " : "", int_of(t, "count"));
			esc(f, str_of(t, "object_type", ""));
			fprintf(f, "</span>");
		}
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</tbody></table>\n");
}

/* The referrer tree of one detailed object, towards its roots, as nested lists. */
static void tree(FILE *f, const json_t *nodes, size_t i, bool *seen, int depth)
{
	size_t n = json_array_size(nodes), printed = 0;

	if (depth > 40)
		return;
	for (size_t j = 0; j < n; j++) {
		const json_t *nd = json_array_get(nodes, j), *r;
		size_t k;
		bool refers = false;

		json_array_foreach(json_object_get(nd, "referent_ids"), k, r)
			refers = refers || (json_is_integer(r) && json_integer_value(r) == (json_int_t)i);
		if (!refers)
			continue;
		fprintf(f, "%s<li%s>", printed++ ? "" : "<ul>", json_object_get(nd, "kind") ? " class=\"rootnode\"" : "");
		esc(f, str_of(nd, "name", ""));
		if (!seen[j]) {
			seen[j] = true;
			tree(f, nodes, j, seen, depth + 1);
		}
		fprintf(f, "</li>");
	}
	if (printed)
		fprintf(f, "</ul>");
}

static void details(FILE *f, const json_t *it)
{
	const json_t *d;
	size_t i;

	json_array_foreach(json_object_get(it, "object_details_list"), i, d) {
		const json_t *g = json_object_get(d, "referrer_graph"), *nodes = json_object_get(g, "graph_nodes");
		json_int_t t = json_integer_value(json_array_get(json_object_get(g, "target_ids"), 0));
		size_t n = json_array_size(nodes);
		char b[48];

		if (i == HTML_MAX_DETAILS) {
			fprintf(f, "<p>... and %zu more objects (memalot print --json has them all)</p>\n",
				json_array_size(json_object_get(it, "object_details_list")) - i);
			break;
		}
		fprintf(f, "<details class=\"obj\"><summary><span class=\"type\">");
		esc(f, str_of(d, "object_type_name", ""));
		fprintf(f, "</span> at 0x%llx, %s", (unsigned long long)int_of(d, "object_id"),
			render__human_bytes(int_of(d, "shallow_size_bytes"), b, sizeof(b)));
		if (json_is_integer(json_object_get(d, "retained_size_bytes")))
			fprintf(f, ", %s retained", render__human_bytes(int_of(d, "retained_size_bytes"), b, sizeof(b)));
		fprintf(f, "</summary><pre>");
		esc(f, str_of(d, "object_str", ""));
		fprintf(f, "</pre>");
		if (t >= 0 && (size_t)t < n) {
			bool *seen = xcalloc(n + 1, sizeof(*seen));

			seen[t] = true;
			fprintf(f, "<div class=\"tree\">");
			esc(f, str_of(json_array_get(nodes, (size_t)t), "name", ""));
			tree(f, nodes, (size_t)t, seen, 0);
			fprintf(f, "</div>");
			free(seen);
		}
		fprintf(f, "</details>\n");
	}
}

void render__html(FILE *f, const json_t *summary, const json_t *iterations, const char *graph_svg)
{
	size_t n = json_array_size(iterations), shown = MIN(n, (size_t)HTML_MAX_ITERATIONS), first = n - shown;
	const json_t *last = json_array_get(iterations, n ? n - 1 : 0), *focus = NULL, *it;
	double *s[6];
	char b[48], c[48];

	/* the iteration the page is about: the newest with leak groups, else the newest */
	for (size_t i = n; i-- > 0 && !focus;)
		if (json_array_size(json_object_get(json_array_get(iterations, i), "leak_groups")))
			focus = json_array_get(iterations, i);
	if (!focus)
		focus = last;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
		   "img-src data:\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		   "<title>memalot report ");
	esc(f, str_of(last, "report_id", ""));
	fprintf(f, "</title>\n<style>\n"
		   "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#212529}\n"
		   "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #dee2e6}\n"
		   ".answer{font-size:1.15em;background:#fff4e6;border-left:4px solid #fd7e14;padding:.6em 1em}\n"
		   "table{border-collapse:collapse;width:100%%}td,th{border-bottom:1px solid #dee2e6;padding:.3em .5em;"
		   "text-align:left;vertical-align:top}\n.num{text-align:right;white-space:nowrap}"
		   ".type{color:#0b7285}.root{color:#862e9c}\n"
		   ".chart svg{max-width:100%%;height:auto}.ax{stroke:#868e96}.lb{font-size:11px;fill:#495057}"
		   ".ct{font-size:13px;font-weight:600}\n.graph svg{max-width:100%%;height:auto}"
		   "details.obj{margin:.3em 0}pre{white-space:pre-wrap;background:#f8f9fa;padding:.4em}\n"
		   ".tree ul{margin:0;padding-left:1.4em}.rootnode{color:#862e9c;font-weight:600}\n"
		   ".meta{color:#495057}.none{color:#495057}\n</style></head><body>\n<h1>memalot report ");
	esc(f, str_of(last, "report_id", ""));
	fprintf(f, "</h1>\n<p class=\"meta\">pid %lld: ", int_of(last, "pid"));
	esc(f, str_of(last, "command", ""));
	fprintf(f, "<br>%zu iteration%s", n, n == 1 ? "" : "s");
	if (summary) {
		fprintf(f, ", started ");
		esc(f, str_of(summary, "start_time", ""));
	}
	fprintf(f, "</p>\n");
	/* the answer first: what holds the most */
	{
		const json_t *g = json_array_get(json_object_get(focus, "leak_groups"), 0);

		fprintf(f, "<p class=\"answer\" id=\"answer\">");
		if (g) {
			fprintf(f, "%lld objects, %s, held by <span class=\"root\">", int_of(g, "object_count"),
				render__human_bytes(int_of(g, "retained_size_bytes"), b, sizeof(b)));
			esc(f, str_of(g, "path", ""));
			fprintf(f, "</span> (iteration %lld)", int_of(focus, "iteration_number"));
		} else {
			fprintf(f, "No leaks found in the iterations saved.");
		}
		fprintf(f, "</p>\n");
	}
	fprintf(f, "<h2>Leak groups (iteration %lld, by what holds them)</h2>\n", int_of(focus, "iteration_number"));
	groups_table(f, focus);
	/* the series of the charts */
	for (size_t k = 0; k < 6; k++)
		s[k] = xcalloc(shown + 1, sizeof(double));
	for (size_t i = 0; i < shown; i++) {
		const json_t *ls, *nat;

		it = json_array_get(iterations, first + i);
		ls = json_object_get(it, "leak_summary");
		nat = json_object_get(it, "native");
		s[0][i] = json_is_true(json_object_get(it, "warmup_report")) ? NAN : (double)int_of(ls, "total_objects");
		s[1][i] = json_is_integer(json_object_get(ls, "total_alive_objects")) ? (double)int_of(ls, "total_alive_objects")
										       : NAN;
		s[2][i] = num_of(json_object_get(it, "memory_usage"), "rss_bytes") / 1048576.0;
		s[3][i] = json_is_object(nat) ? num_of(nat, "uss_bytes") / 1048576.0 : NAN;
		s[4][i] = json_is_object(nat) ? (double)int_of(nat, "fds") : NAN;
		s[5][i] = json_is_object(nat) ? (double)int_of(nat, "threads") : NAN;
	}
	fprintf(f, "<h2>Over the iterations</h2>\n");
	/* the leaked types that leaked most, each a line: how many of it each window's new leaks have */
	{
		const char *top[3] = { NULL, NULL, NULL };
		long long topn[3] = { 0, 0, 0 };
		double *ts[3];
		size_t ntop = 0;

		for (size_t i = 0; i < shown; i++) {
			const json_t *row;
			size_t k;

			json_array_foreach(json_object_get(json_object_get(json_array_get(iterations, first + i), "leak_summary"),
							   "type_summaries"), k, row) {
				const char *name = str_of(row, "object_type", "");
				long long cnt = int_of(row, "count");
				size_t slot = 3;

				for (size_t t = 0; t < ntop; t++)
					if (!strcmp(top[t], name))
						slot = t;
				if (slot < 3) {
					topn[slot] += cnt;
				} else if (ntop < 3) {
					top[ntop] = name;
					topn[ntop++] = cnt;
				} else {
					size_t least = 0;

					for (size_t t = 1; t < 3; t++)
						if (topn[t] < topn[least])
							least = t;
					if (cnt > topn[least]) {
						top[least] = name;
						topn[least] = cnt;
					}
				}
			}
		}
		for (size_t t = 0; t < ntop; t++) {
			ts[t] = xcalloc(shown + 1, sizeof(double));
			for (size_t i = 0; i < shown; i++) {
				const json_t *it2 = json_array_get(iterations, first + i), *row;
				size_t k;

				ts[t][i] = json_is_true(json_object_get(it2, "warmup_report")) ? NAN : 0;
				json_array_foreach(json_object_get(json_object_get(it2, "leak_summary"), "type_summaries"), k, row)
					if (!strcmp(str_of(row, "object_type", ""), top[t]))
						ts[t][i] = (double)int_of(row, "count");
			}
		}
		if (ntop)
			chart(f, "Leaked objects of the types that leak most, per window", "", top, ts, ntop, shown);
		for (size_t t = 0; t < ntop; t++)
			free(ts[t]);
	}
	{
		const char *leaks[] = { "new leaks in the window", "leaks alive since the warm-up" };
		const char *mem[] = { "RSS", "USS" };
		const char *fds[] = { "open file descriptors", "threads" };

		chart(f, "Leaked objects", "objects", leaks, s, 2, shown);
		chart(f, "Memory", "MiB", mem, s + 2, 2, shown);
		chart(f, "Descriptors and threads", "", fds, s + 4, 2, shown);
	}
	for (size_t k = 0; k < 6; k++)
		free(s[k]);
	fprintf(f, "<h2>What holds the leaked objects</h2>\n");
	if (graph_svg && *graph_svg) {
		const char *svg = strstr(graph_svg, "<svg");

		/* Graphviz's own SVG, its XML prologue and doctype left out */
		fprintf(f, "<div class=\"graph\">%s</div>\n", svg ? svg : "");
	} else {
		fprintf(f, "<p class=\"none\">The merged referrer graph needs Graphviz's dot (apt-get install graphviz).</p>\n");
	}
	fprintf(f, "<h2>Object details (iteration %lld)</h2>\n", int_of(focus, "iteration_number"));
	details(f, focus);
	fprintf(f, "<p class=\"meta\">memalot: %s; RSS at the last iteration %s.</p>\n</body></html>\n",
		n ? "every number comes from the saved report" : "no iteration", render__human_bytes((long long)num_of(json_object_get(last, "memory_usage"),
											    "rss_bytes"),
										       c, sizeof(c)));
}

/* ------------------------------------------------------------ files, and Graphviz */

/*
 * Graphviz's dot renders dot_path into out as format (svg, png, pdf).
 * Messages name what the user asked for: opt and its file ("--graph
 * g.svg", "--html page.html"). @return 0, or -1 after the message
 */
static int dot_render(const char *dot_path, const char *out, const char *format, const char *opt, const char *file)
{
	bool html = !strcmp(opt, "--html");
	char fmt[16];
	int status;
	pid_t pid;

	snprintf(fmt, sizeof(fmt), "-T%s", format);
	pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		return -1;
	}
	if (!pid) {
		execlp("dot", "dot", fmt, "-o", out, dot_path, (char *)NULL);
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		log_err("%s %s: Graphviz's 'dot' is not installed (apt-get install graphviz)%s", opt, file,
			html ? ": the page has no referrer graph" : ", or write DOT with a .dot file name");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		log_err("%s %s: dot -T%s failed%s", opt, file, format, html ? ": the page has no referrer graph" : "");
		return -1;
	}
	return 0;
}

/* One iteration's graph into path: DOT for .dot (and .gv), else rendered by dot. @return 0 or -1 */
static int graph_file(const char *path, const char *format, const json_t *it, const char *opt, const char *file)
{
	char tmp[] = "/tmp/memalot-graph-XXXXXX";
	bool dot = !strcmp(format, "dot");
	FILE *f;
	int fd, ret = 0;

	fd = dot ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : mkstemp(tmp);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		log_err("%s %s: %s", opt, dot ? file : "(a temporary file)", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	render__graph_dot(f, it);
	if (fclose(f)) {
		log_err("%s %s: error writing '%s': %s", opt, file, dot ? path : tmp, strerror(errno));
		ret = -1;
	}
	if (!dot) {
		if (!ret)
			ret = dot_render(tmp, path, format, opt, file);
		unlink(tmp);
	}
	return ret;
}

int render__graph_file(const char *path, const char *format, const json_t *it)
{
	return graph_file(path, format, it, "--graph", path);
}

/* path's whole contents, or NULL */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	{
		FILE *mem = open_memstream(&buf, &len);
		char chunk[65536];
		size_t k;

		while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, k, mem);
		fclose(mem);
	}
	fclose(f);
	return buf;
}

/*
 * The report as one HTML page, written to a temporary file beside path
 * (0600: a report holds what the target's memory held) and renamed over it.
 * @return 0 or -1 after the message
 */
int render__html_file(const char *path, const json_t *summary, const json_t *iterations)
{
	const json_t *focus = NULL;
	char svgtmp[] = "/tmp/memalot-graph-XXXXXX", *svg = NULL, *tmp = xasprintf("%s.XXXXXX", path);
	size_t n = json_array_size(iterations);
	FILE *f;
	int fd, ret = 0;

	for (size_t i = n; i-- > 0 && !focus;)
		if (json_array_size(json_object_get(json_array_get(iterations, i), "object_details_list")))
			focus = json_array_get(iterations, i);
	fd = focus ? mkstemp(svgtmp) : -1;
	if (fd >= 0) {
		close(fd);
		/* the merged graph through Graphviz; without it the page says how to get it */
		if (!graph_file(svgtmp, "svg", focus, "--html", path))
			svg = slurp(svgtmp);
		unlink(svgtmp);
	}
	fd = mkstemp(tmp);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		log_err("--html %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(tmp);
		free(svg);
		return -1;
	}
	fchmod(fd, 0600);
	render__html(f, summary, iterations, svg);
	if (fclose(f) || rename(tmp, path)) {
		log_err("error writing '%s': %s", path, strerror(errno));
		unlink(tmp);
		ret = -1;
	}
	free(tmp);
	free(svg);
	return ret;
}

