#!/bin/sh
# SPDX-License-Identifier: MIT
# Build, once, a minimal Debian sid chroot holding the distribution's Python 3.13, 3.14
# and 3.15 (release and debug builds).
#
# usage: tests/setup-sid-root.sh [DIR]        (default: .cache/sid-root in the repository)
#
# The integration tests start these interpreters with "chroot DIR /usr/bin/python3.15".
# The mirror is the one this machine's apt already uses. A finished root carries the
# stamp DIR/.memalot-sid-root.done (the test harness looks for it); a root without it
# was interrupted half-way and is removed and built again. A finished root that lacks
# some of the packages (the list grew since it was built) gets them installed in place;
# a root that has them all is left alone.
# MEMALOT_SID_PACKAGES overrides the package list; packages sid lacks are dropped (and
# remembered in the stamp as absent, so that they are not asked for again).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/.cache/sid-root}
pkgs=${MEMALOT_SID_PACKAGES:-"python3.13 python3.14 python3.15 python3.13-dbg python3.14-dbg python3.15-dbg"}
stamp=.memalot-sid-root.done

say() { echo "setup-sid-root: $*" >&2; }
die() { say "$*"; exit 1; }

# Is package $1 installed in the root? (read from dpkg's status file: no chroot, no root)
installed() {
	awk -v p="$1" 'BEGIN { RS = ""; FS = "\n"; found = 0 }
	{
		name = st = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^Package:/) { name = $i; sub(/^Package:[ \t]*/, "", name) }
			else if ($i ~ /^Status:/) st = $i
		}
		if (name == p && st ~ / installed$/) { found = 1; exit }
	}
	END { exit !found }' "$dir/var/lib/dpkg/status" 2>/dev/null
}

# The wanted packages a finished root lacks, less those its stamp records as absent from sid.
lacking() {
	absent=$(sed -n 's/.* absent=\([^ ]*\).*/\1/p' "$dir/$stamp" 2>/dev/null | tr , ' ')
	for p in $pkgs; do
		case " $absent " in *" $p "*) continue ;; esac
		installed "$p" || printf '%s ' "$p"
	done
}

if [ -f "$dir/$stamp" ] && [ -z "$(lacking)" ]; then
	say "$dir is ready: $(cat "$dir/$stamp")"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || die "debootstrap and chroot need root; run this as root"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing: run tests/setup-deps.sh"

# The first Debian (not security) URI in this machine's apt sources.
apt_mirror() {
	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		# deb822: paragraph mode, one stanza per record, one field per line
		awk 'BEGIN { RS = ""; FS = "\n" }
		{
			types = uris = suites = enabled = ""
			for (i = 1; i <= NF; i++) {
				k = tolower($i)
				v = $i
				sub(/^[^:]*:[ \t]*/, "", v)
				if (k ~ /^types:/) types = v
				else if (k ~ /^uris:/) uris = v
				else if (k ~ /^suites:/) suites = v
				else if (k ~ /^enabled:/) enabled = tolower(v)
			}
			if (types ~ /(^|[ \t])deb([ \t]|$)/ && suites !~ /security/ && uris != "" && enabled != "no") {
				split(uris, u, /[ \t]+/)
				print u[1]
				exit
			}
		}' /etc/apt/sources.list.d/debian.sources
	fi
	if [ -r /etc/apt/sources.list ]; then
		# one-line format: deb [options] URI suite components
		awk '$1 == "deb" && $0 !~ /security/ {
			i = 2
			if ($i ~ /^\[/) while ($i !~ /\]$/) i++
			if ($i ~ /\]$/) i++
			print $i
			exit
		}' /etc/apt/sources.list
	fi
}

# Unmount whatever an interrupted run left mounted inside $1, deepest first.
unmount_below() {
	r=$(realpath -m "$1")
	awk -v r="$r" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" || say "cannot unmount $m"
		done
}

mirror=$(apt_mirror | head -n 1)
mirror=${mirror%/}
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"

mkdir -p "$(dirname "$dir")"
dir=$(realpath -m "$dir")
[ "$dir" != / ] || die "refusing to use / as the root"
# One builder at a time; the second waits and then finds the stamp.
exec 9>"$dir.lock"
flock 9
update=
if [ -f "$dir/$stamp" ]; then
	update=$(lacking)
	if [ -z "$update" ]; then
		say "$dir is ready: $(cat "$dir/$stamp")"
		exit 0
	fi
fi
trap 'unmount_below "$dir"' EXIT
trap 'exit 130' INT TERM HUP

