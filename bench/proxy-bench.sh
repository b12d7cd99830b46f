#!/bin/bash
# proxy-bench.sh - IMAP login rate and CPU per login through the proxy tier:
# passdb mailshard_proxy (Redis through the dict service) against a proxy
# whose second passdb answers a static host (the ceiling: the same
# passwd-file check, no placement, no store) and, on Dovecot 2.3, against
# Dovecot's director; the same two backends behind all three.
#
# usage (as root; the lock keeps two benchmarks from overlapping):
#   flock /tmp/mw-bench.lock bench/proxy-bench.sh [-r REPS] [-l LOGINS] [-c CONC]
#
# Builds an optimised (non-sanitizer) tree in _build-bench, starts the
# instances with tests/lib (loopback addresses 127.0.4.x, random ports),
# then bench/proxy-bench.py runs REPS (default 5) rounds of LOGINS (default
# 1000) LOGIN+LOGOUT sessions from CONC (default 4) clients through each
# front, the order rotated per round. CPU per login counts the front's
# whole Dovecot instance (auth, dict, login processes, director) and, for
# mailshard_proxy, the Redis server too. Tests never assert these figures.
set -e
TOP=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${MW_BENCH_NS:-}" ]; then
	export MW_BENCH_NS=1
	exec unshare -m --propagation private "${BASH:-bash}" "$0" "$@"
fi
REPS=5 LOGINS=1000 CONC=4
while getopts r:l:c: opt; do
	case $opt in
	r) REPS=$OPTARG ;; l) LOGINS=$OPTARG ;; c) CONC=$OPTARG ;;
	*) sed -n '2,20p' "$0"; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "proxy-bench.sh: run as root" >&2; exit 2; }
PY=${MW_PYTHON:-/usr/bin/python3}
B=$TOP/_build-bench
echo "== build (optimised, no sanitizers) in $B"
(cd "$TOP" && [ -x configure ] || ./autogen.sh) >/dev/null 2>&1
mkdir -p "$B"
(cd "$B" && { [ -f Makefile ] || "$TOP/configure" --disable-integration-tests >/dev/null; } &&
	make -j"$(nproc)" plugins/auth/libauthdb_mailshard_proxy.la >/dev/null)

top_srcdir=$TOP
. "$TOP/tests/lib/sandbox.sh"
. "$MW_TESTLIB/dovecot.sh"
. "$MW_TESTLIB/redis.sh"
sb_init proxy-bench
MODS=/usr/lib/dovecot/modules/auth
mkdir -p "$SB/authmods"
for f in "$MODS"/*; do [ -e "$f" ] && cp -a "$f" "$SB/authmods/"; done
cp "$B/plugins/auth/.libs/libauthdb_mailshard_proxy.so" "$SB/authmods/"
mount --bind "$SB/authmods" "$MODS"

NUSERS=300
USERS=$(seq -f 'u%03g' 0 $((NUSERS - 1)))
IMAP_PORT=$(sb_port) POP3_PORT=$(sb_port) LMTP_PORT=$(sb_port)
B1=127.0.4.11 B2=127.0.4.12
redis_start
mkdir -p "$SB/srv" && chown 5000:5000 "$SB/srv"
for b in "b1 $B1" "b2 $B2"; do
	set -- $b
	dovecot_use "$1"
	DC_LISTEN=$2 DC_IMAP_PORT=$IMAP_PORT DC_POP3_PORT=$POP3_PORT DC_LMTP_PORT=$LMTP_PORT
	DC_MAIL_LOCATION="maildir:$SB/srv/%n/Maildir:INDEX=$SB/$1-idx/%n" DC_MAIL_HOME="$SB/srv/%n"
	mkdir -p "$SB/$1-idx" && chown 5000:5000 "$SB/$1-idx"
	DC_EXTRA_CONF="login_trusted_networks = 127.0.0.0/8"
	for u in $USERS; do dovecot_add_user "$u" pw; done
	dovecot_start
done
# front NAME ADDR SECOND-PASSDB EXTRA
front() {
	dovecot_use "$1"
	DC_LISTEN=$2 DC_IMAP_PORT=$IMAP_PORT DC_POP3_PORT=$POP3_PORT DC_LMTP_PORT=$LMTP_PORT
	DC_MAIL_LOCATION= DC_MAIL_HOME=
	for u in $USERS; do dovecot_add_user "$u" pw; done
	DC_AUTH_CONF="passdb {
  driver = passwd-file
  args = scheme=PLAIN $SB/$1/users
  $3
}
$4
userdb {
  driver = static
  args = uid=5000 gid=5000
}"
	DC_EXTRA_CONF="mail_max_userip_connections = 10000
$5"
	dovecot_start
}
front mailshard 127.0.4.1 "result_success = continue-ok" "passdb {
  driver = mailshard_proxy
  args = backends=b1=$B1,b2=$B2 dict=proxy::mailshard_proxy
  skip = unauthenticated
  result_internalfail = return-fail
}" "dict {
  mailshard_proxy = redis:host=127.0.0.1:port=$REDIS_PORT:timeout_msecs=1000
}
service dict {
  unix_listener dict {
    mode = 0600
    user = \$default_internal_user
  }
}"
MS_PID=$DC_PID
front static 127.0.4.2 "result_success = continue-ok" "passdb {
  driver = static
  args = nopassword=y proxy=y host=$B1 port=%{lport}
  skip = unauthenticated
  result_internalfail = return-fail
}" ""
ST_PID=$DC_PID
FRONTS="static=127.0.4.2:$ST_PID mailshard=127.0.4.1:$MS_PID:$REDIS_PID"
if [ -x /usr/lib/dovecot/director ]; then
	DIR_PORT=$(sb_port)
	front director 127.0.4.3 "override_fields = proxy=y port=%{lport}" "" "$(dovecot_director_conf 127.0.4.3 "$DIR_PORT" "$B1 $B2")"
	sb_eventually 20 eval 'doveadm -c "$SB/director/dovecot.conf" director status | grep -q "^$B2 "'
	FRONTS="$FRONTS director=127.0.4.3:$DC_PID"
fi
BPIDS=$(dovecot_use b1; echo -n "$DC_PID"; dovecot_use b2; echo ",$DC_PID")
echo "== Dovecot $(dovecot --version): $REPS rounds of $LOGINS IMAP logins, $CONC clients; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" "$TOP/bench/proxy-bench.py" --port "$IMAP_PORT" --logins "$LOGINS" --conc "$CONC" \
	--reps "$REPS" --users "$NUSERS" --backends "$BPIDS" $FRONTS
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in mailshard static director b1 b2; do dovecot_use $n; dovecot_stop; done
