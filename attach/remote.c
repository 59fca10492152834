/* SPDX-License-Identifier: MIT */
/*
 * Remote reads. Walking the garbage collector's lists is pointer chasing over
 * a million small objects; one system call per object would take seconds. The
 * reader instead copies whole 64 KiB blocks (objects sit densely in pymalloc
 * arenas) and serves every further read of that block from the copy. A block
 * is split at mapping boundaries so one unmapped page does not spoil the
 * readable rest; pages that could not be read are remembered as such.
 *
 * A memory image (fuzzing, unit tests) goes through the very same cache: only
 * the place the bytes of a block come from differs, so the walker is tested
 * against the code that serves it in production.
 */
#define _GNU_SOURCE
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGES_PER_BLOCK (REMOTE_BLOCK_SIZE / 4096)
#define BATCH_IOV 1024

struct remote_block {
	uint64_t num;     /* address >> REMOTE_BLOCK_SHIFT */
	uint32_t valid;   /* bit i: page i of the block was read */
	unsigned char data[REMOTE_BLOCK_SIZE];
};

_Static_assert(PAGES_PER_BLOCK <= 32, "valid bitmap too small");

int remote__open(struct remote *r, pid_t pid)
{
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->mem_fd = -1;
	return proc_maps__load(pid, &r->maps);
}

static int cmp_segment(const void *a, const void *b)
{
	const struct remote_segment *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int remote__open_image(struct remote *r, const struct remote_segment *segs, size_t n)
{
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->mem_fd = -1;
	r->is_image = true;
	if (!n)
		return 0;
	r->image = xcalloc(n, sizeof(*r->image));
	for (size_t i = 0; i < n; i++) {
		if (!segs[i].len)
			continue;
		if (!segs[i].data || segs[i].len > UINT64_MAX - segs[i].start) {
			ret = -EINVAL;
			goto out;
		}
		r->image[r->nimage++] = segs[i];
	}
	qsort(r->image, r->nimage, sizeof(*r->image), cmp_segment);
	r->maps.v = xcalloc(r->nimage ? r->nimage : 1, sizeof(*r->maps.v));
	for (size_t i = 0; i < r->nimage; i++) {
		const struct remote_segment *sg = &r->image[i];

		if (i && sg->start < r->maps.v[i - 1].end) {
			ret = -EINVAL;
			goto out;
		}
		r->maps.v[i] = (struct proc_map){ .start = sg->start, .end = sg->start + sg->len, .r = true };
		r->maps.n++;
	}
out:
	if (ret)
		remote__release(r);
	return ret;
}

static void drop_blocks(struct remote *r)
{
	for (size_t i = 0; i < r->nslots; i++)
		free(r->slots[i]);
	zfree(&r->slots);
	r->nslots = r->nblocks = 0;
}

void remote__release(struct remote *r)
{
	drop_blocks(r);
	proc_maps__release(&r->maps);
	zfree(&r->image);
	r->nimage = 0;
	if (r->mem_fd >= 0)
		close(r->mem_fd);
	r->mem_fd = -1;
}

int remote__reset(struct remote *r)
{
	drop_blocks(r);
	if (r->is_image)
		return 0; /* an image does not change: its maps stay */
	proc_maps__release(&r->maps);
	return proc_maps__load(r->pid, &r->maps);
}

bool remote__mapped(const struct remote *r, raddr_t addr, size_t len)
{
	return proc_maps__readable(&r->maps, addr, len);
}

static size_t slot_of(const struct remote *r, uint64_t num)
{
	return (size_t)((num * 0x9E3779B97F4A7C15ull) >> 20) & (r->nslots - 1);
}

static struct remote_block *lookup(const struct remote *r, uint64_t num)
{
	if (!r->nslots)
		return NULL;
	for (size_t i = slot_of(r, num);; i = (i + 1) & (r->nslots - 1)) {
		struct remote_block *b = r->slots[i];
		if (!b || b->num == num)
			return b;
	}
}

static void insert(struct remote *r, struct remote_block *b)
{
	if ((r->nblocks + 1) * 2 > r->nslots) {
		struct remote_block **old = r->slots;
		size_t oldn = r->nslots;

		r->nslots = oldn ? oldn * 2 : 1024;
		r->slots = xcalloc(r->nslots, sizeof(*r->slots));
		for (size_t i = 0; i < oldn; i++) {
			if (!old[i])
				continue;
			size_t j = slot_of(r, old[i]->num);
			while (r->slots[j])
				j = (j + 1) & (r->nslots - 1);
			r->slots[j] = old[i];
		}
		free(old);
	}
	size_t j = slot_of(r, b->num);
	while (r->slots[j])
		j = (j + 1) & (r->nslots - 1);
	r->slots[j] = b;
	r->nblocks++;
}

struct piece {
	struct remote_block *b;
	raddr_t addr;
	size_t len;
};

/* Read the pieces with /proc/PID/mem, one pread each. */
static int read_pieces_mem(struct remote *r, struct piece *p, size_t n)
{
	if (r->mem_fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)r->pid);
		r->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->mem_fd < 0)
			return errno == ENOENT ? -ESRCH : -errno;
	}
	for (size_t i = 0; i < n; i++) {
		ssize_t got = pread(r->mem_fd, p[i].b->data + (p[i].addr & (REMOTE_BLOCK_SIZE - 1)),
				    p[i].len, (off_t)p[i].addr);
		r->syscalls++;
		if (got <= 0)
			continue;
		r->bytes_read += (uint64_t)got;
		for (raddr_t a = p[i].addr; a < p[i].addr + (size_t)got; a += 4096)
			p[i].b->valid |= 1u << ((a & (REMOTE_BLOCK_SIZE - 1)) >> 12);
	}
	return 0;
}

