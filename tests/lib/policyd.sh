# policyd.sh - run the tree's mailwarren-policyd in a sandbox (sourced, bash;
# needs tests/lib/sandbox.sh sourced and sb_init called).
#
# policyd_config TEMPLATE [EXTRA_LINE...]
#                  write $PD_CONF from TEMPLATE (@DIR@ = the template's
#                  directory, @SOCK@ = $PD_SOCK, @SB@ = $SB), then EXTRA_LINEs
# policyd_run ARGS run the binary with -c $PD_CONF and ARGS (e.g. -t)
# policyd_start    start it in the foreground (a child of this shell), wait
#                  for the socket; registers policyd_stop at exit
# policyd_stop     SIGTERM and wait
# policyd_reload   SIGHUP
#
# Variables: PD_BIN (default: mw_sbin policy mailwarren-policyd),
# PD_SOCK (default $SB/policyd.sock), PD_CONF, PD_LOG, PD_PID.

PD_BIN=${PD_BIN:-$(mw_sbin policy mailwarren-policyd)}
PD_PID=

policyd_config() {
	local template=$1 dir
	shift
	dir=$(cd "$(dirname "$template")" && pwd)
	: "${PD_SOCK:=$SB/policyd.sock}"
	PD_CONF=$SB/policyd.conf
	PD_LOG=$SB/policyd.log
	sed -e "s|@DIR@|$dir|g" -e "s|@SOCK@|$PD_SOCK|g" -e "s|@SB@|$SB|g" "$template" >"$PD_CONF"
	local line
	for line in "$@"; do
		printf '%s\n' "$line" >>"$PD_CONF"
	done
	# as root the daemon must be given a user (it refuses to stay root)
	if [ "$(id -u)" = 0 ] && ! grep -qi '^User ' "$PD_CONF"; then
		printf 'User nobody\nGroup nogroup\n' >>"$PD_CONF"
	fi
}

policyd_run() {
	"$PD_BIN" -c "$PD_CONF" "$@"
}

policyd_start() {
	[ -x "$PD_BIN" ] || { echo "# $PD_BIN not built"; return 1; }
	"$PD_BIN" -f -c "$PD_CONF" >>"$PD_LOG" 2>&1 &
	PD_PID=$!
	sb_at_exit "policyd_stop"
	local i
	for ((i = 0; i < 100; i++)); do
		if [ -S "$PD_SOCK" ] || { [ -z "${PD_PORT:-}" ] || sb_wait_port "$PD_PORT" 0; } && [ -S "$PD_SOCK" ]; then
			return 0
		fi
		if [ -n "${PD_PORT:-}" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PD_PORT") 2>/dev/null; then
			return 0
		fi
		kill -0 "$PD_PID" 2>/dev/null || { sed 's/^/# /' "$PD_LOG"; return 1; }
		sleep 0.05
	done
	return 1
}

policyd_stop() {
	[ -n "$PD_PID" ] || return 0
	kill -TERM "$PD_PID" 2>/dev/null
	wait "$PD_PID" 2>/dev/null
	PD_PID=
}

policyd_reload() {
	kill -HUP "$PD_PID"
}
