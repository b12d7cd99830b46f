#!/bin/bash
# t-policy-docs.sh - every key of mailwarren-policyd's configuration table is
# in the sample configuration (with a "# Default:" line) and in the .conf(5)
# man page, with the table's default (and INT range) in both;
# mailwarren-policyd(8) lists the settings a reload keeps as the code keeps
# them; and the sample as shipped is a valid configuration.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"
. "$MW_TESTLIB/policyd.sh"
. "$MW_TESTLIB/docs.sh"

src=$MW_TOP_SRCDIR
# (and the shared userdb entries, lib/mw_relay.h MW_RELAY_USERDB_CFG)
keys=$(sed -n 's/^	{"\([A-Za-z]*\)", MW_CFG_.*/\1/p' "$src/policy/policy_conf.c" \
	$(grep -q MW_RELAY_USERDB_CFG "$src/policy/policy_conf.c" && echo "$src/lib/mw_relay.h"))
[ -n "$keys" ] || { echo "1..0 # SKIP no keys found"; exit 0; }
sample=$src/conf.d/mailwarren/mailwarren-policyd.conf
man5=$src/man/mailwarren-policyd.conf.5

missing=
for k in $keys; do
	# the key appears commented out as "#Key value", after a "# Default:" line
	awk -v k="$k" '/^# Default:/ { d = 1 } $1 == "#" k && d { found = 1 } END { exit !found }' "$sample" \
		|| missing="$missing $k"
done
check "every key ($(wc -w <<<"$keys")) in the sample with # Default:${missing:+ (missing:$missing)}" test -z "$missing"

missing=
for k in $keys; do
	grep -q "^\.BR .*\b$k\b" "$man5" || missing="$missing $k"
done
check "every key in mailwarren-policyd.conf(5)${missing:+ (missing:$missing)}" test -z "$missing"

# the same default (and INT range) in the table, the page and the sample
docs_check_defaults "$man5" "$sample" "$src/policy/policy_conf.c" \
	$(grep -q MW_RELAY_USERDB_CFG "$src/policy/policy_conf.c" && echo "$src/lib/mw_relay.h")
# mailwarren-policyd(8) lists the settings a reload keeps, as the code keeps them
docs_check_restart "$src/man/mailwarren-policyd.8" "$src/policy/policyd.c" restart_only

out=$("$PD_BIN" -t -c "$sample" 2>&1)
check "the sample configuration passes -t ($out)" test "$out" = "$sample: OK"

# -h/--help: usage on stdout, exit 0; --version; a bad option: exit 2
out=$("$PD_BIN" -h 2>/dev/null); rc=$?
check "-h: the usage line on stdout, exit 0 ($rc)" bash -c "[ $rc = 0 ] && grep -q '^usage: .*mailwarren-policyd \[-fhtv\]' <<<\"\$1\"" _ "$out"
out=$("$PD_BIN" --help 2>/dev/null); rc=$?
check "--help: the same" bash -c "[ $rc = 0 ] && grep -q '^usage: ' <<<\"\$1\"" _ "$out"
out=$("$PD_BIN" --version 2>&1); rc=$?
check "--version: \"$out\", exit 0" bash -c "[ $rc = 0 ] && grep -qE '^mailwarren-policyd [0-9][0-9.]*$' <<<\"\$1\"" _ "$out"
"$PD_BIN" --bogus >/dev/null 2>&1; rc=$?
check "a bad option: exit 2 ($rc)" test "$rc" = 2

# HostedDomains is required: unset, or only an empty file, is an error
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
grep -v '^HostedDomains ' "$sample" >"$d/nohosted.conf"
out=$("$PD_BIN" -t -c "$d/nohosted.conf" 2>&1); rc=$?
check "-t: no HostedDomains is an error (exit $rc)" \
	bash -c "[ $rc != 0 ] && grep -qF 'HostedDomains: not set (list the domains this site takes mail for' <<<\"\$1\"" _ "$out"
echo "# nothing yet" >"$d/hosted"
{ grep -v '^HostedDomains ' "$sample"; echo "HostedDomains $d/hosted"; } >"$d/empty.conf"
out=$("$PD_BIN" -t -c "$d/empty.conf" 2>&1); rc=$?
check "-t: HostedDomains naming only an empty file is an error (exit $rc)" \
	bash -c "[ $rc != 0 ] && grep -qF 'HostedDomains: no domains in the list or its files' <<<\"\$1\"" _ "$out"

# errors name the configuration file (mailwarren(7)): a value the key does
# not take as "file: Key: reason", a table file's error after "file: "
printf 'HostedDomains example.com\nRelayDenyAction bounce\n' >"$d/enum.conf"
docs_check_t "-t: a value the key does not take is \"file: Key: reason\"" "$PD_BIN" "$d/enum.conf" \
	"$d/enum.conf: RelayDenyAction: expected reject or reject_unauth_destination"
printf '10.0.0.1/24 c1\n' >"$d/bits.cidr"
printf 'HostedDomains example.com\nCustomerNetworks %s\n' "$d/bits.cidr" >"$d/table.conf"
docs_check_t "-t: a table file's error is \"file: table:line: reason\"" "$PD_BIN" "$d/table.conf" \
	"$d/table.conf: $d/bits.cidr:1: 10.0.0.1/24: address has bits set beyond the /24 prefix"
done_testing
