#!/bin/bash
# t-milter-metrics.sh - mailwarren-milter's Prometheus endpoint (issue 17),
# driven by miltertest with the ClamAV test DB and a real spamd beside a
# dead one:
# - MetricsListen unset: no listener; a bad value: -t refuses it, named;
# - the exposition passes promtool's lint and has every metric of
#   mailwarren-milter(8), and no other;
# - after N messages of each kind (virus, clean, spam over SpamRejectScore)
#   the decision, virus, scan and spamd counters say N; the dead spamd
#   host shows as errors and failovers; signatures, database age, reloads
#   (SIGUSR1, SIGHUP) and connections are counted;
# - hostile scrapers (slowloris at 1 byte/s, a 1 MB request line, 1,000
#   connections at once, a reader that never reads) with MaxConnections 20
#   (so a descriptor limit of 124) while mail runs: every message gets its
#   right answer, the milter stays up and the counts stay exact;
# - SIGUSR2 logs one "statistics:" line; a restart starts from zero.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/postfix.sh"
. "$MW_TESTLIB/spamd.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"
. "$MW_TESTLIB/scraper.sh"

PY=${MW_PYTHON:-/usr/bin/python3}
SCRAPER=$MW_TESTLIB/scraper.py
sb_need_root
mwm_need
sb_need_cmd "$SPAMD_BIN" spamd
sb_need_cmd promtool prometheus
sb_init t-milter-metrics
mwm_db
plan 39

spamd_start || { echo "Bail out! spamd did not start"; exit 1; }
DEAD=$(mw_next_port "$SPAMD_PORT")
MPORT=$(sb_port)
HAM=$top_srcdir/tests/data/ham-1.eml
GTUBE=$top_srcdir/tests/data/gtube.eml
VIR=$MWM_S/eicar-plain.eml
VNAME=$(mwm_expected eicar-plain.eml)
M=mailwarren_milter_

val() {	# val SERIES
	"$PY" "$SCRAPER" value "$MPORT" "$1"
}

# ---- off by default; bad values refused ------------------------------------
printf 'DatabaseDirectory %s\nTemporaryDirectory %s\nMetricsListen local:/x\n' "$MWM_DB" "$SB/tmp" >"$SB/bad.conf"
out=$("$MWM_BIN" -t -c "$SB/bad.conf" 2>&1)
check "-t refuses MetricsListen local:/x, named ($out)" bash -c '[[ $1 == *MetricsListen:* ]]' _ "$out"
sed -i 's/^MetricsListen .*/MetricsListen inet:0@127.0.0.1/' "$SB/bad.conf"
out=$("$MWM_BIN" -t -c "$SB/bad.conf" 2>&1)
check "-t refuses MetricsListen inet:0@127.0.0.1 ($out)" bash -c '[[ $1 == *MetricsListen:* ]]' _ "$out"
mwm_start off SpamdHosts "inet:$SPAMD_PORT@127.0.0.1" ||
	{ echo "Bail out! milter did not start"; exit 1; }
check "MetricsListen unset: nothing listens on the port" bash -c '! (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null' _ "$MPORT"
mwm_stop

# ---- on ---------------------------------------------------------------------
start_main() {
	mwm_start main SpamdHosts "inet:$DEAD@127.0.0.1, inet:$SPAMD_PORT@127.0.0.1" SpamdTimeout 5 \
		SpamRejectScore 100 MaxConnections 20 MetricsListen "$MPORT" &&
		sb_wait_port "$MPORT" 10
}
start_main || { echo "Bail out! milter did not start"; exit 1; }
check "the start log names the endpoint" sb_eventually 5 grep -q "metrics on http://127.0.0.1:$MPORT/metrics" "$MWM_LOG"
check "only on loopback: ss shows 127.0.0.1:$MPORT" \
	bash -c 'ss -Hltn "sport = :$1" | grep -q "127.0.0.1:$1"' _ "$MPORT"
sc_exposition_checks "$MPORT" "$top_srcdir/man/mailwarren-milter.8" 15
check "signatures loaded: > 0" test "$(val ${M}clamav_signatures)" -gt 0
age=$(val ${M}clamav_database_age_seconds)
check "database age: a number of seconds ($age)" bash -c '[[ $1 =~ ^[0-9]+$ ]]' _ "$age"
check "start_time_seconds: about now" bash -c '[ $(( $(date +%s) - $1 )) -lt 600 ]' _ "$(val ${M}start_time_seconds)"

# ---- N of each kind --------------------------------------------------------
send() {	# send KIND: one message, its answer checked; 0 if right
	case $1 in
	virus) mwm_send "msg=$VIR" code=550 xcode=5.7.1 "text=Virus found: $VNAME" && mwm_has "smtpreply yes" ;;
	clean) mwm_send "msg=$HAM" && mwm_has "reply continue" && mwm_has "hdr X-Spam-Flag: NO" ;;
	spam) mwm_send "msg=$GTUBE" code=550 xcode=5.7.1 "text=Message classified as spam" &&
		mwm_has "smtpreply yes" ;;
	esac
}
bad=0
for k in virus virus virus clean clean clean clean spam spam; do
	send "$k" || bad=$((bad + 1))
