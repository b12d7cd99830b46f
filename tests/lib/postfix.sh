# postfix.sh - a private, real Postfix on 127.0.0.1 for integration tests
# (sourced, bash; needs root, Debian's postfix package and tests/lib/sandbox.sh).
#
# The instance lives entirely in $SB/postfix (postfix -c $SB/postfix/etc):
# its own main.cf/master.cf, queue, data directory (master.lock) and maillog,
# so it neither needs nor disturbs the system's Postfix, and two tests can run
# at the same time.  By default everything it accepts is relayed to a local
# smtp-sink that writes each delivered message as one file into $PF_SINK_DIR.
#
# API (call sb_init first):
#   postfix_start [MAIN_CF_LINE...]  start; each argument is appended to main.cf
#                                    verbatim (later lines override defaults)
#   postfix_add_master LINE...       extra master.cf lines (call before
#                                    postfix_start, or call postfix_reload after)
#   postfix_postconf 'name = value'... edit main.cf of the running instance
#                                    (postconf -e); then call postfix_reload
#   postfix_reload                   re-read the configuration and wait until
#                                    the old daemon processes are gone
#   postfix_stop                     stop Postfix and its sink (also at exit)
#   postfix_wait_sink N [SECS]       wait until >= N complete messages are in
#                                    $PF_SINK_DIR (default 30 s); 1 on timeout
#   postfix_sink_count               print the number of complete messages
#   postfix_log                      print the path of the maillog
#
# Variables (set before postfix_start to override, read after):
#   PF_SMTP_PORT   smtpd port on 127.0.0.1          (default: sb_port)
#   PF_NEXTHOP     transport:nexthop for all mail, e.g. lmtp:inet:127.0.0.1:24
#                  (default: smtp:[127.0.0.1]:$PF_SINK_PORT, the smtp-sink)
#   PF_SINK_PORT   smtp-sink port                   (default: sb_port)
#   PF_SINK_DIR    where the sink writes messages   (default: $PF_DIR/sink)
#   PF_HOSTNAME    myhostname                       (default: mx.mwtest.example)
#   PF_START_TIMEOUT  seconds to wait for smtpd     (default: 30)
#   PF_DIR         $SB/postfix (read only)          PF_CONF: $PF_DIR/etc
#   PF_SINK_PID    the sink's PID (read only; empty with PF_NEXTHOP)
#
# Generic helpers, shared with sendmail.sh and usable by any suite:
#   smtp_sink_start DIR PORT LOG [OPT...]  an smtp-sink writing files to DIR
#                                    (-L: LMTP); sets SMTP_SINK_PID
#   smtp_sink_count DIR / smtp_sink_wait DIR N [SECS]   complete messages
#   mw_next_port [PORT...]           sb_port, but none of the PORTs given
#   (mw_pid_alive and mw_kill_pid are in sandbox.sh)
#   mw_pids_in DIR / mw_kill_in DIR [SECS]      processes whose cwd is in DIR
#   mw_listeners PORT / mw_port_exclusive PORT WHAT   listening sockets

[ -n "${MW_POSTFIX_SH_LOADED:-}" ] && return 0
MW_POSTFIX_SH_LOADED=1

PF_DIR=
PF_CONF=
PF_MASTER_EXTRA=()
PF_SINK_PID=
PF_STOP_REGISTERED=

# ---------------------------------------------------------------------------
# generic process and smtp-sink helpers

# mw_pids_in DIR: print the PIDs of the processes whose working directory
# is DIR or below it.  Postfix and Sendmail daemons all chdir to their queue
# directory, which makes this a reliable way to find every process of one
# private instance (zombies have no cwd and are not listed).
mw_pids_in() {
	find /proc/[0-9]*/cwd -maxdepth 0 \( -lname "$1" -o -lname "$1/*" \) 2>/dev/null |
		sed 's|^/proc/\([0-9]*\)/cwd$|\1|'
}