/*
 * Copy the pieces from the image's segments. A piece never crosses a mapping
 * (fill cuts them there) and maps.v[i] is image[i]. Every page a piece
 * touches is marked read: segments need not be page aligned, so
 * remote__peek checks an image's reads against the exact segment bounds.
 */
static int read_pieces_image(struct remote *r, struct piece *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct proc_map *m = proc_maps__find(&r->maps, p[i].addr);
		const struct remote_segment *sg;
		size_t off = (size_t)(p[i].addr & (REMOTE_BLOCK_SIZE - 1));

		if (!m)
			continue;
		sg = &r->image[m - r->maps.v];
		memcpy(p[i].b->data + off, (const unsigned char *)sg->data + (p[i].addr - sg->start),
		       p[i].len);
		r->bytes_read += p[i].len;
		for (size_t pg = off >> 12; pg <= (off + p[i].len - 1) >> 12; pg++)
			p[i].b->valid |= 1u << pg;
	}
	return 0;
}

/*
 * Read the pieces into their blocks. process_vm_readv stops at the first
 * remote range it cannot read, so after a short read we continue with the
 * piece after the one that failed.
 */
static int read_pieces(struct remote *r, struct piece *p, size_t n)
{
	struct iovec local[BATCH_IOV], remote[BATCH_IOV];
	size_t i = 0;

	if (r->is_image)
		return read_pieces_image(r, p, n);
	if (r->use_mem_fd)
		return read_pieces_mem(r, p, n);
	while (i < n) {
		size_t k = MIN(n - i, (size_t)BATCH_IOV);
		ssize_t got;

		for (size_t j = 0; j < k; j++) {
			local[j].iov_base = p[i + j].b->data + (p[i + j].addr & (REMOTE_BLOCK_SIZE - 1));
			local[j].iov_len = p[i + j].len;
			remote[j].iov_base = (void *)(uintptr_t)p[i + j].addr;
			remote[j].iov_len = p[i + j].len;
		}
		got = process_vm_readv(r->pid, local, k, remote, k, 0);
		r->syscalls++;
		if (got < 0) {
			if (errno == ESRCH) {
				r->gone = true;
				return -ESRCH;
			}
			if (errno == ENOSYS || errno == EPERM) {
				r->use_mem_fd = true;
				return read_pieces_mem(r, p + i, n - i);
			}
			if (errno != EFAULT)
				return -errno;
			got = 0;
		}
		r->bytes_read += (uint64_t)got;
		/*
		 * Pieces are page aligned (mapping and block bounds are), so whole
		 * pages of what arrived are valid; a short piece ends this batch.
		 */
		size_t done = 0, j;
		for (j = 0; j < k; j++) {
			size_t take = (size_t)got > done ? MIN(p[i + j].len, (size_t)got - done) : 0;
			for (size_t off = 0; off + 4096 <= take; off += 4096) {
				raddr_t a = p[i + j].addr + off;
				p[i + j].b->valid |= 1u << ((a & (REMOTE_BLOCK_SIZE - 1)) >> 12);
			}
			done += take;
			if (take < p[i + j].len)
				break;
		}
		i += j < k ? j + 1 : k;
	}
	return 0;
}

/*
 * Make sure the blocks covering [addr, addr+len) are cached, reading the
 * missing ones in one batch.
 */
