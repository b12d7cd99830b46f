#!/bin/bash
# t-sandbox-postfix.sh - the private Postfix sandbox of tests/lib/postfix.sh:
# mail sent to it really reaches the smtp-sink (or, with PF_NEXTHOP, an LMTP
# server), reload and extra master.cf lines take effect, a broken
# configuration or a busy port fails fast, and stopping it leaves no
# directory and no process behind.
# (TAP; needs root; 127.0.0.1 and high ports only.)

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
# shellcheck source=tests/lib/postfix.sh
. "$MW_TESTLIB/postfix.sh"

sb_need_root
sb_need_cmd postfix postfix
sb_need_cmd smtp-sink postfix
sb_need_cmd swaks swaks
sb_need_cmd "${MW_PYTHON:-/usr/bin/python3}" python3  # sb_port
sb_init t-sandbox-postfix

plan 31

TOKEN=$$-$RANDOM$RANDOM

# helpers -------------------------------------------------------------------

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

# sink_file_with TEXT: print the one sink file that contains TEXT.
sink_file_with() {
	local files
	files=$(grep -l -F -- "$1" "$PF_SINK_DIR"/* 2>/dev/null)
	[ -n "$files" ] && [ "$(printf '%s\n' "$files" | wc -l)" = 1 ] && echo "$files"
}

# banner PORT: print the SMTP greeting on 127.0.0.1:PORT.
banner() {
	local line
	exec 4<>"/dev/tcp/127.0.0.1/$1" || return 1
	read -r -t 10 line <&4
	printf 'QUIT\r\n' >&4
	exec 4<&-
	printf '%s\n' "${line%$'\r'}"
}

# banner_is PORT PREFIX: the greeting on PORT starts with PREFIX.
banner_is() {
	local b
	b=$(banner "$1") || return 1
	[[ "$b" == "$2"* ]] || { diag "banner on $1: $b"; return 1; }
}

# not_listening PORT: nothing accepts connections on 127.0.0.1:PORT.
not_listening() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# send N: one message through Postfix, marked with N and $TOKEN.
send() {
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --from "sender@origin.example" \
		--to "rcpt$1@dest.example" --header "X-MW-Test: msg$1-$TOKEN" \
		--header "Subject: sandbox test $1" --body "body marker msg$1-$TOKEN" \
		>"$SB/swaks$1.log" 2>&1 || { diag "$(tail -n 5 "$SB/swaks$1.log")"; return 1; }
}

# delivered_intact N FILE: FILE holds message N with header and body.
delivered_intact() {
	[ -n "$2" ] &&
	headers "$2" | grep -qx "X-MW-Test: msg$1-$TOKEN" &&
	body "$2" | grep -qx "body marker msg$1-$TOKEN"
}

# relayed_by_postfix N FILE: FILE came from our Postfix (its Received:
# header) to the sink for rcptN (the sink's record of the envelope).
relayed_by_postfix() {
	headers "$2" | grep -q "^Received: from .* by mx\.mwtest\.example (Postfix) with E\?SMTP id [0-9A-F]* for <rcpt$1@dest\.example>;" &&
	headers "$2" | grep -qx "X-Rcpt-Args: <rcpt$1@dest\.example>.*"
}

# both CMD1... -- CMD2...: run both commands; true if both succeed.
both() {
	local a=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	"${a[@]}" && "$@"
}

# lmtp_from_postfix FILE: FILE reached the sink via LMTP from our Postfix.
lmtp_from_postfix() {
	headers "$1" | grep -qx "X-Client-Proto: LMTP" &&
	headers "$1" | grep -q "^Received: from .* by mx\.mwtest\.example (Postfix) with E\?SMTP id [0-9A-F]* for <rcpt3@dest\.example>;"
}

# none_alive PID...: none of the PIDs is a live process (within 10 s: under
# load a daemon that got its SIGTERM may take a moment to exit).
none_alive() {
	local p left i
	for ((i = 0; i < 100; i++)); do
		left=
		for p in "$@"; do
			mw_pid_alive "$p" && left="$left $p"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	diag "still running:$left"
	ps -o pid,args -p "${left# }" | sed 's/^/# /'
	return 1
}

# failing_start DIRFILE [MAIN_CF_LINE...]: postfix_start in a separate
# process (so a hang is cut off by timeout) with its own sandbox, whose path
# it writes to DIRFILE.  Exit status 3 when postfix_start failed.
failing_start() {
	# shellcheck disable=SC2016  # the child script gets its data as "$@"
	timeout 60 bash -c '
		. "$1/sandbox.sh"; . "$1/postfix.sh"
		MW_KEEP=0
		sb_init t-sandbox-postfix-bad
		echo "$SB" >"$2"
		shift 2
		postfix_start "$@" && exit 0
		exit 3' failing-start "$MW_TESTLIB" "$@"
}

# no_process_of DIR: no process works in DIR or names it in its arguments
# (smtp-sink's -d argument does); true only if DIR is a sandbox path.
no_process_of() {
	[[ "$1" == */mw-t-sandbox-* ]] && sb_eventually 10 eval "[ -z \"\$(mw_pids_in '$1')\" ] && ! pgrep -f -- '$1/' >/dev/null"
}

