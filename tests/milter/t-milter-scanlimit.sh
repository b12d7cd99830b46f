#!/bin/bash
# t-milter-scanlimit.sh - MaxConcurrentScans holds (TAP).  With
# MaxConcurrentScans 1 and three sessions sending a large message at once,
# the milter (-v) logs, from a counter kept apart from the slots, how many
# scans are inside libclamav whenever one starts: never more than one.  A
# session that found the slot taken logs that it waited and how many
# smfi_progress() notes it sent the MTA (one at once, then one a second),
# and still gets its answer.  Nothing here asserts a duration: a round in
# which no session had to wait proves nothing and is run again (at most 4).
# Then the order in which waiting sessions get the slot: while one large
# message is being scanned, a second large one and then a small one wait;
# the small one must get the slot first (smallest size class first); and
# a 40 KB message that queued before a tiny one goes before it (the same
# size class: arrival order).  A round in which the first scan ended before
# the small message queued proves nothing and is run again; so does one in
# which the second message had waited 5 s (a slow or busy machine: the age
# rule gave it the slot, whatever the sizes), with a first message half as
# large.  Last, with two slots, large messages (512 KB or more) leave one
# slot to small ones.
# No spamd: SpamdHosts none.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/postfix.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_init t-milter-scanlimit
mwm_db

# mklarge FILE MB: a message with an MB-megabyte base64 attachment of
# random bytes: each scan decodes and scans it (new random bytes, so that
# libclamav's cache of clean files does not answer at once)
mklarge() {
	{
		printf 'From: a@origin.example\r\nTo: b@dest.example\r\nSubject: large\r\n'
		printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=LIMIT\r\n\r\n'
		printf -- '--LIMIT\r\nContent-Type: application/octet-stream\r\n'
		printf 'Content-Transfer-Encoding: base64\r\n\r\n'
		head -c "${2}000000" /dev/urandom | base64 -w 76 | sed 's/$/\r/'
		printf -- '--LIMIT--\r\n'
	} >"$1"
}
mklarge "$SB/large.eml" 6

# the log comes from -f on stderr; -v adds the slot lines
MWM_FLAGS=-v mwm_start lim SpamdHosts none MaxConcurrentScans 1 ||
	{ echo "Bail out! milter did not start"; exit 1; }
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
check "  ... it waited with 1 of 1 slots in use" grep -qF "waiting for a scan slot (1 of 1 in use, " "$MWM_LOG"
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

printf 'From: a@origin.example\r\nTo: b@dest.example\r\nSubject: small\r\n\r\nhello\r\n' >"$SB/small.eml"
# logline QID WHAT: the log's line number of QID's first WHAT line, or 0
logline() {
	grep -n "$1: $2" "$MWM_LOG" | head -n 1 | cut -d: -f1 | grep . || echo 0
}
# ordered A B: log line A exists and comes before log line B
ordered() { test "$1" -gt 0 -a "$2" -gt 0 -a "$1" -lt "$2"; }
# race PREFIX ROUND [BFILE]: a 30 MB message (qid ${PREFIX}A$ROUND, in $a),
# once its scan started a second one ($b: a new 6 MB one, or BFILE in $SB),
# once that one waits or scans a small one ($c); wait for all three.  The
# first scan must last while the others come.
race() {
	local pa pb pc bfile=${3:-}
	a=${1}A$2 b=${1}B$2 c=${1}C$2
	send() { miltertest -D "sock=$MWM_CONN" -D "msg=$SB/$2" -D "qid=$1" -s "$MWM_LUA" >"$SB/$1.out" 2>&1 & }
	mklarge "$SB/$a.eml" "${A_MB:-30}"
	if [ -z "$bfile" ]; then
		mklarge "$SB/$b.eml" 6
		bfile=$b.eml
	fi
	send "$a" "$a.eml"
	pa=$!
	sb_eventually 60 grep -q "$a: scan starts" "$MWM_LOG"
	send "$b" "$bfile"
	pb=$!
	sb_eventually 60 grep -q "$b: waiting for a scan slot\|$b: scan starts" "$MWM_LOG"
	send "$c" small.eml
	pc=$!
	wait "$pa" "$pb" "$pc"
}
# together PREFIX [BFILE]: races (at most 4) until the second message ($b)
# and the small one ($c) both waited, $c queued before $b got the slot;
# sets won to the round, or to nothing; bg and cg: the log lines where
# $b and $c got the slot.  A round in which $b got the slot after 6
# progress notes or more (one at once, then one a second: it had waited
# SLOT_AGE_MS, 5 s, and went first by age) is run again with a first
# message ($a, A_MB megabytes) half as large.
together() {
	local round bw cw bn A_MB=30
	won=
	for round in 1 2 3 4; do
		race "$1" "$round" "${2:-}"
		bw=$(logline "$b" "waiting for a scan slot") bg=$(logline "$b" "got a scan slot")
		cw=$(logline "$c" "waiting for a scan slot") cg=$(logline "$c" "got a scan slot")
		bn=$(grep "$b: got a scan slot after " "$MWM_LOG" | head -n 1 |
			sed -n 's/.* after \([0-9]*\) progress notes.*/\1/p')
		if ordered "$bw" "$cw" && ordered "$cw" "$bg" && [ "${bn:-0}" -le 5 ]; then
			won=$round
			return
		elif ordered "$bw" "$cw" && ordered "$cw" "$bg"; then
			A_MB=$((A_MB / 2))
			diag "round $round: the second message waited 5 s ($bn progress notes) and went first by age; again, the first one $A_MB MB"
		else
			diag "round $round: the small message did not queue behind the second one; again"
		fi
	done
}
together SJF
sjf=$won
check "a small and a large message waited for the slot together (round $sjf)" test -n "$sjf"
check "  ... the small one, queued last, got the slot first (smallest first)" ordered "$cg" "$bg"
check "  ... and all three were accepted" \
	test "$(cat "$SB/$a.out" "$SB/$b.out" "$SB/$c.out" | grep -c '^reply continue$')" = 3

