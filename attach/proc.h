/* SPDX-License-Identifier: MIT */
/* What /proc says about a target: its mappings, files, command line, state. */
#ifndef MEMALOT_PROC_H
#define MEMALOT_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/util.h"

struct proc_map {
	raddr_t start, end;
	uint64_t offset;
	unsigned long long dev_major, dev_minor;
	unsigned long long inode;
	bool r, w, x;
	char *path; /* as /proc/PID/maps shows it (host view), or NULL */
};

struct proc_maps {
	struct proc_map *v; /* sorted by start */
	size_t n;
};

/* Load /proc/PID/maps. @return 0 or -errno (-ESRCH when the pid is gone). */
int proc_maps__load(pid_t pid, struct proc_maps *out);
void proc_maps__release(struct proc_maps *maps);
/* The mapping that contains addr, or NULL. */
const struct proc_map *proc_maps__find(const struct proc_maps *maps, raddr_t addr);
/* True when [addr, addr+len) lies in readable mappings. */
bool proc_maps__readable(const struct proc_maps *maps, raddr_t addr, size_t len);

/*
 * Open a file of the target's, given the path /proc/PID/maps shows for it and
 * the inode that mapping has. Tries /proc/PID/root with the target's root
 * prefix stripped (chroots and containers), /proc/PID/map_files, then the path
 * itself, and only accepts a file whose inode matches.
 * On success *opened (if not NULL) gets the path that was opened (caller frees).
 * @return an fd or -errno
 */
int proc__open_mapped(pid_t pid, const struct proc_map *map, char **opened);

/*
 * Open a file by its path inside the target's root (e.g. a debug file under
 * /usr/lib/debug). @return an fd or -errno
 */
int proc__open_in_root(pid_t pid, const char *path);

/* The target's command line with NULs turned into spaces (caller frees), or NULL. */
char *proc__cmdline(pid_t pid);
/* The path of the target's executable, as /proc/PID/exe shows it (caller frees), or NULL. */
char *proc__exe(pid_t pid);
/* The command name (/proc/PID/comm), "?" when unknown (caller frees). */
char *proc__comm(pid_t pid);
/* The one-letter state from /proc/PID/stat ('R', 'S', 't', ...) or 0. */
char proc__state(pid_t tid);
/* The pid of the process tracing pid (TracerPid in status), 0 or -errno. */
int proc__tracer(pid_t pid);
/*
 * A thread of pid that another process traces (memalot itself aside): its
 * id in *tid and its tracer's pid as the result; 0 when no thread is traced,
 * or -errno.
 */
int proc__traced_thread(pid_t pid, pid_t *tid);
/* Whether pid has exited and is a zombie its parent has not reaped (not just its main thread). */
bool proc__exited(pid_t pid);
/*
 * The id under which pid's memory (maps, mem, process_vm_readv, root, exe)
 * can be read: pid itself, or, when its main thread has exited (a zombie
 * leader whose other threads run on: pthread_exit in main), one of those
 * threads. The leader's own /proc entries lose the memory with its thread.
 */
pid_t proc__mm_pid(pid_t pid);
/*
 * Whether pid has exited or is exiting: a zombie its parent has not reaped
 * (not just its main thread: see proc__exited), or a process in the middle
 * of exiting (PF_EXITING: a fatal signal or exit_group, its memory maybe
 * released already). False for a live process, and for no process at all.
 */
bool proc__exiting(pid_t pid);
/* Real uid of pid, or -errno. */
long proc__uid(pid_t pid);
/*
 * From /proc/PID/stat: the parent's pid and the start time (clock ticks
 * after boot: with the pid, an identity that pid reuse cannot fake).
 * Either may be NULL. @return 0 or -errno
 */
int proc__stat(pid_t pid, pid_t *ppid, unsigned long long *start);

/* The descendants of root (children, theirs, ...), at most max of them into out. @return how many */
size_t proc__descendants(pid_t root, pid_t *out, size_t max);

/* RSS in KiB and peak RSS (VmHWM) in KiB of pid. @return 0 or -errno */
int proc__rss(pid_t pid, long *rss_kib, long *hwm_kib);

/*
 * The default of --max-memory: half the memory this machine has available
 * (MemAvailable in /proc/meminfo), or 1 GiB when that cannot be read.
 */
uint64_t proc__default_max_copy(void);

#endif
