#!/bin/bash
# t-milter-conf.sh - the documentation of mailwarren-milter's settings
# matches the code (TAP): every key of the table in milter/milter_cfg.c is
# in the sample conf.d/mailwarren/mailwarren-milter.conf with a "# Default:"
# equal to the table's default, and in mailwarren-milter.conf(5) with that
# default (and INT range); mailwarren-milter(8) lists the settings a
# reload keeps as the code keeps them; the sample, as shipped and with
# every key uncommented, passes -t.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"
. "$top_srcdir/tests/lib/docs.sh"

[ -x "$MWM_BIN" ] || skip_all "$MWM_BIN not built"
sb_init t-milter-conf
SAMPLE=$top_srcdir/conf.d/mailwarren/mailwarren-milter.conf
MAN5=$top_srcdir/man/mailwarren-milter.conf.5

# key <TAB> default ("(unset)" for NULL), from the table
# (and the shared userdb entries, lib/mw_relay.h MW_RELAY_USERDB_CFG)
sed -n 's/^	{"\([A-Za-z]*\)", MW_CFG_[A-Z]*, \(NULL\|"\([^"]*\)"\),.*/\1	\3/p' \
	"$top_srcdir/milter/milter_cfg.c" \
	$(grep -q MW_RELAY_USERDB_CFG "$top_srcdir/milter/milter_cfg.c" && echo "$top_srcdir/lib/mw_relay.h") \
	>"$SB/table"
# key <TAB> documented default, from the sample: the last "# Default:"
# before each commented-out "#Key value" line
awk '/^# Default: / { d = substr($0, 12); next }
     /^#[A-Z][A-Za-z]* / { k = substr($1, 2); if (!(k in seen)) { seen[k] = 1; print k "\t" d } }' \
	"$SAMPLE" >"$SB/sample"

n=$(wc -l <"$SB/table")
check "the table has all $n keys (parsed)" test "$n" -ge 25
while IFS=$'\t' read -r key def; do
	doc=$(awk -F '\t' -v k="$key" '$1 == k { print $2 }' "$SB/sample")
	want=${def:-"(unset)"}
	[ "$key" = TrustedNetworks ] && want="(none)"
	check "$key: in the sample with # Default: $want" test "$doc" = "$want"
	check "$key: in mailwarren-milter.conf(5)" grep -q "^\.B $key " "$MAN5"
done <"$SB/table"
# the page states the table's default (and INT range) too
docs_check_defaults "$MAN5" "$SAMPLE" "$top_srcdir/milter/milter_cfg.c" \
	$(grep -q MW_RELAY_USERDB_CFG "$top_srcdir/milter/milter_cfg.c" && echo "$top_srcdir/lib/mw_relay.h")
# mailwarren-milter(8) lists the settings a reload keeps, as the code keeps them
docs_check_restart "$top_srcdir/man/mailwarren-milter.8" "$top_srcdir/milter/milter_live.c" live_restart_only

out=$("$MWM_BIN" -t -c "$SAMPLE" 2>&1)
check "-t accepts the sample as shipped" test "$out" = "$SAMPLE: OK"
# the stamp key the sample names is made here (the only file -t reads)
(umask 077 && echo 000102030405060708090a0b0c0d0e0f >"$SB/stamp.key")
sed -e 's/^#\([A-Z][A-Za-z]* \)/\1/' -e "s|^StampKeyFile .*|StampKeyFile $SB/stamp.key|" \
	"$SAMPLE" >"$SB/all.conf"
out=$("$MWM_BIN" -t -c "$SB/all.conf" 2>&1)
check "-t accepts the sample with every key uncommented" test "$out" = "$SB/all.conf: OK"
[ "$out" = "$SB/all.conf: OK" ] || diag "$out"

# -h/--help: usage on stdout, exit 0; --version; a bad option: exit 2
out=$("$MWM_BIN" -h 2>/dev/null); rc=$?
check "-h: the usage line on stdout, exit 0 ($rc)" bash -c "[ $rc = 0 ] && grep -q '^usage: .*mailwarren-milter \[-fhtv\] \[-c config_file\]' <<<\"\$1\"" _ "$out"
out=$("$MWM_BIN" --help 2>/dev/null); rc=$?
check "--help: the same" bash -c "[ $rc = 0 ] && grep -q '^usage: ' <<<\"\$1\"" _ "$out"
out=$("$MWM_BIN" --version 2>&1); rc=$?
check "--version: \"$out\", exit 0" bash -c "[ $rc = 0 ] && grep -qE '^mailwarren-milter [0-9][0-9.]* \(libclamav [0-9.]+, libmilter [0-9.]+\)$' <<<\"\$1\"" _ "$out"
"$MWM_BIN" -x >/dev/null 2>&1; rc=$?
check "a bad option: exit 2 ($rc)" test "$rc" = 2

# a stamp key others can read, or that is not 32 hex digits: refused
cp "$SB/stamp.key" "$SB/open.key" && chmod 644 "$SB/open.key"
echo "StampKeyFile $SB/open.key" >"$SB/open.conf"
out=$("$MWM_BIN" -t -c "$SB/open.conf" 2>&1)
check "-t refuses a stamp key others can read" \
	test "$out" = "$SB/open.conf: StampKeyFile $SB/open.key: readable or writable by others (chmod o-rw): the key is a secret"
(umask 077 && echo 0001020304 >"$SB/short.key")
echo "StampKeyFile $SB/short.key" >"$SB/short.conf"
out=$("$MWM_BIN" -t -c "$SB/short.conf" 2>&1)
check "-t refuses a stamp key that is not 32 hex digits" \
	test "$out" = "$SB/short.conf: StampKeyFile $SB/short.key: key: expected 32 hexadecimal digits"

# errors name the configuration file (mailwarren(7)); the relay tables are
# read only with RelayPolicy yes
echo "OnInfected accept" >"$SB/enum.conf"
docs_check_t "-t: a value the key does not take is \"file: Key: reason\"" "$MWM_BIN" "$SB/enum.conf" \
	"$SB/enum.conf: OnInfected: bad value \"accept\" (expected reject, discard, quarantine, tag)"
echo "10.0.0.1/24 c1" >"$SB/bits.cidr"
printf 'HostedDomains example.com\nCustomerNetworks %s\n' "$SB/bits.cidr" >"$SB/table.conf"
docs_check_t "-t: with RelayPolicy no the table files are not read" "$MWM_BIN" "$SB/table.conf" \
	"$SB/table.conf: OK"
echo "RelayPolicy yes" >>"$SB/table.conf"
docs_check_t "-t: a table file's error is \"file: table:line: reason\"" "$MWM_BIN" "$SB/table.conf" \
	"$SB/table.conf: $SB/bits.cidr:1: 10.0.0.1/24: address has bits set beyond the /24 prefix"

done_testing
