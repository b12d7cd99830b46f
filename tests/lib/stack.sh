# stack.sh - the whole mailwarren system on 127.0.0.1, made of real daemons
# (sourced, bash; needs root, tests/lib/sandbox.sh sourced and $SB set).
#
#   smtp client -> Postfix (smtpd, and submission for logins)
#                          |-------> mailwarren-policyd      (relay, rates)
#                          |-------> mailwarren-milter -> spamd, libclamav
#                          |-------> Dovecot auth           (SASL logins)
#                          |-------> LMTP -> Dovecot (mailshard: volumes
#                          |                 v1 and v2; spam_prefs)
#                          `-------> smtp-sink "the Internet" (relayed mail)
#   IMAP and POP3 clients -> Dovecot
#
# Used by ./demo (a stack that outlives the script: $SB is the demo's state
# dir and no EXIT trap is set) and by tests/chain/ (one stack per test,
# inside sb_init's sandbox, stopped at exit).  Every configuration is made
# from the conf.d/ snippets an operator installs, changing only paths,
# ports and the example values, so the snippets are proven by both.
#
# API:
#   stack_need           skip the test unless root, the daemons and the
#                        build's milter and plugins are there
#   stack_test_start NAME  for a test: sb_init NAME, stack_start (its output
#                        in $SB/start.log), "Bail out!" if it fails
#   stack_start          choose ports, write configs and users, generate the
#                        ClamAV test DB, start spamd, the milter, the policy
#                        daemon, Dovecot and Postfix; writes $SB/stack.env
#   stack_stop_all       stop every daemon of the stack in $SB, found by its
#                        pid file (from any shell, e.g. "./demo down")
#   stack_running        true if any daemon of the stack in $SB is alive
#   stack_milter_start / stack_milter_stop     the milter alone
#   ST_STAMP_KEY         the site's stamp key file (milter StampKeyFile,
#                        spam_prefs_stamp_key_file), made by the stack
#   stack_policyd_start / stack_policyd_stop   the policy daemon alone
#   stack_send TAG ARG...  one SMTP session through Postfix (smtp_session.py
#                        ARGs, plus the header "X-Demo-Tag: TAG"; --port
#                        $ST_SUBMISSION_PORT for the submission service); the replies
#                        are printed and kept in $SB/smtp/TAG.out
#   stack_reply TAG WHAT   print the reply code+text of WHAT (AUTH, MAIL, DATA)
#   stack_found TAG      print the delivered copies holding TAG (volumes and
#                        the outside-world sink), one path a line
#   stack_wait_found TAG N [SECS]  wait until N copies of TAG are delivered
#   stack_where USER     "VOLUME PATH" of USER's directory per mailshard(7)
#                        (tests/lib/mailshard.py, independent of the plugin)
#   stack_imap USER MAILBOX / stack_pop3 USER   the Subject: of each message
#                        a sample user sees (mailclient.py imap-subjects,
#                        pop3-subjects)
#   stack_queue_count    messages in Postfix's queue
#   stack_metric DAEMON SERIES  the value of one sample of DAEMON's (milter,
#                        policyd, dovecot) /metrics endpoint (MetricsListen on
#                        ST_MILTER_METRICS_PORT, ST_POLICYD_METRICS_PORT;
#                        Dovecot's OpenMetrics listener on
#                        ST_DOVECOT_METRICS_PORT, conf.d's
#                        mailwarren-metrics.conf.ext)
#   stack_metric_text DAEMON  the whole exposition (after the status line)
#   stack_decisions DAEMON  "action/reason N" for each nonzero decision
#                        counter of DAEMON, one a line
#
# Settings (before stack_start; all optional):
#   ST_BUILD        build tree with the binaries and plugins
#                   (default ${top_builddir:-$MW_TOP_SRCDIR})
#   ST_PORT_BASE    e.g. 24000: prefer ports BASE+25 (SMTP), +143 (IMAP),
#                   +110 (POP3), ... when free; default: random free ports
#
# Sample users (passwd-file $DC_USERS, password = $ST_PASS for all):
#   juan   spam_prefs defaults (threshold 5.0, spam filed into Junk)
#   maria  threshold 5000 (GTUBE scores 1000: she keeps even that)
#   anna   threshold 3, mail from @partner.example is never spam
#   pat    pinned to volume v2 (userdb mailshard_volume)
#   carol  a customer login: may relay after SASL AUTH
#   rick   a customer login limited to 3 recipients an hour
# Hosted domain: $ST_DOMAIN (demo.example).

