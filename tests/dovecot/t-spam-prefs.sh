#!/bin/bash
# t-spam-prefs.sh - the spam_prefs plugin in a real private Dovecot:
# per-user thresholds (userdb) over the plugin {} default, allow and deny
# lists, the junk/discard/keep actions, Junk (or another mailbox) created
# and subscribed on first use, LMTP and dovecot-lda, one log line per
# decision; the same checks on Dovecot 2.3 and 2.4 (Pigeonhole 2.4); with
# Pigeonhole loaded too, a user's own Sieve fileinto still
# works and spam still goes to Junk through Sieve's implicit keep.
# With spam_prefs_stamp_key_file (set per user here, through userdb), only
# the score of an X-Mailwarren-Stamp that verifies is believed: stamps
# made by the milter's own code (tests/lib/stamp-make), forged scores,
# a replayed stamp, 64 junk X-Spam-* headers, an unreadable key file,
# spam_prefs_stamp_max_age. The lists take SpamAssassin's whitelist_from
# globs and match the From: header's address too; an allowed sender is
# ignored at or above spam_prefs_allow_max_score (15). Hostile userdb
# values (a threshold, action or bound that does not parse, a list with a
# control character or over 4000 bytes) tempfail that user's mail only
# (LMTP 451 per recipient, dovecot-lda EX_TEMPFAIL) with a log line naming
# the user and the field.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/lib/dovecot/imap dovecot-imapd
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
sb_need_cmd python3 python3
PLUGIN=$(mw_module plugins/spam-prefs lib95_spam_prefs_plugin.so)
. "$MW_TESTLIB/dovecot.sh"

sb_init spam-prefs

PY=${MW_PYTHON:-python3}
STAMP_MAKE=${MW_TESTTOOLS:-${top_builddir:-$top}/tests/lib}/stamp-make
sb_need_cmd "$STAMP_MAKE" "make check (tests/lib/stamp-make)"

# the site key: readable by the delivery user's group only (mode 0640);
# a second one readable by root alone, which the delivery user cannot read
KEY=$SB/stamp.key
KEY_ROOT=$SB/stamp-root.key
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KEY"
cp "$KEY" "$KEY_ROOT"
chmod 0640 "$KEY"
chmod 0600 "$KEY_ROOT"

# mail_plugin_dir is one directory: link our plugin and, when installed,
# Pigeonhole's next to each other
dovecot_modules "$PLUGIN"
SIEVE=/usr/lib/dovecot/modules/lib90_sieve_plugin.so
have_sieve=
if [ -f "$SIEVE" ]; then
	ln -s "$SIEVE" "$DC_MODULES/"
	have_sieve=1
fi
dovecot_mailwarren_settings
DC_DELIVERY_PLUGINS="${have_sieve:+sieve }spam_prefs"
DC_PLUGIN_SETTINGS="spam_prefs_threshold = 8"
if [ -n "$have_sieve" ]; then
	if [ -n "$DC_V24" ]; then
		# Pigeonhole 2.4: a sieve_script block replaces sieve = ...
		DC_EXTRA_CONF="
sieve_script personal {
  driver = file
  path = ~/sieve
  active_path = ~/.dovecot.sieve
}"
	else
		DC_PLUGIN_SETTINGS="$DC_PLUGIN_SETTINGS
sieve = file:~/sieve;active=~/.dovecot.sieve"
	fi
fi

dovecot_add_user juan pw userdb_spam_prefs_threshold=5
dovecot_add_user maria pw
dovecot_add_user anna pw userdb_spam_prefs_threshold=5 \
	userdb_spam_prefs_allow=@friend.example,boss@work.example \
	userdb_spam_prefs_deny=pest@spam.example
dovecot_add_user dan pw userdb_spam_prefs_threshold=5 userdb_spam_prefs_action=discard
dovecot_add_user kate pw userdb_spam_prefs_threshold=5 userdb_spam_prefs_action=keep
dovecot_add_user sam pw userdb_spam_prefs_threshold=5 userdb_spam_prefs_mailbox=Spam
dovecot_add_user bad pw userdb_spam_prefs_threshold=five
dovecot_add_user glob pw userdb_spam_prefs_threshold=5 \
	'userdb_spam_prefs_allow=*@*.friend.example,jo?@work.example' \
	'userdb_spam_prefs_deny=*@spam.example'
