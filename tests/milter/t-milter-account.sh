#!/bin/bash
# t-milter-account.sh - RelayPolicy (Sendmail's relay path) with sender
# ownership and suspension from a real Dovecot's userdb (SenderOwnership
# userdb, Suspension userdb, Userdb), driven by miltertest with Sendmail's
# macros ({auth_authen}, {client_addr}), TAP: the same fields and verdicts as
# mailwarren-policyd (t-policy-account.sh), through the milter's blocking
# client in libmilter's worker threads:
#   - a login sends as its own addresses and @domains, not as others (553);
#     a suspended login, or one Dovecot does not know, gets 550;
#   - suspending a login by editing the passwd-file takes effect within
#     UserdbCacheTTL, no reload;
#   - hostile field values, a stopped (SIGSTOP) Dovecot and a gone one
#     tempfail the recipient with 451 4.7.1 and one log line naming the
#     login and the field or the failure; nothing is accepted;
#   - a misbehaving auth-userdb server (tests/lib/fake_userdb.py): a FAIL,
#     only garbage, an endless line, a closed connection tempfail too; junk
#     before the answer is skipped.
# No spamd: SpamdHosts none.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_need_cmd dovecot dovecot-core
. "$MW_TESTLIB/dovecot.sh"
sb_init t-milter-account
mwm_db
plan 23

S=userdb_mailwarren_senders
dovecot_add_user alice pw "$S=alice@isp.example,@cust.example" userdb_mailwarren_suspended=no
dovecot_add_user bob pw "$S=bob@isp.example" userdb_mailwarren_suspended=yes
dovecot_add_user eve pw "$S=eve@isp.example"$'\001'"0x@evil.example"
dovecot_add_user mal pw "$S=mal@isp.example" userdb_mailwarren_suspended=maybe
dovecot_start || { not_ok "dovecot starts"; done_testing; exit 1; }
USERDB=$DC_DIR/run/auth-userdb

# as the auth-userdb socket's owner (see t-policy-userdb.sh); it reads the
# test DB and spools in the world-readable sandbox
chmod 755 "$SB" "$MWM_DB"
mwm_start acct SpamdHosts none RelayPolicy yes HostedDomains hosted.example \
	SenderOwnership userdb Suspension userdb Userdb "local:$USERDB" UserdbTimeout 1500 \
	UserdbCacheTTL 2s UserdbNegativeCacheTTL 0 User dovecot Group dovecot ||
	{ echo "Bail out! milter did not start"; exit 1; }

n=0
# send TAG LOGIN FROM [RCPT]: one message; prints accepted, or the reply and
# whatsup of the milter's new log line for the refused recipient
send() {
	local tag=$1 login=$2 from=$3 rcpt=${4:-x@dest.example} line
	n=$((n + 1))
	mwm_send "msg=$MWM_S/ham.eml" client=203.0.113.5 "auth=$login" "from=$from" "rcpt=$rcpt" \
		"qid=Q$n$tag" || { echo error; return; }
	if printf "%s\n" "$MWM_OUT" | grep -qx "reply continue"; then
		echo accepted
		return
	fi
	line=$(grep -F "Q$n$tag: " "$MWM_LOG" | tail -n 1)
	sed -n 's/^[^:]*: [^:]*: \([a-z]*\): RCPT from [^:]*: \([0-9]\{3\} [0-9.]*\) .*/\1 \2/p' <<<"$line"
}
logged() { grep -F "$1" "$MWM_LOG" | grep -qF "$2"; }

check "alice as her own address: accepted" test "$(send own alice alice@isp.example)" = accepted
check "  ... as anyone@ of her @domain: accepted" test "$(send dom Alice sales@cust.example)" = accepted
check "  ... as bob's address: 553" test "$(send notown alice bob@isp.example)" = "reject 553 5.7.1"
check "bob is suspended in the directory: 550" test "$(send bob bob bob@isp.example)" = "reject 550 5.7.1"
check "  ... to a hosted recipient too" \
	test "$(send bobh bob bob@isp.example u@hosted.example)" = "reject 550 5.7.1"
