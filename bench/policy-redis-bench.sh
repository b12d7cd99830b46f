#!/bin/bash
# policy-redis-bench.sh - mailwarren-policyd's decisions per second with its
# rate counters in memory against the same counters shared through one
# Redis, in the same run, and (optionally) against the Redis client of an
# older revision (the hand-written RESP client before hiredis).
#
# usage: bench/policy-redis-bench.sh [-r ROUNDS] [-n REQUESTS] [-c CONNS] [-o OLD_REV|-O]
#
# Builds an optimised (non-sanitizer) tree in _build-bench (as
# policy-bench.sh does) and, unless -O, the revision OLD_REV (default: the
# parent of the commit that added policy/policy_rconn.c, i.e. the last
# hand-written client) from git archive into a temp dir, policyd only.
# Starts one private redis-server (no persistence) and one policyd per
# store on its own TCP port: "memory", "redis" (this tree: hiredis) and
# "redis-old" (OLD_REV).  Every decision of the load asks the store: the
# mix is 90% customer relay and 10% SASL relay (bench/policy-load -m
# 0,90,10,0, 1,000 customer networks, 1-5 recipients a session), with
# limits so high that nothing is refused, so the answers stay the relay
# decision (mismatches, e.g. a RedisFailMode deferral, must be 0).
# ROUNDS interleaved rounds of each; medians of requests/s, p50 and p99,
# the ratio to "memory" in the same round, and policyd's own CPU time per
# decision (user+system, from /proc: the figure least disturbed by other
# load on the machine).  Loopback only; tests never
# assert these figures.  More stores (Sentinel, Cluster) are one more
# start_store line and label.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
PY=${MW_PYTHON:-/usr/bin/python3}
ROUNDS=5 REQS=100000 CONNS=8 OLD_REV= NO_OLD=
while getopts r:n:c:o:O opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;; n) REQS=$OPTARG ;; c) CONNS=$OPTARG ;;
	o) OLD_REV=$OPTARG ;; O) NO_OLD=1 ;;
	*) sed -n '2,24p' "$0"; exit 2 ;;
	esac
done
B=$TOP/_build-bench
W=$(mktemp -d /tmp/mw-policy-redis-bench.XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

echo "== build (optimised, no sanitizers) in $B"
(cd "$TOP" && [ -x configure ] || ./autogen.sh) >/dev/null 2>&1
mkdir -p "$B"
(cd "$B" && { [ -f Makefile ] || "$TOP/configure" --disable-integration-tests >/dev/null; } \
	&& make -j2 policy/mailwarren-policyd bench/policy-load >/dev/null)
LOAD=$B/bench/policy-load
PD=$B/policy/mailwarren-policyd
PD_OLD=
if [ -z "$NO_OLD" ]; then
	if [ -z "$OLD_REV" ]; then
		added=$(git -C "$TOP" log --diff-filter=A --format=%H -- policy/policy_rconn.c | tail -1)
		OLD_REV=$added^
	fi
	echo "== build the old client: $(git -C "$TOP" log -1 --format='%h %s' "$OLD_REV")"
	mkdir -p "$W/old"
	git -C "$TOP" archive "$OLD_REV" | tar -x -C "$W/old"
	(cd "$W/old" && ./autogen.sh >/dev/null 2>&1 && mkdir _b && cd _b \
		&& ../configure --disable-integration-tests >/dev/null && make -j2 policy/mailwarren-policyd >/dev/null)
	PD_OLD=$W/old/_b/policy/mailwarren-policyd
fi

port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
	local i
	for ((i = 0; i < 600; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on port $1" >&2
	return 1
}

C=$W/corpus
"$PY" "$TOP/bench/gen-policy-corpus.py" "$C" -n 1000 -d 1000 >/dev/null

rport=$(port)
mkdir -p "$W/redis"
redis-server --bind 127.0.0.1 --port "$rport" --save '' --appendonly no --dir "$W/redis" \
	--protected-mode no --logfile "$W/redis/redis.log" </dev/null >/dev/null 2>&1 &
PIDS+=($!)
wait_port "$rport"
echo "== $(redis-server --version | cut -d' ' -f1-3), hiredis $(pkg-config --modversion hiredis 2>/dev/null || echo ?)"

declare -A PORT PDPID
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }	# utime + stime
TICK=$(getconf CLK_TCK)
# start_store LABEL BINARY RATESTORE - one policyd on its own port
start_store() {
	local p
	p=$(port)
	cat >"$W/$1.conf" <<EOF2
PolicySocket inet:$p@127.0.0.1
HostedDomains $C/hosted.txt
CustomerNetworks $C/customers.cidr
MessageRateLimit 1000000000/1h
RecipientRateLimit 1000000000/1m, 1000000000/1h
RateStore $3
RedisTimeout 1000
LogAccepts no
EOF2
	[ "$(id -u)" = 0 ] && printf 'User nobody\nGroup nogroup\n' >>"$W/$1.conf"
	"$2" -f -c "$W/$1.conf" 2>"$W/$1.log" &
	PIDS+=($!)
	PDPID[$1]=$!
	wait_port "$p"
	PORT[$1]=$p
}
LABELS="memory redis"
start_store memory "$PD" memory
start_store redis "$PD" "redis://127.0.0.1:$rport"
if [ -n "$PD_OLD" ]; then
	start_store redis-old "$PD_OLD" "redis://127.0.0.1:$rport"
	LABELS="$LABELS redis-old"
fi

for r in $(seq "$ROUNDS"); do
	echo " round $r"
	for l in $LABELS; do
		t0=$(cpu_ticks "${PDPID[$l]}")
		out=$("$LOAD" -c "$CONNS" -n "$REQS" -m 0,90,10,0 -C "$C/customer-ips.txt" -H "$C/hosted.txt" \
			"inet:${PORT[$l]}@127.0.0.1" 2>&1 | tail -1)
		t1=$(cpu_ticks "${PDPID[$l]}")
		out="$out cpu_us=$(( (t1 - t0) * 1000000 / TICK * 10 / REQS ))"
		echo "$r $l $out" >>"$W/results"
		printf '  %-10s %s\n' "$l" "$out"
	done
done
echo "== keys in Redis: $(redis-cli -p "$rport" DBSIZE)"
for l in $LABELS; do
	n=$(grep -c "failing over\|rate store" "$W/$l.log" || true)
	[ "$n" = 0 ] || { echo "  $l logged $n rate store warnings:"; grep "rate store" "$W/$l.log" | sort | uniq -c | head -5; }
done

echo
echo "== summary (median of $ROUNDS rounds; ratio = rate / memory's in the same round, median)"
"$PY" - "$W/results" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    kv = dict(re.findall(r"(\w+)=([\d.]+)", line))
    if "rate" in kv:
        runs.setdefault(f[1], {})[f[0]] = kv
print("%-10s %10s %8s %8s %10s %7s %12s" % ("store", "req/s", "p50 us", "p99 us", "mismatch", "ratio",
      "policyd CPU"))
mem = runs.get("memory", {})
for label, rs in runs.items():
    med = lambda k: statistics.median(float(r[k]) for r in rs.values())
    ratios = [float(r["rate"]) / float(mem[k]["rate"]) for k, r in rs.items() if k in mem]
    print("%-10s %10.0f %8.0f %8.0f %10d %7.2f %7.1f us/req" % (label, med("rate"), med("p50_us"),
          med("p99_us"), sum(int(r["mismatches"]) for r in rs.values()), statistics.median(ratios),
          med("cpu_us") / 10))
PY
