#!/bin/bash
# t-policy-golden.sh - the golden corpus: every request of golden.in sent to a
# real mailwarren-policyd over one connection; the answers must be golden.ref.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
. "$MW_TESTLIB/policyd.sh"

sb_init policy-golden
plan 4

D=$MW_TOP_SRCDIR/tests/policy
policyd_config "$D/golden.conf.in"
check "mailwarren-policyd -t accepts the golden configuration" policyd_run -t
policyd_start || { not_ok "policyd start"; done_testing; exit 1; }
ok "policyd started on $PD_SOCK"

"${MW_PYTHON:-/usr/bin/python3}" "$MW_TESTLIB/policy_client.py" "unix:$PD_SOCK" "$D/golden.in" >"$SB/golden.out" 2>&1
if diff -u "$D/golden.ref" "$SB/golden.out" >"$SB/golden.diff"; then
	ok "golden.in answers match golden.ref ($(grep -c '^=> ' "$SB/golden.out") requests)"
else
	sed 's/^/# /' "$SB/golden.diff"
	not_ok "golden.in answers match golden.ref"
fi

# one log line per decision, in Postfix's shape
check "each decision logged once, with reason and identities" \
	grep -q 'NOQUEUE: reject: RCPT from unknown\[198.51.100.7\]: 554 5.7.1 Relay access denied; reason=relay customer=- sasl_username=- from=<a@sender.example> to=<u@foreign.example>' "$PD_LOG"
done_testing
