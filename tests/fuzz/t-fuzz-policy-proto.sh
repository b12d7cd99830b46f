#!/bin/bash
# t-fuzz-policy-proto.sh - a bounded libFuzzer run of the policy protocol
# reader (ASan+UBSan): any crash, leak or abort fails the test.  For long
# runs: tests/fuzz/fuzz_policy_proto -max_total_time=3600 DIR
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
F=${top_builddir:-.}/tests/fuzz/fuzz_policy_proto
[ -x "$F" ] || skip_all "fuzz target not built (needs clang with libFuzzer: Debian packages clang, libclang-rt-14-dev)"
sb_init fuzz-policy
plan 1
cp "$MW_TOP_SRCDIR"/tests/fuzz/corpus-policy/* "$SB/" 2>/dev/null
mkdir -p "$SB/corpus" && mv "$SB"/rcpt "$SB"/pipelined "$SB"/badrequest "$SB/corpus/" 2>/dev/null
if "$F" -runs=300000 -max_total_time=60 -max_len=20000 "$SB/corpus" >"$SB/fuzz.log" 2>&1; then
	ok "libFuzzer: $(grep -o 'Done [0-9]* runs' "$SB/fuzz.log" || tail -1 "$SB/fuzz.log") without a crash"
else
	tail -30 "$SB/fuzz.log" | sed 's/^/# /'
	not_ok "libFuzzer found a crash (see above)"
fi
done_testing
