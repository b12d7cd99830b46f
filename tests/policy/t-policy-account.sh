#!/bin/bash
# t-policy-account.sh - sender ownership and suspension from a real Dovecot's
# userdb (SenderOwnership userdb, Suspension userdb): each SASL login's
# mailwarren_senders, mailwarren_suspended and mailwarren_customer fields,
# asked on the auth-userdb socket (passwd-file here; LDAP and SQL behind
# Dovecot give the same fields).  A login is allowed its own addresses and
# @domains and refused others (553), a suspended login is refused (550), and
# suspending a login by editing the passwd-file takes effect within
# UserdbCacheTTL with no reload; a login Dovecot does not know is refused as
# suspended; the directory's mailwarren_customer counts against that
# customer's rate limits.  Hostile field values (an escaped control byte, an ESC, a
# mailwarren_suspended that is neither yes nor no, an overlong list) and a
# Dovecot that is stopped (SIGSTOP) or gone defer with 451 4.7.x and one log
# line naming the login and the field or the failure; never a relay.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
sb_need_root
sb_need_cmd dovecot dovecot-core
. "$MW_TESTLIB/dovecot.sh"
PY=${MW_PYTHON:-/usr/bin/python3}
PD_BIN=${PD_BIN:-${top_builddir:-$MW_TOP_SRCDIR}/policy/mailwarren-policyd}
sb_init policy-account
plan 31

S=userdb_mailwarren_senders
long=
for i in $(seq 1 300); do long="$long@d$i.example,"; done
dovecot_add_user alice pw "$S=alice@isp.example,@cust.example" userdb_mailwarren_suspended=no \
	userdb_mailwarren_customer=cust7
dovecot_add_user bob pw "$S=bob@isp.example" userdb_mailwarren_suspended=yes
dovecot_add_user carol pw
dovecot_add_user dan pw "$S=dan@isp.example" userdb_mailwarren_customer=cust8
dovecot_add_user eve pw "$S=eve@isp.example"$'\001'"n,x@evil.example"
dovecot_add_user esc pw "$S=esc@isp.example"$'\033'"[2J"
dovecot_add_user mal pw "$S=mal@isp.example" userdb_mailwarren_suspended=maybe
dovecot_add_user lng pw "$S=$long"
dovecot_start || { not_ok "dovecot starts"; done_testing; exit 1; }
USERDB=$DC_DIR/run/auth-userdb

PD_CONF=$SB/policyd.conf
# as the auth-userdb socket's owner (see t-policy-userdb.sh)
cat >"$PD_CONF" <<EOF2
PolicySocket local:$SB/pd.sock
User dovecot
Group dovecot
HostedDomains hosted.example
SenderOwnership userdb
Suspension userdb
SuspendedList cust9
Userdb local:$USERDB
UserdbTimeout 1500
UserdbCacheTTL 2s
UserdbNegativeCacheTTL 0
RateLimitMap $SB/ratelimits
EOF2
printf 'cust8 recipients=2/1h\n' >"$SB/ratelimits"
"$PD_BIN" -f -c "$PD_CONF" >>"$SB/pd.log" 2>&1 &
PD_PID=$!
sb_at_exit "kill $PD_PID 2>/dev/null; wait $PD_PID 2>/dev/null"
sb_wait_file "$SB/pd.sock" 10 || { not_ok "policyd starts"; done_testing; exit 1; }
ok "policyd asks $USERDB for the logins' entries"

# ask LOGIN SENDER [RCPT] - the action for one RCPT request
ask() {
	"$PY" "$MW_TESTLIB/policy_client.py" --req "unix:$SB/pd.sock" client_address=198.51.100.7 \
		"sasl_username=$1" "sender=$2" "recipient=${3:-u@foreign.example}" | sed 's/ [0-9.]*$//'
}
# logged WORDS - a decision line with all of these
logged() { grep -F "$1" "$SB/pd.log" | grep -qF "$2"; }
NOTOWNED="action=553 5.7.1 Sender address"
SUSP="action=550 5.7.1 Account suspended, contact support"
INVALID="action=451 4.7.1 Account data invalid, try again later"
DOWN="action=451 4.7.1 Account directory unavailable, try again later"

check "alice as her own address: OK" test "$(ask alice alice@isp.example)" = "action=OK"
check "  ... as Alice+tag@ISP.example: OK" test "$(ask Alice Alice+tag@ISP.example)" = "action=OK"
check "  ... as anyone@ of her @domain: OK" test "$(ask alice sales@cust.example)" = "action=OK"
check "  ... as bob's address: 553" \
	test "$(ask alice bob@isp.example)" = "$NOTOWNED <bob@isp.example> not owned by user <alice>"
check "  ... with the null sender: OK" test "$(ask alice '')" = "action=OK"
check "  ... logged with the directory's customer (cust7)" \
	logged "customer=cust7 sasl_username=alice from=<alice@isp.example>" "permit"
r=$(for i in 1 2; do ask dan dan@isp.example; done | sort -u)
check "dan's directory customer (cust8) may send 2 recipients an hour ($r)" test "$r" = "action=OK"
check "  ... the 3rd is over cust8's limit" \
	test "$(ask dan dan@isp.example)" = "action=450 4.7.1 Rate limit exceeded, try again later"
