#!/bin/bash
# t-mailshard-nfs.sh - mailshard's NFS safety check in a real private
# Dovecot: a volume on NFS with settings unsafe for NFS (mmap_disable = no,
# mail_fsync other than always) is refused with a temporary error under
# mailshard_nfs_check = strict (LMTP 451, IMAP refused, dovecot-lda 75,
# nothing created), logged with the setting's name and delivered under
# warn (the default), and not looked at under off; safe settings pass
# under strict; a local volume is never flagged. The same checks on
# Dovecot 2.3 and 2.4.
#
# No real NFS here: the kernel of the test machines has no NFS client
# (CONFIG_NFS_FS unset, CONFIG_MODULES unset: "mount -t nfs" answers
# "unknown filesystem type 'nfs'"), and a FUSE client would report FUSE's
# magic. So the test preloads tests/lib/fake-nfs.so, which makes statfs()
# report NFS_SUPER_MAGIC for one directory, into Dovecot's processes
# (import_environment) and dovecot-lda: the plugin's own statfs() call and
# NFS branch run unchanged. The shim is built for make check only.

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_root
sb_need_cmd /usr/sbin/dovecot dovecot-core
sb_need_cmd /usr/lib/dovecot/imap dovecot-imapd
sb_need_cmd /usr/lib/dovecot/lmtp dovecot-lmtpd
sb_need_cmd python3 python3
PLUGIN=${top_builddir:-.}/plugins/mailshard/.libs/lib20_mailshard_plugin.so
SHIM=${top_builddir:-.}/tests/lib/.libs/fake-nfs.so
[ -f "$SHIM" ] || skip_all "tests/lib/fake-nfs.so not built (make check builds it)"
SHIM=$(cd "$(dirname "$SHIM")" && pwd)/fake-nfs.so
. "$MW_TESTLIB/dovecot.sh"

sb_init mailshard-nfs

PY=${MW_PYTHON:-python3}

SRV=$SB/srv
mkdir -p "$SRV/filer" "$SRV/local"
touch "$SRV/filer/.mailshard-volume" "$SRV/local/.mailshard-volume"
chown -R 5000:5000 "$SRV"
VOLS="filer=$SRV/filer local=$SRV/local"

# the shim works here, and only for the filer volume: f_type from statfs(),
# the call the plugin makes (Debian 13's stat -f no longer uses it)
f_types() {	# PATH... -> each path's statfs() f_type in hex
	"$PY" -c 'import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(512)
for p in sys.argv[1:]:
    if libc.statfs(p.encode(), buf) != 0:
        sys.exit("statfs(%s) failed" % p)
    print("%x" % int.from_bytes(buf.raw[:8], "little"))' "$@"
}
check "fake-nfs.so: statfs() of the filer volume reports NFS, the local one does not" \
	eval '[ "$(MW_FAKE_NFS=$SRV/filer LD_PRELOAD=$SHIM f_types "$SRV/filer" "$SRV/local")" = "$(printf "6969\n%s" "$(f_types "$SRV/local")")" ]'

dovecot_modules "$PLUGIN"
dovecot_mailwarren_settings
DC_MAIL_LOCATION=
DC_MAIL_HOME=
DC_MAIL_PLUGINS=mailshard
# Dovecot's defaults are the unsafe ones (mmap_disable = no, mail_fsync =
# optimized); users below make them safe through userdb fields.
DC_IMPORT_ENV="LD_PRELOAD=$SHIM MW_FAKE_NFS=$SRV/filer"
DC_PLUGIN_SETTINGS="mailshard_volumes = $VOLS"

# user: volume, mailshard_nfs_check, other userdb fields
dovecot_add_user strict pw userdb_mailshard_volume=filer userdb_mailshard_nfs_check=strict
dovecot_add_user strictmmap pw userdb_mailshard_volume=filer userdb_mailshard_nfs_check=strict \
	userdb_mmap_disable=yes
dovecot_add_user strictsafe pw userdb_mailshard_volume=filer userdb_mailshard_nfs_check=strict \
	userdb_mmap_disable=yes userdb_mail_fsync=always
dovecot_add_user warn pw userdb_mailshard_volume=filer userdb_mailshard_nfs_check=warn
dovecot_add_user dflt pw userdb_mailshard_volume=filer
dovecot_add_user off pw userdb_mailshard_volume=filer userdb_mailshard_nfs_check=off
dovecot_add_user localstrict pw userdb_mailshard_volume=local userdb_mailshard_nfs_check=strict
dovecot_add_user bogus pw userdb_mailshard_volume=local userdb_mailshard_nfs_check=maybe

if ! dovecot_start; then
	not_ok "dovecot_start"
	echo "Bail out! private Dovecot did not start"
	exit 1
