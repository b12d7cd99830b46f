#!/bin/bash
# t-mailshard-auth.sh - placement in Dovecot's auth process: the userdb
# driver "mailshard" (libauthdb_mailshard.so) chained after passwd-file,
# in a real private Dovecot whose mail processes load no mailwarren code.
# Against the mail plugin's route (a second instance on the same volumes)
# and against tests/lib/mailshard.py (mailshard(7) reimplemented): the
# same home, mail location and delivered files, byte for byte. Pins and an
# explicit mail field from the earlier userdb; LMTP, IMAP, POP3, doveadm
# user, dovecot-lda; %h in another setting; a missing volume marker fails
# LMTP (451), IMAP and POP3 temporarily and creates nothing; hostile names
# are refused; bad module args stop the auth process with a clear line.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/lib/dovecot/imap dovecot-imapd
sb_need_cmd /usr/lib/dovecot/pop3 dovecot-pop3d
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
sb_need_cmd python3 python3
AUTHMOD=$(mw_module plugins/auth libauthdb_mailshard.so auth)
PLUGIN=$(mw_module plugins/mailshard lib20_mailshard_plugin.so)
DAPLUGIN=$(mw_module plugins/mailshard lib10_doveadm_mailshard_plugin.so doveadm)
. "$MW_TESTLIB/dovecot.sh"
. "$MW_TESTLIB/mailshard.sh"

sb_init mailshard-auth
TMPX_BEFORE=$(ms_tmpx)

PY=${MW_PYTHON:-python3}

# --- the shared volumes (tests/lib/mailshard.sh): v1 and v2 (weight 2)
# take hashed users, legacy only pins; "bare" has no marker file
ms_volumes || { echo "Bail out! cannot make the volumes"; exit 1; }

# Dovecot finds auth modules, doveadm plugins and (2.4) settings modules
# only in its compiled-in directories: both instances run with our build
# bound over them, in a private mount namespace (dovecot_overlay)
dovecot_overlay auth "$AUTHMOD"
dovecot_overlay doveadm "$DAPLUGIN"
dovecot_mailwarren_settings
dovecot_modules "$PLUGIN"

# --- the same users in both instances: the shared ones
# (tests/lib/mailshard.sh) and p%u
add_users() {	# into the current instance
	ms_add_users
	dovecot_add_user 'p%u' pw
}
# every user both routes place (p%u: a '%' must not be expanded anywhere)
PLACED="$HASHED lena pinvol pinpath idxuser x.. p%u $ERIC"

auth_conf() {	# SETTINGS -> DC_AUTH_CONF for the current instance: passwd-file,
	# then userdb mailshard configured by SETTINGS: 2.3 its args, 2.4 the
	# lines of its block
	if [ -n "$DC_V24" ]; then
		DC_AUTH_CONF="passdb passwd-file {
  passwd_file_path = $DC_USERS
}
userdb passwd-file {
  passwd_file_path = $DC_USERS
  result_success = continue-ok
}
userdb mailshard {
$1
}"
	else
		DC_AUTH_CONF="passdb {
  driver = passwd-file
  args = scheme=PLAIN $DC_USERS
}
userdb {
  driver = passwd-file
  args = $DC_USERS
  result_success = continue-ok
}
userdb {
  driver = mailshard
  args = $1
}"
	fi
}

# --- instance "dovecot": placement in auth, no mail plugin ------------------
add_users
DC_MAIL_LOCATION=
DC_MAIL_HOME=
if [ -n "$DC_V24" ]; then
	# 2.4: the plugin's own settings, here inside the userdb's block
	auth_conf "  mailshard_volumes = $VOLS
  mailshard_layout = hash:2:2
  mailshard_maildir = Maildir"
	DC_EXTRA_CONF="
# let odd names reach the userdb
auth_username_chars =
# %{home} in another setting: only works when the userdb returns the home
mail_attribute {
  dict file {
    path = %{home}/dovecot-attributes
  }
}
imap_metadata = yes"
else
	auth_conf "volumes=\"$VOLS\" layout=hash:2:2 maildir=Maildir"
	DC_EXTRA_CONF="
# let odd names reach the userdb
auth_username_chars =
# %h in another setting: only works when the userdb returns the home
mail_attribute_dict = file:%h/dovecot-attributes
imap_metadata = yes"
	# the userdb's args again, for doveadm mailshard where|plan (2.3's
	# doveadm does not see the auth process's args; no mail process loads
	# the plugin here)
	DC_PLUGIN_SETTINGS="mailshard_volumes = $VOLS
