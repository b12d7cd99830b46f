# dovecot.sh - a real, private Dovecot 2.3 or 2.4 instance for integration
# tests (sourced, bash; needs tests/lib/sandbox.sh sourced and sb_init
# called). The configuration is generated in the syntax of the Dovecot
# under test: DC_VERSION (exported) is its major.minor, "2.3" or "2.4",
# and DC_V24=1 on 2.4; tests stay version-neutral with DC_PLUGIN_SETTINGS,
# DC_DELIVERY_PLUGINS, DC_IMPORT_ENV, dovecot_userdb_mail and the command
# wrappers below.
#
# dovecot_add_user NAME PASSWORD [FIELD...]
#                      add a passwd-file user; FIELDs go to the 8th column
#                      verbatim (userdb fields need the userdb_ prefix, e.g.
#                      userdb_mailshard_volume=vol2). Works before and after
#                      dovecot_start (Dovecot re-reads the file when it changes).
# dovecot_start        generate $DC_CONF, start Dovecot, wait for IMAP, POP3,
#                      LMTP and the auth-userdb socket; registers dovecot_stop
#                      with sb_at_exit. Call it in the test's own shell (not in
#                      $(...)): the master is a child of that shell.
# dovecot_stop         doveadm -c $DC_CONF stop, then reap the master
# dovecot_log [N]      print the instance log (last N lines if given)
# dovecot_overlay SUBDIR SO...  make SO... appear in Dovecot's fixed module
#                      directory /usr/lib/dovecot/modules/SUBDIR (beside the
#                      installed ones) for this instance only: every command
#                      of the instance (dovecot_start, dc_run) then runs in
#                      a private mount namespace with a directory of links
#                      bound over it. SUBDIR "settings" (2.4: the config
#                      process's settings modules) or "doveadm" (doveadm
#                      plugins). A missing file skips the whole test.
# dovecot_mailwarren_settings  on 2.4, dovecot_overlay settings with the
#                      build's libmailwarren_settings.so (no-op on 2.3)
# dc_run CMD ARG...    run a Dovecot command as the instance sees the
#                      module directories (the overlays above)
#   DC_PRIVATE_NS=1    the test runs in its own private mount namespace
#                      (unshare -m): overlays are bound there at once and
#                      dc_run runs commands as they are, so that Dovecot
#                      sees the test's own later mounts too
# dovecot_doveadm ARG...  dc_run doveadm -c $DC_CONF ARG...
# dovecot_lda ARG...   dc_run dovecot-lda -c $DC_CONF ARG...
# dovecot_userdb_mail DIR  the passwd-file fields giving a user an explicit
#                      mail location maildir:DIR/Maildir and home DIR
#                      (2.3 userdb_mail/userdb_home, 2.4
#                      userdb_mail_driver/userdb_mail_path/userdb_home)
# dovecot_modules SO...  link plugin files (a build tree's .libs/*.so, or
#                      installed ones) into the one directory $DC_MODULES
#                      (=$SB/modules) for DC_MAIL_PLUGIN_DIR, which it sets;
#                      a missing file skips the whole test. After sb_init.
# dovecot_client ARGS  tests/lib/mailclient.py: LMTP, IMAP, POP3 clients
# dovecot_director_conf ADDR PORT MAILSERVERS
#                      print the DC_EXTRA_CONF text (2.3 only: 2.4 has no
#                      director) that makes the current instance a director
#                      ring of one on ADDR:PORT over the backends
#                      MAILSERVERS (space-separated addresses): IMAP, POP3
#                      and LMTP (lmtp_proxy) logins go through it, users
#                      hashed by %Ln as IMAP LOGIN and LMTP RCPT give them
# dovecot_expect_boxes DESC USER PASSWORD "BOX n BOX m ..."  one TAP line:
#                      ok when IMAP shows exactly these message counts
#                      ("-" for a mailbox that does not exist)
# dovecot_use NAME     switch every helper and DC_* variable to instance NAME,
#                      so one test can run several Dovecots (e.g. backends
#                      behind a director). Each has its own $SB/NAME dir,
#                      config, users, log, ports and master; the settings
#                      below are per instance too (set them after the switch).
#                      The instance before any switch is "dovecot".
#
# Set before dovecot_start to adapt the instance (all optional):
#   DC_IMAP_PORT DC_POP3_PORT DC_LMTP_PORT  default: free ports from sb_port
#   DC_LISTEN                 address of every listener (default 127.0.0.1;
#                             any other 127.x.y.z works without set-up)
#   DC_MAIL_UID DC_MAIL_GID   owner of all mail (default 5000:5000, which
#                             needs no /etc/passwd entry)
#   DC_MAIL_LOCATION          default maildir:$DC_DIR/mail/%n/Maildir;
#                             set to "" to leave mail_location unset. In
#                             2.3 syntax (DRIVER:PATH[:INDEX=DIR], %n for
#                             the user): on 2.4 it becomes mail_driver,
#                             mail_path and mail_index_path, %n
#                             %{user | username}
#   DC_MAIL_HOME              default $DC_DIR/mail/%n; "" leaves it unset
#   DC_MAIL_PLUGINS           global mail_plugins (space-separated names)
#   DC_DELIVERY_PLUGINS       more mail plugins for lmtp and lda only
#   DC_PLUGIN_SETTINGS        plugin settings, one "key = value" a line:
#                             inside plugin { } on 2.3, top level on 2.4
#                             (where the plugin must declare them)
#   DC_IMPORT_ENV             space-separated NAME=VALUE for
#                             import_environment
#   DC_MAIL_PLUGIN_DIR        mail_plugin_dir (e.g. a build tree's .libs)
#   DC_AUTH_CONF              raw passdb/userdb blocks replacing the
#                             passwd-file ones (e.g. a proxy's static
#                             passdb), in the syntax of $DC_VERSION
#   DC_EXTRA_CONF             raw text appended to dovecot.conf (plain
#                             settings there override the ones above), in
#                             the syntax of $DC_VERSION
#   DC_AUTH_PENALTY=1         keep Dovecot's per-IP auth penalty (disabled
#                             by default: it delays logins after a failure)
#   DC_START_TIMEOUT          seconds to wait for readiness (default 30)
# Set by the helpers: DC_DIR (=$SB/NAME), DC_CONF, DC_USERS, DC_LOG, DC_PID.
#
# Users are found as NAME or NAME@domain (auth_username_format = %Ln, on
# 2.4 %{user | lower | username}).