dovecot_add_user badact pw userdb_spam_prefs_action=bounce
dovecot_add_user badmax pw userdb_spam_prefs_allow_max_score=high
dovecot_add_user badctl pw "userdb_spam_prefs_allow=a@x.example,$(printf '\033')[0m@y.example"
long=$(printf 'a%.0s' $(seq 1 3990)),b@x.example
dovecot_add_user badlong pw "userdb_spam_prefs_deny=$long"
dovecot_add_user oklong pw "userdb_spam_prefs_deny=${long:11}"
dovecot_add_user sievy pw userdb_spam_prefs_threshold=5
dovecot_add_user hdr pw userdb_spam_prefs_threshold=5
dovecot_add_user st pw userdb_spam_prefs_threshold=5 \
	userdb_spam_prefs_stamp_key_file="$KEY"
dovecot_add_user stbad pw userdb_spam_prefs_threshold=5 \
	userdb_spam_prefs_stamp_key_file="$KEY_ROOT"
dovecot_add_user stallow pw userdb_spam_prefs_threshold=5 \
	userdb_spam_prefs_stamp_key_file="$KEY_ROOT" 'userdb_spam_prefs_allow=*@friend.example'
dovecot_add_user stage pw userdb_spam_prefs_threshold=5 \
	userdb_spam_prefs_stamp_key_file="$KEY" userdb_spam_prefs_stamp_max_age=1h
dovecot_add_user stagebad pw userdb_spam_prefs_threshold=5 \
	userdb_spam_prefs_stamp_key_file="$KEY" userdb_spam_prefs_stamp_max_age=soon

chgrp "$DC_MAIL_GID" "$KEY"

if ! dovecot_start; then
	not_ok "dovecot_start"
	echo "Bail out! private Dovecot did not start"
	exit 1
fi
ok "dovecot_start with spam_prefs for lmtp and lda${have_sieve:+ (and sieve)}"

N=0
send() {	# USER FROM SCORE|- [SUBJECT] -> the LMTP reply code
	N=$((N + 1))
	{
		printf 'From: %s\nTo: %s@example.test\nSubject: %s\n' "$2" "$1" "${4:-t$N}"
		[ "$3" = - ] || printf 'X-Spam-Score: %s\n' "$3"
		printf '\nbody %s\n' "$N"
	} | dovecot_client lmtp "$DC_LMTP_PORT" "$2" "$1@example.test" | awk '{print $2}'
}
boxes() {	# USER MAILBOX... -> "MAILBOX COUNT" lines and SUBSCRIBED
	dovecot_client imap "$DC_IMAP_PORT" "$1" pw "${@:2}"
}
expect() {	# DESC USER "INBOX n Junk m ..." -> check the counts over IMAP
	dovecot_expect_boxes "$1" "$2" pw "$3"
}

# --- thresholds: userdb (juan 5) over plugin {} (maria 8) -------------------
codes="$(send juan a@x.example 7.3) $(send juan a@x.example 4.9) $(send juan a@x.example -)"
codes="$codes $(send juan a@x.example 5.0) $(send maria a@x.example 7.3) $(send maria a@x.example 9)"
check "LMTP accepted all 6 messages" test "$codes" = "250 250 250 250 250 250"
expect "juan (threshold 5): 7.3 and 5.0 in Junk; 4.9 and no score in INBOX" juan "INBOX 2 Junk 2"
expect "maria (default threshold 8): 7.3 in INBOX, 9 in Junk" maria "INBOX 1 Junk 1"
check "Junk was created and subscribed on first use" \
	grep -qxE 'SUBSCRIBED (.* )?Junk( .*)?' < <(boxes juan INBOX)
check "no Junk for kate before any spam (nothing created needlessly)" \
	grep -qx 'Junk -' < <(boxes kate Junk)

# --- allow / deny -----------------------------------------------------------
send anna x@friend.example 14.9 >/dev/null
send anna BOSS@Work.Example 9 >/dev/null
send anna pest@spam.example -1 >/dev/null
send anna pest@spam.example - >/dev/null
send anna x@friend.example 15 >/dev/null
expect "anna: allowed @domain and address (any case) to INBOX at 14.9 and 9; denied sender to Junk at -1 and without score; allowed at 15 (the allow bound) to Junk" \
	anna "INBOX 2 Junk 3"