mailshard_layout = hash:2:2
mailshard_maildir = Maildir"
fi

# --- instance "plug": the mail plugin's route, same volumes and users -----
dovecot_use plug
add_users
DC_MAIL_LOCATION=
DC_MAIL_HOME=
DC_MAIL_PLUGINS=mailshard
DC_MAIL_PLUGIN_DIR=$SB/modules
DC_EXTRA_CONF="auth_username_chars ="
DC_PLUGIN_SETTINGS="mailshard_volumes = $VOLS
mailshard_layout = hash:2:2
mailshard_maildir = Maildir"

dovecot_use dovecot
if ! dovecot_start; then
	not_ok "dovecot_start (auth module)"
	echo "Bail out! private Dovecot with the auth module did not start"
	exit 1
fi
ok "dovecot_start: userdb passwd-file (continue-ok) + userdb mailshard, no mail plugin, no mail_location"
dovecot_use plug
if ! dovecot_start; then
	not_ok "dovecot_start (mail plugin)"
	echo "Bail out! private Dovecot with the mail plugin did not start"
	exit 1
fi
ok "dovecot_start: the mail plugin's instance on the same volumes"
dovecot_use dovecot

# --- helpers -----------------------------------------------------------------
msg() {	# USER TAG -> a message with a per-user, per-route marker
	printf 'From: a@example.net\nTo: %s@example.test\nSubject: m-%s-%s-%s\n\nbody\n' "$1" "$1" "$2" "$$"
}
deliver() {	# PORT USER TAG -> LMTP reply code for USER
	msg "$2" "$3" | dovecot_client lmtp "$1" a@example.net "$2@example.test" | awk '{print $2}'
}
file_of() {	# USER TAG -> the message file holding that marker (or nothing)
	grep -rlF --exclude-dir=dovecot "Subject: m-$1-$2-$$" "$SRV" 2>/dev/null |
		grep -E '/(new|cur)/[^/]+$'
}
maildir_of() {	# USER TAG -> the maildir holding that message
	local f
	f=$(file_of "$1" "$2")
	[ -n "$f" ] && dirname "$(dirname "$f")"
}
expect() {	# USER -> "HOME MAIL" that mailshard(7) gives (tests/lib/mailshard.py)
	local u=$1 layout=hash:2:2 pin= vol dir idx=
	case $u in
	lena) layout=letters:3 ;;
	pinvol) pin=legacy ;;
	esac
	if [ "$u" = pinpath ]; then
		vol=legacy dir=$SRV/legacy/p/i/pinpath
	else
		read -r vol dir < <(where "$u" "$layout" "$pin")
	fi
	[ "$u" = idxuser ] && idx=":INDEX=$SB/idx/$vol${dir#"$SRV"/mail/"$vol"}"
	printf '%s maildir:%s/Maildir%s\n' "$dir" "$dir" "$idx"
}
ufield() {	# FIELD USER -> the field of doveadm user in the current instance
	dovecot_doveadm user -f "$1" "$2" 2>/dev/null
}
uloc() {	# USER -> "HOME MAIL" from doveadm user; MAIL as 2.3's location
	# (on 2.4 made of mail_driver, mail_path and mail_index_path, as
	# doveadm mailshard where prints it)
	local i
	if [ -n "$DC_V24" ]; then
		i=$(ufield mail_index_path "$1")
		echo "$(ufield home "$1") $(ufield mail_driver "$1"):$(ufield mail_path "$1")${i:+:INDEX=$i}"
	else
		echo "$(ufield home "$1") $(ufield mail "$1")"
	fi
}
wherecol() {	# DOVEADM-ARGS... -> "HOME MAIL" from doveadm mailshard where
	dovecot_doveadm "$@" 2>/dev/null | awk 'NR == 2 { print $4, $5 }'
}

authlog() {	# USER-AND-NEXT-CHAR TEXT -> the auth log has TEXT for the user:
	# 2.3 "auth: Error: mailshard(juan,127.0.0.1,...): TEXT",
	# 2.4 "auth(juan,127.0.0.1,...): Error: mailshard: TEXT"
	if [ -n "$DC_V24" ]; then
		grep -F "auth($1" "$DC_LOG" | grep -qF ": Error: mailshard: $2"
	else
		grep -F "auth: Error: mailshard($1" "$DC_LOG" | grep -qF "): $2"
	fi
}

