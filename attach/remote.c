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
 *
 * Block memory is carved from 32 MiB mappings ("chunks") rather than
 * allocated block by block. A million-object heap needs some 1,800 blocks;
 * as separate allocations their first-touch page faults (16 per block) cost
 * more of the target's pause than the copying itself, and freeing them
 * showed at exit. Chunks ask for transparent huge pages, survive
 * remote__reset so a retry or the next snapshot finds its memory paged in,
 * and can be paged in by remote__reserve before the target is frozen.
 */
#define _GNU_SOURCE
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGES_PER_BLOCK (REMOTE_BLOCK_SIZE / 4096)
#define BATCH_IOV 1024
#define CHUNK_SIZE ((size_t)32 << 20)
#define HUGE_PAGE_SIZE ((size_t)2 << 20)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels say EINVAL */
#endif

/*
 * A block's bookkeeping lives apart from its bytes, so the bytes stay
 * block-aligned inside their chunk and the bookkeeping packs densely.
 */
struct remote_block {
	uint64_t num;        /* address >> REMOTE_BLOCK_SHIFT */
	uint32_t valid;      /* bit i: page i of the block was read */
	unsigned char *data; /* REMOTE_BLOCK_SIZE bytes inside a chunk */
};

/* One mapping carved into nblk blocks, handed out in order; meta[i] describes block i. */
struct remote_chunk {
	unsigned char *data;
	struct remote_block *meta;
	size_t nblk, used;
	bool populated; /* remote__reserve paged it in */
};

_Static_assert(PAGES_PER_BLOCK <= 32, "valid bitmap too small");
_Static_assert(CHUNK_SIZE % HUGE_PAGE_SIZE == 0 && HUGE_PAGE_SIZE % REMOTE_BLOCK_SIZE == 0,
	       "chunks hold whole huge pages, huge pages whole blocks");

