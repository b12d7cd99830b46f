# sandbox.sh - private temp dirs, free loopback ports, readiness waits and
# guaranteed cleanup for tests that run real daemons (sourced, bash).
#
# sb_init NAME         create $SB (a fresh private dir) and install the EXIT trap
# sb_at_exit CMD       run CMD (a string, eval'd) at exit, last registered first
# sb_port              print a free TCP port on 127.0.0.1 (>= 20000)
# sb_wait_port PORT [SECS]   wait until 127.0.0.1:PORT accepts connections
# sb_wait_file PATH [SECS]   wait until PATH exists
# sb_need_root         skip the whole test unless running as root
# sb_need_cmd CMD PKG  skip the whole test unless CMD exists (names the package)
# sb_pid_running PID   PID is a live process (a zombie counts as gone)
# mw_pid_alive PID / mw_kill_pid PID [SECS]   the same, and TERM-wait-KILL
#                      of one process (reaped if it is our child)
# sb_eventually SECS CMD...  retry CMD until it succeeds or SECS pass (for
#                      conditions that settle, e.g. processes exiting)
# mw_sbin DIR NAME     the daemon under test: $MW_SBINDIR/NAME when set (an
#                      installed package, e.g. MW_SBINDIR=/usr/sbin), else
#                      the build tree's DIR/NAME
# mw_module DIR NAME [SUBDIR]  the Dovecot plugin under test:
#                      $MW_MODULEDIR[/SUBDIR]/NAME when set (e.g.
#                      MW_MODULEDIR=/usr/lib/dovecot/modules), else the build
#                      tree's DIR/.libs/NAME
#
# Set MW_KEEP=1 to keep $SB after the test for inspection.  Every daemon
# helper (postfix.sh, dovecot.sh, ...) registers its own stop with
# sb_at_exit, so a failing or interrupted test never leaves a daemon behind.

MW_TOP_SRCDIR=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MW_TESTLIB=$MW_TOP_SRCDIR/tests/lib
. "$MW_TESTLIB/tap.sh"

SB=
SB_EXIT_CMDS=()

sb_cleanup() {
	local rc=$? i
	for ((i = ${#SB_EXIT_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${SB_EXIT_CMDS[$i]}" >/dev/null 2>&1 || true
	done
	if [ -n "$SB" ] && [ -d "$SB" ]; then
		if [ "${MW_KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
			echo "# sandbox kept in $SB" >&2
		else
			rm -rf "$SB"
		fi
	fi
	return $rc
}

mw_sbin() {
	if [ -n "${MW_SBINDIR:-}" ]; then
		echo "$MW_SBINDIR/$2"
	else
		echo "${top_builddir:-$MW_TOP_SRCDIR}/$1/$2"
	fi
}

mw_module() {
	if [ -n "${MW_MODULEDIR:-}" ]; then
		echo "$MW_MODULEDIR${3:+/$3}/$2"
	else
		echo "${top_builddir:-$MW_TOP_SRCDIR}/$1/.libs/$2"
	fi
}

sb_init() {
	local base=${MW_TMPDIR:-${TMPDIR:-/tmp}}
	SB=$(mktemp -d "$base/mw-$1.XXXXXX") || { echo "Bail out! mktemp failed"; exit 1; }
	# daemons that drop privileges must be able to reach their files
	chmod 755 "$SB"
	trap sb_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}

sb_at_exit() {
	SB_EXIT_CMDS+=("$1")
}

sb_need_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (real daemons drop privileges)"
}

sb_need_cmd() {
	command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || skip_all "$1 not installed (Debian package $2)"
}

sb_port() {
	"${MW_PYTHON:-/usr/bin/python3}" - <<'PY'
import random, socket
# below the kernel's ephemeral range (client sockets take their local
# ports from it, so a port free now may be some connection's a moment
# later: "Address already in use" when the daemon binds it)
lo = 20000
hi = 60999
try:
    eph = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    if eph > lo + 4000:
        hi = eph - 1
except (OSError, ValueError, IndexError):
    pass
for _ in range(200):
    p = random.randint(lo, hi)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
PY
}

sb_wait_port() {
	local port=$1 secs=${2:-30} i
	for ((i = 0; i < secs * 10; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

sb_pid_running() {
	[ -n "$1" ] && [ -e "/proc/$1" ] && ! grep -q '^[^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# mw_pid_alive PID: true while PID exists and is not a zombie.
mw_pid_alive() {
	sb_pid_running "$1"
}

# mw_kill_pid PID [SECS]: SIGTERM, wait up to SECS (default 10) for the
# process to go away, then SIGKILL.  Reaps it quietly if it is our child.
mw_kill_pid() {
	local pid=$1 secs=${2:-10} i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		mw_pid_alive "$pid" || break
		sleep 0.1
	done
	mw_pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

sb_eventually() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	"$@"
}

sb_wait_file() {
	local path=$1 secs=${2:-30} i
	for ((i = 0; i < secs * 10; i++)); do
		[ -e "$path" ] && return 0
		sleep 0.1
	done
	return 1
}