# --- doveadm user: home and mail from the auth module ----------------------
bad=
for u in $PLACED; do
	want=$(expect "$u")
	got=$(uloc "$u")
	[ "$got" = "$want" ] || bad="$bad [$u: want '$want', got '$got']"
done
check "doveadm user: home and mail of $(wc -w <<<"$PLACED") users as mailshard(7) gives them (hash, weights, letters:3 override, volume and path pins, index_dir, UTF-8, '%')${bad:+ -$bad}" \
	test -z "$bad"
check "doveadm user ownmail: the explicit userdb mail location and home are left alone" \
	test "$(uloc ownmail)" = "$SRV/other/ownmail maildir:$SRV/other/ownmail/Maildir"
dovecot_doveadm user nosuch >/dev/null 2>&1
check "doveadm user nosuch: unknown (67); the module invents no user" test $? = 67

# --- the plugin's route: the same strings, byte for byte --------------------
declare -A AUTHSAYS=()
for u in $PLACED; do
	AUTHSAYS[$u]=$(uloc "$u")
done
dovecot_use plug
bad=
for u in $PLACED; do
	got=$(wherecol mailshard where -u "$u")
	[ -n "$got" ] && [ "$got" = "${AUTHSAYS[$u]}" ] || bad="$bad [$u: plugin '$got', auth '${AUTHSAYS[$u]}']"
done
check "doveadm mailshard where (mail plugin) = doveadm user (auth module) for every placed user${bad:+ -$bad}" \
	test -z "$bad"
PLUG_LMTP=$DC_LMTP_PORT
PLUG_CONF=$DC_CONF
dovecot_use dovecot
# the auth instance, with the plugin loaded by -o for this doveadm only: it
# sees the userdb's mail and reports what the mail process really applied
bad=
for u in $PLACED; do
	got=$(wherecol -o mail_plugins=mailshard -o "mail_plugin_dir=$SB/modules" \
		mailshard where -u "$u")
	[ -n "$got" ] && [ "$got" = "${AUTHSAYS[$u]}" ] || bad="$bad [$u: applied '$got', user '${AUTHSAYS[$u]}']"
done
check "auth instance: a mail process applies exactly what doveadm user shows${bad:+ -$bad}" \
	test -z "$bad"

# --- doveadm mailshard where|plan without the mail plugin -------------------
# the auth instance loads no mail plugin (2.4: the settings are inside the
# userdb's block, 2.3: plugin { } repeats the userdb's args); the doveadm
# plugin recomputes the placement and reports it where it gives the home
# and location doveadm user shows
evol() {	# USER -> "VOLUME REASON" per mailshard(7)
	case $1 in
	pinvol) echo "legacy pin-volume" ;;
	pinpath) echo "legacy pin-path" ;;
	lena) echo "$(where lena letters:3 | cut -d' ' -f1) hash" ;;
	*) echo "$(where "$1" | cut -d' ' -f1) hash" ;;
	esac
}
bad=
for u in $PLACED; do
	got=$(dovecot_doveadm mailshard where -u "$u" 2>&1 | awk 'NR == 2 { print $2, $3, $4, $5 }')
	want="$(evol "$u") ${AUTHSAYS[$u]}"
	[ "$got" = "$want" ] || bad="$bad [$u: want '$want', got '$got']"
done
check "auth instance, no mail plugin: doveadm mailshard where = mailshard(7) volume and reason, doveadm user's home and mail${bad:+ -$bad}" \
	test -z "$bad"
got=$(dovecot_doveadm mailshard where -u ownmail 2>&1 | awk 'NR == 2 { print $2, $3, $4, $5 }')
check "auth instance: ownmail (explicit userdb mail) is userdb-mail ($got)" \
	test "$got" = "- userdb-mail $SRV/other/ownmail maildir:$SRV/other/ownmail/Maildir"
printf '%s\n' $PLACED ownmail >"$SB/placed.list"
V3="v3=$SRV/mail/v3:2"
want=
for u in $PLACED; do
	read -r vol reason < <(evol "$u")
	[ "$reason" = hash ] || continue
	layout=hash:2:2
	[ "$u" = lena ] && layout=letters:3
	read -r nvol ndir < <(VOLS="$VOLS $V3" where "$u" "$layout")
	[ "$nvol" != "$vol" ] && want="$want$u $vol $nvol $ndir"$'\n'