DC_DOVECOT=${DC_DOVECOT:-/usr/sbin/dovecot}
DC_DOVEADM=${DC_DOVEADM:-doveadm}
DC_DOVECONF=${DC_DOVECONF:-doveconf}
DC_LDA=${DC_LDA:-/usr/lib/dovecot/dovecot-lda}

# The version under test: "2.3.19.1 (9b53102964)", "2.4.1-4 (7d8c0e5759)"
DC_FULL_VERSION=$("$DC_DOVECOT" --version 2>/dev/null | awk '{print $1}')
DC_FULL_VERSION=${DC_FULL_VERSION%%-*}
DC_VERSION=$(echo "$DC_FULL_VERSION" | cut -d. -f1-2)
DC_V24=
case $DC_VERSION in
2.3) ;;
2.4) DC_V24=1 ;;
*) echo "dovecot.sh: unsupported Dovecot version '$DC_FULL_VERSION'" >&2 ;;
esac
export DC_VERSION DC_FULL_VERSION DC_V24
DC_MODULE_ROOT=/usr/lib/dovecot/modules

DC_DIR=
DC_PID=
DC_NAME=dovecot
# every variable that belongs to one instance (dovecot_use swaps them)
_DC_VARS="DC_DIR DC_PID DC_CONF DC_USERS DC_LOG DC_IMAP_PORT DC_POP3_PORT
DC_LMTP_PORT DC_LISTEN DC_MAIL_UID DC_MAIL_GID DC_MAIL_LOCATION DC_MAIL_HOME
DC_MAIL_PLUGINS DC_MAIL_PLUGIN_DIR DC_AUTH_CONF DC_EXTRA_CONF DC_AUTH_PENALTY
DC_START_TIMEOUT DC_DELIVERY_PLUGINS DC_PLUGIN_SETTINGS DC_IMPORT_ENV"
declare -gA _DC_SAVED=()

