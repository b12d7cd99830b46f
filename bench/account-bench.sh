#!/bin/bash
# account-bench.sh - mailwarren-policyd decisions per second with sender
# ownership and suspension from the flat files (SenderLoginMap,
# SuspendedList) against the same facts from a real Dovecot's userdb
# (SenderOwnership userdb, Suspension userdb), cache hit and cache miss,
# in the same run.
#
# usage: bench/account-bench.sh [-r ROUNDS] [-n REQUESTS] [-c CONNS] [-u USERS] [-l LOGINS]
#
# Root (a private Dovecot from tests/lib/dovecot.sh, passwd-file userdb with
# USERS users, default 10000, each with mailwarren_senders and
# mailwarren_suspended; the flat files hold the same facts).  Builds an
# optimised tree in _build-bench, then runs ROUNDS interleaved rounds
# (default 5) of bench/policy-load against three mailwarren-policyd
# instances on unix sockets, every request a SASL relay (-m 0,0,100,0) by
# one of LOGINS logins (default 1000) sending as its own address (so both
# checks are made; answers are checked: mismatches must be 0):
#   flat      SenderLoginMap + SuspendedList
#   dir-hit   SenderOwnership userdb + Suspension userdb, UserdbCacheTTL 1h
#             (warmed up first: every login cached)
#   dir-miss  the same with UserdbCacheTTL 0: every request asks Dovecot
# Reports the median requests/s, p50 and p99 latency of each.  Loopback
# only, bounded in count and time.  Tests never assert these figures.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
PY=${MW_PYTHON:-/usr/bin/python3}
ROUNDS=5 REQS=100000 CONNS=8 NUSERS=10000 NLOGINS=1000
while getopts r:n:c:u:l: opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;; n) REQS=$OPTARG ;; c) CONNS=$OPTARG ;; u) NUSERS=$OPTARG ;;
	l) NLOGINS=$OPTARG ;;
	*) sed -n '2,24p' "$0"; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "account-bench.sh: needs root (a private Dovecot)" >&2; exit 1; }
[ "$NLOGINS" -le "$NUSERS" ] || { echo "account-bench.sh: -l must not exceed -u" >&2; exit 2; }

B=$TOP/_build-bench
echo "== build (optimised, no sanitizers) in $B"
(cd "$TOP" && [ -x configure ] || ./autogen.sh) >/dev/null 2>&1
mkdir -p "$B"
(cd "$B" && { [ -f Makefile ] || "$TOP/configure" --disable-integration-tests >/dev/null; } \
	&& make -j2 policy/mailwarren-policyd bench/policy-load >/dev/null)
LOAD=$B/bench/policy-load
PD=$B/policy/mailwarren-policyd

# shellcheck source=../tests/lib/sandbox.sh
. "$TOP/tests/lib/sandbox.sh"
top_builddir=$B
# shellcheck source=../tests/lib/dovecot.sh
. "$TOP/tests/lib/dovecot.sh"
sb_init account-bench

echo "== $NUSERS users: passwd-file and the flat files"
"$PY" "$TOP/bench/gen-policy-corpus.py" "$SB/c" -n 1000 -d 100 >/dev/null
dovecot_add_user user0 pw userdb_mailwarren_senders=user0@isp.example userdb_mailwarren_suspended=no
"$PY" - "$DC_USERS" "$SB" "$NUSERS" "$DC_MAIL_UID" "$DC_MAIL_GID" <<'PY'
import sys
users, sb, n, uid, gid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
with open(users, "a") as f:
    for i in range(1, n):
        f.write("user%d:{PLAIN}pw:%s:%s::::userdb_mailwarren_senders=user%d@isp.example "
                "userdb_mailwarren_suspended=no\n" % (i, uid, gid, i))
    for i in range(10):
        f.write("gone%d:{PLAIN}pw:%s:%s::::userdb_mailwarren_suspended=yes\n" % (i, uid, gid))
