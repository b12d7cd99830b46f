#!/bin/bash
# t-proxy-farm.sh - the director-less proxy tier: two Dovecot proxies
# (127.0.1.1, 127.0.1.2) with passdb mailshard_proxy after passwd-file,
# three (then four) Dovecot backends (127.0.2.1-4) on one shared mail
# directory (index files on each backend's local disk), the shared state in
# a real redis-server through Dovecot's dict API. 300 users: each one's mail
# is delivered over LMTP through one proxy and read back over IMAP and POP3
# through the other; both proxies agree on every user and every login lands
# on the user's rendezvous backend (mailshard(7), computed independently).
# Then: a killed backend, marked down, moves only its users (each to its
# next choice) and loses nothing; it comes back while an IMAP IDLE session
# of a moved user stays open on the temporary backend, and that user's new
# logins follow the old session until it is gone (kicked through the
# backend's doveadm server); the backends are marked down and up with
# doveadm mailshard backend (the doveadm plugin, through the passdb's own
# store and the backends' doveadm servers); a fourth backend moves at most its fair share
# + 1%; an unreachable store fails logins temporarily (store_failure =
# tempfail) and never sends a user elsewhere. On 2.3 the same farm also
# runs behind Dovecot's director, compared in the same run. The same test
# runs on Dovecot 2.3 and 2.4 (the snippets of conf.d/dovecot or
# conf.d/dovecot-2.4; 2.4 has no director).

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# the auth process loads $(moduledir)/auth/libauthdb_<driver>.so from its
# compiled-in directory: show it our module in a private mount namespace
# (in a chroot whose root is no mount point, as the Debian 13 test chroot,
# mounts cannot be made private: there, with no shared mount at all,
# nothing can propagate out and the propagation is left unchanged)
ns_prop=private
if ! unshare -m --propagation private true 2>/dev/null &&
	! grep -q ' shared:' /proc/self/mountinfo 2>/dev/null; then
	ns_prop=unchanged