# --- actions ----------------------------------------------------------------
check "discard: LMTP still answers 250" test "$(send dan a@x.example 9.1)" = 250
send dan a@x.example 1.0 >/dev/null
expect "discard: dan has only the ham, and no Junk" dan "INBOX 1 Junk -"
send kate a@x.example 9 >/dev/null
expect "keep: kate's spam stays in INBOX, no Junk" kate "INBOX 1 Junk -"
send sam a@x.example 6 >/dev/null
expect "spam_prefs_mailbox = Spam: created and used" sam "INBOX 0 Spam 1"
check "Spam subscribed" grep -qE '^SUBSCRIBED (.* )?Spam( |$)' < <(boxes sam INBOX)
check "invalid threshold: LMTP 451 (tempfailed, not filed by a guess)" \
	test "$(send bad a@x.example 50)" = 451
expect "invalid threshold: nothing delivered to bad" bad "INBOX 0"
check "invalid threshold: the log names the user and the field" \
	grep -q "lmtp(bad).*spam_prefs: user=bad: invalid spam_prefs_threshold 'five' (a decimal" "$DC_LOG"

# --- SpamAssassin globs; the From: header address as well --------------------
hmsg() {	# USER ENVELOPE FROM-HEADER SCORE -> reply code
	printf 'From: %s\nSubject: h\nX-Spam-Score: %s\n\nx\n' "$3" "$4" |
		dovecot_client lmtp "$DC_LMTP_PORT" "$2" "$1@example.test" | awk '{print $2}'
}
codes="$(hmsg glob a@mail.friend.example a@mail.friend.example 9)"
codes="$codes $(hmsg glob x@x.example '"Joe" <JOE@work.example>' 9)"
codes="$codes $(hmsg glob joey@work.example joey@work.example 9)"
codes="$codes $(hmsg glob a@friend.example a@friend.example 9)"
codes="$codes $(hmsg glob x@x.example 'Pest <pest@spam.example>' 1)"
codes="$codes $(hmsg glob pest@spam.example 'Nice <nice@x.example>' 1)"
codes="$codes $(hmsg glob x@x.example 'a@mail.friend.example' 20)"
check "globs: LMTP accepted all 7" test "$codes" = "250 250 250 250 250 250 250"
expect "globs: *@*.friend.example (envelope) and jo?@work.example (From:) to INBOX at 9; joey@ and a@friend.example (no match) to Junk at 9; *@spam.example in From: or envelope to Junk at 1; allowed From: at 20 to Junk" \
	glob "INBOX 2 Junk 5"
check "the allow by From: is logged with the address it matched" \
	grep -qE 'lmtp\(glob\).*spam_prefs: from=<x@x.example> score=9.000 threshold=5 action=inbox reason=allow allowed=<JOE@work.example>$' "$DC_LOG"
check "the deny by From: is logged with the address it matched" \
	grep -qE 'lmtp\(glob\).*from=<x@x.example> score=1.000 threshold=5 action=junk:Junk reason=deny denied=<pest@spam.example>$' "$DC_LOG"
check "the deny by envelope sender is logged so" \
	grep -qE 'lmtp\(glob\).*from=<pest@spam.example> score=1.000 threshold=5 action=junk:Junk reason=deny denied=<pest@spam.example>$' "$DC_LOG"
check "an allowed sender at 20 (over the bound): reason=score, allow-ignored" \
	grep -qE 'lmtp\(glob\).*from=<x@x.example> score=20.000 threshold=5 action=junk:Junk reason=score allow-ignored=<a@mail.friend.example>$' "$DC_LOG"

# --- hostile userdb values: that user's mail tempfails, nobody else's ---------
out=$(printf 'From: a@x.example\nX-Spam-Score: 1\nSubject: multi\n\nx\n' |
	dovecot_client lmtp "$DC_LMTP_PORT" a@x.example maria@example.test badact@example.test \
		badmax@example.test badctl@example.test badlong@example.test oklong@example.test \
		kate@example.test | tr '\n' ' ')
check "one LMTP transaction: 250 for maria, oklong and kate, 451 for each hostile user" \
	test "$out" = "maria@example.test 250 badact@example.test 451 badmax@example.test 451 badctl@example.test 451 badlong@example.test 451 oklong@example.test 250 kate@example.test 250 "
[ "$out" = "maria@example.test 250 badact@example.test 451 badmax@example.test 451 badctl@example.test 451 badlong@example.test 451 oklong@example.test 250 kate@example.test 250 " ] ||
	diag "got: $out"