dovecot_use() {
	local name=$1 v
	case $name in '' | */* | .*) echo "dovecot_use: bad name '$name'" >&2; return 2 ;; esac
	[ "$name" = "$DC_NAME" ] && return 0
	# save only the set ones: unset stays unset (DC_MAIL_LOCATION= and an
	# unset one mean different things)
	_DC_SAVED[$DC_NAME]=
	for v in $_DC_VARS; do
		[ -n "${!v+set}" ] &&
			_DC_SAVED[$DC_NAME]+=$(printf 'declare -gx %s=%q;' "$v" "${!v}")
		unset "$v"
	done
	DC_NAME=$name
	[ -n "${_DC_SAVED[$name]:-}" ] && eval "${_DC_SAVED[$name]}"
	return 0
}

dovecot_modules() {
	local so
	for so in "$@"; do
		[ -f "$so" ] || skip_all "plugin not built or installed ($so)"
	done
	DC_MODULES=$SB/modules
	mkdir -p "$DC_MODULES" || return 1
	for so in "$@"; do
		ln -sf "$(cd "$(dirname "$so")" && pwd)/$(basename "$so")" "$DC_MODULES/" || return 1
	done
	DC_MAIL_PLUGIN_DIR=$DC_MODULES
}

# module overlays: SUBDIR -> directory of links bound over it (shared by
# every instance of the test)
declare -gA DC_OVERLAYS=() _DC_BOUND=()
dovecot_overlay() {
	local sub=$1 so dir f sodir
	shift || return 2
	case $sub in '' | */* | .*) echo "dovecot_overlay: bad subdir '$sub'" >&2; return 2 ;; esac
	for so in "$@"; do
		[ -f "$so" ] || skip_all "module not built or installed ($so)"
	done
	command -v unshare >/dev/null || skip_all "unshare (util-linux) not installed"
	dir=$SB/overlay-$sub
	if [ -z "${DC_OVERLAYS[$sub]:-}" ]; then
		mkdir -p "$dir" || return 1
		# the installed modules stay visible (Pigeonhole's settings, ...):
		# copies, as links into the directory would point into the overlay
		for f in "$DC_MODULE_ROOT/$sub"/*; do
			[ -f "$f" ] && { cp -p "$f" "$dir/" || return 1; }
		done
		DC_OVERLAYS[$sub]=$dir
	fi
	for so in "$@"; do
		sodir=$(cd "$(dirname "$so")" && pwd -P)
		# an installed module (MW_MODULEDIR) is among the copies already;
		# a link to it would point into the overlay itself
		[ "$sodir" = "$(cd "$DC_MODULE_ROOT/$sub" 2>/dev/null && pwd -P)" ] && continue
		# replace an installed file of the same name
		rm -f "$dir/$(basename "$so")"
		ln -sfn "$sodir/$(basename "$so")" "$dir/" || return 1
	done
	# a test in its own private mount namespace binds it right here, so
	# that Dovecot also sees the test's later mounts
	if [ -n "${DC_PRIVATE_NS:-}" ] && [ -z "${_DC_BOUND[$sub]:-}" ]; then
		mount --bind "$dir" "$DC_MODULE_ROOT/$sub" || return 1
		_DC_BOUND[$sub]=1
	fi
}

# _dc_unshare_opts: how unshare keeps the binds private. It makes every
# mount of the new namespace private by default, which fails in a chroot
# whose root is no mount point (Debian 13 test chroot): there, when no
# mount holding $DC_MODULE_ROOT is shared (so the binds, made below it,
# cannot propagate back), it keeps the propagation unchanged; otherwise it
# refuses. A shared mount elsewhere (e.g. /run/netns after "ip netns add")
# does not matter.
_DC_UNSHARE_OPTS=unset
_dc_module_root_shared() {
	# the mounts whose mount point is $DC_MODULE_ROOT or above it; any shared?
	awk -v p="$DC_MODULE_ROOT/" '{
		mp = ($5 == "/") ? "/" : $5 "/"
		if (index(p, mp) != 1) next
		for (i = 7; $i != "-"; i++) if ($i ~ /^shared:/) found = 1
	} END { exit found ? 0 : 1 }' /proc/self/mountinfo
}
_dc_unshare_opts() {
	[ "$_DC_UNSHARE_OPTS" = unset ] || return 0
	if unshare -m true 2>/dev/null; then
		_DC_UNSHARE_OPTS=
	elif ! _dc_module_root_shared; then
		_DC_UNSHARE_OPTS="--propagation unchanged"
	else
		echo "dovecot.sh: unshare -m cannot make the mounts private here" >&2
		return 1
	fi
}

# _dc_ns_prefix: _DC_NS, the command words that run a command in the
# overlays' mount namespace (none without overlays). A simple command
# "${_DC_NS[@]}" CMD keeps CMD's pid ($! of the master): unshare -m execs
# the shell in a private mount namespace, the shell binds each overlay and
# execs the command.
_DC_NS=()
_dc_ns_prefix() {
	local sub binds=()
	_DC_NS=()
	for sub in "${!DC_OVERLAYS[@]}"; do
		binds+=("${DC_OVERLAYS[$sub]}" "$DC_MODULE_ROOT/$sub")
	done
	if [ ${#binds[@]} = 0 ] || [ -n "${DC_PRIVATE_NS:-}" ]; then
		return 0
	fi
	_dc_unshare_opts || return 1
	# shellcheck disable=SC2086  # the options are words
	_DC_NS=(unshare -m $_DC_UNSHARE_OPTS sh -c '
		while [ "$1" != -- ]; do
			mount --bind "$1" "$2" || exit 71
			shift 2
		done
		shift
		exec "$@"' sh "${binds[@]}" --)
}

dc_run() {
	_dc_ns_prefix || return 1
	"${_DC_NS[@]}" "$@"
}

# dovecot_mailwarren_settings: on 2.4, the build's (or the installed)
# settings module, so that doveconf and Dovecot know mailshard_* and
# spam_prefs_*; nothing to do on 2.3 (plugin { } takes any name)
dovecot_mailwarren_settings() {
	[ -n "$DC_V24" ] || return 0
	dovecot_overlay settings "$(mw_module plugins/common libmailwarren_settings.so settings)"
}

dovecot_director_conf() {
	cat <<EOF
director_servers = $1:$2
director_mail_servers = $3
# LMTP RCPT user@domain and IMAP LOGIN user must hash alike
director_username_hash = %Ln
lmtp_proxy = yes
service director {
  unix_listener login/director {
    mode = 0666
  }
  fifo_listener login/proxy-notify {
    mode = 0666
  }
  unix_listener director-userdb {
    mode = 0600
  }
  inet_listener {
    address = $1
    port = $2
  }
}
service imap-login {
  executable = imap-login director
}
service pop3-login {
  executable = pop3-login director
}
protocol lmtp {
  auth_socket_path = director-userdb
}
EOF
}

dovecot_doveadm() {
	dc_run "$DC_DOVEADM" -c "$DC_CONF" "$@"
}

dovecot_lda() {
	dc_run "$DC_LDA" -c "$DC_CONF" "$@"
}

dovecot_userdb_mail() {
	if [ -n "$DC_V24" ]; then
		echo "userdb_mail_driver=maildir userdb_mail_path=$1/Maildir userdb_home=$1"
	else
		echo "userdb_mail=maildir:$1/Maildir userdb_home=$1"
	fi
}

# Debian's python3 unless MW_PYTHON says otherwise (a PATH shim is slow)
[ -x /usr/bin/python3 ] && : "${MW_PYTHON:=/usr/bin/python3}"
dovecot_client() {
	"${MW_PYTHON:-python3}" "$MW_TESTLIB/mailclient.py" "$@"
}

# _dc_stop_instance NAME: dovecot_stop for NAME (registered at exit)
_dc_stop_instance() {
	dovecot_use "$1" && dovecot_stop
}

# _dc_init: create $SB/$DC_NAME and pick the ports, once per sandbox.
_dc_init() {
	[ -n "$DC_DIR" ] && return 0
	if [ -z "$SB" ] || [ ! -d "$SB" ]; then
		echo "dovecot.sh: call sb_init first" >&2
		return 1
	fi
	DC_DIR=$SB/$DC_NAME
	DC_CONF=$DC_DIR/dovecot.conf
	DC_USERS=$DC_DIR/users
	DC_LOG=$DC_DIR/log/dovecot.log
	: "${DC_MAIL_UID:=5000}" "${DC_MAIL_GID:=5000}" "${DC_LISTEN:=127.0.0.1}"
	: "${DC_IMAP_PORT:=$(sb_port)}"
	: "${DC_POP3_PORT:=$(sb_port)}"
	: "${DC_LMTP_PORT:=$(sb_port)}"
	# sb_port draws at random; make sure the three ports differ
	while [ "$DC_POP3_PORT" = "$DC_IMAP_PORT" ]; do DC_POP3_PORT=$(sb_port); done
	while [ "$DC_LMTP_PORT" = "$DC_IMAP_PORT" ] || [ "$DC_LMTP_PORT" = "$DC_POP3_PORT" ]; do
		DC_LMTP_PORT=$(sb_port)
	done
	export DC_DIR DC_CONF DC_USERS DC_LOG DC_IMAP_PORT DC_POP3_PORT DC_LMTP_PORT DC_LISTEN

	mkdir -p "$DC_DIR/run" "$DC_DIR/state" "$DC_DIR/log" "$DC_DIR/mail" || return 1
	# the master (root) and the dovecot/dovenull users must traverse it
	chmod 755 "$DC_DIR"
	# mail processes run as the mail uid and create the users' dirs here
	chown "$DC_MAIL_UID:$DC_MAIL_GID" "$DC_DIR/mail" && chmod 750 "$DC_DIR/mail"
	: >"$DC_USERS" && chmod 644 "$DC_USERS"
}

dovecot_add_user() {
	local name=$1 pass=$2 f
	shift 2 || { echo "usage: dovecot_add_user NAME PASSWORD [FIELD...]" >&2; return 2; }
	# passwd-file is ':'-separated and the extra fields ' '-separated:
	# refuse anything that would split or add a line.
	case $name in '' | *[:[:space:]@]*) echo "dovecot_add_user: bad name '$name'" >&2; return 2 ;; esac
	case $pass in *[:$'\n\r']*) echo "dovecot_add_user: password may not contain ':' or newline" >&2; return 2 ;; esac
	for f in "$@"; do
		case $f in *[:[:space:]]* | '') echo "dovecot_add_user: bad field '$f'" >&2; return 2 ;; esac
	done
	_dc_init || return 1
	# user:password:uid:gid:gecos:home:shell:extra (home empty: mail_home applies)
	printf '%s:{PLAIN}%s:%s:%s::::%s\n' "$name" "$pass" \
		"$DC_MAIL_UID" "$DC_MAIL_GID" "$*" >>"$DC_USERS"
}

# _dc_24_vars TEXT: the 2.3 one-letter variables the helpers use, in 2.4
# syntax
_dc_24_vars() {
	local t=$1
	t=${t//%Ln/%\{user | lower | username\}}
	t=${t//%n/%\{user | username\}}
	t=${t//%u/%\{user\}}
	t=${t//%d/%\{user | domain\}}
	printf '%s' "$t"
}

# _dc_location LOCATION: mail_location, or on 2.4 mail_driver/mail_path
# (and mail_index_path for :INDEX=)
_dc_location() {
	local loc=$1 driver path rest idx=
	if [ -z "$DC_V24" ]; then
		echo "mail_location = $loc"
		return
	fi
	loc=$(_dc_24_vars "$loc")
	driver=${loc%%:*}
	rest=${loc#*:}
	path=${rest%%:*}
	case $rest in *:INDEX=*) idx=${rest#*:INDEX=}; idx=${idx%%:*} ;; esac
	echo "mail_driver = $driver"
	echo "mail_path = $path"
	[ -n "$idx" ] && echo "mail_index_path = $idx"
	return 0
}

# _dc_plugins INDENT NAMES: a mail_plugins line (2.3) or block (2.4);
# inside a protocol { } the 2.3 line appends to the global list, as the
# 2.4 block does
_dc_plugins() {
	local indent=$1 names=$2 n
	if [ -z "$DC_V24" ]; then
		echo "${indent}mail_plugins = \$mail_plugins $names"
		return
	fi
	echo "${indent}mail_plugins {"
	for n in $names; do
		echo "${indent}  $n = yes"
	done
	echo "${indent}}"
}

# _dc_write_conf: generate $DC_CONF from the DC_* variables.
_dc_write_conf() {
	local loc=${DC_MAIL_LOCATION-maildir:$DC_DIR/mail/%n/Maildir}
	local home=${DC_MAIL_HOME-$DC_DIR/mail/%n}
	local iname=${SB##*/} auth p kv addr=address
	# 2.4: a listener's address is the listen setting inside its filter
	[ -n "$DC_V24" ] && addr=listen
	[ "$DC_NAME" = dovecot ] || iname=$iname-$DC_NAME
	if [ -n "$DC_V24" ]; then
		auth=${DC_AUTH_CONF:-"passdb passwd-file {
  passwd_file_path = $DC_USERS
}
userdb passwd-file {
  passwd_file_path = $DC_USERS
}"}
	else
		auth=${DC_AUTH_CONF:-"passdb {
  driver = passwd-file
  args = scheme=PLAIN $DC_USERS
}
userdb {
  driver = passwd-file
  args = $DC_USERS
}"}
	fi
	{
		if [ -n "$DC_V24" ]; then
			# 2.4 wants these first
			echo "dovecot_config_version = $DC_FULL_VERSION"
			echo "dovecot_storage_version = $DC_FULL_VERSION"
		fi
		cat <<EOF
# generated by tests/lib/dovecot.sh - private test instance, loopback only
# (Dovecot $DC_FULL_VERSION)
instance_name = $iname
base_dir = $DC_DIR/run
state_dir = $DC_DIR/state
log_path = $DC_LOG
info_log_path = $DC_LOG
debug_log_path = $DC_LOG
listen = $DC_LISTEN
protocols = imap pop3 lmtp
ssl = no
auth_mechanisms = plain login
shutdown_clients = yes
# tests fail logins on purpose: no 2 s delay before the failure reply
auth_failure_delay = 0
# allow a DC_MAIL_UID/GID below Dovecot's default of 500 (system users)
first_valid_uid = 1
first_valid_gid = 1
EOF
		if [ -n "$DC_V24" ]; then
			echo "auth_allow_cleartext = yes"
			echo "auth_username_format = %{user | lower | username}"
		else
			echo "disable_plaintext_auth = no"
			echo "auth_username_format = %Ln"
		fi
		cat <<EOF

$auth

namespace inbox {
  inbox = yes
  separator = /
}

service imap-login {
  inet_listener imap {
    $addr = $DC_LISTEN
    port = $DC_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    $addr = $DC_LISTEN
    port = $DC_POP3_PORT
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    $addr = $DC_LISTEN
    port = $DC_LMTP_PORT
  }
}
# built-in service that would otherwise claim a standard port
service submission-login {
  inet_listener submission {
    port = 0
  }
}
EOF
		# managesieve-login is defined by Pigeonhole's settings module
		# (shipped in Debian's dovecot-core); without it the section is unknown
		if compgen -G "$DC_MODULE_ROOT/settings/*pigeonhole*" >/dev/null ||
			compgen -G "$DC_MODULE_ROOT/settings/*managesieve*" >/dev/null; then
			printf '%s\n' 'service managesieve-login {' '  inet_listener sieve {' \
				'    port = 0' '  }' '}'
		fi
		# Each failed login raises a per-IP penalty in anvil that delays every
		# later login from 127.0.0.1 by 4, 8, 15 s. login_trusted_networks does
		# not exempt it in 2.3, and passdb nodelay only covers successful
		# lookups. Moving the listener makes auth's connect fail with ENOENT,
		# which disables the penalty silently. DC_AUTH_PENALTY=1 keeps it.
		if [ "${DC_AUTH_PENALTY:-0}" != 1 ]; then
			printf '%s\n' 'service anvil {' '  unix_listener anvil-auth-penalty {' \
				'    path = anvil-auth-penalty.off' '  }' '}'
		fi
		[ -n "$loc" ] && _dc_location "$loc"
		if [ -n "$home" ]; then
			[ -n "$DC_V24" ] && home=$(_dc_24_vars "$home")
			echo "mail_home = $home"
		fi
		[ -n "${DC_MAIL_PLUGIN_DIR:-}" ] && echo "mail_plugin_dir = $DC_MAIL_PLUGIN_DIR"
		[ -n "${DC_MAIL_PLUGINS:-}" ] && _dc_plugins "" "$DC_MAIL_PLUGINS"
		if [ -n "${DC_DELIVERY_PLUGINS:-}" ]; then
			for p in lmtp lda; do
				echo "protocol $p {"
				_dc_plugins "  " "$DC_DELIVERY_PLUGINS"
				echo "}"
			done
		fi
		if [ -n "${DC_IMPORT_ENV:-}" ]; then
			if [ -n "$DC_V24" ]; then
				echo "import_environment {"
				for kv in $DC_IMPORT_ENV; do
					echo "  ${kv%%=*} = ${kv#*=}"
				done
				echo "}"
			else
				echo "import_environment = \$import_environment $DC_IMPORT_ENV"
			fi
		fi
		if [ -n "${DC_PLUGIN_SETTINGS:-}" ]; then
			echo "# DC_PLUGIN_SETTINGS"
			if [ -n "$DC_V24" ]; then
				printf '%s\n' "$DC_PLUGIN_SETTINGS"
			else
				echo "plugin {"
				printf '%s\n' "$DC_PLUGIN_SETTINGS" | sed 's/^/  /'
				echo "}"
			fi
		fi
		if [ -n "${DC_EXTRA_CONF:-}" ]; then
			echo "# DC_EXTRA_CONF"
			printf '%s\n' "$DC_EXTRA_CONF"
		fi
	} >"$DC_CONF"
}

