# pgsql.sh - a real, private PostgreSQL server for integration tests
# (sourced, bash; needs tests/lib/sandbox.sh sourced and sb_init called).
#
# pgsql_start     initdb a fresh cluster in $PGSQL_DIR/data and start the
#                 postmaster on 127.0.0.1:$PGSQL_PORT and on a unix socket in
#                 $PGSQL_SOCKDIR, as the `postgres' system user (PostgreSQL
#                 refuses to run as root); waits until it answers a query and
#                 registers pgsql_stop with sb_at_exit.  Call it in the test's
#                 own shell (not in $(...)).
# pgsql_stop      fast shutdown (SIGINT: open sessions are ended), then reap;
#                 SIGKILL after PGSQL_STOP_TIMEOUT seconds
# pgsql_kill      the server "dies": SIGKILL to the postmaster and every
#                 backend (a crash, no shutdown protocol); pgsql_start can
#                 start it again on the same data and port
# pgsql_pids      print the postmaster's pid and its children's (backends,
#                 checkpointer, ...), e.g. to SIGSTOP/SIGCONT the whole server
# pgsql_psql ARGS psql as the superuser over the unix socket, quiet, stops at
#                 the first error (ON_ERROR_STOP); database $PGSQL_DB unless
#                 ARGS give -d
# pgsql_createdb NAME  create database NAME (owner: the superuser)
# pgsql_log [N]   print the server log (last N lines if given)
#
# Settings (optional, before pgsql_start): PGSQL_PORT (default from sb_port),
# PGSQL_DB (default "mailwarren": created at start), PGSQL_EXTRA_CONF (raw
# lines appended to postgresql.conf), PGSQL_START_TIMEOUT (seconds, default
# 60), PGSQL_BINDIR (default: the newest /usr/lib/postgresql/*/bin, i.e. 15 on
# Debian 12, 17 on Debian 13).  Set by the helpers: PGSQL_DIR (=$SB/pgsql),
# PGSQL_DATA, PGSQL_SOCKDIR, PGSQL_LOG, PGSQL_PID, PGSQL_VERSION (major).
#
# Access: trust authentication (the cluster is private to the sandbox and
# listens on the loopback only); superuser "postgres", no password.  Clients
# such as Dovecot's pgsql driver connect with
#   host=$PGSQL_SOCKDIR port=$PGSQL_PORT dbname=$PGSQL_DB user=postgres
# or host=127.0.0.1 for TCP.  No fsync: a test cluster is thrown away.

PGSQL_USER=${PGSQL_USER:-postgres}
PGSQL_DIR=
PGSQL_PID=

pgsql_bindir() {
	local d best= v bestv=0
	if [ -n "${PGSQL_BINDIR:-}" ]; then
		echo "$PGSQL_BINDIR"
		return 0
	fi
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/postgres" ] || continue
		v=${d#/usr/lib/postgresql/}
		v=${v%/bin}
		case $v in *[!0-9]*) continue ;; esac
		if [ "$v" -gt "$bestv" ]; then
			bestv=$v
			best=$d
		fi
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

# run a command as the postgres system user (exec, no intermediate process)
pgsql_as_user() {
	setpriv --reuid="$PGSQL_USER" --regid="$PGSQL_USER" --init-groups \
		--reset-env -- "$@"
}

pgsql_psql() {
	local db=(-d "$PGSQL_DB") a
	for a in "$@"; do
		case $a in -d | --dbname=* | --dbname) db=() ;; esac
	done
	"$PGSQL_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGSQL_SOCKDIR" \
		-p "$PGSQL_PORT" -U postgres "${db[@]}" "$@"
}

pgsql_createdb() {
	pgsql_psql -d postgres -c "CREATE DATABASE \"$1\""
}

pgsql_log() {
	[ -n "$PGSQL_LOG" ] && [ -f "$PGSQL_LOG" ] || return 0
	if [ -n "${1:-}" ]; then
		tail -n "$1" "$PGSQL_LOG"
	else
		cat "$PGSQL_LOG"
	fi
}

pgsql_pids() {
	[ -n "$PGSQL_PID" ] && sb_pid_running "$PGSQL_PID" || return 0
	echo "$PGSQL_PID"
	ps -o pid= --ppid "$PGSQL_PID" 2>/dev/null | tr -d ' '
}

# _pgsql_spawn: start the postmaster on the existing cluster, wait for it
_pgsql_spawn() {
	local secs=${PGSQL_START_TIMEOUT:-60} i
	# stdio away from the TAP stream (the TAP driver waits for EOF)
	# setpriv execs the postmaster: $! is the postmaster itself
	setpriv --reuid="$PGSQL_USER" --regid="$PGSQL_USER" --init-groups \
		--reset-env -- "$PGSQL_BINDIR/postgres" -D "$PGSQL_DATA" \
		</dev/null >>"$PGSQL_LOG" 2>&1 &
	PGSQL_PID=$!
	export PGSQL_PID
	for ((i = 0; i < secs * 10; i++)); do
		if ! sb_pid_running "$PGSQL_PID"; then
			echo "pgsql_start: postgres exited during start-up" >&2
			pgsql_log 30 >&2
			return 1
		fi
		if "$PGSQL_BINDIR/psql" -X -q -At -h "$PGSQL_SOCKDIR" \
			-p "$PGSQL_PORT" -U postgres -d postgres \
			-c 'SELECT 1' 2>/dev/null | grep -qx 1; then
			return 0
		fi
		sleep 0.1
	done
	echo "pgsql_start: no answer on $PGSQL_SOCKDIR:$PGSQL_PORT after ${secs}s" >&2
	pgsql_log 30 >&2
	return 1
}

