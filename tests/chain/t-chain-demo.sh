#!/bin/bash
# t-chain-demo.sh - "./demo up", twice, then "./demo down", for real (with
# the suite's build tree, MW_DEMO_BUILD, and a state dir in the sandbox):
# the report ends with the machine-readable lines, the USER logs in over
# IMAP and POP3, the stack outlives the script, the milter and the policy
# daemon run as nobody, "status" names a daemon that is down and exits 1, a
# second "up" replaces the first stack cleanly, "down" leaves no process or
# port behind but keeps the logs, and "down --purge" removes the state.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
sb_need_root
sb_need_cmd postfix postfix
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/sbin/spamd spamd
sb_need_cmd setsid util-linux
BUILD=${top_builddir:-$top_srcdir}
[ -x "$BUILD/milter/mailwarren-milter" ] || skip_all "mailwarren-milter not built"
[ -f "$BUILD/plugins/mailshard/.libs/lib20_mailshard_plugin.so" ] || skip_all "Dovecot plugins not built"
. "$MW_TESTLIB/postfix.sh"

sb_init chain-demo
export MW_DEMO_DIR=$SB/demo MW_DEMO_BUILD=$BUILD
DEMO=$top_srcdir/demo
sb_at_exit "'$DEMO' down --purge"
PY=${MW_PYTHON:-/usr/bin/python3}

pids_of() {	# the pids in the stack's pid files
	cat "$MW_DEMO_DIR"/mw-demo/postfix/spool/pid/master.pid "$MW_DEMO_DIR"/mw-demo/dovecot/run/master.pid \
		"$MW_DEMO_DIR"/mw-demo/spamd/spamd.pid "$MW_DEMO_DIR"/mw-demo/run/*.pid 2>/dev/null | awk '{ print $1 }'
}
none_alive() {
	local p
	for p in "$@"; do sb_pid_running "$p" && { diag "pid $p still runs: $(tr '\0' ' ' </proc/$p/cmdline)"; return 1; }; done
	return 0
}
machine_lines() {	# OUTPUT: the last four lines have the promised form
	tail -n 4 <<<"$1" | awk '
		NR == 1 && /^SMTP 127\.0\.0\.1:[0-9]+$/ { n++ }
		NR == 2 && /^IMAP 127\.0\.0\.1:[0-9]+$/ { n++ }
		NR == 3 && /^POP3 127\.0\.0\.1:[0-9]+$/ { n++ }
		NR == 4 && /^USER [^ ]+ [^ ]+$/ { n++ }
		END { exit n != 4 }'
}
field() { tail -n 4 <<<"$1" | awk -v k="$2" '$1 == k { sub(/^127\.0\.0\.1:/, "", $2); print $2 }'; }

out=$("$DEMO" up 2>&1)
rc=$?
check "./demo up: exit 0" test "$rc" = 0
[ "$rc" = 0 ] || diag "$out"
check "./demo up: every report line ok" eval '! grep -q "^  FAIL" <<<"$out" && [ "$(grep -c "^  ok" <<<"$out")" -ge 10 ]'
check "./demo up: ends with SMTP, IMAP, POP3 and USER lines" machine_lines "$out"
user=$(tail -n 1 <<<"$out" | awk '{ print $2 }')
pass=$(tail -n 1 <<<"$out" | awk '{ print $3 }')
imap=$(field "$out" IMAP)
pop3=$(field "$out" POP3)
smtp=$(field "$out" SMTP)
check "the stack outlives the script: the USER logs in over IMAP, INBOX not empty" \
	eval '"$PY" "$MW_TESTLIB/mailclient.py" imap "$imap" "$user" "$pass" INBOX | grep -E "^INBOX [1-9]" >/dev/null'
check "... and over POP3" eval '"$PY" "$MW_TESTLIB/mailclient.py" pop3 "$pop3" "$user" "$pass" | grep -E "^[1-9]" >/dev/null'
check "./demo status: running" eval '"$DEMO" status >/dev/null'
first=$(pids_of)
check "the first stack has its pid files (Postfix, Dovecot, spamd, milter, policyd, sink)" \
	test "$(wc -w <<<"$first")" = 6

for d in mailwarren-milter mailwarren-policyd; do
	pid=$(head -n 1 "$MW_DEMO_DIR/mw-demo/run/$d.pid" 2>/dev/null)
	check "$d runs as nobody (uid $(awk '/^Uid:/ {print $3}' "/proc/$pid/status" 2>/dev/null))" \
		test "$(awk '/^Uid:/ {print $2 "," $3 "," $4}' "/proc/$pid/status" 2>/dev/null)" = "$(id -u nobody),$(id -u nobody),$(id -u nobody)"
done
mpid=$(head -n 1 "$MW_DEMO_DIR/mw-demo/run/mailwarren-milter.pid")
kill -TERM "$mpid"
for ((i = 0; i < 100; i++)); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.1; done
st=$("$DEMO" status 2>&1); rc=$?
check "./demo status with the milter stopped: exit 1 ($rc)" test "$rc" = 1
check "./demo status names it: mailwarren-milter DOWN, the others running" \
	bash -c "grep -qE '^  mailwarren-milter +DOWN' <<<\"\$1\" && grep -q 'partly running .*down: mailwarren-milter' <<<\"\$1\" && [ \$(grep -c ' running (pid' <<<\"\$1\") = 5 ]" _ "$st"

out=$("$DEMO" up 2>&1)
rc=$?
check "./demo up again: exit 0, the old stack replaced" eval '[ "$rc" = 0 ] && grep -q "starting afresh" <<<"$out"'
[ "$rc" = 0 ] || diag "$out"
check "./demo up again: the machine-readable lines" machine_lines "$out"
# shellcheck disable=SC2086
check "./demo up again: no daemon of the first stack is left" none_alive $first
second=$(pids_of)
check "./demo up again: the USER logs in over IMAP" \
	eval '"$PY" "$MW_TESTLIB/mailclient.py" imap "$(field "$out" IMAP)" "$user" "$pass" INBOX | grep -E "^INBOX [1-9]" >/dev/null'

smtp=$(field "$out" SMTP); imap=$(field "$out" IMAP); pop3=$(field "$out" POP3)
out=$("$DEMO" down 2>&1)
check "./demo down: exit 0" test $? = 0
# shellcheck disable=SC2086
check "./demo down: every daemon gone" none_alive $first $second
check "./demo down: nothing listens on the SMTP, IMAP and POP3 ports" \
	test "$(mw_listeners "$smtp")$(mw_listeners "$imap")$(mw_listeners "$pop3")" = 000
check "./demo down: no process works in the old queue" test -z "$(mw_pids_in "$MW_DEMO_DIR/mw-demo/postfix/spool")"
check "./demo down: the logs are kept" test -s "$MW_DEMO_DIR/mw-demo/postfix/maillog" -a -s "$MW_DEMO_DIR/mw-demo/log/mailwarren-milter.log"
check "./demo down: says so" grep -q "kept in $MW_DEMO_DIR" <<<"$out"
check "./demo status: not running, exit 1" eval '! "$DEMO" status >/dev/null'
out=$("$DEMO" down --purge 2>&1); rc=$?
check "./demo down --purge: exit 0 ($rc), the state directory is removed" eval '[ "$rc" = 0 ] && test ! -e "$MW_DEMO_DIR"'
check "./demo down --purge: the build tree given by MW_DEMO_BUILD is left alone" test -x "$BUILD/milter/mailwarren-milter"
check "./demo down again: nothing to do, exit 0" eval '"$DEMO" down >/dev/null'
done_testing
