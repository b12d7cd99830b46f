#!/bin/bash
# t-policy-userdb-proto.sh - recipient validation when the auth-userdb
# server misbehaves (tests/lib/fake_userdb.py stands in for Dovecot; the
# real one is in t-policy-userdb.sh): answers out of order, junk lines, a
# FAIL, an endless line, a closed connection, only garbage.  Each gets a
# defined answer, never a crash, never an accidental accept of an unknown
# user; the logins' entries (SenderOwnership userdb, on the same connection)
# defer with 451 4.7.1 on each of these, never relay.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
PY=${MW_PYTHON:-/usr/bin/python3}
PD_BIN=${PD_BIN:-${top_builddir:-$MW_TOP_SRCDIR}/policy/mailwarren-policyd}
sb_init policy-userdb-proto
plan 16

"$PY" "$MW_TESTLIB/fake_userdb.py" "$SB/userdb" & FAKE=$!
sb_at_exit "kill $FAKE 2>/dev/null; wait $FAKE 2>/dev/null"
sb_wait_file "$SB/userdb" 10 || { not_ok "fake userdb starts"; done_testing; exit 1; }
cat >"$SB/pd.conf" <<EOF2
PolicySocket local:$SB/pd.sock
User nobody
Group nogroup
HostedDomains hosted.example
RecipientUserdb local:$SB/userdb
RecipientUserdbTimeout 1000
RecipientNegativeCacheTime 0
Userdb local:$SB/userdb
UserdbTimeout 1000
SenderOwnership userdb
UserdbNegativeCacheTTL 0
EOF2
"$PD_BIN" -f -c "$SB/pd.conf" >>"$SB/pd.log" 2>&1 & PD_PID=$!
sb_at_exit "kill $PD_PID 2>/dev/null; wait $PD_PID 2>/dev/null"
sb_wait_file "$SB/pd.sock" 10 || { not_ok "policyd starts"; done_testing; exit 1; }
action() {
	"$PY" "$MW_TESTLIB/policy_client.py" --ask "unix:$SB/pd.sock" 198.51.100.7 "$1" | sed 's/ [0-9.]*$//'
}
UNKNOWN="action=550 5.1.1 User unknown"
DEFER="action=DEFER_IF_PERMIT 4.4.3 Recipient directory unavailable, try again later"

check "USER: accepted" test "$(action known1@hosted.example)" = "action=DUNNO"
check "NOTFOUND: refused" test "$(action unknown1@hosted.example)" = "$UNKNOWN"
check "FAIL: deferred" test "$(action fail1@hosted.example)" = "$DEFER"
check "junk lines before the answer are skipped" test "$(action junk1@hosted.example)" = "action=DUNNO"
action ooo-a@hosted.example >"$SB/ooo-a" &
sleep 0.2
b=$(action ooo-b@hosted.example)
wait $!
check "answers out of order go to the right requests ($(cat "$SB/ooo-a") / $b)" \
	test "$(cat "$SB/ooo-a")|$b" = "action=DUNNO|$UNKNOWN"
check "an endless reply line: deferred" test "$(action long1@hosted.example)" = "$DEFER"
check "a connection closed without an answer: deferred" test "$(action close1@hosted.example)" = "$DEFER"
known_again() { test "$(action known2@hosted.example)" = "action=DUNNO"; }
check "then a new connection answers again" sb_eventually 5 known_again

# the logins' entries: asked with service=smtp on the same connection
login() {
	"$PY" "$MW_TESTLIB/policy_client.py" --req "unix:$SB/pd.sock" client_address=198.51.100.7 \
		"sasl_username=$1" sender=a@b.example recipient=u@foreign.example | sed 's/ [0-9.]*$//'
}
LDOWN="action=451 4.7.1 Account directory unavailable, try again later"
check "login: FAIL: 451" test "$(login fail2)" = "$LDOWN"
check "  ... Dovecot's FAIL in the decision's log line" \
	grep -q "reason=account directory unavailable: Dovecot answered FAIL .*sasl_username=fail2 " "$SB/pd.log"
check "login: junk lines, then USER without fields: owns nothing, 553" \
	test "$(login junk2)" = "action=553 5.7.1 Sender address <a@b.example> not owned by user <junk2>"
check "login: only garbage and wrong ids: 451 after UserdbTimeout" test "$(login mute2)" = "$LDOWN"
sleep 1.1				# past the second without a new connection
check "login: an endless reply line: 451" test "$(login long2)" = "$LDOWN"
sleep 1.1
check "login: a connection closed without an answer: 451" test "$(login close2)" = "$LDOWN"
check "  ... each deferral logged once, with the login" \
	bash -c "for u in fail2 mute2 long2 close2; do [ \"\$(grep -c \"sasl_username=\$u \" '$SB/pd.log')\" = 1 ] && grep -q \"defer: .*reason=account directory unavailable.*sasl_username=\$u \" '$SB/pd.log' || exit 1; done"
check "the daemon is still running" \
	sb_pid_running "$PD_PID"
