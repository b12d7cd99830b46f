#!/bin/bash
# t-milter-reload-block.sh - ReloadMode blocking under steady parallel scans
# (TAP), what mailwarren-milter.conf(5) promises: the reload waits for the
# scans in progress, no new scan starts while it waits or loads, however
# steady the traffic, and the reload is done while traffic goes on.
# Four miltertest clients send zipped 40 MB without pause (8 scan slots,
# so scans overlap all the time and no session waits for a slot); a large
# extra signature file makes the load take a while.  Then SIGHUP.  With -v
# the milter logs each scan start and end, each session that found the
# reload lock taken ("scan waits for a blocking reload"), and the reload's
# own steps: "reloading ClamAV database" (it now waits for the lock),
# "blocking reload: scans paused" (it holds it), "... loaded", "blocking
# reload: scans resume" (it lets go).  Proven from the order of the log
# lines, never from durations:
#   - the reload completes (no starvation: with a lock that prefers the
#     scans, a steady stream keeps it waiting for ever; the only bound here
#     is a generous liveness timeout);
#   - no scan starts between "paused" and "resume";
#   - a session that had to wait for the reload (it arrived while the
#     reload waited for the scans in progress, or loaded) starts its scan
#     after "resume";
#   - traffic goes on after the reload, and every message is answered.
# A round in which no scan was in progress when the reload began, or no
# session had to wait, proves nothing and is run again (at most 3 rounds).
# No spamd: SpamdHosts none.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_init t-milter-reload-block
mwm_db

# 150,000 hash signatures that match nothing: the load takes a while
"${MW_PYTHON:-/usr/bin/python3}" -c '
import hashlib, sys
with open(sys.argv[1], "w") as f:
    for i in range(150000):
        f.write("%s:%d:Mailwarren.Test.Filler%d\n" % (hashlib.md5(b"filler%d" % i).hexdigest(), 1000 + i, i))
' "$MWM_DB/filler.hdb" || { echo "Bail out! cannot write filler.hdb"; exit 1; }

# a small message that is slow to scan: a zip of 40 MB (a random 4 KB block
# repeated) that libclamav inflates and scans each time (DisableCache: no
# answer from its cache of clean files), so that scans overlap all the time
"${MW_PYTHON:-/usr/bin/python3}" -c '
import base64, io, os, sys, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("data.bin", os.urandom(4096) * 10000)
with open(sys.argv[1], "wb") as f:
    f.write(b"From: a@origin.example\r\nTo: b@dest.example\r\nSubject: steady\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=STEADY\r\n\r\n"
            b"--STEADY\r\nContent-Type: application/zip\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n")
    f.write(base64.encodebytes(buf.getvalue()).replace(b"\n", b"\r\n"))
    f.write(b"--STEADY--\r\n")
' "$SB/steady.eml" || { echo "Bail out! cannot write steady.eml"; exit 1; }

MWM_FLAGS=-v mwm_start blk SpamdHosts none ReloadMode blocking DatabaseCheckInterval 0 \
	MaxConcurrentScans 8 DisableCache yes || { echo "Bail out! milter did not start"; exit 1; }
check "at start: ReloadMode blocking" grep -q "ReloadMode blocking" "$MWM_LOG"

# the traffic: 4 clients, one message after the other, each with its own
# queue id (S<client>N<n>); each reply line goes to stream.<client>
rm -f "$SB/stream.stop"
spids=()
for c in 1 2 3 4; do
	(i=0
	 while [ ! -e "$SB/stream.stop" ]; do
		i=$((i + 1))
		miltertest -D "sock=$MWM_CONN" -D "msg=$SB/steady.eml" -D "qid=S${c}N$i" \
			-D "client=192.0.2.$c" -s "$MWM_LUA" 2>&1 | grep '^reply ' || echo "reply none"
	 done >"$SB/stream.$c") &
	spids+=($!)
done
stop_stream() {
	touch "$SB/stream.stop"
	wait "${spids[@]}"
}
sb_at_exit stop_stream

starts() { grep -c ': scan starts, ' "$MWM_LOG"; }
# wait until N more scans started than $1
more_starts() { [ "$(starts)" -ge $(($1 + $2)) ]; }

