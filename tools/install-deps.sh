#!/bin/sh
# install-deps.sh - install everything mailwarren needs to build and test,
# from the running Debian release's archive (12 or 13), without starting
# or reconfiguring the system's own mail services.
#
# usage: sudo tools/install-deps.sh [--bench]
#        tools/install-deps.sh --list [--debian 12|13] [--bench]
#
# --bench also installs what bench/milter-bench.sh compares against
# (clamd + clamav-milter, spamass-milter); none of it is started.
# --list prints the package list (one line) and installs nothing; it is
# the list tools/debian13.sh installs into its Debian 13 chroot, so this
# file is the one place for the project's package names.  The release is
# that of /etc/os-release unless --debian says otherwise.
#
# Idempotent: packages already present are left alone, and apt-get is not
# run at all when nothing is missing.  Sendmail is not installed (it
# conflicts with Postfix); its packages are only downloaded and unpacked
# for the tests (tests/lib/fetch-sendmail.sh).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)

list=
bench=
release=
while [ $# -gt 0 ]; do
	case $1 in
	--list) list=1 ;;
	--bench) bench=1 ;;
	--debian) release=${2:-}; shift ;;
	*) echo "usage: tools/install-deps.sh [--bench] | --list [--debian 12|13] [--bench]" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$release" ] || release=$(. /etc/os-release && echo "${VERSION_ID:-}")

BUILD_PKGS="autoconf automake libtool pkg-config make gcc libc6-dev m4
	libmilter-dev libclamav-dev dovecot-dev libhiredis-dev libssl-dev libcmocka-dev"
TEST_PKGS="postfix dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-sieve
	spamassassin spamd spamc clamav miltertest redis-server redis-tools
	swaks python3 procps clang
	libwrap0 iproute2
	slapd ldap-utils dovecot-ldap dovecot-pgsql postgresql
	redis-sentinel prometheus faketime openssl"
# (slapd, PostgreSQL: the directory tests behind Dovecot's ldap and sql
# drivers; redis-sentinel: Sentinel failover; prometheus: the metrics
# tests scrape the daemons; faketime: daemons with skewed clocks; openssl:
# the Redis TLS test's certificates; libssl-dev: libcrypto for OpenSSL's
# reason of a TLS failure, with hiredis' TLS support on Debian 13)
# (libwrap0: the unpacked sendmail binary links it; sendmail-bin itself,
# which would pull it in, is never installed)
# tools/package-check.sh: build, check and install the packages
# (dpkg-buildpackage checks for build-essential)
PKG_PKGS="build-essential debhelper dpkg-dev fakeroot lintian rpm util-linux man-db systemd adduser"

# What differs between the releases.
case $release in
12)
	# clang 14's runtime (libFuzzer, the sanitizers); debootstrap makes
	# the Debian 13 chroot of tools/debian13.sh (tools/test.sh --debian 13)
	TEST_PKGS="$TEST_PKGS libclang-rt-14-dev debootstrap" ;;
13)
	# Debian 13: clang 19's runtime comes through the unversioned
	# libclang-rt-dev; spamassassin's postinst imports sa-update's key
	# with gpg, which fails without gpg-agent when recommends are off
	# (as in tools/debian13.sh's chroot).
	TEST_PKGS="$TEST_PKGS libclang-rt-dev gpg-agent" ;;
*)
	echo "install-deps.sh: Debian ${release:-?} is not supported (12 or 13)" >&2
	exit 1 ;;
esac

BENCH_PKGS=
[ -z "$bench" ] || BENCH_PKGS="clamav-daemon clamav-milter spamass-milter valgrind"

if [ -n "$list" ]; then
	# shellcheck disable=SC2086
	echo $BUILD_PKGS $TEST_PKGS $PKG_PKGS $BENCH_PKGS
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (apt-get)" >&2
	exit 1
fi

missing=
for p in $BUILD_PKGS $TEST_PKGS $PKG_PKGS $BENCH_PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
		|| missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "install-deps.sh: installing:$missing"
	# Keep maintainer scripts from starting daemons (policy-rc.d), and
	# keep Postfix's debconf from configuring a system MTA.
	guard=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		guard=1
	fi
	trap '[ -z "$guard" ] || rm -f /usr/sbin/policy-rc.d' EXIT
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

# Sendmail for the Sendmail tests: downloaded and unpacked, never installed.
"$TOP/tests/lib/fetch-sendmail.sh" || echo "install-deps.sh: warning: could not fetch Sendmail packages; Sendmail tests will skip" >&2
