/* SPDX-License-Identifier: MIT */
/*
 * The options of a monitoring run, in one table (options.h): data only, in
 * the library, so that every front end makes its part from it: the command
 * line and --help (options.c), MCP's watch_process input schema
 * (mcp/server.c), the Python package's keywords (python/memalot/_options.py,
 * from `memalot options --json`).
 */
#include <stddef.h>

#include "options.h"
#include "../common/util.h"

#define C(field) offsetof(struct monitor_config, field), sizeof(((struct monitor_config *)0)->field)
#define W(field, count) offsetof(struct monitor_config, field), offsetof(struct monitor_config, count)
#define N 100000000ll         /* the largest count */
#define B (1ll << 50)         /* the largest number of bytes */

static const struct option_def table[] = {
	{ "max-object-lifetime", "max_object_lifetime", false, OPT_SECONDS, OPTS_MONITOR, C(o.lifetime), 0, "S", "60",
	  "seconds an object may live" },
	{ "check-interval", NULL, false, OPT_SECONDS, OPTS_MONITOR, C(o.interval), 0, "S", NULL,
	  "seconds between snapshots (default: the lifetime / 5, from 0.1 to 60)" },
	{ "warmup-time", "warmup_period", false, OPT_SECONDS0, OPTS_MONITOR, C(o.warmup), 0, "S", NULL,
	  "seconds before objects count (default: the lifetime; --warmup-period is the same)" },
	{ "warmup-period", NULL, false, OPT_SECONDS0, OPTS_MONITOR, C(o.warmup), 0, "S", NULL, NULL },
	{ "iterations", NULL, false, OPT_COUNT, OPTS_MONITOR, C(o.iterations), N, "N", NULL,
	  "stop after N reports (of each process)" },
	{ "duration", NULL, false, OPT_SECONDS, OPTS_MONITOR, C(o.duration), 0, "S", NULL, "stop after S seconds" },
	{ "included-type-names", "included_type_names", false, OPT_WORDS, OPTS_MONITOR, W(o.include, o.ninclude), 0,
	  "T", NULL, "only types whose name contains T (repeatable)" },
	{ "excluded-type-names", "excluded_type_names", false, OPT_WORDS, OPTS_MONITOR, W(o.exclude, o.nexclude), 0,
	  "T", NULL, "leave out types whose name contains T (repeatable)" },
	{ "max-types-in-leak-summary", "max_types_in_leak_summary", false, OPT_COUNT, OPTS_MONITOR, C(o.max_types), N,
	  "N", "500", "rows of the leak table" },
	{ "compute-size-in-leak-summary", "compute_size_in_leak_summary", false, OPT_FLAG, OPTS_MONITOR,
	  C(o.compute_size), 0, NULL, NULL, "add the shallow size of each type's objects" },
	{ "max-object-details", "max_object_details", false, OPT_COUNT0, OPTS_MONITOR, C(o.why.max_object_details), N,
	  "N", "30", "objects with referrer graphs per report" },
	{ "no-referrers", "check_referrers", true, OPT_FLAG, OPTS_MONITOR, C(o.why.no_referrers), 0, NULL, NULL,
	  "no referrer graphs" },
	{ "referrers-max-depth", "referrers_max_depth", false, OPT_COUNT, OPTS_MONITOR, C(o.why.ref.max_depth), N, "N",
	  "50", "how far back a referrer search goes" },
	{ "referrers-search-timeout", "referrers_search_timeout", false, OPT_SECONDS, OPTS_MONITOR,
	  C(o.why.ref.timeout_s), 0, "S", "300", "seconds a report's referrer searches may take" },
	{ "single-object-referrer-limit", "single_object_referrer_limit", false, OPT_COUNT, OPTS_MONITOR,
	  C(o.why.ref.single_object_limit), N, "N", "100", "referrers shown of one object" },
	{ "referrers-module-prefix", "referrers_module_prefixes", false, OPT_WORDS, OPTS_MONITOR,
	  W(prefixes, nprefixes), 0, "P", NULL, "stop referrer searches at modules named P... (repeatable)" },
	{ "max-untracked-search-depth", "max_untracked_search_depth", false, OPT_COUNT0, OPTS_MONITOR,
	  C(o.why.untracked_depth), N, "N", "3", "how deep objects the collector does not track are looked for" },
	{ "str-max-length", "str_max_length", false, OPT_COUNT, OPTS_MONITOR, C(o.why.str_max_length), N, "N", "100",
	  "characters of an object's text shown" },
	{ "referrers-max-untracked-search-depth", "referrers_max_untracked_search_depth", false, OPT_COUNT,
	  OPTS_MONITOR, C(untracked_referrer_depth), N, "N", "30",
	  "taken for the seed's sake: memalot searches referrers in the whole graph" },
	{ "max-object-age-calls", "max_object_age_calls", false, OPT_COUNT, OPTS_ATTACH, C(o.age_calls), N, "N", "1",
	  "with --calls: calls an object created during one must live to be a leak" },
	{ "warmup-calls", "warmup_calls", false, OPT_COUNT0, OPTS_ATTACH, C(o.warmup_calls), N, "N", "1",
	  "with --calls: the first N calls are the warm-up" },
	{ "calls", NULL, false, OPT_FLAG, OPTS_ATTACH, C(o.calls), 0, NULL, NULL,
	  "with --control-fd: function-based discovery, a check at each monitored call's entry and exit" },
	{ "control-fd", NULL, false, OPT_COUNT, OPTS_ATTACH, C(control_fd), 1 << 20, "FD", NULL,
	  "driven by the Python package over socket FD (docs/control-protocol.md)" },
	{ "json", NULL, false, OPT_FLAG, OPTS_MONITOR, C(o.json), 0, NULL, NULL,
	  "one JSON object per report, one per line" },
	{ "output", NULL, false, OPT_PATH, OPTS_MONITOR, C(o.output), 0, "FILE", NULL,
	  "write reports to FILE, mode 0600 (default: attach standard output, run standard error)" },
	{ "html", NULL, false, OPT_PATH, OPTS_MONITOR, C(o.html), 0, "FILE", NULL,
	  "rewrite FILE at each report: the report as one HTML page (mode 0600; FILE-PID for other processes)" },
	{ "tee-console", "tee_console", false, OPT_FLAG, OPTS_MONITOR, C(o.tee), 0, NULL, NULL,
	  "with --output, print them too" },
	{ "report-directory", "report_directory", false, OPT_PATH, OPTS_MONITOR, C(o.report_dir), 0, "D", NULL,
	  "save reports under D (default: $MEMALOT_REPORT_DIRECTORY, else ~/.memalot/reports)" },
	{ "no-save-reports", "save_reports", true, OPT_FLAG, OPTS_MONITOR, C(o.no_save), 0, NULL, NULL,
	  "do not save reports" },
	{ "no-color", "color", true, OPT_ACCEPTED, OPTS_MONITOR, 0, 0, 0, NULL, NULL,
	  "no colour in what is printed (as with NO_COLOR set)" },
	{ "force-terminal", "force_terminal", false, OPT_ACCEPTED, OPTS_MONITOR, 0, 0, 0, NULL, NULL,
	  "colour even when not printing to a terminal (a pipe, a file)" },
	{ "max-memory", NULL, false, OPT_BYTES, OPTS_MONITOR, C(o.max_memory), B, "B", NULL,
	  "the most memory a copy of a process may take (512M, 2G; default or 0: half the memory available): "
	  "one with more writable memory is walked in place, paused for the whole walk" },
	{ "children", NULL, false, OPT_FLAG, OPTS_ATTACH, C(children), 0, NULL, NULL,
	  "also watch the Python processes among the PIDs' descendants (a master's workers), new ones too" },
	{ "max-processes", NULL, false, OPT_COUNT, OPTS_MONITOR, C(max_processes), N, "N", "64",
	  "watch at most N processes at a time" },
	{ "fail-on-leak", NULL, false, OPT_FLAG, OPTS_MONITOR, C(fail.on_leak), 0, NULL, NULL,
	  "exit 10 when a process leaked (run: when PROGRAM exited 0), by the thresholds below" },
	{ "fail-min-objects", NULL, false, OPT_COUNT0, OPTS_MONITOR, C(fail.min_objects), N, "N", "1",
	  "... at least N objects over the run (0: not by count)" },
	{ "fail-min-bytes", NULL, false, OPT_BYTES, OPTS_MONITOR, C(fail.min_bytes), B, "B", NULL,
	  "... or at least B bytes of them" },
	{ "fail-on-fd-leak", NULL, false, OPT_FLAG, OPTS_MONITOR, C(fail.on_fd_leak), 0, NULL, NULL,
	  "... or still has a descriptor opened after the warm-up" },
	{ "fail-native-bytes", NULL, false, OPT_BYTES, OPTS_MONITOR, C(fail.native_bytes), B, "B", NULL,
	  "... or grew B bytes that Python objects do not explain" },
};

_Static_assert(ARRAY_SIZE(table) <= OPTIONS_MAX, "OPTIONS_MAX is too small for the table");

const struct option_def *options__table(size_t *n)
{
	*n = ARRAY_SIZE(table);
	return table;
}
