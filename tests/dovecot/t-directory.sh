#!/bin/bash
# t-directory.sh - the same users in three directories, the same checks
# against each: passwd-file, OpenLDAP (slapd, Dovecot's ldap driver) and
# PostgreSQL (Dovecot's sql driver), each with mailwarren's shipped
# configuration (conf.d/directory/: only the connection and the volumes
# changed) and the mailshard userdb chained after it, in a real private
# Dovecot (2.3 on Debian 12, 2.4 on Debian 13) with spam_prefs for LMTP.
# MW_DIRECTORY_USERS users (default 3000) are loaded (slapadd, psql); a
# sample of a few hundred is checked end to end:
# - the userdb fields (pins, spam preferences, senders, suspension,
#   customer) and the placement (home, mail) equal mailshard(7)'s
#   (tests/lib/mailshard.py), unknown users are unknown;
# - SASL PLAIN over Dovecot's auth-client socket (what Postfix's smtpd
#   asks) and IMAP LOGIN accept the right passwords, refuse wrong ones;
# - LMTP deliveries land in each user's placement, filed by its
#   threshold, action and allow/deny lists; for SQL those come partly from
#   SpamAssassin's userpref rows, and a new row or a changed
#   required_score is followed by the next delivery, no reload;
# - mailwarren-policyd (RecipientUserdb) accepts known, refuses unknown;
#   with ownership and suspension from the userdb (SenderOwnership userdb,
#   Suspension userdb), a SASL login relays as its own addresses and
#   @domains only, a suspended or unknown login not at all; a suspension
#   made in LDAP (ldapmodify) or SQL (UPDATE) applies to the next request;
# - a pin outside every volume: the lookup fails temporarily (LMTP 451)
#   with a log line naming the user and the field;
# - LDAP or SQL server down (SIGKILL): LMTP 451, IMAP login fails
#   temporarily, policyd DEFER_IF_PERMIT, never an accept of an unknown;
#   slow (SIGSTOP): policyd defers within RecipientUserdbTimeout, no hang;
#   back up: everything works again without a restart of Dovecot.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/lib/dovecot/imap dovecot-imapd
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
for so in auth/libauthdb_ldap.so:dovecot-ldap libdriver_pgsql.so:dovecot-pgsql; do
	[ -f "/usr/lib/dovecot/modules/${so%%:*}" ] || skip_all "${so%%:*} not installed (Debian package ${so#*:})"
done
sb_need_cmd /usr/sbin/slapd slapd
sb_need_cmd ldapsearch ldap-utils
sb_need_cmd python3 python3
AUTHMOD=$(mw_module plugins/auth libauthdb_mailshard.so auth)
SPAMPLUGIN=$(mw_module plugins/spam-prefs lib95_spam_prefs_plugin.so)
PD_BIN=${PD_BIN:-$(mw_sbin policy mailwarren-policyd)}
sb_need_cmd "$PD_BIN" "make (policy/mailwarren-policyd)"
. "$MW_TESTLIB/dovecot.sh"
. "$MW_TESTLIB/pgsql.sh"
. "$MW_TESTLIB/ldap.sh"
pgsql_bindir >/dev/null || skip_all "PostgreSQL not installed (Debian package postgresql)"

sb_init directory
PY=${MW_PYTHON:-python3}
DIRPY=$MW_TESTLIB/directory.py
CONFD=$MW_TOP_SRCDIR/conf.d/directory
N=${MW_DIRECTORY_USERS:-3000}
KINDS="passwd ldap sql"

# --- volumes and users -------------------------------------------------------
SRV=$SB/srv
mkdir -p "$SRV/mail/v1" "$SRV/mail/v2" "$SRV/legacy"
for v in mail/v1 mail/v2 legacy; do
	touch "$SRV/$v/.mailshard-volume"
done
chown -R 5000:5000 "$SRV"
VOLS="v1=$SRV/mail/v1 v2=$SRV/mail/v2:2 legacy=$SRV/legacy:0"
export VOLS
D=$SB/data
mkdir -p "$D"
"$PY" "$DIRPY" gen "$N" "$SRV" "$D" || { echo "Bail out! directory.py gen"; exit 1; }
"$PY" "$DIRPY" sample "$D/facts.tsv" 150 16 >"$D/sample"
SAMPLE_N=$(wc -l <"$D/sample")
# a hostile pin, in every directory: outside every volume
BADPIN=$SB/elsewhere/dbadpin
printf 'dbadpin:{PLAIN}pw:5000:5000::::userdb_mailshard_path=%s\n' "$BADPIN" >>"$D/users.passwd"
printf 'dn: uid=dbadpin,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nobjectClass: mailwarrenUser\nuid: dbadpin\ncn: dbadpin\nsn: dbadpin\nuserPassword: {PLAIN}pw\nmailshardPath: %s\n\n' \
	"$BADPIN" >>"$D/users.ldif"
