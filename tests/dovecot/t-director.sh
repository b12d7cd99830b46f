#!/bin/bash
# t-director.sh - scale-out on Dovecot's own engine: two backend Dovecots
# (127.0.0.2 and 127.0.0.3) with mailshard share one mail root (the same
# volumes, as two NFS clients of one filer would; index files on each
# backend's local disk) behind a Dovecot director (127.0.0.1) that pins
# each user to one backend. 100 users' LMTP deliveries and IMAP logins
# through the director land on the pinned backend (each backend's own log
# is the per-backend marker), and every message is stored exactly once at
# the mailshard(7) path. Then one backend is stopped and removed from the
# director: its users are served by the other one, nothing is lost.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/lib/dovecot/director dovecot-core
sb_need_cmd /usr/lib/dovecot/imap dovecot-imapd
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
sb_need_cmd python3 python3
PLUGIN=${top_builddir:-.}/plugins/mailshard/.libs/lib20_mailshard_plugin.so
. "$MW_TESTLIB/dovecot.sh"

sb_init director

PY=${MW_PYTHON:-python3}

NUSERS=100
USERS=$(seq -f 'u%03g' 0 $((NUSERS - 1)))
A=127.0.0.2
B=127.0.0.3

# --- the shared mail root: two volumes, as the filer would export them ---
SRV=$SB/srv
mkdir -p "$SRV/v1" "$SRV/v2"
touch "$SRV/v1/.mailshard-volume" "$SRV/v2/.mailshard-volume"
chown -R 5000:5000 "$SRV"
VOLS="v1=$SRV/v1 v2=$SRV/v2"
dovecot_modules "$PLUGIN"

# The director proxies to the port the client reached on it (%{lport}), so
# the backends listen on the director's port numbers, each on its own IP.
IMAP_PORT=$(sb_port)
LMTP_PORT=$(sb_port)
while [ "$LMTP_PORT" = "$IMAP_PORT" ]; do LMTP_PORT=$(sb_port); done
DIR_PORT=$(sb_port)
while [ "$DIR_PORT" = "$IMAP_PORT" ] || [ "$DIR_PORT" = "$LMTP_PORT" ]; do DIR_PORT=$(sb_port); done

# backend NAME IP: a mailshard Dovecot on IP with local index files
backend() {
	local u
	dovecot_use "$1"
	DC_LISTEN=$2
	DC_IMAP_PORT=$IMAP_PORT DC_LMTP_PORT=$LMTP_PORT
	DC_MAIL_LOCATION= DC_MAIL_HOME=
	DC_MAIL_PLUGIN_DIR=$DC_MODULES DC_MAIL_PLUGINS=mailshard
	mkdir -p "$SB/$1-idx" && chown 5000:5000 "$SB/$1-idx"
	# Dovecot's NFS advice for a director setup: no mmap, fsync always,
	# mail_nfs_* off, indexes on local disk
	DC_EXTRA_CONF="
mmap_disable = yes
mail_fsync = always
plugin {
  mailshard_volumes = $VOLS
  mailshard_index_dir = $SB/$1-idx
  mailshard_nfs_check = strict
}"
	for u in $USERS; do
		dovecot_add_user "$u" pw
	done
	dovecot_start
}

if ! backend backA "$A" || ! backend backB "$B"; then
	not_ok "two backend Dovecots on $A and $B"
	echo "Bail out! a backend did not start"
	exit 1
fi
ok "two mailshard backends on $A and $B (ports $IMAP_PORT, $LMTP_PORT)"
LOG_A=$SB/backA/log/dovecot.log
LOG_B=$SB/backB/log/dovecot.log

