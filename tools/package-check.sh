#!/bin/bash
# package-check.sh - CI for the packages: build the .deb packages from a
# copy of this tree (dpkg-buildpackage -b, with "make check"), lintian
# them, install them on this machine, start the daemons as their systemd
# units would (no systemd here: the unit's ExecStartPre/ExecStart run as
# its User=/Group= with its UMask, NoNewPrivileges, an empty capability
# bounding set, and ProtectSystem=strict + ReadWritePaths + PrivateTmp +
# ProtectHome emulated in a private mount namespace), talk to them, reload
# them (ExecReload), run the real-daemon tests against the INSTALLED
# binaries and plugins (MW_SBINDIR, MW_MODULEDIR), purge the packages and
# compare the file system before and after; then build the RPMs from the
# "make dist" tarball with "rpmbuild --nodeps -ta".
#
# usage: sudo tools/package-check.sh [--debian 12|13]
#        (after tools/install-deps.sh)
#
# --debian 13 runs exactly this inside the Debian 13 chroot of
# tools/debian13.sh (made from Debian's archive, reused; its own dpkg,
# users and file system), on a clean copy of this tree.
#
# Works in _build-pkg/ (kept when something failed).  The last line is
# "N passed, N failed, N skipped"; the exit status is non-zero on any
# failure.  The machine is left as it was: packages purged, the system
# user removed again if this script created it.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)

. "$TOP/tools/release.sh"
mw_release package-check.sh "$@"

. "$TOP/tests/lib/sandbox.sh"
. "$MW_TESTLIB/postfix.sh"

[ "$(id -u)" = 0 ] || { echo "package-check.sh: run as root (dpkg -i)" >&2; exit 1; }

W=$TOP/_build-pkg
SRC=$W/src
PKGS="mailwarren-common mailwarren-milter mailwarren-policyd dovecot-mailwarren"
UNITDIR=/lib/systemd/system
MODDIR=/usr/lib/dovecot/modules
INTEG_TESTS="tests/policy/t-policy-golden.sh tests/policy/t-policy-proto.sh
	tests/policy/t-policy-privs.sh tests/policy/t-policy-postfix.sh
	tests/policy/t-policy-redis.sh tests/milter/t-milter-direct.sh
	tests/milter/t-milter-postfix.sh tests/milter/t-milter-sendmail.sh
	tests/dovecot/t-mailshard.sh tests/dovecot/t-spam-prefs.sh"