pgsql_start() {
	if [ -z "$SB" ] || [ ! -d "$SB" ]; then
		echo "pgsql.sh: call sb_init first" >&2
		return 1
	fi
	if sb_pid_running "$PGSQL_PID"; then
		echo "pgsql_start: already running (pid $PGSQL_PID)" >&2
		return 1
	fi
	PGSQL_BINDIR=$(pgsql_bindir) || {
		echo "pgsql_start: no /usr/lib/postgresql/*/bin/postgres (Debian package postgresql)" >&2
		return 1
	}
	PGSQL_VERSION=$("$PGSQL_BINDIR/postgres" --version | sed -n 's/.* \([0-9][0-9]*\)\..*/\1/p')
	PGSQL_DIR=$SB/pgsql
	PGSQL_DATA=$PGSQL_DIR/data
	PGSQL_SOCKDIR=$PGSQL_DIR/run
	PGSQL_LOG=$PGSQL_DIR/postgres.log
	: "${PGSQL_PORT:=$(sb_port)}"
	: "${PGSQL_DB:=mailwarren}"
	export PGSQL_BINDIR PGSQL_VERSION PGSQL_DIR PGSQL_DATA PGSQL_SOCKDIR \
		PGSQL_LOG PGSQL_PORT PGSQL_DB

	if [ ! -f "$PGSQL_DATA/PG_VERSION" ]; then
		mkdir -p "$PGSQL_DIR" "$PGSQL_SOCKDIR" || return 1
		chown "$PGSQL_USER:" "$PGSQL_DIR" "$PGSQL_SOCKDIR" || return 1
		# clients of any uid (Dovecot's auth, psql as root) reach the
		# socket; initdb makes the data directory itself 0700
		chmod 755 "$PGSQL_DIR" "$PGSQL_SOCKDIR"
		if ! pgsql_as_user "$PGSQL_BINDIR/initdb" -D "$PGSQL_DATA" \
			-U postgres -A trust -E UTF8 --no-locale --no-sync \
			>"$PGSQL_DIR/initdb.log" 2>&1; then
			echo "pgsql_start: initdb failed" >&2
			cat "$PGSQL_DIR/initdb.log" >&2
			return 1
		fi
		{
			cat <<EOF
# generated by tests/lib/pgsql.sh - private test instance, loopback only
listen_addresses = '127.0.0.1'
port = $PGSQL_PORT
unix_socket_directories = '$PGSQL_SOCKDIR'
unix_socket_permissions = 0777
max_connections = 40
shared_buffers = 16MB
# (mmap: its segments live in the data directory, so a server killed on
# purpose leaves nothing in /dev/shm)
dynamic_shared_memory_type = mmap
# throw-away data: no durability
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_destination = 'stderr'
log_min_messages = warning
log_connections = off
EOF
			if [ -n "${PGSQL_EXTRA_CONF:-}" ]; then
				echo "# PGSQL_EXTRA_CONF"
				printf '%s\n' "$PGSQL_EXTRA_CONF"
			fi
		} >>"$PGSQL_DATA/postgresql.conf"
		: >"$PGSQL_LOG" && chown "$PGSQL_USER:" "$PGSQL_LOG"
		_pgsql_spawn || return 1
		sb_at_exit pgsql_stop
		if [ "$PGSQL_DB" != postgres ]; then
			pgsql_createdb "$PGSQL_DB" || return 1
		fi
		return 0
	fi
	# restart after pgsql_stop/pgsql_kill: same data, port and socket
	_pgsql_spawn
}

_pgsql_reap() {
	local pids=$1 p i
	for ((i = 0; i < ${PGSQL_STOP_TIMEOUT:-20} * 10; i++)); do
		local alive=0
		for p in $pids; do
			sb_pid_running "$p" && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in $pids; do
		sb_pid_running "$p" && kill -KILL "$p" 2>/dev/null
	done
	wait "$PGSQL_PID" 2>/dev/null
}

# _pgsql_signal SIG: SIG to the postmaster (INT: fast shutdown) or to every
# process of the server (KILL: a crash), then wait; whatever is left after
# PGSQL_STOP_TIMEOUT gets SIGKILL
_pgsql_signal() {
	local pids p
	[ -n "$PGSQL_PID" ] || return 0
	pids=$(pgsql_pids)
	for p in $pids; do
		# a stopped (SIGSTOP) server cannot shut down: wake it first
		kill -CONT "$p" 2>/dev/null
		[ "$1" = KILL ] && kill -KILL "$p" 2>/dev/null
	done
	[ "$1" = KILL ] || kill "-$1" "$PGSQL_PID" 2>/dev/null
	_pgsql_reap "$pids"
	PGSQL_PID=
	return 0
}

pgsql_stop() {
	_pgsql_signal INT
}

# a crashed postmaster leaves its pid file; the next start removes the
# stale one itself (the pid is gone)
pgsql_kill() {
	_pgsql_signal KILL
}
