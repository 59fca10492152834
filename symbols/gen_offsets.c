/* SPDX-License-Identifier: MIT */
/*
 * memalot-gen-offsets: print the layouts.tsv table of an interpreter image
 * from its DWARF (in the file or in its debug file under --root).
 * See docs/offset-tables.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf.h"
#include "elfimg.h"
#include "layout.h"
#include "tables.h"

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "origin", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *root = "", *origin = "";
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'o': origin = optarg; break;
		case 'h':
			printf("usage: memalot-gen-offsets [--root DIR] [--origin TEXT] IMAGE...\n"
			       "Print an offset table for each interpreter image (python executable\n"
			       "or libpython) from its DWARF or its debug file (searched under DIR).\n");
			return 0;
		default: return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "memalot-gen-offsets: name at least one image\n");
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		struct elfimg *img = NULL, *dbg = NULL;
		struct dwtypes *t = NULL;
		struct layout l;
		char *path = xasprintf("%s%s", root, argv[i]), *dbgpath = NULL;
		int ret;

		layout__init(&l);
		ret = elfimg__open(path, &img);
		if (ret) {
			fprintf(stderr, "memalot-gen-offsets: cannot open '%s': %s\n", path, strerror(-ret));
			status = 1;
			goto next;
		}
		ret = layout__image_version(img, &l);
		if (ret) {
			fprintf(stderr, "memalot-gen-offsets: '%s': %s\n", path, me_strerror(ret));
			status = 1;
			goto next;
		}
		elfimg__build_id(img, l.build_id, sizeof(l.build_id));
		if (elfimg__has_dwarf(img))
			dbg = NULL;
		else if (!(dbg = layout__open_debug(img, argv[i], root, &dbgpath))) {
			fprintf(stderr, "memalot-gen-offsets: '%s' has no DWARF and no debug file\n", path);
			status = 1;
			goto next;
		}
		ret = dwtypes__open(elfimg__fd(dbg ? dbg : img), field_dwarf_types, &t);
		if (!ret)
			ret = layout__fill_dwarf(&l, t);
		if (ret) {
			fprintf(stderr, "memalot-gen-offsets: '%s': no usable DWARF\n", path);
			status = 1;
			goto next;
		}
		tables__write(stdout, &l, origin[0] ? origin : argv[i]);
next:
		dwtypes__free(t);
		elfimg__free(dbg);
		elfimg__free(img);
		free(dbgpath);
		free(path);
		layout__release(&l);
	}
	return status;
}
