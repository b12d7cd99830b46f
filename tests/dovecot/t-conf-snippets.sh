#!/bin/bash
# t-conf-snippets.sh - conf.d/dovecot/*.conf parse with doveconf, are inert
# as shipped (no mail_plugins, no settings in effect), and every commented
# setting is valid once uncommented.

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
done_testing
