#!/bin/bash
# t-policy-redis.sh - rate counters shared through a real Redis
# (RateStore redis://...): two mailwarren-policyd instances enforce ONE
# combined limit; Redis killed mid-run gives each instance's RedisFailMode
# (tempfail: DEFER_IF_PERMIT, open: as if no limit) without stalling other
# requests; a stalled Redis is cut off after RedisTimeout; counting resumes
# when Redis is back.  The rate script is loaded once per connection and
# called by its SHA1 (EVALSHA); after SCRIPT FLUSH (NOSCRIPT) it is loaded
# again and the question asked again, and still counted.  A replica given
# as the store (READONLY) is one log line and RedisFailMode.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
sb_need_cmd redis-server redis-server
. "$MW_TESTLIB/redis.sh"
PY=${MW_PYTHON:-/usr/bin/python3}
PD_BIN=${PD_BIN:-$(mw_sbin policy mailwarren-policyd)}
sb_init policy-redis
redis_start || skip_all "redis-server did not start"
plan 19

. "$MW_TESTLIB/pd_redis.sh"
PD_REDIS_TIMEOUT=200
start_pd() {	# start_pd NAME FAILMODE - instance NAME on $SB/NAME.sock
	PD_FAIL_MODE=$2 pd_start "$1" "redis://127.0.0.1:$REDIS_PORT"
}
# ask NAME CLIENT RCPT [STATE] - one request; prints the action and the seconds it took
ask() {
	"$PY" "$MW_TESTLIB/policy_client.py" --ask "unix:$SB/$1.sock" "$2" "$3" "${4:-RCPT}"
}
action() { pd_action "$@"; }

start_pd a tempfail && start_pd b open || { not_ok "policyd instances start"; done_testing; exit 1; }
ok "two policyd instances share redis://127.0.0.1:$REDIS_PORT"

# cust7 (16.7.0.0/16) may submit 3 recipients an hour, counted across both
r1=$(action a 16.7.0.1 u1@foreign.example)
r2=$(action b 16.7.0.2 u2@hosted.example)
r3=$(action a 16.7.0.3 u3@foreign.example)
r4=$(action b 16.7.0.4 u4@foreign.example)
r5=$(action a 16.7.0.5 u5@hosted.example)
check "3 recipients accepted across the two hosts ($r1 / $r2 / $r3)" \
	test "$r1|$r2|$r3" = "action=OK|action=DUNNO|action=OK"
check "the 4th, on the other host, is over the combined limit" \
	test "$r4" = "action=450 4.7.1 Rate limit exceeded, try again later"
check "and so is the 5th on the first host (refusals not counted)" \
	test "$r5" = "action=450 4.7.1 Rate limit exceeded, try again later"
keys=$(redis_cli --scan --pattern 'mwrl:rc:cust7:*' | wc -l)
check "the counters are bucket keys in Redis ($keys)" test "$keys" -ge 1
ttl=$(redis_cli ttl "$(redis_cli --scan --pattern 'mwrl:rc:cust7:*' | head -1)")
check "bucket keys expire by themselves (ttl $ttl s)" test "$ttl" -gt 0 -a "$ttl" -le 3960