fi
if [ -z "${MW_PROXY_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare -m --propagation $ns_prop true 2>/dev/null; then
	export MW_PROXY_NS=1
	# the module overlays (dovecot_overlay) are bound in this namespace,
	# so that doveadm (mailshard backend) sees them too
	export DC_PRIVATE_NS=1
	exec unshare -m --propagation $ns_prop "${BASH:-bash}" "$0" "$@"
fi
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/lib/dovecot/imap dovecot-imapd
sb_need_cmd /usr/lib/dovecot/pop3 dovecot-pop3d
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
sb_need_cmd redis-server redis-server
sb_need_cmd python3 python3
[ -n "${MW_PROXY_NS:-}" ] || skip_all "no private mount namespace (unshare -m)"
AUTHDB=$(mw_module plugins/auth libauthdb_mailshard_proxy.so auth)
DADM_PLUGIN=$(mw_module plugins/auth lib10_doveadm_mailshard_backend_plugin.so doveadm)
. "$MW_TESTLIB/dovecot.sh"
. "$MW_TESTLIB/redis.sh"
[ -f "$AUTHDB" ] || skip_all "auth module not built ($AUTHDB)"

sb_init proxy-farm
PY=${MW_PYTHON:-python3}
FC() { "$PY" "$MW_TESTLIB/farmclient.py" "$@"; }

NUSERS=${MW_FARM_USERS:-300}
USERS=$(seq -f 'u%03g' 0 $((NUSERS - 1)))
PW=pw
P1=127.0.1.1 P2=127.0.1.2
declare -A ADDR=([b1]=127.0.2.1 [b2]=127.0.2.2 [b3]=127.0.2.3 [b4]=127.0.2.4)

# the auth modules: Dovecot's own plus ours, over the module dir in this
# namespace only; on 2.4 the settings module that declares the passdb's
# settings too
dovecot_overlay auth "$AUTHDB" || { echo "Bail out! cannot overlay the auth module dir"; exit 1; }
dovecot_overlay doveadm "$DADM_PLUGIN" || { echo "Bail out! cannot overlay the doveadm module dir"; exit 1; }
dovecot_mailwarren_settings || { echo "Bail out! cannot overlay the settings module"; exit 1; }
if [ -n "$DC_V24" ]; then
	CONFD=$top/conf.d/dovecot-2.4
else
	CONFD=$top/conf.d/dovecot
fi
diag "Dovecot $DC_FULL_VERSION, snippets of $CONFD"

# every instance listens on the same port numbers, each on its own address
# (the proxies pass the port the client reached on to the backend, as the
# director does)
IMAP_PORT=$(sb_port)
POP3_PORT=$(sb_port)
LMTP_PORT=$(sb_port)
DADM_PORT=$(sb_port)
DADM_PW=farm-secret

redis_start || { echo "Bail out! redis-server did not start"; exit 1; }
# each proxy's dict service talks to Redis; the auth process reaches it
# through Dovecot's dict protocol (proxy::), and so does doveadm mailshard
# backend (2.3: plugin { mailshard_proxy_dict }; 2.4: the passdb's dict { })
REDIS_URI="redis:host=127.0.0.1:port=$REDIS_PORT:timeout_msecs=1000"
DICT=proxy::mailshard_proxy

# --- the shared mail directory, as one NFS filer would export it ---------
SRV=$SB/srv
mkdir -p "$SRV" && chown 5000:5000 "$SRV"

# backend NAME: a Dovecot on ${ADDR[NAME]} with local index files and a
# doveadm server (for doveadm who/kick by doveadm mailshard backend)
backend() {
	local u
	dovecot_use "$1"
	DC_LISTEN=${ADDR[$1]}
	DC_IMAP_PORT=$IMAP_PORT DC_POP3_PORT=$POP3_PORT DC_LMTP_PORT=$LMTP_PORT
	mkdir -p "$SB/$1-idx" && chown 5000:5000 "$SB/$1-idx"
	DC_MAIL_LOCATION="maildir:$SRV/%n/Maildir:INDEX=$SB/$1-idx/%n"
	DC_MAIL_HOME="$SRV/%n"
	# the shipped snippet, with this farm's addresses, ports and password
	DC_EXTRA_CONF=$(sed -e "s|^login_trusted_networks = .*|login_trusted_networks = 127.0.0.0/8|" \
		-e "s|^doveadm_password = .*|doveadm_password = $DADM_PW|" \
		-e "s|port = 2425|port = $DADM_PORT|" -e "s|port = 24\$|port = $LMTP_PORT|" \
		"$CONFD/mailshard-backend.conf.ext")
	grep -q "port = $DADM_PORT" <<<"$DC_EXTRA_CONF" && grep -q "port = $LMTP_PORT" <<<"$DC_EXTRA_CONF" ||
		{ echo "backend: mailshard-backend.conf.ext changed: adapt the test" >&2; return 1; }
	if [ ! -s "$SB/$1/users" ]; then
		for u in $USERS pina pinb pinbad; do
			dovecot_add_user "$u" "$PW"
		done
	fi
	dovecot_start
}

BACKENDS3="b1=${ADDR[b1]},b2=${ADDR[b2]},b3=${ADDR[b3]}"
BACKENDS4="$BACKENDS3,b4=${ADDR[b4]}"
# above the passdb's max_decision_msecs=500
HOLD_MSECS=1000

# proxy NAME ADDR BACKENDS [ARGS]: a Dovecot proxy with passdb mailshard_proxy
proxy() {
	local u
	dovecot_use "$1"
	DC_LISTEN=$2
	DC_IMAP_PORT=$IMAP_PORT DC_POP3_PORT=$POP3_PORT DC_LMTP_PORT=$LMTP_PORT
	DC_MAIL_LOCATION= DC_MAIL_HOME=
	if [ ! -s "$SB/$1/users" ]; then
		for u in $USERS; do
			dovecot_add_user "$u" "$PW"
		done
		# pins: a passdb field, a userdb_ field, a backend that does not exist
		dovecot_add_user pina "$PW" "mailshard_backend=$PIN_A"
		dovecot_add_user pinb "$PW" "userdb_mailshard_backend=$PIN_B"
		dovecot_add_user pinbad "$PW" "mailshard_backend=b9"
	fi
	# the shipped snippet, with this farm's users, backends and store
	if [ -n "$DC_V24" ]; then
		DC_AUTH_CONF=$(sed -e "s|passwd_file_path = /etc/dovecot/users|passwd_file_path = $SB/$1/users|" \
			-e "s|^  backends = .*|  backends = $3\\n  max_decision_msecs = 500\\n  hold_msecs = $HOLD_MSECS${4:+\\n  $4}|" \
			-e "s|^doveadm_port = 2425|doveadm_port = $DADM_PORT|" \
			-e "s|^doveadm_password = .*|doveadm_password = $DADM_PW|" \
			-e "s|uid = vmail|uid = 5000|" -e "s|gid = vmail|gid = 5000|" \
			-e "s|redis_host = 10.0.0.5|redis_host = 127.0.0.1|" \
			-e "s|redis_port = 6379|redis_port = $REDIS_PORT|" \
			"$CONFD/auth-mailshard-proxy.conf.ext" | sed 's/^\(  [a-z_]*\)=/\1 = /')
		grep -q "^  backends = $3\$" <<<"$DC_AUTH_CONF" &&
			grep -q "redis_port = $REDIS_PORT" <<<"$DC_AUTH_CONF" &&
			grep -qF "$SB/$1/users" <<<"$DC_AUTH_CONF" &&
			grep -q "^doveadm_port = $DADM_PORT" <<<"$DC_AUTH_CONF" ||
			{ echo "proxy: auth-mailshard-proxy.conf.ext changed: adapt the test" >&2; return 1; }
	else
		DC_AUTH_CONF=$(sed -e "s|args = scheme=CRYPT /etc/dovecot/users|args = scheme=PLAIN $SB/$1/users|" \
			-e "s|args = backends=.*|args = backends=$3 dict=$DICT max_decision_msecs=500 ${4:-}|" \
			-e "s|uid=vmail gid=vmail|uid=5000 gid=5000|" \
			-e "s|redis:host=10.0.0.5:port=6379:timeout_msecs=1000|$REDIS_URI|" \
			-e "s|^  mailshard_proxy_backends = .*|  mailshard_proxy_backends = $3|" \
			-e "s|^  mailshard_proxy_dict = .*|  mailshard_proxy_dict = $DICT|" \
			-e "s|^  #mailshard_proxy_hold_msecs = .*|  mailshard_proxy_hold_msecs = $HOLD_MSECS|" \
			-e "s|^doveadm_port = 2425|doveadm_port = $DADM_PORT|" \
			-e "s|^doveadm_password = .*|doveadm_password = $DADM_PW|" \
			"$CONFD/auth-mailshard-proxy.conf.ext")
		grep -q "backends=$3 " <<<"$DC_AUTH_CONF" && grep -qF "$REDIS_URI" <<<"$DC_AUTH_CONF" &&
			grep -qF "$SB/$1/users" <<<"$DC_AUTH_CONF" &&
			grep -q "^  mailshard_proxy_backends = $3\$" <<<"$DC_AUTH_CONF" &&
			grep -q "^  mailshard_proxy_hold_msecs = $HOLD_MSECS\$" <<<"$DC_AUTH_CONF" &&
			grep -q "^doveadm_port = $DADM_PORT" <<<"$DC_AUTH_CONF" ||
			{ echo "proxy: auth-mailshard-proxy.conf.ext changed: adapt the test" >&2; return 1; }
	fi
	DC_EXTRA_CONF="
# each proxy serves many users from one address: no per-IP login limit
mail_max_userip_connections = 1000
"
	dovecot_start
}

# pina is pinned to its last rendezvous choice, pinb to its second
r=$(FC rank "$BACKENDS3" pina pinb)
PIN_A=$(sed -n '1s/.* //p' <<<"$r")
PIN_B=$(sed -n '2s/^pinb [^ ]* \([^ ]*\).*/\1/p' <<<"$r")

for b in b1 b2 b3; do
	if ! backend "$b"; then
		echo "Bail out! backend $b did not start"
		exit 1
	fi
done
ok "three backends on ${ADDR[b1]}, ${ADDR[b2]}, ${ADDR[b3]} (ports $IMAP_PORT $POP3_PORT $LMTP_PORT), one mail directory"
for p in "p1 $P1" "p2 $P2"; do
	set -- $p
	if ! proxy "$1" "$2" "$BACKENDS3"; then
		echo "Bail out! proxy $1 did not start"
		exit 1
	fi
done
ok "two proxies with passdb mailshard_proxy on $P1 and $P2"

# --- expectations, independent of the C code ------------------------------
declare -A RANK HOME WHERE
while read -r u r; do
	RANK[$u]=$r
	HOME[$u]=${r%% *}
done < <(FC rank "$BACKENDS3" $USERS)

# decided PROXY FROM: WHERE[user]=backend of each decision logged by PROXY
# from line FROM of its log on (the last one per user wins)
decided() {
	local u b
	WHERE=()
	while read -r u b; do
		WHERE[$u]=$b
	done < <(tail -n +"$2" "$SB/$1/log/dovecot.log" |
		sed -n 's/.*mailshard_proxy: user=\([^ ]*\) home=[^ ]* backend=\([^ ]*\) .*/\1 \2/p')
}
logline() { wc -l <"$SB/$1/log/dovecot.log"; }

# round TAG VIA_LMTP VIA_READ COUNT: deliver m-USER-TAG to every user
# through proxy VIA_LMTP, read it back over IMAP and POP3 through VIA_READ
# (each INBOX must hold COUNT of them)
declare -A LMTPD READ
round() {
	local tag=$1 pl=$2 pr=$3 count=$4 u code n bad= l1 l2
	l1=$(logline "$(pname "$pl")")
	l2=$(logline "$(pname "$pr")")
	while read -r u code; do
		[ "$code" = 250 ] || bad="$bad $u:$code"
	done < <(FC lmtp "$pl" "$LMTP_PORT" "$tag" $USERS)
	check "$tag: LMTP through $(pname "$pl") ($pl): 250 for all $NUSERS users${bad:+ -$bad}" test -z "$bad"
	bad=
	while read -r u n; do
		[ "$n" = "$count" ] || bad="$bad $u:$n"
	done < <(FC imap "$pr" "$IMAP_PORT" "$PW" "$tag" $USERS)
	check "$tag: IMAP through $(pname "$pr") ($pr): every INBOX holds the message${bad:+ -$bad}" test -z "$bad"
	bad=
	while read -r u n; do
		[ "$n" = "$count" ] || bad="$bad $u:$n"
	done < <(FC pop3 "$pr" "$POP3_PORT" "$PW" "$tag" $USERS)
	check "$tag: POP3 through $(pname "$pr") ($pr): the same${bad:+ -$bad}" test -z "$bad"
	decided "$(pname "$pl")" "$l1"
	for u in $USERS; do LMTPD[$u]=${WHERE[$u]:-none}; done
	decided "$(pname "$pr")" "$l2"
	for u in $USERS; do READ[$u]=${WHERE[$u]:-none}; done
	bad=
	for u in $USERS; do
		[ "${LMTPD[$u]}" = "${READ[$u]}" ] && [ "${READ[$u]}" != none ] ||
			bad="$bad $u:${LMTPD[$u]}/${READ[$u]}"
	done
	check "$tag: both proxies agree on every user's backend${bad:+ -$bad}" test -z "$bad"
}
pname() { case $1 in "$P1") echo p1 ;; "$P2") echo p2 ;; esac; }