[ -n "${MW_STACK_SH_LOADED:-}" ] && return 0
MW_STACK_SH_LOADED=1

. "$MW_TESTLIB/postfix.sh"
. "$MW_TESTLIB/spamd.sh"
. "$MW_TESTLIB/dovecot.sh"
. "$MW_TESTLIB/policyd.sh"

ST_BUILD=${ST_BUILD:-${top_builddir:-$MW_TOP_SRCDIR}}
ST_CONFD=$MW_TOP_SRCDIR/conf.d
ST_DOMAIN=demo.example
ST_PASS=demo
ST_USERS="juan maria anna pat carol rick"
ST_MILTER_PID=
if [ -z "${MW_PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then MW_PYTHON=/usr/bin/python3; else MW_PYTHON=python3; fi
fi

stack_need() {
	sb_need_root
	sb_need_cmd postfix postfix
	sb_need_cmd /usr/sbin/dovecot dovecot-core
	sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
	sb_need_cmd "$SPAMD_BIN" spamd
	[ -x "$ST_BUILD/milter/mailwarren-milter" ] || skip_all "mailwarren-milter not built"
	[ -x "$ST_BUILD/policy/mailwarren-policyd" ] || skip_all "mailwarren-policyd not built"
	[ -f "$ST_BUILD/plugins/mailshard/.libs/lib20_mailshard_plugin.so" ] ||
		skip_all "Dovecot plugins not built"
}

# ---------------------------------------------------------------------------
# configuration from the conf.d samples

# stack_conf_set FILE KEY VALUE: in a "KeyName Value" sample, replace the
# line setting KEY, else the first commented "#KEY ..." example, else
# append "KEY VALUE".
stack_conf_set() {
	awk -v k="$2" -v v="$3" '
		{
			line[NR] = $0
			w = $1
			c = sub(/^#/, "", w)
			if (tolower(w) == tolower(k) && NF >= 2) {
				if (!c) set = NR
				else if (!ex) ex = NR
			}
		}
		END {
			at = set ? set : ex
			for (i = 1; i <= NR; i++)
				print (i == at ? k " " v : line[i])
			if (!at) print k " " v
		}' "$1" >"$1.new" && mv "$1.new" "$1"
}

# st_pick_port VAR OFFSET: set VAR (unless already set) to BASE+OFFSET when
# ST_PORT_BASE is given and that port is free, else to a free random port;
# never one of the ports already chosen.
ST_CHOSEN=()
st_pick_port() {
	local var=$1 off=$2 p=${!1:-}
	if [ -z "$p" ] && [ -n "${ST_PORT_BASE:-}" ]; then
		p=$((ST_PORT_BASE + off))
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || [ "$(mw_listeners "$p")" != 0 ]; then
			p=
		fi
		local u
		for u in "${ST_CHOSEN[@]}"; do [ "$u" = "$p" ] && p=; done
	fi
	[ -n "$p" ] || p=$(mw_next_port "${ST_CHOSEN[@]}") || return 1
	ST_CHOSEN+=("$p")
	printf -v "$var" '%s' "$p"
}

st_ports() {
	ST_CHOSEN=()
	st_pick_port PF_SMTP_PORT 25 && st_pick_port PF_SINK_PORT 26 &&
		st_pick_port ST_SUBMISSION_PORT 587 &&
		st_pick_port DC_IMAP_PORT 143 && st_pick_port DC_POP3_PORT 110 &&
		st_pick_port DC_LMTP_PORT 24 && st_pick_port SPAMD_PORT 783 &&
		st_pick_port ST_MILTER_PORT 890 && st_pick_port PD_PORT 40 &&
		st_pick_port ST_MILTER_METRICS_PORT 130 && st_pick_port ST_POLICYD_METRICS_PORT 131 &&
		st_pick_port ST_DOVECOT_METRICS_PORT 990
	# (offsets below 8768: with BASE 24000 every port stays under the
	# kernel's ephemeral range, 32768 and up, where any client socket may
	# hold it: 24000 + 9900 once failed as "Address already in use")
}

# st_users: the sample users and the policy daemon's tables.
st_users() {
	local u
	for u in juan carol rick; do
		dovecot_add_user "$u" "$ST_PASS" || return 1
	done
	dovecot_add_user maria "$ST_PASS" userdb_spam_prefs_threshold=5000 &&
		dovecot_add_user anna "$ST_PASS" userdb_spam_prefs_threshold=3 \
			userdb_spam_prefs_allow=@partner.example &&
		dovecot_add_user pat "$ST_PASS" userdb_mailshard_volume=v2 || return 1
	mkdir -p "$SB/etc/policy" || return 1
	# customer networks: none on 127.0.0.1, so local clients are strangers
	# unless they log in
	printf '%s\n' '# network          customer id' '192.0.2.0/24       cust-doc' \
		>"$SB/etc/policy/customer-networks"
	printf '%s\n' '# id    limits' 'rick    recipients=3/1h' >"$SB/etc/policy/rate-limits"
	printf '%s\n' '# sender                 logins' "@$ST_DOMAIN  carol, rick" \
		"carol@customer.example  carol" "rick@customer.example   rick" \
		>"$SB/etc/policy/sender-logins"
}

# st_db: the ClamAV test signatures and the sample messages.
st_db() {
	"$MW_PYTHON" "$MW_TESTLIB/gen-clamdb.py" test "$SB/clamdb" >/dev/null &&
		"$MW_PYTHON" "$MW_TESTLIB/gen-clamdb.py" samples "$SB/samples" >/dev/null &&
		mkdir -p "$SB/tmp" "$SB/run" && chmod 1777 "$SB/tmp"
}

# ---------------------------------------------------------------------------
# daemons

# st_stamp_key: the site's stamp key, shared by the milter (StampKeyFile)
# and spam_prefs (spam_prefs_stamp_key_file), made once per sandbox. As
# root: root:nogroup mode 0640, readable by the milter (Group nogroup) and,
# through Dovecot's mail_access_groups = nogroup, by the delivery
# processes (uid 5000), by nobody else; otherwise 0600, everything running
# as the one user. ST_STAMP_KEY is its path.
st_stamp_key() {
	ST_STAMP_KEY=$SB/etc/stamp.key
	[ -f "$ST_STAMP_KEY" ] && return 0
	mkdir -p "$SB/etc" || return 1
	(umask 077; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$ST_STAMP_KEY") || return 1
	if [ "$(id -u)" = 0 ]; then
		chgrp nogroup "$ST_STAMP_KEY" && chmod 0640 "$ST_STAMP_KEY"
	fi
}

stack_milter_start() {
	local conf=$SB/etc/mailwarren-milter.conf i
	mkdir -p "$SB/etc" "$SB/run" "$SB/log" || return 1
	st_stamp_key || return 1
	if [ ! -f "$conf" ]; then
		cp "$ST_CONFD/mailwarren/mailwarren-milter.conf" "$conf" || return 1
		stack_conf_set "$conf" MilterSocket "inet:$ST_MILTER_PORT@127.0.0.1"
		stack_conf_set "$conf" PidFile "$SB/run/mailwarren-milter.pid"
		stack_conf_set "$conf" DatabaseDirectory "$SB/clamdb"
		stack_conf_set "$conf" TemporaryDirectory "$SB/tmp"
		stack_conf_set "$conf" SpamdHosts "inet:$SPAMD_PORT@127.0.0.1"
		stack_conf_set "$conf" SpamdTimeout 20s
		stack_conf_set "$conf" StampKeyFile "$ST_STAMP_KEY"
		stack_conf_set "$conf" MetricsListen "$ST_MILTER_METRICS_PORT"
		# unprivileged, as the packages run it (it refuses to stay root)
		if [ "$(id -u)" = 0 ]; then
			stack_conf_set "$conf" User nobody
			stack_conf_set "$conf" Group nogroup
		fi
	fi
	"$ST_BUILD/milter/mailwarren-milter" -f -c "$conf" </dev/null \
		>>"$SB/log/mailwarren-milter.log" 2>&1 &
	ST_MILTER_PID=$!
	sb_at_exit stack_milter_stop
	for ((i = 0; i < 300; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$ST_MILTER_PORT") 2>/dev/null && return 0
		sb_pid_running "$ST_MILTER_PID" || break
		sleep 0.1
	done
	echo "stack: mailwarren-milter did not start:" >&2
	tail -n 5 "$SB/log/mailwarren-milter.log" >&2
	return 1
}

stack_milter_stop() {
	[ -n "$ST_MILTER_PID" ] || return 0
	mw_kill_pid "$ST_MILTER_PID" 15
	ST_MILTER_PID=
}

stack_policyd_start() {
	local tmpl=$SB/etc/mailwarren-policyd.conf.in
	mkdir -p "$SB/etc" "$SB/run" "$SB/log" || return 1
	if [ ! -f "$tmpl" ]; then
		cp "$ST_CONFD/mailwarren/mailwarren-policyd.conf" "$tmpl" || return 1
		stack_conf_set "$tmpl" PolicySocket "inet:$PD_PORT@127.0.0.1"
		stack_conf_set "$tmpl" PidFile "@SB@/run/mailwarren-policyd.pid"
		stack_conf_set "$tmpl" HostedDomains "$ST_DOMAIN"
		stack_conf_set "$tmpl" CustomerNetworks "@SB@/etc/policy/customer-networks"
		stack_conf_set "$tmpl" SenderLoginMap "@SB@/etc/policy/sender-logins"
		stack_conf_set "$tmpl" MessageRateLimit "100/1m, 1000/1h"
		stack_conf_set "$tmpl" RateLimitMap "@SB@/etc/policy/rate-limits"
		# recipient validation: unknown users refused during SMTP (no
		# backscatter), through the demo Dovecot's auth-userdb socket
		stack_conf_set "$tmpl" RecipientUserdb "local:@SB@/dovecot/run/auth-userdb"
		stack_conf_set "$tmpl" MetricsListen "$ST_POLICYD_METRICS_PORT"
		PD_SOCK=$SB/run/unused.sock
		policyd_config "$tmpl" || return 1
		mv "$PD_CONF" "$SB/etc/mailwarren-policyd.conf"
	fi
	PD_CONF=$SB/etc/mailwarren-policyd.conf
	PD_LOG=$SB/log/mailwarren-policyd.log
	PD_BIN=$ST_BUILD/policy/mailwarren-policyd
	PD_SOCK=$SB/run/unused.sock
	policyd_start
}

stack_policyd_stop() {
	policyd_stop
}

# st_snippet FILE: print a conf.d snippet with the demo's ports and paths
# in place of the examples'.
st_snippet() {
	sed -e "s|inet:127\.0\.0\.1:10040|inet:127.0.0.1:$PD_PORT|g" \
		-e "s|inet:127\.0\.0\.1:8890|inet:127.0.0.1:$ST_MILTER_PORT|g" \
		-e "s|lmtp:inet:127\.0\.0\.1:24\$|lmtp:inet:127.0.0.1:$DC_LMTP_PORT|" \
		-e "s|^relay_domains = example\.com|relay_domains = $ST_DOMAIN|" \
		-e "s|^    port = 24\$|    port = $DC_LMTP_PORT|" \
		-e "s|/var/spool/postfix/|$SB/postfix/spool/|g" \
		"$ST_CONFD/$1"
}

st_dovecot_start() {
	local d=$SB/etc/dovecot mods=$SB/dovecot-modules p sieve=
	mkdir -p "$d" "$mods" "$SB/srv/v1" "$SB/srv/v2" || return 1
	# the volumes, each with its mount marker, owned by the mail uid
	touch "$SB/srv/v1/.mailshard-volume" "$SB/srv/v2/.mailshard-volume"
	chown -R 5000:5000 "$SB/srv" || return 1
	# one mail_plugin_dir: the build's plugins and, if there, Pigeonhole
	for p in mailshard/.libs/lib20_mailshard_plugin.so spam-prefs/.libs/lib95_spam_prefs_plugin.so; do
		[ -f "$ST_BUILD/plugins/$p" ] || { echo "stack: $ST_BUILD/plugins/$p not built" >&2; return 1; }
		ln -sf "$(cd "$ST_BUILD/plugins/${p%/*}" && pwd)/${p##*/}" "$mods/"
	done
	if [ -f /usr/lib/dovecot/modules/lib90_sieve_plugin.so ]; then
		ln -sf /usr/lib/dovecot/modules/lib90_sieve_plugin.so "$mods/"
		sieve=1
	fi
	# the shipped snippets of the Dovecot under test with the demo's values
	if [ -n "$DC_V24" ]; then
		dovecot_mailwarren_settings || return 1
		st_snippet dovecot-2.4/90-mailshard.conf |
			sed -e "s|^#mailshard_volumes = .*|mailshard_volumes = v1=$SB/srv/v1 v2=$SB/srv/v2|" \
				>"$d/90-mailshard.conf"
		st_snippet dovecot-2.4/mailwarren-metrics.conf.ext |
			sed "s/^    port = 9900\$/    port = $ST_DOVECOT_METRICS_PORT/" >"$d/96-mailwarren-metrics.conf"
		st_snippet dovecot-2.4/95-spam-prefs.conf |
			sed -E -e 's/^#(spam_prefs_(threshold|action|mailbox) = )/\1/' \
				-e "s|^#spam_prefs_stamp_key_file = .*|spam_prefs_stamp_key_file = $ST_STAMP_KEY|" \
				>"$d/95-spam-prefs.conf"
		# the demo's userdb is keyed by bare names, one domain: strip it
		st_snippet dovecot-2.4/mailwarren.conf.ext |
			sed 's/^auth_username_format = .*/auth_username_format = %{user | lower | username}/' |
			if [ -n "$sieve" ]; then cat; else sed '/^    sieve = yes$/d'; fi \
				>"$d/mailwarren.conf"
	else
		st_snippet dovecot/90-mailshard.conf |
			sed -e "s|^  #mailshard_volumes = .*|  mailshard_volumes = v1=$SB/srv/v1 v2=$SB/srv/v2|" \
				>"$d/90-mailshard.conf"
		st_snippet dovecot/mailwarren-metrics.conf.ext |
			sed "s/^    port = 9900\$/    port = $ST_DOVECOT_METRICS_PORT/" >"$d/96-mailwarren-metrics.conf"
		st_snippet dovecot/95-spam-prefs.conf |
			sed -E -e 's/^  #(spam_prefs_(threshold|action|mailbox) = )/  \1/' \
				-e "s|^  #spam_prefs_stamp_key_file = .*|  spam_prefs_stamp_key_file = $ST_STAMP_KEY|" \
				>"$d/95-spam-prefs.conf"
		# the demo's userdb is keyed by bare names, one domain: strip it
		st_snippet dovecot/mailwarren.conf.ext |
			sed 's/^auth_username_format = .*/auth_username_format = %Ln/' |
			if [ -n "$sieve" ]; then cat; else sed 's/ sieve spam_prefs$/ spam_prefs/'; fi \
				>"$d/mailwarren.conf"
	fi
	# the auth-userdb socket for mailwarren-policyd (nobody:nogroup): mode
	# 0660 with its group (with 0666 Dovecot would answer another uid only
	# about users of that uid)
	printf '%s\n' 'service auth {' '  unix_listener auth-userdb {' '    mode = 0660' \
		'    group = nogroup' '  }' '}' >"$d/99-policyd-userdb.conf"
	# the stamp key's group, for the delivery processes (st_stamp_key)
	st_stamp_key || return 1
	if [ "$(id -u)" = 0 ]; then
		echo 'mail_access_groups = nogroup' >"$d/99-stamp-key.conf"
	fi
	DC_MAIL_LOCATION=
	DC_MAIL_HOME=
	DC_MAIL_PLUGIN_DIR=$mods
	DC_EXTRA_CONF="!include $d/*.conf"
	# Dovecot's SASL socket for Postfix goes into Postfix's queue; Postfix
	# must not start before it is there: its smtpd would exit on the
	# first connection ("no SASL authentication mechanisms") and the
	# master would throttle smtpd for a minute
	mkdir -p "$SB/postfix/spool/private" && chown postfix: "$SB/postfix/spool/private" &&
		chmod 700 "$SB/postfix/spool/private" || return 1
	dovecot_start || return 1
	sb_wait_file "$SB/postfix/spool/private/auth" 10
}

st_postfix_start() {
	PF_SINK_DIR=$SB/internet
	# the submission service on its own port, with the TLS lines taken out
	# (the demo has no certificate) and no chroot (nothing is copied into
	# the private queue)
	postfix_add_master "$(grep -v '^#' "$ST_CONFD/postfix/master.cf.submission" |
		sed -e "s/^submission inet n       -       y /127.0.0.1:$ST_SUBMISSION_PORT inet n - n /" \
			-e '/smtpd_tls_security_level=encrypt/d' -e '/smtpd_tls_auth_only=yes/d')"
	postfix_start \
		"$(st_snippet postfix/main.cf.policyd)" \
		"$(st_snippet postfix/main.cf.milter)" \
		"$(st_snippet postfix/main.cf.delivery)" \
		"# the demo has no certificate: AUTH without TLS, on loopback only" \
		"smtpd_tls_auth_only = no" \
		"myhostname = mx.$ST_DOMAIN" || return 1
	echo "$PF_SINK_PID" >"$SB/run/smtp-sink.pid"
}

# st_env: the chosen ports and paths, for "./demo" and for humans.
st_env() {
	cat >"$SB/stack.env" <<-EOF
	SMTP_PORT=$PF_SMTP_PORT
	SUBMISSION_PORT=$ST_SUBMISSION_PORT
	IMAP_PORT=$DC_IMAP_PORT
	POP3_PORT=$DC_POP3_PORT
	LMTP_PORT=$DC_LMTP_PORT
	SPAMD_PORT=$SPAMD_PORT
	MILTER_PORT=$ST_MILTER_PORT
	POLICYD_PORT=$PD_PORT
	SINK_PORT=$PF_SINK_PORT
	MILTER_METRICS_PORT=$ST_MILTER_METRICS_PORT
	POLICYD_METRICS_PORT=$ST_POLICYD_METRICS_PORT
	DOVECOT_METRICS_PORT=$ST_DOVECOT_METRICS_PORT
	EOF
}

stack_start() {
	[ -n "$SB" ] && [ -d "$SB" ] || { echo "stack_start: no \$SB" >&2; return 1; }
	mkdir -p "$SB/run" "$SB/log" "$SB/etc" "$SB/smtp" || return 1
	st_ports || { echo "stack: no free ports" >&2; return 1; }
	st_users && st_db || return 1
	st_env
	SPAMD_MAX_CHILDREN=2 spamd_start || return 1
	stack_milter_start && stack_policyd_start || return 1
	st_dovecot_start && st_postfix_start
}

stack_test_start() {
	sb_init "$1"
	if ! stack_start >"$SB/start.log" 2>&1; then
		sed 's/^/# /' "$SB/start.log"
		echo "Bail out! the stack did not start"
		exit 1
	fi
	ok "the stack started (Postfix, milter, policyd, spamd, Dovecot with mailshard and spam_prefs)"
}

# ---------------------------------------------------------------------------
# stopping, from any shell

# st_tree PID: print PID and all its descendants.
st_tree() {
	local k
	echo "$1"
	for k in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		st_tree "$k"
	done
}

# st_pidfiles: the pid file of every daemon of the stack.
st_pidfiles() {
	printf '%s\n' "$SB/postfix/spool/pid/master.pid" "$SB/dovecot/run/master.pid" \
		"$SB/spamd/spamd.pid" "$SB/run/mailwarren-milter.pid" \
		"$SB/run/mailwarren-policyd.pid" "$SB/run/smtp-sink.pid"
}

stack_running() {
	local f pid
	for f in $(st_pidfiles); do
		pid=$(awk 'NR == 1 { print $1 }' "$f" 2>/dev/null)
		[ -n "$pid" ] && sb_pid_running "$pid" && return 0
	done
	[ -n "$(mw_pids_in "$SB/postfix/spool")" ]
}

# stack_stop_all: note every daemon and all it has started first (a
# master removes its pid file before it is gone), ask the daemons to stop,
# wait until each of those processes is gone, SIGKILL what is left.
stack_stop_all() {
	local f pid tree='' masters='' i left p
	for f in $(st_pidfiles); do
		pid=$(awk 'NR == 1 { print $1 }' "$f" 2>/dev/null)
		[ -n "$pid" ] && sb_pid_running "$pid" || continue
		masters="$masters $pid"
		tree="$tree $(st_tree "$pid")"
	done
	if [ -f "$SB/postfix/etc/main.cf" ]; then
		postfix -c "$SB/postfix/etc" stop </dev/null >/dev/null 2>&1
	fi
	if [ -f "$SB/dovecot/dovecot.conf" ]; then
		doveadm -c "$SB/dovecot/dovecot.conf" stop >/dev/null 2>&1
	fi
	# shellcheck disable=SC2086  # lists of PIDs
	[ -n "$masters" ] && kill -TERM $masters 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		left=
		for p in $tree; do sb_pid_running "$p" && left="$left $p"; done
		[ -z "$left" ] && break
		# shellcheck disable=SC2086
		[ "$i" = 150 ] && kill -KILL $left 2>/dev/null
		sleep 0.1
	done
	# whatever still works in the Postfix queue belongs to this instance
	mw_kill_in "$SB/postfix/spool" 5
}

# ---------------------------------------------------------------------------
# mail in, mail out

stack_send() {
	local tag=$1
	shift
	"$MW_PYTHON" "$MW_TESTLIB/smtp_session.py" --port "$PF_SMTP_PORT" \
		--header "X-Demo-Tag: $tag" "$@" >"$SB/smtp/$tag.out" 2>&1
	cat "$SB/smtp/$tag.out"
}

stack_reply() {
	awk -v w="$2" '$1 == w { sub(/^[A-Z]+ /, ""); print; exit }' "$SB/smtp/$1.out"
}

stack_found() {
	# the whole line: tag sp1 is not sp10 (sink files have CRLF)
	# not a copy still being written (a maildir's tmp/: it moves to new/)
	grep -rlE --exclude='dovecot*' -- "^X-Demo-Tag: $1"$'\r'"?\$" "$SB/srv" "$SB/internet" 2>/dev/null |
		grep -v '/Maildir/\(\.[^/]*/\)\?tmp/' | sort
}

stack_wait_found() {
	local tag=$1 n=$2 secs=${3:-60} i
	for ((i = 0; i < secs * 5; i++)); do
		[ "$(stack_found "$tag" | wc -l)" -ge "$n" ] && return 0
		sleep 0.2
	done
	return 1
}

stack_where() {
	local pin=
	[ "$1" = pat ] && pin=v2
	"$MW_PYTHON" "$MW_TESTLIB/mailshard.py" "v1=$SB/srv/v1 v2=$SB/srv/v2" hash:2:2 "$1" $pin
}

stack_imap() {
	"$MW_PYTHON" "$MW_TESTLIB/mailclient.py" imap-subjects "$DC_IMAP_PORT" "$1" "$ST_PASS" "$2"
}

stack_pop3() {
	"$MW_PYTHON" "$MW_TESTLIB/mailclient.py" pop3-subjects "$DC_POP3_PORT" "$1" "$ST_PASS"
}

stack_queue_count() {
	find "$SB/postfix/spool/incoming" "$SB/postfix/spool/active" \
		"$SB/postfix/spool/deferred" "$SB/postfix/spool/hold" -type f 2>/dev/null | wc -l
}

# ---------------------------------------------------------------------------
# metrics (MetricsListen of both daemons)

st_metrics_port() {
	case $1 in
	milter) echo "$ST_MILTER_METRICS_PORT" ;;
	policyd) echo "$ST_POLICYD_METRICS_PORT" ;;
	dovecot) echo "$ST_DOVECOT_METRICS_PORT" ;;
	esac
}

stack_metric() {
	"$MW_PYTHON" "$MW_TESTLIB/scraper.py" value "$(st_metrics_port "$1")" "$2"
}

stack_metric_text() {
	"$MW_PYTHON" "$MW_TESTLIB/scraper.py" get "$(st_metrics_port "$1")"
}

stack_decisions() {
	"$MW_PYTHON" "$MW_TESTLIB/scraper.py" get "$(st_metrics_port "$1")" |
		sed -n 's/^mailwarren_[a-z]*_decisions_total{action="\([a-z]*\)",reason="\([a-z_]*\)"} \([1-9][0-9]*\)$/\1\/\2 \3/p'
}
