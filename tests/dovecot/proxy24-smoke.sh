#!/bin/bash
# proxy24-smoke.sh - a MANUAL smoke run of the proxy tier on Dovecot 2.4.1
# in the Debian 13 chroot (/srv/trixie, which sees this tree under /work),
# until tests/dovecot/t-proxy-farm.sh runs on 2.4 through tests/lib's 2.4
# support. Not a registered test: it prints what happens, it asserts
# nothing. As root on the host:
#     tests/dovecot/proxy24-smoke.sh
# It builds libauthdb_mailshard_proxy.so and a settings module declaring
# its settings with the chroot's compiler into _smoke24/, shows them to
# the chroot's Dovecot in a private mount namespace, and runs: two 2.4
# backends, one 2.4 proxy (passdb mailshard_proxy, dict proxy -> dict
# service -> Redis), LMTP and IMAP through it, mailshard-proxy down/up/
# return -k with an IMAP IDLE session held across the return, Redis down.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" != --inner ]; then
	O=$top/_smoke24
	mkdir -p "$O/auth" "$O/settings"
	cat >"$O/settings-module.c" <<'C'
#include "lib.h"
#include "settings-parser.h"
#include "mailshard-proxy-settings.h"
extern const char *mailshard_proxy_settings_version;
extern const struct setting_parser_info *mailshard_proxy_settings_set_infos[];
const char *mailshard_proxy_settings_version = DOVECOT_ABI_VERSION;
const struct setting_parser_info *mailshard_proxy_settings_set_infos[] = {
	&mailshard_proxy_setting_parser_info, NULL };
C
	chroot /srv/trixie sh -c "cd $top && O=$O &&
		cp /usr/lib/dovecot/modules/auth/* \$O/auth/ 2>/dev/null; cp /usr/lib/dovecot/modules/settings/* \$O/settings/ 2>/dev/null;
		F='-shared -fPIC -O2 -Wall -Wno-comment -DHAVE_CONFIG_H -I/usr/include/dovecot -Ilib -Iplugins/auth' &&
		cc \$F plugins/auth/authdb-mailshard-proxy.c plugins/auth/mailshard-proxy-settings.c lib/mw_proxy.c lib/mw_shard.c lib/mw_siphash.c lib/mw_str.c -lm -o \$O/auth/.new.so &&
		mv \$O/auth/.new.so \$O/auth/libauthdb_mailshard_proxy.so &&
		cc \$F \$O/settings-module.c plugins/auth/mailshard-proxy-settings.c -o \$O/settings/.new.so &&
		mv \$O/settings/.new.so \$O/settings/libmailshard_proxy_settings.so" || exit 1
	exec unshare -m --propagation private sh -c "mount --bind $O/auth /srv/trixie/usr/lib/dovecot/modules/auth &&
		mount --bind $O/settings /srv/trixie/usr/lib/dovecot/modules/settings &&
		chroot /srv/trixie bash $top/tests/dovecot/proxy24-smoke.sh --inner"
fi
CTL_PATH=$top/plugins/auth/mailshard-proxy
# with the module dirs bind-mounted by the caller)
set -u
T=$(mktemp -d /tmp/px24.XXXXXX); chmod 755 $T
port() { python3 -c 'import socket,random
while True:
  p=random.randint(20000,60000); s=socket.socket()
  try: s.bind(("127.0.0.1",p)); print(p); break
  except OSError: pass'; }
IP=$(port); LP=$(port); RP=$(port); DP=$(port)
mkdir -p $T/srv && chown 5000:5000 $T/srv
for u in u1 u2 u3 u4 u5 u6; do echo "$u:{PLAIN}pw:5000:5000::::"; done > $T/users
redis-server --port $RP --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --pidfile $T/redis.pid --logfile $T/redis.log --dir $T
common() { cat <<E
dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.1
instance_name = px24-$1
base_dir = $T/$1/run
state_dir = $T/$1/state
log_path = $T/$1/log
listen = $2
protocols = imap lmtp
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain
auth_username_format = %{user | lower | username}
auth_failure_delay = 0
auth_verbose = yes
first_valid_uid = 1
service imap-login {
  inet_listener imap {
    port = $IP
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    port = $LP
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service managesieve-login {
  inet_listener sieve {
    port = 0
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    path = anvil-auth-penalty.off
  }
}
E
}
for b in "b1 127.0.3.11" "b2 127.0.3.12"; do set -- $b; mkdir -p $T/$1
{ common $1 $2; cat <<E
login_trusted_networks = 127.0.0.0/8
doveadm_password = sec
service doveadm {
  inet_listener tcp {
    port = $DP
  }
}
mail_driver = maildir
mail_path = $T/srv/%{user}/Maildir
mail_home = $T/srv/%{user}
passdb passwd-file {
  passwd_file_path = $T/users
}
userdb passwd-file {
  passwd_file_path = $T/users
}
E
} > $T/$1/dovecot.conf; dovecot -c $T/$1/dovecot.conf || { echo START FAIL $1; cat $T/$1/log; }; done
mkdir -p $T/p1
{ common p1 127.0.3.1; cat <<E
lmtp_proxy = yes
passdb passwd-file {
  passwd_file_path = $T/users
  result_success = continue-ok
}
passdb mailshard_proxy {
  backends = b1=127.0.3.11 b2=127.0.3.12
  skip = unauthenticated
  result_internalfail = return-fail
  dict proxy {
    dict_proxy_name = mailshard_proxy
  }
}
userdb static {
  fields {
    uid = 5000
    gid = 5000
  }
}
dict_server {
  dict mailshard_proxy {
    driver = redis
    redis_host = 127.0.0.1
    redis_port = $RP
  }
}
service dict {
  unix_listener dict {
    mode = 0600
    user = dovecot
  }
}
E
} > $T/p1/dovecot.conf
sed -i 's/\$SET:default_internal_user/dovecot/' $T/p1/dovecot.conf
doveconf -c $T/p1/dovecot.conf -n > $T/p1/doveconf.txt 2>&1 || { echo DOVECONF FAIL; cat $T/p1/doveconf.txt; }
dovecot -c $T/p1/dovecot.conf || { echo START FAIL p1; cat $T/p1/log; }
sleep 1
python3 - $IP $LP <<'PY'
import imaplib, smtplib, sys
ip, lp = int(sys.argv[1]), int(sys.argv[2])
for u in ["u1","u2","u3","u4","u5","u6"]:
    s = smtplib.LMTP("127.0.3.1", lp); s.ehlo("t")
    try:
        s.sendmail("a@x", [u+"@x"], "Subject: m-%s\r\n\r\nb\r\n" % u); r = 250
    except smtplib.SMTPException as e: r = e
    s.quit()
    try:
        im = imaplib.IMAP4("127.0.3.1", ip); im.login(u, "pw"); typ, d = im.select("INBOX"); n = d[0].decode(); im.logout()
    except Exception as e: n = "ERR %s" % e
    print(u, "lmtp", r, "imap", n)
try:
    im = imaplib.IMAP4("127.0.3.1", ip); im.login("u1", "wrong"); print("wrong pw ACCEPTED")
except imaplib.IMAP4.error as e: print("wrong pw refused:", e)
PY
echo "--- proxy decisions"; grep "mailshard_proxy:" $T/p1/log | sed 's/^.*mailshard_proxy: //' 
echo "--- backend logins"; grep -h "imap-login: Info: Login" $T/b*/log | sed 's/, method.*//' | awk '{print $0}' | head; grep -c "Login" $T/b1/log $T/b2/log
echo "--- mark b1 down with mailshard-proxy (Dict dict_server)"
cat > $T/ctl.conf <<E
Dict dict_server
DoveadmConfig $T/p1/dovecot.conf
Backend b1 127.0.3.11:$DP
Backend b2 127.0.3.12:$DP
DoveadmPassword sec
HoldSeconds 1
LockFile $T/ctl.lock
E
CTL="python3 $CTL_PATH -c $T/ctl.conf"
$CTL down b1; echo "down rc=$?"; $CTL status
python3 - $IP <<'PY'
import imaplib, sys
for u in ["u1","u2","u3","u4","u5","u6"]:
    try:
        im = imaplib.IMAP4("127.0.3.1", int(sys.argv[1])); im.login(u, "pw"); typ, d = im.select("INBOX"); print(u, "imap", d[0].decode()); im.logout()
    except Exception as e: print(u, "ERR", e)