static int fill(struct remote *r, raddr_t addr, size_t len)
{
	struct piece *pieces = NULL;
	size_t npieces = 0, cap = 0;
	uint64_t first = addr >> REMOTE_BLOCK_SHIFT;
	uint64_t last = (addr + len - 1) >> REMOTE_BLOCK_SHIFT;
	int ret;

	if (r->gone)
		return -ESRCH;
	for (uint64_t num = first; num <= last; num++) {
		raddr_t bstart = num << REMOTE_BLOCK_SHIFT, bend = bstart + REMOTE_BLOCK_SIZE;
		struct remote_block *b;

		if (lookup(r, num))
			continue;
		b = xmalloc(sizeof(*b));
		b->num = num;
		b->valid = 0;
		insert(r, b);
		r->misses++;
		/* one piece per readable mapping inside the block */
		for (raddr_t a = bstart; a < bend;) {
			const struct proc_map *m = proc_maps__find(&r->maps, a);
			raddr_t end;

			if (!m) {
				/* skip to the next mapping that starts inside the block */
				raddr_t next = bend;
				for (size_t i = 0; i < r->maps.n; i++)
					if (r->maps.v[i].start > a) {
						next = MIN(r->maps.v[i].start, bend);
						break;
					}
				a = next;
				continue;
			}
			end = MIN(m->end, bend);
			if (m->r) {
				GROW(pieces, cap, npieces + 1);
				pieces[npieces++] = (struct piece){ b, a, (size_t)(end - a) };
			}
			a = end;
		}
	}
	ret = npieces ? read_pieces(r, pieces, npieces) : 0;
	free(pieces);
	return ret;
}

static bool block_has(const struct remote_block *b, raddr_t addr, size_t len)
{
	unsigned lo = (unsigned)((addr & (REMOTE_BLOCK_SIZE - 1)) >> 12);
	unsigned hi = (unsigned)(((addr & (REMOTE_BLOCK_SIZE - 1)) + len - 1) >> 12);
	uint32_t mask = (hi >= 31 ? 0xffffffffu : ((1u << (hi + 1)) - 1)) & ~((1u << lo) - 1);

	return (b->valid & mask) == mask;
}

const void *remote__peek(struct remote *r, raddr_t addr, size_t len)
{
	uint64_t num = addr >> REMOTE_BLOCK_SHIFT;
	struct remote_block *b;

	if (!len || len > REMOTE_BLOCK_SIZE || addr + len < addr ||
	    ((addr + len - 1) >> REMOTE_BLOCK_SHIFT) != num)
		return NULL;
	b = lookup(r, num);
	if (b)
		r->hits++;
	else {
		if (fill(r, addr, len))
			return NULL;
		b = lookup(r, num);
		if (!b)
			return NULL;
	}
	if (!block_has(b, addr, len))
		return NULL;
	/* image pages may be only partly backed by a segment (see read_pieces_image) */
	if (r->is_image && !proc_maps__readable(&r->maps, addr, len))
		return NULL;
	return b->data + (addr & (REMOTE_BLOCK_SIZE - 1));
}

int remote__read(struct remote *r, raddr_t addr, void *buf, size_t len)
{
	unsigned char *out = buf;

	if (!len)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	while (len) {
		size_t in_block = REMOTE_BLOCK_SIZE - (addr & (REMOTE_BLOCK_SIZE - 1));
		size_t take = MIN(len, in_block);
		const void *p = remote__peek(r, addr, take);

		if (!p)
			return r->gone ? -ESRCH : -EFAULT;
		memcpy(out, p, take);
		out += take;
		addr += take;
		len -= take;
	}
	return 0;
}

int remote__u64(struct remote *r, raddr_t addr, uint64_t *out)
{
	const void *p = remote__peek(r, addr, 8);

	if (p) {
		memcpy(out, p, 8);
		return 0;
	}
	return remote__read(r, addr, out, 8);
}

int remote__str(struct remote *r, raddr_t addr, char *buf, size_t max)
{
	size_t n = 0;

	if (!max)
		return -EINVAL;
	while (n + 1 < max) {
		const unsigned char *p = remote__peek(r, addr + n, 1);
		if (!p)
			return r->gone ? -ESRCH : -EFAULT;
		buf[n] = (char)*p;
		if (!*p)
			return (int)n;
		n++;
	}
	buf[n] = 0;
	return (int)n;
}

int remote__prefetch(struct remote *r, raddr_t addr, size_t len)
{
	if (!len || addr + len < addr)
		return -EINVAL;
	return fill(r, addr, len);
}

size_t remote__cached_bytes(const struct remote *r)
{
	return r->nblocks * sizeof(struct remote_block);
}
