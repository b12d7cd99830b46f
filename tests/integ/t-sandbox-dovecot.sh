#!/bin/bash
# t-sandbox-dovecot.sh - the private Dovecot of tests/lib/dovecot.sh works:
# logins over IMAP and POP3, delivery over LMTP read back over both, userdb
# extra fields, only our three loopback listeners, a clean stop.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd doveadm dovecot-core
sb_need_cmd /usr/lib/dovecot/imap dovecot-imapd
sb_need_cmd /usr/lib/dovecot/pop3 dovecot-pop3d
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
sb_need_cmd python3 python3
. "$MW_TESTLIB/dovecot.sh"

sb_init dovecot
plan 20

# run a python3 snippet (from stdin) with the arguments after the snippet name;
# Debian's python3 unless MW_PYTHON says otherwise (a PATH shim is slow)
[ -x /usr/bin/python3 ] && : "${MW_PYTHON:=/usr/bin/python3}"
py() {
	"${MW_PYTHON:-python3}" - "$@"
}

dovecot_add_user alice 'alice-Secret1' userdb_mwtest_flag=blue userdb_mwtest_volume=vol2
dovecot_add_user bob 'bob-Secret2'
dovecot_add_user 'x:y' pw 2>/dev/null
rc=$?
check "dovecot_add_user refuses a name with ':'" test $rc = 2 -a "$(wc -l <"$DC_USERS")" = 2

if ! dovecot_start; then
	not_ok "dovecot_start"
	echo "Bail out! private Dovecot did not start"
	exit 1
fi
ok "dovecot_start (imap $DC_IMAP_PORT, pop3 $DC_POP3_PORT, lmtp $DC_LMTP_PORT)"

# --- listeners: exactly our three ports, on 127.0.0.1 only ---------------
listeners=$(py "$DC_PID" <<'PY'
import os, sys
def tree(root):
    """root and all its descendants"""
    kids = {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(p))
    todo, seen = [int(root)], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += kids.get(p, [])
    return seen
inodes = set()
for p in tree(sys.argv[1]):
    try:
        for fd in os.listdir(f"/proc/{p}/fd"):
            t = os.readlink(f"/proc/{p}/fd/{fd}")
            if t.startswith("socket:["):
                inodes.add(t[8:-1])
    except OSError:
        pass
out = []
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(f).read().splitlines()[1:]:
        c = line.split()
        if c[3] == "0A" and c[9] in inodes:      # LISTEN, ours
            addr, port = c[1].split(":")
            ip = ".".join(str(int(addr[i:i+2], 16)) for i in (6, 4, 2, 0)) if len(addr) == 8 else addr
            out.append(f"{ip}:{int(port, 16)}")
print(" ".join(sorted(out)))
PY
)
want=$(printf '127.0.0.1:%s\n' "$DC_IMAP_PORT" "$DC_POP3_PORT" "$DC_LMTP_PORT" | sort | tr '\n' ' ')
if [ "$listeners " = "$want" ]; then
	ok "listens on exactly imap, pop3, lmtp at 127.0.0.1"
else
	not_ok "listens on exactly imap, pop3, lmtp at 127.0.0.1"
	diag "want: $want"
	diag "got:  $listeners"
fi

# --- logins ---------------------------------------------------------------
imap_login() {	# USER PASS -> 0 if LOGIN succeeded, 1 if refused, 2 on error
	py "$DC_IMAP_PORT" "$1" "$2" <<'PY'
import imaplib, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    im = imaplib.IMAP4("127.0.0.1", port, timeout=20)
except OSError as e:
    print(f"connect: {e}", file=sys.stderr); sys.exit(2)
try:
    im.login(user, pw)
except imaplib.IMAP4.error as e:
    # Dovecot: [AUTHENTICATIONFAILED] Authentication failed.
    sys.exit(1 if "AUTHENTICATIONFAILED" in str(e) else 2)
im.logout()
PY
}
pop3_login() {	# USER PASS -> 0 if USER/PASS succeeded, 1 if refused, 2 on error
	py "$DC_POP3_PORT" "$1" "$2" <<'PY'
import poplib, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    p.user(user)
except (OSError, poplib.error_proto) as e:
    print(e, file=sys.stderr); sys.exit(2)
try:
    p.pass_(pw)
except poplib.error_proto as e:
    sys.exit(1 if b"[AUTH]" in e.args[0] else 2)
p.quit()
PY
}

imap_login alice 'alice-Secret1'
check "IMAP LOGIN alice with the right password" test $? = 0
imap_login alice 'wrong-password'
check "IMAP LOGIN alice with a wrong password is refused" test $? = 1
imap_login carol 'alice-Secret1'
check "IMAP LOGIN of an unknown user is refused" test $? = 1
pop3_login bob 'bob-Secret2'
check "POP3 USER/PASS bob with the right password" test $? = 0
pop3_login bob 'alice-Secret1'
check "POP3 USER/PASS bob with a wrong password is refused" test $? = 1

