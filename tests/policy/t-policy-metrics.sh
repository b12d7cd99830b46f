#!/bin/bash
# t-policy-metrics.sh - mailwarren-policyd's Prometheus endpoint (issue 17):
# - MetricsListen unset: no listener; a bad value: -t and the start refuse it
#   with a reason; a port in use: the start fails, named;
# - the exposition passes promtool's lint, has every metric of the man page,
#   and after N requests of each kind its decision counters say N;
# - bad requests to the endpoint: 404, 405, 400, a query string is fine;
# - hostile scrapers (slowloris at 1 byte/s, a 1 MB request line, 1,000
#   connections at once, a reader that never reads) while 400 policy
#   requests run: every request is answered, correctly; the slowloris is
#   closed, the 1 MB line refused; the daemon answers and scrapes work after;
# - SIGUSR2 logs one "statistics:" line with the counts and changes nothing;
# - a restart starts the counters from zero.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
. "$MW_TESTLIB/policyd.sh"
. "$MW_TESTLIB/scraper.sh"
PY=${MW_PYTHON:-/usr/bin/python3}
SCRAPER=$MW_TESTLIB/scraper.py
sb_need_cmd promtool prometheus
sb_init policy-metrics
plan 35

T=$MW_TOP_SRCDIR/tests/policy
MPORT=$(sb_port)
# the golden tables, a low MaxConnections (and so a low descriptor limit)
PD_SOCK=$SB/pd.sock
# (and no rate limit to reach: the traffic below is counted, not limited)
policyd_config "$T/golden.conf.in" "MaxConnections 20" "LogAccepts no"
sed -i 's/^RecipientRateLimit .*/RecipientRateLimit 100000000\/1m/' "$PD_CONF"

# ---- off by default; bad values refused ----------------------------------
out=$(policyd_run -t 2>&1)
check "-t accepts the configuration without MetricsListen" test "$out" = "$PD_CONF: OK"
cp "$PD_CONF" "$SB/base.conf"
for bad in "local:/tmp/x" "70000" "inet:x@nowhere.invalid"; do
	cp "$SB/base.conf" "$PD_CONF" && echo "MetricsListen $bad" >>"$PD_CONF"
	out=$(policyd_run -t 2>&1)
	check "-t refuses MetricsListen $bad: $out" bash -c '[[ $1 == *MetricsListen* ]]' _ "$out"
done
# a port in use: the start fails and says so
"$PY" -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); time.sleep(30)' "$MPORT" &
HOLDER=$!
sleep 0.3
cp "$SB/base.conf" "$PD_CONF" && echo "MetricsListen $MPORT" >>"$PD_CONF"
timeout 20 "$PD_BIN" -f -c "$PD_CONF" >"$SB/inuse.log" 2>&1
rc=$?
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null
check "a MetricsListen port in use: the start fails ($rc), naming it" \
	bash -c '[ "$1" != 0 ] && [ "$1" != 124 ] && grep -q "MetricsListen: .*bind" "$2"' _ "$rc" "$SB/inuse.log"

cp "$SB/base.conf" "$PD_CONF"
policyd_start || { echo "Bail out! policyd did not start"; exit 1; }
check "MetricsListen unset: nothing listens on the port" bash -c '! (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null' _ "$MPORT"
policyd_stop

# ---- on ---------------------------------------------------------------------
echo "MetricsListen $MPORT" >>"$PD_CONF"
: >"$PD_LOG"
policyd_start || { echo "Bail out! policyd did not start"; exit 1; }
sb_wait_port "$MPORT" 10
check "MetricsListen $MPORT: the start log names the endpoint" \
	sb_eventually 5 grep -q "metrics on http://127.0.0.1:$MPORT/metrics" "$PD_LOG"
check "only on loopback: ss shows 127.0.0.1:$MPORT" \
	bash -c 'ss -Hltn "sport = :$1" | grep -q "127.0.0.1:$1"' _ "$MPORT"

sc_exposition_checks "$MPORT" "$MW_TOP_SRCDIR/man/mailwarren-policyd.8" 10

# ---- N requests of each kind: the counters say N --------------------------
cat >"$SB/traffic.py" <<'EOF'
import sys, threading
sys.path.insert(0, sys.argv[1])
from policy_client import connect, ask
import os, time
sock, conns, rounds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
# rounds 0: go on while the file sys.argv[5] exists
flag = sys.argv[5] if len(sys.argv) > 5 else None
done = []
# (client, recipient, expected action)
kinds = [("16.1.2.3", "x@outside.example", "action=OK"),
         ("198.51.100.7", "x@outside.example", "action=554 5.7.1 Relay access denied"),
         ("198.51.100.7", "u@hosted.example", "action=DUNNO")]
