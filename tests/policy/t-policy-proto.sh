#!/bin/bash
# t-policy-proto.sh - protocol hygiene and reload of a real mailwarren-policyd:
# pipelined requests, every kind of malformed input (closed without a reply,
# daemon unharmed), configuration errors, and SIGHUP reload that keeps live
# connections and keeps the old tables when a new file is bad.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
. "$MW_TESTLIB/policyd.sh"

PY=${MW_PYTHON:-/usr/bin/python3}
CLIENT=$MW_TESTLIB/policy_client.py
sb_init policy-proto

# a private copy of the tables, so that reload can change them
D=$SB/tables
mkdir -p "$D"
cp "$MW_TOP_SRCDIR"/tests/policy/{hosted.txt,customers.cidr,sender-logins,ratelimits,golden.conf.in} "$D/"
policyd_config "$D/golden.conf.in"
policyd_start || { echo "1..0 # SKIP policyd did not start"; exit 1; }

req() {		# req RECIPIENT [CLIENT] - one minimal request
	printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=%s\nrecipient=%s\nsender=a@b\n\n' \
		"${2:-198.51.100.7}" "$1"
}
raw() {		# raw: send stdin, print replies and [open]/[closed]
	"$PY" "$CLIENT" --raw "unix:$PD_SOCK"
}

out=$( { req u@hosted.example; req u@foreign.example; req u@x.sub.example; } | raw)
check "three pipelined requests in one write get three replies in order" \
	test "$out" = "$(printf 'action=DUNNO\n\naction=554 5.7.1 Relay access denied\n\naction=DUNNO\n\n[open]')"

out=$(printf 'protocol_state=RCPT\nrecipient=u@hosted.example\n\n' | raw)
check "missing request= -> closed without a reply" test "$out" = "[closed]"
check "  ... and a warning naming the reason" grep -q 'protocol error from local socket: missing request attribute' "$PD_LOG"

out=$(printf 'request=junk\nrecipient=u@hosted.example\n\n' | raw)
check "unknown request type -> closed without a reply" test "$out" = "[closed]"

out=$( { printf 'request=smtpd_access_policy\nsender='; head -c 9000 /dev/zero | tr '\0' a; printf '\n\n'; } | raw)
check "9000-byte line (MaxLineLength 8K) -> closed without a reply" test "$out" = "[closed]"
check "  ... logged as too long" grep -q 'line longer than 8192 bytes' "$PD_LOG"

out=$( { printf 'request=smtpd_access_policy\n'; for i in $(seq 300); do printf 'x%d=1\n' "$i"; done; printf '\n'; } | raw)
check "300 attributes (MaxAttributes 256) -> closed without a reply" test "$out" = "[closed]"

out=$(printf 'request=smtpd_access_policy\nno equals sign\n\n' | raw)
check "a line without = -> closed without a reply" test "$out" = "[closed]"

out=$(printf 'request=smtpd_access_policy\nrecipient=u@hosted\000.example\n\n' | raw)
check "a NUL byte -> closed without a reply" test "$out" = "[closed]"

out=$(printf 'request=smtpd_access_policy\r\nrecipient=u@hosted.example\r\n\r\n' | raw)
check "CRLF lines are not a request (no accidental answer)" test "${out%%action=*}" = "$out"

out=$( { req u@hosted.example; printf 'request=smtpd_access_policy\nrecip'; } | raw)
check "a complete request is answered; a trailing partial one waits" \
	test "$out" = "$(printf 'action=DUNNO\n\n[open]')"

out=$(req u@foreign.example 16.1.2.3 | raw)
check "after all that the daemon still answers" test "$out" = "$(printf 'action=OK\n\n[open]')"
check "  ... and nothing crashed" kill -0 "$PD_PID"

# ---- reload on a live connection ----
"$PY" - "$PD_SOCK" "$PD_PID" "$D" "$MW_TESTLIB" >"$SB/reload.out" 2>&1 <<'PY'
import os, signal, socket, sys, time
sock, pid, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, sys.argv[4])
import policy_client
s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(5)
def ask(rcpt):
    return policy_client.ask(s, rcpt)
def hup():
    os.kill(pid, signal.SIGHUP); time.sleep(0.5)
print("before:", ask("u@new.example"))
with open(d + "/hosted.txt", "a") as f: f.write("new.example\n")
hup()
print("after good reload:", ask("u@new.example"))
with open(d + "/hosted.txt", "a") as f: f.write("bad entry with spaces\n")
hup()
print("after bad reload:", ask("u@new.example"))
PY
check "before reload a new domain is foreign" grep -qx 'before: action=554 5.7.1 Relay access denied' "$SB/reload.out"
check "SIGHUP reload: same connection, new domain hosted" grep -qx 'after good reload: action=DUNNO' "$SB/reload.out"
check "bad file at reload: connection kept, old tables kept" grep -qx 'after bad reload: action=DUNNO' "$SB/reload.out"
check "  ... the failure is logged as file:line: reason" \
	grep -q "reload failed, keeping the old configuration: $PD_CONF: HostedDomains: $D/hosted.txt:5: expected one entry per line" "$PD_LOG"
