#!/bin/bash
# t-conf-snippets.sh - the Dovecot snippets of the version under test
# (conf.d/dovecot/ for 2.3, conf.d/dovecot-2.4/ for 2.4) parse with
# doveconf, are inert as shipped (no mail_plugins, no settings in effect),
# and every commented setting is valid once uncommented; mailwarren.conf.ext
# (which enables the plugins, so it is not inert) parses too. On 2.4 also:
# the settings are declared by mailwarren's settings module (doveconf
# refuses them without it), a misspelt mailshard_*/spam_prefs_* name gets
# doveconf's "Unknown setting", and a 2.3 plugin { } block left in the
# configuration gets its "Unknown section name" while the snippet's
# comment says what to write instead. The Postfix main.cf snippets
# together give a main.cf that postconf accepts without a warning, and
# master.cf.submission a master.cf.
# (./demo and tests/chain/ run with all of them.)

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_cmd doveconf dovecot-core
sb_need_cmd /usr/sbin/dovecot dovecot-core
. "$MW_TESTLIB/dovecot.sh"
sb_init conf-snippets

if [ -n "$DC_V24" ]; then
	# the settings module is bound over Dovecot's fixed directory in a
	# private mount namespace
	sb_need_root
	dovecot_mailwarren_settings
	confd=$top/conf.d/dovecot-2.4
	head="dovecot_config_version = $DC_FULL_VERSION
dovecot_storage_version = $DC_FULL_VERSION
ssl = no"
	comment='#'	# settings are commented at the start of the line
else
	confd=$top/conf.d/dovecot
	head="ssl = no"
	comment='  #'	# inside plugin { }
