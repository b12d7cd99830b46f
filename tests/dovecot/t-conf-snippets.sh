#!/bin/bash
# t-conf-snippets.sh - conf.d/dovecot/*.conf parse with doveconf, are inert
# as shipped (no mail_plugins, no settings in effect), and every commented
# setting is valid once uncommented; mailwarren.conf.ext (which enables the
# plugins, so it is not inert) parses too; the Postfix main.cf snippets
# together give a main.cf that postconf accepts without a warning, and
# master.cf.submission a master.cf.
# (./demo and tests/chain/ run with all of them.)

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/sandbox.sh"

sb_need_cmd doveconf dovecot-core
sb_init conf-snippets

for f in 90-mailshard.conf 95-spam-prefs.conf; do
	src=$top/conf.d/dovecot/$f
	printf 'ssl = no\n!include %s\n' "$src" >"$SB/shipped.conf"
	out=$(doveconf -c "$SB/shipped.conf" -n 2>&1)
	check "$f: doveconf accepts it as shipped" test $? = 0
	check "$f: inert as shipped (no plugin {} settings, no mail_plugins)" \
		eval '! grep -qE "^(plugin|mail_plugins)" <<<"$out"'
	# uncomment "  #key = value" lines inside plugin {}
	sed -E 's/^  #([a-z_]+ = )/  \1/' "$src" >"$SB/$f"
	printf 'ssl = no\n!include %s\n' "$SB/$f" >"$SB/on.conf"
	out=$(doveconf -c "$SB/on.conf" -n 2>&1)
	n=$(grep -cE '^  #[a-z_]+ = ' "$src")
	got=$(grep -cE '^  (mailshard|spam_prefs)_[a-z_]+ = ' <<<"$out")
	check "$f: all $n documented settings are accepted when uncommented" \
		test "$n" -gt 0 -a "$got" = "$n"
done

src=$top/conf.d/dovecot/mailwarren.conf.ext
printf 'ssl = no\n!include %s\n' "$src" >"$SB/ext.conf"
out=$(doveconf -c "$SB/ext.conf" -n 2>&1)
check "mailwarren.conf.ext: doveconf accepts it" test $? = 0
check "mailwarren.conf.ext: mailshard for all, spam_prefs for lmtp and lda" \
	eval 'grep -qE "^mail_plugins = .*mailshard" <<<"$out" &&
		[ "$(grep -c "mail_plugins = .*sieve spam_prefs" <<<"$out")" = 2 ]'

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
