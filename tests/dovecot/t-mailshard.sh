#!/bin/bash
# t-mailshard.sh - the mailshard plugin in a real private Dovecot: LMTP and
# dovecot-lda deliveries land at the exact path that mailshard(7) gives
# (computed independently by tests/lib/mailshard.py), IMAP, POP3 and
# doveadm read them there; weighted volumes, the letters layout, volume
# and path pins, an explicit userdb mail, INDEX= on local disk; a missing
# volume marker fails LMTP (451), POP3 (-ERR [SYS/TEMP]) and IMAP without
# creating anything; hostile usernames are refused and nothing is ever
# written outside the volumes. The same checks on Dovecot 2.3 (plugin { }
# settings, mail_location) and 2.4 (declared settings from the settings
# module, mail_driver/mail_path/mail_index_path).

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/lib/dovecot/imap dovecot-imapd
sb_need_cmd /usr/lib/dovecot/pop3 dovecot-pop3d
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
sb_need_cmd python3 python3
PLUGIN=$(mw_module plugins/mailshard lib20_mailshard_plugin.so)
. "$MW_TESTLIB/dovecot.sh"
. "$MW_TESTLIB/mailshard.sh"
TMPX_BEFORE=$(ms_tmpx)

sb_init mailshard

PY=${MW_PYTHON:-python3}

# --- the shared volumes (tests/lib/mailshard.sh): v1 and v2 (weight 2)
# take hashed users, legacy only pins; "bare" has no marker file
ms_volumes || { echo "Bail out! cannot make the volumes"; exit 1; }

dovecot_modules "$PLUGIN"
dovecot_mailwarren_settings
dovecot_overlay doveadm "$(mw_module plugins/mailshard lib10_doveadm_mailshard_plugin.so doveadm)"
DC_MAIL_LOCATION=
DC_MAIL_HOME=
DC_MAIL_PLUGINS=mailshard
DC_PLUGIN_SETTINGS="mailshard_volumes = $VOLS
mailshard_nfs_check = strict"
DC_EXTRA_CONF="
# let odd names reach the userdb (and so the plugin)
auth_username_chars ="

# the shared users (tests/lib/mailshard.sh), and this test's own: a pin
# with "..", names that look like Dovecot variables (data, never expanded)
ms_add_users
dovecot_add_user dotpin pw "userdb_mailshard_path=$SRV/legacy/../../escape"
dovecot_add_user 'p%{home}q' pw
dovecot_add_user 'r%%{user}%s' pw

if ! dovecot_start; then
	not_ok "dovecot_start"
	echo "Bail out! private Dovecot did not start"
	exit 1
fi
ok "dovecot_start with mail_plugins = mailshard and no mail_location"

msg() {	# USER -> a message with a per-user marker
	printf 'From: a@example.net\nTo: %s@example.test\nSubject: m-%s-%s\n\nbody\n' "$1" "$1" "$$"
}
deliver() {	# USER -> LMTP reply code for USER
	msg "$1" | dovecot_client lmtp "$DC_LMTP_PORT" a@example.net "$1@example.test" | awk '{print $2}'
}
files_of() {	# USER -> every message file (not index cache) holding USER's marker
	grep -rlF --exclude-dir=dovecot "Subject: m-$1-$$" "$SB" 2>/dev/null |
		grep -E '/(new|cur|tmp)/[^/]+$'
}
at_path() {	# USER DIR [N] -> USER's N (default 1) message(s) are under DIR/Maildir, nowhere else
	local f x n=0
	f=$(files_of "$1")
	for x in $f; do
		case $x in "$2/Maildir/new/"* | "$2/Maildir/cur/"*) n=$((n + 1)) ;; *) n=-1000 ;; esac
	done
	[ "$n" = "${3:-1}" ] && return 0
	diag "$1: want ${3:-1} message(s) under $2/Maildir, found:" $f
	return 1
}
delivered_at() {	# USER DIR -> LMTP 250 and the message under DIR
	local code
	code=$(deliver "$1")
	[ "$code" = 250 ] || { diag "$1: LMTP answered ${code:-nothing}"; return 1; }
	at_path "$1" "$2"
}
lda_at() {	# USER DIR -> dovecot-lda exits 0 and the message under DIR
	msg "$1" | dovecot_lda -d "$1" -f a@example.net \
		-a rcpt@example.test ||
		{ diag "$1: dovecot-lda exit $?"; return 1; }
	at_path "$1" "$2"
}