with open(sb + "/sender-logins", "w") as f:
    for i in range(n):
        f.write("user%d@isp.example user%d\n" % (i, i))
with open(sb + "/suspended", "w") as f:
    for i in range(10):
        f.write("gone%d\n" % i)
PY
dovecot_start >/dev/null || { echo "dovecot did not start" >&2; exit 1; }
USERDB=$DC_DIR/run/auth-userdb
echo "   Dovecot $DC_VERSION, auth-userdb $USERDB"

PIDS=()
# start NAME LINES...: a policyd on $SB/NAME.sock (as the socket's owner)
start() {
	local name=$1 i
	shift
	{
		printf 'PolicySocket local:%s/%s.sock\nUser dovecot\nGroup dovecot\n' "$SB" "$name"
		printf 'HostedDomains %s/c/hosted.txt\nLogAccepts no\n' "$SB"
		printf '%s\n' "$@"
	} >"$SB/$name.conf"
	"$PD" -f -c "$SB/$name.conf" >>"$SB/$name.log" 2>&1 &
	PIDS+=($!)
	sb_at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
	for ((i = 0; i < 200; i++)); do [ -S "$SB/$name.sock" ] && return 0; sleep 0.05; done
	echo "policyd $name did not start: $(tail -n 3 "$SB/$name.log")" >&2
	exit 1
}
start flat "SenderLoginMap $SB/sender-logins" "SuspendedList $SB/suspended"
start dir-hit "SenderOwnership userdb" "Suspension userdb" "Userdb local:$USERDB" \
	"UserdbCacheTTL 1h" "UserdbCacheSize 100000"
start dir-miss "SenderOwnership userdb" "Suspension userdb" "Userdb local:$USERDB" \
	"UserdbCacheTTL 0" "UserdbNegativeCacheTTL 0"

load() {	# load NAME N: one run; prints policy-load's result line
	"$LOAD" -c "$CONNS" -n "$2" -t 120 -m 0,0,100,0 -l "$NLOGINS" -o isp.example \
		-C "$SB/c/customer-ips.txt" -H "$SB/c/hosted.txt" "local:$SB/$1.sock" 2>&1 | tail -n 1
}
echo "== warm-up (dir-hit caches all $NLOGINS logins)"
load dir-hit $((NLOGINS * 40)) | sed 's/^/   /'
load flat 20000 >/dev/null
load dir-miss 20000 >/dev/null

: >"$SB/results"
for ((r = 1; r <= ROUNDS; r++)); do
	echo "== round $r/$ROUNDS"
	for name in flat dir-hit dir-miss; do
		out=$(load $name "$REQS")
		printf '   %-9s %s\n' "$name" "$out"
		echo "$name $out" >>"$SB/results"
	done
done

echo "== medians over $ROUNDS rounds ($CONNS connections, $REQS requests a run, $NLOGINS of $NUSERS logins)"
"$PY" - "$SB/results" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, rest = line.split(" ", 1)
    f = dict(re.findall(r"([a-z0-9_]+)=([0-9.]+)", rest))
    runs.setdefault(name, []).append(f)
base = None
for name in ("flat", "dir-hit", "dir-miss"):
    rs = runs.get(name, [])
    if not rs:
        continue
    med = lambda k: statistics.median(float(r.get(k, "nan")) for r in rs)
    rate = med("rate")
    base = base or rate
    print("   %-9s %9.0f decisions/s  p50 %6.0f us  p99 %6.0f us  (%.2f of flat)  mismatches %d"
          % (name, rate, med("p50_us"), med("p99_us"), rate / base,
             sum(int(float(r.get("mismatches", "0"))) for r in rs)))
PY
for name in flat dir-hit dir-miss; do
	grep -qE 'AddressSanitizer|warning|error' "$SB/$name.log" && { echo "-- $name.log:"; tail -n 5 "$SB/$name.log"; }
done
exit 0
