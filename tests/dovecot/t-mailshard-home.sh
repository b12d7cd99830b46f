#!/bin/bash
# t-mailshard-home.sh - other settings that use the user's home, with the
# mailshard plugin placing users (issue 14, "%h"): a metadata dictionary
# (mail_attribute_dict = file:HOME/...) and the user's Sieve script.
#
# Dovecot 2.4 expands settings when they are used, after mailshard set the
# home: %{home} works, and the files land in the user's mailshard
# directory. Dovecot 2.3 expands %h before any plugin runs: a session of a
# configuration with %h fails with Dovecot's own error naming the setting
# (mailshard(7) says so and tells to write ~/ instead), nothing is
# created, and the same configuration with ~/ works, the files again in
# the user's mailshard directory.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
sb_need_cmd python3 python3
SIEVE=/usr/lib/dovecot/modules/lib90_sieve_plugin.so
[ -f "$SIEVE" ] || skip_all "dovecot-sieve not installed"
PLUGIN=$(mw_module plugins/mailshard lib20_mailshard_plugin.so)
. "$MW_TESTLIB/dovecot.sh"

sb_init mailshard-home

PY=${MW_PYTHON:-python3}
SRV=$SB/srv
mkdir -p "$SRV/v1"
touch "$SRV/v1/.mailshard-volume"
chown -R 5000:5000 "$SRV"
VOLS="v1=$SRV/v1"
where() {	# USER -> the user's directory per mailshard(7)
	"$PY" "$MW_TESTLIB/mailshard.py" "$VOLS" hash:2:2 "$1" | cut -d' ' -f2
}

dovecot_modules "$PLUGIN"
ln -s "$SIEVE" "$DC_MODULES/"
dovecot_mailwarren_settings
DC_MAIL_LOCATION=
DC_MAIL_HOME=
DC_MAIL_PLUGINS=mailshard
DC_DELIVERY_PLUGINS=sieve
dovecot_add_user juan pw
dovecot_add_user maria pw

# conf HOMEVAR [SIEVEHOMEVAR]: the dictionary under HOMEVAR, the Sieve
# script under SIEVEHOMEVAR (default HOMEVAR)
conf() {
	local s=${2:-$1}
	if [ -n "$DC_V24" ]; then
		DC_PLUGIN_SETTINGS="mailshard_volumes = $VOLS"
		DC_EXTRA_CONF="
mail_attribute {
  dict file {
    path = $1/dovecot-attributes
  }
}
sieve_script personal {
  driver = file
  path = $s/sieve
  active_path = $s/.dovecot.sieve
}"
	else
		DC_PLUGIN_SETTINGS="mailshard_volumes = $VOLS
sieve = file:$s/sieve;active=$s/.dovecot.sieve"
		DC_EXTRA_CONF="mail_attribute_dict = file:$1/dovecot-attributes"
	fi
}
deliver() {	# USER SUBJECT -> LMTP reply code
	printf 'From: a@example.net\nSubject: %s\n\nbody\n' "$2" |
		dovecot_client lmtp "$DC_LMTP_PORT" a@example.net "$1@example.test" | awk '{print $2}'
}
sieve_rule() {	# USER -> a Sieve script filing "work" mail into Work
	local home
	home=$(where "$1")
	mkdir -p "$home/sieve"
	printf 'require "fileinto";\nif header :contains "subject" "work" { fileinto "Work"; }\n' \
		>"$home/sieve/rules.sieve"
	ln -sfn sieve/rules.sieve "$home/.dovecot.sieve"
	chown -R 5000:5000 "$SRV"
}
in_box() {	# USER MAILBOX SUBJECT -> the message is in the user's maildir folder
	local d
	d=$(where "$1")/Maildir
	[ "$2" = INBOX ] || d=$d/.$2
	grep -rlqF "Subject: $3" "$d/new" "$d/cur" 2>/dev/null
}

if [ -n "$DC_V24" ]; then
	# --- 2.4: %{home} works ------------------------------------------------
	conf '%{home}'
	dovecot_start || { not_ok "dovecot_start"; echo "Bail out! private Dovecot did not start"; exit 1; }
	ok "dovecot_start: mail_attribute dict file and sieve_script under %{home}"
	jhome=$(where juan)
	out=$(dovecot_doveadm mailbox metadata set -u juan INBOX /private/comment hello 2>&1)
	check "doveadm mailbox metadata set -u juan works${out:+ [$out]}" test -z "$out"
	check "the attribute dictionary is in juan's mailshard home" \
		grep -q hello "$jhome/dovecot-attributes"
	out=$(dovecot_doveadm mailbox metadata get -u juan INBOX /private/comment 2>&1)
	check "doveadm mailbox metadata get reads it back" test "$out" = hello
	sieve_rule maria
	dovecot_doveadm mailbox create -u maria Work
	check "LMTP to maria: 250 (Sieve script in her mailshard home)" \
		test "$(deliver maria 'work report')" = 250
	check "maria's Sieve rule under %{home} filed the message into Work" \
		in_box maria Work 'work report'
else
	# --- 2.3: %h is refused, by name; ~/ works -------------------------------
	conf '%h' '~'
	dovecot_start || { not_ok "dovecot_start"; echo "Bail out! private Dovecot did not start"; exit 1; }
	ok "dovecot_start: mail_attribute_dict under %h"
	check "LMTP to juan: 451, the session fails" test "$(deliver juan hello)" = 451
	# the log process writes the line after the 451 went out: wait for it
	check "the log names mail_attribute_dict and %h" sb_eventually 10 \
		grep -q "userdb didn't return a home directory, but mail_attribute_dict used it (%h)" "$DC_LOG"
	out=$(dovecot_doveadm mailbox metadata set -u juan INBOX /private/comment hello 2>&1)
	check "doveadm mailbox metadata set -u juan fails too, naming the setting" \
		grep -q "but mail_attribute_dict used it (%h)" <<<"$out"
	check "nothing was created for juan" test ! -e "$(where juan)"
	dovecot_stop
	: >"$DC_LOG"
	conf '~' '%h'
	dovecot_start || { not_ok "dovecot_start"; echo "Bail out! private Dovecot did not start"; exit 1; }
	check "sieve = file:%h/...: LMTP 451" test "$(deliver juan hello)" = 451
	check "the log names the sieve setting and %h" sb_eventually 10 \
		grep -q "userdb didn't return a home directory, but plugin setting sieve used it (%h)" "$DC_LOG"
	dovecot_stop
	conf '~'
	dovecot_start || { not_ok "dovecot_start"; echo "Bail out! private Dovecot did not start"; exit 1; }
	ok "dovecot_start: the same with ~/"
	jhome=$(where juan)
	out=$(dovecot_doveadm mailbox metadata set -u juan INBOX /private/comment hello 2>&1)
	check "doveadm mailbox metadata set -u juan works${out:+ [$out]}" test -z "$out"
	check "the attribute dictionary is in juan's mailshard home" \
		grep -q hello "$jhome/dovecot-attributes"
	out=$(dovecot_doveadm mailbox metadata get -u juan INBOX /private/comment 2>&1)
	check "doveadm mailbox metadata get reads it back" test "$out" = hello
	sieve_rule maria
	dovecot_doveadm mailbox create -u maria Work
	check "LMTP to maria: 250 (Sieve script in her mailshard home)" \
		test "$(deliver maria 'work report')" = 250
	check "maria's Sieve rule under ~/ filed the message into Work" \
		in_box maria Work 'work report'
fi

dovecot_stop
done_testing
