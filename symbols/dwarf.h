/* SPDX-License-Identifier: MIT */
/* Struct layouts from DWARF (elfutils libdw): offsetof, sizeof, bit positions, enumerators. */
#ifndef MEMALOT_DWARF_H
#define MEMALOT_DWARF_H

#include <stdint.h>

struct dwtypes; /* an index of named types of one debug file */

/*
 * Index the named struct/union/typedef definitions among names (NULL-terminated)
 * found in the DWARF of the ELF file open on fd (the caller keeps fd open
 * while the index lives). @return 0, -ENODATA (no DWARF) or -errno
 */
int dwtypes__open(int fd, const char *const *names, struct dwtypes **out);
void dwtypes__free(struct dwtypes *t);

/*
 * Byte offset of the member at path ("interpreters.head") inside type name.
 * @return 0 or -ENOENT
 */
int dwtypes__offsetof(struct dwtypes *t, const char *type, const char *path, int64_t *out);
/* sizeof(type). @return 0 or -ENOENT */
int dwtypes__sizeof(struct dwtypes *t, const char *type, int64_t *out);
/*
 * Bit position of the bit-field at path ("state.kind") counted from the start
 * of its parent member ("state"), least significant bit first.
 * @return 0 or -ENOENT
 */
int dwtypes__bitpos(struct dwtypes *t, const char *type, const char *path, int64_t *out);
/* The value of enumerator name of the enum type called type. @return 0 or -ENOENT */
int dwtypes__enumval(struct dwtypes *t, const char *type, const char *name, int64_t *out);

#endif
