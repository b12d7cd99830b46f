#!/bin/bash
# overload-bench.sh - mailwarren-policyd and mailwarren-milter under
# connection storms (issue 18), in a private network namespace:
#
# 1. CPU each daemon uses during a SECS-second saturation (default 30):
#    MaxConnections 300 under a descriptor limit of 1024 (prlimit), 10,000
#    storm connections that reconnect as soon as they are closed or deferred
#    (tests/lib/flood.py --reconnect), measured from /proc/PID/stat; then the
#    same with the limit lowered to 200 under the cap (EMFILE).
# 2. policyd's rate (bench/policy-load, as bench/policy-bench.sh runs it:
#    8 connections, the 29-attribute requests, 1,000 CIDRs) with 4,000 idle
#    connections held open beside the load, against its rate without them;
#    ROUNDS rounds of A (no idle), B (4,000 idle), A' (no idle again): the
#    A/A' spread is the noise band.
#
# usage: bench/overload-bench.sh [-r ROUNDS] [-n REQUESTS] [-t SECS] [-p "1 2"]
# Root (ip netns add, nsenter --net: also inside a chroot).  Builds the optimised tree in _build-bench as
# policy-bench.sh does.  Tests never assert these figures.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
PY=${MW_PYTHON:-/usr/bin/python3}
ROUNDS=5 REQS=200000 SECS=30 PARTS="1 2"
while getopts r:n:t:p: opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;; n) REQS=$OPTARG ;; t) SECS=$OPTARG ;; p) PARTS=$OPTARG ;;
	*) sed -n '2,20p' "$0"; exit 2 ;;
	esac
done
B=$TOP/_build-bench
echo "== build (optimised, no sanitizers) in $B"
(cd "$TOP" && [ -x configure ] || ./autogen.sh) >/dev/null 2>&1
mkdir -p "$B"
(cd "$B" && { [ -f Makefile ] || "$TOP/configure" --disable-integration-tests >/dev/null; } \
	&& make -j2 policy/mailwarren-policyd milter/mailwarren-milter bench/policy-load >/dev/null)
PD=$B/policy/mailwarren-policyd
MI=$B/milter/mailwarren-milter
LOAD=$B/bench/policy-load
FLOOD=$TOP/tests/lib/flood.py
W=$(mktemp -d /tmp/mw-overload-bench.XXXXXX)
NS=mwob-$$
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
ip netns add "$NS"
nsenter --net="/run/netns/$NS" ip link set lo up
nsx() { nsenter --net="/run/netns/$NS" "$@"; }
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) on $(nproc) cores, shared"

"$PY" "$TOP/bench/gen-policy-corpus.py" "$W/c" -n 1000 -d 1000 >/dev/null
cat >"$W/p.conf" <<EOC
PolicySocket inet:10040@127.0.0.1
HostedDomains $W/c/hosted.txt
CustomerNetworks $W/c/customers.cidr
LogAccepts no
EOC
"$PY" "$TOP/tests/lib/gen-clamdb.py" test "$W/db" >/dev/null
mkdir -p "$W/tmp"
cat >"$W/m.conf" <<EOC
MilterSocket inet:27840@127.0.0.1
DatabaseDirectory $W/db
TemporaryDirectory $W/tmp
DatabaseCheckInterval 0
SpamdHosts none
EOC