# landed TAG USER BACKEND: BACKEND's own log shows USER's delivery of TAG
# and a login of USER
lmtp_on() { grep -qE "lmtp\($2\)<[^>]*><[^>]*>: Info: msgid=<m-$2-$1@test>: saved mail to INBOX" "$SB/$3/log/dovecot.log"; }

# --- round 1: all up --------------------------------------------------------
round r1 "$P1" "$P2" 1
bad=
declare -A NB=()
for u in $USERS; do
	[ "${READ[$u]}" = "${HOME[$u]}" ] || bad="$bad $u:${READ[$u]}/${HOME[$u]}"
	NB[${READ[$u]}]=$((${NB[${READ[$u]}]:-0} + 1))
done
check "r1: every user on its rendezvous backend (b1 ${NB[b1]:-0}, b2 ${NB[b2]:-0}, b3 ${NB[b3]:-0})${bad:+ -$bad}" test -z "$bad"
bad=
for u in $USERS; do
	lmtp_on r1 "$u" "${HOME[$u]}" || bad="$bad $u"
done
check "r1: each delivery landed on that backend (its own log)${bad:+ -$bad}" test -z "$bad"

# --- pins, and bad input ------------------------------------------------------
l1=$(logline p1)
out=$(FC imap "$P1" "$IMAP_PORT" "$PW" r1 pina pinb pinbad | paste -sd' ')
decided p1 "$l1"
check "pins: pina (passdb field) on $PIN_A, pinb (userdb_ field) on $PIN_B (${WHERE[pina]:-none} ${WHERE[pinb]:-none})" \
	test "${WHERE[pina]:-}" = "$PIN_A" -a "${WHERE[pinb]:-}" = "$PIN_B"
