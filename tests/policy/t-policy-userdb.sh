#!/bin/bash
# t-policy-userdb.sh - recipient validation against a real Dovecot's
# auth-userdb socket (RecipientUserdb): hosted recipients Dovecot knows get
# DUNNO, unknown ones 550 5.1.1, an unreachable or stalled Dovecot
# DEFER_IF_PERMIT within RecipientUserdbTimeout without stalling other
# requests; answers are cached (positive and negative) and the cache is
# dropped on reload; refused recipients are not counted against rate
# limits; names that could add protocol fields are escaped.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
sb_need_root
sb_need_cmd dovecot dovecot-core
sb_need_cmd postfix postfix
. "$MW_TESTLIB/dovecot.sh"
. "$MW_TESTLIB/postfix.sh"
PY=${MW_PYTHON:-/usr/bin/python3}
PD_BIN=${PD_BIN:-${top_builddir:-$MW_TOP_SRCDIR}/policy/mailwarren-policyd}
sb_init policy-userdb
plan 22

D=$MW_TOP_SRCDIR/tests/policy
dovecot_add_user alice pw
dovecot_add_user bob pw
dovecot_start || { not_ok "dovecot starts"; done_testing; exit 1; }
USERDB=$DC_DIR/run/auth-userdb

PD_CONF=$SB/policyd.conf
# policyd runs as the owner of the auth-userdb socket: the sandbox Dovecot
# makes it mode 0666, and Dovecot then answers a client of another uid only
# about users of that uid (auth-master-connection.c); a site gives the socket
# mode 0660 with the daemon's group, or 0600 with its user, instead.
cat >"$PD_CONF" <<EOF2
PolicySocket local:$SB/pd.sock
User dovecot
Group dovecot
HostedDomains $D/hosted.txt
CustomerNetworks $D/customers.cidr
RateLimitMap $D/ratelimits
RecipientUserdb local:$USERDB
RecipientUserdbTimeout 1500
RecipientDelimiter +
EOF2
PD_PID=
pd_start() {
	rm -f "$SB/pd.sock"
	"$PD_BIN" -f -c "$PD_CONF" >>"$SB/pd.log" 2>&1 &
	PD_PID=$!
	sb_at_exit "kill $PD_PID 2>/dev/null; wait $PD_PID 2>/dev/null"
	sb_wait_file "$SB/pd.sock" 10
}
# ask CLIENT RCPT - one request on a fresh connection; prints "action seconds"
ask() {
	"$PY" "$MW_TESTLIB/policy_client.py" --ask "unix:$SB/pd.sock" "$1" "$2"
}
action() { ask "$@" | sed 's/ [0-9.]*$//'; }
STRANGER=198.51.100.7
UNKNOWN="action=550 5.1.1 User unknown"
DEFER="action=DEFER_IF_PERMIT 4.4.3 Recipient directory unavailable, try again later"

out=$(printf 'RecipientUserdb inet:nope\n' >"$SB/bad.conf"; "$PD_BIN" -t -c "$SB/bad.conf" 2>&1)
check "-t refuses a bad RecipientUserdb ($out)" grep -q "RecipientUserdb:" <<<"$out"

pd_start || { not_ok "policyd starts"; done_testing; exit 1; }
ok "policyd validates recipients with $USERDB"

check "a user Dovecot knows: DUNNO" test "$(action $STRANGER alice@hosted.example)" = "action=DUNNO"
check "case and +extension: Dovecot's name for Alice+news@Hosted.Example." \
	test "$(action $STRANGER Alice+news@Hosted.Example.)" = "action=DUNNO"
check "a user Dovecot does not know: 550 5.1.1" \
	test "$(action $STRANGER nobody@hosted.example)" = "$UNKNOWN"
check "subdomain-hosted recipients are validated too" \
	test "$(action $STRANGER ghost@a.sub.example)" = "$UNKNOWN"
check "a name with a TAB cannot add fields (looked up escaped: unknown)" \
	test "$(action $STRANGER $'alice\tuid=0@hosted.example')" = "$UNKNOWN"
check "a name with a control byte: unknown, not a protocol error" \
	test "$(action $STRANGER $'alice\001t@hosted.example')" = "$UNKNOWN"
check "relay by a stranger is still refused first" \
	test "$(action $STRANGER u@foreign.example)" = "action=554 5.7.1 Relay access denied"
check "an unqualified recipient is not looked up (Postfix qualifies it)" \
	test "$(action $STRANGER nobody)" = "action=DUNNO"