start() {	# start NAME BIN CONF LIMIT - in the namespace; sets PID
	nsenter --net="/run/netns/$NS" prlimit --nofile="$4" "$2" -f -c "$3" >"$W/$1.log" 2>&1 &	# execs: $! is the daemon
	PID=$!
	PIDS+=($PID)
	local i
	for ((i = 0; i < 300; i++)); do
		nsx "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$5" \
			2>/dev/null && return 0
		sleep 0.1
	done
	echo "$1 did not start:" >&2; cat "$W/$1.log" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
saturate() {	# saturate LABEL PROTO PORT - one SECS-second storm against $PID
	local out cpu
	out=$(nsx prlimit --nofile=20000:20000 "$PY" "$FLOOD" --proto "$2" --established 4 --flood 10000 \
		--send full --wait 60 --hold "$SECS" --reconnect --pid "$PID" --probes 2 "127.0.0.1:$3")
	cpu=$(sed -n 's/^cpu_seconds=//p' <<<"$out")
	printf '  %-26s cpu %5.2f s in %s s = %5.1f%% of a core; refused/deferred during it: %s; probes ok %s/%s\n' \
		"$1" "$cpu" "$SECS" "$(awk -v c="$cpu" -v s="$SECS" 'BEGIN { print 100 * c / s }')" "$(sed -n 's/^hold_refused=//p' <<<"$out")" \
		"$(sed -n 's/^probes_ok=//p' <<<"$out")" "$(( $(sed -n 's/^probes_ok=//p' <<<"$out") + $(sed -n 's/^probes_failed=//p' <<<"$out") ))"
}

case " $PARTS " in *" 1 "*)
echo "== 1. CPU during a $SECS s saturation (10,000 reconnecting storm connections, 4 established)"
sed 's/^LogAccepts no/LogAccepts no\nMaxConnections 300/' "$W/p.conf" >"$W/p300.conf"
start policyd "$PD" "$W/p300.conf" 1024:1024 10040
saturate "policyd MaxConnections 300" policy 10040
prlimit --pid "$PID" --nofile=200:200
saturate "policyd EMFILE (limit 200)" policy 10040
echo "  policyd warning lines: $(grep -c warning "$W/policyd.log")"
stop
echo "MaxConnections 300" >>"$W/m.conf"
start milter "$MI" "$W/m.conf" 1024:1024 27840
saturate "milter MaxConnections 300" milter 27840
prlimit --pid "$PID" --nofile=200:200
saturate "milter EMFILE (limit 200)" milter 27840
echo "  milter warning lines: $(grep -c warning "$W/milter.log")"
stop
;; esac
case " $PARTS " in *" 2 "*)

echo "== 2. policyd rate with 4,000 idle connections beside the load ($ROUNDS rounds, $REQS requests, 8 connections)"
start policyd "$PD" "$W/p.conf" 8192:8192 10040
run() {	# run LABEL
	local out
	out=$(nsx "$LOAD" -c 8 -n "$REQS" -C "$W/c/customer-ips.txt" -H "$W/c/hosted.txt" "inet:10040@127.0.0.1" 2>&1 | tail -1)
	echo "$1 $out" >>"$W/results"
	printf '  %-6s %s\n' "$1" "$out"
}
for r in $(seq "$ROUNDS"); do
	echo " round $r"
	run A
	rm -f "$W/ready"
	nsenter --net="/run/netns/$NS" prlimit --nofile=20000:20000 "$PY" "$FLOOD" --proto policy --established 0 \
		--flood 4000 --send none --wait 60 --hold 100000 --ready "$W/ready" "127.0.0.1:10040" >/dev/null 2>&1 &
	hp=$!		# ip and prlimit exec: the holder itself
	for i in $(seq 600); do [ -f "$W/ready" ] && break; sleep 0.1; done
	echo "  (idle connections held: $(nsx ss -tn state established '( dport = :10040 )' | tail -n +2 | wc -l))"
	run B
	kill "$hp"; wait "$hp" 2>/dev/null || true
	run A2
done
stop
"$PY" - "$W/results" <<'PY'
import re, statistics, sys
r = {}
for line in open(sys.argv[1]):
    label = line.split()[0]
    m = re.search(r"rate=([\d.]+)", line)
    if m:
        r.setdefault(label, []).append(float(m.group(1)))
a, b, a2 = (statistics.median(r[k]) for k in ("A", "B", "A2"))
aa = [abs(x - y) / x * 100 for x, y in zip(r["A"], r["A2"])]
print("  median req/s: A (no idle) %.0f, A' (no idle) %.0f, B (4,000 idle) %.0f" % (a, a2, b))
print("  B / mean(A, A') = %.1f%%; A/A' noise band: median %.1f%%, max %.1f%% (per round)"
      % (100 * b / ((a + a2) / 2), statistics.median(aa), max(aa)))
PY
;; esac
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