done
check "9 messages (3 virus, 4 clean, 2 spam): every answer right" test "$bad" = 0
D=${M}decisions_total
check "reject{virus} = 3" test "$(val "$D{action=\"reject\",reason=\"virus\"}")" = 3
check "accept{clean} = 4" test "$(val "$D{action=\"accept\",reason=\"clean\"}")" = 4
check "reject{spam} = 2" test "$(val "$D{action=\"reject\",reason=\"spam\"}")" = 2
check "viruses_found_total = 3" test "$(val ${M}viruses_found_total)" = 3
check "scan_duration_seconds_count{clean} = 6" test "$(val "${M}scan_duration_seconds_count{result=\"clean\"}")" = 6
check "scan_duration_seconds_count{virus} = 3" test "$(val "${M}scan_duration_seconds_count{result=\"virus\"}")" = 3
check "spamd_duration_seconds_count{scored} = 6" test "$(val "${M}spamd_duration_seconds_count{result=\"scored\"}")" = 6
errs=$(val ${M}spamd_host_errors_total)
fo=$(val ${M}spamd_failovers_total)
check "the dead spamd host: errors ($errs) and failovers ($fo), at least 1 each" \
	bash -c '[ "$1" -ge 1 ] && [ "$2" -ge 1 ] && [ "$1" -ge "$2" ]' _ "$errs" "$fo"
up=$(val "${M}spamd_hosts{state=\"up\"}")
down=$(val "${M}spamd_hosts{state=\"down\"}")
check "spamd_hosts: up $up + down $down = 2, at least 1 up" bash -c '[ $(($1 + $2)) = 2 ] && [ "$1" -ge 1 ]' _ "$up" "$down"
check "connections_total{accepted} = 9" test "$(val "${M}connections_total{result=\"accepted\"}")" = 9

# reloads
kill -USR1 "$MWM_PID"
sb_eventually 20 test "$(val "${M}reloads_total{what=\"database\",result=\"ok\"}")" = 1
check "SIGUSR1: reloads_total{database,ok} = 1" test "$(val "${M}reloads_total{what=\"database\",result=\"ok\"}")" = 1
kill -HUP "$MWM_PID"
sb_eventually 20 test "$(val "${M}reloads_total{what=\"database\",result=\"ok\"}")" = 2
check "SIGHUP: reloads_total{config,ok} = 1" test "$(val "${M}reloads_total{what=\"config\",result=\"ok\"}")" = 1
check "SIGHUP: reloads_total{database,ok} = 2" test "$(val "${M}reloads_total{what=\"database\",result=\"ok\"}")" = 2

# ---- hostile scrapers while mail runs ---------------------------------------
touch "$SB/attack"
(	# mail during the attack: virus and clean in turn, every answer checked
	n=0 bad=0
	while [ -e "$SB/attack" ] || [ $n -lt 6 ]; do
		if [ $((n % 2)) = 0 ]; then send virus || bad=$((bad + 1)); else send clean || bad=$((bad + 1)); fi
		n=$((n + 1))
	done
	echo "sent=$n bad=$bad"
) >"$SB/mail.out" 2>&1 &
MAIL=$!
sc_attack "$MPORT"
wait "$MAIL"
out=$(tail -n 1 "$SB/mail.out")
sent=${out#sent=}; sent=${sent%% *}
check "during the attack: $sent messages, every answer right ($out)" \
	bash -c '[[ $1 == *" bad=0" ]] && [ "$2" -ge 6 ]' _ "$out" "$sent"
sc_attack_checks
check "the milter is still running" sb_pid_running "$MWM_PID"
check "a message after the attack: answered right" send virus
V=$((3 + (sent + 1) / 2 + 1))
got=$(val "$D{action=\"reject\",reason=\"virus\"}")
check "a scrape after the attack: reject{virus} = $V, exact ($got)" test "$got" = "$V"
[ "$got" = "$V" ] || diag "$(grep -cF "virus=$VNAME " "$MWM_LOG") virus log lines; mail: $(cat "$SB/mail.out")"
check "no MaxConnections refusal: connections_total{refused} = 0" \
	test "$(val "${M}connections_total{result=\"refused\"}")" = 0

# ---- SIGUSR2 ------------------------------------------------------------------
C=$((4 + sent / 2))
kill -USR2 "$MWM_PID"
sb_eventually 5 grep -q "statistics: accept=$C tag=0 quarantine=0 discard=0 reject=$((V + 2)) tempfail=0 viruses=$V " "$MWM_LOG"
check "SIGUSR2: one statistics line with the counts (accept=$C reject=$((V + 2)) viruses=$V)" \
	grep -q "statistics: accept=$C tag=0 quarantine=0 discard=0 reject=$((V + 2)) tempfail=0 viruses=$V " "$MWM_LOG"
check "SIGUSR2: the milter goes on" bash -c 'sleep 0.3; kill -0 "$1"' _ "$MWM_PID"

# ---- a restart starts from zero -------------------------------------------------
mwm_stop
start_main || { echo "Bail out! milter did not restart"; exit 1; }
check "after a restart: reject{virus} = 0" test "$(val "$D{action=\"reject\",reason=\"virus\"}")" = 0
send virus
check "after a restart: counted from zero (1)" test "$(val "$D{action=\"reject\",reason=\"virus\"}")" = 1
mwm_stop
done_testing