fi
diag "Dovecot $DC_FULL_VERSION: $confd"
dconf() {	# FILE -> doveconf -n of FILE, as the instance sees the modules
	dc_run doveconf -c "$1" -n 2>&1
}
mkconf() {	# NAME INCLUDED-FILE [MORE...] -> $SB/NAME
	local name=$1 f
	shift
	{
		printf '%s\n' "$head"
		for f in "$@"; do
			case $f in /*) echo "!include $f" ;; *) printf '%s\n' "$f" ;; esac
		done
	} >"$SB/$name"
}

for f in 90-mailshard.conf 95-spam-prefs.conf; do
	src=$confd/$f
	group=${f#*-}
	group=${group%.conf}
	group=${group//-/_}	# mailshard, spam_prefs
	mkconf shipped.conf "$src"
	out=$(dconf "$SB/shipped.conf")
	check "$f: doveconf accepts it as shipped" test $? = 0
	check "$f: inert as shipped (no $group settings, no mail_plugins)" \
		eval '! grep -qE "^(plugin|mail_plugins|$group) " <<<"$out"'
	# uncomment the documented "key = value" lines
	sed -E "s/^$comment(${group}_[a-z_]+ = )/${comment%#}\\1/" "$src" >"$SB/$f"
	mkconf on.conf "$SB/$f"
	out=$(dconf "$SB/on.conf")
	n=$(grep -cE "^$comment${group}_[a-z_]+ = " "$src")
	if [ -n "$DC_V24" ]; then
		# doveconf -n shows them in their filter, without the prefix
		got=$(sed -n "/^$group {/,/^}/p" <<<"$out" | grep -cE '^  [a-z_]+ = ')
	else
		got=$(grep -cE "^  ${group}_[a-z_]+ = " <<<"$out")
	fi
	check "$f: all $n documented settings are accepted when uncommented" \
		test "$n" -gt 0 -a "$got" = "$n"
	[ "$got" = "$n" ] || diag "$out"
	grep -qE "^$comment${group}_[a-z_]+ = " "$src" &&
		key=$(grep -m1 -oE "^$comment${group}_[a-z_]+" "$src") && key=${key#"$comment"}
	if [ -n "$DC_V24" ]; then
		# the same settings without the module: Dovecot does not know them
		out=$(doveconf -c "$SB/on.conf" -n 2>&1)
		check "$f: without libmailwarren_settings.so doveconf refuses $key" \
			grep -q "Unknown setting: $key" <<<"$out"
		# a typo in a name: Dovecot's own error
		mkconf typo.conf "$SB/$f" "${key}x = 1"
		out=$(dconf "$SB/typo.conf")
		rc=$?
		check "$f: a misspelt ${key}x is refused: Unknown setting" \
			eval '[ $rc != 0 ] && grep -q "Unknown setting: ${key}x" <<<"$out"'
		# the 2.3 form: refused, and the snippet says what to write
		mkconf old.conf "plugin {
  $key = 1
}"
		out=$(dconf "$SB/old.conf")
		check "$f: a 2.3 plugin { $key } is refused: Unknown section name: plugin" \
			grep -q "Unknown section name: plugin" <<<"$out"
		check "$f: its comment says to write $key at top level instead" \
			eval 'grep -q "^## Dovecot 2.4 has no plugin { } block" "$src" && grep -qE "^##   $key = " "$src"'
	fi
done

# the auth module's snippet: inert as shipped (no userdb), and the
# commented userdb chain parses once uncommented
src=$confd/91-mailshard-auth.conf
mkconf shipped.conf "$src"
out=$(dconf "$SB/shipped.conf")
check "91-mailshard-auth.conf: doveconf accepts it as shipped" test $? = 0
check "91-mailshard-auth.conf: inert as shipped (no userdb, no mailshard setting)" \
	eval '! grep -qE "^(userdb|mailshard)" <<<"$out"'
sed -E 's/^#(userdb|  |})/\1/' "$src" >"$SB/auth-on.conf"
mkconf on.conf "$SB/auth-on.conf"
out=$(dconf "$SB/on.conf")
check "91-mailshard-auth.conf: the userdb chain parses when uncommented" test $? = 0
check "91-mailshard-auth.conf: ... passwd-file (continue-ok), then mailshard with its volumes" \
	eval 'grep -q "result_success = continue-ok" <<<"$out" && grep -qE "(driver = mailshard|^userdb mailshard)" <<<"$out" && grep -qE "volumes.*v1=/srv/mail/v1" <<<"$out"'
[ $? = 0 ] || diag "$out"

# the metrics snippet: both metric blocks and the stats listener, loopback
src=$confd/mailwarren-metrics.conf.ext
mkconf metrics.conf "$src"
out=$(dconf "$SB/metrics.conf")
check "mailwarren-metrics.conf.ext: doveconf accepts it" test $? = 0
check "mailwarren-metrics.conf.ext: metric mailshard_placement and spam_prefs_filing, stats http on 127.0.0.1:9900" \
	eval 'grep -q "^metric mailshard_placement {" <<<"$out" && grep -q "^metric spam_prefs_filing {" <<<"$out" &&
		sed -n "/inet_listener http {/,/}/p" <<<"$out" | grep -qE "(address|listen) = 127.0.0.1" &&
		sed -n "/inet_listener http {/,/}/p" <<<"$out" | grep -q "port = 9900"'
[ $? = 0 ] || diag "$out"

src=$confd/mailwarren.conf.ext
mkconf ext.conf "$src"
out=$(dconf "$SB/ext.conf")
check "mailwarren.conf.ext: doveconf accepts it" test $? = 0
if [ -n "$DC_V24" ]; then
	check "mailwarren.conf.ext: mailshard for all, sieve and spam_prefs for lmtp and lda" \
		eval 'sed -n "/^mail_plugins {/,/^}/p" <<<"$out" | grep -qx "  mailshard = yes" &&
			[ "$(grep -cx "    spam_prefs = yes" <<<"$out")" = 2 ] &&
			[ "$(grep -cx "    sieve = yes" <<<"$out")" = 2 ]'
else
	check "mailwarren.conf.ext: mailshard for all, spam_prefs for lmtp and lda" \
		eval 'grep -qE "^mail_plugins = .*mailshard" <<<"$out" &&
			[ "$(grep -c "mail_plugins = .*sieve spam_prefs" <<<"$out")" = 2 ]'
fi
# issue 19: the username keeps its domain (juan@a and juan@b are two users;
# it is Dovecot's default, so doveconf -n does not show it: ask -a)
if [ -n "$DC_V24" ]; then want_fmt='%{user | lower}'; else want_fmt='%Lu'; fi
check "mailwarren.conf.ext: auth_username_format = $want_fmt keeps the domain" \
	eval 'grep -qxF "auth_username_format = $want_fmt" "$src" &&
		dc_run doveconf -c "$SB/ext.conf" -a 2>/dev/null | grep -qxF "auth_username_format = $want_fmt"'

if command -v postconf >/dev/null 2>&1; then
	mkdir -p "$SB/postfix"
	cat "$top"/conf.d/postfix/main.cf.* >"$SB/postfix/main.cf"
	echo "smtp inet n - y - - smtpd" >"$SB/postfix/master.cf"
	err=$(postconf -c "$SB/postfix" -n 2>&1 >/dev/null)
	check "conf.d/postfix/main.cf.*: postconf accepts them, no warning" test -z "$err"
	[ -z "$err" ] || diag "$err"
	cp "$top/conf.d/postfix/master.cf.submission" "$SB/postfix/master.cf"
	err=$(postconf -c "$SB/postfix" -M 2>&1 >/dev/null)
	check "conf.d/postfix/master.cf.submission: postconf -M accepts it, no warning" \
		eval '[ -z "$err" ] && postconf -c "$SB/postfix" -M submission/inet | grep -q smtpd_sasl_auth_enable=yes'
	for p in smtpd_milters milter_default_action smtpd_relay_restrictions relay_transport smtpd_sasl_path; do
		check "conf.d/postfix: $p is set" eval 'postconf -c "$SB/postfix" -n "$p" | grep -q .'
	done
else
	ok "# SKIP postconf not installed (Debian package postfix)"
fi
done_testing