expect "hostile: nothing delivered to badctl" badctl "INBOX 0"
expect "a 3991-byte deny list is fine: oklong got it" oklong "INBOX 1"
check "bad action: the log names the user and the field" \
	grep -q "lmtp(badact).*spam_prefs: user=badact: invalid spam_prefs_action 'bounce'" "$DC_LOG"
check "bad allow bound: the log names the user and the field" \
	grep -q "lmtp(badmax).*spam_prefs: user=badmax: invalid spam_prefs_allow_max_score 'high'" "$DC_LOG"
check "control character: the log names user, field, byte; the value is sanitised" \
	grep -qF "spam_prefs: user=badctl: invalid spam_prefs_allow 'a@x.example,?[0m@y.example' (control character 0x1b at byte 12)" "$DC_LOG"
check "overlong list: the log names user, field and length" \
	grep -qE "lmtp\(badlong\).*spam_prefs: user=badlong: invalid spam_prefs_deny 'a+\.\.\.' \(4002 bytes long, over the limit of 4000\)" "$DC_LOG"

# --- dovecot-lda --------------------------------------------------------------
printf 'From: a@x.example\nX-Spam-Score: 12.5\nSubject: lda\n\nx\n' |
	dovecot_lda -d juan -f a@x.example
check "dovecot-lda exits 0" test $? = 0
expect "dovecot-lda: juan's 12.5 joins Junk" juan "INBOX 2 Junk 3"
printf 'From: a@x.example\nX-Spam-Score: 12.5\nSubject: lda\n\nx\n' |
	dovecot_lda -d bad -f a@x.example 2>/dev/null
rc=$?
check "dovecot-lda, invalid threshold: EX_TEMPFAIL (75, got $rc)" test "$rc" = 75
expect "dovecot-lda, invalid threshold: nothing delivered to bad" bad "INBOX 0"

# --- log: one line per decision --------------------------------------------
# 26 deliveries so far (send runs in $(...), so count by hand): 6 juan/maria,
# 5 anna, 2 dan, 1 kate, 1 sam, 7 glob, 3 (maria, oklong, kate) of the
# multi-recipient one, 1 lda; the tempfailed ones have no decision
lines=$(grep -c 'spam_prefs: from=<' "$DC_LOG")
check "one decision line per delivery ($lines for 26)" test "$lines" = 26
check "decision line names score, threshold, action and reason" \
	grep -qE 'lmtp\(juan\).*spam_prefs: from=<a@x.example> score=7.300 threshold=5 action=junk:Junk reason=score' "$DC_LOG"
check "allow decision logged as such" \
	grep -qE 'lmtp\(anna\).*spam_prefs: from=<x@friend.example> score=14.900 threshold=5 action=inbox reason=allow allowed=<x@friend.example>$' "$DC_LOG"
check "discard decision logged" \
	grep -qE 'lmtp\(dan\).*score=9.100 threshold=5 action=discard reason=score' "$DC_LOG"

# --- the header as it arrives: folded, any case, the first one, not the body --
raw() {	# TEXT (printf format) -> LMTP to hdr, reply code
	# shellcheck disable=SC2059
	printf "$1" | dovecot_client lmtp "$DC_LMTP_PORT" a@x.example hdr@example.test | awk '{print $2}'
}
codes="$(raw 'From: a@x.example\nSubject: folded\nX-Spam-Score:\n\t 9.1\n\nx\n')"
codes="$codes $(raw 'From: a@x.example\nReceived: by a\nReceived: by b\nSubject: lower\nx-spam-score: 6\n\nx\n')"
codes="$codes $(raw 'From: a@x.example\nX-Spam-Score: 1.0\nSubject: two\nX-Spam-Score: 9.0\n\nx\n')"
codes="$codes $(raw 'From: a@x.example\nSubject: body\n\nX-Spam-Score: 9\n')"
check "header forms: LMTP accepted all 4" test "$codes" = "250 250 250 250"
expect "folded 9.1 and lower-case 6 to Junk; the first of two (1.0) and a score in the body to INBOX" \
	hdr "INBOX 2 Junk 2"
check "folded header read as 9.100" grep -qE 'lmtp\(hdr\).*score=9.100 threshold=5 action=junk:Junk' "$DC_LOG"
check "a score in the body is no score" grep -qE 'lmtp\(hdr\).*score=none threshold=5 action=inbox' "$DC_LOG"

