#!/bin/bash
# t-policy-redis-tls.sh - the rate store over TLS (RateStore rediss://),
# hiredis' SSL support (libhiredis_ssl), against a real redis-server's TLS
# port with certificates made here by openssl:
# - where the system's hiredis has TLS (1.x, Debian 13): a client
#   certificate that Redis wants and a CA that signed Redis' certificate
#   work (the question is counted); a wrong CA, or no client certificate,
#   is one log line and RedisFailMode (tempfail) (Redis answers a missing
#   client certificate with an alert or a reset, whichever the client
#   reads first); a key file everyone
#   can read, a certificate without its key, a CA file that cannot be
#   loaded are refused at start;
# - where it has none (0.14, Debian 12: no libhiredis_ssl), rediss:// is
#   refused at start (and by -t) with the reason.
# Everywhere, a TLS setting with a redis:// (plain) store is refused.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
sb_need_cmd redis-server redis-server
sb_need_cmd openssl openssl
. "$MW_TESTLIB/redis.sh"
PY=${MW_PYTHON:-/usr/bin/python3}
PD_BIN=${PD_BIN:-$(mw_sbin policy mailwarren-policyd)}
sb_init policy-redis-tls

# the system's hiredis decides what must happen, not the binary under test
if /sbin/ldconfig -p | grep -q 'libhiredis_ssl\.so'; then TLS=yes; else TLS=no; fi

. "$MW_TESTLIB/pd_redis.sh"
start_pd() { pd_start "$@"; }
refused() { pd_refused "$@"; }
action() { pd_action "$@"; }
DEFER="action=DEFER_IF_PERMIT 4.7.1 Rate limit service unavailable"

if [ $TLS = no ]; then
	plan 3
	REDIS_PORT=$(sb_port)
	check "no TLS in this system's hiredis: rediss:// is refused at start, with the reason" \
		eval 'refused n "rediss://127.0.0.1:$REDIS_PORT" && grep -q "TLS to Redis (rediss://.*built with hiredis 0\.[0-9.]*, which has no TLS support" "$SB/n.log"'
	out=$("$PD_BIN" -t -c "$SB/n.conf" 2>&1)
	check "  ... and by -t ($out)" eval 'grep -q "has no TLS support" <<<"$out"'
	check "RedisCAFile with a plain redis:// store is refused at start" \
		eval 'refused p "redis://127.0.0.1:$REDIS_PORT" "RedisCAFile /etc/ssl/certs/ca-certificates.crt" && grep -q "RedisCAFile: only with TLS (RateStore rediss://HOST:PORT)" "$SB/p.log"'
	done_testing
	exit
fi

# ---- certificates: a CA for Redis and the client, and another CA -------------
ossl() { openssl "$@" >>"$SB/openssl.log" 2>&1; }
mk_ca() {	# mk_ca NAME
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$SB/$1.key" -out "$SB/$1.crt" -subj "/CN=mailwarren test $1" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
mk_cert() {	# mk_cert NAME CA
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$SB/$1.key" -out "$SB/$1.csr" -subj "/CN=$1" &&
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$SB/$1.ext" &&
	ossl x509 -req -in "$SB/$1.csr" -CA "$SB/$2.crt" -CAkey "$SB/$2.key" -CAcreateserial \
		-days 2 -out "$SB/$1.crt" -extfile "$SB/$1.ext" &&
	chmod 600 "$SB/$1.key"
}
mk_ca ca && mk_ca other && mk_cert server ca && mk_cert client ca || skip_all "openssl could not make the test certificates"

TLS_PORT=$(sb_port)
REDIS_EXTRA_CONF="tls-port $TLS_PORT
tls-cert-file $SB/server.crt
tls-key-file $SB/server.key
tls-ca-cert-file $SB/ca.crt
tls-auth-clients yes"
redis_start || skip_all "redis-server did not start"
plan 10
STORE=rediss://127.0.0.1:$TLS_PORT
CLIENT="RedisCAFile $SB/ca.crt
RedisCertFile $SB/client.crt
RedisKeyFile $SB/client.key"

start_pd t "$STORE" "$CLIENT"
check "rediss:// with the CA and a client certificate: the question is answered" \
	sb_eventually 5 eval '[ "$(action t 16.7.0.1 u@foreign.example)" = action=OK ]'
check "  ... and counted in Redis (its TLS port speaks nothing else)" \
	test "$(redis_cli --scan --pattern 'mwrl:rc:cust7:*' | wc -l)" -ge 1

start_pd w "$STORE" "RedisCAFile $SB/other.crt
RedisCertFile $SB/client.crt
RedisKeyFile $SB/client.key"
r1=$(action w 16.7.0.1 u@foreign.example); sleep 1.2
r2=$(action w 16.7.0.1 u@foreign.example)
check "a CA that did not sign Redis' certificate: RedisFailMode tempfail ($r1 / $r2)" \
	test "$r1|$r2" = "$DEFER|$DEFER"
check "  ... one log line: $(grep -m1 'failing over' "$SB/w.log")" \
	eval '[ "$(grep -c "rate store rediss://.*: TLS: certificate verify failed; failing over" "$SB/w.log")" = 1 ] && [ "$(grep -c "failing over" "$SB/w.log")" = 1 ]'

start_pd c "$STORE" "RedisCAFile $SB/ca.crt"
r=$(action c 16.7.0.1 u@foreign.example)
check "no client certificate where Redis wants one: RedisFailMode tempfail ($r)" test "$r" = "$DEFER"
check "  ... logged: $(grep -m1 'failing over' "$SB/c.log")" \
	grep -Eq "rate store rediss://.*: (TLS: .*certificate required|Connection reset by peer|connection closed); failing over" "$SB/c.log"

cp "$SB/client.key" "$SB/open.key" && chmod 644 "$SB/open.key"
check "a key file everyone can read is refused at start" \
	eval 'refused x1 "$STORE" "RedisCertFile $SB/client.crt
RedisKeyFile $SB/open.key" && grep -q "RedisKeyFile $SB/open.key: readable by everyone" "$SB/x1.log"'
check "a certificate without its key is refused at start" \
	eval 'refused x2 "$STORE" "RedisCertFile $SB/client.crt" && grep -q "RedisCertFile and RedisKeyFile: set both or neither" "$SB/x2.log"'
check "a CA file that cannot be loaded is refused at start" \
	eval 'refused x3 "$STORE" "RedisCAFile $SB/none.crt" && grep -q "RedisCAFile $SB/none.crt: Failed to load CA Certificate" "$SB/x3.log"'
check "RedisCAFile with a plain redis:// store is refused at start" \
	eval 'refused x4 "redis://127.0.0.1:$REDIS_PORT" "RedisCAFile $SB/ca.crt" && grep -q "RedisCAFile: only with TLS (RateStore rediss://HOST:PORT)" "$SB/x4.log"'
done_testing