check "a pin to a backend that is not configured: temporary failure, and an error ($out)" \
	eval '[[ "$out" == *"pinbad TEMPFAIL"* ]] &&
		tail -n +"$l1" "$SB/p1/log/dovecot.log" | grep -q "mailshard_backend \"b9\" is not a configured backend"'
u=$(for u in $USERS; do [ "${HOME[$u]}" = b1 ] && echo "$u" && break; done)
redis_cli SET mailshard-proxy/backends "b1=sideways:0" >/dev/null
l1=$(logline p1)
out=$(FC imap "$P1" "$IMAP_PORT" "$PW" r1 "$u")
check "a stored state that does not parse: temporary failure ($out), and the error names it" \
	eval '[ "$out" = "$u TEMPFAIL" ] &&
		tail -n +"$l1" "$SB/p1/log/dovecot.log" | grep -q "backend states \"b1=sideways:0\": STATE is not"'
redis_cli DEL mailshard-proxy/backends >/dev/null
redis_cli SET "mailshard-proxy/away/$u" "b2 b1" >/dev/null
out=$(FC imap "$P1" "$IMAP_PORT" "$PW" r1 "$u")
check "an away record that does not parse: temporary failure ($out)" test "$out" = "$u TEMPFAIL"
redis_cli DEL "mailshard-proxy/away/$u" >/dev/null
out=$(FC imap "$P1" "$IMAP_PORT" "$PW" r1 "$u")
check "with the bad values gone, $u logs in again ($out)" test "$out" = "$u 1"
out=$(FC imap "$P1" "$IMAP_PORT" wrong r1 "$u")
check "a wrong password is refused (the passdb never authenticates by itself: $out)" test "$out" = "$u REFUSED"
# a proxy whose passdb args are wrong: its auth process stops, with the reason
dovecot_use p3
DC_LISTEN=127.0.1.3 DC_IMAP_PORT=$IMAP_PORT DC_POP3_PORT=$POP3_PORT DC_LMTP_PORT=$LMTP_PORT
DC_MAIL_LOCATION= DC_MAIL_HOME=
dovecot_add_user "$u" "$PW"
if [ -n "$DC_V24" ]; then
	DC_AUTH_CONF="passdb passwd-file {
  passwd_file_path = $SB/p3/users
  result_success = continue-ok
}
passdb mailshard_proxy {
  backends = b1
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
}"
else
	DC_AUTH_CONF="passdb {
  driver = passwd-file
  args = scheme=PLAIN $SB/p3/users
  result_success = continue-ok
}
passdb {
  driver = mailshard_proxy
  args = backends=b1 dict=$DICT
  result_internalfail = return-fail
}
userdb {
  driver = static
  args = uid=5000 gid=5000
}"
fi
if dovecot_start; then
	out=$(FC imap 127.0.1.3 "$IMAP_PORT" "$PW" r1 "$u")
	check "passdb args backends=b1: the login fails ($out) and the auth process says why" \
		eval '[ "$out" != "$u 1" ] && grep -qE "(Fatal|Error): .*passdb mailshard_proxy: (args: )?backend \"b1\": expected NAME=HOST" "$DC_LOG"'
	dovecot_stop