done
plan_rows() {	# DOVEADM-CONF -> the rows of plan (no header, no summary;
	# with -F doveadm puts the username column first)
	dc_run "$DC_DOVEADM" -c "$1" mailshard plan -F "$SB/placed.list" --add-volume "$V3" 2>&1 |
		awk 'NR > 1 && !/^mailshard plan:/ { print $2, $3, $4, $5 }'
}
got=$(plan_rows "$DC_CONF")
check "auth instance, no mail plugin: doveadm mailshard plan --add-volume v3 lists the $(grep -c . <<<"$want") hashed users mailshard(7) moves, with their new home" \
	test "$got" = "${want%$'\n'}"
check "... the same rows as plan through the mail plugin's instance" test "$(plan_rows "$PLUG_CONF")" = "$got"
n=$(grep -c . <<<"$want")
out=$(dovecot_doveadm mailshard plan -F "$SB/placed.list" --add-volume "$V3" 2>&1 | tail -1)
check "... and its summary counts all $(wc -w <<<"$PLACED ownmail") users ($out)" \
	eval '[[ "$out" == "mailshard plan: adding $V3 moves $n of $(wc -w <<<"$PLACED ownmail") users ("* ]]'

# --- deliveries: both routes write into the same maildir --------------------
bad=
for u in $PLACED; do
	read -r home _ < <(expect "$u")
	if [ "$u" = "$ERIC" ]; then
		# the LMTP client speaks ASCII only: dovecot-lda for the UTF-8 name
		msg "$u" auth | dovecot_lda -d "$u" -f a@example.net -a rcpt@example.test &&
			c1=250 || c1=$?
		msg "$u" plug | dc_run "$DC_LDA" -c "$PLUG_CONF" -d "$u" -f a@example.net -a rcpt@example.test &&
			c2=250 || c2=$?
	else
		c1=$(deliver "$DC_LMTP_PORT" "$u" auth)
		c2=$(deliver "$PLUG_LMTP" "$u" plug)
	fi
	m1=$(maildir_of "$u" auth)
	m2=$(maildir_of "$u" plug)
	if [ "$c1 $c2" != "250 250" ] || [ "$m1" != "$home/Maildir" ] || [ "$m2" != "$home/Maildir" ]; then
		bad="$bad [$u: auth $c1 $m1, plugin $c2 $m2]"
	fi
done
check "LMTP (dovecot-lda for $ERIC) through each route: every user's two messages in the same HOME/Maildir${bad:+ -$bad}" \
	test -z "$bad"
check "explicit mail: ownmail's delivery goes to its own maildir" \
	eval '[ "$(deliver "$DC_LMTP_PORT" ownmail auth)" = 250 ] && [ "$(maildir_of ownmail auth)" = "$SRV/other/ownmail/Maildir" ]'
read -r juandir _ < <(expect juan)
msg juan lda | dovecot_lda -d juan -f a@example.net
check "dovecot-lda -d juan (auth route): exit 0, stored beside the LMTP ones" \
	eval '[ $? = 0 ] && [ "$(maildir_of juan lda)" = "$juandir/Maildir" ]'
