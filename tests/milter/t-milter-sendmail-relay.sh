#!/bin/bash
# t-milter-sendmail-relay.sh - RelayPolicy behind a real, private Sendmail
# 8.17 configured with the lines of conf.d/sendmail/mailwarren-milter.mc
# (INPUT_MAIL_FILTER over TCP, FEATURE(promiscuous_relay): the milter alone
# decides relaying), one real spamd and the generated ClamAV test DB (TAP).
# Clients come from different loopback addresses:
#   127.0.0.2 a stranger, 127.0.0.3 a customer, 127.0.0.4 a suspended
#   customer.
#   - stranger -> foreign: "554 5.7.1 Relay access denied" on the wire, and
#     nothing delivered; customer -> foreign: accepted and delivered;
#     stranger -> hosted: accepted and delivered; suspended customer: 550;
#   - viruses are still rejected at end of DATA, spam is tagged.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/sendmail.sh"
. "$MW_TESTLIB/spamd.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_need_cmd m4 m4
sb_need_cmd smtp-sink postfix
sb_need_cmd swaks swaks
sb_need_cmd "$SPAMD_BIN" spamd
sendmail_fetch || skip_all "Sendmail packages unavailable: $SM_FETCH_ERROR"
sb_init t-milter-sendmail-relay
mwm_db

STRANGER=127.0.0.2
CUSTOMER=127.0.0.3
SUSPENDED=127.0.0.4

# send FILE TAG FROM-ADDR RCPT [SWAKS ARGS...]
send() {
	local file=$1 tag=$2 src=$3 rcpt=$4
	shift 4
	mwm_smtp "$SM_SMTP_PORT" "$file" "$tag" --local-interface "$src" --to "$rcpt" "$@"
}
# said TAG CODE TEXT: the server refused with CODE and TEXT (Sendmail puts
# the address in between: "550 5.7.1 <u@d>... TEXT")
said() {
	grep -qE "^<\*\* +$2 (<[^>]*>\.\.\. )?$3\$" "$SB/swaks-$1.log" ||
		{ diag "swaks $1: $(grep -E '^<(-|\*\*) ' "$SB/swaks-$1.log" | tail -n 1)"; return 1; }
}
accepted() {
	grep -q '^<- *250 2.0.0 .* Message accepted for delivery' "$SB/swaks-$1.log" ||
		{ diag "swaks $1: $(grep -E '^<(-|\*\*) ' "$SB/swaks-$1.log" | tail -n 1)"; return 1; }
}
delivered() { mwm_delivered "$SM_SINK_DIR" "$1"; }

if ! spamd_start; then
	echo "Bail out! spamd did not start"
	exit 1
fi
printf '%s/32 cust3\n%s/32 cust4\n' "$CUSTOMER" "$SUSPENDED" >"$SB/customers"
MPORT=$(mw_next_port "$SPAMD_PORT")
mwm_start sm MilterSocket "inet:$MPORT@127.0.0.1" SpamdHosts "inet:$SPAMD_PORT@127.0.0.1" SpamdTimeout 20 \
	RelayPolicy yes HostedDomains hosted.example CustomerNetworks "$SB/customers" SuspendedList cust4 ||
	{ echo "Bail out! milter did not start"; exit 1; }
# the shipped .mc lines, with this test's socket
MC=$top_srcdir/conf.d/sendmail/mailwarren-milter.mc
mapfile -t lines < <(sed "s|S=local:/run/mailwarren/milter.sock|S=inet:$MPORT@127.0.0.1|" "$MC")
check "the shipped .mc snippet has the filter and promiscuous_relay" \
	bash -c "grep -q '^INPUT_MAIL_FILTER' '$MC' && grep -q '^FEATURE(\`promiscuous_relay' '$MC'"
if ! sendmail_start "${lines[@]}"; then
	echo "Bail out! sendmail did not start"
	exit 1
fi

send "$MWM_S/ham.eml" stranger "$STRANGER" user@foreign.example
check "stranger -> foreign: 554 5.7.1 Relay access denied at RCPT" said stranger "554 5.7.1" "Relay access denied"
check "  ... logged by the milter with the client address" \
	grep -qE "^mailwarren-milter: [0-9A-Za-z]+: reject: RCPT from [^ ]*\[$STRANGER\]: 554 5.7.1 Relay access denied; reason=relay customer=- " "$MWM_LOG"
send "$MWM_S/ham.eml" customer "$CUSTOMER" user@foreign.example
check "customer -> foreign: accepted" accepted customer
send "$MWM_S/ham.eml" hosted "$STRANGER" user@hosted.example
check "stranger -> hosted: accepted" accepted hosted
send "$MWM_S/ham.eml" suspended "$SUSPENDED" user@foreign.example
check "suspended customer: 550 5.7.1 Account suspended, contact support" \
	said suspended "550 5.7.1" "Account suspended, contact support"
f=eicar-zip
send "$MWM_S/$f.eml" virus "$STRANGER" user@hosted.example
check "stranger -> hosted, EICAR in a zip: 550 5.7.1 Virus found: $(mwm_expected "$f.eml")" \
	mwm_replied virus "550 5.7.1 Virus found: $(mwm_expected "$f.eml")"
send "$top_srcdir/tests/data/gtube.eml" gtube "$CUSTOMER" user@foreign.example
check "customer -> foreign, GTUBE: accepted" accepted gtube

sendmail_wait_sink 3 60
c=$(delivered customer)
h=$(delivered hosted)
g=$(delivered gtube)
check "customer's relayed message delivered, scanned and scored" \
	bash -c "[ -n '$c' ] && grep -q '^X-Virus-Scanned: ClamAV' '$c' && grep -q '^X-Spam-Flag: NO' <(tr -d '\r' <'$c')"
check "hosted message delivered" test -n "$h"
check "GTUBE delivered with X-Spam-Flag: YES" bash -c "[ -n '$g' ] && grep -qx 'X-Spam-Flag: YES' <(tr -d '\r' <'$g')"
sleep 1
n=$(sendmail_sink_count)
check "nothing else was delivered: the stranger's and the suspended relay attempts, the virus ($n messages)" \
	bash -c "[ -z '$(delivered stranger)' ] && [ -z '$(delivered suspended)' ] && [ -z '$(delivered virus)' ] && [ '$n' = 3 ]"
check "no sanitizer report in the milter log" bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$MWM_LOG'"

done_testing
