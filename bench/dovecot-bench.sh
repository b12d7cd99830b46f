#!/bin/bash
# dovecot-bench.sh - the Dovecot plugins' cost: Debian's Dovecot with
# mailshard + spam_prefs side by side with the same Dovecot and a plain
# mail_location, and the placement time per user.
#
# usage (as root; the lock keeps two benchmarks from overlapping):
#   flock /tmp/mw-bench.lock bench/dovecot-bench.sh [-r REPS] [-m MSGS] [-l LOGINS] [-c CONC] [-G]
#
# Builds an optimised (non-sanitizer) tree in _build-bench, then
#  1. bench/shard-bench 1000000: mw_shard_place() time per user (best of 5),
#     with the default 4 volumes (weights 1 1 2 1) and with 16 of weight 1;
#  2. bench/dovecot-bench.py: REPS (default 10) interleaved pairs of fresh
#     private Dovecot instances, stock and with the plugins, each taking
#     MSGS LMTP deliveries (default 2000, 100 users, CONC sessions) and
#     LOGINS IMAP LOGIN+SELECT+LOGOUT sessions (default 2000, CONC
#     clients); it prints the rates and Dovecot's CPU per operation with
#     their spread and the median per-pair plugin/stock ratios, and where
#     the CPU went (median ms per operation by process name);
#  3. unless -G: the same two set-ups once more with their lmtp and imap
#     processes under valgrind's callgrind (300 deliveries, 40 logins, one
#     client): instructions per delivery and per login, which unlike the
#     rates do not depend on what else runs on the machine;
#  4. unless -G: bench/dovecot-callgrind.py, stock against placement in
#     the auth process (libauthdb_mailshard.so), every Dovecot process
#     under callgrind (auth, config, log, imap-login, ... included).
# Loopback only, bounded in count and time. Tests never assert these figures.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
REPS=10 MSGS=2000 LOGINS=2000 CONC=4 CALLGRIND=1
while getopts r:m:l:c:G opt; do
	case $opt in
	r) REPS=$OPTARG ;; m) MSGS=$OPTARG ;; l) LOGINS=$OPTARG ;; c) CONC=$OPTARG ;;
	G) CALLGRIND= ;;
	*) sed -n '2,26p' "$0"; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "dovecot-bench.sh: run as root" >&2; exit 2; }
PY=${MW_PYTHON:-/usr/bin/python3}
B=$TOP/_build-bench

echo "== build (optimised, no sanitizers) in $B"
(cd "$TOP" && [ -x configure ] || ./autogen.sh) >/dev/null 2>&1
mkdir -p "$B"
(cd "$B" && { [ -f Makefile ] || "$TOP/configure" --disable-integration-tests >/dev/null; } &&
	make -j"$(nproc)" plugins/mailshard/lib20_mailshard_plugin.la \
		plugins/spam-prefs/lib95_spam_prefs_plugin.la \
		plugins/auth/libauthdb_mailshard.la bench/shard-bench >/dev/null)
# Dovecot 2.4 only (no such target on 2.3): the settings module
make -C "$B" plugins/common/libmailwarren_settings.la >/dev/null 2>&1 || :

echo "== placement: bench/shard-bench 1000000 (hash:2:2, 4 volumes, then 16)"
"$B/bench/shard-bench" 1000000
"$B/bench/shard-bench" 1000000 hash:2:2 16

echo "== Dovecot $(dovecot --version): stock vs mailshard + spam_prefs, $REPS pairs"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" "$TOP/bench/dovecot-bench.py" --plugins "$B/plugins" --reps "$REPS" \
	--msgs "$MSGS" --logins "$LOGINS" --conc "$CONC"
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "$CALLGRIND" ] && ! command -v valgrind >/dev/null; then
	echo "== no valgrind (Debian package valgrind): instruction counts skipped"
elif [ -n "$CALLGRIND" ]; then
	echo "== instructions (callgrind): lmtp and imap processes, stock vs plugins"
	"$PY" "$TOP/bench/dovecot-bench.py" --plugins "$B/plugins" --callgrind \
		--msgs 300 --logins 40 --users 20 --conc 1
fi
if [ -n "$CALLGRIND" ] && command -v valgrind >/dev/null; then
	echo "== instructions (callgrind), every Dovecot process: stock vs placement in auth"
	SETMOD=
	[ -f "$B/plugins/common/.libs/libmailwarren_settings.so" ] &&
		SETMOD="--settings-module $B/plugins/common/.libs/libmailwarren_settings.so"
	# shellcheck disable=SC2086  # SETMOD is two words or none
	"$PY" "$TOP/bench/dovecot-callgrind.py" \
		--authmod "$B/plugins/auth/.libs/libauthdb_mailshard.so" $SETMOD \
		--users 20 --base-msgs 40 --msgs 160 --base-logins 20 --logins 40
fi