else
	not_ok "a proxy with bad passdb args starts its master (the auth process reports the error)"
fi

# --- the control command: doveadm mailshard backend on p1 ----------------
ctl() { dc_run doveadm -c "$SB/p1/dovecot.conf" mailshard backend "$@"; }
# status: "NAME STATE EPOCH" lines (the table without its header and host)
status() { ctl status | awk 'NR > 1 { print $1, $3, $4 }'; }
out=$(status)
check "doveadm mailshard backend status: all up, epoch 0" test "$out" = "b1 up 0
b2 up 0
b3 up 0"
# the proxy's configuration with a bad backend list for the command
if [ -n "$DC_V24" ]; then
	sed 's|^  backends = .*|  backends = b1|' "$SB/p1/dovecot.conf" >"$SB/bad.conf"
else
	sed 's|^  mailshard_proxy_backends = .*|  mailshard_proxy_backends = b1|' "$SB/p1/dovecot.conf" >"$SB/bad.conf"
fi
out=$(dc_run doveadm -c "$SB/bad.conf" mailshard backend status 2>&1)
rc=$?
check "mailshard backend: a bad backends setting is a configuration error (exit $rc: $out)" \
	eval '[ "$rc" = 78 ] && [[ "$out" == *"backends: backend \"b1\": expected NAME=HOST"* ]]'
out=$(ctl frobnicate 2>&1)
rc=$?
check "mailshard backend: an unknown command prints the usage (exit $rc)" \
	eval '[ "$rc" = 64 ] && [[ "$out" == *"usage: doveadm"* ]]'
out=$(ctl down 2>&1)
rc=$?
check "mailshard backend down without a name: usage error (exit $rc)" test "$rc" = 64
out=$(ctl down b7 2>&1)
rc=$?
check "mailshard backend down of a backend that is not configured is an error (exit $rc)" \
	eval '[ "$rc" = 68 ] && [[ "$out" == *"b7 is not a configured backend"* ]]'
out=$(ctl where "bad/name" 2>&1)
rc=$?
check "mailshard backend where: a user name that mailshard refuses is an error (exit $rc)" \
	eval '[ "$rc" = 65 ] && [[ "$out" == *"user name refused"* ]]'
# state STATUS-LINE: status prints that line
state() { local out; out=$(status) && grep -qx "$1" <<<"$out"; }

# --- b2 dies ------------------------------------------------------------------
dovecot_use b2
kids=$(ps -o pid= --ppid "$DC_PID")
kill -KILL "$DC_PID" $kids 2>/dev/null
dovecot_stop
B2_USERS=$(for u in $USERS; do [ "${HOME[$u]}" = b2 ] && echo "$u"; done)
NB2=$(wc -w <<<"$B2_USERS")
first_b2=$(head -1 <<<"$B2_USERS")
out=$(FC imap "$P1" "$IMAP_PORT" "$PW" r1 "$first_b2")
check "b2 killed: its user $first_b2 cannot log in until b2 is marked down ($out)" \
	eval '[ "${out#* }" = REFUSED ] || [ "${out#* }" = TEMPFAIL ]'