printf "INSERT INTO mailwarren_users (username, password, mailshard_path) VALUES ('dbadpin', '{PLAIN}pw', '%s');\n" \
	"$BADPIN" >"$D/badpin.sql"

# --- the directories ---------------------------------------------------------
t0=$(date +%s)
# the suffix of the shipped configuration and example entries
LDAP_SUFFIX=dc=example,dc=com
if ldap_slapadd "$D/users.ldif" && ldap_slapadd "$CONFD/mailwarren-example.ldif" && ldap_start; then
	ok "slapd on $LDAP_URI with $N users and mailwarren-example.ldif (slapadd)"
else
	not_ok "slapd starts"
	echo "Bail out! no LDAP server"
	exit 1
fi
if pgsql_start && pgsql_psql -f "$CONFD/mailwarren-pgsql.sql" &&
	pgsql_psql -f "$D/users.sql" && pgsql_psql -f "$D/badpin.sql"; then
	ok "PostgreSQL $PGSQL_VERSION on 127.0.0.1:$PGSQL_PORT with the shipped tables and $N users"
else
	not_ok "PostgreSQL starts and loads"
	echo "Bail out! no SQL server"
	exit 1
fi
diag "directories loaded in $(($(date +%s) - t0)) s"

# --- Dovecot: one instance per directory, the shipped auth configuration ----
dovecot_overlay auth "$AUTHMOD"
dovecot_mailwarren_settings
dovecot_modules "$SPAMPLUGIN"

# conf_for KIND: DC_AUTH_CONF for KIND from conf.d/directory, with the
# test's connection and volumes
conf_for() {
	local k=$1 f
	if [ "$k" = passwd ]; then
		if [ -n "$DC_V24" ]; then
			printf 'passdb passwd-file {\n  passwd_file_path = %s\n}\nuserdb passwd-file {\n  passwd_file_path = %s\n  result_success = continue-ok\n}\nuserdb mailshard {\n  mailshard_volumes = %s\n  mailshard_layout = hash:2:2\n}\n' \
				"$D/users.passwd" "$D/users.passwd" "$VOLS"
		else
			printf 'passdb {\n  driver = passwd-file\n  args = %s\n}\nuserdb {\n  driver = passwd-file\n  args = %s\n  result_success = continue-ok\n}\nuserdb {\n  driver = mailshard\n  args = volumes="%s" layout=hash:2:2\n}\n' \
				"$D/users.passwd" "$D/users.passwd" "$VOLS"
		fi
		return
	fi
	if [ -n "$DC_V24" ]; then
		f=$CONFD/dovecot-2.4/auth-mailwarren-$k.conf.ext
	else
		f=$CONFD/auth-mailwarren-$k.conf.ext
		# the connection and queries file, with the test's connection
		sed -e "s|^uris = .*|uris = $LDAP_URI|" \
			-e "s|^dn = .*|dn = $LDAP_ROOTDN|" \
			-e "s|^dnpass = .*|dnpass = $LDAP_ROOTPW|" \
			-e "s|^base = .*|base = ou=people,$LDAP_SUFFIX|" \
			-e "s|^connect = .*|connect = host=$PGSQL_SOCKDIR port=$PGSQL_PORT dbname=$PGSQL_DB user=postgres|" \
			"$CONFD/dovecot-$k.conf.ext" >"$SB/dovecot-$k.conf.ext"
	fi
	sed -e "s|/etc/dovecot/dovecot-$k.conf.ext|$SB/dovecot-$k.conf.ext|" \
		-e "s|volumes=\"[^\"]*\"|volumes=\"$VOLS\"|" \
		-e "s|^\( *mailshard_volumes = \).*|\1$VOLS|" \
		-e "s|^ldap_uris = .*|ldap_uris = $LDAP_URI|" \
		-e "s|^ldap_auth_dn = .*|ldap_auth_dn = $LDAP_ROOTDN|" \
		-e "s|^ldap_auth_dn_password = .*|ldap_auth_dn_password = $LDAP_ROOTPW|" \
		-e "s|^ldap_base = .*|ldap_base = ou=people,$LDAP_SUFFIX|" \
		-e "s|^pgsql /run/postgresql {|pgsql $PGSQL_SOCKDIR {|" \
		-e "/^pgsql /,/^}/s|^    dbname = .*|    dbname = $PGSQL_DB\n    port = $PGSQL_PORT|" \
		-e "/^pgsql /,/^}/s|^    user = .*|    user = postgres|" \
		-e "/^pgsql /,/^}/{/^    password = /d}" \
		"$f"
}