check "home directory mode is private (0700)" test "$(stat -c %a "$juandir")" = 700
read -r idxhome _ < <(expect idxuser)
dovecot_client imap "$DC_IMAP_PORT" idxuser pw INBOX >/dev/null
idxvol=${idxhome#"$SRV"/mail/}
check "index_dir (userdb override): indexes under idx/$idxvol, none in the maildir" \
	eval '[ -n "$(find "$SB/idx/$idxvol" -name "dovecot.index*")" ] && [ -z "$(find "$idxhome" -name "dovecot.index*")" ]'

# --- reading back: IMAP, POP3 ------------------------------------------------
out=$(dovecot_client imap "$DC_IMAP_PORT" juan pw INBOX)
check "IMAP: juan's INBOX holds the 3 messages (auth LMTP, plugin LMTP, lda)" grep -qx 'INBOX 3' <<<"$out"
out=$(dovecot_client imap "$DC_IMAP_PORT" PINVOL@example.test pw INBOX)
check "IMAP: PINVOL@example.test reads its pinned INBOX (2)" grep -qx 'INBOX 2' <<<"$out"
check "POP3: maria sees her 2 messages" test "$(dovecot_client pop3 "$DC_POP3_PORT" maria pw)" = 2
check "POP3: pinpath sees its 2 messages" test "$(dovecot_client pop3 "$DC_POP3_PORT" pinpath pw)" = 2
out=$(dovecot_client imap-subjects "$DC_IMAP_PORT" lena pw INBOX | sort | tr '\n' ' ')
check "IMAP: lena (letters:3) reads both routes' messages" \
	test "$out" = "m-lena-auth-$$ m-lena-plug-$$ "

# --- no mailwarren code in the mail processes --------------------------------
check "the auth instance loads no mail plugin (mail_plugins empty)" \
	test -z "$(dc_run "$DC_DOVECONF" -c "$DC_CONF" -h mail_plugins 2>/dev/null)"
# an IMAP session held open: its imap process maps no mailwarren object
cat >"$SB/held.py" <<'PYEOF'
import imaplib, sys, time
im = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
im.login("anna", "pw")
im.select("INBOX")
print("IN", flush=True)
time.sleep(3)
im.logout()
PYEOF
"$PY" "$SB/held.py" "$DC_IMAP_PORT" >"$SB/held.out" 2>&1 &
held=$!
sb_eventually 50 grep -q IN "$SB/held.out"
# the only imap process of this instance now (no other session is open)
imap_pid=$(pgrep -P "$DC_PID" -x imap)
diag "imap processes of master $DC_PID: $imap_pid; children: $(pgrep -P "$DC_PID" | tr '\n' ' ')"
# (the user's own files may be mapped too: their paths hold the sandbox's)
maps=$(grep -E '/lib[^/]*(mailshard|mailwarren|authdb)[^/]*\.so' "/proc/$imap_pid/maps" 2>/dev/null)
check "anna's imap process (pid ${imap_pid:-none}) maps no mailwarren module" \
	eval '[ -n "$imap_pid" ] && [ -r "/proc/$imap_pid/maps" ] && [ -z "$maps" ]'
auth_pid=$(pgrep -P "$DC_PID" -x auth | head -1)
check "the auth process (pid ${auth_pid:-none}) maps libauthdb_mailshard.so" \
	grep -q libauthdb_mailshard.so "/proc/${auth_pid:-0}/maps"
wait $held

# --- %h in another setting ---------------------------------------------------
dovecot_doveadm mailbox metadata set -u juan INBOX /private/comment "auth-home" 2>"$SB/meta.err"
check "mail_attribute_dict = file:%h/...: doveadm mailbox metadata set writes into juan's home" \
	eval '[ -s "$juandir/dovecot-attributes" ] && ! grep -q . "$SB/meta.err"'
[ -s "$SB/meta.err" ] && diag "$(cat "$SB/meta.err")"
out=$(dovecot_client imap "$DC_IMAP_PORT" juan pw INBOX)
check "IMAP login with %h in mail_attribute_dict: no initialisation error" grep -qx 'INBOX 3' <<<"$out"

# --- missing marker: temporary failure everywhere, nothing created --------
check "no marker: LMTP answers 451" test "$(deliver "$DC_LMTP_PORT" nomount auth)" = 451
# The login process writes the temporary-failure reply of a failed userdb
# lookup and then shuts the socket down at once (2.3 client-common-auth.c):
# the client sees "NO [UNAVAILABLE]" ("-ERR [SYS/TEMP]"), or a bare
# disconnect when the reply was still buffered. Both are temporary, and the
# log says "Internal login failure"; what must never come is a login or an
# authentication failure (which makes a client ask for a new password).
cat >"$SB/login.py" <<'PYEOF'
import socket, sys
port, proto, want = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
greeting = s.recv(4096)
if proto == "imap":
    s.sendall(b"a LOGIN nomount pw\r\n")
else:
    s.sendall(b"USER nomount\r\nPASS pw\r\n")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
text = data.decode("utf-8", "replace")
if want in text:
    print("TEMP")
elif text.strip() in ("", "+OK"):
    print("EOF")
else:
    print("BAD", repr(text))
PYEOF
login_fails() {	# SERVICE -> how many internal login failures of nomount
	# 2.3 "Disconnected: Internal login failure (pid=N id=N): user=<..>",
	# 2.4 "Login aborted: Internal login failure (pid=N id=N) (internal
	# failure, ...) (internal_failure): user=<..>"
	grep -cE "$1: Info: (Disconnected|Login aborted): Internal login failure \(pid=[0-9]+ id=[0-9]+\)( \(internal failure[^)]*\) \(internal_failure\))?: user=<nomount>" "$DC_LOG"
}
login_temp() {	# PORT PROTO WANT SERVICE -> the reply is temporary, and the
	# log has one more internal login failure for nomount
	local out n
	n=$(login_fails "$4")
	out=$("$PY" "$SB/login.py" "$1" "$2" "$3")
	diag "$2 login of nomount: $out"
	case $out in TEMP | EOF) ;; *) return 1 ;; esac
	sb_eventually 50 eval '[ "$(login_fails "$4")" -gt "$n" ]'
}
check "no marker: IMAP LOGIN gets NO [UNAVAILABLE] or a disconnect, an internal (temporary) login failure" \
	login_temp "$DC_IMAP_PORT" imap "a NO [UNAVAILABLE] Internal error occurred" imap-login