out=$(ctl down b2 2>&1)
check "mailshard backend down b2 (its doveadm server is gone: taken as not running)" \
	state "b2 down 0"
diag "$out"

round r2 "$P2" "$P1" 1
bad= moved=0
for u in $USERS; do
	if [ "${HOME[$u]}" = b2 ]; then
		second=${RANK[$u]#* }
		second=${second%% *}
		[ "${READ[$u]}" = "$second" ] || bad="$bad $u:${READ[$u]}/$second"
		moved=$((moved + 1))
	elif [ "${READ[$u]}" != "${HOME[$u]}" ]; then
		bad="$bad $u:${READ[$u]}/${HOME[$u]}(moved)"
	fi
done
check "r2: b2's $NB2 users went to their next rendezvous choice, nobody else moved (moved $moved of $NUSERS = $((moved * 1000 / NUSERS))/1000)${bad:+ -$bad}" \
	test -z "$bad"
bad=
while read -r u n; do
	[ "$n" = 1 ] || bad="$bad $u:$n"
done < <(FC imap "$P2" "$IMAP_PORT" "$PW" r1 $USERS)
check "r2: nothing lost: every r1 message is still there, once, through the moved backends${bad:+ -$bad}" test -z "$bad"
n=$(ctl where "$first_b2" | awk 'NR > 1 { print $1, $2, $3, $4, $5, $6, $7 }')
check "r2: $first_b2 has an away record from b2, which it follows (where: $n)" \
	eval '[[ "$n" =~ ^$first_b2\ b2\ (b[13])\ b2\ 0\ (b[13])\ away$ ]] &&
		[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]'

# --- b2 comes back while a moved user's IMAP IDLE session stays open ---------
U=$first_b2
V=$(sed -n 2p <<<"$B2_USERS")
UAT=${READ[$U]}
mkfifo "$SB/idle.in"
FC idle "$P1" "$IMAP_PORT" "$U" "$PW" <"$SB/idle.in" >"$SB/idle.out" 2>&1 &
IDLE_PID=$!
exec 7>"$SB/idle.in"
sb_wait_line() { sb_eventually 20 grep -qx "$1" "$SB/idle.out"; }
check "$U: IMAP IDLE session open through p1, on $UAT" sb_wait_line idling
if ! backend b2; then
	echo "Bail out! b2 did not restart"
	exit 1
fi
out=$(ctl up b2 2>&1)
rc=$?
diag "$out"
check "mailshard backend up b2: exit 3, one user kept away (its IDLE session on $UAT)" \
	eval '[ "$rc" = 3 ] && grep -q "0 kicked, 1 kept away" <<<"$out"'
check "b2 is up again, epoch 1" state "b2 up 1"
l2=$(logline p2)
FC imap "$P2" "$IMAP_PORT" "$PW" r1 "$U" "$V" >/dev/null
decided p2 "$l2"
check "a new login of $U follows its open session to $UAT (p2's decision: ${WHERE[$U]:-none})" \
	test "${WHERE[$U]:-}" = "$UAT"
check "a moved user without sessions, $V, is home on b2 again (${WHERE[$V]:-none})" \
	test "${WHERE[$V]:-}" = b2
l1=$(logline p1)
out=$(FC lmtp "$P1" "$LMTP_PORT" idle "$U")
decided p1 "$l1"
check "LMTP for $U through p1 goes to $UAT too (${WHERE[$U]:-none}, $out)" \
	test "${WHERE[$U]:-}" = "$UAT" -a "$out" = "$U 250"
out=$(ctl return b2 2>&1)
rc=$?
check "mailshard backend return b2 while the session is open: still kept away (exit $rc)" test "$rc" = 3
out=$(ctl return -k b2 2>&1)
rc=$?
diag "$out"
check "mailshard backend return -k b2: the IDLE session on $UAT was kicked, exit $rc" \
	eval 'sb_wait_line kicked && [ "$rc" = 0 ]'
exec 7>&-
wait "$IDLE_PID" 2>/dev/null
l2=$(logline p2)
FC imap "$P2" "$IMAP_PORT" "$PW" r1 "$U" >/dev/null
decided p2 "$l2"
check "after the kick, $U logs in at home on b2 (${WHERE[$U]:-none})" test "${WHERE[$U]:-}" = b2
out=$(grep -cE "imap-login: Info: (Login|Logged in): user=<$U>" "$SB/b2/log/dovecot.log")
check "b2's own log shows that login" test "$out" -ge 1

round r3 "$P1" "$P2" 1
bad=
for u in $USERS; do
	[ "${READ[$u]}" = "${HOME[$u]}" ] || bad="$bad $u:${READ[$u]}/${HOME[$u]}"
done
check "r3: everybody is home again${bad:+ -$bad}" test -z "$bad"

# --- a fourth backend ---------------------------------------------------------
if ! backend b4; then
	echo "Bail out! b4 did not start"
	exit 1
fi
for p in "p1 $P1" "p2 $P2"; do
	set -- $p
	dovecot_use "$1"
	dovecot_stop
	if ! proxy "$1" "$2" "$BACKENDS4"; then
		echo "Bail out! proxy $1 did not restart"
		exit 1
	fi
done
ok "b4 on ${ADDR[b4]}; both proxies restarted with four backends"
declare -A HOME4
while read -r u r; do
	HOME4[$u]=${r%% *}
done < <(FC rank "$BACKENDS4" $USERS)
round r4 "$P2" "$P1" 1
bad= moved=0
for u in $USERS; do
	[ "${READ[$u]}" = "${HOME4[$u]}" ] || bad="$bad $u:${READ[$u]}/${HOME4[$u]}"
	if [ "${READ[$u]}" != "${HOME[$u]}" ]; then
		moved=$((moved + 1))
		[ "${READ[$u]}" = b4 ] || bad="$bad $u:${HOME[$u]}->${READ[$u]}"
	fi
done
check "r4: every user on its rendezvous backend of four; the $moved that moved all went to b4${bad:+ -$bad}" \
	test -z "$bad"
# the fair share is 1/4; over 1,000,000 names test_shard and test_proxy
# hold the movement to it + 1%; 300 names have a sampling error of 2.5%
# (binomial), so here the bound is 3 of those: 1/4 + 7.5%
diag "r4: moved $moved of $NUSERS users ($((moved * 1000 / NUSERS))/1000, fair share 250/1000)"
bound=$(awk -v n="$NUSERS" 'BEGIN { printf "%d", n * 0.25 + 3 * sqrt(n * 0.1875) }')
check "r4: the move stays within the fair share's sampling error ($moved <= $bound = 1/4 + 3 sd of $NUSERS)" \
	test "$moved" -le "$bound"
bad=
while read -r u n; do
	[ "$n" = 1 ] || bad="$bad $u:$n"
done < <(FC imap "$P2" "$IMAP_PORT" "$PW" r2 $USERS)
check "r4: nothing lost: every r2 message is there, once${bad:+ -$bad}" test -z "$bad"

# --- the same farm behind Dovecot 2.3's director, compared ------------------
# (after the mailshard proxies' rounds, not at the same time: the director
# places users by its own hash, so both tiers at once would serve some users
# from two backends)
if [ -x /usr/lib/dovecot/director ]; then
	DIR_PORT=$(sb_port)
	dovecot_use d1
	DC_LISTEN=127.0.1.3
	DC_IMAP_PORT=$IMAP_PORT DC_POP3_PORT=$POP3_PORT DC_LMTP_PORT=$LMTP_PORT
	DC_MAIL_LOCATION= DC_MAIL_HOME=
	for u in $USERS; do dovecot_add_user "$u" "$PW"; done
	# the same password check as the mailshard proxies, then the director
	DC_AUTH_CONF="passdb {
  driver = passwd-file
  args = scheme=PLAIN $SB/d1/users
  override_fields = proxy=y port=%{lport}
}
userdb {
  driver = static
  args = uid=5000 gid=5000
}"
	DC_EXTRA_CONF="
