#!/bin/bash
# t-milter-scanlimit.sh - MaxConcurrentScans holds (TAP).  With
# MaxConcurrentScans 1 and three sessions sending a large message at once,
# the milter (-v) logs, from a counter kept apart from the slots, how many
# scans are inside libclamav whenever one starts: never more than one.  A
# session that found the slot taken logs that it waited and how many
# smfi_progress() notes it sent the MTA (one at once, then one a second),
# and still gets its answer.  Nothing here asserts a duration: a round in
# which no session had to wait proves nothing and is run again (at most 4).
# No spamd: SpamdHosts none.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/postfix.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_init t-milter-scanlimit
mwm_db

# a message with a 6 MB base64 attachment: each scan decodes and scans it
{
	printf 'From: a@origin.example\r\nTo: b@dest.example\r\nSubject: large\r\n'
	printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=LIMIT\r\n\r\n'
	printf -- '--LIMIT\r\nContent-Type: application/octet-stream\r\n'
	printf 'Content-Transfer-Encoding: base64\r\n\r\n'
	head -c 6000000 /dev/urandom | base64 -w 76 | sed 's/$/\r/'
	printf -- '--LIMIT--\r\n'
} >"$SB/large.eml"

mwm_start lim SpamdHosts none MaxConcurrentScans 1 || { echo "Bail out! milter did not start"; exit 1; }
# the log comes from -f on stderr; -v adds the slot lines
mwm_stop
"$MWM_BIN" -f -v -c "$SB/lim.conf" </dev/null >"$MWM_LOG" 2>&1 &
MWM_PID=$!
sb_at_exit "mw_kill_pid $MWM_PID 10"
sb_eventually 30 grep -q "started on" "$MWM_LOG" || { echo "Bail out! milter -v did not start"; exit 1; }
check "at start: at most 1 concurrent scans" grep -qF "at most 1 concurrent scans" "$MWM_LOG"

waited=0
for round in 1 2 3 4; do
	pids=()
	for s in 1 2 3; do
		miltertest -D "sock=$MWM_CONN" -D "msg=$SB/large.eml" -D "client=192.0.2.$s" \
			-s "$MWM_LUA" >"$SB/r$round-$s.out" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	if grep -q "waiting for a scan slot" "$MWM_LOG"; then
		waited=$round
		break
	fi
	diag "round $round: no session had to wait; again"
done
check "a session found the slot taken (round $waited)" test "$waited" -gt 0
check "  ... it waited with 1 of 1 slots in use" grep -qF "waiting for a scan slot (1 of 1 in use)" "$MWM_LOG"
check "  ... and sent the MTA smfi_progress() notes while waiting" \
	grep -qE "got a scan slot after [1-9][0-9]* progress notes" "$MWM_LOG"
starts=$(grep -c "scan starts, [0-9]* running" "$MWM_LOG")
over=$(grep "scan starts, [0-9]* running" "$MWM_LOG" | grep -vc "scan starts, 1 running")
check "every scan ran alone ($starts scans, $over with another one running)" \
	test "$starts" -ge 3 -a "$over" = 0
bad=$(cat "$SB"/r*-*.out | grep -c -v -e '^reply continue$' -e '^hdr ')
check "every session got its answer: continue ($(cat "$SB"/r*-*.out | grep -c '^reply continue') sessions, $bad odd lines)" \
	test "$bad" = 0
check "one accept line per session" \
	test "$(grep -c ': accept: client=client.example\[192.0.2.[123]\]' "$MWM_LOG")" = "$(ls "$SB"/r*-*.out | wc -l)"
mw_kill_pid "$MWM_PID" 15
check "no sanitizer report in the milter log" \
	bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$MWM_LOG'"

done_testing
