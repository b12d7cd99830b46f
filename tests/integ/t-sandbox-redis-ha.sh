#!/bin/bash
# t-sandbox-redis-ha.sh - the Sentinel and Cluster sandboxes of tests/lib/redis.sh
# work: a master with two replicas and three Sentinels that fail over when the
# master is killed, and a 3-master Redis Cluster made by redis-cli --cluster create.
# Their real replies (SENTINEL get-master-addr-by-name, ROLE, READONLY, CLUSTER
# SLOTS, MOVED) read by mw_rtopo (tests/lib/rtopo-read) say what the servers say.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd redis-server redis-server
sb_need_cmd redis-sentinel redis-sentinel
sb_need_cmd redis-cli redis-tools
. "$MW_TESTLIB/redis.sh"

RTOPO=${MW_TESTTOOLS:-${top_builddir:-$top_srcdir}/tests/lib}/rtopo-read
[ -x "$RTOPO" ] || { echo "Bail out! $RTOPO not built (configure found no hiredis?)"; exit 1; }
sb_init redis-ha
plan 24
# rt PORT MODE [KEY] -- ARGS...: mw_rtopo's reading of PORT's reply to ARGS
rt() {
	local port=$1 mode=$2 key=
	shift 2
	[ "$1" = -- ] || { key=$1; shift; }
	shift
	redis_raw "$port" "$@" | "$RTOPO" "$mode" $key
}

# --- Sentinel ---
if ! redis_sentinel_setup mwmaster; then
	not_ok "redis_sentinel_setup"
	echo "Bail out! the Sentinel sandbox did not come up"
	exit 1
fi
ok "redis_sentinel_setup: master, 2 replicas, 3 Sentinels ($REDIS_SENTINELS)"

mport=$(redis_node_port m)
check "each Sentinel names the master 127.0.0.1:$mport" \
	test "$(redis_sentinel_master s1) $(redis_sentinel_master s2) $(redis_sentinel_master s3)" = \
	"127.0.0.1:$mport 127.0.0.1:$mport 127.0.0.1:$mport"
check "ROLE: m is a master, r1 and r2 replicas" \
	test "$(redis_node_cli m ROLE | head -1) $(redis_node_cli r1 ROLE | head -1) $(redis_node_cli r2 ROLE | head -1)" = \
	"master slave slave"