# Redis stalled (SIGSTOP): answers within RedisTimeout, loop not stalled
kill -STOP "$REDIS_PID"
out=$(ask a 16.1.2.3 u@foreign.example)
secs=${out##* }
check "stalled Redis, tempfail mode: DEFER_IF_PERMIT ($out)" \
	test "${out% *}" = "action=DEFER_IF_PERMIT 4.7.1 Rate limit service unavailable"
check "  ... answered within ~RedisTimeout (${secs}s < 1s)" \
	"$PY" -c "import sys; sys.exit(not float('$secs') < 1.0)"
out=$(ask a 198.51.100.7 u@hosted.example)
check "  ... requests without a rate question are answered at once (${out})" \
	test "${out% *}" = action=DUNNO
check "stalled Redis, open mode: as if no limit" test "$(action b 16.1.2.3 u@foreign.example)" = action=OK
kill -CONT "$REDIS_PID"

# Redis killed: fail modes; stranger relay is still refused
redis_stop
check "Redis down, tempfail mode: DEFER_IF_PERMIT" \
	test "$(action a 16.1.2.3 u@foreign.example)" = "action=DEFER_IF_PERMIT 4.7.1 Rate limit service unavailable"
check "Redis down: a stranger's relay is still refused" \
	test "$(action a 198.51.100.7 u@foreign.example)" = "action=554 5.7.1 Relay access denied"
check "the outage is logged once per instance, not per request" \
	test "$(grep -c 'rate store redis://.*failing over' "$SB/a.log")" -le 3

# Redis back (new, empty): counting resumes after the retry delay
redis_start
sleep 1.2
check "Redis back: counting resumes" \
	sb_eventually 5 eval '[ "$(action a 16.7.0.1 u@foreign.example)" = action=OK ]'

# the script: loaded per connection, called by its SHA1, NOSCRIPT handled
calls() {	# calls COMMAND - how often this Redis ran it
	redis_cli INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0
}
counted() {	# the events counted for cust7 in Redis
	local k n=0
	for k in $(redis_cli --scan --pattern 'mwrl:rc:cust7:*'); do
		n=$((n + $(redis_cli get "$k")))
	done
	echo $n
}
check "the new Redis got SCRIPT LOAD ($(calls 'script|load')) and EVALSHA ($(calls evalsha)), no EVAL ($(calls eval))" \
	eval '[ "$(calls "script|load")" -ge 1 ] && [ "$(calls evalsha)" -ge 1 ] && [ "$(calls eval)" = 0 ]'
before=$(counted) loads=$(calls 'script|load') shas=$(calls evalsha)
redis_cli SCRIPT FLUSH >/dev/null
r=$(action a 16.7.0.2 u@foreign.example)
check "after SCRIPT FLUSH the question is answered ($r) and counted ($before -> $(counted))" \
	eval '[ "$r" = action=OK ] && [ "$(counted)" = $((before + 1)) ]'
check "  ... by loading the script again ($loads -> $(calls 'script|load')) and asking once more ($shas -> $(calls evalsha))" \
	eval '[ "$(calls "script|load")" = $((loads + 1)) ] && [ "$(calls evalsha)" = $((shas + 2)) ] && ! grep -q NOSCRIPT "$SB/a.log"'

# a replica given as the store: READONLY, one line, RedisFailMode
RPORT=$(sb_port)
mkdir -p "$SB/replica"
"$REDIS_SERVER" --bind 127.0.0.1 --port "$RPORT" --replicaof 127.0.0.1 "$REDIS_PORT" --save '' \
	--appendonly no --protected-mode no --dir "$SB/replica" --logfile "$SB/replica/redis.log" \
	</dev/null >/dev/null 2>&1 &
RPID=$!
sb_at_exit "kill $RPID 2>/dev/null; wait $RPID 2>/dev/null"
sb_wait_port "$RPORT" 10
PD_FAIL_MODE=tempfail pd_start r "redis://127.0.0.1:$RPORT"
r1=$(action r 16.7.0.1 u@foreign.example)
r2=$(action r 16.7.0.2 u@foreign.example)
r3=$(action r 16.7.0.3 u@foreign.example)
DEFER="action=DEFER_IF_PERMIT 4.7.1 Rate limit service unavailable"
check "a replica as the store: RedisFailMode tempfail, each time" test "$r1|$r2|$r3" = "$DEFER|$DEFER|$DEFER"
check "  ... said once: $(grep -m1 'rate store:' "$SB/r.log")" \
	eval '[ "$(grep -c "rate store: READONLY" "$SB/r.log")" = 1 ]'
done_testing
