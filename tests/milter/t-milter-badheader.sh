#!/bin/bash
# t-milter-badheader.sh - header values that Sendmail (or miltertest) passes
# raw, through the real milter with the generated ClamAV test DB (TAP).
# libmilter hands a header value as the MTA sent it; one that ends in a bare
# CR or LF, holds a CR not followed by LF, or a line break that is not
# folding, would put an empty line (or a new header line) into the copy that
# ClamAV and spamd scan: the header block would end there, and the MIME
# structure after it would be read as body.  The milter refuses such a
# message unscanned, "550 5.6.0 Malformed message header: bare CR or LF",
# and logs "virus=unscanned bad_header=NAME:WHY" (mailwarren-milter(8)).
# (Debian 12's Postfix normalises such line ends and its Sendmail refuses
# them with 421 4.5.0, so miltertest sends them here, as an MTA built or set
# to pass them would.)  Each bad header here comes first, before MIME-Version and the multipart
# Content-Type of a message with a base64 EICAR attachment: the virus must
# never get through.  Proper folding (LF or CRLF, then white space, also a
# line of white space only) is kept: such a message is still scanned (EICAR
# found) or accepted (ham).
# No spamd: SpamdHosts none.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_init t-milter-badheader
mwm_db

mwm_start bad SpamdHosts none ||
	{ echo "Bail out! milter did not start"; exit 1; }
EICAR=$(mwm_expected eicar-b64.eml)
BAD=(code=550 xcode=5.6.0 "text=Malformed message header: bare CR or LF")

# refused RAWHDR WHY NAME [MSG]: RAWHDR first, then the EICAR multipart
n=0
refused() {
	n=$((n + 1))
	mwm_send "rawhdr=$1" "msg=$MWM_S/${4:-eicar-b64}.eml" "qid=BADQ$n" "${BAD[@]}"
	check "${4:-eicar-b64} after \"$1\": 550 5.6.0 Malformed message header" \
		mwm_has "smtpreply yes"
	check "${4:-eicar-b64} after \"$1\": logged bad_header=$3:$2" \
		sb_eventually 5 grep -qE "BADQ$n: reject: .* virus=unscanned bad_header=$3:$2 score=-" "$MWM_LOG"
}

refused 'Subject: hello\r' bare-CR Subject
refused 'Subject: hello\n' line-break-at-end Subject
refused 'Subject: hello\r\n' line-break-at-end Subject
refused 'Subject: hello\n\n\tmore' line-break-not-folding Subject
refused 'X-Note: a\rMIME-Version: 1.0' bare-CR X-Note
refused 'X-Note: a\nContent-Type: text/plain' line-break-not-folding X-Note
# the name as the log shows it: CR and LF made printable
refused 'X-A\r\n\r\nX-B: v' line-break-in-name 'X-A\?\?\?\?X-B'
# not only viruses: the header alone decides
refused 'Subject: hello\r' bare-CR Subject ham

# proper folding goes into the scan copy and is scanned
mwm_send 'rawhdr=Subject: one\n\ttwo' "msg=$MWM_S/eicar-b64.eml" code=550 xcode=5.7.1 \
	"text=Virus found: $EICAR"
check "folded with LF + tab, then EICAR: 550 5.7.1 Virus found: $EICAR" mwm_has "smtpreply yes"
mwm_send 'rawhdr=Subject: one\r\n two' "msg=$MWM_S/eicar-b64.eml" code=550 xcode=5.7.1 \
	"text=Virus found: $EICAR"
check "folded with CRLF + space, then EICAR: Virus found" mwm_has "smtpreply yes"
mwm_send 'rawhdr=Subject: one\r\n two' "msg=$MWM_S/ham.eml"
check "folded with CRLF + space, ham: accepted" mwm_has "reply continue"
mwm_send 'rawhdr=X-Note: a\n \n\tb' "msg=$MWM_S/ham.eml"
check "a continuation line of white space only, ham: accepted" mwm_has "reply continue"
check "no accepted message was logged as a bad header" \
	bash -c "! grep -E 'MTQID1: .*bad_header' '$MWM_LOG'"
check "the milter is still running" mw_pid_alive "$MWM_PID"

done_testing
