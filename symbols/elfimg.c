/* SPDX-License-Identifier: MIT */
/* ELF symbols, sections and notes through libelf. */
#define _GNU_SOURCE
#include "elfimg.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/util.h"

struct elfimg {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
};

int elfimg__open_fd(int fd, struct elfimg **out)
{
	struct elfimg *img;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -ENOEXEC;
	}
	img = xcalloc(1, sizeof(*img));
	img->fd = fd;
	img->elf = elf;
	if (!gelf_getehdr(elf, &img->ehdr)) {
		elfimg__free(img);
		return -ENOEXEC;
	}
	*out = img;
	return 0;
}

int elfimg__open(const char *path, struct elfimg **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return elfimg__open_fd(fd, out);
}

void elfimg__free(struct elfimg *img)
{
	if (!img)
		return;
	elf_end(img->elf);
	close(img->fd);
	free(img);
}

int elfimg__fd(const struct elfimg *img)
{
	return img->fd;
}

bool elfimg__is_exec(const struct elfimg *img)
{
	return img->ehdr.e_type == ET_EXEC;
}

uint64_t elfimg__base_vaddr(const struct elfimg *img)
{
	size_t n = 0;
	uint64_t base = UINT64_MAX;

	if (elf_getphdrnum(img->elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(img->elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    (ph.p_vaddr - ph.p_offset) < base)
			base = ph.p_vaddr - ph.p_offset;
	}
	return base == UINT64_MAX ? 0 : base & ~(uint64_t)0xfff;
}

static Elf_Scn *find_section(struct elfimg *img, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(img->elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(img->elf, scn))) {
		const char *n;
		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(img->elf, shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

static int symbol_in(struct elfimg *img, Elf64_Word type, const char *name, uint64_t *value,
		     uint64_t *size)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(img->elf, scn))) {
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *s;
			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			s = elf_strptr(img->elf, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name)) {
				*value = sym.st_value;
				if (size)
					*size = sym.st_size;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int elfimg__symbol(struct elfimg *img, const char *name, uint64_t *value, uint64_t *size)
{
	if (!symbol_in(img, SHT_SYMTAB, name, value, size))
		return 0;
	return symbol_in(img, SHT_DYNSYM, name, value, size);
}

int elfimg__section(struct elfimg *img, const char *name, uint64_t *addr, uint64_t *size)
{
	GElf_Shdr sh;

	if (!find_section(img, name, &sh))
		return -ENOENT;
	*addr = sh.sh_addr;
	*size = sh.sh_size;
	return 0;
}

int elfimg__read_vaddr(struct elfimg *img, uint64_t vaddr, void *buf, size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(img->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (vaddr >= sh.sh_addr && vaddr + len <= sh.sh_addr + sh.sh_size) {
			ssize_t n = pread(img->fd, buf, len, (off_t)(sh.sh_offset + (vaddr - sh.sh_addr)));
			return n == (ssize_t)len ? 0 : -EIO;
		}
	}
	return -ENOENT;
}

int elfimg__build_id(struct elfimg *img, char *buf, size_t size)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(img->elf, scn))) {
		Elf_Data *data;
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		while ((off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
			const unsigned char *d = (const unsigned char *)data->d_buf + doff;
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + noff, "GNU", 4))
				continue;
			if (nh.n_descsz * 2 + 1 > size || nh.n_descsz == 0)
				return -ERANGE;
			for (size_t i = 0; i < nh.n_descsz; i++)
				sprintf(buf + 2 * i, "%02x", d[i]);
			return 0;
		}
	}
	return -ENOENT;
}

int elfimg__debuglink(struct elfimg *img, char *buf, size_t size)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(img, ".gnu_debuglink", &sh);
	Elf_Data *data;
	size_t len;

	if (!scn || !(data = elf_getdata(scn, NULL)) || !data->d_size)
		return -ENOENT;
	len = strnlen(data->d_buf, data->d_size);
	if (len == 0 || len >= size || len == data->d_size || memchr(data->d_buf, '/', len))
		return -ENOENT;
	memcpy(buf, data->d_buf, len);
	buf[len] = 0;
	return 0;
}

bool elfimg__has_dwarf(struct elfimg *img)
{
	GElf_Shdr sh;

	return find_section(img, ".debug_info", &sh) && sh.sh_type == SHT_PROGBITS && sh.sh_size > 0;
}

int elfimg__each_rodata_string(struct elfimg *img, int (*fn)(const char *s, size_t len, void *arg),
			       void *arg)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(img, ".rodata", &sh);
	Elf_Data *data;
	const char *p, *end;

	if (!scn || sh.sh_type != SHT_PROGBITS || !(data = elf_getdata(scn, NULL)) || !data->d_buf)
		return 0;
	p = data->d_buf;
	end = p + data->d_size;
	while (p < end) {
		const char *s = p;
		while (p < end && *p >= 0x20 && *p < 0x7f)
			p++;
		if (p < end && *p == 0 && p > s) {
			int ret = fn(s, (size_t)(p - s), arg);
			if (ret)
				return ret;
		}
		p++;
	}
	return 0;
}