check "a login Dovecot does not know: 550" test "$(send zed zed zed@isp.example)" = "reject 550 5.7.1"
check "a stranger -> hosted: accepted (not looked up)" test "$(send str '' a@b.example u@hosted.example)" = accepted

check "an escaped NUL in mailwarren_senders: 451" test "$(send eve eve eve@isp.example)" = "defer 451 4.7.1"
check "  ... logged with the login and the field" \
	logged "sasl_username=eve" "Account data invalid, try again later; reason=invalid mailwarren_senders: a tab-escaped control character"
check "mailwarren_suspended=maybe: 451" test "$(send mal mal mal@isp.example)" = "defer 451 4.7.1"
check "  ... logged with the field" logged "sasl_username=mal" "reason=invalid mailwarren_suspended: neither yes nor no"

sed -i 's/userdb_mailwarren_suspended=no/userdb_mailwarren_suspended=yes/' "$DC_USERS"
alice_suspended() { test "$(send susp alice alice@isp.example)" = "reject 550 5.7.1"; }
check "alice suspended in the passwd-file: 550 within the TTL" sb_eventually 10 alice_suspended
check "  ... without a reload" bash -c "! grep -q 'reload' '$MWM_LOG'"

AUTH_PIDS=$(pgrep -f "/auth( |$)" -P "$DC_PID" | tr "\n" " ")
[ -n "$AUTH_PIDS" ] || diag "no Dovecot auth process found"
sleep 2.2				# the cache of alice's entry expires
kill -STOP $AUTH_PIDS
r=$(send stall alice alice@isp.example)
kill -CONT $AUTH_PIDS
check "stalled Dovecot: 451 ($r)" test "$r" = "defer 451 4.7.1"
check "  ... logged: no answer within the timeout" \
	logged "sasl_username=alice" "reason=account directory unavailable: no answer within the timeout"
dovecot_stop
sleep 2.2
check "Dovecot stopped: 451" test "$(send gone alice alice@isp.example)" = "defer 451 4.7.1"
check "no sanitizer report in the milter log" \
	bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$MWM_LOG'"
mwm_stop

"${MW_PYTHON:-/usr/bin/python3}" "$MW_TESTLIB/fake_userdb.py" "$SB/fake-userdb" & FAKE=$!
sb_at_exit "kill $FAKE 2>/dev/null; wait $FAKE 2>/dev/null"
sb_wait_file "$SB/fake-userdb" 10 || diag "fake userdb did not start"
mwm_start fake SpamdHosts none RelayPolicy yes HostedDomains hosted.example \
	SenderOwnership userdb Userdb "local:$SB/fake-userdb" UserdbTimeout 1000 ||
	{ echo "Bail out! milter did not start"; exit 1; }
check "fake: FAIL: 451" test "$(send ffail fail1 a@b.example)" = "defer 451 4.7.1"
check "fake: junk lines, then USER without fields: owns nothing, 553" \
	test "$(send fjunk junk1 a@b.example)" = "reject 553 5.7.1"
check "fake: only garbage and wrong ids: 451 after UserdbTimeout" \
	test "$(send fmute mute1 a@b.example)" = "defer 451 4.7.1"
check "fake: an endless reply line: 451" test "$(send flong long1 a@b.example)" = "defer 451 4.7.1"
check "fake: a connection closed without an answer: 451" test "$(send fclose close1 a@b.example)" = "defer 451 4.7.1"
check "  ... each logged once with its reason" \
	bash -c "grep -c 'sasl_username=\(fail1\|mute1\|long1\|close1\) ' '$MWM_LOG' | grep -qx 4 &&
		grep -q 'unavailable: Dovecot answered FAIL customer=- sasl_username=fail1 ' '$MWM_LOG' &&
		grep -q 'unavailable: no answer within the timeout customer=- sasl_username=mute1 ' '$MWM_LOG' &&
		grep -q 'unavailable: reply line too long customer=- sasl_username=long1 ' '$MWM_LOG' &&
		grep -q 'unavailable: connection closed customer=- sasl_username=close1 ' '$MWM_LOG'"

done_testing
