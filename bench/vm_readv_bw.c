/* SPDX-License-Identifier: MIT */
/*
 * How fast process_vm_readv can copy from a target: the ceiling for memalot's
 * block reads. Copies the target's largest readable anonymous mappings (where
 * pymalloc arenas and the malloc heap live) in 64 KiB ranges, and times small
 * single reads for the per-call cost.
 *
 * usage: vm_readv_bw PID [MiB] [reps]    (default 256 MiB, 5 repetitions)
 *
 * Output (stdout), one "key=median,min,max" line per figure:
 *   batched_gbps        64 KiB iovecs, up to IOV_MAX per call, into a reused,
 *                       already faulted-in destination (pure copy rate)
 *   batched_fresh_gbps  the same into a fresh mmap per repetition, so our own
 *                       page faults count, as for freshly malloc'd cache blocks
 *   single64k_gbps      one 64 KiB range per call (what a cache miss costs)
 *   single64k_us        microseconds per such call
 *   small32_us          microseconds per 32-byte single-range call
 * plus bytes=, ranges=, mappings=, iov_max=. Progress goes to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CHUNK ((size_t)64 * 1024)
#define MAX_REPS 64
#define SMALL_CALLS 20000

struct range {
	uintptr_t start, end;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_size_desc(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	uintptr_t sx = x->end - x->start, sy = y->end - y->start;

	return sx < sy ? 1 : sx > sy ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Readable anonymous mappings (no path, or [heap]), largest first. */
static size_t load_ranges(pid_t pid, struct range **out)
{
	char path[64], line[4096];
	struct range *v = NULL;
	size_t n = 0, cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "vm_readv_bw: cannot open '%s': %s\n", path, strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char perms[8];
		int pos = 0;
		const char *name;

		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &s, &e, perms, &pos) < 3)
			continue;
		name = line + pos;
		if (perms[0] != 'r')
			continue;
		if (*name && *name != '\n' && strncmp(name, "[heap]", 6))
			continue; /* a file, the stack, vdso... */
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				abort();
		}
		v[n++] = (struct range){ (uintptr_t)s, (uintptr_t)e };
	}
	fclose(f);
	qsort(v, n, sizeof(*v), cmp_size_desc);
	*out = v;
	return n;
}