check "a customer relaying outward is not looked up" \
	test "$(action 16.1.2.3 someone@foreign.example)" = "action=OK"

# through a real Postfix: the 550 as the SMTP client sees it (smtpd runs
# as postfix; the socket is root's 0660 without User/Group)
chmod 666 "$SB/pd.sock"
postfix_start \
	"relay_domains = hosted.example" \
	"smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
	"smtpd_relay_restrictions = check_policy_service { unix:$SB/pd.sock, timeout=10s, { default_action = DEFER_IF_REJECT 4.3.5 Policy service unavailable } }, reject_unauth_destination" \
	>/dev/null 2>&1
out=$("$PY" "$MW_TESTLIB/smtp_session.py" --port "$PF_SMTP_PORT" --addr $STRANGER \
	--from a@b.example --to nobody@hosted.example --to alice@hosted.example 2>&1)
check "Postfix: unknown user refused with 550 5.1.1" grep -qx \
	'RCPT nobody@hosted.example 550 5.1.1 <nobody@hosted.example>: Recipient address rejected: User unknown' <<<"$out"
check "Postfix: the known user in the same session is accepted" grep -q '^DATA 250' <<<"$out"

# cust7 may submit 3 recipients an hour: unknown ones are refused, not counted
r=$(for i in 1 2 3 4; do action 16.7.0.1 ghost$i@hosted.example; done | sort -u)
check "a customer's unknown recipients: 550 each ($r)" test "$r" = "$UNKNOWN"
r=$(for i in 1 2 3; do action 16.7.0.1 alice@hosted.example; done | sort -u)
check "  ... and not counted: 3 known recipients still accepted ($r)" test "$r" = "action=DUNNO"
check "  ... the 4th is over cust7's limit" \
	test "$(action 16.7.0.1 bob@hosted.example)" = "action=450 4.7.1 Rate limit exceeded, try again later"

# Dovecot stalled: answers within RecipientUserdbTimeout, others at once
AUTH_PIDS=$(pgrep -f "/auth( |$)" -P "$DC_PID" | tr "\n" " ")
[ -n "$AUTH_PIDS" ] || diag "no Dovecot auth process found"
kill -STOP $AUTH_PIDS
# one client asks about carol (Dovecot will not answer), then another
# asks something Dovecot is not needed for: the second is answered while
# the first still waits (an order, not a time), then the first is deferred
"$PY" "$MW_TESTLIB/policy_client.py" --stalled "unix:$SB/pd.sock" client_address=198.51.100.7 sender=x@y.example recipient=carol@hosted.example >"$SB/stalled.out" 2>&1
kill -CONT $AUTH_PIDS
check "stalled Dovecot: DEFER_IF_PERMIT after RecipientUserdbTimeout" \
	grep -qx "first: $DEFER" "$SB/stalled.out"
check "  ... meanwhile another request was answered ($(sed -n 's/^other: //p' "$SB/stalled.out"))" \
	grep -qx "first still waiting: True" "$SB/stalled.out"

# Dovecot stopped: cached answers still hold, the rest defers; then it comes back
dovecot_stop
check "Dovecot down: a cached known user is still accepted" \
	test "$(action $STRANGER alice@hosted.example)" = "action=DUNNO"
check "Dovecot down: a cached unknown user is still refused" \
	test "$(action $STRANGER nobody@hosted.example)" = "$UNKNOWN"
check "Dovecot down: an uncached user gets DEFER_IF_PERMIT" \
	test "$(action $STRANGER erin+x@hosted.example)" = "$DEFER"

# carol was looked up (deferred, never cached); dave is cached unknown;
# a reload drops the cache, so dave is asked again once he exists (Dovecot
# re-reads passwd-file at most once a second: wait until it knows him)
dovecot_add_user carol pw
dovecot_start >/dev/null 2>&1
carol_known() { test "$(action $STRANGER carol@hosted.example)" = "action=DUNNO"; }
sb_eventually 5 carol_known &&
	first=$(action $STRANGER dave@hosted.example) &&
	dovecot_add_user dave pw &&
	sb_eventually 5 "$DC_DOVEADM" -c "$DC_CONF" user dave >/dev/null 2>&1 &&
	before=$(action $STRANGER dave@hosted.example) &&
	kill -HUP "$PD_PID" && sb_eventually 5 grep -q "reloaded" "$SB/pd.log" &&
	after=$(action $STRANGER dave@hosted.example)
check "new user after reload: cached refusal ($first, $before), then accepted ($after)" \
	test "$first|$before|$after" = "$UNKNOWN|$UNKNOWN|action=DUNNO"
