#!/bin/bash
# t-fuzz-run.sh - a bounded libFuzzer run of every target (ASan+UBSan+LSan):
# FUZZ_SECONDS (default 5) each, from a copy of its seed corpus (regression
# inputs included); any crash, leak, UBSan report or broken promise (abort)
# fails that target's line.  The targets are built where clang links
# libFuzzer (configure: HAVE_LIBFUZZER); the replay drivers (replay_NAME)
# check the same corpora in every build.  For long runs see campaign.sh.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
B=${top_builddir:-.}/tests/fuzz
TARGETS="policy_proto spamc_reply redis_reply userdb_reply spam_prefs_hdr spam_prefs_score
	spam_prefs_list shard cfg cidr map rate endpoint relay rate_map milter_hdr rtopo_reply"
[ -f "$B/fuzz-targets.stamp" ] || skip_all "fuzz targets not built (needs clang with libFuzzer: Debian packages clang, libclang-rt-14-dev)"
sb_init fuzz-run
set -- $TARGETS
plan $#
for t; do
	c=$MW_TOP_SRCDIR/tests/fuzz/corpus-$(echo "$t" | tr _ -)
	[ "$t" = policy_proto ] && c=$MW_TOP_SRCDIR/tests/fuzz/corpus-policy
	mkdir -p "$SB/$t"
	cp "$c"/* "$SB/$t/"
	# UBSan reports abort (the fuzzer then saves the input and fails)
	if UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
	   "$B/fuzz_$t" -max_total_time="${FUZZ_SECONDS:-5}" -max_len=8192 -timeout=10 \
	   -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$SB/$t-" "$SB/$t" \
	   >"$SB/$t.log" 2>&1; then
		ok "fuzz_$t: $(grep -o '#[0-9]*.*DONE *cov: [0-9]* ft: [0-9]*' "$SB/$t.log" | tail -1)"
	else
		grep -v '^#[0-9]' "$SB/$t.log" | tail -40 | sed 's/^/# /'
		not_ok "fuzz_$t found a crash, leak or UBSan report (input saved as $SB/$t-*)"
	fi
done
done_testing