# --- spam_prefs_stamp_key_file: only a verified stamp's score counts ---------
stamp() {	# MSGID SCORE -> the milter's X-Mailwarren-Stamp value
	"$STAMP_MAKE" "$KEY" "$1" "$2"
}
smsg() {	# USER TEXT (printf format, %s = the stamp) STAMP -> reply code
	# shellcheck disable=SC2059
	printf "$2" "$3" | dovecot_client lmtp "$DC_LMTP_PORT" a@x.example "$1@example.test" |
		awk '{print $2}'
}
s20=$(stamp '<s1@x.example>' 20)
s1=$(stamp '<s2@x.example>' 1.5)
check "stamp-make (the milter's mw_stamp_make) made stamps" \
	test -n "$s20" -a -n "$s1"
junk64=
for i in $(seq 1 64); do
	junk64="${junk64}X-Spam-$([ $((i % 2)) = 0 ] && echo Score || echo Flag): 100\n"
done
codes="$(smsg st 'Message-ID: <s1@x.example>\nSubject: stamp20\nX-Mailwarren-Stamp: %s\n\nx\n' "$s20")"
codes="$codes $(smsg st 'Message-ID: <s2@x.example>\nX-Spam-Score: 100\nSubject: stamp1.5\nX-Mailwarren-Stamp: %s\n\nx\n' "$s1")"
codes="$codes $(smsg st 'Message-ID: <s3@x.example>\nSubject: forged100\nX-Spam-Score: 100\n\nx\n%s' '')"
codes="$codes $(smsg st 'Message-ID: <s3@x.example>\nSubject: replayed\nX-Mailwarren-Stamp: %s\n\nx\n' "$s20")"
codes="$codes $(smsg st 'X-Spam-Score: -100\nMessage-ID:\n <s1@x.example>\nSubject: forged-100\nX-Mailwarren-Stamp: %s\n\nx\n' "$s20")"
codes="$codes $(smsg st "Message-ID: <s2@x.example>\nSubject: junk64\n${junk64}X-Mailwarren-Stamp: %s\nX-Mailwarren-Stamp: $s20\n\nx\n" "$s1")"
check "stamps: LMTP accepted all 6" test "$codes" = "250 250 250 250 250 250"
expect "stamp 20 and forged -100 + stamp 20 in Junk; stamp 1.5 (+ forged 100), forged 100 alone, a replayed stamp, 64 junk headers + stamp 1.5 in INBOX" \
	st "INBOX 4 Junk 2"
check "the stamp's 20 is the score filed (reason=score stamp=ok)" \
	grep -qE 'lmtp\(st\).*spam_prefs: from=<a@x.example> score=20.000 threshold=5 action=junk:Junk reason=score stamp=ok' "$DC_LOG"
check "the stamp's 1.5, not the X-Spam-Score 100 beside it" \
	test "$(grep -cE 'lmtp\(st\).*score=1.500 threshold=5 action=inbox reason=below-threshold stamp=ok' "$DC_LOG")" = 2
check "X-Spam-Score 100 without a stamp: unscored, reason=no-stamp" \
	grep -qE 'lmtp\(st\).*score=none threshold=5 action=inbox reason=no-stamp$' "$DC_LOG"
check "a stamp replayed onto another Message-ID: reason=bad-stamp, bad mac" \
	grep -qE 'lmtp\(st\).*score=none threshold=5 action=inbox reason=bad-stamp stamp="bad mac' "$DC_LOG"
check "a forged first X-Spam-Score -100 is ignored: the stamp's 20 files it" \
	test "$(grep -cE 'lmtp\(st\).*score=20.000 threshold=5 action=junk:Junk reason=score stamp=ok' "$DC_LOG")" = 2
check "stamp users: one decision line per delivery (6)" \
	test "$(grep -cE 'lmtp\(st\).*spam_prefs: from=<' "$DC_LOG")" = 6

check "unreadable key file: LMTP still answers 250" \
	test "$(smsg stbad 'Message-ID: <s1@x.example>\nX-Spam-Score: 100\nX-Mailwarren-Stamp: %s\n\nx\n' "$s20")" = 250
