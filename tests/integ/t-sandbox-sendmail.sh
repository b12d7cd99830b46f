#!/bin/bash
# t-sandbox-sendmail.sh - the private Sendmail sandbox of tests/lib/sendmail.sh:
# a message sent to it is relayed by the unpacked Sendmail 8.17 to the
# smtp-sink (default) or, with SM_RELAY_PORT, through the private Postfix;
# stopping it leaves no process behind.
# (TAP; needs root; 127.0.0.1 and high ports only.)

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
# shellcheck source=tests/lib/sendmail.sh
. "$MW_TESTLIB/sendmail.sh"

sb_need_root
sb_need_cmd m4 m4
sb_need_cmd smtp-sink postfix
sb_need_cmd postfix postfix
sb_need_cmd swaks swaks
sb_need_cmd "${MW_PYTHON:-/usr/bin/python3}" python3  # sb_port
sb_need_cmd apt-get apt
sb_need_cmd dpkg-deb dpkg
sendmail_fetch || skip_all "Sendmail packages unavailable: $SM_FETCH_ERROR"
sb_init t-sandbox-sendmail

plan 16

TOKEN=$$-$RANDOM$RANDOM

# headers FILE: the header block of a message file, continuation lines
# unfolded (smtp-sink's own X-* lines and Received: come first).
headers() {
	awk '/^\r?$/ { exit }
	     /^[ \t]/ { sub(/^[ \t]+/, " "); line = line $0; next }
	     { if (line != "") print line; line = $0 }
	     END { if (line != "") print line }' "$1" | tr -d '\r'
}

# body FILE: everything after the first empty line.
body() {
	awk 'seen { print } /^\r?$/ { seen = 1 }' "$1" | tr -d '\r'
}

# banner_is PORT PREFIX: the SMTP greeting on 127.0.0.1:PORT starts with PREFIX.
banner_is() {
	local line
	exec 4<>"/dev/tcp/127.0.0.1/$1" || return 1
	read -r -t 10 line <&4
	printf 'QUIT\r\n' >&4
	exec 4<&-
	line=${line%$'\r'}
	[[ "$line" == "$2"* ]] || { diag "banner on $1: $line"; return 1; }
}

# send PORT N: one message to 127.0.0.1:PORT, marked with N and $TOKEN.
send() {
	swaks --server "127.0.0.1:$1" --from "sender@origin.example" \
		--to "rcpt$2@dest.example" --header "X-MW-Test: msg$2-$TOKEN" \
		--header "Subject: sendmail sandbox test $2" --body "body marker msg$2-$TOKEN" \
		>"$SB/swaks$2.log" 2>&1 || { diag "$(tail -n 5 "$SB/swaks$2.log")"; return 1; }
}

# delivered_intact N FILE: FILE holds message N with header and body.
delivered_intact() {
	[ -n "$2" ] &&
	headers "$2" | grep -qx "X-MW-Test: msg$1-$TOKEN" &&
	body "$2" | grep -qx "body marker msg$1-$TOKEN"
}