mail_max_userip_connections = 1000
$(dovecot_director_conf 127.0.1.3 "$DIR_PORT" "${ADDR[b1]} ${ADDR[b2]} ${ADDR[b3]} ${ADDR[b4]}")"
	if dovecot_start && sb_eventually 20 eval 'doveadm -c "$SB/d1/dovecot.conf" director status | grep -q "^${ADDR[b4]} "'; then
		ok "director on 127.0.1.3 (ring of one) over the same four backends"
		t0=$(date +%s%N)
		bad=
		while read -r u code; do [ "$code" = 250 ] || bad="$bad $u:$code"; done < <(FC lmtp 127.0.1.3 "$LMTP_PORT" r5 $USERS)
		t1=$(date +%s%N)
		while read -r u n; do [ "$n" = 1 ] || bad="$bad $u:$n"; done < <(FC imap 127.0.1.3 "$IMAP_PORT" "$PW" r5 $USERS)
		t2=$(date +%s%N)
		check "r5 through the director: LMTP 250 and IMAP reads the message for all $NUSERS users${bad:+ -$bad}" test -z "$bad"
		printf '%s\n' $USERS >"$SB/userlist"
		declare -A DHOST=() DN=()
		while read -r u _ h _; do DHOST[$u]=$h; done < <(doveadm -c "$SB/d1/dovecot.conf" director map -f "$SB/userlist" 2>/dev/null)
		bad= same=0
		for u in $USERS; do
			b=${DHOST[$u]:-none}
			for n in b1 b2 b3 b4; do [ "${ADDR[$n]}" = "$b" ] && b=$n; done
			DN[$b]=$((${DN[$b]:-0} + 1))
			lmtp_on r5 "$u" "$b" || bad="$bad $u:$b"
			[ "$b" = "${HOME4[$u]}" ] && same=$((same + 1))
		done
		check "r5: each delivery landed on the director's backend for the user${bad:+ -$bad}" test -z "$bad"
		# the mailshard proxies' last full IMAP round, timed the same way
		t3=$(date +%s%N)
		FC imap "$P1" "$IMAP_PORT" "$PW" r5 $USERS >/dev/null
		t4=$(date +%s%N)
		declare -A MN=()
		for u in $USERS; do MN[${HOME4[$u]}]=$((${MN[${HOME4[$u]}]:-0} + 1)); done
		diag "director vs mailshard_proxy, same farm, same run (timings are one run, 4 clients, not a benchmark):"
		diag "  users per backend b1/b2/b3/b4: director ${DN[b1]:-0}/${DN[b2]:-0}/${DN[b3]:-0}/${DN[b4]:-0}, mailshard ${MN[b1]:-0}/${MN[b2]:-0}/${MN[b3]:-0}/${MN[b4]:-0}; same backend for $same of $NUSERS"
		diag "  $NUSERS IMAP logins+SEARCH: director $(((t2 - t1) / 1000000)) ms, mailshard_proxy $(((t4 - t3) / 1000000)) ms; LMTP $NUSERS deliveries via director $(((t1 - t0) / 1000000)) ms"
	else
		not_ok "director on 127.0.1.3 over the same four backends"
	fi
	dovecot_stop
	dovecot_use p1
