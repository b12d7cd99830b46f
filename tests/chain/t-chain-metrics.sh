#!/bin/bash
# t-chain-metrics.sh - a real Prometheus (Debian's package, scraping every
# second) scrapes the running stack of ./demo (tests/lib/stack.sh: Postfix,
# mailwarren-milter with ClamAV and spamd, mailwarren-policyd with Dovecot's
# userdb): after N messages of each kind through Postfix, PromQL says N for
# each decision of both daemons, and Dovecot (conf.d's
# mailwarren-metrics.conf.ext on its OpenMetrics listener) counts mailshard's
# placements and spam_prefs' filings by their event fields, on 2.3 and 2.4;
# the three targets are up; a milter restart
# resets its counters and Prometheus sees exactly one counter reset, with
# increase() counting across it, not backwards.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/stack.sh"
. "$MW_TESTLIB/prometheus.sh"
stack_need
sb_need_cmd "$PROM_BIN" prometheus
plan 23

stack_test_start chain-metrics
prom_start "milter=$ST_MILTER_METRICS_PORT" "policyd=$ST_POLICYD_METRICS_PORT" \
	"dovecot=$ST_DOVECOT_METRICS_PORT" ||
	{ echo "Bail out! prometheus did not start"; exit 1; }
ok "prometheus $("$PROM_BIN" --version 2>&1 | awk 'NR == 1 { print $3 }') started, scraping both daemons every second"
check "target milter is up" prom_wait 'up{job="milter"}' 1
check "target policyd is up" prom_wait 'up{job="policyd"}' 1
check "target dovecot (its OpenMetrics listener) is up" prom_wait 'up{job="dovecot"}' 1

D=$ST_DOMAIN
VIRUS=$SB/samples/eicar-zip.eml
# N of each kind: clean to a user, a virus, a relay attempt, an unknown user
for i in 1 2 3; do
	stack_send "clean$i" --from friend@elsewhere.example --to "juan@$D" --subject "clean $i" >/dev/null
done
for i in 1 2; do
	stack_send "virus$i" --from joker@elsewhere.example --to "juan@$D" --file "$VIRUS" >/dev/null
done
for i in 1 2 3 4; do
	stack_send "relay$i" --from someone@elsewhere.example --to "friend$i@far-away.example" >/dev/null
done
stack_send unknown --from friend@elsewhere.example --to "nosuchuser@$D" >/dev/null
# spam to anna (threshold 3): filed into Junk by spam_prefs
stack_send spam1 --from spammer@elsewhere.example --to "anna@$D" --file "$MW_TOP_SRCDIR/tests/data/gtube.eml" >/dev/null
check "the SMTP answers: 3+1 queued, 2 viruses rejected, 4 relays and 1 unknown user refused" \
	bash -c 'cd "$1/smtp" && [ $(grep -l "^DATA 250 " clean*.out spam1.out | wc -l) = 4 ] &&
		[ $(grep -l "^DATA 550 5.7.1 Virus found" virus*.out | wc -l) = 2 ] &&
		[ $(grep -l "^RCPT [^ ]* 554 5.7.1 .*Relay access denied" relay*.out | wc -l) = 4 ] &&
		grep -q "^RCPT [^ ]* 550 5.1.1 .*User unknown" unknown.out' _ "$SB"

MD=mailwarren_milter_decisions_total
PDD=mailwarren_policyd_decisions_total
check "PromQL: milter accept{clean} = 4 (GTUBE too: no SpamRejectScore)" prom_wait "$MD{action=\"accept\",reason=\"clean\"}" 4
check "PromQL: milter reject{virus} = 2" prom_wait "$MD{action=\"reject\",reason=\"virus\"}" 2
check "PromQL: milter viruses_found_total = 2" prom_wait mailwarren_milter_viruses_found_total 2
check "PromQL: sum of milter decisions = 6" prom_wait "sum($MD)" 6
check "PromQL: policyd reject{relay} = 4" prom_wait "$PDD{action=\"reject\",reason=\"relay\"}" 4
check "PromQL: policyd reject{unknown_recipient} = 1" prom_wait "$PDD{action=\"reject\",reason=\"unknown_recipient\"}" 1
check "PromQL: policyd userdb lookups found juan (3 of them, or cached)" \
	prom_wait "sum(mailwarren_policyd_recipient_cache_lookups_total) >= bool 4" 1
check "PromQL: milter scan histogram counted 6 scans" \
	prom_wait "sum(mailwarren_milter_scan_duration_seconds_count)" 6
check "PromQL: milter spamd scored the 4 messages that were not viruses" \
	prom_wait "mailwarren_milter_spamd_duration_seconds_count{result=\"scored\"}" 4
stack_wait_found spam1 1 60
stack_wait_found clean3 1 60
check "PromQL: Dovecot spam_prefs_filing{action=inbox,reason=below-threshold} = 3 (juan's clean mail)" \
	prom_wait 'dovecot_spam_prefs_filing_total{action="inbox",reason="below-threshold"}' 3
check "PromQL: Dovecot spam_prefs_filing{action=junk,reason=score} = 1 (anna's GTUBE)" \
	prom_wait 'dovecot_spam_prefs_filing_total{action="junk",reason="score"}' 1
check "PromQL: Dovecot mailshard_placement{reason=hash}: the 4 deliveries placed (>= 4)" \
	prom_wait 'sum(dovecot_mailshard_placement_total{reason="hash"}) >= bool 4' 1
check "PromQL: Dovecot mailshard_placement by volume: only v1 and v2" \
	prom_wait 'count(dovecot_mailshard_placement_total{volume!~"v1|v2"}) or vector(0)' 0
[ "$TAP_FAILED" = 0 ] || diag "$(stack_metric_text dovecot | grep -E '^dovecot_(mailshard|spam)' )"

# ---- a restart: the counter resets, Prometheus copes --------------------------
stack_milter_stop
stack_milter_start || { echo "Bail out! the milter did not restart"; exit 1; }
check "after the restart, PromQL: milter viruses_found_total = 0" prom_wait mailwarren_milter_viruses_found_total 0
stack_send virus3 --from joker@elsewhere.example --to "juan@$D" --file "$VIRUS" >/dev/null
check "after the restart, PromQL: milter viruses_found_total = 1" prom_wait mailwarren_milter_viruses_found_total 1
check "PromQL: resets(viruses_found_total[10m]) = 1" prom_wait "resets(mailwarren_milter_viruses_found_total[10m])" 1
inc=$(prom_query "increase(mailwarren_milter_viruses_found_total[10m])")
check "PromQL: increase(viruses_found_total[10m]) = $inc: the 2 before and the 1 after (>= 2.5), not backwards" \
	bash -c 'awk -v v="$1" "BEGIN { exit !(v + 0 >= 2.5 && v + 0 < 6) }"' _ "$inc"
done_testing
