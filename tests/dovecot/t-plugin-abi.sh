#!/bin/bash
# t-plugin-abi.sh - a mailwarren module built for another Dovecot is
# refused by Dovecot's ABI check with a clear error, never loaded and never
# a crash. Each module carries DOVECOT_ABI_VERSION of the Dovecot it was
# built for (2.3.ABIv19(2.3.19.1) on Debian 12, 2.4.ABIv1 on Debian 13);
# here copies of this build's modules get the other version's ABI string
# (written over the real one, padded with NULs) and are loaded into the
# Dovecot under test: the mail plugins by IMAP, LMTP and doveadm, the
# doveadm plugin by doveadm, and on 2.4 the settings module by doveconf.
# (A module really built against the other version's headers is refused
# even earlier, at dlopen(): it needs symbols this Dovecot has not, e.g.
# settings_get or mail_user_plugin_getenv; see the integrator's report.)

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/lib/dovecot/imap dovecot-imapd
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
sb_need_cmd python3 python3
MAILSHARD=$(mw_module plugins/mailshard lib20_mailshard_plugin.so)
SPAMPREFS=$(mw_module plugins/spam-prefs lib95_spam_prefs_plugin.so)
DOVEADMP=$(mw_module plugins/mailshard lib10_doveadm_mailshard_plugin.so doveadm)
. "$MW_TESTLIB/dovecot.sh"

sb_init plugin-abi

PY=${MW_PYTHON:-python3}
ours=$(sed -n 's/^#define DOVECOT_ABI_VERSION "\(.*\)"$/\1/p' /usr/include/dovecot/config.h)
if [ -n "$DC_V24" ]; then
	other=2.3.ABIv9	# no longer than ours ("2.4.ABIv1")
else
	other=2.4.ABIv1
fi
diag "Dovecot $DC_FULL_VERSION, ABI $ours; the copies claim $other"

# reabi SO -> a copy of SO in $SB/other/ with the other ABI string
mkdir -p "$SB/other" "$SB/other-doveadm" "$SB/other-settings"
reabi() {
	local out=$SB/${2:-other}/$(basename "$1")
	"$PY" - "$1" "$out" "$ours" "$other" <<'PY' || return 1
import sys
src, dst, ours, other = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode()
data = open(src, "rb").read()
n = data.count(ours + b"\0")
if n == 0 or len(other) > len(ours):
    sys.exit("%s: %d copies of the ABI string" % (src, n))
open(dst, "wb").write(data.replace(ours + b"\0", other.ljust(len(ours) + 1, b"\0")))
PY
	chmod 644 "$out"
}
for so in "$MAILSHARD" "$SPAMPREFS"; do
	[ -f "$so" ] || skip_all "plugin not built or installed ($so)"
	check "$(basename "$so"): a copy claiming ABI $other" reabi "$so"
done
check "$(basename "$DOVEADMP"): a copy claiming ABI $other" reabi "$DOVEADMP" other-doveadm
if [ -n "$DC_V24" ]; then
	SETTINGS=$(mw_module plugins/common libmailwarren_settings.so settings)
	check "$(basename "$SETTINGS"): a copy claiming ABI $other" reabi "$SETTINGS" other-settings
fi

mkdir -p "$SB/srv/v1" && touch "$SB/srv/v1/.mailshard-volume" && chown -R 5000:5000 "$SB/srv"
dovecot_modules "$SB/other/lib20_mailshard_plugin.so" "$SB/other/lib95_spam_prefs_plugin.so"
# the real settings module: doveconf must accept the configuration
dovecot_mailwarren_settings
DC_MAIL_LOCATION=
DC_MAIL_HOME=
DC_MAIL_PLUGINS=mailshard
DC_DELIVERY_PLUGINS=spam_prefs
DC_PLUGIN_SETTINGS="mailshard_volumes = v1=$SB/srv/v1"
dovecot_add_user juan pw

if ! dovecot_start; then
	not_ok "dovecot_start"
	echo "Bail out! private Dovecot did not start"
	exit 1
fi
ok "dovecot_start with the copies in mail_plugin_dir"

refused() {	# MODULE-FILE -> the log says Dovecot's ABI check refused it
	grep -qF "$1: Module is for different ABI version $other (we have $ours)" "$DC_LOG"
}
no_crash() {	# nothing was killed by a signal, no panic
	! grep -qE 'killed with signal|Panic:|core dumped' "$DC_LOG"
}

out=$(dovecot_client imap "$DC_IMAP_PORT" juan pw INBOX)
check "IMAP login: the session is refused" grep -q '^REFUSED' <<<"$out"
check "IMAP: the log says mailshard is for a different ABI" \
	refused "$DC_MODULES/lib20_mailshard_plugin.so"
code=$(printf 'Subject: x\n\nx\n' |
	dovecot_client lmtp "$DC_LMTP_PORT" a@example.net juan@example.test | awk '{print $2}')
# the lmtp process loads its plugins when it starts: it exits at once
check "LMTP: no 250 (${code:-the connection closed}), nothing stored" \
	eval '[[ "$code" != 250 ]] && [ -z "$(find "$SB/srv/v1" -type f ! -name .mailshard-volume)" ]'
check "LMTP: the lmtp process refuses to start, naming the module's ABI" \
	grep -qE "lmtp\([0-9]+\): Fatal: (Raw user initialization failed: )?Couldn't load required plugin .*/lib20_mailshard_plugin.so: Module is for different ABI version" "$DC_LOG"
out=$(dovecot_doveadm mailbox list -u juan 2>&1)
rc=$?
check "doveadm -u juan: exits with an error (not a signal: $rc)" test $rc -gt 0 -a $rc -lt 128
check "doveadm: Dovecot's ABI error names the module" \
	grep -qF "lib20_mailshard_plugin.so: Module is for different ABI version $other (we have $ours)" <<<"$out"
check "no process crashed (no signal, no panic)" no_crash
dovecot_stop

# the doveadm plugin, in doveadm's own module directory, beside the real
# mail plugin (whose mailshard_user_get_info it needs)
dovecot_overlay doveadm "$SB/other-doveadm/$(basename "$DOVEADMP")"
dovecot_modules "$MAILSHARD"
out=$(dovecot_doveadm mailshard where -u juan 2>&1)
rc=$?
check "doveadm mailshard with the copy: refused, exit $rc (no signal)" test $rc -gt 0 -a $rc -lt 128
check "doveadm: Dovecot's ABI error names the doveadm plugin, the command is unknown" \
	eval 'grep -qF "$(basename "$DOVEADMP"): Module is for different ABI version $other (we have $ours)" <<<"$out" &&
		grep -q "Unknown command .mailshard" <<<"$out"'
[ $? = 0 ] || diag "$out"

if [ -n "$DC_V24" ]; then
	# the settings module: the config process
	dovecot_overlay settings "$SB/other-settings/$(basename "$SETTINGS")"
	out=$(dc_run doveconf -c "$DC_CONF" -n 2>&1)
	rc=$?
	check "doveconf with the settings module copy: refused, exit $rc (no signal)" \
		test $rc -gt 0 -a $rc -lt 128
	check "doveconf: Dovecot's ABI error names the settings module" \
		grep -qF "$(basename "$SETTINGS"): Module is for different ABI version $other (we have $ours)" <<<"$out"
	[ $? = 0 ] || diag "$out"
fi
done_testing