# check_or_show DESC FILE CMD...: check, and on failure show FILE's tail
check_or_show() {
	local desc=$1 file=$2
	shift 2
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
		tail -n 30 "$file" 2>/dev/null | sed 's/^/#   /'
	fi
}
step() { echo "# --- $* ($(date -u +%H:%M:%S))"; }
dpkg_state() { dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' | sort; }
OURS='mailwarren|mailshard|spam.prefs'
installed() { dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qx installed; }

# The file system as dpkg and the maintainer scripts see it; caches, logs
# and the package database itself are expected to change.
# (/run/systemd/systemd-units-load is systemd's own marker, made the first
# time systemctl or systemd-analyze loads units on a fresh machine)
snapshot() {
	find /etc /usr /lib /var /run /srv /opt -xdev \
		\( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache \
		-o -path /var/log -o -path /var/tmp -o -path /run/user \
		-o -path /run/systemd/systemd-units-load \) -prune \
		-o -printf '%p %M %u:%g\n' 2>/dev/null | sort
}

cleanup() {
	local p
	for p in $DAEMON_PIDS; do
		mw_kill_pid "$p" 10 2>/dev/null
	done
	[ -z "$RPM_PID" ] || kill -- "$RPM_PID" 2>/dev/null
	[ -z "$ADDED_POSTFIX" ] || deluser --quiet postfix mailwarren
	for p in $PKGS; do
		dpkg-query -W "$p" >/dev/null 2>&1 && left="${left:-} $p"
	done
	# shellcheck disable=SC2086
	[ -z "${left:-}" ] || dpkg --purge $(echo $left | tr ' ' '\n' | tac) >/dev/null 2>&1
	if [ -n "$MADE_USER" ] && getent passwd mailwarren >/dev/null; then
		deluser --system mailwarren >/dev/null 2>&1
		getent group mailwarren >/dev/null && delgroup --system mailwarren >/dev/null 2>&1
	fi
	return 0
}
DAEMON_PIDS=
MADE_USER=
RPM_PID=
ADDED_POSTFIX=
trap 'cleanup' EXIT
trap 'exit 130' INT TERM HUP

# In the Debian 13 test chroot (tools/debian13.sh writes its stamp
# /etc/mailwarren-deps), packages an interrupted run left there are
# purged; on a real machine they are the operator's.
for p in $(echo $PKGS | tr ' ' '\n' | tac); do
	if dpkg-query -W "$p" >/dev/null 2>&1; then
		if [ -f /etc/mailwarren-deps ] && dpkg --purge "$p" >/dev/null 2>&1; then
			echo "package-check.sh: $p was left in this test chroot by an earlier run: purged" >&2
			continue
		fi
		echo "package-check.sh: $p is already installed; purge it first" >&2
		trap - EXIT
		exit 1
	fi
done
getent passwd mailwarren >/dev/null || MADE_USER=1

rm -rf "$W"
mkdir -p "$SRC"
chmod 755 "$W"

# ---------------------------------------------------------------------
step "build the Debian packages"
# A copy of the tree as git sees it (uncommitted changes included), so
# that neither the build nor the .deb files land in the checkout.
if git -C "$TOP" rev-parse >/dev/null 2>&1; then
	(cd "$TOP" && git ls-files -co --exclude-standard -z | xargs -0 cp -a --parents -t "$SRC")
else
	(cd "$TOP" && tar -cf - --exclude='./_build*' --exclude=./debian/tmp . ) | tar -xf - -C "$SRC"
fi
(cd "$SRC" && dpkg-buildpackage -b -uc -us -j"$(nproc)") >"$W/dpkg-buildpackage.log" 2>&1
rc=$?
check "dpkg-buildpackage -b (make check inside)" [ $rc = 0 ]
if [ $rc != 0 ]; then
	tail -n 40 "$W/dpkg-buildpackage.log" | sed 's/^/# /'
	echo "$TAP_N passed, $TAP_FAILED failed, 0 skipped" | awk '{ $1 = $1 - $4; print }'
	exit 1
fi
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$W/dpkg-buildpackage.log" | tr '\n' ' ' | sed 's/^/# make check in the build: /; s/$/\n/'
DEBS=
for p in $PKGS; do
	f=$(ls "$W"/"${p}"_*.deb 2>/dev/null | head -n 1)
	check "built $p" [ -n "$f" ]
	DEBS="$DEBS $f"
done
check "dovecot-mailwarren depends on the Dovecot ABI it was built for ($(cat /usr/share/dovecot/dovecot-abi))" \
	bash -c "dpkg-deb -f $W/dovecot-mailwarren_*.deb Depends | grep -qi 'dovecot-abi-$(cat /usr/share/dovecot/dovecot-abi)'"
check "no libtool archives in the packages" \
	bash -c "! for d in $DEBS; do dpkg-deb -c \$d; done | grep -q '\.la\$'"

# The RPM build runs meanwhile (niced): "make dist" in the Debian build
# tree, then rpmbuild on the tarball; checked at the end.  %check is
# skipped: it is the "make check" the Debian build just ran.
rpm_build() {
	(cd "$SRC/_build-deb" && make dist) >"$W/make-dist.log" 2>&1 || return 1
	rpmbuild --nodeps --nocheck --define "_topdir $W/rpm" \
		-ta "$SRC"/_build-deb/mailwarren-*.tar.gz >"$W/rpmbuild.log" 2>&1
}
if command -v rpmbuild >/dev/null; then
	nice -n 10 bash -c "$(declare -f rpm_build); W='$W' SRC='$SRC' rpm_build" &
	RPM_PID=$!
fi

step "lintian"
lintian --pedantic -I "$W"/mailwarren_*.changes >"$W/lintian.log" 2>&1
sed -n 's/^\([EWIP]\): /# lintian \1: /p' "$W/lintian.log"
check "lintian: no errors" bash -c "! grep -q '^E: ' '$W/lintian.log'"
echo "# lintian: $(grep -c '^W: ' "$W/lintian.log") warnings"

# ---------------------------------------------------------------------
step "install"
snapshot >"$W/before.txt"
dpkg_state >"$W/dpkg-before.txt"
doveconf -n >"$W/doveconf-before.txt" 2>&1
# shellcheck disable=SC2086
dpkg -i $DEBS >"$W/dpkg-install.log" 2>&1
check_or_show "dpkg -i the four packages" "$W/dpkg-install.log" [ $? = 0 ]
for p in $PKGS; do
	check "$p installed" installed "$p"
done
check "system user and group mailwarren (no login shell)" \
	bash -c "getent passwd mailwarren | grep -q ':/usr/sbin/nologin\$' && getent group mailwarren >/dev/null"
for d in /run/mailwarren /var/spool/postfix/mailwarren; do
	check "$d made by tmpfiles.d: mailwarren:mailwarren 0750" \
		bash -c "[ \"\$(stat -c '%U:%G %a' $d)\" = 'mailwarren:mailwarren 750' ]"
done
for f in /etc/mailwarren/mailwarren-milter.conf /etc/mailwarren/mailwarren-policyd.conf \
	/etc/dovecot/conf.d/90-mailshard.conf /etc/dovecot/conf.d/95-spam-prefs.conf; do
	check "conffile $f" bash -c "dpkg-query -W -f='\${Conffiles}\n' $PKGS | grep -q ' $f '"
done
for m in mailwarren.7 mailwarren-milter.8 mailwarren-milter.conf.5 mailwarren-policyd.8 \
	mailwarren-policyd.conf.5 mailshard.7 spam_prefs.7 mailwarren-directory.7; do
	check "man page $m installed" bash -c "man -w ${m##*.} ${m%.*} >/dev/null 2>&1"
done
check "Dovecot snippets are inert: doveconf -n unchanged" \
	bash -c "doveconf -n 2>&1 | diff -u '$W/doveconf-before.txt' - >&2"
check "mailwarren-milter -t accepts the packaged configuration" \
	bash -c "/usr/sbin/mailwarren-milter -t >/dev/null"
check "mailwarren-policyd -t accepts the packaged configuration" \
	bash -c "/usr/sbin/mailwarren-policyd -t >/dev/null"
for u in mailwarren-milter mailwarren-policyd; do
	check "$u.service: installed, not enabled" \
		bash -c "[ -f $UNITDIR/$u.service ] && ! ls /etc/systemd/system/*/$u.service >/dev/null 2>&1"
	if command -v systemd-analyze >/dev/null; then
		out=$(systemd-analyze verify "$UNITDIR/$u.service" 2>&1 | grep -v -e 'Cannot add dependency job' -e 'Failed to load configuration' -e '/dev/log')
		check "systemd-analyze verify $u.service${out:+ [$out]}" [ -z "$out" ]
	fi
done

# ---------------------------------------------------------------------
# unit_get UNIT KEY: the value of KEY in the unit's [Service] section
unit_get() {
	awk -v key="$2" '/^\[/ { s = ($0 == "[Service]") } s && index($0, key "=") == 1 {
		v = substr($0, length(key) + 2) } END { print v }' "$UNITDIR/$1.service"
}