# Messages of much the same size (both below 64 KB: one size class) get
# the slot in the order they came: a 40 KB message queued before a tiny
# one goes first (strictly smallest-first would pick the tiny one).
{
	printf 'From: a@origin.example\r\nTo: b@dest.example\r\nSubject: medium\r\n\r\n'
	for ((i = 0; i < 500; i++)); do printf 'line %04d of a forty kilobyte message, plain text, nothing else here at all\r\n' "$i"; done
} >"$SB/medium.eml"
together FIFO medium.eml
fifo=$won
check "a 40 KB and a tiny message waited for the slot together (round $fifo)" test -n "$fifo"
check "  ... the 40 KB one, queued first, got the slot first (one size class: arrival order)" \
	ordered "$bg" "$cg"
check "  ... and all three were accepted" \
	test "$(cat "$SB/$a.out" "$SB/$b.out" "$SB/$c.out" | grep -c '^reply continue$')" = 3

mw_kill_pid "$MWM_PID" 15
check "no sanitizer report in the milter log" \
	bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$MWM_LOG'"

# With two slots, large messages (512 KB or more) hold at most one: a
# second large one waits although a slot is free, and a small one that
# comes after it is scanned at once, while the first is still scanned.
MWM_FLAGS=-v mwm_start two SpamdHosts none MaxConcurrentScans 2 ||
	{ echo "Bail out! milter did not start"; exit 1; }
res=
for round in 1 2 3 4; do
	race TWO "$round"
	ad=$(logline "$a" "accept") bw=$(logline "$b" "waiting for a scan slot")
	cs=$(logline "$c" "scan starts")
	# conclusive: the second large one came while the first was scanned
	# (it waited or it started before the first ended)
	if ordered "$bw" "$ad" || ordered "$(logline "$b" "scan starts")" "$ad"; then
		res=$round
		break
	fi
	diag "round $round: the first large message was done before the second came; again"
done
check "two large messages were there at once (round $res)" test -n "$res"
check "  ... the second waited with a slot free (1 of 2 in use, 1 by large messages)" \
	grep -qF "$b: waiting for a scan slot (1 of 2 in use, 1 by large messages," "$MWM_LOG"
check "  ... the small one did not wait" bash -c "! grep -q '$c: waiting' '$MWM_LOG'"
check "  ... and was scanned while the first large one still was" ordered "$cs" "$ad"
check "  ... and all three were accepted" \
	test "$(cat "$SB/$a.out" "$SB/$b.out" "$SB/$c.out" | grep -c '^reply continue$')" = 3
mw_kill_pid "$MWM_PID" 15
check "no sanitizer report in the second milter's log" \
	bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$MWM_LOG'"

done_testing
