# mailshard.sh - the volumes and users that the placement tests share
# (t-mailshard.sh: the mail plugin's route; t-mailshard-auth.sh: the auth
# module's), sourced (bash) after tests/lib/sandbox.sh and dovecot.sh,
# after sb_init.
#
# ms_volumes       make the volumes under SRV=$SB/srv: mail/v1, mail/v2
#                  (weight 2) and legacy (weight 0: pins only) with their
#                  marker files, bare without one (as an unmounted mount
#                  point), other/ (for an explicit userdb mail) and $SB/idx
#                  (index files), all owned by the mail uid; sets VOLS (the
#                  mailshard_volumes value)
# where USER [LAYOUT [PIN_VOLUME]]
#                  "VOLUME PATH" that mailshard(7) gives USER over $VOLS
#                  (tests/lib/mailshard.py, independent of the C code)
# ms_add_users     add to the current instance's passwd-file: $HASHED, lena
#                  (layout letters:3), pinvol (volume pin), pinpath (path
#                  pin), badpin (a path outside every volume), idxuser
#                  (index_dir override), ownmail (explicit userdb mail),
#                  nomount (pinned to bare), $ERIC (UTF-8), x.., and the
#                  hostile names .. .hidden a/b ../../../tmp/x $LONG
#                  (300 bytes)
# ms_add_raw NAME FIELDS  a passwd-file line with free-form extra fields
#                  (dovecot_add_user refuses ':' in fields; passwd-file
#                  takes it in the last column)
# ms_tmpx          what /tmp/x is ("none", or inode, size and mtime): the
#                  hostile user ../../../tmp/x must not create or change
#                  it, and another program on the machine may own one, so
#                  a test compares ms_tmpx before and after

HASHED="juan maria anna bob carol dave erin frank"
ERIC=$(printf '\xc3\xa9ric')
LONG=$(printf 'l%.0s' {1..300})	# over the 255-byte limit

ms_volumes() {
	local v
	SRV=$SB/srv
	mkdir -p "$SRV/mail/v1" "$SRV/mail/v2" "$SRV/legacy" "$SRV/bare" "$SRV/other" "$SB/idx" || return 1
	for v in mail/v1 mail/v2 legacy; do
		touch "$SRV/$v/.mailshard-volume" || return 1
	done
	chown -R 5000:5000 "$SRV" "$SB/idx" || return 1
	VOLS="v1=$SRV/mail/v1 v2=$SRV/mail/v2:2 legacy=$SRV/legacy:0 bare=$SRV/bare:0"
}

where() {
	"${MW_PYTHON:-python3}" "$MW_TESTLIB/mailshard.py" "$VOLS" "${2:-hash:2:2}" "$1" ${3:+"$3"}
}

ms_add_raw() {
	printf '%s:{PLAIN}pw:5000:5000::::%s\n' "$1" "$2" >>"$DC_USERS"
}

ms_add_users() {
	local u
	for u in $HASHED "$ERIC" x..; do
		dovecot_add_user "$u" pw
	done
	ms_add_raw lena userdb_mailshard_layout=letters:3
	ms_add_raw ownmail "$(dovecot_userdb_mail "$SRV/other/ownmail")"
	dovecot_add_user pinvol pw userdb_mailshard_volume=legacy
	dovecot_add_user pinpath pw "userdb_mailshard_path=$SRV/legacy//p/i/pinpath/"
	dovecot_add_user badpin pw "userdb_mailshard_path=$SB/elsewhere/badpin"
	dovecot_add_user idxuser pw "userdb_mailshard_index_dir=$SB/idx"
	dovecot_add_user nomount pw userdb_mailshard_volume=bare
	for u in .. .hidden 'a/b' '../../../tmp/x' "$LONG"; do
		dovecot_add_user "$u" pw
	done
}

ms_tmpx() {
	stat -c '%i %s %Y' /tmp/x 2>/dev/null || echo none
}