fi

# --- the store unreachable ------------------------------------------------
S=$(head -3 <<<"$USERS")
marks() { local b; for b in b1 b2 b3 b4; do grep -cE "(Login|Logged in): user=" "$SB/$b/log/dovecot.log"; done | paste -sd' '; }
before=$(marks)
redis_stop
l1=$(logline p1)
out=$(FC imap "$P1" "$IMAP_PORT" "$PW" r1 $S | awk '{print $2}' | sort -u)
check "Redis stopped: IMAP logins through p1 fail temporarily ([UNAVAILABLE]: $out)" test "$out" = TEMPFAIL
out=$(FC pop3 "$P1" "$POP3_PORT" "$PW" r1 $S | awk '{print $2}' | sort -u)
check "... and POP3 logins ($out)" test "$out" = TEMPFAIL
out=$(FC lmtp "$P2" "$LMTP_PORT" down $S | awk '{print $2}' | sort -u)
check "... and LMTP through p2 answers 4xx (the sender retries; $out)" eval '[[ "$out" == 4?? ]]'
check "... and no login reached any backend (per-backend login counts $before)" test "$(marks)" = "$before"
check "... and p1 logged the store error and its tempfail" \
	eval 'tail -n +"$l1" "$SB/p1/log/dovecot.log" | grep -q "mailshard_proxy: store:" &&
		tail -n +"$l1" "$SB/p1/log/dovecot.log" | grep -q "reason=tempfail (store unavailable)"'
out=$(ctl status 2>&1)
rc=$?
check "... and doveadm mailshard backend status fails temporarily, naming the store (exit $rc)" \
	eval '[ "$rc" = 75 ] && [[ "$out" == *"store: lookup backends"* ]]'
out=$(grep -h "imap(\|pop3(" "$SB/p1/log/dovecot.log" "$SB/p2/log/dovecot.log" | head -3)
check "no proxy ever served a user itself${out:+: $out}" test -z "$out"
# store_failure = hash: the operator's choice to fail open to the pure hash
dovecot_use p2
dovecot_stop
proxy p2 "$P2" "$BACKENDS4" store_failure=hash || { echo "Bail out! p2 did not restart"; exit 1; }
l2=$(logline p2)
FC imap "$P2" "$IMAP_PORT" "$PW" r1 $S >/dev/null
decided p2 "$l2"
bad=
for u in $S; do [ "${WHERE[$u]:-}" = "${HOME4[$u]}" ] || bad="$bad $u:${WHERE[$u]:-none}"; done
check "store_failure=hash: with Redis stopped, p2 sends users to their pure rendezvous backend${bad:+ -$bad}" test -z "$bad"

for n in p1 p2 b1 b2 b3 b4; do
	dovecot_use $n
	dovecot_stop
done
done_testing
