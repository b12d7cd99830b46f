#!/bin/bash
# t-policy-hostile.sh - mailwarren-policyd against a hostile or broken rate
# store and hostile SASL logins (issue 19):
# - a fake Redis answers the rate script with replies that are not its
#   answer (an integer out of range or negative, an error, a bulk string,
#   malformed numbers, 120,000 nested arrays): every one follows
#   RedisFailMode (tempfail: DEFER_IF_PERMIT), none is taken as "within
#   limits", and the daemon survives them all; so do a reply to no request,
#   a RESP3 push, and a store that answers NOSCRIPT even after the script
#   was loaded again (asked once more, then RedisFailMode);
# - RateStore redis://[::1]:PORT reaches a real Redis over IPv6, and an
#   unbracketed IPv6 host is refused at start with a reason;
# - control bytes of sasl_username (CR, ESC) never reach the reply to
#   Postfix or the log line: they are shown as "?", as a sender's are.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
sb_need_cmd redis-server redis-server
. "$MW_TESTLIB/redis.sh"
PY=${MW_PYTHON:-/usr/bin/python3}
PD_BIN=${PD_BIN:-$(mw_sbin policy mailwarren-policyd)}
sb_init policy-hostile
plan 26

D=$MW_TOP_SRCDIR/tests/policy
# start_pd NAME STORE [EXTRA] - an instance on $SB/NAME.sock, RedisFailMode tempfail
start_pd() {
	cat >"$SB/$1.conf" <<EOF2
PolicySocket local:$SB/$1.sock
User nobody
Group nogroup
HostedDomains $D/hosted.txt
CustomerNetworks $D/customers.cidr
SenderLoginMap $D/sender-logins
RateLimitMap $D/ratelimits
RateStore $2
RedisTimeout 500
RedisFailMode tempfail
$3
EOF2
	"$PD_BIN" -f -c "$SB/$1.conf" >>"$SB/$1.log" 2>&1 &
	eval "PID_$1=$!"
	sb_at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
	sb_wait_file "$SB/$1.sock" 10
}
# raw NAME - send stdin (one request, bytes as they are); print the action
raw() {
	"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); buf = b""
while b"\n\n" not in buf:
    d = s.recv(65536)
    if not d: break
    buf += d
sys.stdout.write(buf.split(b"\n\n")[0].decode("latin-1"))' "$SB/$1.sock"
}
# ask NAME CLIENT RCPT - a recipient of a customer; the action
ask() {
	printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=%s\nsender=x@y.example\nrecipient=%s\n\n' \
		"$2" "$3" | raw "$1"
}

# ---- a fake Redis: SCRIPT LOAD gets the script's SHA1 (as a real Redis
# answers), every other command the bytes of $SB/reply ---------------------
cat >"$SB/fake_redis.py" <<'EOF2'
import hashlib, socket, sys, threading
reply_file = sys.argv[2]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(8)
def serve(c):
    buf = b""
    while True:
        d = c.recv(65536)
        if not d:
            return
        buf += d
        while True:			# one whole "*N" of "$L" bulks
            try:
                head, rest = buf.split(b"\r\n", 1)
                n = int(head[1:])
                args = []
                for _ in range(n):
                    l, rest = rest.split(b"\r\n", 1)
                    l = int(l[1:])
                    if len(rest) < l + 2:
                        raise ValueError
                    args.append(rest[:l])
                    rest = rest[l + 2:]
            except ValueError:
                break
            buf = rest
            with open(reply_file + ".cmds", "a") as f:
                f.write(b" ".join(args[:2]).decode("latin-1")[:60] + "\n")
            if [a.upper() for a in args[:2]] == [b"SCRIPT", b"LOAD"]:
                sha = hashlib.sha1(args[2]).hexdigest().encode()
                c.sendall(b"$40\r\n" + sha + b"\r\n")
                continue
            with open(reply_file, "rb") as f:
                c.sendall(f.read())
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF2
FPORT=$(sb_port)
printf ':0\r\n' >"$SB/reply"
"$PY" "$SB/fake_redis.py" "$FPORT" "$SB/reply" </dev/null >"$SB/fake_redis.log" 2>&1 &
FAKE=$!
sb_at_exit "kill $FAKE 2>/dev/null; wait $FAKE 2>/dev/null"
sb_wait_port "$FPORT" 10
start_pd f "redis://127.0.0.1:$FPORT" || { not_ok "policyd starts"; done_testing; exit 1; }