# mw_kill_in DIR [SECS]: SIGTERM every process working in DIR, SIGKILL
# what is still there after SECS (default 5).
mw_kill_in() {
	local dir=$1 secs=${2:-5} pids i
	pids=$(mw_pids_in "$dir")
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086  # a list of PIDs
	kill -TERM $pids 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		pids=$(mw_pids_in "$dir")
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	return 0
}

# mw_listeners PORT: print how many sockets listen on TCP port PORT (any
# address, IPv4 and IPv6), from /proc/net/tcp{,6}.
mw_listeners() {
	local hex
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { n++ } END { print n + 0 }'
}

# mw_port_exclusive PORT WHAT: true if exactly one socket listens on PORT.
# Postfix's master and smtp-sink both set SO_REUSEPORT, so a second instance
# can bind a port that is already in use and silently share its connections
# (e.g. when two concurrent tests draw the same port): treat that as a
# failed start.
mw_port_exclusive() {
	local n
	n=$(mw_listeners "$1")
	[ "$n" = 1 ] && return 0
	diag "$2: $n sockets listen on port $1 (it must be ours alone)"
	return 1
}

# mw_next_port [PORT...]: a free port from sb_port that differs from the
# ports given (sb_port may hand out the same random port twice).
mw_next_port() {
	local p i u used
	for ((i = 0; i < 20; i++)); do
		p=$(sb_port)
		[ -n "$p" ] || continue
		used=
		for u in "$@"; do [ "$u" = "$p" ] && used=1; done
		[ -z "$used" ] && { echo "$p"; return 0; }
	done
	return 1
}

# smtp_sink_start DIR PORT LOGFILE [OPTION...]: run smtp-sink on
# 127.0.0.1:PORT in the background, writing each mail transaction as a file
# into DIR, and wait until it accepts connections.  OPTIONs go to smtp-sink
# (e.g. -L to speak LMTP).  Sets SMTP_SINK_PID (the caller records it and
# stops it with mw_kill_pid).  Returns 1 if it does not come up.
smtp_sink_start() {
	local dir=$1 port=$2 log=$3
	shift 3
	mkdir -p "$dir" || return 1
	chown postfix: "$dir" || return 1
	# -u: drop root after binding; -d: one file per transaction, named
	# from the template plus a random suffix; 100: listen backlog.
	smtp-sink -u postfix -h sink.mwtest.example -d "$dir/%Y%m%d%H%M%S." "$@" \
		"127.0.0.1:$port" 100 </dev/null >>"$log" 2>&1 &
	SMTP_SINK_PID=$!
	if ! sb_wait_port "$port" 15 || ! mw_pid_alive "$SMTP_SINK_PID" ||
	   ! mw_port_exclusive "$port" smtp-sink; then
		diag "smtp-sink did not start on 127.0.0.1:$port:"
		diag "$(tail -n 5 "$log" 2>/dev/null)"
		mw_kill_pid "$SMTP_SINK_PID" 2
		SMTP_SINK_PID=
		return 1
	fi
	return 0
}

# smtp_sink_count DIR: print how many complete messages DIR holds.  smtp-sink
# keeps a message's file open until the end of DATA, so files that some
# process still has open are in flight and not counted.
smtp_sink_count() {
	local dir=$1 total open
	[ -d "$dir" ] || { echo 0; return 0; }
	total=$(find "$dir" -type f | wc -l)
	open=$(find /proc/[0-9]*/fd -lname "$dir/*" 2>/dev/null | wc -l)
	echo $((total > open ? total - open : 0))
}

# smtp_sink_wait DIR N [SECS]: wait until DIR holds at least N complete
# messages (default 30 s).  Returns 1 on timeout.
smtp_sink_wait() {
	local dir=$1 n=$2 secs=${3:-30} i
	for ((i = 0; i < secs * 10; i++)); do
		[ "$(smtp_sink_count "$dir")" -ge "$n" ] && return 0
		sleep 0.1
	done
	diag "timeout: $(smtp_sink_count "$dir") of $n messages in $dir after ${secs}s"
	return 1
}

