#!/bin/bash
# t-milter-cache.sh - libclamav's clean-file cache and DisableCache (TAP).
# The milter (-v) logs how many bytes each scan went through.  With the
# cache on (the default) the same message a second time is answered from
# the cache (fewer bytes scanned) and still accepted; an attachment seen
# before inside a new message is not scanned again either; an infected
# message is never cached (rejected every time).  With DisableCache yes
# every scan goes through every byte.  (libclamav counts in 4 KB units.)  Nothing here measures time.
# No spamd: SpamdHosts none.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_init t-milter-cache
mwm_db

# a message with a 300 KB base64 attachment of random bytes
mkmsg() {
	{
		printf 'From: a@origin.example\r\nTo: b@dest.example\r\nSubject: %s\r\n' "$2"
		printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=CACHE\r\n\r\n'
		printf -- '--CACHE\r\nContent-Type: text/plain\r\n\r\nsee the attachment (%s)\r\n' "$2"
		printf -- '--CACHE\r\nContent-Type: application/octet-stream\r\n'
		printf 'Content-Transfer-Encoding: base64\r\n\r\n'
		base64 -w 76 "$SB/blob" | sed 's/$/\r/'
		printf -- '--CACHE--\r\n'
	} >"$1"
}
head -c 300000 /dev/urandom >"$SB/blob"
mkmsg "$SB/m1.eml" one
mkmsg "$SB/m2.eml" two		# another message, the same attachment

# scanned QID: the bytes the scan of QID went through (the last such line)
scanned() {
	sed -n "s/.*$1: scan done, \([0-9]*\) bytes scanned.*/\1/p" "$MWM_LOG" | tail -n 1
}
# start NAME KEY VALUE...: the milter with -v
start() {
	MWM_FLAGS=-v mwm_start "$@" SpamdHosts none || { echo "Bail out! milter did not start"; exit 1; }
}
# send QID FILE: one message, accepted or rejected, with its scan logged
send() {
	mwm_send "msg=$2" "qid=$1" && sb_eventually 10 grep -q "$1: scan done" "$MWM_LOG"
}

start on
check "cache on: a message is accepted" send ON1 "$SB/m1.eml"
check "  ... and the same message again" send ON2 "$SB/m1.eml"
a=$(scanned ON1) b=$(scanned ON2)
diag "cache on: first scan $a bytes, the same message again $b bytes"
check "  ... the second time from the cache: fewer bytes scanned ($b < $a)" \
	test -n "$a" -a -n "$b" -a "${b:-0}" -lt "${a:-0}"
check "cache on: another message with the same attachment is accepted" send ON3 "$SB/m2.eml"
c=$(scanned ON3)
diag "cache on: the same attachment in another message: $c bytes"
check "  ... without scanning the attachment again ($c < $a)" test -n "$c" -a "${c:-0}" -lt "${a:-0}"
for i in 1 2; do
	check "cache on: EICAR in a zip is rejected (time $i)" \
		eval 'mwm_send "msg=$MWM_S/eicar-zip.eml" "qid=EI$i" && mwm_has "reply replycode"'
done
mwm_stop

start off DisableCache yes
check "DisableCache yes: a message is accepted" send OFF1 "$SB/m1.eml"
check "  ... and the same message again" send OFF2 "$SB/m1.eml"
a=$(scanned OFF1) b=$(scanned OFF2)
diag "DisableCache yes: $a and $b bytes"
check "  ... scanned in full both times ($a = $b, more than the 300000-byte attachment)" \
	test -n "$a" -a "${a:-0}" = "${b:-x}" -a "${a:-0}" -gt 300000
mwm_stop
check "no sanitizer report in the milter logs" \
	bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$SB/on.log' '$SB/off.log'"

done_testing