check "bob is suspended in the directory: 550" test "$(ask bob bob@isp.example)" = "$SUSP"
check "  ... to a hosted recipient too" test "$(ask bob bob@isp.example u@hosted.example)" = "$SUSP"
check "carol has no senders: 553" test "$(ask carol carol@isp.example)" = \
	"$NOTOWNED <carol@isp.example> not owned by user <carol>"
check "a login Dovecot does not know: 550" test "$(ask zed zed@isp.example)" = "$SUSP"
check "  ... reason=login not in the directory" logged "sasl_username=zed" "reason=login not in the directory"
check "a stranger is not looked up: 554 as before" \
	test "$(ask '' x@y.example)" = "action=554 5.7.1 Relay access denied"

# hostile values: 451, one line naming the login and the field, never OK
check "an escaped control byte in mailwarren_senders: 451" test "$(ask eve eve@isp.example)" = "$INVALID"
check "  ... logged: sasl_username=eve, invalid mailwarren_senders" \
	logged "sasl_username=eve" "reason=invalid mailwarren_senders: a tab-escaped control character"
check "an ESC in mailwarren_senders: 451" test "$(ask esc esc@isp.example)" = "$INVALID"
check "mailwarren_suspended=maybe: 451, logged with the field" \
	bash -c "[ \"\$1\" = '$INVALID' ] && grep 'sasl_username=mal' '$SB/pd.log' | grep -q 'reason=invalid mailwarren_suspended: neither yes nor no'" _ "$(ask mal mal@isp.example)"
check "300 entries in mailwarren_senders: 451" \
	bash -c "[ \"\$1\" = '$INVALID' ] && grep 'sasl_username=lng' '$SB/pd.log' | grep -q 'more than 256 entries'" _ "$(ask lng @d1.example)"

# suspend alice in the directory: no reload, within UserdbCacheTTL
sed -i 's/userdb_mailwarren_suspended=no/userdb_mailwarren_suspended=yes/' "$DC_USERS"
alice_suspended() { test "$(ask alice alice@isp.example)" = "$SUSP"; }
check "alice suspended in the passwd-file: 550 within the TTL" sb_eventually 10 alice_suspended
check "  ... without a reload" bash -c "! grep -q reloaded '$SB/pd.log'"

# reload: SenderOwnership needs a restart (carol, who owns nothing, stays
# refused although the new file would not check ownership at all)
sed -i 's/^SenderOwnership userdb$/SenderOwnership map/' "$PD_CONF"
kill -HUP "$PD_PID"
reloaded() { grep -q "reloaded" "$SB/pd.log"; }
sb_eventually 5 reloaded
check "reload: SenderOwnership changed: needs restart, logged" \
	grep -qF 'reload: SenderOwnership changed to "map": needs restart; still using "userdb"' "$SB/pd.log"
check "  ... and ownership still comes from the userdb" \
	test "$(ask carol carol@isp.example)" = "$NOTOWNED <carol@isp.example> not owned by user <carol>"

# -t: the settings are checked
printf 'HostedDomains h.example\nSenderOwnership userdb\n' >"$SB/t1.conf"
out=$("$PD_BIN" -t -c "$SB/t1.conf" 2>&1)
check "-t: SenderOwnership userdb without Userdb is refused" \
	grep -qF "Userdb: not set, but SenderOwnership userdb needs it" <<<"$out"
printf 'HostedDomains h.example\nUserdb local:/a\nRecipientUserdb local:/b\n' >"$SB/t2.conf"
out=$("$PD_BIN" -t -c "$SB/t2.conf" 2>&1)
check "-t: Userdb and RecipientUserdb naming two sockets are refused" \
	grep -qF "Userdb: differs from RecipientUserdb" <<<"$out"

# Dovecot stalled: 451 after UserdbTimeout, others answered meanwhile
AUTH_PIDS=$(pgrep -f "/auth( |$)" -P "$DC_PID" | tr "\n" " ")
[ -n "$AUTH_PIDS" ] || diag "no Dovecot auth process found"
sleep 2.2				# the cache of alice's entry expires
kill -STOP $AUTH_PIDS
"$PY" "$MW_TESTLIB/policy_client.py" --stalled "unix:$SB/pd.sock" client_address=198.51.100.7 sasl_username=alice sender=alice@isp.example recipient=u@foreign.example >"$SB/stalled.out" 2>&1
kill -CONT $AUTH_PIDS
check "stalled Dovecot: 451 after UserdbTimeout, never OK" grep -qx "first: $DOWN" "$SB/stalled.out"
check "  ... meanwhile a stranger's request was answered" grep -qx "first still waiting: True" "$SB/stalled.out"
check "  ... logged with reason=account directory unavailable" \
	logged "sasl_username=alice" "reason=account directory unavailable"

# Dovecot gone: 451 at once
dovecot_stop
check "Dovecot stopped: 451 (no relay)" test "$(ask carol carol@isp.example)" = "$DOWN"
check "no sanitizer report" bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$SB/pd.log'"
done_testing
