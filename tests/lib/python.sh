# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# Sourced by the test scripts (sh): find a CPython to start targets with, as
# tests/lib/harness.c does.
#
# find_python [OVERRIDE]: prints $OVERRIDE when set and not empty, else the
# newest pyenv CPython 3.12 (then 3.13, 3.11, 3.10, 3.9, 3.8), else
# /usr/bin/python3.11; fails when there is none.

# `pyenv root`, else $PYENV_ROOT, else ~/.pyenv
pyenv_root() {
	r=$(pyenv root 2>/dev/null) && case $r in /*) echo "$r"; return ;; esac
	if [ -n "${PYENV_ROOT:-}" ]; then echo "$PYENV_ROOT"; else echo "${HOME:-/root}/.pyenv"; fi
}

# The newest plain CPython 3.M.P under ROOT/versions (no "t", "rc" or "-dev").
pyenv_python() { # root, minor
	best='' best_patch=-1
	for d in "$1/versions/$2".*; do
		patch=${d##*/"$2".}
		case $patch in '' | *[!0-9]*) continue ;; esac
		if [ -x "$d/bin/python3" ] && [ "$patch" -gt "$best_patch" ]; then
			best=$d/bin/python3 best_patch=$patch
		fi
	done
	[ -n "$best" ] && echo "$best"
}

find_python() { # override
	if [ -n "${1:-}" ]; then
		echo "$1"
		return
	fi
	root=$(pyenv_root)
	for minor in 3.12 3.13 3.11 3.10 3.9 3.8; do
		pyenv_python "$root" "$minor" && return
	done
	[ -x /usr/bin/python3.11 ] && echo /usr/bin/python3.11
}
