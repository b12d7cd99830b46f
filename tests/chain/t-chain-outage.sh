#!/bin/bash
# t-chain-outage.sh - the whole chain (tests/lib/stack.sh) while one part
# is down, with real daemons:
#   - spamd stopped in the middle of a run of messages: Postfix defers them
#     at the end of DATA (the milter's SpamdFailAction tempfail: 451 4.7.1),
#     the sender retries, and once spamd is back every message is delivered
#     exactly once (each one counted);
#   - mailwarren-policyd stopped: Postfix applies the default_action of
#     conf.d/postfix/main.cf.policyd (DEFER_IF_REJECT): mail for hosted
#     users still flows, relaying is deferred (450 4.3.5), never refused;
#     after a restart relaying works again;
#   - mailwarren-milter stopped: milter_default_action = tempfail, nothing
#     is accepted unscanned; after a restart the retried mail is delivered.
# The test plays the sending MTA: what is deferred it sends again later.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/stack.sh"
stack_need

stack_test_start chain-outage

D=$ST_DOMAIN
code() { stack_reply "$1" DATA | cut -c1-3; }
copies() { stack_found "$1" | grep -c .; }
hosted() { stack_send "$1" --from friend@elsewhere.example --to "juan@$D" --subject "$1" >/dev/null; }

# --- spamd goes away in the middle of a run -------------------------------
deferred=()
other=
for i in $(seq 1 12); do
	[ "$i" = 5 ] && spamd_stop
	hosted "sp$i"
	case $(code "sp$i") in
	250) ;;
	451) deferred+=("$i") ;;
	*) other="$other sp$i:$(code "sp$i")" ;;
	esac
	[ "$i" = 8 ] && { spamd_start >>"$SB/start.log" 2>&1 || echo "Bail out! spamd did not come back"; }
done
check "spamd down: messages 5-8 deferred at the end of DATA, the others accepted" \
	test "${deferred[*]}" = "5 6 7 8" -a -z "$other"
check "spamd down: the reply is 451 4.7.1 Spam scanner unavailable, try again later" \
	test "$(stack_reply sp5 DATA)" = "451 4.7.1 Spam scanner unavailable, try again later"
check "Postfix logged the milter's tempfail" grep -q 'milter-reject: END-OF-MESSAGE .*4.7.1 Spam scanner unavailable' "$(postfix_log)"
for i in "${deferred[@]}"; do
	hosted "sp$i"	# the sender's retry
done
check "spamd back: the retried messages are accepted" \
	eval 'for i in 5 6 7 8; do [ "$(code sp$i)" = 250 ] || exit 1; done'
stack_wait_found sp12 1 60
for i in $(seq 1 12); do stack_wait_found "sp$i" 1 30; done
bad=
for i in $(seq 1 12); do
	[ "$(copies "sp$i")" = 1 ] || bad="$bad sp$i:$(copies "sp$i")"
done
check "spamd outage: all 12 messages delivered, each exactly once" test -z "$bad"
[ -z "$bad" ] || diag "copies:$bad"

# --- the policy daemon goes away ------------------------------------------
stack_policyd_stop
hosted pd-hosted
check "policyd down: mail for a hosted user is still accepted" test "$(code pd-hosted)" = 250
stack_send pd-stranger --from someone@elsewhere.example --to friend@far-away.example >/dev/null
check "policyd down: stranger relay deferred 450 4.3.5 (default_action), not refused" \
	grep -q '^RCPT friend@far-away.example 450 4.3.5 ' "$SB/smtp/pd-stranger.out"
stack_send pd-customer --auth "carol:$ST_PASS" --from carol@customer.example --to friend@far-away.example >/dev/null
check "policyd down: customer relay deferred 450 4.3.5 as well" \
	grep -q '^RCPT friend@far-away.example 450 4.3.5 ' "$SB/smtp/pd-customer.out"
check "Postfix logged the policy service failure" grep -q 'warning: problem talking to server' "$(postfix_log)"
stack_policyd_start >>"$SB/start.log" 2>&1 || echo "Bail out! policyd did not come back"
stack_send pd-customer --auth "carol:$ST_PASS" --from carol@customer.example --to friend@far-away.example >/dev/null
check "policyd back: the customer's retry is accepted" test "$(code pd-customer)" = 250
stack_wait_found pd-customer 1 60
stack_wait_found pd-hosted 1 60
check "policyd outage: each message delivered once (hosted and relayed)" \
	test "$(copies pd-hosted)" = 1 -a "$(copies pd-customer)" = 1

# --- the milter goes away -------------------------------------------------
stack_milter_stop
hosted mt
check "milter down: Postfix tempfails (451 4.7.1), nothing accepted unscanned" \
	eval '! grep -q "^DATA 250" "$SB/smtp/mt.out" && grep -q "451 4.7.1" "$SB/smtp/mt.out"'
stack_milter_start >>"$SB/start.log" 2>&1 || echo "Bail out! the milter did not come back"
hosted mt
check "milter back: the retry is accepted" test "$(code mt)" = 250
stack_wait_found mt 1 60
f=$(stack_found mt)
check "milter back: delivered once, scanned (X-Virus-Scanned on the copy)" \
	eval '[ "$(copies mt)" = 1 ] && grep -q "^X-Virus-Scanned: ClamAV" "$f"'

# --- the whole count --------------------------------------------------------
sb_eventually 30 test "$(stack_queue_count)" = 0
n=$(find "$SB/srv" -path '*/Maildir/new/*' -type f | wc -l)
check "juan holds exactly 14 messages (12 + hosted + milter retry), the queue is empty, 1 relayed" \
	test "$n" = 14 -a "$(stack_queue_count)" = 0 -a "$(smtp_sink_count "$SB/internet")" = 1
done_testing
