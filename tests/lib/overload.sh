# overload.sh - connection storms against a daemon in a private network
# namespace (t-policy-overload.sh, t-milter-overload.sh): the namespace,
# the daemon started under a descriptor limit, tests/lib/flood.py, and
# reading its results.  Source after sandbox.sh and sb_init.
#
#   ov_init PREFIX PORT       namespace PREFIX-PID-RANDOM with lo up, deleted
#                             at exit; the daemon listens on 127.0.0.1:PORT in
#                             it (its own loopback: no one else there)
#   ov_start LOG SOFT:HARD READY CMD...
#                             CMD in the namespace under that descriptor
#                             limit, output to LOG (emptied first); waits
#                             until READY: "connect" (a TCP connection to
#                             PORT succeeds) or a regex of LOG; OV_PID.
#                             Returns 1 (LOG shown) if it died or never got
#                             ready
#   ov_flood PROTO ARGS...    flood.py --proto PROTO ARGS in the namespace;
#                             key=value lines on stdout
#   ov_val KEY                a value from the flood output in $OUT
#   ov_warnings LOG REGEX     how many "warning: ...REGEX" lines LOG has
#   ov_lower_limit N          lower the running daemon's descriptor limit to
#                             N:N as its own uid, nobody:nogroup (without
#                             CAP_SYS_RESOURCE, as in some containers, root
#                             may not change another uid's limits)

OV_PY=${MW_PYTHON:-/usr/bin/python3}
OV_NS=
OV_PORT=
OV_PID=

sb_need_root
sb_need_cmd ip iproute2
sb_need_cmd prlimit util-linux
sb_need_cmd nsenter util-linux
sb_need_cmd setpriv util-linux

ov_init() {
	OV_NS=$1-$$-$RANDOM OV_PORT=$2
	ip netns add "$OV_NS" || { echo "Bail out! ip netns add failed"; exit 1; }
	sb_at_exit "ip netns del $OV_NS"
	nsenter --net="/run/netns/$OV_NS" ip link set lo up
}

ov_start() {
	local log=$1 limit=$2 ready=$3 i
	shift 3
	: >"$log"
	nsenter --net="/run/netns/$OV_NS" prlimit --nofile="$limit" "$@" </dev/null >>"$log" 2>&1 &
	OV_PID=$!
	sb_at_exit "mw_kill_pid $OV_PID 10"
	for ((i = 0; i < 300; i++)); do
		if [ "$ready" = connect ]; then
			nsenter --net="/run/netns/$OV_NS" "$OV_PY" -c \
				"import socket; socket.create_connection(('127.0.0.1', $OV_PORT), 1).close()" \
				2>/dev/null && return 0
		else
			grep -Eq "$ready" "$log" && return 0
		fi
		sb_pid_running "$OV_PID" || break
		sleep 0.1
	done
	sed 's/^/# /' "$log"
	return 1
}

ov_flood() {
	local proto=$1
	shift
	nsenter --net="/run/netns/$OV_NS" prlimit --nofile=20000:20000 \
		"$OV_PY" "$MW_TESTLIB/flood.py" --proto "$proto" "$@" "127.0.0.1:$OV_PORT" 2>>"$SB/flood.err"
}

ov_val() {
	sed -n "s/^$1=//p" <<<"$OUT"
}

ov_warnings() {
	grep -c "warning: .*$2" "$1"
}

ov_lower_limit() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups prlimit --pid "$OV_PID" --nofile="$1:$1"
}