# --- LMTP delivery, read back ---------------------------------------------
marker="mw-marker-$$-$RANDOM$RANDOM"
lmtp_out=$(py "$DC_LMTP_PORT" "$marker" <<'PY'
import smtplib, sys
port, marker = int(sys.argv[1]), sys.argv[2]
msg = (f"From: Sender <sender@example.net>\r\nTo: <alice@example.test>\r\n"
       f"Subject: sandbox {marker}\r\nMessage-ID: <{marker}@example.net>\r\n"
       f"\r\nbody line with {marker}\r\n")
with smtplib.LMTP("127.0.0.1", port, timeout=30) as s:
    refused = s.sendmail("sender@example.net",
                         ["alice@example.test", "nosuchuser@example.test"], msg)
# one line per refused recipient: "RCPT CODE"
for rcpt, (code, text) in sorted(refused.items()):
    print(rcpt, code)
PY
)
rc=$?
check "LMTP transaction completed" test $rc = 0
if [ "$lmtp_out" = "nosuchuser@example.test 550" ]; then
	ok "LMTP delivered to alice, refused the unknown user with 550"
else
	not_ok "LMTP delivered to alice, refused the unknown user with 550"
	diag "refused: ${lmtp_out:-<none>}"
fi

imap_out=$(py "$DC_IMAP_PORT" <<'PY'
import imaplib, sys
im = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
im.login("alice", "alice-Secret1")
typ, data = im.select("INBOX", readonly=True)
print("EXISTS", data[0].decode())
typ, data = im.fetch("1", "(BODY.PEEK[TEXT])")
body = data[0][1].decode() if typ == "OK" and data and data[0] else ""
print("BODY", body.strip())
im.logout()
PY
)
check "IMAP SELECT INBOX of alice shows 1 EXISTS" grep -qx 'EXISTS 1' <<<"$imap_out"
check "IMAP FETCH returns the delivered body" grep -qxF "BODY body line with $marker" <<<"$imap_out"

pop3_stat() {	# USER PASS -> "COUNT" then the text of message 1, if any
	py "$DC_POP3_PORT" "$1" "$2" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=20)
p.user(sys.argv[2]); p.pass_(sys.argv[3])
count, size = p.stat()
print(count)
if count:
    print(b"\n".join(p.retr(1)[1]).decode())
p.quit()
PY
}
pop3_out=$(pop3_stat alice 'alice-Secret1')
check "POP3 STAT of alice is 1" test "$(head -n1 <<<"$pop3_out")" = 1
check "POP3 RETR 1 contains the marker" grep -qxF "Subject: sandbox $marker" <<<"$pop3_out"
check "POP3 STAT of bob is 0 (delivered to alice only)" test "$(pop3_stat bob 'bob-Secret2')" = 0

# the message is a maildir file of the mail uid under $DC_DIR/mail/alice
files=$(grep -rlF "$marker" "$DC_DIR/mail/alice/Maildir/new" "$DC_DIR/mail/alice/Maildir/cur" 2>/dev/null)
if [ "$(wc -l <<<"$files")" = 1 ] && [ -n "$files" ] && [ "$(stat -c %u "$files")" = 5000 ]; then
	ok "stored once in alice's maildir, owned by uid 5000"
else
	not_ok "stored once in alice's maildir, owned by uid 5000"
	diag "files: ${files:-<none>}"
fi

# --- userdb extra fields --------------------------------------------------
user_alice=$(doveadm -c "$DC_CONF" user alice 2>&1)
user_bob=$(doveadm -c "$DC_CONF" user bob 2>&1)
if grep -qx $'mwtest_flag\tblue' <<<"$user_alice" && grep -qx $'mwtest_volume\tvol2' <<<"$user_alice" &&
	! grep -q mwtest_ <<<"$user_bob"; then
	ok "userdb extra fields reach Dovecot (doveadm user)"
else
	not_ok "userdb extra fields reach Dovecot (doveadm user)"
	diag "alice:" "$user_alice" "bob:" "$user_bob"
fi

bad=$(dovecot_log | grep -E ': (Error|Fatal|Panic):')
if [ -z "$bad" ]; then
	ok "no Error/Fatal/Panic in the Dovecot log"
else
	not_ok "no Error/Fatal/Panic in the Dovecot log"
	diag "$bad"
fi

# --- stop -----------------------------------------------------------------
master=$DC_PID
dovecot_stop
left=$(pgrep -af -- "${SB##*/}")
if [ ! -e "/proc/$master" ] && [ -z "$left" ]; then
	ok "dovecot_stop leaves no Dovecot process of this instance"
else
	not_ok "dovecot_stop leaves no Dovecot process of this instance"
	diag "$left"
fi
still_open=
for p in "$DC_IMAP_PORT" "$DC_POP3_PORT" "$DC_LMTP_PORT"; do
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && still_open+=" $p"
done
check "ports closed after dovecot_stop" test -z "$still_open"

done_testing