# 1. lifecycle in a subshell with its own sandbox ----------------------------
# The subshell records what it started and exits normally: its EXIT trap
# (sb_cleanup) must stop everything and remove its sandbox.
info=$SB/sub-info
(
	SB_EXIT_CMDS=()
	MW_KEEP=0
	sb_init t-sandbox-postfix-sub
	postfix_start || exit 1
	printf '%s %s %s %s %s\n' "$SB" "$PF_SMTP_PORT" "$PF_SINK_PORT" \
		"$(pf_master_pid)" "$PF_SINK_PID" >"$info"
	mw_pids_in "$PF_DIR/spool" >"$info.pids"
)
sub_rc=$?
read -r sub_sb sub_port sub_sink sub_master sub_sinkpid <"$info"
check "sub-sandbox: postfix_start succeeded, master and sink were running" \
	test "$sub_rc" = 0 -a -n "$sub_master" -a -n "$sub_sinkpid"
check "sub-sandbox: several daemons worked in its queue" \
	test "$(wc -l <"$info.pids")" -ge 2
check "sub-sandbox: its directory is gone after the subshell exits" \
	test -n "$sub_sb" -a ! -e "${sub_sb:-/nonexistent}"
# shellcheck disable=SC2046,SC2086  # lists of PIDs
check "sub-sandbox: master, daemons and smtp-sink are gone" \
	none_alive $sub_master $sub_sinkpid $(cat "$info.pids")
check "sub-sandbox: nothing listens on its SMTP port any more" not_listening "$sub_port"
check "sub-sandbox: nothing listens on its sink port any more" not_listening "$sub_sink"

# 2. a broken main.cf line fails fast ---------------------------------------
t0=$SECONDS
failing_start "$SB/bad-dir" 'this line has no equals sign' >"$SB/bad.out" 2>&1
bad_rc=$?
bad_secs=$((SECONDS - t0))
bad_dir=$(cat "$SB/bad-dir")
check "bad main.cf line: postfix_start fails (exit $bad_rc)" test "$bad_rc" = 3
check "bad main.cf line: reported within 30 s (${bad_secs} s)" test "$bad_secs" -lt 30
check "bad main.cf line: the postconf error is shown" \
	grep -q "missing '=' after attribute name" "$SB/bad.out"
check "bad main.cf line: no process of that sandbox is left" no_process_of "$bad_dir"
[ "$bad_rc" = 3 ] || diag "$(cat "$SB/bad.out")"
rm -rf "$bad_dir"   # sb_cleanup keeps a failed test's sandbox

# 3. the main instance ------------------------------------------------------
if ! postfix_start; then
	echo "Bail out! postfix_start failed (see $PF_DIR)"
	exit 1
fi
check "smtpd on 127.0.0.1:$PF_SMTP_PORT is our instance" \
	banner_is "$PF_SMTP_PORT" "220 mx.mwtest.example ESMTP Postfix"

check "swaks: message 1 accepted" send 1
check "message 1 arrives in the sink" postfix_wait_sink 1 30
f1=$(sink_file_with "msg1-$TOKEN")
check "message 1: header and body intact" delivered_intact 1 "$f1"
check "message 1: relayed by our Postfix to the sink" relayed_by_postfix 1 "$f1"

check "swaks: message 2 accepted" send 2
check "message 2 arrives in the sink" postfix_wait_sink 2 30
f2=$(sink_file_with "msg2-$TOKEN")
check "message 2: a file of its own" test -n "$f2" -a "$f2" != "$f1"
check "message 2: header and body intact, relayed by our Postfix" \
	both delivered_intact 2 "$f2" -- relayed_by_postfix 2 "$f2"
check "exactly 2 messages in the sink" test "$(postfix_sink_count)" = 2
check "the maillog says both were sent" test "$(grep -c 'status=sent' "$(postfix_log)")" = 2