/* Summarise reps values as "key=median,min,max". */
static void report(const char *key, double *vals, int n)
{
	qsort(vals, (size_t)n, sizeof(*vals), cmp_double);
	printf("%s=%.3f,%.3f,%.3f\n", key,
	       n % 2 ? vals[n / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2, vals[0], vals[n - 1]);
}

/*
 * Copy the remote iovecs into dst (laid out back to back, or wrapping at
 * dst_len), batch iovecs per call. @return bytes copied
 */
static size_t copy_all(pid_t pid, const struct iovec *rem, size_t nrem, unsigned char *dst,
		       size_t dst_len, size_t batch, size_t *calls)
{
	struct iovec *loc = malloc(batch * sizeof(*loc));
	size_t total = 0, off = 0;

	if (!loc)
		abort();
	for (size_t i = 0; i < nrem;) {
		size_t k = nrem - i < batch ? nrem - i : batch;
		ssize_t got;

		for (size_t j = 0; j < k; j++) {
			if (off + rem[i + j].iov_len > dst_len)
				off = 0;
			loc[j].iov_base = dst + off;
			loc[j].iov_len = rem[i + j].iov_len;
			off += rem[i + j].iov_len;
		}
		got = process_vm_readv(pid, loc, k, rem + i, k, 0);
		(*calls)++;
		if (got < 0) {
			if (errno == ESRCH) {
				fprintf(stderr, "vm_readv_bw: pid %d exited\n", (int)pid);
				exit(1);
			}
			if (errno != EFAULT) {
				fprintf(stderr, "vm_readv_bw: process_vm_readv: %s\n", strerror(errno));
				exit(1);
			}
			got = 0;
		}
		total += (size_t)got;
		/* a short read stops at the failing range: go on after it */
		size_t done = 0, j;
		for (j = 0; j < k && done + rem[i + j].iov_len <= (size_t)got; j++)
			done += rem[i + j].iov_len;
		i += j < k ? j + 1 : k;
	}
	free(loc);
	return total;
}

int main(int argc, char **argv)
{
	pid_t pid;
	size_t want, nmaps, nrem = 0, bytes = 0, iov_max;
	int reps;
	struct range *maps;
	struct iovec *rem;
	unsigned char *warm;
	size_t warm_len;
	double bw_b[MAX_REPS], bw_f[MAX_REPS], bw_s[MAX_REPS], us_s[MAX_REPS], us_small[MAX_REPS];
	long sys_iov = sysconf(_SC_IOV_MAX);

	if (argc < 2) {
		fprintf(stderr, "usage: vm_readv_bw PID [MiB] [reps]\n");
		return 2;
	}
	pid = (pid_t)atoi(argv[1]);
	want = (argc > 2 ? strtoull(argv[2], NULL, 10) : 256) << 20;
	reps = argc > 3 ? atoi(argv[3]) : 5;
	if (reps < 1 || reps > MAX_REPS)
		reps = 5;
	iov_max = sys_iov > 0 ? (size_t)sys_iov : 1024;

	nmaps = load_ranges(pid, &maps);
	rem = malloc(((want / CHUNK) + nmaps + 1) * sizeof(*rem));
	if (!rem)
		abort();
	size_t used = 0;
	for (size_t m = 0; m < nmaps && bytes < want; m++, used++)
		for (uintptr_t a = maps[m].start; a < maps[m].end && bytes < want; a += CHUNK) {
			size_t len = maps[m].end - a < CHUNK ? maps[m].end - a : CHUNK;
			if (len > want - bytes)
				len = want - bytes;
			rem[nrem++] = (struct iovec){ (void *)a, len };
			bytes += len;
		}
	if (!nrem) {
		fprintf(stderr, "vm_readv_bw: pid %d has no readable anonymous mapping\n", (int)pid);
		return 1;
	}
	printf("bytes=%zu\nranges=%zu\nmappings=%zu\niov_max=%zu\n", bytes, nrem, used, iov_max);

	/* a reused destination of IOV_MAX chunks, faulted in before timing */
	warm_len = iov_max * CHUNK;
	if (warm_len > bytes)
		warm_len = bytes;
	warm = malloc(warm_len);
	if (!warm)
		abort();
	memset(warm, 1, warm_len);
	{
		size_t calls = 0; /* one untimed pass: the target's side faults in too */
		copy_all(pid, rem, nrem, warm, warm_len, iov_max, &calls);
	}

	for (int r = 0; r < reps; r++) {
		size_t calls = 0, got;
		double t;
		unsigned char *fresh;

		t = now_s();
		got = copy_all(pid, rem, nrem, warm, warm_len, iov_max, &calls);
		t = now_s() - t;
		bw_b[r] = (double)got / t / 1e9;

		fresh = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fresh == MAP_FAILED)
			abort();
		calls = 0;
		t = now_s();
		got = copy_all(pid, rem, nrem, fresh, bytes, iov_max, &calls);
		t = now_s() - t;
		munmap(fresh, bytes);
		bw_f[r] = (double)got / t / 1e9;

		calls = 0;
		t = now_s();
		got = copy_all(pid, rem, nrem, warm, warm_len, 1, &calls);
		t = now_s() - t;
		bw_s[r] = (double)got / t / 1e9;
		us_s[r] = t * 1e6 / (double)calls;

		/* small reads at spread-out addresses, one call each */
		{
			unsigned char buf[32];
			struct iovec l = { buf, sizeof(buf) }, rr;
			size_t step = nrem / SMALL_CALLS ? nrem / SMALL_CALLS : 1;

			t = now_s();
			for (size_t i = 0; i < SMALL_CALLS; i++) {
				const struct iovec *c = &rem[(i * step + (size_t)r) % nrem];
				rr.iov_base = (unsigned char *)c->iov_base + (i * 4096 % c->iov_len & ~(size_t)31);
				rr.iov_len = sizeof(buf);
				process_vm_readv(pid, &l, 1, &rr, 1, 0);
			}
			t = now_s() - t;
			us_small[r] = t * 1e6 / SMALL_CALLS;
		}
		fprintf(stderr, "vm_readv_bw: rep %d: batched %.2f GB/s, fresh %.2f GB/s, "
			"single 64k %.2f GB/s (%.1f us/call), 32 B %.2f us/call\n",
			r + 1, bw_b[r], bw_f[r], bw_s[r], us_s[r], us_small[r]);
	}
	report("batched_gbps", bw_b, reps);
	report("batched_fresh_gbps", bw_f, reps);
	report("single64k_gbps", bw_s, reps);
	report("single64k_us", us_s, reps);
	report("small32_us", us_small, reps);
	free(warm);
	free(rem);
	free(maps);
	return 0;
}
