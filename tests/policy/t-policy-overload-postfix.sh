#!/bin/bash
# t-policy-overload-postfix.sh - what a real Postfix does when
# mailwarren-policyd is at MaxConnections: a new connection's RCPT request
# is answered 451 4.3.5 (Postfix tempfails that recipient with the text;
# no "problem talking to server", no retry delay counted as a failure,
# nothing lost), END-OF-MESSAGE gets DUNNO, and once a connection is free
# the same mail is accepted.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
sb_need_root
sb_need_cmd postfix postfix
. "$MW_TESTLIB/postfix.sh"
. "$MW_TESTLIB/policyd.sh"

PY=${MW_PYTHON:-/usr/bin/python3}
sb_init policy-overload-postfix

PD_PORT=$(sb_port)
PD_SOCK=$SB/unused.sock
policyd_config "$MW_TOP_SRCDIR/tests/policy/golden.conf.in" "PolicySocket inet:$PD_PORT@127.0.0.1" \
	"MaxConnections 2"
sed -i '/^PolicySocket *local:/d' "$PD_CONF"
policyd_start || { echo "Bail out! policyd did not start"; exit 1; }
postfix_start \
	"relay_domains = hosted.example, extra.example" \
	"smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
	"smtpd_relay_restrictions = check_policy_service { inet:127.0.0.1:$PD_PORT, timeout=10s, { default_action = DEFER_IF_REJECT 4.3.5 Policy service unavailable } }, reject_unauth_destination" \
	|| { echo "Bail out! postfix did not start"; exit 1; }

session() {
	"$PY" "$MW_TESTLIB/smtp_session.py" --port "$PF_SMTP_PORT" "$@"
}
ask() {		# ask STATE - one request on a new connection; the action
	"$PY" "$MW_TESTLIB/policy_client.py" --ask "inet:$PD_PORT@127.0.0.1" 198.51.100.7 u@hosted.example "$1" |
		sed 's/ [0-9.]*$//'
}

# Two connections asked once and held: the daemon is at its cap.
"$PY" - "$PD_PORT" "$SB/held" <<'PY' &
import os, socket, sys, time
held = []
for _ in range(2):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=198.51.100.7\n"
              b"recipient=u@hosted.example\nsender=a@b\n\n")
    s.recv(4096)
    held.append(s)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[2] + ".release"):
    time.sleep(0.1)
PY
HELD=$!
sb_at_exit "touch $SB/held.release; wait $HELD"
sb_wait_file "$SB/held" 20

check "at MaxConnections: a RCPT request is deferred" \
	test "$(ask RCPT)" = "action=451 4.3.5 Policy service overloaded, try again later"
check "at MaxConnections: END-OF-MESSAGE gets DUNNO (only a count is missed)" \
	test "$(ask END-OF-MESSAGE)" = "action=DUNNO"
check "at MaxConnections: DATA gets DUNNO" test "$(ask DATA)" = "action=DUNNO"

out=$(session --addr 198.51.100.7 --from a@b.example --to u@hosted.example --subject over)
check "through Postfix: the recipient is tempfailed with the daemon's text" grep -qx \
	'RCPT u@hosted.example 451 4.3.5 <u@hosted.example>: Recipient address rejected: Policy service overloaded, try again later' <<<"$out"
check "  ... nothing accepted" test "$(grep -c '^DATA 250' <<<"$out")" = 0
check "Postfix counted no failure of the policy service" \
	test "$(grep -c 'problem talking to server\|Application error\|missing attribute action' "$(postfix_log)")" = 0
check "the daemon logged one warning with the count" \
	test "$(grep -c 'warning: MaxConnections (2) reached: [0-9]* connection(s) over it' "$PD_LOG")" = 1

touch "$SB/held.release"
wait "$HELD"
sb_eventually 10 test "$(ask RCPT)" = "action=DUNNO"
out=$(session --addr 198.51.100.7 --from a@b.example --to u@hosted.example --subject free)
check "a connection free again: the same mail is accepted" grep -q '^DATA 250' <<<"$out"
done_testing
