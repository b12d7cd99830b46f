#!/bin/bash
# t-milter-relay.sh - RelayPolicy: mailwarren-policyd's relay-for-customers
# decision inside mailwarren-milter at RCPT time, driven by miltertest (TAP):
#   - a stranger relaying is refused "554 5.7.1 Relay access denied", also
#     through a routed address; mail to a hosted domain is open to all;
#   - a customer network or a SASL login ({auth_authen}) relays;
#   - a suspended login or customer gets "550 5.7.1 Account suspended,
#     contact support" (hosted recipients too), a login using a sender it
#     does not own "553 5.7.1 Sender address <s> not owned by user <l>";
#   - one log line per refusal with the queue id, reason and identities;
#   - the same tables as mailwarren-policyd's golden test give the same
#     verdicts for its RCPT requests;
#   - RelayPolicy no (the default) decides nothing; -t names file:line of a
#     bad table and refuses RelayPolicy yes without HostedDomains.
# No spamd: SpamdHosts none.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/postfix.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_init t-milter-relay
mwm_db

printf '# customers\n192.0.2.0/28 cust1\n198.51.100.0/24 cust9\n2001:db8:c::/48 cust6\n' >"$SB/customers"
printf 'alice@hosted.example alice\n@cust.example alice, carol\n' >"$SB/logins"
printf 'hosted.example\n.sub.hosted.example\n' >"$SB/hosted"

mwm_start relay SpamdHosts none RelayPolicy yes HostedDomains "$SB/hosted" \
	CustomerNetworks "$SB/customers" SenderLoginMap "$SB/logins" SuspendedList "bob, cust9" ||
	{ echo "Bail out! milter did not start"; exit 1; }

# refused TAG REPLY MT-ARGS...: the recipient is refused with REPLY, logged once
refused() {
	local tag=$1 reply=$2
	shift 2
	mwm_send "msg=$MWM_S/ham.eml" "$@" && mwm_has "rcptreply replycode" || return 1
	grep -qF "MTQID1: reject: RCPT from client.example[" "$MWM_LOG" &&
		[ "$(grep -cF ": $reply; reason=" "$MWM_LOG")" -gt "$(cat "$SB/n-$reply" 2>/dev/null || echo 0)" ] ||
		{ diag "no new log line with \"$reply\""; return 1; }
	grep -cF ": $reply; reason=" "$MWM_LOG" >"$SB/n-$reply"
}
# accepted MT-ARGS...: the message goes through (scanned, continue)
accepted() {
	mwm_send "msg=$MWM_S/ham.eml" "$@" && mwm_has "reply continue"
}
DENIED="554 5.7.1 Relay access denied"
SUSP="550 5.7.1 Account suspended, contact support"

check "stranger -> foreign: $DENIED" refused stranger "$DENIED" client=203.0.113.5 rcpt=x@dest.example
check "  ... logged with reason=relay and both addresses" \
	grep -qF "MTQID1: reject: RCPT from client.example[203.0.113.5]: $DENIED; reason=relay customer=- sasl_username=- from=<sender@origin.example> to=<x@dest.example>" "$MWM_LOG"
check "stranger -> hosted: accepted" accepted client=203.0.113.5 rcpt=user@hosted.example
check "stranger -> subdomain of a .hosted entry: accepted" accepted client=203.0.113.5 rcpt=user@a.sub.hosted.example
check "stranger -> routed address via a hosted domain: refused" \
	refused routed "$DENIED" client=203.0.113.5 "rcpt=x%dest.example@hosted.example"
check "stranger, null sender -> hosted: accepted" accepted client=203.0.113.5 from= rcpt=user@hosted.example
check "customer network -> foreign: accepted" accepted client=192.0.2.9 rcpt=x@dest.example
check "IPv6 customer, as Sendmail writes it (IPv6:addr) -> foreign: accepted" \
	accepted client=IPv6:2001:db8:c::25 rcpt=x@dest.example
check "IPv6 stranger (IPv6:addr) -> foreign: $DENIED" \
	refused v6stranger "$DENIED" client=IPv6:2001:db8:d::25 rcpt=x@dest.example
check "just outside the customer network -> foreign: refused" \
	refused outside "$DENIED" client=192.0.2.16 rcpt=x@dest.example
check "SASL login with an owned sender -> foreign: accepted" \
	accepted client=203.0.113.5 auth=alice from=alice@hosted.example rcpt=x@dest.example
check "SASL login, owner by @domain -> foreign: accepted" \
	accepted client=203.0.113.5 auth=Carol from=any@cust.example rcpt=x@dest.example
check "SASL login with a sender it does not own: 553" \
	refused notowner "553 5.7.1 Sender address <bob@hosted.example> not owned by user <alice>" \
	client=203.0.113.5 auth=alice from=bob@hosted.example rcpt=x@dest.example
