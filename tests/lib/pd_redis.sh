# pd_redis.sh - several mailwarren-policyd instances on a rate store, for the
# Redis tests (sourced, bash; needs tests/lib/sandbox.sh sourced, sb_init
# called, and PD_BIN set).
#
# pd_conf NAME STORE [EXTRA]
#                  write $SB/NAME.conf (mode 644, as a packaged file): a
#                  policyd on local:$SB/NAME.sock, as nobody:nogroup, with
#                  the tables of tests/policy (hosted domains, customer
#                  networks, $PD_RATE_LIMIT_MAP), RecipientRateLimit
#                  $PD_RCPT_LIMIT, RateStore STORE, RedisTimeout
#                  $PD_REDIS_TIMEOUT, RedisFailMode $PD_FAIL_MODE, then the
#                  EXTRA lines
# pd_start NAME STORE [EXTRA]
#                  pd_conf, then start it in the foreground (output appended
#                  to $SB/NAME.log; PID_NAME is its pid; killed at exit) and
#                  wait for its socket; the command line is prefixed with
#                  the words of the array PD_PREFIX when set (env ...)
# pd_refused NAME STORE [EXTRA]
#                  pd_conf, then run it: true when it refuses to start (exits
#                  non-zero within 10 s); what it said is in $SB/NAME.log
# pd_action NAME CLIENT RCPT
#                  one RCPT request from CLIENT on a fresh connection; prints
#                  the action
#
# Defaults: PD_RATE_LIMIT_MAP tests/policy/ratelimits, PD_RCPT_LIMIT 500/1m,
# PD_REDIS_TIMEOUT 500, PD_FAIL_MODE tempfail.

PD_DIR=$MW_TOP_SRCDIR/tests/policy

pd_conf() {
	cat >"$SB/$1.conf" <<EOF
PolicySocket local:$SB/$1.sock
User nobody
Group nogroup
HostedDomains $PD_DIR/hosted.txt
CustomerNetworks $PD_DIR/customers.cidr
RateLimitMap ${PD_RATE_LIMIT_MAP:-$PD_DIR/ratelimits}
RecipientRateLimit ${PD_RCPT_LIMIT:-500/1m}
RateStore $2
RedisTimeout ${PD_REDIS_TIMEOUT:-500}
RedisFailMode ${PD_FAIL_MODE:-tempfail}
${3:-}
EOF
	chmod 644 "$SB/$1.conf"
}

pd_start() {
	pd_conf "$@"
	${PD_PREFIX[@]+"${PD_PREFIX[@]}"} "$PD_BIN" -f -c "$SB/$1.conf" >>"$SB/$1.log" 2>&1 &
	eval "PID_$1=$!"
	sb_at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
	sb_wait_file "$SB/$1.sock" 10
}

pd_refused() {
	local rc
	pd_conf "$@"
	timeout 10 "$PD_BIN" -f -c "$SB/$1.conf" >"$SB/$1.log" 2>&1
	rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 124 ]
}

pd_action() {
	"${MW_PYTHON:-/usr/bin/python3}" "$MW_TESTLIB/policy_client.py" --ask "unix:$SB/$1.sock" "$2" "$3" RCPT \
		| sed 's/ [0-9.]*$//'
}