# _dc_alive: the master is still running
_dc_alive() {
	sb_pid_running "$DC_PID"
}

dovecot_start() {
	local secs=${DC_START_TIMEOUT:-30} i p
	_dc_init || return 1
	if _dc_alive; then
		echo "dovecot_start: already running (pid $DC_PID)" >&2
		return 1
	fi
	_dc_write_conf || return 1
	# doveconf parses the whole config: errors surface here, readably
	if ! dc_run "$DC_DOVECONF" -c "$DC_CONF" -n >"$DC_DIR/doveconf-n.txt" 2>"$DC_DIR/doveconf.err"; then
		echo "dovecot_start: config rejected:" >&2
		cat "$DC_DIR/doveconf.err" >&2
		return 1
	fi
	# -F: stay in the foreground as our child, so that dovecot_stop can
	# reap it; stdio away from the TAP stream (the driver waits for EOF).
	_dc_ns_prefix || return 1
	"${_DC_NS[@]}" "$DC_DOVECOT" -F -c "$DC_CONF" </dev/null >>"$DC_DIR/log/stdout.log" 2>&1 &
	DC_PID=$!
	export DC_PID
	sb_at_exit "_dc_stop_instance $DC_NAME"

	for p in "$DC_IMAP_PORT" "$DC_POP3_PORT" "$DC_LMTP_PORT"; do
		for ((i = 0; i < secs * 10; i++)); do
			_dc_alive || break
			(exec 3<>"/dev/tcp/$DC_LISTEN/$p") 2>/dev/null && break
			sleep 0.1
		done
		if ! _dc_alive || ((i >= secs * 10)); then
			echo "dovecot_start: not listening on $DC_LISTEN:$p" >&2
			dovecot_log 30 >&2
			return 1
		fi
	done
	# doveadm user and LMTP need the auth process; its socket comes last
	if ! sb_wait_file "$DC_DIR/run/auth-userdb" "$secs"; then
		echo "dovecot_start: no auth-userdb socket" >&2
		return 1
	fi
}

