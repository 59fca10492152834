/* SPDX-License-Identifier: MIT */
/*
 * DWARF type queries. A libpython's DWARF has hundreds of compile units that
 * each repeat the same structs; we index only top-level definitions of the
 * names we were asked for, and stop reading as soon as all of them are found.
 */
#define _GNU_SOURCE
#include "dwarf.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

struct dwtypes {
	Dwarf *dw;
	size_t n;
	const char **names;
	Dwarf_Die *dies;
	int *found;
};

static int name_index(const struct dwtypes *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->names[i], name))
			return (int)i;
	return -1;
}

static bool is_definition(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	bool decl = false;

	if (dwarf_attr(die, DW_AT_declaration, &a))
		dwarf_formflag(&a, &decl);
	return !decl;
}

static void index_children(struct dwtypes *t, Dwarf_Die *parent, size_t *left, int depth)
{
	Dwarf_Die child;

	if (dwarf_child(parent, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		const char *name;
		int i;

		if (tag == DW_TAG_namespace && depth < 2) {
			index_children(t, &child, left, depth + 1);
			continue;
		}
		if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type &&
		    tag != DW_TAG_typedef && tag != DW_TAG_enumeration_type)
			continue;
		name = dwarf_diename(&child);
		if (!name || (i = name_index(t, name)) < 0 || t->found[i])
			continue;
		if (!is_definition(&child))
			continue;
		if (tag == DW_TAG_typedef) {
			/* a typedef of a forward declaration is no use */
			Dwarf_Attribute a;
			Dwarf_Die target;
			if (!dwarf_attr_integrate(&child, DW_AT_type, &a) ||
			    !dwarf_formref_die(&a, &target) || !is_definition(&target))
				continue;
		}
		t->dies[i] = child;
		t->found[i] = 1;
		(*left)--;
	} while (*left && dwarf_siblingof(&child, &child) == 0);
}

int dwtypes__open(int fd, const char *const *names, struct dwtypes **out)
{
	struct dwtypes *t;
	Dwarf_Off off = 0, next;
	size_t hsize, left;
	Dwarf *dw;

	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw)
		return -ENODATA;
	t = xcalloc(1, sizeof(*t));
	t->dw = dw;
	while (names[t->n])
		t->n++;
	t->names = (const char **)names;
	t->dies = xcalloc(t->n, sizeof(*t->dies));
	t->found = xcalloc(t->n, sizeof(*t->found));
	left = t->n;
	while (left && dwarf_next_unit(dw, off, &next, &hsize, NULL, NULL, NULL, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		if (dwarf_offdie(dw, off + hsize, &cu))
			index_children(t, &cu, &left, 0);
		off = next;
	}
	if (left == t->n) {
		dwtypes__free(t);
		return -ENODATA;
	}
	*out = t;
	return 0;
}

void dwtypes__free(struct dwtypes *t)
{
	if (!t)
		return;
	dwarf_end(t->dw);
	free(t->dies);
	free(t->found);
	free(t);
}

/* Follow typedefs and qualifiers to the underlying type. */
static bool strip(Dwarf_Die *die)
{
	for (int i = 0; i < 16; i++) {
		int tag = dwarf_tag(die);
		Dwarf_Attribute a;

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
		    tag != DW_TAG_atomic_type && tag != DW_TAG_restrict_type)
			return true;
		if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, die))
			return false;
	}
	return false;
}

static bool lookup_type(struct dwtypes *t, const char *type, Dwarf_Die *die)
{
	int i = name_index(t, type);

	if (i < 0 || !t->found[i])
		return false;
	*die = t->dies[i];
	return strip(die);
}

static bool member_location(Dwarf_Die *m, int64_t *off)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr_integrate(m, DW_AT_data_member_location, &a)) {
		*off = 0; /* union members and some bit-fields */
		return true;
	}
	if (dwarf_formudata(&a, &w) == 0) {
		*off = (int64_t)w;
		return true;
	}
	return false;
}

/*
 * Find the member called name in the struct/union die, looking into
 * anonymous members too. Adds its offset to *off.
 */
