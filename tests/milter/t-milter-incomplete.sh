#!/bin/bash
# t-milter-incomplete.sh - no message the milter could not scan completely
# is accepted (TAP).  A real, private Postfix (smtpd_milters over a UNIX
# socket) in front of mailwarren-milter, whose TemporaryDirectory is a tiny
# tmpfs mounted in the sandbox:
#   - zips nested 10 deep with EICAR: "550 5.7.1 Virus found"; nested 20
#     deep (beyond MaxRecursion 17), with or without EICAR: OnScanLimit's
#     default, "550 5.7.1 Message could not be scanned completely:
#     MaxRecursion", logged with limit=MaxRecursion; an encrypted zip the
#     same with Encrypted.Zip;
#   - an archive member larger than the room left in the tmpfs (libclamav
#     scans the cut-off file and says clean): 451 4.7.1 and a warning that
#     names the directory;
#   - the tmpfs full, read-only, out of inodes: a zipped EICAR, a nested
#     zip and ham get 451 4.7.1 with the warning; a plain EICAR (found
#     without extracting anything) is still refused with 550; once there is
#     room again the zipped EICAR is refused with 550 again;
#   - OnScanLimit tempfail, tag and accept (miltertest): the 20-deep zip gets
#     451, X-Virus-Found, or is accepted with X-Virus-Scanned saying the scan
#     was incomplete; every case logged with the limit.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/postfix.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_need_cmd postfix postfix
sb_need_cmd smtp-sink postfix
sb_need_cmd swaks swaks
sb_init t-milter-incomplete
mwm_db

