#!/bin/bash
# fetch-sendmail.sh - download and unpack the Sendmail packages that
# tests/lib/sendmail.sh runs from (sendmail-bin, sendmail-base, sendmail-cf
# via "apt-get download", unpacked with "dpkg -x"; never installed).
#
# usage: tests/lib/fetch-sendmail.sh      (root; after apt-get update)
# The cache is $MW_CACHE_DIR (default /var/cache/mailwarren-test/sendmail).
# Idempotent: does nothing when the unpacked tree is already there.
# Exit status 0 when Sendmail is ready to run, 1 otherwise.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
# shellcheck source=tests/lib/sendmail.sh
. "$MW_TESTLIB/sendmail.sh"

if sendmail_fetch; then
	echo "sendmail $SM_VERSION ready: $SM_BIN"
	exit 0
fi
echo "fetch-sendmail: $SM_FETCH_ERROR" >&2
exit 1