dovecot_stop() {
	local i kids k
	[ -n "$DC_PID" ] || return 0
	if _dc_alive; then
		# the master does not wait for its children (stats, anvil, ...)
		# when it exits: note them now and wait for them below
		kids=$(ps -o pid= --ppid "$DC_PID" 2>/dev/null)
		dovecot_doveadm stop >/dev/null 2>&1 || kill -TERM "$DC_PID" 2>/dev/null
		for ((i = 0; i < 150; i++)); do
			_dc_alive || break
			sleep 0.1
		done
		_dc_alive && kill -KILL "$DC_PID" 2>/dev/null
	fi
	wait "$DC_PID" 2>/dev/null
	for k in $kids; do
		# gone, or at worst a zombie that init reaps
		for ((i = 0; i < 50; i++)); do
			[ -e "/proc/$k" ] || break
			sleep 0.1
		done
		# still running: kill it, but only if the pid is still ours
		if sb_pid_running "$k" && grep -qF "${SB##*/}" "/proc/$k/cmdline" 2>/dev/null; then
			kill -KILL "$k" 2>/dev/null
		fi
	done
	DC_PID=
	return 0
}

dovecot_log() {
	[ -n "$DC_LOG" ] && [ -f "$DC_LOG" ] || return 0
	if [ -n "${1:-}" ]; then
		tail -n "$1" "$DC_LOG"
	else
		cat "$DC_LOG"
	fi
}

dovecot_expect_boxes() {
	local desc=$1 user=$2 pass=$3 want=$4 got
	# shellcheck disable=SC2046
	got=$(dovecot_client imap "$DC_IMAP_PORT" "$user" "$pass" \
		$(awk '{for (i = 1; i <= NF; i += 2) print $i}' <<<"$want") |
		grep -v '^SUBSCRIBED' | tr '\n' ' ')
	if [ "$got" = "$want " ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "want: $want" "got:  $got"
	fi
}
