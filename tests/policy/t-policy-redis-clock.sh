#!/bin/bash
# t-policy-redis-clock.sh - one clock for the farm: two mailwarren-policyd
# sharing one real Redis, one of them 7 minutes ahead (libfaketime,
# LD_PRELOAD), enforce ONE limit of 3 recipients a minute, because the rate
# script takes the bucket from Redis' TIME, not from the daemon's clock
# (with the daemons' clocks their 1-minute windows would not even overlap,
# and each would allow 3).  The bucket keys in Redis are Redis' own minute.
# The skewed daemon runs under the sanitizers too, when the build has them:
# ASan wants to come first among the libraries, so the test sets
# ASAN_OPTIONS=verify_asan_link_order=0 for it (libfaketime comes first).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
sb_need_cmd redis-server redis-server
sb_need_cmd faketime faketime
. "$MW_TESTLIB/redis.sh"
PY=${MW_PYTHON:-/usr/bin/python3}
PD_BIN=${PD_BIN:-$(mw_sbin policy mailwarren-policyd)}
FT_LIB=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	[ -f "$f" ] && FT_LIB=$f && break
done
[ -n "$FT_LIB" ] || skip_all "libfaketime.so.1 not found (Debian package libfaketime)"
sb_init policy-redis-clock
redis_start || skip_all "redis-server did not start"
plan 6

. "$MW_TESTLIB/pd_redis.sh"
printf 'cust9 recipients=3/1m\n' >"$SB/ratelimits"
PD_RATE_LIMIT_MAP=$SB/ratelimits PD_RCPT_LIMIT=1000/1h
SKEW=(env LD_PRELOAD="$FT_LIB" FAKETIME=+7m FAKETIME_DONT_FAKE_MONOTONIC=1
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
# libfaketime shares its clock through /dev/shm/faketime_shm_PID and
# sem.faketime_sem_PID, removed when PID exits normally; whatever a
# killed process left is removed at the end
sb_at_exit 'for f in /dev/shm/faketime_shm_* /dev/shm/sem.faketime_sem_*; do [ -e "$f" ] && ! kill -0 "${f##*_}" 2>/dev/null && rm -f "$f"; done; true'
start_pd() {	# start_pd NAME [COMMAND PREFIX...] - an instance on $SB/NAME.sock
	local name=$1
	shift
	PD_PREFIX=("$@")
	pd_start "$name" "redis://127.0.0.1:$REDIS_PORT"
}
action() { pd_action "$@"; }

ahead=$(( $("${SKEW[@]}" "$PY" -c 'import time; print(int(time.time()))') - $(date +%s) ))
check "libfaketime puts a process 7 minutes ahead ($ahead s)" test "$ahead" -ge 410 -a "$ahead" -le 430
start_pd a && start_pd b "${SKEW[@]}" || { not_ok "policyd instances start"; done_testing; exit 1; }
check "  ... and it is loaded in the second policyd (pid $PID_b)" grep -q libfaketime "/proc/$PID_b/maps"

# cust9 (16.9.0.0/16): 3 recipients a minute, counted across both
r1=$(action a 16.9.0.1 u1@foreign.example)
r2=$(action b 16.9.0.2 u2@foreign.example)
r3=$(action a 16.9.0.3 u3@foreign.example)
r4=$(action b 16.9.0.4 u4@foreign.example)
r5=$(action a 16.9.0.5 u5@foreign.example)
check "3 recipients accepted across the two hosts ($r1 / $r2 / $r3)" \
	test "$r1|$r2|$r3" = "action=OK|action=OK|action=OK"
check "the 4th, on the host 7 minutes ahead, is over the one limit ($r4)" \
	test "$r4" = "action=450 4.7.1 Rate limit exceeded, try again later"
check "and so is the 5th on the other ($r5)" \
	test "$r5" = "action=450 4.7.1 Rate limit exceeded, try again later"

# the buckets are Redis' 6-second slices of its own minute
now=$(redis_cli TIME | head -1)
idx=$(redis_cli --scan --pattern 'mwrl:rc:cust9:60:*' | sed 's/.*://' | sort -u | tr '\n' ' ')
redis_buckets() {	# every index within the last 2 of Redis' own
	local i
	[ -n "$idx" ] || return 1
	for i in $idx; do
		[ "$i" -le $((now / 6)) ] && [ "$i" -ge $((now / 6 - 2)) ] || return 1
	done
}
check "the bucket keys ($idx) are Redis' clock's ($((now / 6)))" redis_buckets
done_testing
