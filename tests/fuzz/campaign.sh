#!/bin/bash
# campaign.sh - a long fuzzing campaign: each target in turn (one fuzzer at
# a time), until it has used CPU seconds of CPU time (default 250; measured,
# so that a busy machine does not shorten the campaign) or WALL seconds have
# passed (default 4 x CPU), from its seed corpus and a work corpus under DIR
# (default ./fuzz-campaign); logs in DIR/NAME.log.
#   tests/fuzz/campaign.sh [-c CPU] [-w WALL] [-d DIR] [TARGET...]
# Run from the build directory.  One line per target: exit status (0: the
# budget or WALL ran out without a finding), CPU and
# wall seconds used, libFuzzer's last counts (runs, cov, ft, corpus) and the
# number of artifacts (crash-, leak-, timeout-, oom- files: must be 0).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cpu=250 wall= dir=fuzz-campaign
while getopts c:w:d: o; do
	case $o in c) cpu=$OPTARG ;; w) wall=$OPTARG ;; d) dir=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
: "${wall:=$((cpu * 4))}"
[ $# -gt 0 ] || set -- policy_proto spamc_reply redis_reply userdb_reply spam_prefs_hdr \
	spam_prefs_score spam_prefs_list shard cfg cidr map rate endpoint relay rate_map milter_hdr rtopo_reply
tck=$(getconf CLK_TCK)
mkdir -p "$dir"
total=0
for t; do
	c=$top_srcdir/tests/fuzz/corpus-$(echo "$t" | tr _ -)
	[ "$t" = policy_proto ] && c=$top_srcdir/tests/fuzz/corpus-policy
	mkdir -p "$dir/$t"
	cp -n "$c"/* "$dir/$t/"
	start=$(date +%s)
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
	tests/fuzz/fuzz_$t -max_total_time="$wall" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix="$dir/$t-" "$dir/$t" >"$dir/$t.log" 2>&1 &
	pid=$!
	used=0
	while kill -0 "$pid" 2>/dev/null; do
		# utime + stime (fields 14, 15 of /proc/PID/stat)
		s=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) && used=$((s / tck))
		if [ "$used" -ge "$cpu" ]; then
			kill -INT "$pid"
			break
		fi
		sleep 2
	done
	wait "$pid"
	rc=$?
	# stopped at its CPU budget: libFuzzer's -interrupt_exit_code (72)
	[ "$rc" = 72 ] && grep -q 'libFuzzer: run interrupted' "$dir/$t.log" && rc=0
	end=$(date +%s)
	total=$((total + used))
	last=$(grep '^#[0-9]' "$dir/$t.log" | tail -1 | sed 's/\t/ /g; s/ MS:.*//')
	echo "$t rc=$rc cpu=${used}s wall=$((end - start))s $last" \
		"corpus_files=$(ls "$dir/$t" | wc -l) artifacts=$(ls "$dir" | grep -c "^$t-")"
done
echo "total cpu=${total}s"