# Install packages $* that sid has into the root (proc mounted); sets $have and $absent.
install_pkgs() {
	have= absent=
	for p in "$@"; do
		if chroot "$dir" apt-cache show --no-all-versions "$p" 2>/dev/null | grep -q '^Package:'; then
			have="$have $p"
		else
			say "warning: sid has no package $p; left out"
			absent="$absent $p"
		fi
	done
	[ -n "$have" ] || return 0
	say "installing$have"
	# shellcheck disable=SC2086 # one word per package
	chroot "$dir" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends $have </dev/null >&2 || return 1
	chroot "$dir" apt-get clean
}

# The versions of the interpreters in the root, on stderr.
show_versions() {
	for p in "$dir"/usr/bin/python3.*; do
		case ${p##*/} in
		python3.[0-9]|python3.[0-9][0-9]|python3.[0-9]d|python3.[0-9][0-9]d)
			echo "  ${p##*/}: $(chroot "$dir" "/usr/bin/${p##*/}" -c 'import sys; print(sys.version.split()[0])')" >&2 ;;
		esac
	done
}

if [ -n "$update" ]; then
	# A finished root whose package list grew: add what it lacks, keep the rest.
	start=$(date +%s)
	unmount_below "$dir"
	mount -t proc proc "$dir/proc"
	cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
	say "updating $dir: adding$(printf ' %s' $update)"
	# an update interrupted half-way left packages unpacked but not configured
	chroot "$dir" env DEBIAN_FRONTEND=noninteractive dpkg --configure -a </dev/null >&2
	# The root's package lists first (as a fresh build does); fresh ones only when
	# they lack a package or name files the mirror no longer has.
	for p in $update; do
		chroot "$dir" apt-cache show --no-all-versions "$p" 2>/dev/null | grep -q '^Package:' ||
			{ chroot "$dir" apt-get update -q >&2 ||
				say "warning: apt-get update in $dir failed; using the package lists it has"; break; }
	done
	# shellcheck disable=SC2086 # one word per package
	if ! install_pkgs $update; then
		chroot "$dir" apt-get update -q >&2 || die "apt-get update in $dir failed"
		install_pkgs $update || die "cannot install$have in $dir"
	fi
	old_absent=$(sed -n 's/.* absent=\([^ ]*\).*/\1/p' "$dir/$stamp" | tr , ' ')
	old_pkgs=$(sed -n 's/.* packages=\([^ ]*\).*/\1/p' "$dir/$stamp" | tr , ' ')
	unmount_below "$dir"
	all=
	for p in $old_pkgs $pkgs; do
		case " $all " in *" $p "*) continue ;; esac
		installed "$p" && all="$all $p"
	done
	# shellcheck disable=SC2086 # one word per package
	absent=$(echo $old_absent $absent | tr ' ' ,)
	tmpstamp=$dir/$stamp.tmp
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) mirror=$mirror packages=$(echo $all | tr ' ' ,)${absent:+ absent=$absent}" >"$tmpstamp"
	mv "$tmpstamp" "$dir/$stamp"
	say "updated $dir in $(($(date +%s) - start)) s:"
	show_versions
	exit 0
fi

if [ -e "$dir" ]; then
	say "removing the half-built $dir"
	unmount_below "$dir"
	rm -rf --one-file-system "$dir"
fi

start=$(date +%s)
say "debootstrap --variant=minbase sid $dir $mirror"
if ! debootstrap --variant=minbase sid "$dir" "$mirror" >&2; then
	[ -r "$dir/debootstrap/debootstrap.log" ] && tail -n 20 "$dir/debootstrap/debootstrap.log" >&2
	die "debootstrap failed; the next run starts again"
fi

mount -t proc proc "$dir/proc"
cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
# debootstrap leaves sid's package lists behind; fetch them only if it did not
ls "$dir"/var/lib/apt/lists/*_Packages >/dev/null 2>&1 || chroot "$dir" apt-get update -q >&2
# shellcheck disable=SC2086 # one word per package
install_pkgs $pkgs
[ -n "$have" ] || die "sid has none of: $pkgs"
unmount_below "$dir"

# shellcheck disable=SC2086 # one word per package
absent=$(echo $absent | tr ' ' ,)
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) mirror=$mirror packages=$(echo $have | tr ' ' ,)${absent:+ absent=$absent}" >"$dir/$stamp"
say "built $dir in $(($(date +%s) - start)) s:"
show_versions