# received_by_sendmail N FILE: FILE carries the Received: header that only
# Sendmail writes - "by $SM_HOSTNAME (<binary version>/<cf version>) with
# ESMTP id <14-char queue id>" - naming the version the binary reports.
received_by_sendmail() {
	local v=${SM_BINARY_VERSION//./\\.}
	headers "$2" | grep -q "^Received: from .* by ${SM_HOSTNAME//./\\.} ($v/$v) with ESMTP id [0-9A-Za-z]\{14\} for <rcpt$1@dest\.example>;" ||
		{ diag "$(headers "$2" | grep '^Received:')"; return 1; }
}

# sink_helo_is FILE NAME: the sink saw EHLO NAME (the relaying MTA).
sink_helo_is() {
	headers "$1" | grep -qx "X-Helo-Args: $2"
}

# relayed_on_by_postfix FILE: Postfix received FILE from our Sendmail and
# handed it to the sink.
relayed_on_by_postfix() {
	sink_helo_is "$1" mx.mwtest.example &&
	headers "$1" | grep -q "^Received: from ${SM_HOSTNAME//./\\.} (.*\[127\.0\.0\.1\]) by mx\.mwtest\.example (Postfix) with ESMTP id "
}

# dead PID: PID is no live process.
dead() {
	[ -n "$1" ] && sb_eventually 10 eval "! mw_pid_alive $1"
}

# gone DIR: DIR no longer exists and no process names it in its arguments.
gone() {
	[ -n "$1" ] && [ ! -e "$1" ] && sb_eventually 10 eval "! pgrep -f -- '$1/' >/dev/null"
}

# 1. Sendmail -> its own smtp-sink ------------------------------------------------
if ! sendmail_start; then
	echo "Bail out! sendmail_start failed (see $SM_DIR)"
	exit 1
fi
# the version the binary itself reports (sendmail -d0.1)
SM_BINARY_VERSION=$(sendmail_run -d0.1 -bt </dev/null 2>/dev/null | awk '/^Version / { print $2; exit }')
check "sendmail -d0.1 reports version $SM_BINARY_VERSION (package ${SM_VERSION:-unknown})" \
	test -n "$SM_BINARY_VERSION" -a "${SM_VERSION:-$SM_BINARY_VERSION}" = "$SM_BINARY_VERSION"
check "127.0.0.1:$SM_SMTP_PORT greets as our Sendmail" \
	banner_is "$SM_SMTP_PORT" "220 $SM_HOSTNAME ESMTP Sendmail $SM_BINARY_VERSION/"
check "swaks: message 1 accepted by Sendmail" send "$SM_SMTP_PORT" 1
check "message 1 arrives in the sink" sendmail_wait_sink 1 30
f1=$(grep -l -F -- "msg1-$TOKEN" "$SM_SINK_DIR"/* 2>/dev/null)
check "message 1: exactly one sink file, header and body intact" \
	delivered_intact 1 "$f1"
check "message 1: Received: header written by Sendmail $SM_BINARY_VERSION" \
	received_by_sendmail 1 "$f1"
check "message 1: the sink's SMTP client was Sendmail (EHLO $SM_HOSTNAME)" \
	sink_helo_is "$f1" "$SM_HOSTNAME"
check "Sendmail's queue is empty (delivered, not deferred)" \
	test -z "$(find "$SM_DIR/mqueue" -type f)"

pid=$(head -n 1 "$SM_DIR/run/sendmail.pid")
sinkpid=$SM_SINK_PID
sendmail_stop
check "sendmail_stop: the daemon from the pid file is gone" dead "$pid"
check "sendmail_stop: the sink is gone" dead "$sinkpid"
check "sendmail_stop: no process works in the queue any more" \
	test -z "$(mw_pids_in "$SM_DIR/mqueue")"

# 2. Sendmail -> private Postfix -> sink (SM_RELAY_PORT) ---------------------
# In a separate process with its own sandbox; it copies the delivered file
# to $2 and exits 0 only if every step worked.
chain_file=$SB/chain.msg
# shellcheck disable=SC2016  # the child script gets its data as "$@"
timeout 90 bash -c '
	. "$1/sandbox.sh"; . "$1/postfix.sh"; . "$1/sendmail.sh"
	MW_KEEP=0
	sb_init t-sandbox-sendmail-chain
	postfix_start || exit 2
	SM_RELAY_PORT=$PF_SMTP_PORT SM_SINK_DIR=$PF_SINK_DIR
	sendmail_start || exit 3
	swaks --server "127.0.0.1:$SM_SMTP_PORT" --from sender@origin.example \
		--to rcpt2@dest.example --header "X-MW-Test: msg2-$3" \
		--body "body marker msg2-$3" >"$SB/swaks.log" 2>&1 || exit 4
	sendmail_wait_sink 1 30 || exit 5
	# nothing may have gone to an own sink: SM_SINK_PID stays empty
	[ -z "$SM_SINK_PID" ] || exit 6
	cp "$PF_SINK_DIR"/* "$2" || exit 7
	echo "$SB" >"$2.dir"
' chain "$MW_TESTLIB" "$chain_file" "$TOKEN" >"$SB/chain.out" 2>&1
chain_rc=$?
check "chain Sendmail -> Postfix -> sink delivered (exit $chain_rc)" test "$chain_rc" = 0
[ "$chain_rc" = 0 ] || diag "$(cat "$SB/chain.out")"
check "chain: header and body intact" delivered_intact 2 "$chain_file"
check "chain: Received: header written by Sendmail" received_by_sendmail 2 "$chain_file"
check "chain: relayed on by the private Postfix" relayed_on_by_postfix "$chain_file"
check "chain: its sandbox and processes are gone" gone "$(cat "$chain_file.dir" 2>/dev/null)"

done_testing