dovecot_use front
DC_IMAP_PORT=$IMAP_PORT DC_LMTP_PORT=$LMTP_PORT
DC_MAIL_LOCATION= DC_MAIL_HOME=
DC_AUTH_CONF="passdb {
  driver = static
  args = proxy=y nopassword=y port=%{lport}
}
userdb {
  driver = static
  args = uid=5000 gid=5000
}"
DC_EXTRA_CONF=$(dovecot_director_conf 127.0.0.1 "$DIR_PORT" "$A $B")
if ! dovecot_start; then
	not_ok "director on 127.0.0.1"
	echo "Bail out! the director did not start"
	exit 1
fi
ok "director on 127.0.0.1 (ring of one, backends $A $B)"
LOG_D=$DC_LOG
dadm() { doveadm -c "$SB/front/dovecot.conf" director "$@"; }

# wait until the director's ring is up and sees both backends
sb_eventually 20 eval 'dadm status | grep -q "^$B "'
check "doveadm director status lists both backends" \
	eval 'out=$(dadm status) && grep -q "^$A " <<<"$out" && grep -q "^$B " <<<"$out"'

# --- the expected placement, from mailshard(7) ----------------------------
declare -A WANT HOST
while read -r u vol dir; do
	WANT[$u]=$dir
done < <(for u in $USERS; do printf '%s ' "$u"; "$PY" "$MW_TESTLIB/mailshard.py" "$VOLS" hash:2:2 "$u"; done)

# host_of: the director's answer for every user (doveadm director map)
host_of() {
	local u h
	printf '%s\n' $USERS >"$SB/userlist"
	HOST=()
	while read -r u _ h _; do
		[ -n "${WANT[$u]:-}" ] && HOST[$u]=$h
	done < <(dadm map -f "$SB/userlist" 2>/dev/null)
}

# stored_all TAG: print the users whose TAG message is not stored exactly
# once at their mailshard(7) path (one pass over the mail root)
stored_all() {
	local f subj u
	declare -A seen=()
	while IFS= read -r f; do
		subj=${f##*:Subject: m-}
		u=${subj%-"$1"}
		[ "$u" != "$subj" ] || continue		# another round's message
		case ${f%%:Subject: *} in
		"${WANT[$u]}/Maildir/new/"* | "${WANT[$u]}/Maildir/cur/"*)
			seen[$u]=$((${seen[$u]:-0} + 1)) ;;
		*) seen[$u]=wrong-path ;;
		esac
	done < <(grep -rH -m1 '^Subject: m-' "$SRV" --exclude='dovecot*' 2>/dev/null)
	for u in $USERS; do
		[ "${seen[$u]:-0}" = 1 ] || printf ' %s:%s' "$u" "${seen[$u]:-0}"
	done
}

# round TAG COUNT: deliver one TAG message to every user over the director's
# LMTP, then log in to every user over its IMAP; the counts must be COUNT
round() {
	local tag=$1 count=$2 u code n bad_lmtp= bad_imap= bad_disk
	while read -r u code; do
		[ "$code" = 250 ] || bad_lmtp="$bad_lmtp $u:$code"
	done < <(dovecot_client lmtp-each "$LMTP_PORT" "$tag" $USERS)
	check "$tag: LMTP through the director: 250 for all $NUSERS users${bad_lmtp:+ -$bad_lmtp}" \
		test -z "$bad_lmtp"
	while read -r u n; do
		[ "$n" = "$count" ] || bad_imap="$bad_imap $u:$n"
	done < <(dovecot_client imap-each "$IMAP_PORT" pw INBOX $USERS)
	check "$tag: IMAP LOGIN through the director: every INBOX holds $count${bad_imap:+ -$bad_imap}" \
		test -z "$bad_imap"
	bad_disk=$(stored_all "$tag")
	check "$tag: every message stored exactly once at its mailshard path${bad_disk:+ -$bad_disk}" \
		test -z "$bad_disk"
}

