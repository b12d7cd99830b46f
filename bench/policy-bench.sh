#!/bin/bash
# policy-bench.sh - mailwarren-policyd side by side with a do-nothing server
# (the loopback ceiling) and postfwd, at 1,000 and 100,000 customer CIDRs.
#
# usage: bench/policy-bench.sh [-r ROUNDS] [-n REQUESTS] [-c CONNS] [-s "1000 100000"] [-M]
#
# Builds an optimised (non-sanitizer) tree in _build-bench, generates the
# corpora (bench/gen-policy-corpus.py: IPv4+IPv6 CIDRs, 1000 hosted domains),
# then per size runs ROUNDS interleaved rounds of: null-policyd and
# mailwarren-policyd over TCP, the same over a unix socket, and (when Debian's
# postfwd is installed, root) one time-bounded postfwd run over TCP.  Each
# run is bench/policy-load with CONNS persistent connections sending the
# exact 29-attribute Postfix 3.7 requests (mix 50% inbound, 30% customer
# relay, 10% SASL relay, 10% strangers; 1-5 recipients a session); answers
# are checked against the relay decision (mismatches must be 0).
# Reports medians of requests/s, p50, p99, the ratio to null-policyd on the
# same transport, policyd's RSS, and the time of a 100k reload under load
# with the number of failed requests.  Loopback only, bounded in count and
# time.  Tests never assert these figures.
#
# -M: the metrics cost (issue 17) instead of the comparison with the
# others: per round, in an order rotated each round, over TCP, two
# identical instances without MetricsListen (policyd-off, policyd-off2: their
# difference is the A/A noise band), one with MetricsListen scraped every
# second during the run as Prometheus would (policyd-on), and, with
# MW_BENCH_BASE=/path/to/mailwarren-policyd (an optimised build of the
# commit before the metrics), that binary (policyd-base).  The summary
# gives each one's median rate against policyd-off's, and the median CPU
# time each daemon spent per request (its utime + stime around the run:
# robust against whatever else the machine runs).
#
# Logging is part of the cost: mailwarren-policyd logs every refusal to
# syslog, as in production.  Without a syslog daemon glibc retries the
# /dev/log connection for every line (four system calls), which would
# overstate it; so as root the script runs itself in a private mount
# namespace with its own /dev whose /dev/log is a datagram sink counting
# the lines (standing in for rsyslog/journald), and policyd runs in the
# background (not -f) so that it logs to syslog only.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
PY=${MW_PYTHON:-/usr/bin/python3}
if [ "$(id -u)" = 0 ] && [ -z "${MW_BENCH_NS:-}" ] && command -v unshare >/dev/null; then
	exec env MW_BENCH_NS=1 unshare -m --propagation private "$0" "$@"
fi
SYSLOG_SINK=
SINK_LOG=$(mktemp /tmp/mw-policy-bench-syslog.XXXXXX)
if [ -n "${MW_BENCH_NS:-}" ]; then
	mount -t tmpfs -o mode=755 mw-bench-dev /dev
	mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5
	mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9
	ln -s /proc/self/fd /dev/fd
	"$PY" -c '
import os, signal, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
n = 0
signal.signal(signal.SIGTERM, lambda *a: (print("syslog lines received: %d" % n, file=sys.stderr), sys.exit(0)))
keep = open(sys.argv[1], "a", buffering=1)
while True:
    line = s.recv(65536); n += 1
    if b": reject: " not in line:	# keep all but the per-refusal lines
        keep.write(line.decode("utf-8", "replace") + "\n")
' "$SINK_LOG" &
	SYSLOG_SINK=$!
	for i in $(seq 50); do [ -S /dev/log ] && break; sleep 0.05; done
fi
ROUNDS=5 REQS=200000 CONNS=8 SIZES="1000 100000" METRICS=
while getopts r:n:c:s:M opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;; n) REQS=$OPTARG ;; c) CONNS=$OPTARG ;; s) SIZES=$OPTARG ;;
	M) METRICS=1 ;;
	*) sed -n '2,29p' "$0"; exit 2 ;;
	esac
