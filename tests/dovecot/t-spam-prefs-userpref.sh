#!/bin/bash
# t-spam-prefs-userpref.sh - users change their own spam preferences in
# SpamAssassin's userpref table (username, preference, value), as webmail
# preference plugins do, and the next delivery follows: a real private
# PostgreSQL (tests/lib/pgsql.sh) with conf.d/directory/mailwarren-pgsql.sql,
# a real private Dovecot (2.3 or 2.4) with conf.d/directory's sql passdb
# and userdb, whose user_query folds each user's userpref rows into
# spam_prefs_threshold / spam_prefs_allow / spam_prefs_deny; LMTP
# deliveries and plain SQL between them, no reload. required_score as
# SpamAssassin writes it (7, 5.0, -1.5); whitelist_from / blacklist_from
# globs, several per value and several rows, matched against the envelope
# sender and the From: header. Hostile rows (a threshold that
# does not parse, a newline or an ESC in a list, 20 rows of 250 bytes)
# tempfail that user's mail only (451 per recipient in one LMTP
# transaction) with a log line naming the user and the field; fixing the
# row fixes the next delivery.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/lib/dovecot/imap dovecot-imapd
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
sb_need_cmd python3 python3
sb_need_cmd setpriv util-linux
[ -f /usr/lib/dovecot/modules/libdriver_pgsql.so ] ||
	skip_all "Dovecot's pgsql driver not installed (Debian package dovecot-pgsql)"
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null ||
	skip_all "PostgreSQL not installed (Debian package postgresql)"
PLUGIN=$(mw_module plugins/spam-prefs lib95_spam_prefs_plugin.so)
. "$MW_TESTLIB/dovecot.sh"
. "$MW_TESTLIB/pgsql.sh"

sb_init spam-prefs-userpref

# --- the directory: mailwarren's tables, as shipped -------------------------
if ! pgsql_start; then
	echo "Bail out! private PostgreSQL did not start"
	exit 1
fi
pgsql_psql -f "$top/conf.d/directory/mailwarren-pgsql.sql"
check "PostgreSQL $PGSQL_VERSION: conf.d/directory/mailwarren-pgsql.sql loads" test $? = 0
sql() {	# SQL... -> run as the webmail would (plain SQL, no Dovecot involved)
	pgsql_psql -c "$*"
}
users="juan maria bthr bnl besc blong"
for u in $users; do
	sql "INSERT INTO mailwarren_users (username, password) VALUES ('$u', '{PLAIN}pw')"
done

# --- Dovecot with the shipped sql passdb and userdb --------------------------
# conf.d/directory's configuration and queries (the user_query folds the
# userpref rows), with the test's connection; without the mailshard userdb
# chained after the sql one (placement is mailshard's tests' business)
CONFD=$top/conf.d/directory
dovecot_modules "$PLUGIN"
dovecot_mailwarren_settings
DC_DELIVERY_PLUGINS=spam_prefs
DC_PLUGIN_SETTINGS="spam_prefs_threshold = 8"
if [ -n "$DC_V24" ]; then
	DC_AUTH_CONF=$(sed -e "s|^pgsql /run/postgresql {|pgsql $PGSQL_SOCKDIR {|" \
		-e "s|^    dbname = .*|    dbname = $PGSQL_DB\n    port = $PGSQL_PORT|" \
		-e "s|^    user = .*|    user = postgres|" -e "/^    password = /d" \
		-e '/^userdb mailshard {/,/^}/d' \
		"$CONFD/dovecot-2.4/auth-mailwarren-sql.conf.ext")
else
	sed -e "s|^connect = .*|connect = host=$PGSQL_SOCKDIR port=$PGSQL_PORT dbname=$PGSQL_DB user=postgres|" \
		"$CONFD/dovecot-sql.conf.ext" >"$SB/dovecot-sql.conf.ext"
	chmod 0644 "$SB/dovecot-sql.conf.ext"
	DC_AUTH_CONF="passdb {
  driver = sql
  args = $SB/dovecot-sql.conf.ext
}
userdb {
  driver = sql
  args = $SB/dovecot-sql.conf.ext
}"
fi
if ! dovecot_start; then
	not_ok "dovecot_start"
	echo "Bail out! private Dovecot did not start"
	exit 1