static bool find_member(Dwarf_Die *agg, const char *name, Dwarf_Die *out, int64_t *off)
{
	Dwarf_Die m;

	if (dwarf_child(agg, &m) != 0)
		return false;
	do {
		const char *mn;
		int64_t moff;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		if (!member_location(&m, &moff))
			continue;
		mn = dwarf_diename(&m);
		if (mn && !strcmp(mn, name)) {
			*out = m;
			*off += moff;
			return true;
		}
		if (!mn) {
			Dwarf_Attribute a;
			Dwarf_Die sub;
			int64_t suboff = 0;
			if (dwarf_attr_integrate(&m, DW_AT_type, &a) && dwarf_formref_die(&a, &sub) &&
			    strip(&sub) && find_member(&sub, name, out, &suboff)) {
				*off += moff + suboff;
				return true;
			}
		}
	} while (dwarf_siblingof(&m, &m) == 0);
	return false;
}

/* Walk path from type; *last gets the final member DIE, *parent_off the offset of its parent. */
static int walk(struct dwtypes *t, const char *type, const char *path, Dwarf_Die *last,
		int64_t *off, int64_t *parent_off)
{
	char buf[256], *save = NULL, *tok;
	Dwarf_Die cur;

	if (!lookup_type(t, type, &cur))
		return -ENOENT;
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	*off = 0;
	for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		Dwarf_Attribute a;

		*parent_off = *off;
		if (!find_member(&cur, tok, last, off))
			return -ENOENT;
		if (!dwarf_attr_integrate(last, DW_AT_type, &a) || !dwarf_formref_die(&a, &cur) ||
		    !strip(&cur))
			return -ENOENT;
	}
	return 0;
}

int dwtypes__offsetof(struct dwtypes *t, const char *type, const char *path, int64_t *out)
{
	Dwarf_Die m;
	int64_t parent;

	return walk(t, type, path, &m, out, &parent);
}

int dwtypes__sizeof(struct dwtypes *t, const char *type, int64_t *out)
{
	Dwarf_Die die;
	Dwarf_Word size;

	if (!lookup_type(t, type, &die) || dwarf_aggregate_size(&die, &size))
		return -ENOENT;
	*out = (int64_t)size;
	return 0;
}

int dwtypes__enumval(struct dwtypes *t, const char *type, const char *name, int64_t *out)
{
	Dwarf_Die die, e;

	if (!lookup_type(t, type, &die) || dwarf_tag(&die) != DW_TAG_enumeration_type ||
	    dwarf_child(&die, &e) != 0)
		return -ENOENT;
	do {
		Dwarf_Attribute a;
		Dwarf_Sword v;
		const char *n;

		if (dwarf_tag(&e) != DW_TAG_enumerator || !(n = dwarf_diename(&e)) || strcmp(n, name))
			continue;
		if (!dwarf_attr_integrate(&e, DW_AT_const_value, &a) || dwarf_formsdata(&a, &v))
			return -ENOENT;
		*out = (int64_t)v;
		return 0;
	} while (dwarf_siblingof(&e, &e) == 0);
	return -ENOENT;
}

int dwtypes__bitpos(struct dwtypes *t, const char *type, const char *path, int64_t *out)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	Dwarf_Die m;
	int64_t off, parent;
	int ret = walk(t, type, path, &m, &off, &parent);

	if (ret)
		return ret;
	if (dwarf_attr_integrate(&m, DW_AT_data_bit_offset, &a) && !dwarf_formudata(&a, &w)) {
		/* DWARF 4+: bits from the start of the containing struct */
		*out = (int64_t)w + (off - parent) * 8;
		return 0;
	}
	if (dwarf_attr_integrate(&m, DW_AT_bit_offset, &a) && !dwarf_formudata(&a, &w)) {
		/* DWARF 2/3: counted from the most significant bit of the storage unit */
		Dwarf_Word bytes = 0, bits = 0;
		Dwarf_Attribute b;
		if (dwarf_attr_integrate(&m, DW_AT_byte_size, &b))
			dwarf_formudata(&b, &bytes);
		if (dwarf_attr_integrate(&m, DW_AT_bit_size, &b))
			dwarf_formudata(&b, &bits);
		*out = (off - parent) * 8 + (int64_t)(bytes * 8 - w - bits);
		return 0;
	}
	return -ENOENT;
}