check "no marker: POP3 PASS gets -ERR [SYS/TEMP] or a disconnect, an internal (temporary) login failure" \
	login_temp "$DC_POP3_PORT" pop3 "-ERR [SYS/TEMP] Internal error occurred" pop3-login
dovecot_doveadm user nomount >/dev/null 2>&1
check "no marker: doveadm user fails temporarily (75)" test $? = 75
msg nomount lda | dovecot_lda -d nomount -f a@example.net 2>/dev/null
check "no marker: dovecot-lda exits 75 (EX_TEMPFAIL)" test $? = 75
check "no marker: the bare mount point stays empty" test -z "$(ls -A "$SRV/bare")"
check "no marker: one log line names the user, the volume and the reason (IMAP login)" \
	authlog nomount,127.0.0.1, "volume bare not mounted or not initialised: stat($SRV/bare/.mailshard-volume) failed: No such file or directory"
check "no marker: ... and for LMTP, doveadm and dovecot-lda" \
	eval 'authlog "nomount," "volume bare not mounted" && authlog "nomount)" "volume bare not mounted"'
check "bad path pin: LMTP 451 and the log says why" \
	eval '[ "$(deliver "$DC_LMTP_PORT" badpin auth)" = 451 ] && authlog "badpin," "mailshard_path $SB/elsewhere/badpin is not inside a configured volume"'

# --- hostile usernames: refused in auth, with a clear line ------------------
for h in .. .hidden 'a/b' '../../../tmp/x' "$LONG"; do
	dovecot_doveadm user "$h" >/dev/null 2>&1
	rc1=$?
	msg x hostile | dovecot_lda -d "$h" -f a@example.net 2>/dev/null
	rc2=$?
	check "hostile username '${h:0:20}': doveadm user 75, dovecot-lda 75" \
		test "$rc1 $rc2" = "75 75"
done
check "hostile usernames: the log says why ('/')" \
	authlog "a/b)" "username \"a/b\" refused: '/' in username"
check "hostile usernames: the log says why (leading '.')" \
	authlog "..)" "username \"..\" refused: username starts with '.'"
check "hostile usernames: the log says why (length)" \
	grep -qF "refused: username longer than 255 bytes" "$DC_LOG"
out=$(dovecot_client pop3 "$DC_POP3_PORT" '..' pw)
check "hostile username '..': POP3 refused" grep -q '^REFUSED' <<<"$out"

# --- nothing outside the volumes -------------------------------------------
outside=$(find "$SB" -user 5000 ! -path "$SRV/mail/*" ! -path "$SRV/legacy/*" \
	! -path "$SRV/other/*" ! -path "$SB/idx/*" ! -path "$SB/dovecot/*" ! -path "$SB/plug/*" \
	! -path "$SRV" ! -path "$SRV/mail" ! -path "$SRV/legacy" ! -path "$SRV/other" \
	! -path "$SRV/bare" ! -path "$SB/idx" 2>/dev/null)
check "nothing owned by the mail uid outside the volumes${outside:+: $outside}" test -z "$outside"
check "nothing under Dovecot's own dirs for mail (default location unused)" \
	test -z "$(find "$SB/dovecot/mail" "$SB/plug/mail" -mindepth 1)"