# ---------------------------------------------------------------------------
# Postfix

# postfix_log: print the path of the private maillog.
postfix_log() {
	echo "$PF_DIR/maillog"
}

# postfix_add_master LINE...: extra master.cf lines (services, -o overrides).
# Before postfix_start they are kept for it; afterwards they are appended to
# master.cf at once and take effect at the next postfix_reload.
postfix_add_master() {
	PF_MASTER_EXTRA+=("$@")
	if [ -n "$PF_CONF" ] && [ -f "$PF_CONF/master.cf" ]; then
		printf '%s\n' "$@" >>"$PF_CONF/master.cf"
		pf_backdate
	fi
}

# postfix_postconf 'name = value'...: change main.cf (postconf -e); reload after.
postfix_postconf() {
	postconf -c "$PF_CONF" -e "$@" || return 1
	pf_backdate
}

# pf_backdate: set the mtime of main.cf/master.cf a minute back.  Every
# Postfix program that reads a configuration file modified within the last
# second waits (300 ms steps, up to ~2 s) for it to "settle"; with several
# programs per start that costs many seconds.
pf_backdate() {
	touch -d '-1 minute' "$PF_CONF/main.cf" "$PF_CONF/master.cf"
}

# pf_write_config EXTRA...: write main.cf and master.cf into $PF_CONF.
pf_write_config() {
	local transport
	if [ -n "${PF_NEXTHOP:-}" ]; then
		transport=$PF_NEXTHOP
	else
		transport="smtp:[127.0.0.1]:$PF_SINK_PORT"
	fi
	{
		cat <<-EOF
		# private test instance written by tests/lib/postfix.sh
		compatibility_level = 3.6
		queue_directory = $PF_DIR/spool
		data_directory = $PF_DIR/data
		mail_owner = postfix
		setgid_group = postdrop
		myhostname = ${PF_HOSTNAME:-mx.mwtest.example}
		mydomain = mwtest.example
		myorigin = \$myhostname
		mydestination =
		local_recipient_maps =
		alias_maps =
		alias_database =
		biff = no
		append_dot_mydomain = no
		inet_interfaces = 127.0.0.1
		inet_protocols = ipv4
		smtp_address_preference = ipv4
		mynetworks = 127.0.0.0/8
		smtpd_relay_restrictions = permit_mynetworks, reject
		disable_dns_lookups = yes
		smtp_host_lookup = native
		lmtp_host_lookup = native
		# everything, whatever its domain class, leaves through one transport
		default_transport = $transport
		relay_transport = $transport
		local_transport = $transport
		virtual_transport = $transport
		# there is no syslog here: log to a file, via postlogd
		maillog_file = $PF_DIR/maillog
		maillog_file_prefixes = $PF_DIR
		# retry deferred mail quickly (a test may restart the next hop)
		queue_run_delay = 5s
		minimal_backoff_time = 5s
		maximal_backoff_time = 10s
		EOF
		if [ $# -gt 0 ]; then
			echo "# extra lines from the test"
			printf '%s\n' "$@"
		fi
	} >"$PF_CONF/main.cf.tmp" || return 1
	# A test's line replaces the default of the same name: a duplicate makes
	# every Postfix process log "overriding earlier entry", and that flood of
	# warnings can deadlock postlogd, which then waits on its own full socket.
	awk '
		/^# extra lines from the test/ { extra = 1 }
		extra && /^[A-Za-z0-9_]+[ \t]*=/ { n = $0; sub(/[ \t]*=.*/, "", n); over[n] = 1 }
		{ line[NR] = $0 }
		END {
			extra = 0
			for (i = 1; i <= NR; i++) {
				if (line[i] ~ /^# extra lines from the test/) extra = 1
				n = line[i]; sub(/[ \t]*=.*/, "", n)
				if (!extra && line[i] ~ /^[A-Za-z0-9_]+[ \t]*=/ && (n in over)) continue
				print line[i]
			}
		}' "$PF_CONF/main.cf.tmp" >"$PF_CONF/main.cf" && rm -f "$PF_CONF/main.cf.tmp" || return 1

	{
		# service type private unpriv chroot wakeup maxproc command
		cat <<-EOF
		127.0.0.1:$PF_SMTP_PORT inet n - n - - smtpd
		pickup    unix  n - n 60 1 pickup
		cleanup   unix  n - n -  0 cleanup
		qmgr      unix  n - n 300 1 qmgr
		rewrite   unix  - - n -  - trivial-rewrite
		bounce    unix  - - n -  0 bounce
		defer     unix  - - n -  0 bounce
		trace     unix  - - n -  0 bounce
		verify    unix  - - n -  1 verify
		flush     unix  n - n 1000? 0 flush
		proxymap  unix  - - n -  - proxymap
		proxywrite unix - - n -  1 proxymap
		smtp      unix  - - n -  - smtp
		relay     unix  - - n -  - smtp
		lmtp      unix  - - n -  - lmtp
		showq     unix  n - n -  - showq
		error     unix  - - n -  - error
		retry     unix  - - n -  - error
		discard   unix  - - n -  - discard
		anvil     unix  - - n -  1 anvil
		scache    unix  - - n -  1 scache
		postlog   unix-dgram n - n - 1 postlogd
		EOF
		if [ ${#PF_MASTER_EXTRA[@]} -gt 0 ]; then
			printf '%s\n' "${PF_MASTER_EXTRA[@]}"
		fi
	} >"$PF_CONF/master.cf" || return 1
	pf_backdate
}

# pf_check_config: validate main.cf with postconf, which (unlike postfix(1)
# without a tty) reports errors on stderr.  Prints them as TAP diagnostics.
pf_check_config() {
	local err rc=0
	err=$(postconf -c "$PF_CONF" -n 2>&1 >/dev/null) || rc=1
	# warnings alone (e.g. an unused parameter) are shown but not fatal
	[ -n "$err" ] && diag "postconf -c $PF_CONF: $err"
	return $rc
}

# pf_master_pid: print the master's PID if it is running.
pf_master_pid() {
	local pid
	pid=$(awk 'NR == 1 { print $1 }' "$PF_DIR/spool/pid/master.pid" 2>/dev/null)
	[ -n "$pid" ] && mw_pid_alive "$pid" && echo "$pid"
}

# pf_children PID: print the PIDs of the direct children of PID.
pf_children() {
	ps -o pid= --ppid "$1" 2>/dev/null
}

# postfix_start [MAIN_CF_LINE...]: create and start the private instance,
# its smtp-sink first (unless PF_NEXTHOP is set).  Returns 0 once smtpd
# accepts connections on 127.0.0.1:$PF_SMTP_PORT, 1 (with diagnostics) on
# any failure; a half-started instance is still cleaned up at exit.
postfix_start() {
	local out
	[ -n "$SB" ] || { diag "postfix_start: call sb_init first"; return 1; }
	PF_DIR=$SB/postfix
	PF_CONF=$PF_DIR/etc
	PF_SMTP_PORT=${PF_SMTP_PORT:-$(mw_next_port)}
	if [ -z "${PF_NEXTHOP:-}" ]; then
		PF_SINK_PORT=${PF_SINK_PORT:-$(mw_next_port "$PF_SMTP_PORT")}
		PF_SINK_DIR=${PF_SINK_DIR:-$PF_DIR/sink}
	fi
	if [ -z "$PF_SMTP_PORT" ] || { [ -z "${PF_NEXTHOP:-}" ] && [ -z "$PF_SINK_PORT" ]; }; then
		diag "postfix_start: no free port"
		return 1
	fi
	mkdir -p "$PF_CONF" "$PF_DIR/spool" "$PF_DIR/data" || return 1
	# master.lock and the postlogd/verify/postscreen caches live here
	chown postfix: "$PF_DIR/data" || return 1
	if [ -z "$PF_STOP_REGISTERED" ]; then
		sb_at_exit postfix_stop
		PF_STOP_REGISTERED=1
	fi
	pf_write_config "$@" || return 1
	pf_check_config || return 1

	if [ -z "${PF_NEXTHOP:-}" ]; then
		smtp_sink_start "$PF_SINK_DIR" "$PF_SINK_PORT" "$PF_DIR/sink.log" || return 1
		PF_SINK_PID=$SMTP_SINK_PID
	fi

	# "postfix start" creates the queue directories (postfix check) itself.
	# postfix(1) reports problems only to a tty or syslog, neither of which
	# we have; keep its output anyway and point at the maillog on failure.
	if ! out=$(postfix -c "$PF_CONF" start </dev/null 2>&1); then
		diag "postfix -c $PF_CONF start failed${out:+: $out}"
		diag "$(tail -n 10 "$PF_DIR/maillog" 2>/dev/null)"
		return 1
	fi
	if ! sb_wait_port "$PF_SMTP_PORT" "${PF_START_TIMEOUT:-30}"; then
		diag "postfix smtpd does not answer on 127.0.0.1:$PF_SMTP_PORT"
		diag "$(tail -n 10 "$PF_DIR/maillog" 2>/dev/null)"
		return 1
	fi
	mw_port_exclusive "$PF_SMTP_PORT" "postfix smtpd" || return 1
	return 0
}

# postfix_reload: validate and re-read main.cf/master.cf.  Postfix daemons
# finish their current work before they pick up a new configuration, so
# this waits (up to 10 s) until every daemon from before the reload is gone;
# a connection opened after postfix_reload returns sees the new settings.
postfix_reload() {
	local master old pid i left
	master=$(pf_master_pid) || { diag "postfix_reload: not running"; return 1; }
	pf_check_config || return 1
	old=$(pf_children "$master")
	postfix -c "$PF_CONF" reload </dev/null >/dev/null 2>&1 || {
		diag "postfix reload failed; see $PF_DIR/maillog"
		return 1
	}
	for ((i = 0; i < 100; i++)); do
		left=
		for pid in $old; do
			mw_pid_alive "$pid" && left=1 && break
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	# the master re-opens its listeners on reload
	sb_wait_port "$PF_SMTP_PORT" 10
}

# postfix_stop: stop the instance (postfix stop, then SIGKILL to what is
# left of the master's process group) and its smtp-sink.  Idempotent.
postfix_stop() {
	local master
	[ -n "$PF_DIR" ] || return 0
	master=$(pf_master_pid)
	if [ -n "$master" ]; then
		postfix -c "$PF_CONF" stop </dev/null >/dev/null 2>&1
		mw_kill_pid "$master" 5
		# the master is a process group leader; nothing of it may survive
		kill -KILL -- "-$master" 2>/dev/null
	fi
	# whatever else still works in the queue (e.g. a master whose pid file
	# was lost) belongs to this instance too
	mw_kill_in "$PF_DIR/spool" 2
	if [ -n "$PF_SINK_PID" ]; then
		mw_kill_pid "$PF_SINK_PID" 5
		PF_SINK_PID=
	fi
	return 0
}

# postfix_sink_count: number of complete messages in $PF_SINK_DIR.
postfix_sink_count() {
	smtp_sink_count "$PF_SINK_DIR"
}

# postfix_wait_sink N [SECS]: wait until $PF_SINK_DIR holds >= N messages.
postfix_wait_sink() {
	smtp_sink_wait "$PF_SINK_DIR" "$@"
}
