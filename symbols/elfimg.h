/* SPDX-License-Identifier: MIT */
/* One ELF file (an interpreter image or its debug file) read with libelf. */
#ifndef MEMALOT_ELFIMG_H
#define MEMALOT_ELFIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elfimg;

/* Takes ownership of fd. @return 0 or -errno (-ENOEXEC when not ELF) */
int elfimg__open_fd(int fd, struct elfimg **out);
int elfimg__open(const char *path, struct elfimg **out);
void elfimg__free(struct elfimg *img);

int elfimg__fd(const struct elfimg *img);
/* ET_EXEC (true) or ET_DYN. */
bool elfimg__is_exec(const struct elfimg *img);
/* Lowest p_vaddr of a PT_LOAD segment with offset 0 (page aligned). */
uint64_t elfimg__base_vaddr(const struct elfimg *img);

/* Look up a symbol in .symtab, then .dynsym. @return 0 or -ENOENT */
int elfimg__symbol(struct elfimg *img, const char *name, uint64_t *value, uint64_t *size);
/* A section's address and size. @return 0 or -ENOENT */
int elfimg__section(struct elfimg *img, const char *name, uint64_t *addr, uint64_t *size);
/* Copy file-backed bytes at a virtual address. @return 0, -ENOENT (not in the file) */
int elfimg__read_vaddr(struct elfimg *img, uint64_t vaddr, void *buf, size_t len);
/* The GNU build-id as lowercase hex into buf (at least 129 bytes). @return 0 or -ENOENT */
int elfimg__build_id(struct elfimg *img, char *buf, size_t size);
/* The .gnu_debuglink file name. @return 0 or -ENOENT */
int elfimg__debuglink(struct elfimg *img, char *buf, size_t size);
/* True when the file has a non-empty .debug_info section. */
bool elfimg__has_dwarf(struct elfimg *img);

/*
 * Call fn for every NUL-terminated string of printable bytes in the
 * read-only data sections (for version strings in images without Py_Version).
 * Stops when fn returns nonzero, and returns that value.
 */
int elfimg__each_rodata_string(struct elfimg *img, int (*fn)(const char *s, size_t len, void *arg),
			       void *arg);

#endif
