#!/bin/bash
# t-policy-overload.sh - connection storms against a real mailwarren-policyd in
# a private network namespace with its descriptor limit lowered (prlimit):
# the start check of MaxConnections against the limit; 10,000 connections
# over MaxConnections (answered 451 4.3.5, one warning, established
# connections answered, a new request answered afterwards); the same storm
# with the descriptors exhausted under the cap (EMFILE: back-off, one
# warning); 1,000 half-sent requests held open and then completed.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
. "$MW_TESTLIB/policyd.sh"

sb_init policy-overload
. "$MW_TESTLIB/overload.sh"
ov_init mwpo 10040
T=$MW_TOP_SRCDIR/tests/policy

conf() {	# conf MAXCONN - the golden tables on the namespace's TCP port
	sed -e "s|@DIR@|$T|g" -e "s|local:@SOCK@|inet:$OV_PORT@127.0.0.1|" "$T/golden.conf.in" >"$SB/p.conf"
	echo "MaxConnections $1" >>"$SB/p.conf"
	# as root the daemon must be given a user (it refuses to stay root)
	printf 'User nobody\nGroup nogroup\n' >>"$SB/p.conf"
}
start() {	# start SOFT:HARD - the daemon in the namespace under that limit
	ov_start "$SB/p.log" "$1" connect "$PD_BIN" -f -c "$SB/p.conf" && PID=$OV_PID
}
flood() { ov_flood policy "$@"; }
val() { ov_val "$1"; }
warnings() { ov_warnings "$SB/p.log" "$1"; }

# 1. The start check: MaxConnections 300 needs 300 + 128 descriptors.
conf 300
out=$(nsenter --net="/run/netns/$OV_NS" prlimit --nofile=256:256 "$PD_BIN" -t -c "$SB/p.conf" 2>&1)
check "-t: MaxConnections 300 under a hard limit of 256 is refused" test $? -ne 0
check "  ... naming the cap, the need and the limit" \
	grep -q "MaxConnections 300 needs 428 descriptors, but the descriptor limit is 256 (hard limit 256)" <<<"$out"
timeout 20 nsenter --net="/run/netns/$OV_NS" prlimit --nofile=256:256 "$PD_BIN" -f -c "$SB/p.conf" >"$SB/refused.log" 2>&1
check "the daemon does not start with it either" test $? -ne 0
check "  ... and says why" grep -q "MaxConnections 300 needs 428 descriptors" "$SB/refused.log"
lim=$(sed -n 's/^LimitNOFILE=//p' "$MW_TOP_SRCDIR/packaging/systemd/mailwarren-policyd.service")
sed -i 's/^MaxConnections .*/MaxConnections 65536/' "$SB/p.conf"
need=$(nsenter --net="/run/netns/$OV_NS" prlimit --nofile=256:256 "$PD_BIN" -t -c "$SB/p.conf" 2>&1 |
	sed -n 's/.*MaxConnections 65536 needs \([0-9]*\) descriptors.*/\1/p')
check "the unit's LimitNOFILE ($lim) holds the largest MaxConnections (65536: ${need:-?} descriptors)" \
	test -n "$need" -a "${lim:-0}" -ge "${need:-1}"
sed -i 's/^MaxConnections .*/MaxConnections 300/' "$SB/p.conf"
start 256:1024 || { echo "Bail out! policyd did not start"; exit 1; }
check "soft limit 256, hard 1024: started, the soft limit raised to the 428 it needs" \
	grep -Eq '^Max open files +428 +1024 ' "/proc/$PID/limits"

# 2. 10,000 connections, each sending a request, against MaxConnections 300.
OUT=$(flood --established 4 --flood 10000 --send full --wait 120 --probes 5)
sed 's/^/# /' <<<"$OUT"
check "established connections answered before the storm" test "$(val established_ok)" = 4
check "storm: all 10,000 connections attempted got through to the daemon" \
	test "$(val flood_connected)" = 10000
check "storm: up to the cap answered normally (held open)" \
	test "$(val flood_answered)" -ge 250 -a "$(val flood_answered)" -le 296
check "storm: the connections over the cap got 451 4.3.5 (deferred), thousands of them" \
	test "$(val flood_deferred)" -ge 5000
check "while saturated: every request on the established connections answered (20 of 20)" \
	test "$(val probes_ok)" = 20 -a "$(val probes_failed)" = 0
check "while saturated: a new connection's request is deferred (451 4.3.5), not dropped" \
	test "$(val new_during)" = deferred
check "after the storm: a new request is answered" test "$(val after_ok)" = 1
n=$(warnings "MaxConnections (300) reached")
check "one warning line per minute, not one per connection (got $n for $(val flood_deferred) deferred)" \
	test "$n" -ge 1 -a "$n" -le 5
check "  ... with the count in it" grep -Eq 'MaxConnections \(300\) reached: [0-9]+ connection\(s\) over it' "$SB/p.log"
check "no accept() failure logged" test "$(warnings 'accept:')" = 0
check "the daemon is still running" sb_pid_running "$PID"

# 3. Descriptors exhausted under the cap: the limit lowered to 200 while running.
# The daemon runs as nobody:nogroup; without CAP_SYS_RESOURCE (as in
# some containers) only a caller of the same uid and gid may change its
# limits, so prlimit runs as that user (setpriv: util-linux).
check "the descriptor limit is lowered to 200" \
	ov_lower_limit 200
OUT=$(flood --established 4 --flood 10000 --send full --wait 120 --probes 5)
sed 's/^/# /' <<<"$OUT"
check "EMFILE storm: established connections answered before it" test "$(val established_ok)" = 4
check "EMFILE storm: requests on the established connections answered while out of descriptors" \
	test "$(val probes_ok)" = 20 -a "$(val probes_failed)" = 0
check "EMFILE storm: the connections it could not take were closed, not left hanging" \
	test "$(val flood_eof)" -ge 5000
check "EMFILE storm: a new request is answered afterwards" test "$(val after_ok)" = 1
n=$(warnings "accept: Too many open files")
check "EMFILE storm: $n warning line(s) (bounded), not one per attempt" test "$n" -ge 1 -a "$n" -le 5
check "  ... with the count in it" grep -Eq 'accept: Too many open files: [0-9]+ connection\(s\) refused' "$SB/p.log"
check "the daemon is still running" sb_pid_running "$PID"
mw_kill_pid "$PID"

# 4. 1,000 half-sent requests (slowloris) held open under MaxConnections 2000.
conf 2000
start 4096:4096 || { echo "Bail out! policyd did not start"; exit 1; }
OUT=$(flood --established 4 --flood 1000 --send half --wait 60 --probes 5 --complete)
sed 's/^/# /' <<<"$OUT"
check "slowloris: 1,000 half-sent requests connected" test "$(val flood_connected)" = 1000
check "slowloris: none closed by the daemon" test "$(val flood_eof)" = 0 -a "$(val flood_open_at_end)" = 1000
check "slowloris: the established connections answered meanwhile (20 of 20)" \
	test "$(val probes_ok)" = 20
check "slowloris: a new connection answered meanwhile" test "$(val new_during)" = answered
check "slowloris: each of the 1,000 answered once its request is complete" \
	test "$(val completed_answered)" = 1000
check "no warning" test "$(warnings '')" = 0
done_testing
