#!/bin/sh
# install-deps.sh - install everything mailwarren needs to build and test,
# from Debian 12's archive, without starting or reconfiguring the
# system's own mail services.
#
# usage: sudo tools/install-deps.sh [--bench]
#
# --bench also installs what bench/milter-bench.sh compares against
# (clamd + clamav-milter, spamass-milter); none of it is started.
#
# Idempotent: packages already present are left alone, and apt-get is not
# run at all when nothing is missing.  Sendmail is not installed (it
# conflicts with Postfix); its packages are only downloaded and unpacked
# for the tests (tests/lib/fetch-sendmail.sh).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)

BUILD_PKGS="autoconf automake libtool pkg-config make gcc libc6-dev m4
	libmilter-dev libclamav-dev dovecot-dev libhiredis-dev libcmocka-dev"
TEST_PKGS="postfix dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-sieve
	spamassassin spamd spamc clamav miltertest redis-server redis-tools
	swaks python3 procps clang libclang-rt-14-dev"
# tools/package-check.sh: build, check and install the packages
PKG_PKGS="debhelper dpkg-dev fakeroot lintian rpm util-linux man-db systemd adduser"

BENCH_PKGS=
[ "${1:-}" = --bench ] && BENCH_PKGS="clamav-daemon clamav-milter spamass-milter"

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
