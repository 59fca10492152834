/* SPDX-License-Identifier: MIT */
/*
 * Reading the target's memory: process_vm_readv behind a block cache, or a
 * synthetic memory image (for fuzzing and unit tests) behind the same cache.
 */
#ifndef MEMALOT_REMOTE_H
#define MEMALOT_REMOTE_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/util.h"
#include "proc.h"

#define REMOTE_BLOCK_SHIFT 16
#define REMOTE_BLOCK_SIZE (1u << REMOTE_BLOCK_SHIFT)
/* Default cap on the cache's block memory: 4 GiB (1 GiB where size_t is 32 bits). */
#define REMOTE_CACHE_MAX ((size_t)1 << (sizeof(size_t) > 4 ? 32 : 30))

struct remote_block;
struct remote_chunk;

/* One readable range of a memory image: len bytes at data appear at start. */
struct remote_segment {
	raddr_t start;
	const void *data;
	size_t len;
};

struct remote {
	/*
	 * The thread whose /proc entries and process_vm_readv show the memory
	 * (proc__mm_pid): the process id, or a live thread when the main
	 * thread has exited; 0 for a memory image
	 */
	pid_t pid;
	pid_t tgid;        /* the process id given to remote__open */
	struct proc_maps maps;
	/* a memory image: segments sorted by start, one per entry of maps */
	bool is_image;
	struct remote_segment *image;
	size_t nimage;
	/* open-addressing hash: block number -> block */
	struct remote_block **slots;
	size_t nslots, nblocks;
	struct remote_block *last; /* the block the last read hit */
	/*
	 * Block memory: large mappings carved into blocks, kept (and kept paged
	 * in) across remote__reset, unmapped by remote__release.
	 */
	struct remote_chunk *chunks;
	size_t nchunks, chunks_cap, chunk_cur;
	size_t mapped_bytes;  /* block memory mapped in all chunks */
	size_t cache_max;     /* cap on mapped_bytes: REMOTE_CACHE_MAX unless changed after open */
	int mem_fd;        /* /proc/PID/mem, opened on first need */
	bool use_mem_fd;   /* process_vm_readv is not allowed or not there */
	bool gone;         /* the target exited */
	bool sealed;       /* reads come only from the cache, never from the target */
	bool cache_full;   /* cache_max was reached: some reads failed with -ENOMEM (until reset) */
	/* statistics */
	uint64_t syscalls, bytes_read, hits, misses;
};

/*
 * Open process pid (r->pid becomes proc__mm_pid(pid)).
 * @return 0 or -errno (-ESRCH when the process does not exist)
 */
int remote__open(struct remote *r, pid_t pid);

/*
 * Open a memory image instead of a process: reads are served from segs
 * (through the same block cache), which become r->maps as readable mappings.
 * Empty segments are ignored; the segments need not be sorted. The array is
 * copied but the caller keeps every segs[i].data alive until
 * remote__release. pid is 0.
 * @return 0, or -EINVAL when segments overlap or wrap around the address space
 */
int remote__open_image(struct remote *r, const struct remote_segment *segs, size_t n);

/* Free the cache (unmapping its memory), the maps and the image's segment array. */
void remote__release(struct remote *r);

/*
 * Forget cached memory and reload the maps: call before each new snapshot.
 * The cache's memory stays mapped and paged in for the next snapshot.
 * For a memory image only the cache is dropped.
 */
int remote__reset(struct remote *r);

/*
 * Make sure at least bytes of cache memory (rounded up to whole chunks of
 * 32 MiB, capped at r->cache_max) is mapped and paged in, so that filling
 * the cache later takes no page faults. Call after remote__reset and before
 * freezing the target: the faults then cost the target nothing. Memory
 * already there is reused, so calling it before every snapshot is cheap.
 * @return 0 (also when bytes is above the cap: the cap is reserved), or
 * -ENOMEM when the memory could not be had
 */
int remote__reserve(struct remote *r, size_t bytes);

/*
 * The target's resident anonymous memory (RssAnon of /proc/PID/status) in
 * bytes, or 0 when unknown or for a memory image: an upper bound on the
 * cache a walk of its heap needs, to size remote__reserve. It also counts
 * memory a walk never reads (buffers, arrays), so cap what you reserve.
 */
size_t remote__anon_rss_hint(const struct remote *r);

/*
 * Copy len bytes at addr into buf. @return 0, -EFAULT (not mapped/readable),
 * -ESRCH (target gone), -ENOMEM (the cache reached r->cache_max: the bytes
 * are unknown, not unreadable; r->cache_full is set) or -errno
 */
int remote__read(struct remote *r, raddr_t addr, void *buf, size_t len);

/*
 * A pointer to len bytes at addr inside the cache, valid until the next
 * remote__reset/release, or NULL when the range is unreadable, crosses a
 * block boundary (use remote__read then) or cannot be cached because the
 * cache is full (r->cache_full is set; remote__read returns -ENOMEM).
 */
const void *remote__peek(struct remote *r, raddr_t addr, size_t len);

/* Read one 8-byte word. @return 0 or -errno */
int remote__u64(struct remote *r, raddr_t addr, uint64_t *out);

/*
 * Read a NUL-terminated string of at most max-1 bytes into buf.
 * @return its length, or -errno
 */
int remote__str(struct remote *r, raddr_t addr, char *buf, size_t max);

/* True when addr lies in a readable mapping (no read is done). */
bool remote__mapped(const struct remote *r, raddr_t addr, size_t len);

/*
 * Fill the cache for every block of [addr, addr+len) that is not there yet,
 * with as few system calls as the kernel allows (up to IOV_MAX ranges each).
 * @return 0, -ENOMEM when the cache filled up first (the blocks that fitted
 * are read), -ESRCH or -errno
 */
int remote__prefetch(struct remote *r, raddr_t addr, size_t len);

/*
 * Copy every readable, writable mapping (heap, arenas, data segments, thread
 * stacks; not [vvar] and other special mappings), the pages of it that are
 * in memory or swapped out, into the cache: the snapshot copy that
 * analysis reads after the target is thawed. Set r->sealed afterwards so
 * that nothing is read from the running target any more.
 * @return 0, -ENOMEM when the cache limit was reached first, or -errno
 */
int remote__copy_writable(struct remote *r);

/* The bytes remote__copy_writable() would copy: the size of those mappings. */
uint64_t remote__writable_bytes(const struct remote *r);

/* Bytes the cache holds (blocks in use since the last reset). */
size_t remote__cached_bytes(const struct remote *r);

#endif