PY
grep "mailshard_proxy:" $T/p1/log | tail -6 | sed 's/^.*mailshard_proxy: //'
redis-cli -p $RP KEYS '*'
echo "--- up b1 with an IDLE session of u3 open on b2"
python3 - $IP <<'PY' &
import imaplib, sys, time
im = imaplib.IMAP4("127.0.3.1", int(sys.argv[1])); im.login("u3", "pw"); im.select("INBOX")
im.send(b"i IDLE\r\n"); im.readline(); time.sleep(15)
PY
sleep 2
$CTL up b1; echo "up rc=$?"; $CTL status; $CTL where u3; $CTL where u4
python3 - $IP <<'PY'
import imaplib, sys
for u in ["u3","u4"]:
    im = imaplib.IMAP4("127.0.3.1", int(sys.argv[1])); im.login(u, "pw"); im.logout()
PY
grep "mailshard_proxy:" $T/p1/log | tail -2 | sed 's/^.*mailshard_proxy: //'
$CTL return -k b1; echo "return -k rc=$?"
python3 - $IP <<'PY'
import imaplib, sys
im = imaplib.IMAP4("127.0.3.1", int(sys.argv[1])); im.login("u3", "pw"); im.logout()
PY
grep "mailshard_proxy:" $T/p1/log | tail -1 | sed 's/^.*mailshard_proxy: //'
wait
echo "--- store down"
redis-cli -p $RP SHUTDOWN NOSAVE >/dev/null 2>&1
python3 - $IP <<'PY'
import imaplib, sys
try:
    im = imaplib.IMAP4("127.0.3.1", int(sys.argv[1])); im.login("u2", "pw"); print("u2 LOGGED IN (bad)")
except Exception as e: print("u2 refused:", e)
PY
grep -h "Error\|Fatal\|Panic" $T/*/log | grep -v "mailshard_proxy: store" | head -5
grep "mailshard_proxy: store\|tempfail" $T/p1/log | tail -2 | sed 's/^.*mailshard_proxy: //'
for i in p1 b1 b2; do doveadm -c $T/$i/dovecot.conf stop 2>/dev/null; done
echo "T=$T"