# 4. a second instance whose port is taken fails fast ----------------------
# (the main sink's port: smtp-sink and master both use SO_REUSEPORT, so
# the bind succeeds and postfix_start must notice the sharing itself)
t0=$SECONDS
PF_SMTP_PORT=$PF_SINK_PORT failing_start "$SB/busy-dir" >"$SB/busy.out" 2>&1
busy_rc=$?
busy_secs=$((SECONDS - t0))
busy_dir=$(cat "$SB/busy-dir")
check "busy port: postfix_start fails within 30 s (exit $busy_rc, ${busy_secs} s)" \
	test "$busy_rc" = 3 -a "$busy_secs" -lt 30
check "busy port: the shared port is reported" grep -q "sockets listen on port $PF_SINK_PORT" "$SB/busy.out"
check "busy port: no process of that sandbox (master, sink) is left" no_process_of "$busy_dir"
[ "$busy_rc" = 3 ] || diag "$(cat "$SB/busy.out")"
rm -rf "$busy_dir"

# 5. configuration changes: main.cf via postconf, master.cf lines, reload ----
# Each round first leaves an idle smtpd behind (a finished session): without
# postfix_reload's wait, the next connection often still reaches that old
# process and its old banner.
port2=$(mw_next_port "$PF_SMTP_PORT" "$PF_SINK_PORT")
reloads=0
for gen in 1 2 3 4; do
	banner_is "$PF_SMTP_PORT" "220 mx.mwtest.example"
	postfix_postconf "smtpd_banner = \$myhostname ESMTP mw-gen$gen"
	[ "$gen" = 4 ] && postfix_add_master \
		"127.0.0.1:$port2 inet n - n - - smtpd -o smtpd_banner=second-listener"
	postfix_reload &&
		banner_is "$PF_SMTP_PORT" "220 mx.mwtest.example ESMTP mw-gen$gen" &&
		reloads=$((reloads + 1))
done
check "postfix_reload: each next connection sees the new main.cf ($reloads of 4)" \
	test "$reloads" = 4
check "an added master.cf service listens with its -o override" \
	banner_is "$port2" "220 second-listener"

# 6. PF_NEXTHOP: everything to an LMTP server instead of the smtp-sink -------
# (a separate process with its own sandbox; the LMTP server is smtp-sink -L;
# it copies the delivered file to $2 and exits 0 only if every step worked)
lmtp_file=$SB/lmtp.msg
# shellcheck disable=SC2016  # the child script gets its data as "$@"
timeout 90 bash -c '
	. "$1/sandbox.sh"; . "$1/postfix.sh"
	MW_KEEP=0
	sb_init t-sandbox-postfix-lmtp
	lport=$(mw_next_port) || exit 2
	smtp_sink_start "$SB/lmtp" "$lport" "$SB/lmtp.log" -L || exit 3
	sb_at_exit "mw_kill_pid $SMTP_SINK_PID"
	PF_NEXTHOP=lmtp:inet:127.0.0.1:$lport
	postfix_start || exit 4
	# no smtp-sink of its own
	[ -z "$PF_SINK_PID" ] && [ ! -e "$PF_DIR/sink" ] || exit 5
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --from sender@origin.example \
		--to rcpt3@dest.example --header "X-MW-Test: msg3-$3" \
		--body "body marker msg3-$3" >"$SB/swaks.log" 2>&1 || exit 6
	smtp_sink_wait "$SB/lmtp" 1 30 || exit 7
	cp "$SB"/lmtp/* "$2" || exit 8
	echo "$SB" >"$2.dir"
' lmtp "$MW_TESTLIB" "$lmtp_file" "$TOKEN" >"$SB/lmtp.out" 2>&1
lmtp_rc=$?
check "PF_NEXTHOP=lmtp:...: Postfix delivered by LMTP (exit $lmtp_rc)" test "$lmtp_rc" = 0
[ "$lmtp_rc" = 0 ] || diag "$(cat "$SB/lmtp.out")"
check "PF_NEXTHOP=lmtp:...: message intact, the server saw LMTP from our Postfix" \
	both delivered_intact 3 "$lmtp_file" -- lmtp_from_postfix "$lmtp_file"
check "PF_NEXTHOP=lmtp:...: its sandbox and processes are gone" \
	no_process_of "$(cat "$lmtp_file.dir" 2>/dev/null)"

# 7. stop ---------------------------------------------------------------------
master=$(pf_master_pid)
sinkpid=$PF_SINK_PID
postfix_stop
check "postfix_stop: master and sink are gone" none_alive "$master" "$sinkpid"
check "postfix_stop: no process works in the queue any more" \
	test -z "$(mw_pids_in "$PF_DIR/spool")"

done_testing
