#!/bin/sh
# test.sh - the whole mailwarren test suite, as CI runs it.
#
# usage: sudo tools/test.sh [--debian 12|13]
#
# Installs missing dependencies (tools/install-deps.sh), builds in
# _build/ with AddressSanitizer + UndefinedBehaviorSanitizer and warnings
# as errors, then runs "make test": unit tests (cmocka), the real-daemon
# sandbox tests (Postfix, Sendmail, Dovecot, spamd, Redis, ClamAV) and a
# distcheck.  The last line is "N passed, N failed, N skipped"; the exit
# status is non-zero on any failure.
#
# --debian 13 runs exactly this inside a Debian 13 chroot that
# tools/debian13.sh makes from Debian's archive (a few minutes the first
# time; reused afterwards), on a clean copy of this tree (build
# directories left out): Debian 13's compilers, autotools, Postfix 3.10,
# Sendmail 8.18, ClamAV 1.4, spamd 4.0, Redis 8, Dovecot 2.4.  --debian
# naming the running release changes nothing.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

. "$TOP/tools/release.sh"
mw_release test.sh "$@"

if [ "$(id -u)" = 0 ]; then
	tools/install-deps.sh
else
	echo "test.sh: not root: not installing dependencies; daemon tests will skip" >&2
fi

./autogen.sh >/dev/null 2>&1 || { ./autogen.sh; exit 1; }
rm -rf _build
mkdir _build
cd _build
../configure --enable-sanitizers --enable-werror >configure.out 2>&1 \
	|| { cat configure.out; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
make -j"$(nproc)" >make.out 2>&1 || { cat make.out; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
exec make -j"$(nproc)" test
