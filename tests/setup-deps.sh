#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages that building and testing memalot need; a no-op when all are there.
set -eu

pkgs="build-essential pkg-config libelf-dev libdw-dev libmsgpack-dev libcriterion-dev
libjansson-dev python3 python3.11-dbg python3-pytest python3-pytest-xdist debootstrap strace valgrind clang libclang-rt-14-dev graphviz librsvg2-bin chromium
file man-db zsh"

say() { echo "setup-deps: $*" >&2; }

if ! command -v dpkg-query >/dev/null 2>&1; then
	say "not a Debian system (no dpkg-query): install the equivalents of these yourself:" $pkgs
	exit 0
fi

missing=
for p in $pkgs; do
	case $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) in
	"install ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done
# tests/mcp/run.sh runs the MCP TypeScript SDK: Debian's node and npm, unless some node is there already
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
[ -n "$missing" ] || exit 0

sudo=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { say "need root to install:$missing"; exit 1; }
	sudo="sudo -n"
fi
say "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q </dev/null
# shellcheck disable=SC2086 # one word per package
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing </dev/null
