#!/bin/bash
# dovecot-bench-instance.sh - one private Dovecot instance's files for
# bench/dovecot-bench.py, written by the test library's generator
# (tests/lib/dovecot.sh), so the bench runs the configuration the tests run,
# in the syntax of the Dovecot on this machine (2.3 or 2.4).
#
# usage: dovecot-bench-instance.sh MODE DIR BUILD USERS
#   MODE   stock: maildir under a userdb-independent mail_home (the
#          generator's default); plugin: the same plus mailshard (all
#          protocols) and spam_prefs (LMTP/LDA), three volumes (weights
#          1 2 1), no mail location or home (mailshard places users); on
#          Dovecot 2.4 the build's settings module libmailwarren_settings.so
#          in a module overlay (tests/lib/dovecot.sh dovecot_overlay)
#   DIR    empty directory for the instance (made if missing)
#   BUILD  the build tree holding plugins/*/.libs/*.so (plugin mode)
#   USERS  number of users user000 ... (password pw)
# Environment: BENCH_EXTRA_CONF, raw configuration appended in both modes
# (e.g. the callgrind services).
#
# Prints one JSON object: conf, imap and lmtp ports, mail root, users, and
# "ns": the command words that run a command as the instance sees the
# module directories (empty without overlays; on 2.4 plugin mode
# unshare -m ... as tests/lib/dovecot.sh's dc_run).
# The DC_* settings below are read by the library's generator:
# shellcheck disable=SC2034
set -eu
[ $# = 4 ] || { sed -n '7,22p' "$0" >&2; exit 2; }
MODE=$1 DIR=$2 BUILD=$3 NUSERS=$4
TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/lib/sandbox.sh
. "$TOP/tests/lib/sandbox.sh"
top_builddir=$BUILD
# shellcheck source=../tests/lib/dovecot.sh
. "$TOP/tests/lib/dovecot.sh"
[ -n "$DC_VERSION" ] && case $DC_VERSION in 2.3 | 2.4) ;; *) exit 1 ;; esac

mkdir -p "$DIR"
SB=$(cd "$DIR" && pwd)
chmod 755 "$SB"

need() {	# the library would skip_all (exit 0): fail instead
	[ -f "$1" ] || { echo "dovecot-bench-instance.sh: not built: $1" >&2; exit 1; }
}

# the same mail_plugin_dir line in both modes (an empty directory for stock)
mkdir -p "$SB/modules"
DC_MAIL_PLUGIN_DIR=$SB/modules
MAILROOT=$SB/dovecot/mail
case $MODE in
stock) ;;
plugin)
	for so in plugins/mailshard/lib20_mailshard_plugin.so plugins/spam-prefs/lib95_spam_prefs_plugin.so; do
		need "$(mw_module "$(dirname "$so")" "$(basename "$so")")"
		dovecot_modules "$(mw_module "$(dirname "$so")" "$(basename "$so")")"
	done
	if [ -n "$DC_V24" ]; then
		need "$(mw_module plugins/common libmailwarren_settings.so settings)"
		# In a chroot whose root is no mount point unshare -m cannot make
		# the mounts private; the library then keeps the propagation only
		# when no mount at all is shared. A shared mount elsewhere (e.g.
		# /run/netns after "ip netns add" in the chroot) cannot carry the
		# overlay's bind back: keep the propagation unchanged as long as no
		# shared mount lies on the way to the module directory.
		if ! unshare -m true 2>/dev/null; then
			on_way=$(awk -v d="$DC_MODULE_ROOT/settings" '/ shared:/ {
				if (d == $5 || index(d, $5 "/") == 1 || $5 == "/") print $5 }' /proc/self/mountinfo)
			[ -z "$on_way" ] && _DC_UNSHARE_OPTS="--propagation unchanged"
		fi
		dovecot_mailwarren_settings
	fi
	MAILROOT=$SB/srv
	for v in v1 v2 v3; do
		mkdir -p "$MAILROOT/$v"
		: >"$MAILROOT/$v/.mailshard-volume"
	done
	chown -R 5000:5000 "$MAILROOT"
	DC_MAIL_LOCATION=
	DC_MAIL_HOME=
	DC_MAIL_PLUGINS=mailshard
	DC_DELIVERY_PLUGINS=spam_prefs
	DC_PLUGIN_SETTINGS="mailshard_volumes = v1=$MAILROOT/v1 v2=$MAILROOT/v2:2 v3=$MAILROOT/v3"
	;;
*) echo "dovecot-bench-instance.sh: MODE is stock or plugin" >&2; exit 2 ;;
esac
DC_EXTRA_CONF=${BENCH_EXTRA_CONF:-}

for ((i = 0; i < NUSERS; i++)); do
	dovecot_add_user "$(printf 'user%03d' "$i")" pw
done
_dc_write_conf
# doveconf parses the whole configuration: errors surface here
if ! dc_run "$DC_DOVECONF" -c "$DC_CONF" -n >"$DC_DIR/doveconf-n.txt" 2>"$DC_DIR/doveconf.err"; then
	echo "dovecot-bench-instance.sh: configuration rejected:" >&2
	cat "$DC_DIR/doveconf.err" >&2
	exit 1
fi
_dc_ns_prefix
"$MW_PYTHON" - "$DC_CONF" "$DC_IMAP_PORT" "$DC_LMTP_PORT" "$MAILROOT" "$DC_USERS" \
	"$DC_FULL_VERSION" "$DC_LOG" "${_DC_NS[@]}" <<'PY'
import json, sys
conf, imap, lmtp, mailroot, users, version, log, *ns = sys.argv[1:]
print(json.dumps({"conf": conf, "imap": int(imap), "lmtp": int(lmtp), "mailroot": mailroot,
                  "users": [l.split(":", 1)[0] for l in open(users)], "version": version,
                  "log": log, "ns": ns}))
PY