fi
ok "dovecot_start: Dovecot $DC_FULL_VERSION, sql passdb/userdb on PostgreSQL $PGSQL_VERSION"
master=$DC_PID

send() {	# USER ENVELOPE FROM-HEADER SCORE -> the LMTP reply code
	printf 'From: %s\nSubject: s\nX-Spam-Score: %s\n\nbody\n' "$3" "$4" |
		dovecot_client lmtp "$DC_LMTP_PORT" "$2" "$1@example.test" | awk '{print $2}'
}
expect() {	# DESC USER "INBOX n Junk m" -> the counts over IMAP (sql passdb)
	dovecot_expect_boxes "$1" "$2" pw "$3"
}
last() {	# USER -> the user's last decision line
	grep -E "lmtp\\($1\\).*spam_prefs: from=" "$DC_LOG" | tail -1
}

# --- the next delivery follows each change ---------------------------------
check "no userpref rows: the site threshold 8, a 6 to INBOX" test "$(send juan a@x.example a@x.example 6)" = 250
check "... logged with threshold=8" grep -q 'threshold=8 action=inbox reason=below-threshold$' <<<"$(last juan)"
follows() {	# DESC SQL ENVELOPE FROM-HEADER SCORE PATTERN: the SQL, then
	# a delivery to juan, whose decision line must match PATTERN
	[ -z "$2" ] || sql "$2"
	send juan "$3" "$4" "$5" >/dev/null
	check "$1" grep -q "$6" <<<"$(last juan)"
}
follows "required_score 5.0 inserted: the next 6 to Junk" \
	"INSERT INTO userpref (username, preference, value) VALUES ('juan', 'required_score', '5.0')" \
	a@x.example a@x.example 6 'score=6.000 threshold=5.0 action=junk:Junk reason=score$'
follows "required_score changed to 7: the next 6 to INBOX" \
	"UPDATE userpref SET value = '7' WHERE username = 'juan' AND preference = 'required_score'" \
	a@x.example a@x.example 6 'score=6.000 threshold=7 action=inbox reason=below-threshold$'
follows "required_score -1.5: a 0 to Junk" \
	"UPDATE userpref SET value = '-1.5' WHERE username = 'juan' AND preference = 'required_score'" \
	a@x.example a@x.example 0 'score=0.000 threshold=-1.5 action=junk:Junk reason=score$'
follows "whitelist_from '*@friends.example  boss@*.work.example' (and required_score 5): From: Boss@HQ.Work.Example at 9 to INBOX" \
	"UPDATE userpref SET value = '5' WHERE username = 'juan' AND preference = 'required_score';
	 INSERT INTO userpref (username, preference, value) VALUES ('juan', 'whitelist_from', '*@friends.example  boss@*.work.example')" \
	news@list.example '"The Boss" <Boss@HQ.Work.Example>' 9 \
	'from=<news@list.example> score=9.000 threshold=5 action=inbox reason=allow allowed=<Boss@HQ.Work.Example>$'
follows "... and the envelope sender a@friends.example too" "" \
	a@friends.example a@friends.example 9 'from=<a@friends.example> score=9.000 .*reason=allow allowed=<a@friends.example>$'
follows "a second whitelist_from row adds to the first" \
	"INSERT INTO userpref (username, preference, value) VALUES ('juan', 'whitelist_from', 'pal@old.example')" \
	pal@old.example pal@old.example 9 'reason=allow allowed=<pal@old.example>$'
follows "blacklist_from '*@spam.example': From: pest@spam.example at 1 to Junk" \
	"INSERT INTO userpref (username, preference, value) VALUES ('juan', 'blacklist_from', '*@spam.example')" \
	ok@x.example 'Pest <pest@spam.example>' 1 \
	'from=<ok@x.example> score=1.000 threshold=5 action=junk:Junk reason=deny denied=<pest@spam.example>$'
