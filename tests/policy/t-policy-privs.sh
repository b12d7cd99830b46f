#!/bin/bash
# t-policy-privs.sh - mailwarren-policyd started as root runs as User/Group:
# the process ids are the user's, the unix socket belongs to it (mode 0660),
# it still answers, and "User root" is refused.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
sb_need_root
getent passwd nobody >/dev/null || skip_all "no user nobody"
. "$MW_TESTLIB/policyd.sh"
sb_init policy-privs
plan 5

policyd_config "$MW_TOP_SRCDIR/tests/policy/golden.conf.in" "User nobody" "Group nogroup"
policyd_start || { not_ok "policyd start as nobody"; done_testing; exit 1; }
uid=$(awk '/^Uid:/ {print $2 "," $3 "," $4}' "/proc/$PD_PID/status")
want=$(id -u nobody)
check "real, effective and saved uid are nobody's ($uid)" test "$uid" = "$want,$want,$want"
check "the socket belongs to nobody:nogroup with mode 660" \
	test "$(stat -c '%U:%G %a' "$PD_SOCK")" = "nobody:nogroup 660"
out=$(printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=16.1.2.3\nrecipient=u@foreign.example\n\n' |
	"${MW_PYTHON:-/usr/bin/python3}" "$MW_TESTLIB/policy_client.py" --raw "unix:$PD_SOCK")
check "it answers after dropping privileges" test "$out" = "$(printf 'action=OK\n\n[open]')"
policyd_stop

printf 'PolicySocket local:%s/root.sock\nUser root\nHostedDomains example.com\n' "$SB" >"$SB/root.conf"
out=$("$PD_BIN" -f -c "$SB/root.conf" 2>&1); rc=$?
check "User root is refused at start (exit $rc)" test "$rc" = 1
check "  ... with a clear reason" grep -q 'refusing to run as root' <<<"$out"
done_testing