check "no /tmp/x escaped" test "$(ms_tmpx)" = "$TMPX_BEFORE"
# dovecot-lda logs a failed lookup as Fatal (and exits 75)
bad=$(grep -E ': (Fatal|Panic):' "$DC_LOG" | grep -vE '^.{15} lda(\([^)]*\))?(<[^>]*>)*: Fatal: ')
check "no Fatal/Panic in the auth instance's log but dovecot-lda's refusals${bad:+: $bad}" test -z "$bad"

# --- bad settings: the auth process refuses to start, naming them -----------
dovecot_use bad
dovecot_add_user juan pw
DC_MAIL_LOCATION=
DC_MAIL_HOME=
badargs() {	# SETTINGS WANT -> start "bad" with them: the log then has
	# "Fatal: userdb mailshard: WANT" and doveadm user fails
	local rc found
	auth_conf "$1"
	: >"$DC_LOG"
	dovecot_start || return 1
	dovecot_doveadm user juan >/dev/null 2>&1
	rc=$?
	sb_eventually 20 grep -qF "Fatal: userdb mailshard: $2" "$DC_LOG"
	found=$?
	dovecot_stop
	[ $rc != 0 ] && [ $found = 0 ] && return 0
	diag "doveadm user: $rc; log:"
	dovecot_log 5 | while read -r l; do diag "$l"; done
	return 1
}
if [ -n "$DC_V24" ]; then
	check "no mailshard_volumes is fatal at auth start" \
		badargs "mailshard_layout = hash:2:2" "mailshard_volumes is not set"
	check "a bad volume list is fatal, naming the volume" \
		badargs "mailshard_volumes = v1=$SRV/mail/v1 v1=$SRV/mail/v2" \
		"mailshard_volumes/mailshard_layout: volume v1 is defined twice"
	check "a bad layout is fatal" \
		badargs "mailshard_volumes = v1=$SRV/mail/v1
mailshard_layout = hash:9:9" "mailshard_volumes/mailshard_layout: layout \"hash:9:9\""
	check "an absolute maildir is fatal" \
		badargs "mailshard_volumes = v1=$SRV/mail/v1
mailshard_maildir = /Maildir" "invalid mailshard_maildir '/Maildir': must be relative"
	auth_conf "mailshard_volumez = v1=$SRV/mail/v1"
	check "a misspelt setting: doveconf refuses the configuration" \
		eval '! dovecot_start 2>"$SB/bad-start.err" && grep -q "Unknown setting: mailshard_volumez" "$SB/bad-start.err"'
	# the settings the mail plugin reads, at top level: the auth process
	# sees them too (settings_get() with the plugin's own info)
	auth_conf ""
	DC_EXTRA_CONF="mailshard_volumes = v1=$SRV/mail/v1
mailshard_maildir = Top"
	read -r _ jdir < <(VOLS="v1=$SRV/mail/v1" where juan)
	if dovecot_start; then
		out=$(ufield mail_path juan)
		dovecot_stop
	else
		out="(no start)"
	fi
	check "top-level mailshard_volumes and mailshard_maildir reach the auth module (mail_path $out)" \
		test "$out" = "$jdir/Top"
	DC_EXTRA_CONF=
else
	check "args: an unknown key is fatal at auth start, naming it" \
		badargs "volumes=v1=$SRV/mail/v1 bogus=1" "args: unknown key 'bogus' (keys: volumes, layout, maildir, index_dir)"
	check "args: no volumes is fatal" badargs "layout=hash:2:2" "mailshard_volumes is not set"
	check "args: a bad volume list is fatal, naming the volume" \
		badargs "volumes=\"v1=$SRV/mail/v1 v1=$SRV/mail/v2\"" "mailshard_volumes/mailshard_layout: volume v1 is defined twice"
	check "args: a bad layout is fatal" badargs "volumes=v1=$SRV/mail/v1 layout=hash:9:9" \
		"mailshard_volumes/mailshard_layout: layout \"hash:9:9\""
	check "args: an absolute maildir is fatal" badargs "volumes=v1=$SRV/mail/v1 maildir=/Maildir" \
		"invalid mailshard_maildir '/Maildir': must be relative"
	check "args: an unterminated quote is fatal" badargs "volumes=\"v1=$SRV/mail/v1" \
		"args: volumes: unterminated '\"'"
	check "args: a word without '=' is fatal" badargs "volumes=v1=$SRV/mail/v1 Maildir" \
		"args: 'Maildir' is not KEY=VALUE"
fi
dovecot_use dovecot

dovecot_stop
done_testing