done
B=$TOP/_build-bench
W=$(mktemp -d /tmp/mw-policy-bench.XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$W/postfwd.pid" ] && kill "$(cat "$W/postfwd.pid")" 2>/dev/null
	for p in "$W"/c*/policyd-*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	[ -n "$SYSLOG_SINK" ] && kill "$SYSLOG_SINK" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$W" "$SINK_LOG"
}
trap cleanup EXIT

echo "== build (optimised, no sanitizers) in $B"
(cd "$TOP" && [ -x configure ] || ./autogen.sh) >/dev/null 2>&1
mkdir -p "$B"
(cd "$B" && { [ -f Makefile ] || "$TOP/configure" --disable-integration-tests >/dev/null; } \
	&& make -j"$(nproc)" policy/mailwarren-policyd bench/policy-load bench/null-policyd >/dev/null)
LOAD=$B/bench/policy-load
PD=$B/policy/mailwarren-policyd
NULL=$B/bench/null-policyd

port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {	# wait_ready SPEC
	local i
	for ((i = 0; i < 600; i++)); do
		case $1 in
		local:*) [ -S "${1#local:}" ] && return 0 ;;
		inet:*) p=${1#inet:}; (exec 3<>"/dev/tcp/127.0.0.1/${p%@*}") 2>/dev/null && return 0 ;;
		esac
		sleep 0.05
	done
	echo "server on $1 did not start" >&2
	return 1
}
# run_load LABEL SPEC [ARGS] - one measured run; appends to $W/results
run_load() {
	local label=$1 spec=$2 out
	shift 2
	out=$("$LOAD" -c "$CONNS" -n "$REQS" -C "$C/customer-ips.txt" -H "$C/hosted.txt" "$@" "$spec" 2>&1 | tail -1)
	echo "$size $label $out" >>"$W/results"
	printf '  %-14s %s\n' "$label" "$out"
}

