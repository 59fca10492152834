/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the report reader (reports/store.c) on arbitrary bytes,
 * as a report file copied from elsewhere or damaged on disk would give it.
 * Whatever the bytes, store__decode must return cleanly; what it accepts
 * must render as text, JSON, DOT and an HTML page, and encode and decode back to the same
 * document.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../reports/render.h"
#include "../reports/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = { "iteration", "summary" };
	char err[256];

	for (int k = 0; k < 2; k++) {
		json_t *doc, *back, *arr;
		size_t len;
		void *bytes;
		FILE *null;

		if (store__decode(data, size, kinds[k], &doc, err, sizeof(err)))
			continue;
		bytes = store__encode(doc, kinds[k], &len);
		if (store__decode(bytes, len, kinds[k], &back, err, sizeof(err)) || !json_equal(doc, back))
			abort(); /* what was read must survive a write and a read */
		json_decref(back);
		free(bytes);
		null = fopen("/dev/null", "w");
		if (null) {
			arr = json_array();
			json_array_append(arr, doc);
			render__iteration_text(null, doc, false);
			render__iteration_json(null, doc);
			render__graph_dot(null, doc);
			render__html(null, doc, arr, NULL); /* the page, a summary or not */
			render__html(null, NULL, arr, "<svg></svg>");
			json_decref(arr);
			fclose(null);
		}
		json_decref(doc);
	}
	return 0;
}
