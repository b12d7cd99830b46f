#!/bin/bash
# t-policy-postfix.sh - mailwarren-policyd behind a real Postfix
# (check_policy_service in smtpd_relay_restrictions, then
# reject_unauth_destination), clients and logins set with XCLIENT:
# stranger relay refused with Postfix's wording, hosted mail open, customer
# and login relay accepted, a rate limit tripping, reload and restart of the
# daemon mid-run without a 451 for anyone, and the outage behaviour of
# default_action = DEFER_IF_REJECT.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
sb_need_root
sb_need_cmd postfix postfix
. "$MW_TESTLIB/postfix.sh"
. "$MW_TESTLIB/policyd.sh"

PY=${MW_PYTHON:-/usr/bin/python3}
sb_init policy-postfix

PD_PORT=$(sb_port)
PD_SOCK=$SB/unused.sock
policyd_config "$MW_TOP_SRCDIR/tests/policy/golden.conf.in" "PolicySocket inet:$PD_PORT@127.0.0.1"
# the last PolicySocket line would be a duplicate: drop the template's
sed -i '/^PolicySocket *local:/d' "$PD_CONF"
policyd_start || { echo "1..0 # SKIP policyd did not start"; exit 1; }

postfix_start \
	"inet_protocols = ipv4, ipv6" \
	"relay_domains = hosted.example, extra.example" \
	"smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
	"smtpd_relay_restrictions = check_policy_service { inet:127.0.0.1:$PD_PORT, timeout=10s, { default_action = DEFER_IF_REJECT 4.3.5 Policy service unavailable } }, reject_unauth_destination" \
	|| { echo "1..0 # SKIP postfix did not start"; exit 1; }
plan 13

session() {	# session ARGS... - one SMTP session through Postfix
	"$PY" "$MW_TESTLIB/smtp_session.py" --port "$PF_SMTP_PORT" "$@"
}

out=$(session --addr 198.51.100.7 --from a@b.example --to u@foreign.example)
check "stranger relay: 554 with Postfix's wording" grep -qx \
	'RCPT u@foreign.example 554 5.7.1 <u@foreign.example>: Recipient address rejected: Relay access denied' <<<"$out"

out=$(session --addr 198.51.100.7 --from a@b.example --to u@hosted.example --subject hosted-open)
check "stranger to a hosted domain: accepted" grep -q '^DATA 250' <<<"$out"

out=$(session --addr 16.1.2.3 --from x@y.example --to u@foreign.example --subject customer-relay)
check "customer (16.1.2.3 = cust42) relays" grep -q '^DATA 250' <<<"$out"

out=$(session --addr 2a02:1::7 --from x@y.example --to u@foreign.example --subject v6-relay)
check "IPv6 customer relays" grep -q '^DATA 250' <<<"$out"

out=$(session --addr 198.51.100.7 --login alice --from alice@isp.example --to u@foreign.example --subject login-relay)
check "SASL login relays with its own sender" grep -q '^DATA 250' <<<"$out"

out=$(session --addr 198.51.100.7 --login alice --from bob@isp.example --to u@foreign.example)
check "login with a sender it does not own: 553" grep -qx \
	'RCPT u@foreign.example 553 5.7.1 <u@foreign.example>: Recipient address rejected: Sender address <bob@isp.example> not owned by user <alice>' <<<"$out"

postfix_wait_sink 4 30
check "the 4 accepted messages reached the next hop" test "$(postfix_sink_count)" -ge 4

# cust7 may submit 3 recipients an hour
out=$(session --addr 16.7.0.1 --from x@y.example --to a@foreign.example --to b@hosted.example \
	--to c@foreign.example --to d@foreign.example)
check "rate limit: 3 recipients accepted, the 4th deferred with 450" \
	test "$(grep -c '^RCPT .* 250 ' <<<"$out")" = 3 -a \
	"$(grep -c '^RCPT d@foreign.example 450 4.7.1 <d@foreign.example>: Recipient address rejected: Rate limit exceeded, try again later' <<<"$out")" = 1

# reload and restart mid-run: nobody sees a 4xx
bad=0
for i in $(seq 1 12); do
	case $i in
	4) policyd_reload ;;
	8) policyd_stop; policyd_start || bad=$((bad + 100)) ;;
	esac
	out=$(session --addr 16.1.2.3 --from x@y.example --to "r$i@foreign.example" --subject "restart-$i")
	grep -q '^DATA 250' <<<"$out" || { bad=$((bad + 1)); diag "$out"; }
done
check "12 sessions across a reload and a restart: all accepted, no 451" test "$bad" = 0
check "the reload was logged" grep -q 'reloaded ' "$PD_LOG"

# outage: DEFER_IF_REJECT keeps inbound mail flowing, relay tempfails
policyd_stop
out=$(session --addr 198.51.100.7 --from a@b.example --to u@hosted.example --subject outage-hosted)
check "policy service down: hosted mail still accepted" grep -q '^DATA 250' <<<"$out"
out=$(session --addr 16.1.2.3 --from x@y.example --to u@foreign.example)
check "policy service down: relay deferred (450 4.3.5), not rejected" \
	grep -q '^RCPT u@foreign.example 450 4.3.5 ' <<<"$out"
check "Postfix logged the policy service failure" grep -q 'warning: problem talking to server' "$(postfix_log)"
done_testing
