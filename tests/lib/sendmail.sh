# sendmail.sh - a private, real Sendmail (8.17 on Debian 12, 8.18 on Debian 13:
# the same configuration and checks) on 127.0.0.1 for integration tests (sourced,
# bash; needs root, m4, Debian's postfix for smtp-sink, and
# tests/lib/sandbox.sh).
#
# Debian's sendmail-bin conflicts with postfix, so it is never installed:
# sendmail_fetch downloads sendmail-bin, sendmail-base and sendmail-cf with
# "apt-get download" and unpacks them with "dpkg -x" into a cache directory.
# Everything the daemon reads or writes (sendmail.cf, queue, pid file,
# aliases, service.switch, hosts) lives in $SB/sendmail.  By default it
# relays every message to a local smtp-sink that writes each one as a file
# into $SM_SINK_DIR.
#
# API (call sb_init first):
#   sendmail_fetch               download + unpack once (idempotent, locked);
#                                returns 1 and sets SM_FETCH_ERROR on failure
#   sendmail_start [MC_LINE...]  build sendmail.cf with m4 and start the daemon;
#                                each argument is one .mc line inserted before
#                                the MAILER lines (e.g. INPUT_MAIL_FILTER(...)dnl)
#   sendmail_stop                stop the daemon (pid file) and its sink;
#                                also registered with sb_at_exit
#   sendmail_wait_sink N [SECS]  wait until >= N complete messages are in
#                                $SM_SINK_DIR (default 30 s); 1 on timeout
#   sendmail_sink_count          print the number of complete messages
#   sendmail_run ARGS...         run the private sendmail binary with
#                                -C $SM_DIR/sendmail.cf (e.g. -bp, -qf, -bt)
#   sendmail_log                 print the path of the daemon's stderr log
#                                (Sendmail itself logs only to syslog)
#
# Variables (set before sendmail_start to override, read after):
#   MW_CACHE_DIR   download cache  (default /var/cache/mailwarren-test/sendmail)
#   SM_START_TIMEOUT  seconds to wait for the daemon      (default 30)
#   SM_SMTP_PORT   listening port on 127.0.0.1            (default: sb_port)
#   SM_RELAY_PORT  where all mail is relayed on 127.0.0.1; when the caller
#                  sets it (e.g. to $PF_SMTP_PORT or $PF_SINK_PORT) no sink is
#                  started: set SM_SINK_DIR too (e.g. to $PF_SINK_DIR) for
#                  sendmail_wait_sink, or use postfix_wait_sink
#   SM_SINK_PORT   own smtp-sink port                      (default: sb_port)
#   SM_SINK_DIR    where the own sink writes messages (default $SM_DIR/sink)
#   SM_HOSTNAME    $j, the name in Received:/EHLO (default mx-sendmail.mwtest.example)
#   SM_QUEUE_INTERVAL  -q interval of the daemon           (default 30m)
#   SM_DIR, SM_BIN, SM_VERSION (package's upstream version), SM_SINK_PID
#                  (read only, set by sendmail_fetch/sendmail_start)

[ -n "${MW_SENDMAIL_SH_LOADED:-}" ] && return 0
MW_SENDMAIL_SH_LOADED=1

# the smtp-sink and process helpers live in postfix.sh
# shellcheck source=tests/lib/postfix.sh
. "$MW_TESTLIB/postfix.sh"

SM_BIN=
SM_CF_M4=
SM_DIR=
SM_SINK_PID=
SM_OWN_SINK=
SM_VERSION=
SM_FETCH_ERROR=
SM_STOP_REGISTERED=

# sm_paths: derive the paths inside the cache from $MW_CACHE_DIR (which a
# test may set after sourcing this file).
sm_paths() {
	MW_CACHE_DIR=${MW_CACHE_DIR:-/var/cache/mailwarren-test/sendmail}
	SM_BIN=$MW_CACHE_DIR/root/usr/libexec/sendmail/sendmail
	SM_CF_M4=$MW_CACHE_DIR/root/usr/share/sendmail/cf/m4/cf.m4
}

# sm_fetched: true when the unpacked tree is complete.
sm_fetched() {
	[ -x "$SM_BIN" ] && [ -f "$SM_CF_M4" ]
}