# metrics_bench - -M: policyd-off, -off2, -on (scraped), -base, rotated
metrics_bench() {
	local names=(off off2 on) n k r cfg mport scraper i pid cpu0 cpu1
	[ -n "${MW_BENCH_BASE:-}" ] && names+=(base)
	mport=$(port)
	for n in "${names[@]}"; do
		cfg=$C/policyd-$n.conf
		sed -e "s|^PolicySocket .*|PolicySocket inet:$(port)@127.0.0.1|" \
			-e "s|^PidFile .*|PidFile $C/policyd-$n.pid|" "$C/policyd-tcp.conf" >"$cfg"
		[ "$n" = on ] && echo "MetricsListen $mport" >>"$cfg"
		bin=$PD
		[ "$n" = base ] && bin=$MW_BENCH_BASE
		if [ -n "$SYSLOG_SINK" ]; then
			"$bin" -c "$cfg" 2>"$C/policyd-$n.log"
			for i in $(seq 100); do [ -s "$C/policyd-$n.pid" ] && break; sleep 0.05; done
		else
			"$bin" -f -c "$cfg" 2>"$C/policyd-$n.log" & PIDS+=($!)
		fi
		wait_ready "$(sed -n 's/^PolicySocket //p' "$cfg")"
	done
	for r in $(seq "$ROUNDS"); do
		echo " round $r"
		for ((k = 0; k < ${#names[@]}; k++)); do
			n=${names[$(((k + r) % ${#names[@]}))]}
			scraper=
			if [ "$n" = on ]; then	# a Prometheus: one scrape a second
				"$PY" "$TOP/tests/lib/scraper.py" loop "$mport" 1 >/dev/null 2>&1 &
				scraper=$!
			fi
			pid=$(cat "$C/policyd-$n.pid")
			cpu0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
			run_load "policyd-$n" "$(sed -n 's/^PolicySocket //p' "$C/policyd-$n.conf")"
			cpu1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
			# the daemon's own CPU (utime + stime, clock ticks) per request:
			# what the metrics cost it, whatever else the machine runs
			awk -v a="$cpu0" -v b="$cpu1" -v n="$REQS" -v hz="$(getconf CLK_TCK)" -v s="$size" -v l="policyd-$n" \
				'BEGIN { printf "%s %s-cpu cpu_us_per_req=%.3f\n", s, l, (b - a) * 1e6 / hz / n }' >>"$W/results"
			[ -n "$scraper" ] && { kill "$scraper"; wait "$scraper" 2>/dev/null || true; }
		done
	done
	"$PY" "$TOP/tests/lib/scraper.py" get "$mport" | grep '^mailwarren_policyd_requests_total{result="decided"}' \
		| sed "s/^/$size scraped-after-runs /" >>"$W/results"
}

for size in $SIZES; do
	C=$W/c$size
	echo "== corpus: $size CIDRs"
	"$PY" "$TOP/bench/gen-policy-corpus.py" "$C" -n "$size" -d 1000
	ptcp=$(port); ntcp=$(port)
	cat >"$C/policyd-tcp.conf" <<EOF2
PolicySocket inet:$ptcp@127.0.0.1
HostedDomains $C/hosted.txt
CustomerNetworks $C/customers.cidr
LogAccepts no
EOF2
	# as root the daemon must be given a user (it refuses to stay root)
	[ "$(id -u)" != 0 ] || printf 'User nobody\nGroup nogroup\n' >>"$C/policyd-tcp.conf"
	sed "s|^PolicySocket .*|PolicySocket local:$C/policyd.sock|" "$C/policyd-tcp.conf" >"$C/policyd-unix.conf"
	echo "PidFile $C/policyd-unix.pid" >>"$C/policyd-unix.conf"
	echo "PidFile $C/policyd-tcp.pid" >>"$C/policyd-tcp.conf"
	# refusals are logged (one syslog line each); with the syslog sink the
	# daemons run in the background and log to syslog only, as in
	# production; otherwise in the foreground, stderr to a file
	if [ -n "$SYSLOG_SINK" ]; then
		"$PD" -c "$C/policyd-tcp.conf" 2>"$C/policyd-tcp.log"
		"$PD" -c "$C/policyd-unix.conf" 2>"$C/policyd-unix.log"
		for i in $(seq 100); do [ -s "$C/policyd-tcp.pid" ] && [ -s "$C/policyd-unix.pid" ] && break; sleep 0.05; done
		ptcp_pid=$(cat "$C/policyd-tcp.pid")
	else
		"$PD" -f -c "$C/policyd-tcp.conf" 2>"$C/policyd-tcp.log" & PIDS+=($!); ptcp_pid=$!
		"$PD" -f -c "$C/policyd-unix.conf" 2>"$C/policyd-unix.log" & PIDS+=($!)
	fi
	if [ -n "$METRICS" ]; then
		metrics_bench
		for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
		for p in "$C"/policyd-*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
		# not a bare "wait": that would wait for the syslog sink too
		[ "${#PIDS[@]}" = 0 ] || wait "${PIDS[@]}" 2>/dev/null || true
		PIDS=()
		continue
	fi
	"$NULL" "inet:$ntcp@127.0.0.1" & PIDS+=($!)
	"$NULL" "local:$C/null.sock" & PIDS+=($!)
	wait_ready "inet:$ptcp@127.0.0.1"; wait_ready "local:$C/policyd.sock"
	wait_ready "inet:$ntcp@127.0.0.1"; wait_ready "local:$C/null.sock"
	for r in $(seq "$ROUNDS"); do
		echo " round $r"
		run_load null-tcp "inet:$ntcp@127.0.0.1" -x
		run_load policyd-tcp "inet:$ptcp@127.0.0.1"
		run_load null-unix "local:$C/null.sock" -x
		run_load policyd-unix "local:$C/policyd.sock"
	done
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$ptcp_pid/status")
	echo "$size policyd-rss-kb $rss" >>"$W/results"

	# reload under load: 3 SIGHUPs while the load client runs
	"$LOAD" -c "$CONNS" -n 100000000 -t 6 -C "$C/customer-ips.txt" -H "$C/hosted.txt" \
		"inet:$ptcp@127.0.0.1" >"$C/reload-load.out" 2>&1 &
	lp=$!
	for i in 1 2 3; do sleep 1.5; kill -HUP "$ptcp_pid"; done
	wait "$lp" || true
	reload_ms=$(cat "$C/policyd-tcp.log" "$SINK_LOG" | grep -F "reloaded $C/policyd-tcp.conf" \
		| sed -n 's/.* in \([0-9.]*\) ms$/\1/p' | sort -n | tail -1)
	echo "$size reload-max-ms ${reload_ms:-?} load: $(tail -1 "$C/reload-load.out")" >>"$W/results"
	echo "  reload under load: slowest of 3 reloads ${reload_ms:-?} ms; load: $(tail -1 "$C/reload-load.out")"

	if command -v postfwd2 >/dev/null && [ "$(id -u)" = 0 ]; then
		fport=$(port)
		chmod -R o+rX "$C"
		postfwd2 --daemon -f "$C/postfwd.cf" -i 127.0.0.1 -p "$fport" -u postfw -g postfw \
			--nodns --pidfile "$W/postfwd.pid" --cache_socket "unix::$W/postfwd-cache.sock" \
			--cache=0 2>"$W/postfwd.err" || cat "$W/postfwd.err"
		wait_ready "inet:$fport@127.0.0.1" && sleep 1
		echo " postfwd (one run, at most 20 s)"
		REQS_SAVE=$REQS; REQS=20000
		run_load postfwd-tcp "inet:$fport@127.0.0.1" -t 20
		REQS=$REQS_SAVE
		kill "$(cat "$W/postfwd.pid")" 2>/dev/null || true
		rm -f "$W/postfwd.pid"
		sleep 1
	fi
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "$C"/policyd-*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	wait "${PIDS[@]}" 2>/dev/null || true
	PIDS=()
done

echo
echo "== summary (median of $ROUNDS rounds; ratio = rate / null-policyd's on the same transport)"
"$PY" - "$W/results" <<'PY'
import re, statistics, sys
runs = {}
extra = []
for line in open(sys.argv[1]):
    f = line.split()
    size, label = f[0], f[1]
    kv = dict(re.findall(r"(\w+)=([\d.]+)", line))
    if "cpu_us_per_req" in kv:
        runs.setdefault((size, label), []).append(kv)
    elif "rate" in kv and not label.startswith("reload"):
        runs.setdefault((size, label), []).append(kv)
    else:
        extra.append(line.strip())
print("%-8s %-14s %10s %8s %8s %10s %7s" % ("CIDRs", "server", "req/s", "p50 us", "p99 us", "mismatch", "ratio"))
cpu = {}
for (size, label), rs in sorted(runs.items(), key=lambda k: (int(k[0][0]), k[0][1])):
    med = lambda k: statistics.median(float(r[k]) for r in rs)
    if label.endswith("-cpu"):
        cpu[(size, label[:-4])] = [float(r["cpu_us_per_req"]) for r in rs]
        continue
    ratio = ""
    if label in ("policyd-off2", "policyd-on", "policyd-base"):
        off = runs.get((size, "policyd-off"))
        ratio = "%.3f" % (med("rate") / statistics.median(float(r["rate"]) for r in off))
    elif label.startswith("policyd"):
        null = runs.get((size, label.replace("policyd", "null")))
        if null:
            ratio = "%.2f" % (med("rate") / statistics.median(float(r["rate"]) for r in null))
    print("%-8s %-14s %10.0f %8.0f %8.0f %10d %7s" % (size, label, med("rate"), med("p50_us"),
          med("p99_us"), sum(int(r["mismatches"]) for r in rs), ratio))
if cpu:
    print("\n%-8s %-14s %12s %9s  %s" % ("CIDRs", "server", "CPU us/req", "vs off", "per round"))
    for (size, label), v in sorted(cpu.items()):
        off = statistics.median(cpu[(size, "policyd-off")])
        print("%-8s %-14s %12.3f %9.3f  %s" % (size, label, statistics.median(v),
              statistics.median(v) / off, " ".join("%.2f" % x for x in v)))
for e in extra:
    print(e)
PY
