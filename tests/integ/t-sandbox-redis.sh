#!/bin/bash
# t-sandbox-redis.sh - the private redis-server of tests/lib/redis.sh works:
# PING, SET/GET, INCR, no persistence, our own port and dir, a clean stop.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd redis-server redis-server
sb_need_cmd redis-cli redis-tools
. "$MW_TESTLIB/redis.sh"

sb_init redis
plan 11

if ! redis_start; then
	not_ok "redis_start"
	echo "Bail out! private redis-server did not start"
	exit 1
fi
ok "redis_start (port $REDIS_PORT)"

check "PING answers PONG" test "$(redis_cli PING)" = PONG

val="v-$$-$RANDOM with spaces"
set_out=$(redis_cli SET mw:test:key "$val")
get_out=$(redis_cli GET mw:test:key)
check "SET/GET round trip" test "$set_out" = OK -a "$get_out" = "$val"
check "GET of a missing key is empty" test -z "$(redis_cli GET mw:test:missing)"

i1=$(redis_cli INCR mw:test:counter)
i2=$(redis_cli INCR mw:test:counter)
i3=$(redis_cli INCRBY mw:test:counter 40)
check "INCR counts 1, 2, then INCRBY 40 gives 42" test "$i1 $i2 $i3" = "1 2 42"
err=$(redis_cli INCR mw:test:key 2>&1)
check "INCR of a non-integer is an error" grep -q 'not an integer' <<<"$err"

# it is our instance: our port, our dir, nothing persisted
info=$(redis_cli INFO server | tr -d '\r')
check "INFO shows our port and pid" \
	test "$(sed -n 's/^tcp_port://p' <<<"$info")" = "$REDIS_PORT" -a \
	"$(sed -n 's/^process_id://p' <<<"$info")" = "$REDIS_PID"
cfg=$(redis_cli CONFIG GET dir; redis_cli CONFIG GET save; redis_cli CONFIG GET appendonly)
check "dir is the sandbox, save and appendonly are off" \
	test "$cfg" = "$(printf 'dir\n%s\nsave\n\nappendonly\nno' "$REDIS_DIR")"

pid=$REDIS_PID
redis_stop
check "redis_stop: the server is gone" test ! -e "/proc/$pid"
out=$(redis_cli PING 2>/dev/null)
check "PING fails after redis_stop" test "$out" != PONG
check "nothing persisted (no RDB or AOF in the dir)" \
	test -z "$(find "$REDIS_DIR" \( -name '*.rdb' -o -name '*.aof' -o -name appendonlydir \) -print)"

done_testing