for k in $KINDS; do
	dovecot_use "dc-$k"
	DC_MAIL_LOCATION=
	DC_MAIL_HOME=
	DC_DELIVERY_PLUGINS=spam_prefs
	DC_MAIL_PLUGIN_DIR=$SB/modules
	DC_PLUGIN_SETTINGS="spam_prefs_threshold = 5"
	DC_AUTH_CONF=$(conf_for "$k")
	if dovecot_start; then
		ok "$k: Dovecot $DC_FULL_VERSION with the shipped $k passdb/userdb + userdb mailshard"
	else
		not_ok "$k: Dovecot starts"
		echo "Bail out! Dovecot ($k) did not start"
		exit 1
	fi
done

# --- mailwarren-policyd: recipient validation against each Dovecot ------------
printf 'example.test\n' >"$SB/hosted"
declare -A PD_PIDS=()
pd_start() {	# KIND: a policyd for the Dovecot of KIND (recipient
	# validation, ownership and suspension from its userdb), no caches
	local k=$1
	dovecot_use "dc-$k"
	cat >"$SB/pd-$k.conf" <<EOF
PolicySocket local:$SB/pd-$k.sock
User dovecot
Group dovecot
HostedDomains $SB/hosted
RecipientUserdb local:$DC_DIR/run/auth-userdb
RecipientUserdbTimeout 1500
RecipientCacheTime 0
RecipientNegativeCacheTime 0
SenderOwnership userdb
Suspension userdb
Userdb local:$DC_DIR/run/auth-userdb
UserdbTimeout 1500
UserdbCacheTTL 0
UserdbNegativeCacheTTL 0
EOF
	rm -f "$SB/pd-$k.sock"
	"$PD_BIN" -f -c "$SB/pd-$k.conf" >>"$SB/pd-$k.log" 2>&1 &
	PD_PIDS[$k]=$!
	sb_at_exit "mw_kill_pid ${PD_PIDS[$k]}"
	sb_wait_file "$SB/pd-$k.sock" 10
}
for k in $KINDS; do
	pd_start "$k" || { not_ok "$k: policyd starts"; sed 's/^/# /' "$SB/pd-$k.log"; }
done

# --- the same checks against each directory ------------------------------------
T_LAST=$(date +%s)
res() {	# DESC OUTPUT: ok when OUTPUT starts with "ok"
	local t
	t=$(date +%s)
	if [ "${2%% *}" = ok ]; then
		ok "$1 (${2#ok }, $((t - T_LAST)) s)"
	else
		not_ok "$1"
		diag "$2"
	fi
	T_LAST=$(date +%s)
}
for k in $KINDS; do
	dovecot_use "dc-$k"
	t0=$(date +%s)
	res "$k: userdb fields and placement of $SAMPLE_N users equal the facts and mailshard(7); unknown users unknown" \
		"$("$PY" "$DIRPY" userdb "$DC_DIR/run/auth-userdb" "$D/facts.tsv" "$VOLS" "$D/sample" 2>&1)"
	res "$k: SASL PLAIN (auth-client) and IMAP LOGIN: right passwords accepted, wrong ones refused" \
		"$("$PY" "$DIRPY" login "$DC_IMAP_PORT" "$D/facts.tsv" "$D/sample" sasl "$DC_DIR/run/auth-client" 2>&1)"
	res "$k: LMTP accepts every delivery to the sample" \
		"$("$PY" "$DIRPY" lmtp "$DC_LMTP_PORT" "$D/facts.tsv" "$D/sample" "$k" 2>&1)"
	res "$k: each message is in its user's placement, filed by threshold, action, allow and deny" \
		"$("$PY" "$DIRPY" filed "$SRV" "$D/facts.tsv" "$D/sample" "$k" 2>&1)"
	res "$k: policyd RecipientUserdb: known recipients DUNNO, unknown 550 5.1.1" \
		"$("$PY" "$DIRPY" policy "$SB/pd-$k.sock" "$D/facts.tsv" "$D/sample" 2>&1)"
	res "$k: policyd relay as SASL login: own address and @domain OK, others 553, suspended and unknown logins 550" \
		"$("$PY" "$DIRPY" relay "$SB/pd-$k.sock" "$D/facts.tsv" "$D/sample" 2>&1)"
	code=$(printf 'Subject: b\n\nx\n' | dovecot_client lmtp "$DC_LMTP_PORT" a@x.example dbadpin@example.test | awk '{print $2}')
	check "$k: a pin outside every volume: LMTP 451 ($code), a log line naming the user and mailshard_path" \
		sb_eventually 5 eval "[ '$code' = 451 ] && grep -q 'dbadpin.*mailshard_path' '$DC_LOG'"
	check "$k: ... and nothing is created outside the volumes" test ! -e "$SB/elsewhere"
	diag "$k: checks took $(($(date +%s) - t0)) s"