# unit_exec UNIT COMMAND: run COMMAND the way systemd runs the unit's
# Exec lines, in the foreground (exec: the caller's $! is the daemon).
unit_exec() {
	local unit=$1 cmd=$2 user group umask rw
	user=$(unit_get "$unit" User)
	group=$(unit_get "$unit" Group)
	umask=$(unit_get "$unit" UMask)
	rw=$(unit_get "$unit" ReadWritePaths)
	[ "$(unit_get "$unit" ProtectSystem)" = strict ] || rw=
	exec unshare -m --propagation private bash -c '
		set -e
		rw=$1 protect=$2 privtmp=$3 home=$4 user=$5 group=$6 umask=$7 nnp=$8 caps=$9
		shift 9
		if [ "$protect" = strict ]; then
			for p in $rw; do
				p=${p#-}
				[ -e "$p" ] && mount --bind "$p" "$p"
			done
			awk "{ print \$5 }" /proc/self/mountinfo | while read -r m; do
				case "$m" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*) continue ;; esac
				for p in $rw; do [ "$m" = "${p#-}" ] && continue 2; done
				mount -o remount,bind,ro "$m" 2>/dev/null || true
			done
			! touch /usr/.mw-ro-probe 2>/dev/null || { echo "ProtectSystem emulation failed" >&2; exit 1; }
		fi
		[ "$privtmp" != yes ] || { mount -t tmpfs -o mode=1777 tmpfs /tmp; mount -t tmpfs -o mode=1777 tmpfs /var/tmp; }
		if [ "$home" = yes ]; then
			for h in /home /root; do [ -d "$h" ] && mount -t tmpfs -o ro,mode=0755 tmpfs "$h"; done
		fi
		opts=(--reuid="$user" --regid="$group" --init-groups)
		[ "$nnp" != yes ] || opts+=(--no-new-privs)
		[ -n "$caps" ] || opts+=(--bounding-set=-all --inh-caps=-all)
		umask "${umask:-0022}"
		exec setpriv "${opts[@]}" -- "$@"
	' unit-exec "$rw" "$(unit_get "$unit" ProtectSystem)" "$(unit_get "$unit" PrivateTmp)" \
		"$(unit_get "$unit" ProtectHome)" "${user:-root}" "${group:-root}" "$umask" \
		"$(unit_get "$unit" NoNewPrivileges)" "$(unit_get "$unit" CapabilityBoundingSet)" $cmd
}