fi
ok "dovecot_start with fake-nfs.so preloaded for $SRV/filer"

deliver() {	# USER -> LMTP reply code
	printf 'From: a@example.net\nSubject: nfs-%s\n\nbody\n' "$1" |
		dovecot_client lmtp "$DC_LMTP_PORT" a@example.net "$1@example.test" | awk '{print $2}'
}
where() {	# USER VOLUME -> the user's directory per mailshard(7)
	"$PY" "$MW_TESTLIB/mailshard.py" "$VOLS" hash:2:2 "$1" "$2" | cut -d' ' -f2
}
stored() {	# USER VOLUME -> one message under the user's maildir
	[ "$(grep -rlF "Subject: nfs-$1" "$(where "$1" "$2")/Maildir/new" 2>/dev/null | wc -l)" = 1 ]
}
logged() {	# USER PATTERN -> an error line of USER's session matches
	grep -E "\($1\)<[^>]*>(<[^>]*>)?: (Error|Fatal): .*$2" "$DC_LOG" | grep -q .
}
refused() {	# USER PATTERN -> LMTP refused USER, logging PATTERN
	grep -qE "lmtp\([0-9]+\): Error: .* rcpt $1@example.test: Failed to initialize user: $2" "$DC_LOG"
}
nfs_line() {	# SETTING -> the plugin's message for the filer volume
	echo "mailshard: volume filer \($SRV/filer\) is on NFS but $1"
}

# --- strict: refused, temporary, nothing created --------------------------
check "strict, mmap_disable = no: LMTP 451" test "$(deliver strict)" = 451
check "strict: the log names the volume and mmap_disable" \
	refused strict "$(nfs_line 'mmap_disable = no \(need yes\)') \(mailshard_nfs_check = strict\)"
out=$(dovecot_client imap "$DC_IMAP_PORT" strict pw INBOX)
check "strict: IMAP session refused" grep -q '^REFUSED' <<<"$out"
printf 'Subject: nfs-lda\n\nx\n' |
	MW_FAKE_NFS=$SRV/filer LD_PRELOAD=$SHIM \
	dovecot_lda -d strict -f b@example.net 2>/dev/null
check "strict: dovecot-lda exits 75 (EX_TEMPFAIL)" test $? = 75
check "strict: nothing created for the refused user" test ! -e "$(where strict filer)"
check "strict, mmap_disable = yes, mail_fsync = optimized: LMTP 451" \
	test "$(deliver strictmmap)" = 451
check "strict: the log names mail_fsync once mmap is safe" \
	refused strictmmap "$(nfs_line 'mail_fsync = optimized \(need always\)')"
check "strict, mmap_disable = yes, mail_fsync = always: delivered" \
	eval '[ "$(deliver strictsafe)" = 250 ] && stored strictsafe filer'
check "strict with safe settings: no NFS line" eval '! logged strictsafe "is on NFS"'
out=$(dovecot_client imap "$DC_IMAP_PORT" strictsafe pw INBOX)
check "strict with safe settings: IMAP reads the message" grep -qx 'INBOX 1' <<<"$out"

# --- warn (and the default): one error line, the session goes on -----------
check "warn: delivered despite the unsafe settings" \
	eval '[ "$(deliver warn)" = 250 ] && stored warn filer'
check "warn: one error line naming mmap_disable" \
	eval 'logged warn "$(nfs_line "mmap_disable = no \\(need yes\\)")$" && [ "$(grep -c "lmtp(warn).*is on NFS" "$DC_LOG")" = 1 ]'
out=$(dovecot_client imap "$DC_IMAP_PORT" warn pw INBOX)
check "warn: IMAP works and logs the same line" \
	eval 'grep -qx "INBOX 1" <<<"$out" && grep -qE "imap\(warn\).*: Error: $(nfs_line "mmap_disable")" "$DC_LOG"'
check "mailshard_nfs_check unset means warn" \
	eval '[ "$(deliver dflt)" = 250 ] && stored dflt filer && logged dflt "$(nfs_line mmap_disable)"'

# --- off: no check --------------------------------------------------------
check "off: delivered, nothing logged" \
	eval '[ "$(deliver off)" = 250 ] && stored off filer && ! logged off "is on NFS"'

# --- a local volume is never NFS; a bad value is refused ------------------
check "strict on a local volume with unsafe settings: delivered (statfs says not NFS)" \
	eval '[ "$(deliver localstrict)" = 250 ] && stored localstrict local && ! logged localstrict "is on NFS"'
check "mailshard_nfs_check = maybe: LMTP 451" test "$(deliver bogus)" = 451
check "mailshard_nfs_check = maybe: the log says what is allowed" \
	refused bogus "mailshard: invalid mailshard_nfs_check 'maybe' \(strict, warn or off\)"

dovecot_stop
done_testing
