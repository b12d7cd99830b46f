# spamd.sh - a real, private SpamAssassin spamd for integration tests
# (sourced, bash; needs tests/lib/sandbox.sh sourced and sb_init called).
#
# spamd_start   start spamd on 127.0.0.1:$SPAMD_PORT, offline (-L, no DNS or
#               network tests) with Debian's shipped rules, children running
#               as $SPAMD_USER; wait until it answers PING with PONG (up to
#               $SPAMD_START_TIMEOUT s); registers spamd_stop with sb_at_exit.
#               Call it in the test's own shell (not in $(...)).
# spamd_stop    SIGTERM the master, reap it, wait for its children to go
# spamd_log [N] print the spamd log (last N lines if given)
# spamd_ping    one PING over SPAMC/1.5; 0 if spamd answered PONG
#
# Settings (optional, before spamd_start):
#   SPAMD_PORT            default: a free port from sb_port
#   SPAMD_USER            user for the children (default debian-spamd)
#   SPAMD_RULES_DIR       -C rules dir (default /usr/share/spamassassin: the
#                         rules Debian ships, so no sa-update is needed)
#   SPAMD_MAX_CHILDREN    default 2 (the test machines have 2 cores)
#   SPAMD_ARGS            bash array of extra spamd arguments, e.g.
#                         SPAMD_ARGS=(--cf 'required_score 3')
#   SPAMD_START_TIMEOUT   seconds, default 120 (rule compilation takes a while)
#   MW_PYTHON             python3 to run spamc.py (default /usr/bin/python3)
# Set by the helpers: SPAMD_DIR (=$SB/spamd), SPAMD_LOG, SPAMD_PID, SPAMC_PY.
#
# Per-sandbox state: the pidfile, the log and the helper home (-H, where
# SpamAssassin keeps its Bayes/.spamassassin files) all live in $SPAMD_DIR.
# -x disables per-user config files, so the host's users play no part.

SPAMD_BIN=${SPAMD_BIN:-/usr/sbin/spamd}
SPAMC_PY=$MW_TESTLIB/spamc.py
# Debian's python3 (the package the tests name); a python3 found first on
# PATH may be a version-manager shim that costs over a second per start
if [ -z "${MW_PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then MW_PYTHON=/usr/bin/python3; else MW_PYTHON=python3; fi
fi

SPAMD_DIR=
SPAMD_PID=

spamd_ping() {
	"$MW_PYTHON" "$SPAMC_PY" --port "$SPAMD_PORT" --timeout 5 PING >/dev/null 2>&1
}

spamd_start() {
	local secs=${SPAMD_START_TIMEOUT:-120} user=${SPAMD_USER:-debian-spamd}
	local max=${SPAMD_MAX_CHILDREN:-2} i
	if [ -z "$SB" ] || [ ! -d "$SB" ]; then
		echo "spamd.sh: call sb_init first" >&2
		return 1
	fi
	if sb_pid_running "$SPAMD_PID"; then
		echo "spamd_start: already running (pid $SPAMD_PID)" >&2
		return 1
	fi
	if ! id "$user" >/dev/null 2>&1; then
		echo "spamd_start: no user $user (Debian package spamassassin creates debian-spamd)" >&2
		return 1
	fi
	SPAMD_DIR=$SB/spamd
	SPAMD_LOG=$SPAMD_DIR/spamd.log
	: "${SPAMD_PORT:=$(sb_port)}"
	export SPAMD_DIR SPAMD_LOG SPAMD_PORT SPAMC_PY
	mkdir -p "$SPAMD_DIR/home" || return 1
	chmod 755 "$SPAMD_DIR"
	chown "$user:" "$SPAMD_DIR/home" || return 1

	# Foreground (no -d) as our child, so that spamd_stop can reap it;
	# stdio away from the TAP stream (the TAP driver waits for EOF).
	# The master stays root to bind and fork; children run as $user.
	"$SPAMD_BIN" -L -x -u "$user" \
		-i "127.0.0.1:$SPAMD_PORT" -A 127.0.0.1 \
		-m "$max" --min-children=1 --min-spare=1 --max-spare="$max" \
		-C "${SPAMD_RULES_DIR:-/usr/share/spamassassin}" \
		-H "$SPAMD_DIR/home" \
		-r "$SPAMD_DIR/spamd.pid" -s "$SPAMD_LOG" \
		${SPAMD_ARGS[@]+"${SPAMD_ARGS[@]}"} \
		</dev/null >>"$SPAMD_DIR/stdout.log" 2>&1 &
	SPAMD_PID=$!
	export SPAMD_PID
	sb_at_exit spamd_stop

	# ready = a real PING/PONG (the port opens before children can answer)
	for ((i = 0; i < secs * 4; i++)); do
		if ! sb_pid_running "$SPAMD_PID"; then
			echo "spamd_start: spamd exited during start-up" >&2
			cat "$SPAMD_DIR/stdout.log" >&2
			spamd_log 20 >&2
			return 1
		fi
		spamd_ping && return 0
		sleep 0.25
	done
	echo "spamd_start: no PONG on 127.0.0.1:$SPAMD_PORT after ${secs}s" >&2
	spamd_log 20 >&2
	return 1
}

spamd_stop() {
	local i kids k
	[ -n "$SPAMD_PID" ] || return 0
	if sb_pid_running "$SPAMD_PID"; then
		kids=$(ps -o pid= --ppid "$SPAMD_PID" 2>/dev/null)
		# SIGTERM: the master kills its children and removes the pidfile
		kill -TERM "$SPAMD_PID" 2>/dev/null
		for ((i = 0; i < 150; i++)); do
			sb_pid_running "$SPAMD_PID" || break
			sleep 0.1
		done
		sb_pid_running "$SPAMD_PID" && kill -KILL "$SPAMD_PID" 2>/dev/null
	fi
	wait "$SPAMD_PID" 2>/dev/null
	for k in $kids; do
		for ((i = 0; i < 50; i++)); do
			[ -e "/proc/$k" ] || break
			sleep 0.1
		done
		# still a running "spamd child" after 5 s: ours, kill it
		if sb_pid_running "$k" && grep -q '^spamd' "/proc/$k/cmdline" 2>/dev/null; then
			kill -KILL "$k" 2>/dev/null
		fi
	done
	SPAMD_PID=
	return 0
}

spamd_log() {
	[ -n "$SPAMD_LOG" ] && [ -f "$SPAMD_LOG" ] || return 0
	if [ -n "${1:-}" ]; then
		tail -n "$1" "$SPAMD_LOG"
	else
		cat "$SPAMD_LOG"
	fi
}