check "  ... and the good reload logged what it loaded" grep -q 'reloaded .*: 4 hosted domains' "$PD_LOG"

# ---- requests are answered while a big reload loads (it runs in a thread) ----
"$PY" - "$PD_SOCK" "$PD_PID" "$D" "$PD_LOG" "$MW_TESTLIB" >"$SB/bigreload.out" 2>&1 <<'PY'
import os, signal, socket, sys, time
sock, pid, d, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sys.path.insert(0, sys.argv[5])
import policy_client
with open(d + "/hosted.txt", "w") as f: f.write("hosted.example\nnew.example\n")
with open(d + "/customers.cidr", "a") as f:	# 400,000 more networks
    for i in range(400000):
        f.write("17.%d.%d.%d/32 c%d\n" % (i >> 16, (i >> 8) & 255, i & 255, i))
def reloads():
    return open(log).read().count("reloaded ")
s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(30)
def ask(rcpt, client="198.51.100.7"):
    return policy_client.ask(s, rcpt, client)
n = reloads()
os.kill(pid, signal.SIGHUP)
during = 0
for i in range(2000):
    a = ask("u@new.example")
    if reloads() > n:
        break
    during += 1 if a == "action=DUNNO" else 0
    time.sleep(0.001)
print("answered during the reload:", during)
print("after:", ask("u@foreign.example", "17.6.26.5"), reloads() - n)
PY
during=$(sed -n 's/^answered during the reload: //p' "$SB/bigreload.out")
check "a reload of 400,000 more networks: requests answered meanwhile (${during:-?})" \
	test "${during:-0}" -gt 0
check "  ... then it is in force (a new customer relays)" grep -qx 'after: action=OK 1' "$SB/bigreload.out"

# ---- one reload rule (mailwarren(7)): a file that would not start keeps
# the whole old configuration; restart-only settings are kept and warned ----
hup_wait() { # hup_wait PATTERN: SIGHUP, wait until the log has one more PATTERN line
	local n
	n=$(grep -c -- "$1" "$PD_LOG")
	kill -HUP "$PD_PID"
	sb_eventually 30 bash -c "[ \$(grep -c -- '$1' '$PD_LOG') -gt $n ]"
}
cp "$PD_CONF" "$SB/policyd.conf.good"
printf 'HostedDomains unknownkey.example\nBogusKey 1\n' >>"$PD_CONF"
check "unknown key at reload: logged as an error, file:line" \
	hup_wait "reload failed, keeping the old configuration: $PD_CONF:[0-9]*: unknown parameter \"BogusKey\""
out=$(req u@unknownkey.example | raw)
check "  ... and nothing of that file applies (its new hosted domain is still foreign)" \
	test "$out" = "$(printf 'action=554 5.7.1 Relay access denied\n\n[open]')"
cp "$SB/policyd.conf.good" "$PD_CONF"
printf 'RedisTimeout 250\nRecipientUserdbTimeout 900\nRecipientCacheSize 7\nPidFile %s/other.pid\n' "$SB" >>"$PD_CONF"
hup_wait "reloaded "
for kv in "RedisTimeout changed to 250: needs restart; still using 100" \
	"RecipientUserdbTimeout changed to 900: needs restart; still using 500" \
	"RecipientCacheSize changed to 7: needs restart; still using 100000" \
	"PidFile changed to \"$SB/other.pid\": needs restart; still using \"(unset)\""; do
	check "restart-only at reload: \"$kv\"" grep -qF "reload: $kv" "$PD_LOG"
done
hup_wait "reloaded "
check "  ... and again at the next reload of the same file (the running value is kept)" \
	test "$(grep -cF 'reload: RedisTimeout changed to 250: needs restart' "$PD_LOG")" = 2
cp "$SB/policyd.conf.good" "$PD_CONF"

# ---- configuration errors at start ----
policyd_stop
printf 'PolicySocket local:%s\nHostedDomains %s\nBogusKey 1\n' "$PD_SOCK" "$D/hosted.txt" >"$SB/bad.conf"
out=$("$PD_BIN" -t -c "$SB/bad.conf" 2>&1)
check "-t reports an unknown key as file:line" test "$out" = "$SB/bad.conf:3: unknown parameter \"BogusKey\""
printf 'PolicySocket local:%s\nCustomerNetworks %s\n' "$PD_SOCK" "$SB/bad.cidr" >"$SB/bad.conf"
printf '16.1.2.3/24 cust\n' >"$SB/bad.cidr"
out=$("$PD_BIN" -f -c "$SB/bad.conf" 2>&1); rc=$?
check "a bad CIDR file stops the start (exit $rc) naming file:line" \
	test "$rc" = 1 -a "${out#*fatal: $SB/bad.conf: $SB/bad.cidr:1: 16.1.2.3/24: address has bits set beyond the /24 prefix}" != "$out"
printf 'PolicySocket inet:127.0.0.1:10040\nHostedDomains example.com\n' >"$SB/bad.conf"
out=$("$PD_BIN" -t -c "$SB/bad.conf" 2>&1)
check "Postfix's inet:host:port form is refused with a hint" \
	test "${out#*looks like Postfix}" != "$out"
done_testing
