#!/bin/bash
# t-milter-direct.sh - mailwarren-milter driven directly by miltertest, with
# the generated ClamAV test DB and one real spamd (TAP):
#   - every infected sample is rejected "550 5.7.1 Virus found: NAME" with
#     the name gen-clamdb.py's expected.tsv gives (encoded parts prove the
#     decoders ran); the 451/550 texts are checked byte for byte;
#   - GTUBE is tagged X-Spam-Flag: YES (and rejected with SpamRejectScore),
#     ham X-Spam-Flag: NO, forged inbound X-Spam-* deleted;
#   - spamd down -> 451 4.7.1 Spam scanner unavailable; one of two spamd
#     hosts down -> still scored; SkipAuthenticated; odd messages (1 byte,
#     malformed MIME, NULs, 8-bit headers) -> a defined outcome;
#   - -t, and a missing or empty database at start, fail clearly.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/postfix.sh"
. "$MW_TESTLIB/spamd.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_need_cmd "$SPAMD_BIN" spamd
sb_init t-milter-direct
mwm_db


VIRUS="code=550 xcode=5.7.1"

# eventually_grep TEXT FILE: TEXT shows up in FILE within 10 s
eventually_grep() {
	local i
	for ((i = 0; i < 40; i++)); do
		grep -qF -- "$1" "$2" && return 0
		sleep 0.25
	done
	return 1
}
SPAM_DOWN=(code=451 xcode=4.7.1 "text=Spam scanner unavailable, try again later")

if ! spamd_start; then
	echo "Bail out! spamd did not start"
	exit 1
fi
DEAD=$(mw_next_port "$SPAMD_PORT")

# 1. Viruses (SpamdHosts: the real spamd, so clean mail would be scored) ---
mwm_start main SpamdHosts "inet:$SPAMD_PORT@127.0.0.1" ||
	{ echo "Bail out! milter did not start"; exit 1; }
for f in eicar-plain eicar-b64 eicar-qp eicar-zip eicar-zipzip eicar-rfc822 \
	eicar-b64-nomagic attachment-trigger body-trigger logical-both; do
	name=$(mwm_expected "$f.eml")
	# shellcheck disable=SC2086
	mwm_send "msg=$MWM_S/$f.eml" $VIRUS "text=Virus found: $name"
	check "$f: 550 5.7.1 Virus found: $name" mwm_has "smtpreply yes"
done
mwm_send "msg=$MWM_S/logical-one.eml" deleted=X-Spam-Flag
check "logical-one (near miss): accepted" mwm_has "reply continue"
check "logical-one: X-Virus-Scanned names ClamAV and the milter" \
	mwm_match "^hdr X-Virus-Scanned: ClamAV [0-9.]+/[0-9]+ via mailwarren-milter$"
check "logical-one: scored by spamd (X-Spam-Flag NO)" mwm_has "hdr X-Spam-Flag: NO"
check "one log line per message, with queue id, client, virus and timings" \
	grep -qE "MTQID1: reject: client=client.example\[192.0.2.7\] from=<sender@origin.example> nrcpt=1 virus=Test.EICAR.NDB.UNOFFICIAL score=- scan=[0-9]+ms score_time=0ms" "$MWM_LOG"