# round_log FROM: the log from line FROM on, with line numbers, then the
# facts of that round, one per line, "name value" (0: absent)
round_facts() {
	tail -n +"$1" "$MWM_LOG" | awk '
	function lnum(name) { return (name in at) ? at[name] : 0 }
	/signal SIGHUP: reloading/ && !("hup" in at) { at["hup"] = NR }
	/reloading ClamAV database/ && ("hup" in at) && !("begin" in at) { at["begin"] = NR }
	/blocking reload: scans paused/ && ("begin" in at) && !("paused" in at) { at["paused"] = NR }
	/ClamAV database .* loaded: / && ("paused" in at) && !("loaded" in at) { at["loaded"] = NR }
	/blocking reload: scans resume/ && ("paused" in at) && !("resume" in at) { at["resume"] = NR }
	/: scan starts, / {
		q = $0; sub(/: scan starts,.*/, "", q); sub(/.*: /, "", q)
		start[q] = NR
		if (("paused" in at) && !("resume" in at)) inside++
		if ("resume" in at) after++
	}
	/: scan done, / && ("begin" in at) && !("paused" in at) { drained++ }
	/: scan waits for a blocking reload/ && ("begin" in at) && !("resume" in at) {
		q = $0; sub(/: scan waits.*/, "", q); sub(/.*: /, "", q)
		waiter[q] = NR
	}
	END {
		print "order", (lnum("begin") > 0 && lnum("begin") < lnum("paused") &&
			lnum("paused") < lnum("loaded") && lnum("loaded") < lnum("resume")) ? 1 : 0
		print "inside", inside + 0
		print "after", after + 0
		print "drained", drained + 0
		nw = 0; late = 0
		for (q in waiter) { nw++; if ((q in start) && start[q] > lnum("resume")) late++ }
		print "waiters", nw
		print "waiters_late", late
	}'
}
fact() { awk -v k="$1" '$1 == k { print $2 }' "$SB/round.facts"; }

proved=0
for round in 1 2 3; do
	base=$(starts)
	sb_eventually 60 more_starts "$base" 6 || { diag "round $round: the stream does not flow"; break; }
	from=$(($(wc -l <"$MWM_LOG") + 1))
	kill -HUP "$MWM_PID"
	if ! sb_eventually 90 bash -c "tail -n +$from '$MWM_LOG' | grep -q 'blocking reload: scans resume'"; then
		not_ok "round $round: the blocking reload completes under steady scans (no resume within 90 s)"
		diag "$(tail -n +"$from" "$MWM_LOG" | grep -v ': scan ' | tail -n 5)"
		break
	fi
	# traffic after the reload: at least 4 more scans
	base=$(starts)
	sb_eventually 60 more_starts "$base" 4
	round_facts "$from" >"$SB/round.facts"
	diag "round $round: $(tr '\n' ' ' <"$SB/round.facts")"
	if [ "$(fact drained)" -gt 0 ] && [ "$(fact waiters)" -gt 0 ]; then
		proved=1
		break
	fi
done

if [ "$proved" = 1 ]; then
	ok "the blocking reload completes while 4 clients keep scanning (round $round)"
	check "log order: reloading, scans paused, database loaded, scans resume" test "$(fact order)" = 1
	check "the reload waited for the scans in progress ($(fact drained) ended after it began)" \
		test "$(fact drained)" -gt 0
	check "no scan started between \"scans paused\" and \"scans resume\"" test "$(fact inside)" = 0
	check "every session that arrived during the reload ($(fact waiters)) started its scan after \"scans resume\"" \
		test "$(fact waiters_late)" = "$(fact waiters)"
	check "traffic goes on after the reload ($(fact after) scans started)" test "$(fact after)" -ge 4
else
	not_ok "a round in which the reload met scans in progress and waiting sessions"
fi
stop_stream
n=$(cat "$SB"/stream.? | wc -l)
check "every stream message was answered and accepted ($n)" \
	test "$n" -gt 0 -a "$(cat "$SB"/stream.? | grep -vcx 'reply continue')" = 0
check "the milter is still running" mw_pid_alive "$MWM_PID"

done_testing