done

# --- the shipped example entries, through Dovecot's ldap userdb ---------------
dovecot_use dc-ldap
f=$("$PY" "$DIRPY" fields "$DC_DIR/run/auth-userdb" maria | grep -E '^(USER|mailshard_volume|spam_prefs_|mailwarren_)' | tr '\n' ' ')
check "ldap: mailwarren-example.ldif's maria: pin, spam fields, senders, customer ($f)" \
	test "$f" = "USER mailshard_volume=legacy mailwarren_customer=c1002 mailwarren_senders=maria@example.com mailwarren_suspended=no spam_prefs_action=junk spam_prefs_allow=@family.example boss@work.example spam_prefs_deny=offers@shop.example spam_prefs_threshold=3.5 "

# --- SQL: the user's own SpamAssassin preferences, no reload --------------------
dovecot_use dc-sql
U=d00000	# threshold: site default 5, no lists
sendone() {	# USER FROM SCORE TAG -> LMTP code
	printf 'From: %s\nSubject: up-%s\nX-Spam-Score: %s\n\nx\n' "$2" "$4" "$3" |
		dovecot_client lmtp "$DC_LMTP_PORT" "$2" "$1@example.test" | awk '{print $2}'
}
boxof() {	# TAG -> INBOX or .Junk (where the message with that marker is)
	local f
	f=$(grep -rlF "Subject: up-$1" "$SRV" 2>/dev/null | head -1)
	case $f in */.Junk/*) echo .Junk ;; ?*) echo INBOX ;; *) echo none ;; esac
}
c1=$(sendone $U fan@club.example 7 a)
pgsql_psql -c "INSERT INTO userpref (username, preference, value) VALUES ('$U', 'whitelist_from', 'fan@club.example')"
c2=$(sendone $U fan@club.example 7 b)
check "sql: a new whitelist_from row (plain SQL, as a webmail writes it) is followed by the next delivery ($c1 $(boxof a), $c2 $(boxof b))" \
	test "$c1 $(boxof a) $c2 $(boxof b)" = "250 .Junk 250 INBOX"
pgsql_psql -c "INSERT INTO userpref (username, preference, value) VALUES ('$U', 'required_score', '3')"
c1=$(sendone $U x@y.example 4 c)
pgsql_psql -c "UPDATE userpref SET value = '4.5' WHERE username = '$U' AND preference = 'required_score'"
c2=$(sendone $U x@y.example 4 d)
check "sql: required_score 3 files a 4 as spam; changed to 4.5, the next 4 goes to INBOX ($(boxof c) $(boxof d))" \
	test "$c1 $(boxof c) $c2 $(boxof d)" = "250 .Junk 250 INBOX"
pgsql_psql -c "INSERT INTO userpref (username, preference, value) VALUES ('$U', 'blacklist_from', 'pest@fly.example')"
c1=$(sendone $U pest@fly.example -2 e)
check "sql: a new blacklist_from row files the sender's next message as spam ($(boxof e))" \
	test "$c1 $(boxof e)" = "250 .Junk"

# --- suspension in the directory: effective at once (UserdbCacheTTL 0) ----------
SU=d00001	# not suspended (d00000 is)
relay1() {	# KIND LOGIN SENDER -> action
	"$PY" "$DIRPY" relay1 "$SB/pd-$1.sock" "$2" "$3"
}
SUSPENDED="action=550 5.7.1 Account suspended, contact support"
a=$(relay1 sql $SU $SU@example.test)
pgsql_psql -c "UPDATE mailwarren_users SET suspended = true WHERE username = '$SU'"
b=$(relay1 sql $SU $SU@example.test)
pgsql_psql -c "UPDATE mailwarren_users SET suspended = false WHERE username = '$SU'"
c=$(relay1 sql $SU $SU@example.test)
check "sql: suspended with an UPDATE: the next relay request 550, unsuspended OK again, no reload ($a | $b | $c)" \
	test "$a|$b|$c" = "action=OK|$SUSPENDED|action=OK"
ldap_suspend() {	# USER yes|no
	printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: mailwarrenSuspended\nmailwarrenSuspended: %s\n' \
		"$1" "$LDAP_SUFFIX" "$2" | ldap_modify >/dev/null
}
a=$(relay1 ldap $SU $SU@example.test)
ldap_suspend $SU yes
b=$(relay1 ldap $SU $SU@example.test)
ldap_suspend $SU no
c=$(relay1 ldap $SU $SU@example.test)
check "ldap: suspended with ldapmodify: the next relay request 550, unsuspended OK again, no reload ($a | $b | $c)" \
	test "$a|$b|$c" = "action=OK|$SUSPENDED|action=OK"

# --- failures: the server down, the server slow ----------------------------------
# a user of the sample and an unknown one
KNOWN=$(sed -n 5p "$D/sample")
KPW=$(awk -F'\t' -v u="$KNOWN" '$1 == u {print $2}' "$D/facts.tsv")
pdask() {	# KIND RCPT -> "action SECONDS"
	"$PY" "$MW_TESTLIB/policy_client.py" --ask "unix:$SB/pd-$1.sock" 198.51.100.7 "$2"
}
pd_is() {	# KIND RCPT ACTION: policyd answers ACTION
	[ "$(pdask "$1" "$2" | sed 's/ [0-9.]*$//')" = "$3" ]
}
ADOWN="action=451 4.7.1 Account directory unavailable, try again later"
DEFER="action=DEFER_IF_PERMIT 4.4.3 Recipient directory unavailable, try again later"
down_checks() {	# KIND WHAT
	local k=$1 what=$2 code login a b
	dovecot_use "dc-$k"
	code=$(printf 'Subject: d\n\nx\n' | dovecot_client lmtp "$DC_LMTP_PORT" a@x.example "$KNOWN@example.test" | awk '{print $2}')
	check "$k $what: LMTP 451 for a known user ($code)" test "$code" = 451
	login=$("$PY" "$DIRPY" login1 "$DC_IMAP_PORT" "$KNOWN" "$KPW")
	check "$k $what: IMAP login fails temporarily ($login)" \
		grep -qE 'UNAVAILABLE|Temporary|temporar|try again' <<<"$login"
	a=$(pdask "$k" "$KNOWN@example.test")
	b=$(pdask "$k" "nosuchuser@example.test")
	check "$k $what: policyd defers known and unknown recipients (${a##* } s, ${b##* } s)" \
		test "${a% *}|${b% *}" = "$DEFER|$DEFER"
	a=$(relay1 "$k" "$KNOWN" "$KNOWN@example.test")
	b=$(relay1 "$k" "$KNOWN" "other@elsewhere.example")
	check "$k $what: policyd defers the SASL login's relay, own sender or not ($a | $b)" \
		test "$a|$b" = "$ADOWN|$ADOWN"
}
up_checks() {	# KIND
	local k=$1 code a
	dovecot_use "dc-$k"
	code=$(sb_eventually 30 sh -c "printf 'Subject: u\n\nx\n' | '$PY' '$MW_TESTLIB/mailclient.py' lmtp '$DC_LMTP_PORT' a@x.example '$KNOWN@example.test' | grep -q ' 250'" && echo 250)
	# policyd reconnects to Dovecot after a back-off
	a=$(sb_eventually 15 pd_is "$k" nosuchuser@example.test "action=550 5.1.1 User unknown" && echo 550)
	check "$k back up: LMTP 250 again, policyd 550 for the unknown again, no Dovecot restart" \
		test "$code|$a" = "250|550"
}
ldap_kill
down_checks ldap "down (slapd killed)"
ldap_start
up_checks ldap
pgsql_kill
down_checks sql "down (PostgreSQL killed)"
pgsql_start
up_checks sql

slow_checks() {	# KIND PIDS...
	local k=$1 a b
	shift
	kill -STOP "$@"
	a=$(pdask "$k" "$KNOWN@example.test")
	b=$(pdask "$k" "nosuchuser@example.test")
	c=$(relay1 "$k" "$KNOWN" "other@elsewhere.example")
	kill -CONT "$@"
	check "$k slow (SIGSTOP): policyd defers within RecipientUserdbTimeout 1.5 s (${a##* } s, ${b##* } s), accepts nothing" \
		test "${a% *}|${b% *}" = "$DEFER|$DEFER"
	check "$k slow (SIGSTOP): ... and the SASL login's relay ($c)" test "$c" = "$ADOWN"
}
slow_checks ldap "$LDAP_PID"
# shellcheck disable=SC2046  # one pid a word
slow_checks sql $(pgsql_pids)
up_checks ldap
up_checks sql

done_testing