expect "unreadable key file: no score believed, INBOX" stbad "INBOX 1 Junk -"
check "unreadable key file: an error line naming the file" \
	grep -qF "spam_prefs: spam_prefs_stamp_key_file: $KEY_ROOT: Permission denied" "$DC_LOG"
check "unreadable key file: reason=stamp-key-error" \
	grep -qE 'lmtp\(stbad\).*score=none threshold=5 action=inbox reason=stamp-key-error$' "$DC_LOG"

check "unreadable key file, allowed From: still read: reason=allow" \
	test "$(smsg stallow 'Message-ID: <s1@x.example>\nFrom: Pal <pal@friend.example>\nX-Mailwarren-Stamp: %s\n\nx\n' "$s20")" = 250 -a \
	"$(grep -cE 'lmtp\(stallow\).*score=none threshold=5 action=inbox reason=allow allowed=<pal@friend.example>$' "$DC_LOG")" = 1

# spam_prefs_stamp_max_age = 1h: a stamp made 2 hours ago is stale
s_old=$("$STAMP_MAKE" "$KEY" '<s4@x.example>' 20 $(($(date +%s) - 7200)))
codes="$(smsg stage 'Message-ID: <s4@x.example>\nSubject: fresh\nX-Mailwarren-Stamp: %s\n\nx\n' "$(stamp '<s4@x.example>' 20)")"
codes="$codes $(smsg stage 'Message-ID: <s4@x.example>\nSubject: old\nX-Mailwarren-Stamp: %s\n\nx\n' "$s_old")"
codes="$codes $(smsg stagebad 'Message-ID: <s4@x.example>\nSubject: fresh\nX-Mailwarren-Stamp: %s\n\nx\n' "$(stamp '<s4@x.example>' 20)")"
check "max age: LMTP accepted all 3" test "$codes" = "250 250 250"
expect "max age 1h: the fresh stamp's 20 in Junk, the 2-hour-old one in INBOX" stage "INBOX 1 Junk 1"
check "max age: the old stamp is logged as stale (reason=bad-stamp)" \
	grep -qE 'lmtp\(stage\).*score=none threshold=5 action=inbox reason=bad-stamp stamp="stale stamp' "$DC_LOG"
expect "invalid spam_prefs_stamp_max_age: no score believed, INBOX" stagebad "INBOX 1 Junk -"
check "invalid spam_prefs_stamp_max_age: an error line naming the setting" \
	grep -qF "spam_prefs: invalid spam_prefs_stamp_max_age 'soon'" "$DC_LOG"

# --- with Pigeonhole: fileinto still works, spam via implicit keep -----------
if [ -n "$have_sieve" ]; then
	home=$DC_DIR/mail/sievy
	mkdir -p "$home/sieve"
	printf 'require "fileinto";\nif header :contains "subject" "work" { fileinto "Work"; }\n' \
		>"$home/sieve/rules.sieve"
	ln -s sieve/rules.sieve "$home/.dovecot.sieve"
	chown -R 5000:5000 "$home"
	dovecot_doveadm mailbox create -u sievy Work
	send sievy a@x.example 9 "work report" >/dev/null
	send sievy a@x.example 9 "cheap pills" >/dev/null
	send sievy a@x.example 1 "hello" >/dev/null
	expect "sieve + spam_prefs: fileinto Work kept, spam to Junk, ham to INBOX" \
		sievy "INBOX 1 Junk 1 Work 1"
	check "sieve ran (its log lines are there)" grep -q 'lmtp(sievy).*sieve:' "$DC_LOG"
else
	for i in 1 2; do
		TAP_N=$((TAP_N + 1))
		echo "ok $TAP_N # SKIP dovecot-sieve not installed"
	done
fi

bad=$(grep -E ': (Error|Fatal|Panic):' "$DC_LOG" |
	grep -vE "lmtp\((bad|badact|badmax|badctl|badlong)\).*spam_prefs: user=\1: invalid spam_prefs_" |
	grep -vE "lda\(bad\).*spam_prefs: user=bad: invalid spam_prefs_threshold" |
	grep -vF "spam_prefs: spam_prefs_stamp_key_file: $KEY_ROOT: Permission denied" |
	grep -vF "spam_prefs: invalid spam_prefs_stamp_max_age 'soon'")
check "no other Error/Fatal/Panic in the Dovecot log" test -z "$bad"
[ -z "$bad" ] || diag "$bad"

dovecot_stop
done_testing
