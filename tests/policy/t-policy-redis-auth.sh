#!/bin/bash
# t-policy-redis-auth.sh - mailwarren-policyd logs into a real Redis that
# wants a password: AUTH with RedisPasswordFile (the default user's
# requirepass) and with RedisUser (a Redis 6+ ACL user), SELECT of
# RedisDatabase; a wrong password or a database Redis has not is one clear
# log line and RedisFailMode (tempfail), however many requests come; a
# password file everyone can read, RedisPassword and RedisPasswordFile
# together, or RedisUser without a password are refused at start; a
# RedisPassword in the configuration file works but is warned about; a
# reload that changes them says "needs restart" without showing a secret.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
sb_need_cmd redis-server redis-server
. "$MW_TESTLIB/redis.sh"
PY=${MW_PYTHON:-/usr/bin/python3}
PD_BIN=${PD_BIN:-$(mw_sbin policy mailwarren-policyd)}
sb_init policy-redis-auth

DEFAULT_PW=default-$RANDOM$RANDOM
ACL_PW=acl-$RANDOM$RANDOM
REDIS_EXTRA_CONF="requirepass $DEFAULT_PW
user mwpolicy on >$ACL_PW ~mwrl:* resetchannels -@all +eval +evalsha +script|load +mget +incrby +expire +time +select"
export REDISCLI_AUTH=$DEFAULT_PW	# for redis_cli (redis-cli reads it)
redis_start || skip_all "redis-server did not start"
plan 18

. "$MW_TESTLIB/pd_redis.sh"
secret() {	# secret FILE TEXT [MODE]
	printf '%s\n' "$2" >"$1" && chmod "${3:-600}" "$1"
}
STORE=redis://127.0.0.1:$REDIS_PORT
start_pd() { pd_start "$1" "$STORE" "$2"; }
refused() { pd_refused "$1" "$STORE" "$2"; }
conf() { pd_conf "$1" "$STORE" "$2"; }
action() { pd_action "$@"; }
DEFER="action=DEFER_IF_PERMIT 4.7.1 Rate limit service unavailable"

# ---- the default user's password, database 3 -------------------------------
secret "$SB/default.pw" "$DEFAULT_PW"
start_pd a "RedisPasswordFile $SB/default.pw
RedisDatabase 3"
check "RedisPasswordFile: the question is answered and counted" \
	sb_eventually 5 eval '[ "$(action a 16.7.0.1 u@foreign.example)" = action=OK ]'
check "  ... in database 3 ($(redis_cli -n 3 --scan --pattern 'mwrl:*' | wc -l) keys), not 0" \
	eval '[ "$(redis_cli -n 3 --scan --pattern "mwrl:*" | wc -l)" -ge 1 ] && [ -z "$(redis_cli -n 0 --scan --pattern "mwrl:*")" ]'

# ---- an ACL user -------------------------------------------------------------
secret "$SB/acl.pw" "$ACL_PW" 640
start_pd u "RedisUser mwpolicy
RedisPasswordFile $SB/acl.pw"
check "RedisUser + RedisPasswordFile (ACL): the question is answered" \
	sb_eventually 5 eval '[ "$(action u 16.9.0.1 u@foreign.example)" = action=OK ]'
check "  ... on a connection logged in as mwpolicy" \
	eval 'redis_cli CLIENT LIST | grep -q "user=mwpolicy"'
check "  ... and counted in database 0" test "$(redis_cli -n 0 --scan --pattern 'mwrl:rc:cust9:*' | wc -l)" -ge 1

# ---- wrong password, missing database: one line, fail mode -----------------
secret "$SB/wrong.pw" "not-$DEFAULT_PW"
start_pd w "RedisPasswordFile $SB/wrong.pw"
r1=$(action w 16.7.0.1 u@foreign.example); sleep 1.2
r2=$(action w 16.7.0.1 u@foreign.example); sleep 1.2
r3=$(action w 16.7.0.1 u@foreign.example)
check "a wrong password: RedisFailMode tempfail, each time ($r1 / $r2 / $r3)" \
	test "$r1|$r2|$r3" = "$DEFER|$DEFER|$DEFER"
check "  ... and one log line saying so: $(grep -m1 'AUTH refused' "$SB/w.log")" \
	eval '[ "$(grep -c "rate store redis://.*: AUTH refused (type -, \"WRONGPASS" "$SB/w.log")" = 1 ] && [ "$(grep -c "failing over" "$SB/w.log")" = 1 ]'
check "  ... which shows no password" eval '! grep -q -e "$DEFAULT_PW" "$SB/w.log"'
start_pd n "RedisPasswordFile $SB/default.pw
RedisDatabase 99"
r=$(action n 16.7.0.1 u@foreign.example)
check "a database Redis has not (99): RedisFailMode tempfail ($r)" test "$r" = "$DEFER"
check "  ... logged: $(grep -m1 'SELECT refused' "$SB/n.log")" grep -q "rate store redis://.*: SELECT refused" "$SB/n.log"

# ---- RedisPassword in the configuration file ---------------------------------
start_pd p "RedisPassword $DEFAULT_PW"
check "RedisPassword works" sb_eventually 5 eval '[ "$(action p 16.7.0.3 u@foreign.example)" = action=OK ]'
check "  ... with a warning when everyone can read the file" \
	grep -q "RedisPassword is in a file everyone can read; prefer RedisPasswordFile" "$SB/p.log"

# ---- refused at start ------------------------------------------------------------
secret "$SB/open.pw" "$DEFAULT_PW" 644
check "a password file everyone can read is refused at start" \
	eval 'refused x1 "RedisPasswordFile $SB/open.pw" && grep -q "RedisPasswordFile $SB/open.pw: readable by everyone" "$SB/x1.log"'
check "a missing password file is refused at start" \
	eval 'refused x2 "RedisPasswordFile $SB/none.pw" && grep -q "RedisPasswordFile $SB/none.pw: No such file" "$SB/x2.log"'
check "RedisPassword with RedisPasswordFile is refused at start" \
	eval 'refused x3 "RedisPassword x
RedisPasswordFile $SB/default.pw" && grep -q "RedisPassword and RedisPasswordFile: set one" "$SB/x3.log"'
check "RedisUser without a password is refused at start" \
	eval 'refused x4 "RedisUser mwpolicy" && grep -q "RedisUser: needs RedisPasswordFile" "$SB/x4.log"'

# ---- reload ------------------------------------------------------------------
conf p "RedisPassword changed-$DEFAULT_PW
RedisDatabase 2"
kill -HUP "$PID_p"
check "a reload: RedisPassword and RedisDatabase need a restart, no secret shown" \
	sb_eventually 5 eval 'grep -q "reload: RedisPassword changed: needs restart" "$SB/p.log" && grep -q "reload: RedisDatabase changed to 2: needs restart" "$SB/p.log" && ! grep -q "changed-" "$SB/p.log"'
check "  ... and the running login goes on working" \
	eval '[ "$(action p 16.7.0.3 u@foreign.example)" = action=OK ]'
done_testing