bad = []
def run(i):
    s = connect(sock)
    r = 0
    while r < rounds or (rounds == 0 and os.path.exists(flag)):
        for client, rcpt, want in kinds:
            got = ask(s, rcpt, client=client)
            if got != want:
                bad.append("%s %s: %s" % (client, rcpt, got))
            done.append(1)
        r += 1
        if rounds == 0:
            time.sleep(0.005)
    s.close()
ts = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
for t in ts: t.start()
for t in ts: t.join()
print("answered=%d wrong=%d %s" % (len(done) - len(bad), len(bad), "; ".join(bad[:3])))
EOF
traffic() {	# traffic CONNS ROUNDS [FLAG]: CONNS x ROUNDS x (permit, reject, dunno)
	"$PY" "$SB/traffic.py" "$MW_TESTLIB" "unix:$PD_SOCK" "$@"
}
val() {	# val SERIES
	"$PY" "$SCRAPER" value "$MPORT" "$1"
}
D=mailwarren_policyd_decisions_total
out=$(traffic 1 5)
check "15 requests answered, all correct ($out)" test "${out%% *}" = "answered=15"
check "permit{customer_relay} = 5" test "$(val "$D{action=\"permit\",reason=\"customer_relay\"}")" = 5
check "reject{relay} = 5" test "$(val "$D{action=\"reject\",reason=\"relay\"}")" = 5
check "dunno{hosted} = 5 (counted although LogAccepts no)" test "$(val "$D{action=\"dunno\",reason=\"hosted\"}")" = 5
check "requests_total{decided} = 15" test "$(val 'mailwarren_policyd_requests_total{result="decided"}')" = 15
check "connections_total{accepted} = 1" test "$(val 'mailwarren_policyd_connections_total{result="accepted"}')" = 1

# ---- bad requests to the endpoint -----------------------------------------
check "GET /: 404" bash -c '"$1" "$2" get "$3" / | grep -q "^HTTP/1.1 404"' _ "$PY" "$SCRAPER" "$MPORT"
out=$(printf 'POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n' | "$PY" "$SCRAPER" raw "$MPORT")
check "POST /metrics: 405 ($out)" bash -c '[[ $1 == "HTTP/1.1 405"* ]]' _ "$out"
out=$(printf 'GARBAGE\r\n\r\n' | "$PY" "$SCRAPER" raw "$MPORT")
check "a malformed request line: 400 ($out)" bash -c '[[ $1 == "HTTP/1.1 400"* ]]' _ "$out"
check "GET /metrics?x=1: 200" bash -c '"$1" "$2" get "$3" "/metrics?x=1" | grep -q "^HTTP/1.1 200"' _ "$PY" "$SCRAPER" "$MPORT"

# ---- hostile scrapers while policy traffic runs ---------------------------
touch "$SB/attack"
traffic 4 0 "$SB/attack" >"$SB/traffic.out" &
TR=$!
sc_attack "$MPORT"
wait "$TR"
out=$(cat "$SB/traffic.out")
n=${out%% *}; n=${n#answered=}
check "during the attack: every request answered, all correct ($out)" \
	bash -c '[[ $1 == *" wrong=0 "* ]] && [ "$2" -ge 300 ] && [ $(($2 % 3)) = 0 ]' _ "$out" "$n"
sc_attack_checks
check "policyd still running" sb_pid_running "$PD_PID"
out=$(traffic 1 1)
check "a request after the attack: answered correctly ($out)" test "${out%% *}" = "answered=3"
P=$((5 + n / 3 + 1))
check "a scrape after the attack: 200, the counts exact (permit 5+$((n / 3))+1)" \
	test "$(val "$D{action=\"permit\",reason=\"customer_relay\"}")" = "$P"

# ---- SIGUSR2: one line of statistics --------------------------------------
kill -USR2 "$PD_PID"
sb_eventually 5 grep -q "statistics: permit=$P dunno=$P reject=$P defer=0 " "$PD_LOG"
check "SIGUSR2: one statistics line with the counts" \
	grep -q "statistics: permit=$P dunno=$P reject=$P defer=0 " "$PD_LOG"
check "SIGUSR2: the daemon goes on" bash -c 'sleep 0.3; kill -0 "$1"' _ "$PD_PID"

# ---- a restart resets the counters ----------------------------------------
start_before=$(val mailwarren_policyd_start_time_seconds)
policyd_stop
sleep 1
policyd_start || { echo "Bail out! policyd did not restart"; exit 1; }
sb_wait_port "$MPORT" 10
check "after a restart: permit{customer_relay} = 0" test "$(val "$D{action=\"permit\",reason=\"customer_relay\"}")" = 0
start_after=$(val mailwarren_policyd_start_time_seconds)
check "after a restart: start_time_seconds moved ($start_before -> $start_after)" \
	test "$start_after" -gt "$start_before"
out=$(traffic 1 2)
check "after a restart: counted from zero (2)" test "$(val "$D{action=\"reject\",reason=\"relay\"}")" = 2
policyd_stop
done_testing