redis_node_cli m SET mw:ha:k before >/dev/null
check "a write on the master reaches both replicas" \
	sb_eventually 10 sh -c "[ \"\$($REDIS_CLI -p $(redis_node_port r1) GET mw:ha:k)\" = before ] &&
		[ \"\$($REDIS_CLI -p $(redis_node_port r2) GET mw:ha:k)\" = before ]"
err=$(redis_node_cli r1 SET mw:ha:k x 2>&1)
check "a replica refuses writes (READONLY)" grep -q READONLY <<<"$err"
check "mw_rtopo reads the Sentinel's answer: 127.0.0.1:$mport" \
	test "$(rt "$(redis_node_port s2)" sentinel -- SENTINEL get-master-addr-by-name mwmaster)" = "127.0.0.1:$mport"
check "mw_rtopo: a master name the Sentinel does not know is unknown" \
	test "$(rt "$(redis_node_port s2)" sentinel -- SENTINEL get-master-addr-by-name nosuch)" = unknown
check "mw_rtopo reads ROLE: master, replica of 127.0.0.1:$mport, sentinel" \
	test "$(rt "$mport" role -- ROLE)|$(rt "$(redis_node_port r2)" role -- ROLE)|$(rt "$(redis_node_port s1)" role -- ROLE)" = \
	"master|replica 127.0.0.1:$mport|sentinel"
check "mw_rtopo reads a replica's refusal as READONLY" \
	test "$(rt "$(redis_node_port r1)" error -- SET mw:ha:k x)" = readonly

t0=$(date +%s.%N)
redis_node_kill m
check "redis_node_kill: the master is gone" test "$(redis_node_cli m PING 2>/dev/null)" != PONG
if newm=$(redis_sentinel_wait_failover "$mport" 60); then
	t1=$(date +%s.%N)
	ok "the Sentinels fail over to $newm"
	diag "failover: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s from SIGKILL to all three Sentinels naming a ROLE master"
else
	not_ok "the Sentinels fail over"
	for s in s1 s2 s3; do redis_node_log "$s" 15 | sed 's/^/# /'; done
	newm=r1
fi
nport=$(redis_node_port "$newm")
check "mw_rtopo: the Sentinels now name 127.0.0.1:$nport, ROLE says master" \
	test "$(rt "$(redis_node_port s1)" sentinel -- SENTINEL get-master-addr-by-name mwmaster)|$(rt "$nport" role -- ROLE)" = \
	"127.0.0.1:$nport|master"
check "the new master kept the replicated data" test "$(redis_node_cli "$newm" GET mw:ha:k)" = before
check "the new master takes writes" test "$(redis_node_cli "$newm" SET mw:ha:k after)" = OK
other=r1
[ "$newm" = r1 ] && other=r2
check "the other replica follows the new master" \
	sb_eventually 30 sh -c "[ \"\$($REDIS_CLI -p $(redis_node_port $other) GET mw:ha:k)\" = after ]"
pid=${REDIS_NODE_PID[s3]}
redis_node_stop s3
check "redis_node_stop: a Sentinel is gone" test ! -e "/proc/$pid"

# --- Cluster ---
if ! redis_cluster_setup; then
	not_ok "redis_cluster_setup"
	echo "Bail out! the Cluster sandbox did not come up"
	exit 1
fi
ok "redis_cluster_setup: 3 masters ($REDIS_CLUSTER_NODES)"
info=$(redis_node_cli c1 CLUSTER INFO | tr -d '\r')
check "all 16384 slots assigned, 3 known nodes" \
	test "$(sed -n 's/^cluster_slots_assigned://p' <<<"$info") $(sed -n 's/^cluster_known_nodes://p' <<<"$info")" = "16384 3"
check "CLUSTER KEYSLOT agrees with the specification's examples (unit test values)" \
	test "$(redis_node_cli c1 CLUSTER KEYSLOT somekey) $(redis_node_cli c1 CLUSTER KEYSLOT 'foo{hash_tag}')" = "11058 2515"
# a key on each node, by the slot map; a node that does not own a key says MOVED
moved=0 owner_ok=0 moved_ok=0 owners=
c1port=$(redis_node_port c1)
for k in a b c d e f g h; do
	slot=$(redis_node_cli c1 CLUSTER KEYSLOT "mw:{$k}:x")
	mine=$(rt "$c1port" slots "mw:{$k}:x" -- CLUSTER SLOTS)
	for n in c1 c2 c3; do
		out=$(redis_node_cli "$n" SET "mw:{$k}:x" 1 2>&1)
		case $out in
		MOVED*)
			moved=$((moved + 1))
			[ "$(rt "$(redis_node_port "$n")" error -- SET "mw:{$k}:x" 1)" = \
			  "moved $slot 127.0.0.1:${mine##* }" ] && moved_ok=$((moved_ok + 1)) ;;
		OK)
			[ "$mine" = "16384 3 $slot $(redis_node_port "$n")" ] && owner_ok=$((owner_ok + 1))
			owners="$owners $n" ;;
		esac
	done
done
check "each key is owned by one node, the two others answer MOVED" test "$moved" = 16
check "mw_rtopo's slot map (CLUSTER SLOTS, keyslot) names the owner of each key ($owners)" \
	test "$owner_ok" = 8
check "mw_rtopo reads each MOVED: the key's slot and its owner" test "$moved_ok" = 16
same=0
for k in 'foo{}{bar}' 'foo{{bar}}zap' 'foo{bar}{zap}' '{user1000}.following' '{}' 'plain' 'a{b'; do
	ours=$(rt "$c1port" slots "$k" -- CLUSTER SLOTS | cut -d' ' -f3)
	[ "$ours" = "$(redis_node_cli c1 CLUSTER KEYSLOT "$k")" ] && same=$((same + 1))
done
check "mw_rtopo's key slot is CLUSTER KEYSLOT's for 7 hash-tag cases" test "$same" = 7
check "redis-cli -c follows the redirections" \
	test "$("$REDIS_CLI" -c -p "$(redis_node_port c1)" GET 'mw:{h}:x')$("$REDIS_CLI" -c -p "$(redis_node_port c2)" GET 'mw:{a}:x')" = 11

done_testing
