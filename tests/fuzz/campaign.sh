#!/bin/bash
# campaign.sh - a long fuzzing campaign: each target in turn (one process at
# a time), SECONDS each (default 300), from its seed corpus into a work
# corpus under DIR (default ./fuzz-campaign), logs in DIR/NAME.log.
#   tests/fuzz/campaign.sh [-t SECONDS] [-d DIR] [TARGET...]
# Run from the build directory; prints one line per target with libFuzzer's
# final counts (runs, cov, ft, corpus) and a crash/leak/UBSan verdict.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=300 dir=fuzz-campaign
while getopts t:d: o; do
	case $o in t) secs=$OPTARG ;; d) dir=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- policy_proto spamc_reply redis_reply userdb_reply spam_prefs_hdr \
	spam_prefs_score spam_prefs_list shard cfg cidr map rate endpoint relay
mkdir -p "$dir"
for t; do
	c=$top_srcdir/tests/fuzz/corpus-$(echo "$t" | tr _ -)
	[ "$t" = policy_proto ] && c=$top_srcdir/tests/fuzz/corpus-policy
	mkdir -p "$dir/$t"
	cp -n "$c"/* "$dir/$t/"
	start=$(date +%s)
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
	tests/fuzz/fuzz_$t -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix="$dir/$t-" "$dir/$t" >"$dir/$t.log" 2>&1
	rc=$?
	end=$(date +%s)
	last=$(grep -o '#[0-9]*.*DONE.*' "$dir/$t.log" | tail -1)
	[ -n "$last" ] || last=$(grep '^#[0-9]' "$dir/$t.log" | tail -1)
	echo "$t rc=$rc secs=$((end - start)) $last corpus_files=$(ls "$dir/$t" | wc -l)" \
		"artifacts=$(ls "$dir" | grep -c "^$t-")"
done
