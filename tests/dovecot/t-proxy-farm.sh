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
# backend's doveadm server); a fourth backend moves at most its fair share
# + 1%; an unreachable store fails logins temporarily (store_failure =
# tempfail) and never sends a user elsewhere. On 2.3 the same farm also
# runs behind Dovecot's director, compared in the same run.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# the auth process loads $(moduledir)/auth/libauthdb_<driver>.so from its
# compiled-in directory: show it our module in a private mount namespace
if [ -z "${MW_PROXY_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
	export MW_PROXY_NS=1
	exec unshare -m --propagation private "${BASH:-bash}" "$0" "$@"
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
AUTHDB=${top_builddir:-.}/plugins/auth/.libs/libauthdb_mailshard_proxy.so
CTL=${top}/plugins/auth/mailshard-proxy.py
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

# the auth modules: Dovecot's own plus ours, bind-mounted over the module
# dir in this namespace only (copied: never rewrite a mapped .so in place)
MODS=/usr/lib/dovecot/modules/auth
mkdir -p "$SB/authmods"
for f in "$MODS"/*; do [ -e "$f" ] && cp -a "$f" "$SB/authmods/"; done
cp "$AUTHDB" "$SB/authmods/libauthdb_mailshard_proxy.so"
if ! mount --bind "$SB/authmods" "$MODS"; then
	echo "Bail out! cannot bind-mount the auth module dir"
	exit 1
fi

# every instance listens on the same port numbers, each on its own address
# (the proxies pass the port the client reached on to the backend, as the
# director does)
IMAP_PORT=$(sb_port)
POP3_PORT=$(sb_port)
LMTP_PORT=$(sb_port)
DADM_PORT=$(sb_port)
DADM_PW=farm-secret

redis_start || { echo "Bail out! redis-server did not start"; exit 1; }
DICT="redis:host=127.0.0.1:port=$REDIS_PORT:timeout_msecs=1000"

# --- the shared mail directory, as one NFS filer would export it ---------
SRV=$SB/srv
mkdir -p "$SRV" && chown 5000:5000 "$SRV"

# backend NAME: a Dovecot on ${ADDR[NAME]} with local index files and a
# doveadm server (for doveadm who/kick through mailshard-proxy(8))
backend() {
	local u
	dovecot_use "$1"
	DC_LISTEN=${ADDR[$1]}
	DC_IMAP_PORT=$IMAP_PORT DC_POP3_PORT=$POP3_PORT DC_LMTP_PORT=$LMTP_PORT
	mkdir -p "$SB/$1-idx" && chown 5000:5000 "$SB/$1-idx"
	DC_MAIL_LOCATION="maildir:$SRV/%n/Maildir:INDEX=$SB/$1-idx/%n"
	DC_MAIL_HOME="$SRV/%n"
	DC_EXTRA_CONF="
mmap_disable = yes
mail_fsync = always
login_trusted_networks = 127.0.0.0/8
doveadm_password = $DADM_PW
service doveadm {
  inet_listener {
    address = ${ADDR[$1]}
    port = $DADM_PORT
  }
}"
	if [ ! -s "$SB/$1/users" ]; then
		for u in $USERS; do
			dovecot_add_user "$u" "$PW"
		done
	fi
	dovecot_start
}

BACKENDS3="b1=${ADDR[b1]},b2=${ADDR[b2]},b3=${ADDR[b3]}"
BACKENDS4="$BACKENDS3,b4=${ADDR[b4]}"
HOLD=1

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
	fi
	DC_AUTH_CONF="passdb {
  driver = passwd-file
  args = scheme=PLAIN $SB/$1/users
  result_success = continue-ok
}
passdb {
  driver = mailshard_proxy
  args = backends=$3 dict=$DICT max_decision_msecs=500 ${4:-}
  skip = unauthenticated
}
userdb {
  driver = static
  args = uid=5000 gid=5000
}"
	DC_EXTRA_CONF="
# one info line per mailshard_proxy decision
auth_verbose = yes
lmtp_proxy = yes
# each proxy serves many users from one address: no per-IP login limit
mail_max_userip_connections = 1000
"
	dovecot_start
}

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

for n in p1 p2 b1 b2 b3; do
	dovecot_use $n
	dovecot_stop
done
done_testing
