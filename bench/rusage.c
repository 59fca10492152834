/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for /usr/bin/time -f '%e %M' where that is not installed: run a
 * command and print "WALL_SECONDS MAXRSS_KIB" of it on stderr as the last line.
 *
 * usage: rusage CMD [ARGS...]   (exit status is the command's)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int st;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: rusage CMD [ARGS...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "rusage: fork: %s\n", strerror(errno));
		return 127;
	}
	if (!pid) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "rusage: cannot run '%s': %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) < 0) {
		fprintf(stderr, "rusage: wait4: %s\n", strerror(errno));
		return 127;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%.3f %ld\n",
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, ru.ru_maxrss);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
