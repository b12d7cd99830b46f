#!/bin/bash
# t-sandbox-spamd.sh - the private spamd of tests/lib/spamd.sh works, offline:
# GTUBE is spam and a plain ham message is ham, both through our SPAMC/1.5
# client (tests/lib/spamc.py) and through Debian's spamc; a clean stop.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/spamd spamd
sb_need_cmd spamc spamc
sb_need_cmd python3 python3
. "$MW_TESTLIB/spamd.sh"

DATA=$MW_TOP_SRCDIR/tests/data
GTUBE=$DATA/gtube.eml
HAM=$DATA/ham-1.eml

sb_init spamd
plan 17

SPAMC=("$MW_PYTHON" "$SPAMC_PY")

# before spamd runs, our client must report an error, not a verdict
SPAMD_PORT=$(sb_port)
out=$("${SPAMC[@]}" --port "$SPAMD_PORT" --timeout 5 CHECK <"$HAM" 2>/dev/null)
rc=$?
check "spamc.py fails (exit 2, no verdict) with no spamd listening" test "$rc" = 2 -a -z "$out"

t0=$SECONDS
if ! spamd_start; then
	not_ok "spamd_start"
	echo "Bail out! private spamd did not start"
	exit 1
fi
ok "spamd_start (port $SPAMD_PORT, ready in $((SECONDS - t0)) s)"

out=$("${SPAMC[@]}" --port "$SPAMD_PORT" PING)
rc=$?
check "spamc.py PING answers PONG" test "$rc" = 0 -a "$out" = PONG

# score of a "Spam: True ; 1000.0 / 5.0" line, or nothing
score_of() {
	sed -n 's|^Spam: [A-Za-z]* ; \(-\{0,1\}[0-9.]*\) / [0-9.]*$|\1|p' <<<"$1" | head -n1
}
# is_above SCORE LIMIT: SCORE > LIMIT (decimal compare in awk)
is_above() {
	[ -n "$1" ] && awk -v s="$1" -v l="$2" 'BEGIN { exit !(s + 0 > l + 0) }'
}

# --- GTUBE ------------------------------------------------------------------
out=$("${SPAMC[@]}" --port "$SPAMD_PORT" CHECK <"$GTUBE")
rc=$?
check "spamc.py CHECK GTUBE: exit 1 (spam)" test "$rc" = 1
if grep -qE '^Spam: True ; [0-9.]+ / 5\.0$' <<<"$out" && is_above "$(score_of "$out")" 100; then
	ok "spamc.py CHECK GTUBE: Spam: True, score > 100"
else
	not_ok "spamc.py CHECK GTUBE: Spam: True, score > 100"
	diag "$out"
fi
out=$("${SPAMC[@]}" --port "$SPAMD_PORT" SYMBOLS <"$GTUBE")
check "spamc.py SYMBOLS GTUBE lists the GTUBE rule" grep -qE '(^|,)GTUBE(,|$)' <<<"$(sed -n 2p <<<"$out")"
out=$("${SPAMC[@]}" --port "$SPAMD_PORT" REPORT <"$GTUBE")
check "spamc.py REPORT GTUBE has the analysis table" grep -qE '^ *1000 +GTUBE ' <<<"$out"

# --- ham --------------------------------------------------------------------
out=$("${SPAMC[@]}" --port "$SPAMD_PORT" CHECK <"$HAM")
rc=$?
check "spamc.py CHECK ham: exit 0 (ham)" test "$rc" = 0
sc=$(score_of "$out")
if grep -qE '^Spam: False ; -?[0-9.]+ / 5\.0$' <<<"$out" && ! is_above "$sc" 2.0; then
	ok "spamc.py CHECK ham: Spam: False, score <= 2.0 ($sc)"
else
	not_ok "spamc.py CHECK ham: Spam: False, score <= 2.0"
	diag "$out"
fi
out=$("${SPAMC[@]}" --port "$SPAMD_PORT" SYMBOLS <"$HAM")
check "spamc.py SYMBOLS ham does not list GTUBE" \
	test "$(sed -n 1p <<<"$out" | cut -c1-11)" = "Spam: False" -a -z "$(grep -w GTUBE <<<"$out")"

# --- Debian's spamc ---------------------------------------------------------
# -c: print score/threshold, exit 1 for spam, 0 for ham; -x: no "safe
# fallback" (without it an unreachable spamd gives "0/0" and exit 0)
out=$(spamc -x -d 127.0.0.1 -p "$SPAMD_PORT" -c <"$GTUBE")
rc=$?
if [ "$rc" = 1 ] && [[ $out =~ ^([0-9.]+)/5\.0$ ]] && is_above "${BASH_REMATCH[1]}" 100; then
	ok "spamc -c GTUBE: exit 1, score > 100 ($out)"
else
	not_ok "spamc -c GTUBE: exit 1, score > 100"
	diag "rc=$rc out=$out"
fi
out=$(spamc -x -d 127.0.0.1 -p "$SPAMD_PORT" -c <"$HAM")
rc=$?
if [ "$rc" = 0 ] && [[ $out =~ ^(-?[0-9.]+)/5\.0$ ]] && ! is_above "${BASH_REMATCH[1]}" 2.0; then
	ok "spamc -c ham: exit 0, score <= 2.0 ($out)"
else
	not_ok "spamc -c ham: exit 0, score <= 2.0"
	diag "rc=$rc out=$out"
fi

# --- the instance is the one we configured ----------------------------------
check "children run as debian-spamd" \
	test "$(ps -o user= --ppid "$SPAMD_PID" | sort -u | tr -d ' ')" = debian-spamd
check "spamd logged the GTUBE result into the sandbox log" \
	grep -q 'result: Y .*GTUBE' "$SPAMD_LOG"

# --- stop -------------------------------------------------------------------
master=$SPAMD_PID
kids=$(ps -o pid= --ppid "$master" | tr -d ' ')
spamd_stop
left=
for p in $master $kids; do
	[ -e "/proc/$p" ] && left+=" $p"
done
check "spamd_stop leaves no spamd process of this instance" test -z "$left"
out=$("${SPAMC[@]}" --port "$SPAMD_PORT" --timeout 5 PING 2>/dev/null)
rc=$?
check "PING fails after spamd_stop" test "$rc" = 2 -a -z "$out"
out=$(spamc -x -d 127.0.0.1 -p "$SPAMD_PORT" -c <"$HAM" 2>/dev/null)
rc=$?
check "spamc -x reports an error after spamd_stop" test "$rc" -gt 1

done_testing
