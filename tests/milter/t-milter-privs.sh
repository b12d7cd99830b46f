#!/bin/bash
# t-milter-privs.sh - mailwarren-milter started as root runs as User/Group:
# real, effective and saved ids are the user's (every thread), its UNIX
# socket belongs to User:Group with SocketMode, it still scans, and
# "User root" is refused (TAP).  An idle milter stops on SIGTERM without
# waiting for libmilter's 5 s listener poll (the time is shown, not asserted).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
getent passwd nobody >/dev/null || skip_all "no user nobody"
getent group nogroup >/dev/null || skip_all "no group nogroup"
sb_init t-milter-privs
mwm_db
chmod 1777 "$SB/tmp"

mwm_start privs SpamdHosts none User nobody Group nogroup SocketMode 0660 ||
	{ echo "Bail out! milter did not start as nobody"; exit 1; }
uid=$(id -u nobody)
gid=$(getent group nogroup | cut -d: -f3)
ids=$(awk '/^Uid:/ {u = $2 "," $3 "," $4} /^Gid:/ {g = $2 "," $3 "," $4} END {print u "/" g}' \
	"/proc/$MWM_PID/status")
check "real, effective and saved uid and gid are nobody:nogroup's ($ids)" \
	test "$ids" = "$uid,$uid,$uid/$gid,$gid,$gid"
bad=$(for t in /proc/"$MWM_PID"/task/*; do
	awk '/^Uid:/ {print $2, $3, $4} /^Gid:/ {print $2, $3, $4}' "$t/status"; done |
	grep -vcxE "($uid $uid $uid|$gid $gid $gid)")
check "every thread runs as nobody:nogroup" test "$bad" = 0
check "no supplementary group is root's" \
	bash -c "! awk '/^Groups:/ {for (i = 2; i <= NF; i++) if (\$i == 0) exit 0; exit 1}' /proc/$MWM_PID/status"
check "the socket belongs to nobody:nogroup with mode 660" \
	test "$(stat -c '%U:%G %a' "$MWM_SOCK")" = "nobody:nogroup 660"
mwm_send "msg=$MWM_S/eicar-zip.eml" code=550 xcode=5.7.1 "text=Virus found: $(mwm_expected eicar-zip.eml)"
check "it scans after dropping privileges (EICAR in a zip: 550)" mwm_has "smtpreply yes"
mwm_send "msg=$MWM_S/ham.eml"
check "and accepts ham" mwm_has "reply continue"
mwm_stop

MWM_FLAGS=-v mwm_start idle SpamdHosts none || { echo "Bail out! milter did not start"; exit 1; }
t0=$(date +%s%N)
mwm_stop
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "idle: SIGTERM wakes libmilter's listener, which stops at once (exit after $ms ms)" \
	bash -c "grep -q \"stopping: waking libmilter's listener\" '$MWM_LOG' && grep -q 'mailwarren-milter stopping' '$MWM_LOG' && ! kill -0 $MWM_PID 2>/dev/null"

printf 'MilterSocket local:%s/root.sock\nUser root\nDatabaseDirectory %s\n' "$SB" "$MWM_DB" >"$SB/root.conf"
out=$("$MWM_BIN" -f -c "$SB/root.conf" 2>&1 </dev/null); rc=$?
check "User root is refused at start (exit $rc)" test "$rc" = 1
check "  ... with a clear reason" grep -q 'refusing to run as root' <<<"$out"
printf 'MilterSocket local:%s/bad.sock\nUser no-such-user-mw\nDatabaseDirectory %s\n' "$SB" "$MWM_DB" >"$SB/bad.conf"
out=$("$MWM_BIN" -f -c "$SB/bad.conf" 2>&1 </dev/null); rc=$?
check "an unknown User is refused at start (exit $rc), naming it" \
	bash -c "[ $rc = 1 ] && grep -q 'unknown user \"no-such-user-mw\"' <<<\"\$1\"" _ "$out"
check "no sanitizer report" bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$SB'/*.log"
done_testing