# unit_start UNIT LOG: ExecStartPre, then ExecStart in the background
unit_start() {
	local pre
	pre=$(unit_get "$1" ExecStartPre)
	if [ -n "$pre" ]; then
		(unit_exec "$1" "$pre") >>"$2" 2>&1 || { echo "# $1: ExecStartPre failed: $(tail -n 3 "$2")"; return 1; }
	fi
	unit_exec "$1" "$(unit_get "$1" ExecStart)" </dev/null >>"$2" 2>&1 &
	UNIT_PID=$!
	DAEMON_PIDS="$DAEMON_PIDS $UNIT_PID"
}

unit_reload() {	# UNIT PID
	local cmd
	cmd=$(unit_get "$1" ExecReload)
	cmd=${cmd//\$MAINPID/$2}
	setpriv --reuid="$(unit_get "$1" User)" --regid="$(unit_get "$1" Group)" --init-groups -- $cmd
}

proc_user() { ps -o user= -p "$1" | tr -d ' '; }
sock_owner() { stat -c '%U:%G %a' "$1"; }

# ---------------------------------------------------------------------
step "mailwarren-policyd as its unit runs it"
PCONF=/etc/mailwarren/mailwarren-policyd.conf
PSOCK=/var/spool/postfix/mailwarren/policyd.sock
cat >>"$PCONF" <<EOF

# package-check.sh: a UNIX socket inside Postfix's chroot
PolicySocket local:$PSOCK
HostedDomains hosted.example
EOF
unit_start mailwarren-policyd "$W/policyd.log"
PD=$UNIT_PID
check "policyd: listening on $PSOCK" sb_wait_file "$PSOCK" 20
check "policyd: runs as mailwarren" [ "$(proc_user "$PD")" = mailwarren ]
check "policyd: socket mailwarren:mailwarren 660" [ "$(sock_owner "$PSOCK")" = "mailwarren:mailwarren 660" ]
printf 'recipient=u@hosted.example\n\nrecipient=u@other.example\n' >"$W/policy.in"
policy_ask() { "${MW_PYTHON:-/usr/bin/python3}" "$MW_TESTLIB/policy_client.py" "unix:$PSOCK" "$W/policy.in" 2>&1; }
out=$(policy_ask | tr '\n' '|')
check "policyd: hosted recipient DUNNO, stranger's relay refused [$out]" \
	bash -c "[[ '$out' == '=> action=DUNNO||=> action=554 5.7.1 Relay access denied||' ]]"
sed -i 's/^HostedDomains hosted.example$/HostedDomains hosted.example, other.example/' "$PCONF"
unit_reload mailwarren-policyd "$PD"
for i in $(seq 50); do
	out=$(policy_ask | tr '\n' '|')
	[ "$out" = '=> action=DUNNO||=> action=DUNNO||' ] && break
	sleep 0.2
done
check "policyd: ExecReload (SIGHUP) rereads the configuration (other.example hosted) [$out]" \
	[ "$out" = '=> action=DUNNO||=> action=DUNNO||' ]
check "policyd: still the same process after reload" sb_pid_running "$PD"
mw_kill_pid "$PD" 15
check "policyd: stops on SIGTERM" bash -c "! kill -0 $PD 2>/dev/null"
sed 's/^/# policyd: /' "$W/policyd.log" | tail -n 5

# ---------------------------------------------------------------------
step "mailwarren-milter as its unit runs it"
MCONF=/etc/mailwarren/mailwarren-milter.conf
MSOCK=/run/mailwarren/milter.sock
# Test signatures and samples where the unit can read them (its /tmp is
# private): the socket directory, which the purge removes.
DB=/run/mailwarren/ci-clamdb
"${MW_PYTHON:-/usr/bin/python3}" "$MW_TESTLIB/gen-clamdb.py" test "$DB" >/dev/null &&
	"${MW_PYTHON:-/usr/bin/python3}" "$MW_TESTLIB/gen-clamdb.py" samples "$W/samples" >/dev/null
chmod -R a+rX "$DB"
cat >>"$MCONF" <<EOF

# package-check.sh: test signatures, no spamd
DatabaseDirectory $DB
DatabaseCheckInterval 0
SpamdHosts none
EOF
unit_start mailwarren-milter "$W/milter.log"
MP=$UNIT_PID
sb_eventually 60 grep -q "started on" "$W/milter.log"
check "milter: started on $MSOCK" grep -q "started on local:$MSOCK" "$W/milter.log"
check "milter: runs as mailwarren" [ "$(proc_user "$MP")" = mailwarren ]
check "milter: socket mailwarren:mailwarren 660" [ "$(sock_owner "$MSOCK")" = "mailwarren:mailwarren 660" ]
milter_send() {	# MESSAGE -> miltertest outcome lines
	miltertest -D "sock=local:$MSOCK" -D "msg=$1" -s "$MW_TOP_SRCDIR/tests/milter/mt-send.lua" 2>&1
}
eicar=eicar-plain.eml	# gen-clamdb.py's EICAR test file in a plain message
out=$(milter_send "$W/samples/$eicar" | tr '\n' '|')
check "milter: a virus is rejected [$out]" bash -c "[[ '$out' == *'reply replycode'* || '$out' == *'reply reject'* ]]"
out=$(milter_send "$MW_TOP_SRCDIR/tests/data/ham-1.eml" | tr '\n' '|')
check "milter: clean mail passes, X-Virus-Scanned added [$out]" bash -c "[[ '$out' == *'hdr X-Virus-Scanned: ClamAV'* ]]"

# The MTA's side, as the README sets it up: a private Postfix whose smtpd
# runs as user postfix reaches the socket (0660 in a 0750 directory)
# only once postfix is in group mailwarren.
sb_init pkgcheck
trap 'cleanup; sb_cleanup' EXIT
. "$MW_TOP_SRCDIR/tests/milter/milter-lib.sh"
was_member=
id -nG postfix 2>/dev/null | grep -qw mailwarren && was_member=1
if postfix_start "smtpd_milters = unix:$MSOCK" "milter_default_action = tempfail"; then
	if [ -z "$was_member" ]; then
		mwm_smtp "$PF_SMTP_PORT" "$W/samples/$eicar" nogroup
		check "Postfix: user postfix not in group mailwarren: milter unreachable, 451 (tempfail)" \
			mwm_replied nogroup "451 4.7.1 Service unavailable - try again later"
		adduser --quiet postfix mailwarren && ADDED_POSTFIX=1
		postfix_reload
	fi
	mwm_smtp "$PF_SMTP_PORT" "$W/samples/$eicar" group
	check "Postfix: after adduser postfix mailwarren, the virus is rejected at DATA" \
		mwm_replied group "550 5.7.1 Virus found: Test.EICAR.NDB.UNOFFICIAL"
	[ -z "$ADDED_POSTFIX" ] || deluser --quiet postfix mailwarren
	ADDED_POSTFIX=
	postfix_stop
else
	not_ok "Postfix sandbox did not start"
fi

unit_reload mailwarren-milter "$MP"
check "milter: ExecReload (SIGHUP) reloads the database" sb_eventually 30 grep -q "reloading ClamAV database" "$W/milter.log"
check "milter: still the same process after reload" sb_pid_running "$MP"
out=$(milter_send "$W/samples/$eicar" | tr '\n' '|')
check "milter: still rejects after the reload" bash -c "[[ '$out' == *'reply replycode'* || '$out' == *'reply reject'* ]]"
mw_kill_pid "$MP" 15
check "milter: stops on SIGTERM" bash -c "! kill -0 $MP 2>/dev/null"
sed 's/^/# milter: /' "$W/milter.log" | tail -n 5

# ---------------------------------------------------------------------
step "real-daemon tests against the installed binaries and plugins"
# top_builddir points nowhere: a test that fell back to a build tree
# would skip, and a skip is reported.  The test-only tools (stamp-check,
# stamp-make: the milter's own lib/mw_stamp code, never packaged) come
# from the package build tree, through MW_TESTTOOLS.
mkdir -p "$W/integ"
integ_one() {	# TEST: run it through automake's TAP driver into $W/integ
	local name
	name=$(basename "$1" .sh)
	cd "$W/integ" && env top_srcdir="$SRC" top_builddir="$W/no-build-tree" \
		MW_SBINDIR=/usr/sbin MW_MODULEDIR="$MODDIR" \
		MW_TESTTOOLS="$SRC/_build-deb/tests/lib" \
		sh "$SRC/build-aux/tap-driver.sh" --test-name "$1" \
		--log-file "$name.log" --trs-file "$name.trs" -- bash "$SRC/$1" >"$name.out" 2>&1
}
# two at a time, as "make -j2 test" runs them (private sandboxes, own ports)
export W SRC MODDIR
export -f integ_one
printf '%s\n' $INTEG_TESTS | xargs -P 2 -I{} bash -c 'integ_one "$1"' integ {}
for t in $INTEG_TESTS; do
	name=$(basename "$t" .sh)
	grep -v '^PASS: ' "$W/integ/$name.out" | sed 's/^/# /'
	echo "# $t: $(sh "$SRC/tests/summary.sh" "$W/integ/$name.trs")"
done
INTEG=$(sh "$SRC/tests/summary.sh" "$W"/integ/*.trs)
echo "# installed-package tests: $INTEG"

# ---------------------------------------------------------------------
step "purge"
# shellcheck disable=SC2086
dpkg --purge $(echo $PKGS | tr ' ' '\n' | tac) >"$W/dpkg-purge.log" 2>&1
check_or_show "dpkg --purge the four packages" "$W/dpkg-purge.log" [ $? = 0 ]
for p in $PKGS; do
	check "$p purged" bash -c "! dpkg-query -W $p >/dev/null 2>&1"
done
snapshot >"$W/after.txt"
dpkg_state >"$W/dpkg-after.txt"
diff "$W/before.txt" "$W/after.txt" | grep '^[<>]' >"$W/leftovers.txt"
# This machine is shared: when other packages came or went meanwhile,
# only the differences that name mailwarren's things are ours.
if ! cmp -s "$W/dpkg-before.txt" "$W/dpkg-after.txt"; then
	echo "# other packages changed during the run ($(diff "$W/dpkg-before.txt" "$W/dpkg-after.txt" |
		sed -n 's/^> \([^ ]*\) .*/\1/p' | tr '\n' ' ')): ignoring $(grep -civE "$OURS" "$W/leftovers.txt") of their files"
	grep -iE "$OURS" "$W/leftovers.txt" >"$W/leftovers-ours.txt"
else
	cp "$W/leftovers.txt" "$W/leftovers-ours.txt"
fi
check_or_show "nothing left behind (files, directories, modes, owners)" "$W/leftovers-ours.txt" \
	[ ! -s "$W/leftovers-ours.txt" ]
check "Dovecot configuration as before the packages" \
	bash -c "doveconf -n 2>&1 | diff -u '$W/doveconf-before.txt' - >&2"
if [ -n "$MADE_USER" ]; then
	check "only the system user mailwarren stays (Debian policy); removed by this script" \
		bash -c "getent passwd mailwarren >/dev/null"
	deluser --system mailwarren >/dev/null 2>&1
	getent group mailwarren >/dev/null && delgroup --system mailwarren >/dev/null 2>&1
	MADE_USER=
fi

# ---------------------------------------------------------------------
step "RPM: rpmbuild --nodeps -ta on the make dist tarball"
if command -v rpmbuild >/dev/null; then
	wait "$RPM_PID"
	rc=$?
	RPM_PID=
	tarball=$(ls "$SRC"/_build-deb/mailwarren-*.tar.gz 2>/dev/null | head -n 1)
	check_or_show "make dist" "$W/make-dist.log" [ -n "$tarball" ]
	check "the tarball holds packaging/rpm/mailwarren.spec" \
		bash -c "tar -tzf '$tarball' | grep -q '/packaging/rpm/mailwarren.spec\$'"
	check_or_show "rpmbuild --nodeps --nocheck -ta $(basename "$tarball")" "$W/rpmbuild.log" [ $rc = 0 ]
	for p in mailwarren-common mailwarren-milter mailwarren-policyd dovecot-mailwarren; do
		f=$(ls "$W"/rpm/RPMS/*/"$p"-[0-9]*.rpm 2>/dev/null | head -n 1)
		check "rpm $p" [ -n "$f" ]
		[ -n "$f" ] && rpm -qpl "$f" 2>/dev/null | sed "s|^|# $p: |"
	done
	f=$(ls "$W"/rpm/RPMS/*/mailwarren-common-[0-9]*.rpm 2>/dev/null | head -n 1)
	check "rpm: %pre creates the user" bash -c "rpm -qp --scripts '$f' 2>/dev/null | grep -q 'useradd -r'"
	f=$(ls "$W"/rpm/RPMS/*/mailwarren-milter-[0-9]*.rpm 2>/dev/null | head -n 1)
	check "rpm: mailwarren-milter.conf is %config(noreplace)" \
		bash -c "rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' '$f' | grep -q '^cn.* /etc/mailwarren/mailwarren-milter.conf\$'"
	f=$(ls "$W"/rpm/RPMS/*/dovecot-mailwarren-[0-9]*.rpm 2>/dev/null | head -n 1)
	check "rpm: dovecot-mailwarren requires the Dovecot it was built for" \
		bash -c "rpm -qpR '$f' | grep -q '^dovecot.* = '"
else
	not_ok "rpmbuild not installed (Debian package rpm; tools/install-deps.sh)"
fi

# ---------------------------------------------------------------------
own_p=$((TAP_N - TAP_FAILED))
read -r ip _ if _ is _ <<<"$INTEG"
echo "# package checks: $own_p passed, $TAP_FAILED failed; installed-package tests: $INTEG"
failed=$((TAP_FAILED + if))
[ "$failed" = 0 ] && rm -rf "$W"
echo "$((own_p + ip)) passed, $failed failed, $is skipped"
[ "$failed" = 0 ]