int remote__open(struct remote *r, pid_t pid)
{
	memset(r, 0, sizeof(*r));
	r->tgid = pid;
	r->pid = proc__mm_pid(pid);
	r->mem_fd = -1;
	r->cache_max = REMOTE_CACHE_MAX;
	/* the fallback reader, forced: for tests, and for kernels where it behaves better */
	r->use_mem_fd = getenv("MEMALOT_READ_PROC_MEM") && *getenv("MEMALOT_READ_PROC_MEM") == '1';
	return proc_maps__load(r->pid, &r->maps);
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
	r->cache_max = REMOTE_CACHE_MAX;
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

/* Forget every block but keep the chunks, and the hash table's size, for the next fill. */
static void drop_blocks(struct remote *r)
{
	if (r->nslots)
		memset(r->slots, 0, r->nslots * sizeof(*r->slots));
	for (size_t i = 0; i < r->nchunks; i++)
		r->chunks[i].used = 0;
	r->chunk_cur = 0;
	r->nblocks = 0;
	r->last = NULL;
	r->cache_full = false;
}

static void unmap_chunks(struct remote *r)
{
	for (size_t i = 0; i < r->nchunks; i++) {
		munmap(r->chunks[i].data, r->chunks[i].nblk * REMOTE_BLOCK_SIZE);
		free(r->chunks[i].meta);
	}
	zfree(&r->chunks);
	r->nchunks = r->chunks_cap = r->chunk_cur = 0;
	r->mapped_bytes = 0;
}

void remote__release(struct remote *r)
{
	drop_blocks(r);
	zfree(&r->slots);
	r->nslots = 0;
	unmap_chunks(r);
	proc_maps__release(&r->maps);
	zfree(&r->image);
	r->nimage = 0;
	if (r->mem_fd >= 0)
		close(r->mem_fd);
	r->mem_fd = -1;
}

int remote__reset(struct remote *r)
{
	int ret;

	r->sealed = false;
	drop_blocks(r);
	if (r->is_image)
		return 0; /* an image does not change: its maps stay */
	proc_maps__release(&r->maps);
	ret = proc_maps__load(r->pid, &r->maps);
	if (ret == -ESRCH && r->tgid && r->pid != r->tgid) {
		/* the thread that showed the memory of a process whose main thread exited is gone: another */
		pid_t tid = proc__mm_pid(r->tgid);

		if (tid != r->pid) {
			r->pid = tid;
			if (r->mem_fd >= 0)
				close(r->mem_fd);
			r->mem_fd = -1;
			ret = proc_maps__load(r->pid, &r->maps);
		}
	}
	return ret;
}

/*
 * Map one more chunk, smaller than CHUNK_SIZE only where r->cache_max says
 * so. A live target's chunks ask for huge pages: 1/512 of the page faults
 * and a cheaper munmap. An image's do not: the fuzzer opens thousands of
 * small images a second, and zeroing a 2 MiB page for each would dominate.
 * @return 0 or -ENOMEM
 */
static int add_chunk(struct remote *r)
{
	size_t room = r->cache_max > r->mapped_bytes ? r->cache_max - r->mapped_bytes : 0;
	size_t len = MIN(room, CHUNK_SIZE) & ~(size_t)(REMOTE_BLOCK_SIZE - 1);
	struct remote_chunk *c;
	unsigned char *data;

	if (!len)
		return -ENOMEM;
	data = map_aligned(len, r->is_image ? REMOTE_BLOCK_SIZE : HUGE_PAGE_SIZE);
	if (!data)
		return -ENOMEM;
	if (!r->is_image)
		(void)madvise(data, len, MADV_HUGEPAGE); /* a hint: without THP we get small pages */
	GROW(r->chunks, r->chunks_cap, r->nchunks + 1);
	c = &r->chunks[r->nchunks++];
	*c = (struct remote_chunk){ data, xcalloc(len / REMOTE_BLOCK_SIZE, sizeof(*c->meta)),
				    len / REMOTE_BLOCK_SIZE, 0, false };
	r->mapped_bytes += len;
	return 0;
}

/*
 * Fault in every page of a chunk. MADV_POPULATE_WRITE does it in one call;
 * where the kernel lacks it we write one byte per page (a read would only
 * map the shared zero page).
 */
static int populate(struct remote_chunk *c)
{
	size_t len = c->nblk * REMOTE_BLOCK_SIZE;

	if (c->populated)
		return 0;
	if (madvise(c->data, len, MADV_POPULATE_WRITE)) {
		if (errno != EINVAL)
			return -errno;
		for (size_t off = 0; off < len; off += 4096)
			((volatile unsigned char *)c->data)[off] = 0;
	}
	c->populated = true;
	return 0;
}

int remote__reserve(struct remote *r, size_t bytes)
{
	size_t max = r->cache_max & ~(size_t)(REMOTE_BLOCK_SIZE - 1);
	size_t want = MIN(bytes, max), have = 0;
	int ret = 0;

	while (r->mapped_bytes < want) {
		ret = add_chunk(r);
		if (ret)
			goto out;
	}
	for (size_t i = 0; i < r->nchunks && have < want; i++) {
		ret = populate(&r->chunks[i]);
		if (ret)
			goto out;
		have += r->chunks[i].nblk * REMOTE_BLOCK_SIZE;
	}
out:
	return ret;
}

size_t remote__anon_rss_hint(const struct remote *r)
{
	char path[64], line[256];
	size_t ret = 0;
	FILE *f;

	if (r->is_image || r->pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)r->pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kib;

		if (sscanf(line, "RssAnon: %llu kB", &kib) == 1) {
			ret = kib > SIZE_MAX / 1024 ? SIZE_MAX : (size_t)kib * 1024;
			break;
		}
	}
	fclose(f);
	return ret;
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

/*
 * A fresh block for num from the chunks, mapping another chunk when they are
 * used up. @return NULL when r->cache_max (or the system) allows no more
 */
static struct remote_block *new_block(struct remote *r, uint64_t num)
{
	struct remote_chunk *c;
	struct remote_block *b;

	while (r->chunk_cur < r->nchunks && r->chunks[r->chunk_cur].used == r->chunks[r->chunk_cur].nblk)
		r->chunk_cur++;
	if (r->chunk_cur == r->nchunks && add_chunk(r)) {
		r->cache_full = true;
		return NULL;
	}
	c = &r->chunks[r->chunk_cur];
	b = &c->meta[c->used];
	b->num = num;
	b->valid = 0;
	b->data = c->data + c->used++ * (size_t)REMOTE_BLOCK_SIZE;
	insert(r, b);
	r->misses++;
	return b;
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
 * Objects live in writable memory: the heap, arenas, the image's data. The
 * main thread's [stack] is needed too: 3.11 and 3.12 keep a thread's current
 * frame pointer in a struct on the C stack.
 */
static bool copied(const struct proc_map *m)
{
	return m->r && m->w && !(m->path && m->path[0] == '[' && strcmp(m->path, "[heap]") && strcmp(m->path, "[stack]"));
}

/* Anonymous memory: a page of it that is neither in memory nor swapped out was never written, and reads as 0. */
static bool anonymous(const struct proc_map *m)
{
	return !m->path || !m->path[0] || !strcmp(m->path, "[heap]") || !strcmp(m->path, "[stack]");
}

/* The blocks of [addr, addr+len), inside mapping m, that the cache lacks: all zeros (see fill()). */
static int zero_blocks(struct remote *r, const struct proc_map *m, raddr_t addr, size_t len)
{
	uint64_t first = addr >> REMOTE_BLOCK_SHIFT, last = (addr + len - 1) >> REMOTE_BLOCK_SHIFT;

	for (uint64_t num = first; num <= last; num++) {
		raddr_t bstart = num << REMOTE_BLOCK_SHIFT, from = MAX(bstart, m->start);
		raddr_t to = MIN(bstart + REMOTE_BLOCK_SIZE, m->end);
		struct remote_block *b;

		if (lookup(r, num))
			continue;
		b = new_block(r, num);
		if (!b)
			return -ENOMEM;
		memset(b->data, 0, REMOTE_BLOCK_SIZE);
		for (raddr_t a = from; a < to; a += 4096)
			b->valid |= 1u << ((a - bstart) >> 12);
	}
	return 0;
}

/*
 * Make sure the blocks covering [addr, addr+len) are cached, reading the
 * missing ones in one batch. When the cache fills up on the way, the blocks
 * that fitted are still read and the answer is -ENOMEM.
 */
static int fill(struct remote *r, raddr_t addr, size_t len)
{
	struct piece *pieces = NULL;
	size_t npieces = 0, cap = 0;
	uint64_t first = addr >> REMOTE_BLOCK_SHIFT;
	uint64_t last = (addr + len - 1) >> REMOTE_BLOCK_SHIFT;
	int ret, full = 0;

	if (r->gone)
		return -ESRCH;
	if (r->sealed) {
		/*
		 * A sealed copy: what it lacks was not copied, except read-only
		 * mappings (program text, string literals such as tp_name), which
		 * cannot have changed since and are read on demand, and the
		 * blocks of anonymous memory with no page there when it was
		 * copied (remote__copy_writable), which were all zeros.
		 */
		const struct proc_map *m = proc_maps__find(&r->maps, addr);
		if (!m || addr + len > m->end)
			return -EFAULT;
		if (m->w)
			return copied(m) && anonymous(m) ? zero_blocks(r, m, addr, len) : -EFAULT;
	}
	for (uint64_t num = first; num <= last; num++) {
		raddr_t bstart = num << REMOTE_BLOCK_SHIFT, bend = bstart + REMOTE_BLOCK_SIZE;
		struct remote_block *b;

		if (lookup(r, num))
			continue;
		b = new_block(r, num);
		if (!b) {
			full = -ENOMEM;
			break;
		}
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
	return ret ? ret : full;
}

static bool block_has(const struct remote_block *b, raddr_t addr, size_t len)
{
	unsigned lo = (unsigned)((addr & (REMOTE_BLOCK_SIZE - 1)) >> 12);
	unsigned hi = (unsigned)(((addr & (REMOTE_BLOCK_SIZE - 1)) + len - 1) >> 12);
	uint32_t mask = (hi >= 31 ? 0xffffffffu : ((1u << (hi + 1)) - 1)) & ~((1u << lo) - 1);

	return (b->valid & mask) == mask;
}

/*
 * remote__peek with the reason for a NULL: -ESRCH when the target is gone,
 * -ENOMEM when the block could not be cached, -EFAULT for everything else
 * (as before a full cache existed, a failed read means unreadable memory).
 */
static int peek(struct remote *r, raddr_t addr, size_t len, const void **out)
{
	uint64_t num = addr >> REMOTE_BLOCK_SHIFT;
	struct remote_block *b;
	int ret;

	*out = NULL;
	if (!len || len > REMOTE_BLOCK_SIZE || addr + len < addr ||
	    ((addr + len - 1) >> REMOTE_BLOCK_SHIFT) != num)
		return -EFAULT;
	/* consecutive reads mostly hit the same block: check the last one first */
	b = r->last && r->last->num == num ? r->last : lookup(r, num);
	if (b)
		r->hits++;
	else {
		ret = fill(r, addr, len);
		if (ret)
			return r->gone ? -ESRCH : ret == -ENOMEM && r->cache_full ? -ENOMEM : -EFAULT;
		b = lookup(r, num);
		if (!b)
			return -EFAULT;
	}
	if (!block_has(b, addr, len))
		return r->gone ? -ESRCH : -EFAULT;
	/* image pages may be only partly backed by a segment (see read_pieces_image) */
	if (r->is_image && !proc_maps__readable(&r->maps, addr, len))
		return -EFAULT;
	r->last = b;
	*out = b->data + (addr & (REMOTE_BLOCK_SIZE - 1));
	return 0;
}

const void *remote__peek(struct remote *r, raddr_t addr, size_t len)
{
	const void *p;

	peek(r, addr, len, &p);
	return p;
}

int remote__read(struct remote *r, raddr_t addr, void *buf, size_t len)
{
	unsigned char *out = buf;
	int ret;

	if (!len)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	while (len) {
		size_t in_block = REMOTE_BLOCK_SIZE - (addr & (REMOTE_BLOCK_SIZE - 1));
		size_t take = MIN(len, in_block);
		const void *p;

		ret = peek(r, addr, take, &p);
		if (ret)
			return ret;
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
		const void *v;
		const unsigned char *p;
		int ret = peek(r, addr + n, 1, &v);

		if (ret)
			return ret;
		p = v;
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
	return r->nblocks * (size_t)REMOTE_BLOCK_SIZE;
}

/*
 * Copy the pages of [start, end) that are there, in memory or swapped out,
 * as /proc/PID/pagemap (fd pm) says: a page never touched holds nothing
 * (a thread's 8 MiB stack is mostly such pages). Where pagemap cannot be
 * read, all of what is left.
 */
static int copy_present(struct remote *r, int pm, raddr_t start, raddr_t end)
{
	const size_t page = 4096;
	uint64_t ent[1024];
	raddr_t a = start, run = 0;
	bool in_run = false;
	int ret;

	while (a < end) {
		size_t n = (size_t)MIN((end - a) / page, (raddr_t)ARRAY_SIZE(ent));
		ssize_t got = pread(pm, ent, n * sizeof(*ent), (off_t)(a / page * sizeof(*ent)));

		if (got < (ssize_t)sizeof(*ent)) /* no answer: the rest whole */
			return remote__prefetch(r, in_run ? run : a, (size_t)(end - (in_run ? run : a)));
		n = (size_t)got / sizeof(*ent);
		for (size_t k = 0; k < n; k++, a += page) {
			bool there = (ent[k] >> 62) & 3; /* bit 63: present, bit 62: swapped */

			if (there && !in_run) {
				run = a;
				in_run = true;
			} else if (!there && in_run) {
				in_run = false;
				if ((ret = remote__prefetch(r, run, (size_t)(a - run))))
					return ret;
			}
		}
	}
	return in_run ? remote__prefetch(r, run, (size_t)(end - run)) : 0;
}

int remote__copy_writable(struct remote *r)
{
	char path[64];
	int ret = 0, pm = -1;

	if (!r->is_image && getpagesize() == 4096) {
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)r->pid);
		pm = open(path, O_RDONLY | O_CLOEXEC);
	}
	for (size_t i = 0; i < r->maps.n && !ret; i++) {
		const struct proc_map *m = &r->maps.v[i];

		if (!copied(m))
			continue;
		if (pm >= 0 && anonymous(m)) /* a file's page not read yet holds the file's bytes, not zeros */
			ret = copy_present(r, pm, m->start, m->end);
		else
			ret = remote__prefetch(r, m->start, (size_t)(m->end - m->start));
	}
	if (pm >= 0)
		close(pm);
	return ret;
}

uint64_t remote__writable_bytes(const struct remote *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->maps.n; i++)
		if (copied(&r->maps.v[i]))
			n += r->maps.v[i].end - r->maps.v[i].start;
	return n;
}
