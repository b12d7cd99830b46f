# dovecot-overlay.sh - let a private Dovecot load modules under test from
# directories where Dovecot only looks at a compiled-in path, without
# touching the system's own (sourced, bash; after tests/lib/dovecot.sh).
#
# Auth modules (libauthdb_*.so, Dovecot 2.3 and 2.4) are found only in
# MODULEDIR/auth, settings modules (2.4) only in MODULEDIR/settings,
# doveadm plugins only in MODULEDIR/doveadm, and no setting moves them.
#
# dovecot_overlay SUBDIR SO...
#     copy Dovecot's own MODULEDIR/SUBDIR files and the given modules into
#     $SB/overlay/mod/SUBDIR (a missing SO skips the whole test), and point
#     DC_DOVECOT, DC_DOVEADM and DC_DOVECONF at wrappers that run the real
#     binary in a private mount namespace (unshare -m) in which every
#     overlay directory is bound over MODULEDIR/SUBDIR. Nothing changes
#     outside that namespace: the system's Dovecot and the other tests'
#     instances never see the modules. Call after sb_init, before
#     dovecot_start; call it once per SUBDIR (the wrappers cover them all).
#     The files are copied, not linked: a rebuild never rewrites a .so a
#     running process has mapped.
# dovecot_overlay_run CMD...
#     run CMD (e.g. /usr/lib/dovecot/dovecot-lda) in such a namespace.
#
# MODULEDIR is dovecot_moduledir from dovecot-config (Debian:
# /usr/lib/dovecot/modules); DC_MODULEDIR overrides it.

_dc_overlay_moduledir() {
	local f=${DC_DOVECOT_CONFIG:-/usr/lib/dovecot/dovecot-config}
	if [ -n "${DC_MODULEDIR:-}" ]; then
		echo "$DC_MODULEDIR"
	elif [ -r "$f" ]; then
		sed -n 's/^dovecot_moduledir=//p' "$f" | tr -d '"'
	else
		echo /usr/lib/dovecot/modules
	fi
}

dovecot_overlay() {
	local sub=$1 so moddir ovl bin
	shift || { echo "usage: dovecot_overlay SUBDIR SO..." >&2; return 2; }
	case $sub in '' | */* | .*) echo "dovecot_overlay: bad subdir '$sub'" >&2; return 2 ;; esac
	[ -n "$SB" ] && [ -d "$SB" ] || { echo "dovecot_overlay: call sb_init first" >&2; return 1; }
	command -v unshare >/dev/null || skip_all "no unshare (util-linux)"
	for so in "$@"; do
		[ -f "$so" ] || skip_all "module not built or installed ($so)"
	done
	moddir=$(_dc_overlay_moduledir)
	[ -d "$moddir/$sub" ] || { echo "dovecot_overlay: no $moddir/$sub" >&2; return 1; }
	ovl=$SB/overlay
	mkdir -p "$ovl/mod/$sub" "$ovl/bin" || return 1
	# Dovecot's own modules stay visible (copies: a link into the
	# directory being covered would point at the overlay itself)
	if compgen -G "$moddir/$sub/*" >/dev/null; then
		cp -p "$moddir/$sub"/* "$ovl/mod/$sub/" || return 1
	fi
	for so in "$@"; do
		cp "$so" "$ovl/mod/$sub/" && chmod 644 "$ovl/mod/$sub/$(basename "$so")" || return 1
	done
	chmod 755 "$ovl" "$ovl/mod" "$ovl/mod/$sub" "$ovl/bin"
	grep -qxF "$sub" "$ovl/subdirs" 2>/dev/null || echo "$sub" >>"$ovl/subdirs"

	# ns CMD...: bind every overlay subdir, then exec CMD (no fork: the
	# pid of the wrapper is the pid of CMD, as dovecot_stop expects)
	cat >"$ovl/ns" <<EOF
#!/bin/sh
exec unshare -m --propagation private sh -c '
	while read -r d; do
		mount --bind "$ovl/mod/\$d" "$moddir/\$d" || exit 71
	done <"$ovl/subdirs"
	exec "\$@"' sh "\$@"
EOF
	# the wrappers run what DC_DOVECOT etc. named before (once)
	if [ "$DC_DOVECOT" != "$ovl/bin/dovecot" ]; then
		_dc_overlay_wrap "$ovl/bin/dovecot" "$DC_DOVECOT" || return 1
		_dc_overlay_wrap "$ovl/bin/doveadm" "$DC_DOVEADM" || return 1
		_dc_overlay_wrap "$ovl/bin/doveconf" "$DC_DOVECONF" || return 1
	fi
	chmod 755 "$ovl/ns"
	DC_DOVECOT=$ovl/bin/dovecot
	DC_DOVEADM=$ovl/bin/doveadm
	DC_DOVECONF=$ovl/bin/doveconf
}

# _dc_overlay_wrap WRAPPER BINARY: WRAPPER runs BINARY through ns
_dc_overlay_wrap() {
	local bin
	bin=$(command -v "$2") || { echo "dovecot_overlay: no $2" >&2; return 1; }
	printf '#!/bin/sh\nexec %s %s "$@"\n' "$SB/overlay/ns" "$bin" >"$1" && chmod 755 "$1"
}

dovecot_overlay_run() {
	[ -x "$SB/overlay/ns" ] || { echo "dovecot_overlay_run: no overlay" >&2; return 1; }
	"$SB/overlay/ns" "$@"
}