# --- hashed users over LMTP: exact path, weights -------------------------
bad=
vols_used=
for u in $HASHED; do
	code=$(deliver "$u")
	read -r vol dir < <(where "$u")
	vols_used="$vols_used $vol"
	if [ "$code" != 250 ] || ! at_path "$u" "$dir"; then
		bad="$bad $u($code: want $dir, got $(files_of "$u" | tr '\n' ' '))"
	fi
done
check "LMTP: 8 hashed users stored at volume/xx/yy/user/Maildir${bad:+ -$bad}" test -z "$bad"
diag "volumes of the 8 users:$vols_used"
check "weighted volumes: both v1 and v2 take hashed users, legacy and bare none" \
	eval '[[ "$vols_used" == *v1* && "$vols_used" == *v2* && "$vols_used" != *legacy* && "$vols_used" != *bare* ]]'
read -r _ juandir < <(where juan)
check "the hashed directories are two levels of two hex digits" \
	eval '[[ "$juandir" =~ /srv/mail/v[12]/[0-9a-f]{2}/[0-9a-f]{2}/juan$ ]]'
check "home directory mode is private (0700)" test "$(stat -c %a "$juandir")" = 700

# --- dovecot-lda: the same location ---------------------------------------
printf 'From: b@example.net\nSubject: m-juan-%s\n\nlda\n' "$$" |
	dovecot_lda -d juan -f b@example.net
check "dovecot-lda -d juan exits 0" test $? = 0
check "dovecot-lda stored juan's message beside the LMTP one" at_path juan "$juandir" 2

# --- reading: IMAP, POP3, doveadm ----------------------------------------
out=$(dovecot_client imap "$DC_IMAP_PORT" juan pw INBOX)
check "IMAP: juan's INBOX holds the 2 messages" grep -qx 'INBOX 2' <<<"$out"
out=$(dovecot_client imap "$DC_IMAP_PORT" JUAN@example.test pw INBOX)
check "IMAP: JUAN@example.test is the same mailbox" grep -qx 'INBOX 2' <<<"$out"
check "POP3: maria sees her 1 message" test "$(dovecot_client pop3 "$DC_POP3_PORT" maria pw)" = 1
out=$(dovecot_doveadm mailbox status -u anna messages INBOX 2>&1)
check "doveadm mailbox status -u anna: messages=1 (doveadm uses mailshard too)${out:+ [$out]}" \
	eval '[[ "$out" == *messages=1 ]]'

# --- letters layout, pins, userdb mail, INDEX= -----------------------------
read -r lvol ldir < <(where lena letters:3)
check "letters:3 (userdb mailshard_layout): lena at $lvol/l/e/n/lena" \
	eval 'delivered_at lena "$ldir" && [[ "$ldir" == */l/e/n/lena ]]'
read -r _ pdir < <(where pinvol hash:2:2 legacy)
read -r _ hdir < <(where pinvol)
check "volume pin: pinvol on legacy (weight 0) with its hashed dirs" \
	eval 'delivered_at pinvol "$pdir" && [ "${pdir#$SRV/legacy}" = "${hdir#*/mail/v[12]}" ]'
out=$(dovecot_client imap "$DC_IMAP_PORT" pinvol pw INBOX)
check "IMAP: pinvol reads its pinned INBOX" grep -qx 'INBOX 1' <<<"$out"
check "path pin: pinpath at legacy/p/i/pinpath (normalised)" \
	delivered_at pinpath "$SRV/legacy/p/i/pinpath"