follows "the row deleted: the next one from pest@spam.example to INBOX" \
	"DELETE FROM userpref WHERE username = 'juan' AND preference = 'blacklist_from'" \
	ok@x.example 'Pest <pest@spam.example>' 1 \
	'from=<ok@x.example> score=1.000 threshold=5 action=inbox reason=below-threshold$'
expect "juan's mailboxes: INBOX 6, Junk 3" juan "INBOX 6 Junk 3"

# --- hostile rows: that user's mail tempfails, nobody else's ----------------
sql "INSERT INTO userpref (username, preference, value) VALUES ('bthr', 'required_score', 'five')"
sql "INSERT INTO userpref (username, preference, value) VALUES ('bnl', 'whitelist_from', 'a@x.example' || chr(10) || 'b@y.example')"
sql "INSERT INTO userpref (username, preference, value) VALUES ('besc', 'blacklist_from', chr(27) || '[31m@x.example')"
sql "INSERT INTO userpref (username, preference, value) SELECT 'blong', 'whitelist_from', repeat('a', 237) || '@' || i || '.example' FROM generate_series(1, 20) i"
out=$(printf 'From: a@x.example\nSubject: multi\nX-Spam-Score: 1\n\nx\n' |
	dovecot_client lmtp "$DC_LMTP_PORT" a@x.example juan@example.test bthr@example.test \
		bnl@example.test besc@example.test blong@example.test maria@example.test | tr '\n' ' ')
want="juan@example.test 250 bthr@example.test 451 bnl@example.test 451 besc@example.test 451 blong@example.test 451 maria@example.test 250 "
check "one LMTP transaction: 250 for juan and maria, 451 for each user with a hostile row" \
	test "$out" = "$want"
[ "$out" = "$want" ] || diag "got: $out"
check "required_score 'five': the log names the user and the field" \
	grep -q "lmtp(bthr).*Error: spam_prefs: user=bthr: invalid spam_prefs_threshold 'five' (a decimal" "$DC_LOG"
check "a newline in whitelist_from: user, spam_prefs_allow, the byte" \
	grep -qF "spam_prefs: user=bnl: invalid spam_prefs_allow 'a@x.example?b@y.example' (control character 0x0a at byte 11)" "$DC_LOG"
check "an ESC in blacklist_from: user, spam_prefs_deny, the byte" \
	grep -qF "spam_prefs: user=besc: invalid spam_prefs_deny '?[31m@x.example' (control character 0x1b at byte 0)" "$DC_LOG"
check "20 rows of 250 bytes: user, spam_prefs_allow, over the limit" \
	grep -qE "lmtp\\(blong\\).*spam_prefs: user=blong: invalid spam_prefs_allow 'a+\\.\\.\\.' \\([0-9]+ bytes long, over the limit of 4000\\)" "$DC_LOG"
expect "nothing delivered to bthr" bthr "INBOX 0"
sql "UPDATE userpref SET value = '6' WHERE username = 'bthr'"
check "the row fixed: bthr's next message is delivered (250)" \
	test "$(send bthr a@x.example a@x.example 1)" = 250
expect "bthr has it" bthr "INBOX 1"

check "no reload: the same Dovecot master ($master) throughout" \
	eval '[ "$DC_PID" = "$master" ] && sb_pid_running "$master" && ! grep -qi "SIGHUP received" "$DC_LOG"'
bad=$(grep -E ': (Error|Fatal|Panic):' "$DC_LOG" |
	grep -vE "lmtp\\((bthr|bnl|besc|blong)\\).*Error: spam_prefs: user=\\1: invalid spam_prefs_")
check "no other Error/Fatal/Panic in the Dovecot log" test -z "$bad"
[ -z "$bad" ] || diag "$bad"

dovecot_stop
done_testing