# 2. Spam scoring -----------------------------------------------------------
# The keyed stamp (StampKeyFile): a message without Message-ID gets one, an
# empty one is replaced, and the stamp verifies for it (tests/lib/stamp-check,
# the check spam_prefs makes); 200 distinct forged X-Spam-* names all deleted.
KEY=$SB/stamp.key
(umask 077 && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KEY")
main=("$MWM_PID" "$MWM_CONN" "$MWM_LOG" "$MWM_SOCK")
mwm_start stamp SpamdHosts "inet:$SPAMD_PORT@127.0.0.1" StampKeyFile "$KEY" ||
	{ echo "Bail out! milter did not start"; exit 1; }
grep -v '^Message-ID:' "$MWM_S/ham.eml" >"$SB/noid.eml"
mwm_send "msg=$SB/noid.eml"
check "no Message-ID: the milter adds <QUEUEID.MS.PID@MTA>" \
	mwm_match "^hdr Message-ID: <MTQID1\.[0-9]+\.[0-9]+@mx\.mwtest\.example>$"
printf '%s\n' "$MWM_OUT" | sed -n 's/^hdr \(Message-ID\|X-Mailwarren-Stamp\): /\1: /p' >"$SB/noid.hdrs"
check "no Message-ID: the stamp verifies for the added one" \
	bash -c "'${MW_TESTTOOLS:-${top_builddir:-$top_srcdir}/tests/lib}/stamp-check' '$KEY' '$SB/noid.hdrs' | grep -q '^ok score='"
check "no Message-ID: logged" grep -q "MTQID1: added Message-ID: <MTQID1\." "$MWM_LOG"
sed 's/^Message-ID: .*/Message-ID:  /' "$MWM_S/ham.eml" >"$SB/emptyid.eml"
mwm_send "msg=$SB/emptyid.eml" changed=Message-ID
check "empty Message-ID: replaced" mwm_has "chg Message-ID yes"
check "empty Message-ID: logged" grep -q "MTQID1: replaced unusable Message-ID: <MTQID1\." "$MWM_LOG"
mwm_send "msg=$MWM_S/ham.eml" changed=Message-ID
check "a usable Message-ID is left alone, and stamped" \
	bash -c "grep -qx 'chg Message-ID no' <<<\"\$1\" && grep -q '^hdr X-Mailwarren-Stamp: v=1; t=[0-9]*; score=-\?[0-9.]*; mac=[0-9a-f]\{16\}$' <<<\"\$1\"" _ "$MWM_OUT"
{
	for ((i = 1; i <= 200; i++)); do echo "X-Spam-Junk-$i: junk"; done
	echo "X-Spam-Score: -100"
	echo "X-Mailwarren-Stamp: v=1; t=1; score=-100.0; mac=0123456789abcdef"
	cat "$MWM_S/ham.eml"
} >"$SB/junk.eml"
mwm_send "msg=$SB/junk.eml" deleted=X-Spam-Junk-1,X-Spam-Junk-64,X-Spam-Junk-65,X-Spam-Junk-200,X-Spam-Score,X-Mailwarren-Stamp
for h in X-Spam-Junk-1 X-Spam-Junk-64 X-Spam-Junk-65 X-Spam-Junk-200 X-Spam-Score X-Mailwarren-Stamp; do
	check "200 forged X-Spam-* names: $h deleted" mwm_has "del $h yes"
done
mwm_stop

# TrustedNetworks with an IPv6 client, as Postfix (addr) and Sendmail
# (IPv6:addr) write it: SkipAuthenticated skips scoring for both.
mwm_start v6 SpamdHosts "inet:$SPAMD_PORT@127.0.0.1" SkipAuthenticated yes \
	TrustedNetworks "192.0.2.0/24, 2001:db8:7::/48" ||
	{ echo "Bail out! milter did not start"; exit 1; }
for c in 2001:db8:7::25 IPv6:2001:db8:7::25 IPv6:2001:DB8:7:0:0:0:0:25; do
	mwm_send "msg=$MWM_S/ham.eml" "client=$c"
	check "trusted IPv6 client $c: not scored" mwm_has "hdr X-Spam-Status: Unknown, not scored: trusted network"
done
mwm_send "msg=$MWM_S/ham.eml" client=IPv6:2001:db8:8::25
check "untrusted IPv6 client IPv6:2001:db8:8::25: scored" mwm_has "hdr X-Spam-Flag: NO"
check "the log shows the address without the IPv6: prefix" grep -q "client=client.example\[2001:db8:7::25\]" "$MWM_LOG"
mwm_stop
MWM_PID=${main[0]} MWM_CONN=${main[1]} MWM_LOG=${main[2]} MWM_SOCK=${main[3]}


mwm_send "msg=$top_srcdir/tests/data/gtube.eml"
check "GTUBE: accepted (no SpamRejectScore)" mwm_has "reply continue"
check "GTUBE: X-Spam-Flag: YES" mwm_has "hdr X-Spam-Flag: YES"
check "GTUBE: X-Spam-Status Yes with score, required and GTUBE" \
	mwm_match "^hdr X-Spam-Status: Yes, score=[0-9]+\.[0-9] required=5\.0 tests=.*GTUBE"
check "GTUBE: X-Spam-Score and a full X-Spam-Level" \
	mwm_match "^hdr X-Spam-Level: \*{50}$"
mwm_send "msg=$MWM_S/ham.eml" "prepend=X-Spam-Score: 99.9" "prepend2=X-Spam-Flag: YES" \
	"deleted=X-Spam-Score,X-Spam-Flag"
check "ham: accepted" mwm_has "reply continue"
check "ham: X-Spam-Flag: NO" mwm_has "hdr X-Spam-Flag: NO"
check "ham: X-Spam-Status No" mwm_match "^hdr X-Spam-Status: No, score=-?[0-9]+\.[0-9] required=5\.0 tests="
check "ham: forged X-Spam-Score deleted" mwm_has "del X-Spam-Score yes"
check "ham: forged X-Spam-Flag deleted" mwm_has "del X-Spam-Flag yes"
check "ham: log line says clean, accept, with a score" \
	grep -qE "MTQID1: accept: .* virus=clean score=-?[0-9]+\.[0-9] " "$MWM_LOG"
mwm_send "msg=$MWM_S/ham.eml" auth=alice deleted=X-Spam-Flag
check "authenticated sender without SkipAuthenticated: scored" mwm_has "hdr X-Spam-Flag: NO"

# 3. Odd messages: defined outcomes, the milter survives ---------------------
printf 'x' >"$SB/one-byte.eml"
mwm_send "msg=$SB/one-byte.eml"
check "1-byte message: accepted and scored" mwm_match "^hdr X-Spam-Status: (Yes|No), score="
printf 'Subject: broken\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64@@@\r\n--b2\r\nContent-Type: message/rfc822\r\n\r\nno end\r\n' >"$SB/bad-mime.eml"
mwm_send "msg=$SB/bad-mime.eml"
check "malformed MIME: accepted with X-Virus-Scanned" mwm_match "^hdr X-Virus-Scanned: ClamAV"
printf 'Subject: nul\r\n\r\n' >"$SB/nul.eml"
printf 'a\0b\0\0c\r\n\0\r\n' >"$SB/nul.body"
mwm_send "msg=$SB/nul.eml" "bodyfile=$SB/nul.body"
check "NULs in the body: accepted and scored" mwm_match "^hdr X-Spam-Status: (Yes|No), score="
printf 'Subject: caf\xe9 \xff\xfe 8-bit\r\nX-Raw: \x80\x81\r\n\r\nbody\r\n' >"$SB/8bit.eml"
mwm_send "msg=$SB/8bit.eml"
check "8-bit headers: accepted and scored" mwm_match "^hdr X-Spam-Status: (Yes|No), score="
check "the milter is still running" mw_pid_alive "$MWM_PID"
mwm_stop
check "SIGTERM stops the milter" test ! -e "/proc/$MWM_PID"
check "no sanitizer report in the milter log" bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$MWM_LOG'"

# 4. SpamRejectScore --------------------------------------------------------
mwm_start reject SpamdHosts "inet:$SPAMD_PORT@127.0.0.1" SpamRejectScore 5 ||
	{ echo "Bail out! milter did not start"; exit 1; }
mwm_send "msg=$top_srcdir/tests/data/gtube.eml" code=550 xcode=5.7.1 "text=Message classified as spam"
check "SpamRejectScore 5: GTUBE rejected 550 5.7.1 Message classified as spam" mwm_has "smtpreply yes"
check "SpamRejectScore 5: log says reject with the score" \
	grep -qE "MTQID1: reject: .* virus=clean score=[0-9]+\.[0-9] " "$MWM_LOG"
mwm_send "msg=$MWM_S/ham.eml"
check "SpamRejectScore 5: ham still accepted" mwm_has "reply continue"
mwm_stop

# 5. spamd unreachable, one of two hosts down, SkipAuthenticated -------------
mwm_start down SpamdHosts "inet:$DEAD@127.0.0.1" SpamdTimeout 2 ||
	{ echo "Bail out! milter did not start"; exit 1; }
mwm_send "msg=$MWM_S/ham.eml" "${SPAM_DOWN[@]}"
check "spamd down: 451 4.7.1 Spam scanner unavailable, try again later" mwm_has "smtpreply yes"
# shellcheck disable=SC2086
mwm_send "msg=$MWM_S/eicar-zip.eml" $VIRUS "text=Virus found: $(mwm_expected eicar-zip.eml)"
check "spamd down: a virus is still rejected 550" mwm_has "smtpreply yes"
mwm_stop
mwm_start down-accept SpamdHosts "inet:$DEAD@127.0.0.1" SpamdFailAction accept ||
	{ echo "Bail out! milter did not start"; exit 1; }
mwm_send "msg=$MWM_S/ham.eml"
check "SpamdFailAction accept: accepted" mwm_has "reply continue"
check "SpamdFailAction accept: a header says it was not scored" \
	mwm_has "hdr X-Spam-Status: Unknown, not scored: spam scanner unavailable"
mwm_stop

mwm_start two SpamdHosts "inet:$DEAD@127.0.0.1, inet:$SPAMD_PORT@127.0.0.1" \
	SkipAuthenticated yes TrustedNetworks "198.51.100.0/24" ||
	{ echo "Bail out! milter did not start"; exit 1; }
scored=0
for i in 1 2 3 4; do
	mwm_send "msg=$MWM_S/logical-one.eml" && mwm_has "hdr X-Spam-Flag: NO" && scored=$((scored + 1))
done
check "two spamd hosts, one stopped: all 4 messages scored ($scored)" test "$scored" = 4
check "two spamd hosts: the dead one was tried and logged" grep -q "spamd inet:$DEAD@127.0.0.1: connect" "$MWM_LOG"
check "two spamd hosts: the dead one is avoided after failing (tried once)" \
	test "$(grep -c "spamd inet:$DEAD@127.0.0.1: connect" "$MWM_LOG")" = 1
mwm_send "msg=$MWM_S/ham.eml" auth=alice
check "SkipAuthenticated: authenticated sender not scored, header says why" \
	mwm_has "hdr X-Spam-Status: Unknown, not scored: authenticated sender"
mwm_send "msg=$MWM_S/ham.eml" client=198.51.100.9
check "SkipAuthenticated: a client in TrustedNetworks is not scored" \
	mwm_has "hdr X-Spam-Status: Unknown, not scored: trusted network"
mwm_send "msg=$MWM_S/ham.eml" client=::ffff:198.51.100.9
check "SkipAuthenticated: an IPv4-mapped client (::ffff:198.51.100.9) is in the IPv4 network" \
	mwm_has "hdr X-Spam-Status: Unknown, not scored: trusted network"
mwm_send "msg=$MWM_S/ham.eml" client=::ffff:198.51.101.9
check "SkipAuthenticated: an IPv4-mapped client outside TrustedNetworks is scored" \
	mwm_has "hdr X-Spam-Flag: NO"
# shellcheck disable=SC2086
mwm_send "msg=$MWM_S/eicar-b64.eml" auth=alice $VIRUS "text=Virus found: $(mwm_expected eicar-b64.eml)"
check "SkipAuthenticated: an authenticated sender's virus is still rejected" mwm_has "smtpreply yes"
mwm_stop

# 6. Large messages: spooled to an unlinked file, OnInfected tag,
# SpamMaxSize, a 50 MB message, SpamdPerRecipient
"${MW_PYTHON:-/usr/bin/python3}" - "$MWM_S/eicar-b64.eml" "$SB/big-eicar.eml" "$SB/50m.eml" <<'PY'
import sys
src, big, huge = sys.argv[1:4]
data = open(src, "rb").read()
# a 300 KB epilogue after the last MIME boundary: the infected part stays
line = b"x" * 76 + b"\r\n"
open(big, "wb").write(data + line * 4000)
with open(huge, "wb") as f:
    f.write(b"From: a@origin.example\r\nSubject: 50 MB\r\n\r\n")
    text = b"The quick brown fox jumps over the lazy dog 0123456789.\r\n" * 1000
    for _ in range(50 * 1024 * 1024 // len(text)):
        f.write(text)
PY
mwm_start big SpamdHosts "inet:$SPAMD_PORT@127.0.0.1" MemorySpoolMax 64K SpamMaxSize 100K \
	OnInfected tag SpamdPerRecipient yes ||
	{ echo "Bail out! milter did not start"; exit 1; }
mwm_send "msg=$SB/big-eicar.eml"
check "300 KB infected message, spooled (MemorySpoolMax 64K), OnInfected tag: accepted" mwm_has "reply continue"
check "OnInfected tag: X-Virus-Found names the signature" \
	mwm_has "hdr X-Virus-Found: $(mwm_expected eicar-b64.eml)"
check "SpamMaxSize 100K: not scored, and the header says why" \
	mwm_has "hdr X-Spam-Status: Unknown, not scored: larger than SpamMaxSize"
t0=$SECONDS
mwm_send "msg=$SB/50m.eml"
check "50 MB message: accepted in $((SECONDS - t0)) s, scanned" mwm_match "^hdr X-Virus-Scanned: ClamAV"
check "50 MB message: log line says clean and skipped" \
	grep -qE "accept: .* virus=clean score=skipped .* skip=\"larger than SpamMaxSize\"" "$MWM_LOG"
check "nothing left in TemporaryDirectory" test -z "$(ls -A "$SB/tmp")"
mwm_send "msg=$MWM_S/ham.eml" rcpts=1
check "SpamdPerRecipient: spamd scored as the one recipient" \
	eventually_grep "rcpt1@dest.example" "$SPAMD_LOG"
mwm_stop

# 7. OnInfected discard and quarantine
mwm_start discard SpamdHosts none OnInfected discard ||
	{ echo "Bail out! milter did not start"; exit 1; }
mwm_send "msg=$MWM_S/eicar-zip.eml"
check "OnInfected discard: the infected message is discarded" mwm_has "reply discard"
mwm_send "msg=$MWM_S/ham.eml"
check "OnInfected discard: clean mail still accepted" mwm_has "reply continue"
mwm_stop
mwm_start quarantine SpamdHosts none OnInfected quarantine ||
	{ echo "Bail out! milter did not start"; exit 1; }
mwm_send "msg=$MWM_S/eicar-zip.eml" quarantine=1
check "OnInfected quarantine: accepted into quarantine" \
	bash -c 'grep -qx "reply continue" <<<"$1" && grep -qx "quarantine yes" <<<"$1"' _ "$MWM_OUT"
mwm_send "msg=$MWM_S/ham.eml" quarantine=1
check "OnInfected quarantine: clean mail is not quarantined" mwm_has "quarantine no"
check "OnInfected quarantine: the log line says quarantine" grep -q "MTQID1: quarantine: .* virus=Test.EICAR" "$MWM_LOG"
mwm_stop

# 8. Configuration and database errors --------------------------------------
printf 'OnInfected explode\n' >"$SB/bad.conf"
out=$("$MWM_BIN" -t -c "$SB/bad.conf" 2>&1)
rc=$?
check "-t: bad OnInfected value exits 1" test "$rc" = 1
check "-t: the error names the key and the choices" \
	grep -qF 'OnInfected: bad value "explode" (expected reject, discard, quarantine, tag)' <<<"$out"
printf 'Bogus 1\n' >"$SB/bad2.conf"
out=$("$MWM_BIN" -t -c "$SB/bad2.conf" 2>&1)
check "-t: unknown key is an error with file and line" grep -qF "bad2.conf:1: unknown parameter \"Bogus\"" <<<"$out"
out=$("$MWM_BIN" -t -c "$SB/main.conf" 2>&1)
check "-t: a good file says OK" test "$out" = "$SB/main.conf: OK"
mkdir -p "$SB/emptydb"
printf 'MilterSocket local:%s/e.sock\nUser nobody\nDatabaseDirectory %s/emptydb\nTemporaryDirectory %s/tmp\n' \
	"$SB" "$SB" "$SB" >"$SB/empty.conf"
out=$(timeout 20 "$MWM_BIN" -f -c "$SB/empty.conf" 2>&1)
rc=$?
check "empty database directory at start: fatal, exit 1" test "$rc" = 1
check "empty database directory: the message says so" grep -q "no ClamAV database files" <<<"$out"
sed -i "s|emptydb|nodb|" "$SB/empty.conf"
out=$(timeout 20 "$MWM_BIN" -f -c "$SB/empty.conf" 2>&1)
rc=$?
check "missing database directory at start: fatal with the path" \
	bash -c "test $rc = 1 && grep -q 'fatal: DatabaseDirectory $SB/nodb: No such file or directory' <<<\"\$1\"" _ "$out"

done_testing