check "suspended login -> hosted: $SUSP" refused susp1 "$SUSP" client=203.0.113.5 auth=bob rcpt=user@hosted.example
check "suspended customer -> foreign: $SUSP" refused susp2 "$SUSP" client=198.51.100.7 rcpt=x@dest.example
check "  ... logged with the customer id" grep -qF "customer=cust9 sasl_username=-" "$MWM_LOG"
mwm_send "msg=$MWM_S/eicar-b64.eml" client=203.0.113.5 rcpt=user@hosted.example \
	code=550 xcode=5.7.1 "text=Virus found: $(mwm_expected eicar-b64.eml)"
check "hosted delivery still scanned: EICAR rejected at end of data" mwm_has "smtpreply yes"
mwm_stop

# The policy daemon's golden corpus (RCPT requests) through the milter.
GOLD=$top_srcdir/tests/policy
if [ -f "$GOLD/golden.in" ] && [ -f "$GOLD/golden.ref" ]; then
	mwm_start golden SpamdHosts none RelayPolicy yes HostedDomains "$GOLD/hosted.txt" \
		CustomerNetworks "$GOLD/customers.cidr" SenderLoginMap "$GOLD/sender-logins" \
		HostedDomains extra.example SuspendedList "mallory cust9" ||
		{ echo "Bail out! milter did not start"; exit 1; }
	"${MW_PYTHON:-/usr/bin/python3}" - "$MW_TESTLIB" "$GOLD/golden.in" "$GOLD/golden.ref" \
		>"$SB/golden.cases" <<'PY'
# one line per RCPT request whose answer is a relay decision (not a rate
# limit): accepted|refused, client, login, sender, recipient, policyd's action
import sys
sys.path.insert(0, sys.argv[1])
from policy_client import DEFAULTS, blocks
refs = [l[len("=> action="):].rstrip("\n") for l in open(sys.argv[3]) if l.startswith("=> action=")]
reqs = []
for block in blocks(open(sys.argv[2]).read()):
    attrs = [l for l in block if not l.startswith("#")]
    if not attrs:
        continue
    req = dict(DEFAULTS)
    req.update(l.split("=", 1) for l in attrs)
    reqs.append(req)
assert len(reqs) == len(refs), (len(reqs), len(refs))
for req, ref in zip(reqs, refs):
    if req["request"] != "smtpd_access_policy" or req["protocol_state"] != "RCPT":
        continue
    if ref.startswith("450 ") or ref.startswith("DEFER"):
        continue  # rate limits: not the milter's
    if req["client_address"] == "unknown":
        continue  # Postfix's word for no address; an MTA gives a milter none
    verdict = "refused" if ref[:1] == "5" else "accepted"
    print("|".join([verdict, req["client_address"], req["sasl_username"], req["sender"],
                     req["recipient"], ref]))
PY
	n=0
	bad=0
	while IFS="|" read -r want addr login sender rcpt ref; do
		args=("msg=$MWM_S/ham.eml" "client=$addr" "from=$sender" "rcpt=$rcpt")
		[ -n "$login" ] && args+=("auth=$login")
		mwm_send "${args[@]}" >/dev/null 2>&1
		got=error
		printf '%s\n' "$MWM_OUT" | grep -q '^reply continue' && got=accepted
		printf '%s\n' "$MWM_OUT" | grep -q '^rcptreply ' && got=refused
		n=$((n + 1))
		if [ "$got" != "$want" ]; then
			bad=$((bad + 1))
			diag "golden: $addr $login <$sender> -> <$rcpt>: policyd $ref, milter $got"
		fi
	done <"$SB/golden.cases"
	check "golden corpus: $n RCPT requests, the milter agrees with policyd on all ($bad differ)" \
		test "$n" -ge 10 -a "$bad" = 0
	mwm_stop
else
	ok "golden corpus not in this tree # SKIP"
fi

# RelayPolicy no (default): nothing is decided at RCPT.
mwm_start off SpamdHosts none HostedDomains "$SB/hosted" CustomerNetworks "$SB/customers" ||
	{ echo "Bail out! milter did not start"; exit 1; }
check "RelayPolicy no: stranger -> foreign is not the milter's business" \
	accepted client=203.0.113.5 rcpt=x@dest.example
mwm_stop

# Configuration errors.
printf '192.0.2.0/24 ok\nnot-a-network cust2\n' >"$SB/bad.cidr"
printf 'SpamdHosts none\nDatabaseDirectory %s\nRelayPolicy yes\nHostedDomains h.example\nCustomerNetworks %s\n' \
	"$MWM_DB" "$SB/bad.cidr" >"$SB/bad.conf"
out=$("$MWM_BIN" -t -c "$SB/bad.conf" 2>&1)
check "-t: a bad CustomerNetworks line is reported as file:line" \
	grep -qF "$SB/bad.cidr:2:" <<<"$out"
[ $? = 0 ] || diag "$out"
printf 'SpamdHosts none\nRelayPolicy yes\n' >"$SB/nohosted.conf"
out=$("$MWM_BIN" -t -c "$SB/nohosted.conf" 2>&1)
check "-t: RelayPolicy yes without HostedDomains is refused" grep -q "RelayPolicy yes needs HostedDomains" <<<"$out"
check "no sanitizer report in the milter logs" \
	bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$SB'/*.log"

done_testing