# The samples: nested zips, an encrypted zip, a member of 12 MB of zeros
# followed by EICAR (a 12 KB deflated zip: larger than the 8 MB tmpfs once
# extracted).
"${MW_PYTHON:-/usr/bin/python3}" - "$SB/msgs" <<'PY' || { echo "Bail out! samples"; exit 1; }
import io, os, sys, zipfile
from email.message import EmailMessage
from email.policy import SMTP
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
EICAR = (b'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + b'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*')
def zipped(name, data, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', method) as z:
        z.writestr(zipfile.ZipInfo(name, date_time=(2026, 12, 4, 0, 0, 0)), data, compress_type=method)
    return b.getvalue()
def nested(depth, data):
    blob = zipped('payload.bin', data)
    for i in range(depth - 1):
        blob = zipped('level%d.zip' % (depth - 1 - i), blob)
    return blob
def encrypted(data):
    # a stored zip with the "encrypted" flag (bit 0) in both headers
    b = bytearray(zipped('secret.txt', data, zipfile.ZIP_STORED))
    b[6] |= 1
    cd = b.rfind(b'PK\x01\x02')
    b[cd + 8] |= 1
    return bytes(b)
def write(fname, subject, attachment, aname):
    m = EmailMessage(policy=SMTP)
    m['From'] = 'sender@origin.example'
    m['To'] = 'rcpt@dest.example'
    m['Subject'] = subject
    m['Message-ID'] = '<%s@mwtest.example>' % fname
    m.set_content('See attachment.\n')
    m.add_attachment(attachment, maintype='application', subtype='zip', filename=aname)
    open(os.path.join(out, fname), 'wb').write(m.as_bytes())
write('eicar-zip10.eml', 'eicar, 10 zips deep', nested(10, EICAR), 'deep10.zip')
write('eicar-zip20.eml', 'eicar, 20 zips deep', nested(20, EICAR), 'deep20.zip')
write('clean-zip20.eml', 'clean, 20 zips deep', nested(20, b'hello, nothing here\n'), 'deep20.zip')
write('encrypted.eml', 'encrypted zip', encrypted(b'nothing to see\n' * 20), 'secret.zip')
m = EmailMessage(policy=SMTP)
m['From'] = 'sender@origin.example'
m['To'] = 'rcpt@dest.example'
m['Subject'] = 'a large attachment, eicar at its end'
m.set_content('See attachment.\n')
m.add_attachment(os.urandom(3 << 20) + EICAR, maintype='application', subtype='octet-stream',
                 filename='big.bin')
open(os.path.join(out, 'bigpart.eml'), 'wb').write(m.as_bytes())
write('bigmember.eml', 'a large member, eicar at its end',
      zipped('big.bin', b'\0' * (12 << 20) + EICAR), 'big.zip')
PY
M=$SB/msgs

# The temporary directory: an 8 MB tmpfs with 64 inodes.
T=$SB/clamtmp
mkdir -p "$T"
if ! mount -t tmpfs -o size=8m,nr_inodes=64,mode=1777 mwtest-clamtmp "$T"; then
	echo "Bail out! cannot mount a tmpfs on $T"
	exit 1
fi
sb_at_exit "umount -l '$T'"

send() { mwm_smtp "$PF_SMTP_PORT" "$@"; }
replied() { mwm_replied "$@"; }
# logged TAG-FILE REGEX: the milter's log has a line matching REGEX
logged() { grep -qE -- "$1" "$MWM_LOG" || { diag "not in the log: $1"; diag "$(tail -n 3 "$MWM_LOG")"; return 1; }; }
vf_reply() { replied "$1" "550 5.7.1 Virus found: $2"; }
tf_reply() { replied "$1" "451 4.7.1 Virus scanner unavailable, try again later"; }
warned() { # warned WHY: one more "TemporaryDirectory $T: WHY" warning than before
	local n
	n=$(grep -cF -- "TemporaryDirectory $T: $1" "$MWM_LOG")
	[ "$n" -gt "${2:-0}" ] || { diag "no warning \"TemporaryDirectory $T: $1\""; return 1; }
}

mwm_start pf TemporaryDirectory "$T" SpamdHosts none User postfix SocketMode 0666 MemorySpoolMax 16M ||
	{ echo "Bail out! milter did not start"; exit 1; }
if ! postfix_start "smtpd_milters = unix:$MWM_SOCK" "milter_default_action = accept" \
	"milter_content_timeout = 60s"; then
	echo "Bail out! postfix did not start"
	exit 1
fi

# 1. nesting and encryption (room enough)
send "$M/eicar-zip10.eml" zip10
check "EICAR 10 zips deep: 550 5.7.1 Virus found" \
	grep -qE '^<\*\* +550 5\.7\.1 Virus found: Test\.EICAR' "$SB/swaks-zip10.log"
send "$M/eicar-zip20.eml" zip20
check "EICAR 20 zips deep: 550 5.7.1 Message could not be scanned completely: MaxRecursion" \
	replied zip20 "550 5.7.1 Message could not be scanned completely: MaxRecursion"
check "logged: reject ... virus=incomplete limit=MaxRecursion" \
	logged ": reject: client=.* virus=incomplete limit=MaxRecursion "
send "$M/clean-zip20.eml" clean20
check "clean, 20 zips deep: 550 ... MaxRecursion (OnScanLimit reject, the default)" \
	replied clean20 "550 5.7.1 Message could not be scanned completely: MaxRecursion"
send "$M/encrypted.eml" encrypted
check "encrypted zip: 550 5.7.1 Message could not be scanned completely: Encrypted.Zip" \
	replied encrypted "550 5.7.1 Message could not be scanned completely: Encrypted.Zip"
send "$MWM_S/ham.eml" ham1
check "ham (with a clean zip): 250" grep -q '^<- *250 2.0.0 Ok: queued' "$SB/swaks-ham1.log"

# 2. a member that does not fit: cut off by the full tmpfs while extracted
send "$M/bigmember.eml" big
check "12 MB member, 8 MB tmpfs: 451 4.7.1" tf_reply big
check "... with a warning naming the directory" warned "" 0
check "... logged as tempfail, virus=error" logged ": tempfail: client=.* virus=error "

# a 3 MB attachment (base64, no archive) with 2 MB left: the decoded part
# is cut short while libclamav writes it
dd if=/dev/zero of="$T/fill" bs=1M count=6 >/dev/null 2>&1
w0=$(grep -cF "TemporaryDirectory $T:" "$MWM_LOG")
send "$M/bigpart.eml" bigpart
check "3 MB attachment, 2 MB free: 451 4.7.1" tf_reply bigpart
check "... with a warning naming the directory" warned "" "$w0"
rm -f "$T/fill"

# 3. full, then read-only, then out of inodes
w0=$(grep -cF "TemporaryDirectory $T:" "$MWM_LOG")
dd if=/dev/zero of="$T/fill" bs=64k >/dev/null 2>&1
check "the tmpfs is full" test "$(df --output=avail -B1 "$T" | tail -n 1 | tr -d ' ')" = 0
send "$MWM_S/eicar-zip.eml" full-zip
check "full: EICAR in a zip: 451 4.7.1" tf_reply full-zip
send "$MWM_S/eicar-zipzip.eml" full-zipzip
check "full: EICAR in a zip in a zip: 451 4.7.1" tf_reply full-zipzip
send "$MWM_S/ham.eml" full-ham
check "full: ham: 451 4.7.1" tf_reply full-ham
check "full: warned \"... bytes free, below TemporaryDirectoryMinFree\"" \
	warned "0 bytes free, below TemporaryDirectoryMinFree" 0
send "$MWM_S/eicar-plain.eml" full-plain
check "full: a plain EICAR is still refused: 550 5.7.1 Virus found" \
	vf_reply full-plain "$(mwm_expected eicar-plain.eml)"
rm -f "$T/fill"

mount -o remount,ro "$T"
send "$MWM_S/eicar-zip.eml" ro-zip
check "read-only: EICAR in a zip: 451 4.7.1" tf_reply ro-zip
check "read-only: warned" bash -c "grep -F 'TemporaryDirectory $T: not writable' '$MWM_LOG' | grep -q 'Read-only file system'"
mount -o remount,rw "$T"

for ((i = 0; i < 100; i++)); do : >"$T/inode-$i" 2>/dev/null || break; done
check "the tmpfs is out of inodes" test "$(df --output=iavail "$T" | tail -n 1 | tr -d ' ')" = 0
send "$MWM_S/eicar-zip.eml" inodes-zip
check "no inodes: EICAR in a zip: 451 4.7.1" tf_reply inodes-zip
check "no inodes: warned" warned "no free inodes" 0
rm -f "$T"/inode-*

send "$MWM_S/eicar-zip.eml" again
check "room again: EICAR in a zip: 550 5.7.1 Virus found" vf_reply again "$(mwm_expected eicar-zip.eml)"
check "the milter's spool and libclamav left nothing in the tmpfs" test -z "$(ls -A "$T")"
mwm_stop

# 4. the other OnScanLimit choices (miltertest, the same tmpfs)
mwm_start lim-tf TemporaryDirectory "$T" SpamdHosts none OnScanLimit tempfail
mwm_send msg="$M/clean-zip20.eml" code=451 xcode=4.7.1 \
	text="Message could not be scanned completely: MaxRecursion, try again later"
check "OnScanLimit tempfail: 451 4.7.1 ... MaxRecursion, try again later" mwm_has "smtpreply yes"
check "OnScanLimit tempfail: logged" logged ": tempfail: client=.* virus=incomplete limit=MaxRecursion "
mwm_stop
mwm_start lim-tag TemporaryDirectory "$T" SpamdHosts none OnScanLimit tag
mwm_send msg="$M/clean-zip20.eml"
check "OnScanLimit tag: accepted" mwm_has "reply continue"
check "OnScanLimit tag: X-Virus-Found: Heuristics.Limits.Exceeded.MaxRecursion" \
	mwm_has "hdr X-Virus-Found: Heuristics.Limits.Exceeded.MaxRecursion"
check "OnScanLimit tag: X-Virus-Scanned says incomplete" mwm_match "^hdr X-Virus-Scanned: incomplete: MaxRecursion \(ClamAV "
check "OnScanLimit tag: logged as tag" logged ": tag: client=.* virus=incomplete limit=MaxRecursion "
mwm_stop
mwm_start lim-acc TemporaryDirectory "$T" SpamdHosts none OnScanLimit accept
mwm_send msg="$M/encrypted.eml"
check "OnScanLimit accept: accepted" mwm_has "reply continue"
check "OnScanLimit accept: no X-Virus-Found" bash -c "! grep -q '^hdr X-Virus-Found' <<<\"\$1\"" _ "$MWM_OUT"
check "OnScanLimit accept: X-Virus-Scanned says incomplete" mwm_match "^hdr X-Virus-Scanned: incomplete: Encrypted.Zip \(ClamAV "
check "OnScanLimit accept: logged with the limit" logged ": accept: client=.* virus=incomplete limit=Encrypted.Zip "
mwm_stop
check "no sanitizer report in the milter logs" \
	bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$SB'/*.log"

done_testing
