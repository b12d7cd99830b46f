#!/bin/bash
# debian13.sh - a Debian 13 (trixie) chroot for the test suite and the
# package check, made on this Debian 12 machine from Debian's archive and
# reused while its package list is current.
#
# usage: sudo tools/debian13.sh prepare
#        sudo tools/debian13.sh run COMMAND [ARG...]
#        sudo tools/debian13.sh remove
#
# prepare  makes the chroot when it is missing: debootstrap --variant=minbase
#          trixie into ROOT.new, then "tools/install-deps.sh" inside it (the
#          Debian 13 list of that one file, as "install-deps.sh --list
#          --debian 13" prints it, plus the Sendmail 8.18 download of
#          tests/lib/fetch-sendmail.sh, cached in the chroot's own
#          /var/cache/mailwarren-test/sendmail), and only then renamed to
#          ROOT, so a half-made chroot is never used (logs: ROOT.debootstrap.log,
#          ROOT.install.log).  An existing chroot is reused:
#          nothing is installed when the list in ROOT/etc/mailwarren-deps
#          (the stamp) equals the current one, else install-deps.sh installs
#          only what is missing and the stamp is rewritten.
# run      prepares, copies this tree as git sees it (build directories and
#          other ignored files left out; uncommitted changes included) to
#          /build/mailwarren in the chroot, and runs COMMAND there, as root,
#          with a clean environment (MW_* and DISTCHECK_CONFIGURE_FLAGS
#          passed on).  Its output and exit status are COMMAND's.  The build
#          stays in ROOT/build/mailwarren for inspection until the next run.
# remove   deletes the chroot (the next prepare makes it from scratch).
#
# The chroot itself (bound onto itself and made the root by pivot_root),
# its /proc, /sys (read-only), /dev, /dev/pts and a private /dev/shm are
# mounted only inside private mount and PID namespaces (unshare), and
# detached by a trap when the run ends; the host never sees them, and the
# kernel drops them with the namespace even if this script is killed.
# Processes still running in there when the command ends (a daemon a
# test left behind) are stopped by the kernel with the PID namespace, and
# nothing else is touched.  Runs are serialised with a lock
# beside ROOT and bounded by timeout(1).  The chroot shares the host's
# network (tests use 127.0.0.1 and random high ports) and its apt reaches
# the same archive as the host's; nothing in it starts services
# (policy-rc.d exits 101).
#
# Environment:
#   MW_DEBIAN13_ROOT     chroot directory (default /var/cache/mailwarren-test/debian13)
#   MW_DEBIAN13_MIRROR   archive for debootstrap (default: debootstrap's own,
#                        http://deb.debian.org/debian)
#   MW_DEBIAN13_TIMEOUT  seconds a "run" COMMAND may take (default 3600)
#   MW_DEBIAN13_PREPARE_TIMEOUT  seconds for debootstrap and for the package
#                        installation, each (default 1200)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
ROOT=${MW_DEBIAN13_ROOT:-/var/cache/mailwarren-test/debian13}
SUITE=trixie
SRCDIR=/build/mailwarren
PATH_IN=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "debian13.sh: $*" >&2; exit 1; }
say() { echo "debian13.sh: $*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot, mount)"
case $ROOT in
/*/*) ;;
*) die "MW_DEBIAN13_ROOT must be an absolute path below / (got '$ROOT')" ;;
esac

# in_chroot DIR TIMEOUT COMMAND...: run COMMAND with DIR as its root
# file system, bounded by TIMEOUT seconds, in private mount and PID
# namespaces: DIR is bound onto itself, /proc (of the new PID namespace),
# /sys (read-only), /dev, /dev/pts and a private /dev/shm are mounted in
# it, then pivot_root makes it the namespace's / (a chroot would leave /
# no mount point of its own: "unshare --mount" inside, as Sendmail's
# sandbox and package-check.sh's unit emulation use, fails on it, and
# /proc/PID/cwd of such namespaced processes would read as host paths).
# The wrapper is the namespace's init: when it ends, the kernel stops
# whatever COMMAND left running there, and the mounts go with the
# namespace; its EXIT trap detaches them first.
in_chroot() {
	local dir=$1 secs=$2 envs=() v rc
	shift 2
	for v in $(compgen -e); do
		case $v in
		MW_DEBIAN13_*) ;;
		MW_*|DISTCHECK_CONFIGURE_FLAGS) envs+=("$v=${!v}") ;;
		esac
	done
	# shellcheck disable=SC2016  # expanded by the inner bash
	timeout -k 30 "$secs" unshare --mount --pid --fork --kill-child --propagation private bash -c '
		dir=$1; shift
		mounted=()
		umount_all() {
			local i
			for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
				umount -l "${mounted[$i]}" 2>/dev/null
			done
		}
		trap umount_all EXIT
		trap "exit 130" INT TERM HUP
		mnt() {	# TARGET MOUNT-ARGS...
			mount "${@:2}" "$dir$1" || { echo "debian13.sh: mount ${*:2} $dir$1 failed" >&2; exit 1; }
			mounted+=("$1")
		}
		mnt "" --bind "$dir"
		mnt /proc -t proc proc
		mnt /sys -t sysfs -o ro,nosuid,nodev,noexec sysfs
		mnt /dev --bind /dev
		mnt /dev/pts --bind /dev/pts
		mnt /dev/shm -t tmpfs -o mode=1777,nosuid,nodev tmpfs
		# the host resolver, for apt
		cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null
		cd "$dir" && pivot_root . . && umount -l . && cd / ||
			{ echo "debian13.sh: pivot_root into $dir failed" >&2; exit 1; }
		mounted=("${mounted[@]:1}")
		env -i "$@" &
		wait $!
	' debian13 "$dir" HOME=/root PATH="$PATH_IN" LANG=C.UTF-8 TERM=dumb "${envs[@]}" "$@"
	rc=$?
	[ $rc = 124 ] && say "timed out after ${secs}s: $*"
	return $rc
}

deps_list() {
	"$TOP/tools/install-deps.sh" --list --debian 13
}

# install_deps DIR: the Debian 13 package list into DIR (install-deps.sh
# run inside: it installs only what is missing), then the stamp.
install_deps() {
	local dir=$1 t=$1/tmp/mailwarren-deps
	rm -rf "$t"
	mkdir -p "$t/tests"
	cp -a "$TOP/tools" "$t/" && cp -a "$TOP/tests/lib" "$t/tests/" || return 1
	say "installing the Debian 13 package list (log: $ROOT.install.log)"
	# (dpkg --configure -a: an installation that was interrupted
	# before is finished first)
	if ! in_chroot "$dir" "${MW_DEBIAN13_PREPARE_TIMEOUT:-1200}" /bin/sh -c \
		'DEBIAN_FRONTEND=noninteractive dpkg --configure -a && exec /tmp/mailwarren-deps/tools/install-deps.sh' \
		>"$ROOT.install.log" 2>&1; then
		tail -n 30 "$ROOT.install.log" >&2
		say "installing the Debian 13 packages failed (log: $ROOT.install.log)"
		return 1
	fi
	grep -E '^(install-deps|sendmail|fetch-sendmail)' "$ROOT.install.log" >&2
	rm -rf "$t"
	deps_list >"$dir/etc/mailwarren-deps"
}

create() {
	local new=$ROOT.new start
	start=$(date +%s)
	say "making the Debian 13 chroot $ROOT (debootstrap --variant=minbase $SUITE; a few minutes)"
	# debootstrap is on the host's list (Debian 12) of install-deps.sh
	command -v debootstrap >/dev/null || "$TOP/tools/install-deps.sh" >&2
	command -v debootstrap >/dev/null || die "debootstrap not installed (apt-get install debootstrap)"
	# a leftover from an interrupted creation: nothing may be mounted in it
	if [ -e "$new" ]; then
		grep -q " $new/" /proc/self/mountinfo && die "$new has mounts; unmount them first"
		rm -rf "$new"
	fi
	mkdir -p "$(dirname "$ROOT")"
	# shellcheck disable=SC2086
	if ! timeout -k 30 "${MW_DEBIAN13_PREPARE_TIMEOUT:-1200}" unshare --mount --propagation private \
		debootstrap --variant=minbase "$SUITE" "$new" ${MW_DEBIAN13_MIRROR:-} \
		>"$ROOT.debootstrap.log" 2>&1; then
		tail -n 20 "$ROOT.debootstrap.log" >&2
		die "debootstrap failed (log: $ROOT.debootstrap.log)"
	fi
	# maintainer scripts never start services in here; Postfix's debconf
	# is answered by install-deps.sh
	printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
	chmod 755 "$new/usr/sbin/policy-rc.d"
	echo "$SUITE-mailwarren-test" >"$new/etc/debian_chroot"
	install_deps "$new" || die "the chroot stays unfinished in $new"
	mv "$new" "$ROOT" || die "mv $new $ROOT failed"
	say "made $ROOT in $(($(date +%s) - start)) s"
}

prepare() {
	if [ ! -x "$ROOT/usr/bin/apt-get" ] || [ ! -f "$ROOT/etc/mailwarren-deps" ]; then
		create
	elif [ "$(cat "$ROOT/etc/mailwarren-deps")" != "$(deps_list)" ]; then
		say "the package list changed: installing what is missing in $ROOT"
		install_deps "$ROOT" || die "could not update $ROOT"
	fi
}

# copy_tree: this tree, as package-check.sh copies it, to ROOT/build/mailwarren
copy_tree() {
	local dst=$ROOT$SRCDIR
	rm -rf "$dst"
	mkdir -p "$dst"
	if git -C "$TOP" rev-parse >/dev/null 2>&1; then
		(cd "$TOP" && git ls-files -co --exclude-standard -z | grep -zv '^_build' |
			xargs -0 cp -a --parents -t "$dst") || die "copying the tree failed"
	else
		(cd "$TOP" && tar -cf - --exclude='./_build*' --exclude=./debian/tmp .) |
			tar -xf - -C "$dst" || die "copying the tree failed"
	fi
}

lock() {
	mkdir -p "$(dirname "$ROOT")"
	exec 9>"$ROOT.lock"
	flock -w 3600 9 || die "another run holds $ROOT.lock"
}

case ${1:-} in
prepare)
	lock
	prepare ;;
run)
	shift
	[ $# -gt 0 ] || die "usage: tools/debian13.sh run COMMAND [ARG...]"
	lock
	prepare
	copy_tree
	in_chroot "$ROOT" "${MW_DEBIAN13_TIMEOUT:-3600}" /bin/sh -c 'cd "$0" && exec "$@"' "$SRCDIR" "$@"
	rc=$?
	[ $rc = 0 ] || say "exit status $rc; the tree is in $ROOT$SRCDIR"
	exit $rc ;;
remove)
	lock
	grep -q " $ROOT/" /proc/self/mountinfo && die "$ROOT has mounts; is a run going on?"
	rm -rf "$ROOT" "$ROOT.new" "$ROOT.debootstrap.log" "$ROOT.install.log" ;;
*)
	echo "usage: tools/debian13.sh prepare | run COMMAND [ARG...] | remove" >&2
	exit 2 ;;
esac
