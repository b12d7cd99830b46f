#!/bin/bash
# dovecot-bench.sh - the Dovecot plugins' cost: the Dovecot on this machine
# (2.3 on Debian 12, 2.4 in Debian 13, the same script) with mailshard +
# spam_prefs side by side with the same Dovecot stock, and the placement
# time per user.
#
# usage (as root; the lock keeps two benchmarks from overlapping):
#   flock /tmp/mw-bench.lock bench/dovecot-bench.sh [-r REPS] [-m MSGS] [-l LOGINS] [-c CONC] [-A] [-G] [-T]
#
# Builds an optimised (non-sanitizer) tree in _build-bench (_build-bench24
# against Dovecot 2.4, with its settings module), then
#  1. bench/shard-bench 1000000: mw_shard_place() time per user (best of 5),
#     with the default 4 volumes (weights 1 1 2 1) and with 16 of weight 1;
#  2. unless -T: bench/dovecot-bench.py: REPS (default 10) repetitions of
#     three fresh private Dovecot instances, stock, stock again (stock2: the
#     A/A noise band) and with the plugins, their order rotating, each
#     taking MSGS LMTP deliveries (default 2000, 100 users, CONC sessions)
#     and LOGINS IMAP LOGIN+SELECT+LOGOUT sessions (default 2000, CONC
#     clients); it prints the rates and Dovecot's CPU per operation with
#     their spread, the median per-repetition stock2/stock and plugin/stock
#     ratios, and where the CPU went (median ms per operation by process);
#  3. unless -G: instructions (valgrind's callgrind) per delivery and per
#     login over every Dovecot process (the master under valgrind
#     --trace-children=yes: config, log, anvil, stats, auth, imap-login,
#     imap, lmtp), stock, stock2 and plugins, 300 deliveries and 40 logins,
#     one client; per mode three instances (warm-up only, + deliveries,
#     + logins), per operation = (phase - warm-up only) / count; unlike the
#     rates they do not depend on what else runs (nine valgrind'd instances: 10-30 minutes on a busy 2-core machine).
#  4. unless -G: bench/dovecot-callgrind.py, stock against placement in
#     the auth process (libauthdb_mailshard.so), every Dovecot process
#     under callgrind (auth, config, log, imap-login, ... included).
# -A: no stock2 (A/A) instance, in both parts.
# The instances' configuration comes from the test library's generator
# (tests/lib/dovecot.sh, through bench/dovecot-bench-instance.sh), in 2.4
# syntax on 2.4. Loopback only, bounded in count and time. Tests never
# assert these figures.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
REPS=10 MSGS=2000 LOGINS=2000 CONC=4 CALLGRIND=1 TIMING=1 AA=
while getopts r:m:l:c:AGT opt; do
	case $opt in
	r) REPS=$OPTARG ;; m) MSGS=$OPTARG ;; l) LOGINS=$OPTARG ;; c) CONC=$OPTARG ;;
	G) CALLGRIND= ;;
	T) TIMING= ;;
	A) AA=--no-aa ;;
	*) sed -n '2,38p' "$0"; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "dovecot-bench.sh: run as root" >&2; exit 2; }
PY=${MW_PYTHON:-/usr/bin/python3}
B=$TOP/_build-bench SETTINGS=
case $(dovecot --version) in
2.4.*) B=$TOP/_build-bench24 SETTINGS=plugins/common/libmailwarren_settings.la ;;
esac

echo "== build (optimised, no sanitizers) in $B"
# (configure comes from the host: never autogen inside the Debian 13 chroot)
[ -x "$TOP/configure" ] || { echo "dovecot-bench.sh: run ./autogen.sh (on the host) first" >&2; exit 2; }
mkdir -p "$B"
(cd "$B" && { [ -f Makefile ] || "$TOP/configure" --disable-integration-tests >/dev/null; } &&
	make -j"$(nproc)" plugins/mailshard/lib20_mailshard_plugin.la \
		plugins/spam-prefs/lib95_spam_prefs_plugin.la \
		plugins/auth/libauthdb_mailshard.la $SETTINGS bench/shard-bench >/dev/null)

echo "== placement: bench/shard-bench 1000000 (hash:2:2, 4 volumes, then 16)"
"$B/bench/shard-bench" 1000000
"$B/bench/shard-bench" 1000000 hash:2:2 16

if [ -n "$TIMING" ]; then
	echo "== Dovecot $(dovecot --version): stock, ${AA:+no }stock2, mailshard + spam_prefs, $REPS repetitions"
	echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	"$PY" "$TOP/bench/dovecot-bench.py" --plugins "$B" --reps "$REPS" $AA \
		--msgs "$MSGS" --logins "$LOGINS" --conc "$CONC"
	echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

if [ -n "$CALLGRIND" ] && ! command -v valgrind >/dev/null; then
	echo "== no valgrind (Debian package valgrind): instruction counts skipped"
elif [ -n "$CALLGRIND" ]; then
	echo "== Dovecot $(dovecot --version): instructions (callgrind), every Dovecot process, stock, ${AA:+no }stock2, plugins"
	"$PY" "$TOP/bench/dovecot-bench.py" --plugins "$B" --callgrind $AA \
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