# lmtp_on USER TAG LOG: LOG shows the delivery of USER's TAG message;
# imap_on USER LOG: LOG shows a login of USER
lmtp_on() { grep -qE "^.{15} lmtp\($1\)<[^>]*><[^>]*>: Info: msgid=<m-$1-$2@test>: saved mail to INBOX" "$3"; }
imap_on() { grep -qE "^.{15} imap-login: Info: Login: user=<$1>, " "$2"; }
# pinned TAG: each user's traffic reached its director host and no other
pinned() {
	local tag=$1 u log other bad= na=0 nb=0
	for u in $USERS; do
		case ${HOST[$u]:-} in
		"$A") log=$LOG_A other=$LOG_B na=$((na + 1)) ;;
		"$B") log=$LOG_B other=$LOG_A nb=$((nb + 1)) ;;
		*) bad="$bad $u:nohost"; continue ;;
		esac
		if ! lmtp_on "$u" "$tag" "$log" || ! imap_on "$u" "$log"; then
			bad="$bad $u:missing@${HOST[$u]}"
		elif lmtp_on "$u" "$tag" "$other" || imap_on "$u" "$other"; then
			bad="$bad $u:also-elsewhere"
		fi
	done
	check "$tag: each user's LMTP delivery and IMAP login landed on its pinned backend only (A $na, B $nb)${bad:+ -$bad}" \
		test -z "$bad"
	check "$tag: the director spread the users over both backends" test "$na" -gt 0 -a "$nb" -gt 0
}

# --- round 1: both backends up ---------------------------------------------
round first 1
host_of
pinned first
check "the director logged its proxying (one line per session)" \
	grep -qE "imap-login: Info: proxy\(u000,($A|$B):$IMAP_PORT\): Started proxying" "$LOG_D"
n_a=$(find "$SB/backA-idx" -name dovecot.index.log | wc -l)
n_b=$(find "$SB/backB-idx" -name dovecot.index.log | wc -l)
check "index files only on each backend's local disk (A $n_a, B $n_b users), none on the volumes" \
	eval '[ "$((n_a + n_b))" = "$NUSERS" ] && [ -z "$(find "$SRV" -name "dovecot.index*")" ]'

# --- backend B goes away; the director moves its users to A ---------------
B_USERS=$(for u in $USERS; do [ "${HOST[$u]}" = "$B" ] && echo "$u"; done)
dovecot_use backB
dovecot_stop
# logins and deliveries for B's users now fail until the director is told
out=$(dovecot_client imap-each "$IMAP_PORT" pw INBOX $(head -1 <<<"$B_USERS"))
check "backend B stopped: its user's login fails while the director still points there" \
	grep -q ' REFUSED$' <<<"$out"
dadm remove "$B"
dadm flush "$B" 2>/dev/null
check "doveadm director remove $B: only $A left" \
	eval 'out=$(dadm status) && grep -q "^$A " <<<"$out" && ! grep -q "^$B " <<<"$out"'
# from here on, no error may appear in the director's or A's log
skip_d=$(wc -l <"$LOG_D")
skip_a=$(wc -l <"$LOG_A")
round second 2
host_of
bad=
for u in $B_USERS; do
	[ "${HOST[$u]}" = "$A" ] || bad="$bad $u"
	lmtp_on "$u" second "$LOG_A" || bad="$bad $u(lmtp)"
	imap_on "$u" "$LOG_A" || bad="$bad $u(imap)"
done
check "B's $(wc -w <<<"$B_USERS") users are now served by A (director map and A's log)${bad:+ -$bad}" \
	test -z "$bad"
bad=$(stored_all first)
check "nothing lost: every first-round message is still there, once${bad:+ -$bad}" test -z "$bad"
errs=$( (tail -n +$((skip_d + 1)) "$LOG_D"; tail -n +$((skip_a + 1)) "$LOG_A") |
	grep -E ": (Error|Fatal|Panic):" | head -5)
check "after the move, no error in the director's or A's log${errs:+: $errs}" test -z "$errs"

dovecot_use front
dovecot_stop
dovecot_use backA
dovecot_stop
done_testing