# sm_check_binary: the unpacked sendmail must find its shared libraries.
# Sets SM_VERSION (upstream version of the package, e.g. 8.17.1.9) or
# SM_FETCH_ERROR.  (Running "sendmail -d0.1" here would cost 60 s on an
# unqualified host name, see sm_exec; sendmail_run can do it later.)
sm_check_binary() {
	local missing deb
	missing=$(ldd "$SM_BIN" 2>&1 | awk '/not found/ { print $1 }' | tr '\n' ' ')
	if [ -n "$missing" ] || ! ldd "$SM_BIN" >/dev/null 2>&1; then
		SM_FETCH_ERROR="unpacked sendmail lacks shared libraries: ${missing:-?} (install sendmail-bin's dependencies)"
		return 1
	fi
	for deb in "$MW_CACHE_DIR"/debs/sendmail-bin_*.deb; do
		SM_VERSION=$(dpkg-deb -f "$deb" Version 2>/dev/null)
	done
	SM_VERSION=${SM_VERSION#*:}   # epoch
	SM_VERSION=${SM_VERSION%%-*}  # Debian revision
	return 0
}

# sendmail_fetch: make sure $MW_CACHE_DIR/root holds the unpacked packages.
# Safe to run concurrently (flock), a no-op once done.  The .debs stay in
# $MW_CACHE_DIR/debs, apt-get's output in $MW_CACHE_DIR/fetch.log.
sendmail_fetch() {
	SM_FETCH_ERROR=
	sm_paths
	if ! sm_fetched; then
		if ! mkdir -p "$MW_CACHE_DIR" 2>/dev/null; then
			SM_FETCH_ERROR="cannot create $MW_CACHE_DIR"
			return 1
		fi
		SM_FETCH_ERROR=$(sm_fetch_locked 9>"$MW_CACHE_DIR/.lock")
		[ -z "$SM_FETCH_ERROR" ] || return 1
	fi
	sm_check_binary
}

# sm_fetch_locked: the download and unpack proper, run with fd 9 holding
# the lock file; prints an error message (and nothing on success).
sm_fetch_locked() {
	local tmp deb
	flock -w 300 9 || { echo "timeout waiting for $MW_CACHE_DIR/.lock"; return 1; }
	sm_fetched && return 0  # another test did it while we waited
	tmp=$(mktemp -d "$MW_CACHE_DIR/tmp.XXXXXX") || { echo "mktemp failed in $MW_CACHE_DIR"; return 1; }
	# apt-get download writes into the current directory
	if ! (cd "$tmp" && apt-get download -q sendmail-bin sendmail-base sendmail-cf) \
		>"$MW_CACHE_DIR/fetch.log" 2>&1; then
		echo "apt-get download sendmail-bin sendmail-base sendmail-cf failed:" \
			"$(grep -E '^(E|Err):' "$MW_CACHE_DIR/fetch.log" | head -n 2 | paste -sd ' ')" \
			"(run apt-get update, or tests/lib/fetch-sendmail.sh)"
		rm -rf "$tmp"
		return 1
	fi
	mkdir "$tmp/root"
	for deb in "$tmp"/*.deb; do
		if ! dpkg -x "$deb" "$tmp/root" >>"$MW_CACHE_DIR/fetch.log" 2>&1; then
			echo "dpkg -x $deb failed"
			rm -rf "$tmp"
			return 1
		fi
	done
	# publish atomically: root/ appears complete or not at all
	rm -rf "$MW_CACHE_DIR/root" "$MW_CACHE_DIR/debs"
	mv "$tmp/root" "$MW_CACHE_DIR/root" && mkdir "$MW_CACHE_DIR/debs" &&
		mv "$tmp"/*.deb "$MW_CACHE_DIR/debs/"
	rm -rf "$tmp"
	sm_fetched || echo "unpacked tree in $MW_CACHE_DIR/root is incomplete"
}

# sendmail_log: print the path of the daemon's stderr log.
sendmail_log() {
	echo "$SM_DIR/sendmail.log"
}

# sm_write_files EXTRA...: the private /etc/mail equivalent and sendmail.mc,
# compiled into sendmail.cf.
sm_write_files() {
	local e=$SM_DIR/etc
	mkdir -p "$e" "$SM_DIR/mqueue" "$SM_DIR/run" || return 1
	# Sendmail refuses group/world-writable queues and config files
	chmod 755 "$SM_DIR" "$e" "$SM_DIR/run" && chmod 700 "$SM_DIR/mqueue" || return 1
	: >"$e/aliases"
	: >"$e/local-host-names"
	: >"$e/trusted-users"
	: >"$e/helpfile"
	# no DNS, no NIS: hosts and aliases come from files only
	printf 'hosts files\naliases files\n' >"$e/service.switch"
	# the name Sendmail uses for itself must be fully qualified (see sm_exec)
	printf '127.0.0.1\tlocalhost\n127.0.0.1\t%s %s\n' "$SM_HOSTNAME" "${SM_HOSTNAME%%.*}" >"$e/hosts"

	{
		echo "divert(-1)"
		echo "# private test instance written by tests/lib/sendmail.sh"
		echo "divert(0)dnl"
		# every default path below /etc/mail moves into the sandbox
		echo "define(\`MAIL_SETTINGS_DIR', \`$e/')dnl"
		echo "include(\`$SM_CF_M4')dnl"
		echo "VERSIONID(\`mailwarren test sandbox')dnl"
		echo "OSTYPE(\`linux')dnl"
		echo "define(\`confDOMAIN_NAME', \`$SM_HOSTNAME')dnl"
		echo "define(\`confDONT_PROBE_INTERFACES', \`True')dnl"
		echo "define(\`confSERVICE_SWITCH_FILE', \`$e/service.switch')dnl"
		echo "define(\`confHOSTS_FILE', \`$e/hosts')dnl"
		echo "define(\`ALIAS_FILE', \`$e/aliases')dnl"
		echo "define(\`HELP_FILE', \`$e/helpfile')dnl"
		echo "define(\`QUEUE_DIR', \`$SM_DIR/mqueue')dnl"
		echo "define(\`STATUS_FILE', \`$SM_DIR/run/statistics')dnl"
		echo "define(\`confPID_FILE', \`$SM_DIR/run/sendmail.pid')dnl"
		# the unprivileged user for deliveries that drop root
		echo "define(\`confDEF_USER_ID', \`nobody:nogroup')dnl"
		# tolerate a group-writable parent such as a build directory
		echo "define(\`confDONT_BLAME_SENDMAIL', \`GroupWritableDirPathSafe')dnl"
		# a busy test machine must neither queue nor refuse mail
		echo "define(\`confQUEUE_LA', \`999')dnl"
		echo "define(\`confREFUSE_LA', \`999')dnl"
		echo "define(\`confTO_IDENT', \`0')dnl"
		echo "define(\`RELAY_MAILER_ARGS', \`TCP \$h $SM_RELAY_PORT')dnl"
		echo "DAEMON_OPTIONS(\`Port=$SM_SMTP_PORT, Addr=127.0.0.1, Name=MTA')dnl"
		echo "FEATURE(\`no_default_msa')dnl"
		echo "FEATURE(\`nocanonify')dnl"
		echo "FEATURE(\`accept_unresolvable_domains')dnl"
		if [ $# -gt 0 ]; then
			echo "dnl extra lines from the test"
			printf '%s\n' "$@"
		fi
		echo "MAILER(\`smtp')dnl"
		# every remote address goes to the relay mailer at [127.0.0.1]
		# (SMART_HOST alone still looks up MX records)
		echo "LOCAL_NET_CONFIG"
		# shellcheck disable=SC2016  # sendmail's $ macros, not shell's
		printf 'R$* < @ $* > $*\t$#relay $@ [127.0.0.1] $: $1 < @ $2 > $3\n'
	} >"$SM_DIR/sendmail.mc" || return 1

	# cf.m4 prints "*** WARNING" for some wanted features (promiscuous_relay)
	if ! m4 "$SM_DIR/sendmail.mc" >"$SM_DIR/sendmail.cf" 2>"$SM_DIR/m4.err" ||
	   grep -v -e '^\*\*\* WARNING' -e '^[[:space:]]' "$SM_DIR/m4.err" | grep -q .; then
		diag "m4 $SM_DIR/sendmail.mc failed:"
		diag "$(cat "$SM_DIR/m4.err")"
		return 1
	fi
	chmod 644 "$SM_DIR/sendmail.cf" "$e"/*
}

# sm_can_unshare: true if we may create UTS and mount namespaces.
sm_can_unshare() {
	unshare --uts --mount true 2>/dev/null
}

# sm_exec ARGS...: run the sendmail binary with ARGS.  At start-up, before it
# reads any .cf file, Sendmail qualifies the host name via gethostbyname and
# sleeps 60 s if that yields no dot (typical for containers and CI).  So it
# runs in private UTS and mount namespaces with hostname $SM_HOSTNAME and our
# hosts file bind-mounted over /etc/hosts (the system is not affected).  The
# arguments reach sh as positional parameters, never as code.
sm_exec() {
	if sm_can_unshare; then
		# shellcheck disable=SC2016  # expanded by that sh, from its arguments
		exec unshare --uts --mount --propagation private sh -c \
			'hostname "$1" && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"' \
			sh "$SM_HOSTNAME" "$SM_DIR/etc/hosts" "$SM_BIN" "$@"
	fi
	exec "$SM_BIN" "$@"
}

# sendmail_run ARGS...: run the private sendmail with our sendmail.cf,
# in the same namespaces as the daemon (after sendmail_start).
sendmail_run() {
	( sm_exec -C "$SM_DIR/sendmail.cf" "$@" )
}

# sendmail_start [MC_LINE...]: fetch if needed, write the configuration,
# start the daemon (and, unless SM_RELAY_PORT is set, its smtp-sink) and
# wait until it accepts connections.  Returns 1 with diagnostics on failure;
# whatever did start is still stopped at exit.
sendmail_start() {
	local secs i
	[ -n "$SB" ] || { diag "sendmail_start: call sb_init first"; return 1; }
	sendmail_fetch || { diag "sendmail_fetch: $SM_FETCH_ERROR"; return 1; }
	SM_DIR=$SB/sendmail
	case $SM_DIR in
	*[!A-Za-z0-9/._+-]*)
		# the path is quoted for m4 and used in sendmail.cf
		diag "sendmail_start: unsupported characters in $SM_DIR"
		return 1 ;;
	esac
	SM_HOSTNAME=${SM_HOSTNAME:-mx-sendmail.mwtest.example}
	SM_SMTP_PORT=${SM_SMTP_PORT:-$(mw_next_port)}
	if [ -z "${SM_RELAY_PORT:-}" ] || [ -n "$SM_OWN_SINK" ]; then
		SM_OWN_SINK=1
		SM_SINK_PORT=${SM_SINK_PORT:-$(mw_next_port "$SM_SMTP_PORT")}
		SM_SINK_DIR=${SM_SINK_DIR:-$SM_DIR/sink}
		SM_RELAY_PORT=$SM_SINK_PORT
	fi
	if [ -z "$SM_SMTP_PORT" ] || [ -z "$SM_RELAY_PORT" ]; then
		diag "sendmail_start: no free port"
		return 1
	fi
	mkdir -p "$SM_DIR" || return 1
	if [ -z "$SM_STOP_REGISTERED" ]; then
		sb_at_exit sendmail_stop
		SM_STOP_REGISTERED=1
	fi
	sm_write_files "$@" || return 1

	if [ -n "$SM_OWN_SINK" ]; then
		smtp_sink_start "$SM_SINK_DIR" "$SM_SINK_PORT" "$SM_DIR/sink.log" || return 1
		SM_SINK_PID=$SMTP_SINK_PID  # set by smtp_sink_start
	fi

	secs=${SM_START_TIMEOUT:-30}
	if ! sm_can_unshare && [ "$(hostname)" = "$(hostname -s)" ]; then
		diag "no namespaces: sendmail will sleep 60 s to qualify the host name"
		secs=$((secs + 70))
	fi
	# -bd: the parent checks the configuration, forks the daemon (a new
	# session, working in the queue directory) and exits.
	if ! (sm_exec -C "$SM_DIR/sendmail.cf" -bd -q"${SM_QUEUE_INTERVAL:-30m}") \
		</dev/null >>"$SM_DIR/sendmail.log" 2>&1; then
		diag "sendmail -bd failed:"
		diag "$(tail -n 10 "$SM_DIR/sendmail.log")"
		return 1
	fi
	for ((i = 0; i < secs * 10; i++)); do
		# the pid file is written once the listener is bound
		[ -s "$SM_DIR/run/sendmail.pid" ] && sb_wait_port "$SM_SMTP_PORT" 1 && return 0
		if [ -z "$(mw_pids_in "$SM_DIR/mqueue")" ]; then
			diag "the sendmail daemon exited during start-up:"
			diag "$(tail -n 10 "$SM_DIR/sendmail.log")"
			return 1
		fi
		sleep 0.1
	done
	# Sendmail logs bind errors only to syslog
	diag "sendmail does not answer on 127.0.0.1:$SM_SMTP_PORT after ${secs}s" \
		"($(mw_listeners "$SM_SMTP_PORT") other sockets listen on that port)"
	diag "$(tail -n 10 "$SM_DIR/sendmail.log")"
	return 1
}

# sendmail_stop: SIGTERM the daemon named in the pid file together with
# its process group (the per-connection children), then anything else still
# working in the queue directory (e.g. detached deliveries), then the sink.
# Idempotent.
sendmail_stop() {
	local pid
	[ -n "$SM_DIR" ] || return 0
	pid=$(head -n 1 "$SM_DIR/run/sendmail.pid" 2>/dev/null)
	# only if that PID really is one of ours (works in our queue), so that
	# a stale pid file can never hit a stranger
	if [ -n "$pid" ] && mw_pids_in "$SM_DIR/mqueue" | grep -qx -- "$pid"; then
		if [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then
			kill -TERM -- "-$pid" 2>/dev/null
		fi
		mw_kill_pid "$pid" 10
	fi
	mw_kill_in "$SM_DIR/mqueue" 5
	if [ -n "$SM_SINK_PID" ]; then
		mw_kill_pid "$SM_SINK_PID" 5
		SM_SINK_PID=
	fi
	return 0
}

# sendmail_sink_count: number of complete messages in $SM_SINK_DIR.
sendmail_sink_count() {
	smtp_sink_count "$SM_SINK_DIR"
}

# sendmail_wait_sink N [SECS]: wait until $SM_SINK_DIR holds >= N messages.
sendmail_wait_sink() {
	smtp_sink_wait "$SM_SINK_DIR" "$@"
}
