#!/bin/bash
# t-milter-overload.sh - connection storms against a real mailwarren-milter in
# a private network namespace with its descriptor limit lowered (prlimit):
# the start check of MaxConnections against the limit; 10,000 MTA
# connections over MaxConnections (closed at once, so the MTA applies its
# milter default action; one warning; established sessions answered; a new
# negotiation answered afterwards); the same storm with the descriptors
# exhausted under the cap (libmilter's accept loop no longer spins on
# EMFILE: one warning); 1,000 half-sent negotiations held open, then
# completed.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
. "$MW_TOP_SRCDIR/tests/milter/milter-lib.sh"

sb_init milter-overload
mwm_db
. "$MW_TESTLIB/overload.sh"
ov_init mwmo 27840

conf() {	# conf MAXCONN
	cat >"$SB/m.conf" <<EOC
MilterSocket inet:$OV_PORT@127.0.0.1
DatabaseDirectory $MWM_DB
TemporaryDirectory $SB/tmp
DatabaseCheckInterval 0
SpamdHosts none
MaxConnections $1
User nobody
Group nogroup
EOC
}
start() {	# start SOFT:HARD - the daemon in the namespace under that limit
	ov_start "$SB/m.log" "$1" 'started on' "$MWM_BIN" -f -c "$SB/m.conf" && PID=$OV_PID
}
flood() { ov_flood milter "$@"; }
val() { ov_val "$1"; }
warnings() { ov_warnings "$SB/m.log" "$1"; }

# 1. The start check: MaxConnections 300 needs 3 x 300 + 64 descriptors.
conf 300
out=$(nsenter --net="/run/netns/$OV_NS" prlimit --nofile=512:512 "$MWM_BIN" -t -c "$SB/m.conf" 2>&1)
check "-t: MaxConnections 300 under a hard limit of 512 is refused" test $? -ne 0
check "  ... naming the cap, the need and the limit" \
	grep -q "MaxConnections 300 needs 964 descriptors, but the descriptor limit is 512 (hard limit 512)" <<<"$out"
timeout 20 nsenter --net="/run/netns/$OV_NS" prlimit --nofile=512:512 "$MWM_BIN" -f -c "$SB/m.conf" </dev/null >"$SB/refused.log" 2>&1
check "the milter does not start with it either" test $? -ne 0
check "  ... and says why" grep -q "MaxConnections 300 needs 964 descriptors" "$SB/refused.log"
lim=$(sed -n 's/^LimitNOFILE=//p' "$MW_TOP_SRCDIR/packaging/systemd/mailwarren-milter.service")
sed -i 's/^MaxConnections .*/MaxConnections 65536/' "$SB/m.conf"
need=$(nsenter --net="/run/netns/$OV_NS" prlimit --nofile=256:256 "$MWM_BIN" -t -c "$SB/m.conf" 2>&1 |
	sed -n 's/.*MaxConnections 65536 needs \([0-9]*\) descriptors.*/\1/p')
check "the unit's LimitNOFILE ($lim) holds the largest MaxConnections (65536: ${need:-?} descriptors)" \
	test -n "$need" -a "${lim:-0}" -ge "${need:-1}"
sed -i 's/^MaxConnections .*/MaxConnections 300/' "$SB/m.conf"
start 512:1024 || { echo "Bail out! the milter did not start"; exit 1; }
check "soft limit 512, hard 1024: started, the soft limit raised to the 964 it needs" \
	grep -Eq '^Max open files +964 +1024 ' "/proc/$PID/limits"

# 2. 10,000 MTA connections, each negotiating, against MaxConnections 300.
OUT=$(flood --established 4 --flood 10000 --send full --wait 120 --probes 5)
sed 's/^/# /' <<<"$OUT"
check "established sessions negotiated before the storm" test "$(val established_ok)" = 4
check "storm: all 10,000 connections got through to the milter" test "$(val flood_connected)" = 10000
check "storm: up to the cap negotiated (held open)" \
	test "$(val flood_answered)" -ge 250 -a "$(val flood_answered)" -le 296
check "storm: the connections over the cap were closed at once (the MTA's default action)" \
	test "$(val flood_eof)" -ge 5000
check "while saturated: every command on the established sessions answered (20 of 20)" \
	test "$(val probes_ok)" = 20 -a "$(val probes_failed)" = 0
check "while saturated: a new negotiation is closed, not left hanging" test "$(val new_during)" = eof
check "after the storm: a new negotiation is answered" test "$(val after_ok)" = 1
n=$(warnings "MaxConnections (300) reached")
check "$n warning line(s) for $(val flood_eof) connections closed, not one per connection" \
	test "$n" -ge 1 -a "$n" -le 5
check "  ... with the count in it" grep -Eq 'MaxConnections \(300\) reached: [0-9]+ MTA connection\(s\) closed' "$SB/m.log"
check "no accept() failure logged" test "$(grep -c 'accept' "$SB/m.log")" = "$n"
check "the milter is still running" sb_pid_running "$PID"

# 3. Descriptors exhausted under the cap: the limit lowered to 200 while running.
# The daemon runs as nobody:nogroup; without CAP_SYS_RESOURCE (as in
# some containers) only a caller of the same uid and gid may change its
# limits, so prlimit runs as that user (setpriv: util-linux).
check "the descriptor limit is lowered to 200" \
	ov_lower_limit 200
OUT=$(flood --established 4 --flood 10000 --send full --wait 120 --probes 5)
sed 's/^/# /' <<<"$OUT"
check "EMFILE storm: established sessions negotiated before it" test "$(val established_ok)" = 4
check "EMFILE storm: commands on the established sessions answered while out of descriptors" \
	test "$(val probes_ok)" = 20 -a "$(val probes_failed)" = 0
check "EMFILE storm: the connections it could not take were closed, not left hanging" \
	test "$(val flood_eof)" -ge 5000
check "EMFILE storm: a new negotiation is answered afterwards" test "$(val after_ok)" = 1
n=$(warnings "accept: Too many open files")
check "EMFILE storm: $n warning line(s), not one per attempt" test "$n" -ge 1 -a "$n" -le 5
check "  ... with the count in it" grep -Eq 'accept: Too many open files: [0-9]+ MTA connection\(s\) refused' "$SB/m.log"
check "libmilter logged no accept() error of its own" \
	test "$(grep -c 'accept() returned invalid socket' "$SB/m.log")" = 0
check "the milter is still running" sb_pid_running "$PID"
mw_kill_pid "$PID" 10

# 4. 1,000 half-sent negotiations (slowloris) held open under MaxConnections 2000.
conf 2000
start 8192:8192 || { echo "Bail out! the milter did not start"; exit 1; }
OUT=$(flood --established 4 --flood 1000 --send half --wait 60 --probes 5 --complete)
sed 's/^/# /' <<<"$OUT"
check "slowloris: 1,000 half-sent negotiations connected" test "$(val flood_connected)" = 1000
check "slowloris: none closed by the milter" test "$(val flood_eof)" = 0 -a "$(val flood_open_at_end)" = 1000
check "slowloris: the established sessions answered meanwhile (20 of 20)" test "$(val probes_ok)" = 20
check "slowloris: a new negotiation answered meanwhile" test "$(val new_during)" = answered
check "slowloris: each of the 1,000 answered once its negotiation is complete" \
	test "$(val completed_answered)" = 1000
check "no warning" test "$(warnings '')" = 0
done_testing