check "path pin outside every volume: LMTP 451" test "$(deliver badpin)" = 451
check "path pin with '..': LMTP 451" test "$(deliver dotpin)" = 451
check "explicit userdb mail wins over mailshard" \
	delivered_at ownmail "$SRV/other/ownmail"
read -r _ idir < <(where idxuser)
ivol=${idir#$SRV/mail/}
check "mailshard_index_dir: idxuser's mail in the volume" delivered_at idxuser "$idir"
dovecot_client imap "$DC_IMAP_PORT" idxuser pw INBOX >/dev/null
check "mailshard_index_dir: indexes under idx/$ivol, none in the maildir" \
	eval '[ -n "$(find "$SB/idx/$ivol" -name "dovecot.index*")" ] && [ -z "$(find "$idir" -name "dovecot.index*")" ]'
read -r _ edir < <(where "$ERIC")
check "UTF-8 name éric (dovecot-lda) is stored as-is inside its volume" lda_at "$ERIC" "$edir"

# --- missing marker: temporary failure everywhere, nothing created --------
check "no marker: LMTP answers 451" test "$(deliver nomount)" = 451
out=$(dovecot_client pop3 "$DC_POP3_PORT" nomount pw)
check "no marker: POP3 -ERR [SYS/TEMP]" grep -q 'REFUSED.*-ERR \[SYS/TEMP\]' <<<"$out"
out=$(dovecot_client imap "$DC_IMAP_PORT" nomount pw INBOX)
check "no marker: IMAP session refused" grep -q '^REFUSED' <<<"$out"
printf 'Subject: m-nomount-%s\n\nx\n' "$$" |
	dovecot_lda -d nomount -f b@example.net 2>/dev/null
check "no marker: dovecot-lda exits 75 (EX_TEMPFAIL)" test $? = 75
check "no marker: the bare mount point stays empty" test -z "$(ls -A "$SRV/bare")"
check "no marker: the log names the volume and the marker" \
	grep -q "mailshard: volume bare not mounted or not initialised: stat($SRV/bare/.mailshard-volume)" "$DC_LOG"

# --- hostile usernames: refused by the plugin, with a clear line ----------
for h in .. .hidden 'a/b' '../../../tmp/x'; do
	printf 'Subject: hostile\n\nx\n' |
		dovecot_lda -d "$h" -f b@example.net 2>/dev/null
	rc=$?
	check "hostile username '$h': dovecot-lda tempfails (75)" test $rc = 75
done
printf 'Subject: hostile\n\nx\n' |
	dovecot_lda -d "$LONG" -f b@example.net 2>/dev/null
rc=$?
check "300-byte username: dovecot-lda tempfails (75), the log says it is too long" \
	eval '[ $rc = 75 ] && grep -q "mailshard: username \"l\{1,\}.*refused: username longer than 255 bytes" "$DC_LOG"'
check "hostile usernames: the log says why (leading '.', '/')" \
	eval "grep -q \"mailshard: username \\\"a/b\\\" refused: '/' in username\" \"\$DC_LOG\" && grep -q \"mailshard: username \\\"..\\\" refused: username starts with '.'\" \"\$DC_LOG\""
read -r _ xdir < <(where 'x..')
check "odd but safe name 'x..' stays inside its volume" \
	delivered_at x.. "$xdir"
for v in 'p%{home}q' 'r%%{user}%s'; do
	read -r _ vdir < <(where "$v")
	check "name '$v' is stored at its own literal path (no variable expanded)" \
		delivered_at "$v" "$vdir"
done
check "POP3: 'p%{home}q' reads its message" \
	test "$(dovecot_client pop3 "$DC_POP3_PORT" 'p%{home}q' pw)" = 1
out=$(dovecot_client pop3 "$DC_POP3_PORT" '..' pw)
check "hostile username '..': POP3 refused" grep -q '^REFUSED' <<<"$out"

# --- doveadm mailshard where|plan ------------------------------------------
# Dovecot looks for doveadm plugins only in its compiled-in directory: bind
# a directory with our build's over it in a private mount namespace
# (nothing changes outside).
da() {
	dovecot_doveadm "$@"
}
out=$(da mailshard where -u juan 2>&1)
read -r jvol _ < <(where juan)
check "doveadm mailshard where -u juan: volume, reason hash, home" \
	grep -qE "^juan +$jvol +hash +$juandir +maildir:$juandir/Maildir *$" <<<"$out"
[ $? = 0 ] || diag "$out"
out=$(da mailshard where -u pinvol 2>&1)
check "doveadm mailshard where -u pinvol: legacy, pin-volume" \
	grep -qE "^pinvol +legacy +pin-volume +$pdir " <<<"$out"
out=$(da mailshard where -u ownmail 2>&1)
check "doveadm mailshard where -u ownmail: userdb-mail" \
	grep -qE "^ownmail +- +userdb-mail " <<<"$out"
# plan: the users that would move to a new volume v3, checked against
# the independent implementation, over every hashed user (-A adds a
# Username column)
mkdir -p "$SRV/mail/v3"
out=$(da mailshard plan -A --add-volume "v3=$SRV/mail/v3" 2>&1)
want_moving=0
for u in $HASHED lena idxuser x..; do
	read -r nv _ < <(VOLS="$VOLS v3=$SRV/mail/v3" where "$u" "$([ $u = lena ] && echo letters:3 || echo hash:2:2)")
	if [ "$nv" = v3 ]; then
		want_moving=$((want_moving + 1))
		grep -qE "^$u +$u +v[12] +v3 " <<<"$out" || want_moving=bad
	fi
done
got_moving=$(grep -cE ' v3 ' <<<"$out")
check "doveadm mailshard plan --add-volume v3: exactly the users mailshard(7) moves ($got_moving)" \
	test "$want_moving" = "$got_moving"
[ "$want_moving" = "$got_moving" ] || diag "want $want_moving" "$out"
check "doveadm mailshard plan prints the count and fraction" \
	grep -qE "^mailshard plan: adding v3=.* moves $got_moving of [0-9]+ users \([0-9.]+%\)$" <<<"$out"
[ $? = 0 ] || diag "$out"
check "doveadm mailshard plan lists no pinned user" \
	eval '! grep -qE "^(pinvol|pinpath|ownmail) " <<<"$out"'

# --- nothing outside the volumes -------------------------------------------
outside=$(find "$SB" -user 5000 ! -path "$SRV/mail/*" ! -path "$SRV/legacy/*" \
	! -path "$SRV/other/*" ! -path "$SB/idx/*" ! -path "$DC_DIR/*" ! -path "$SRV" \
	! -path "$SRV/mail" ! -path "$SRV/legacy" ! -path "$SRV/other" ! -path "$SRV/bare" \
	! -path "$SB/idx" 2>/dev/null)
check "nothing owned by the mail uid outside the volumes${outside:+: $outside}" test -z "$outside"
check "nothing under Dovecot's own dirs for mail (default location unused)" \
	test -z "$(ls -A "$DC_DIR/mail")"
check "no /tmp/x escaped" test "$(ms_tmpx)" = "$TMPX_BEFORE"
# dovecot-lda logs a failed user initialisation as Fatal (and exits 75)
bad=$(grep -E ': (Fatal|Panic):' "$DC_LOG" | grep -vE '^.{15} lda\([0-9]+\): Fatal: mailshard: ')
check "no Fatal/Panic in the Dovecot log but dovecot-lda's refusals" test -z "$bad"
check "only expected errors in the log (marker, pins, hostile names)" \
	eval '! grep -E ": Error:" "$DC_LOG" | grep -vE "mailshard: (volume bare not mounted|mailshard_path|username)|Mail access for users with UID|User initialization failed|Internal error occurred" | grep -q .'

dovecot_stop
done_testing