# the store healthy again (a reconnect follows a malformed reply)
healthy() {
	printf ':0\r\n' >"$SB/reply"
	sb_eventually 5 eval '[ "$(ask f 16.7.0.1 u@foreign.example)" = action=OK ]'
}
DEFER="action=DEFER_IF_PERMIT 4.7.1 Rate limit service unavailable"
check "the fake store's 0 (within limits) is believed" healthy
printf ':1\r\n' >"$SB/reply"
out=$(ask f 16.7.0.1 u@foreign.example)
check "and its 1 (the first item is over its limit) too ($out)" test "${out#action=450 4.7.1 }" != "$out"
# name and bytes of each reply that is not the script's answer
hostile() {
	healthy || { not_ok "store healthy before the $1 reply"; return; }
	printf -- "$2" >"$SB/reply"
	out=$(ask f 16.7.0.1 u@foreign.example)
	check "$1: RedisFailMode tempfail ($out)" test "$out" = "$DEFER"
}
hostile "an integer beyond 32 bits (:2147483648)" ':2147483648\r\n'
hostile "an item the question has not (:3)" ':3\r\n'
hostile "a negative integer (:-3)" ':-3\r\n'
hostile "an integer beyond 64 bits" ':99999999999999999999\r\n'
hostile "an error reply" '-ERR no script\r\n'
hostile "a bulk string" '$1\r\n0\r\n'
hostile "a bulk string of 2^63-1 bytes" '$9223372036854775807\r\n'
hostile "':' then blanks" ':  \r\n'
hostile "a RESP3 push" '>1\r\n:0\r\n'
healthy
n0=$(grep -c '^EVAL' "$SB/reply.cmds")
l0=$(grep -c '^SCRIPT LOAD' "$SB/reply.cmds")
printf -- '-NOSCRIPT No matching script.\r\n' >"$SB/reply"
out=$(ask f 16.7.0.1 u@foreign.example)
check "NOSCRIPT even after loading again: RedisFailMode tempfail ($out)" test "$out" = "$DEFER"
check "  ... after one more SCRIPT LOAD ($l0 -> $(grep -c '^SCRIPT LOAD' "$SB/reply.cmds")) and one more question ($n0 -> $(grep -c '^EVAL' "$SB/reply.cmds"))" \
	eval '[ $(grep -c "^SCRIPT LOAD" "$SB/reply.cmds") = $((l0 + 1)) ] && [ $(grep -c "^EVAL" "$SB/reply.cmds") = $((n0 + 2)) ]'
healthy
printf -- ':0\r\n:0\r\n' >"$SB/reply"
out=$(ask f 16.7.0.1 u@foreign.example)
check "two replies to one question: the first answers it ($out)" test "$out" = action=OK
check "  ... the second is refused as a reply to no request" \
	sb_eventually 5 grep -q "rate store redis://.*protocol error: a reply to no request" "$SB/f.log"
"$PY" -c 'import sys; sys.stdout.buffer.write(b"*1\r\n" * 120000 + b":0\r\n")' >"$SB/nested"
healthy
cp "$SB/nested" "$SB/reply"
out=$(ask f 16.7.0.1 u@foreign.example)
check "120,000 nested arrays: RedisFailMode tempfail ($out)" test "$out" = "$DEFER"
check "  ... and the daemon is still there" sb_pid_running "$PID_f"
check "a well-formed reply that is not the answer is logged as such" \
	grep -q "rate store: a reply that is not the rate script's answer (type :, 2147483648)" "$SB/f.log"
check "a malformed one is a protocol error" grep -q "rate store redis://.*protocol error" "$SB/f.log"
check "an error reply is logged" grep -q "rate store: ERR no script" "$SB/f.log"

# ---- RateStore over IPv6 ----------------------------------------------------
REDIS_EXTRA_CONF='bind 127.0.0.1 ::1'
redis_start || { not_ok "redis-server on ::1"; done_testing; exit 1; }
start_pd v6 "redis://[::1]:$REDIS_PORT"
check "redis://[::1]:PORT counts in Redis over IPv6" \
	sb_eventually 5 eval '[ "$(ask v6 16.7.0.1 u@foreign.example)" = action=OK ]'
check "  ... (its bucket keys are there)" test "$(redis_cli --scan --pattern 'mwrl:*' | wc -l)" -ge 1
cat >"$SB/bad.conf" <<EOF2
PolicySocket local:$SB/bad.sock
User nobody
Group nogroup
HostedDomains $D/hosted.txt
RateStore redis://::1:$REDIS_PORT
EOF2
timeout 10 "$PD_BIN" -f -c "$SB/bad.conf" >"$SB/bad.log" 2>&1
rc=$?
check "an unbracketed IPv6 host is refused at start (exit $rc): $(head -1 "$SB/bad.log")" \
	eval '[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "IPv6 address in brackets" "$SB/bad.log"'

# ---- control bytes of a SASL login -----------------------------------------
start_pd m memory "RecipientRateLimit 1/1h"
login=$(printf 'Eve\r\033[31m')
out=$(printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=198.51.100.7\nsasl_username=%s\nsender=bob@isp.example\nrecipient=u@foreign.example\n\n' "$login" | raw m)
check "a sender not owned: the login is shown printable ($(printf %s "$out" | cat -v))" \
	test "$out" = "action=553 5.7.1 Sender address <bob@isp.example> not owned by user <eve??[31m>"
req() { printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=198.51.100.7\nsasl_username=%s\nsender=\nrecipient=u%s@foreign.example\n\n' "$login" "$1"; }
req 1 | raw m >/dev/null
out=$(req 2 | raw m)
check "over the rate limit: a 450 without control bytes ($(printf %s "$out" | cat -v))" \
	eval '[ "${out#action=450 }" != "$out" ] && ! printf %s "$out" | grep -q "[[:cntrl:]]"'
check "no control byte of the login in the log" \
	eval 'grep -q "sasl_username=eve??\[31m" "$SB/m.log" && ! grep -q "$(printf "\033")" "$SB/m.log" && ! grep -q "$(printf "\r")" "$SB/m.log"'
done_testing
