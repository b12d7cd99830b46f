#!/bin/bash
# t-clamdb.sh - the ClamAV test databases and messages of tests/lib/gen-clamdb.py
# checked against the real clamscan (TAP).
#
# The official ClamAV databases are not available offline, so every virus
# test of mailwarren relies on these generated signatures.  This test pins
# down what each generated message triggers:
#   - each sample message gives exactly the expected signature name(s),
#     scanned as the milter does (mbox "From " line prepended) and bare;
#   - ham and the near-miss sample are clean;
#   - the generator output is deterministic and its EICAR is the real one;
#   - the scaled generator's DB loads, counts right and still detects;
#   - missing, empty and malformed DBs fail in the documented way.
# ClamAV appends ".UNOFFICIAL" to every name from an unsigned database.

# absolute, so that it survives the cd's below (automake may pass a relative one)
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
# shellcheck source=../lib/sandbox.sh
. "$top_srcdir/tests/lib/sandbox.sh"

sb_need_cmd clamscan clamav
sb_need_cmd python3 python3
sb_init clamdb
export LC_ALL=C      # stable sort order of signature names

GEN=$MW_TESTLIB/gen-clamdb.py
DB=$SB/db            # test DB
S=$SB/samples        # sample messages, as written
F=$SB/from           # the same with an mbox From_ line prepended
mkdir -p "$SB/tmp" "$F"

# Expected results with the test DB (names without .UNOFFICIAL; "-" = clean):
#   file  first-name (default scan)  all-names (--allmatch, sorted)  first-name of the bare file
# The first three columns are for the message with a From_ line, as the
# milter scans it.  Must agree with expected.tsv written by the generator.
EXPECTED='
eicar-plain.eml        Test.EICAR.NDB             Test.EICAR.NDB                                 Test.EICAR.NDB
eicar-b64.eml          Test.EICAR.NDB             Test.EICAR.HDB,Test.EICAR.NDB                  Test.EICAR.NDB
eicar-zip.eml          Test.EICAR.NDB             Test.EICAR.HDB,Test.EICAR.InZip,Test.EICAR.NDB Test.EICAR.NDB
eicar-zipzip.eml       Test.EICAR.NDB             Test.EICAR.HDB,Test.EICAR.InZip,Test.EICAR.NDB Test.EICAR.NDB
eicar-qp.eml           Test.EICAR.NDB             Test.EICAR.NDB                                 Test.EICAR.NDB
eicar-rfc822.eml       Test.EICAR.NDB             Test.EICAR.HDB,Test.EICAR.NDB                  Test.EICAR.NDB
eicar-b64-nomagic.eml  Test.EICAR.NDB             Test.EICAR.HDB,Test.EICAR.NDB                  -
ham.eml                -                          -                                              -
body-trigger.eml       Mailwarren.Test.Body       Mailwarren.Test.Body                           Mailwarren.Test.Body
attachment-trigger.eml Mailwarren.Test.Attachment Mailwarren.Test.Attachment                     Mailwarren.Test.Attachment
logical-both.eml       Mailwarren.Test.Logical    Mailwarren.Test.Logical                        Mailwarren.Test.Logical
logical-one.eml        -                          -                                              -
'
TEST_SIGS=6          # signatures in the test DB
EICAR_MD5=44d88612fea8a8f36de82e1278abb02f

# ---- helpers ---------------------------------------------------------------

# scan OUT ARGS...: clamscan ARGS into OUT (stdout) and OUT.err; sets SCAN_RC
scan() {
	local out=$1
	shift
	clamscan --tempdir="$SB/tmp" "$@" >"$out" 2>"$out.err"
	SCAN_RC=$?
}

# names FILE OUT: the distinct names clamscan reported for FILE, sorted,
# comma-separated, .UNOFFICIAL stripped; "-" when clean, "?" when FILE is
# missing from the output.  (No name contains ": ".)
names() {
	awk -F': ' -v f="$1" '
		$1 == f { seen = 1; if ($2 != "OK") { sub(/ FOUND$/, "", $2); sub(/\.UNOFFICIAL$/, "", $2); print $2 } }
		END { if (!seen) print "?" }' "$2" | sort -u | paste -sd, - | sed 's/^$/-/'
}

# known OUT: the "Known viruses" count of a clamscan summary
known() {
	sed -n 's/^Known viruses: //p' "$1"
}

# is DESC GOT WANT: ok if equal, else not_ok with a diagnostic
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "  got:  '$2'"
		diag "  want: '$3'"
	fi
}

# fails CMD...: succeed when CMD fails (for `check`)
fails() {
	! "$@"
}

# gen ARGS...: run the generator, its progress lines into $SB/gen.log (not TAP)
gen() {
	python3 "$GEN" "$@" >>"$SB/gen.log"
}

# the EICAR string, assembled here too so that this file does not trigger a scanner
# shellcheck disable=SC2016  # literal $ signs, no expansion wanted
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$''EICAR-STANDARD-''ANTIVIRUS-TEST-FILE!$H+H*'

# ---- generation ------------------------------------------------------------

check "gen test DB" gen test "$DB"
check "gen samples" gen samples "$S"
for f in test.ndb test.hdb test.hsb test.ldb; do
	check "test DB has non-empty $f" test -s "$DB/$f"
done
is "eicar.com is the real EICAR file (MD5)" "$(md5sum <"$S/eicar.com" | cut -d' ' -f1)" "$EICAR_MD5"
is "eicar.com is exactly the EICAR string" "$(cat "$S/eicar.com")" "$EICAR"
if grep -qF -e "$EICAR" -e "EICAR-STANDARD-ANTIVIRUS" "$GEN"; then
	not_ok "generator source does not contain the EICAR string"
else
	ok "generator source does not contain the EICAR string"
fi
check "DB's samples/ holds the synthetic attachment the samples use" \
	cmp -s "$DB/samples/mailwarren-test-attachment.bin" "$S/mailwarren-test-attachment.bin"

# the encoded samples must not carry the plain string: a match proves decoding
for f in eicar-b64.eml eicar-zip.eml eicar-zipzip.eml eicar-qp.eml eicar-rfc822.eml eicar-b64-nomagic.eml; do
	check "$f: EICAR only in encoded form" fails grep -qF -e "$EICAR" "$S/$f"
done
check "eicar-plain.eml carries the plain string" grep -qF -e "$EICAR" "$S/eicar-plain.eml"

# the generator's own expectation table agrees with this test's
echo "$EXPECTED" | awk 'NF { print $1 }' >"$SB/want-files"
cut -f1 "$S/expected.tsv" >"$SB/got-files"
check "expected.tsv lists the same messages" cmp -s "$SB/want-files" "$SB/got-files"
while read -r f first all bare; do
	[ -n "$f" ] || continue
	IFS=$'\t' read -r _ t_first t_all t_bare <<<"$(awk -F'\t' -v f="$f" '$1 == f' "$S/expected.tsv")"
	t_all=$(tr , '\n' <<<"$t_all" | sort | paste -sd, -)
	is "expected.tsv row for $f" "$t_first $t_all $t_bare" "$first $all $bare"
done <<<"$EXPECTED"

# deterministic: a second run writes the same bytes
gen test "$SB/db2" && gen samples "$SB/samples2"
check "test DB is reproducible" diff -r "$DB" "$SB/db2"
check "samples are reproducible" diff -r "$S" "$SB/samples2"

# ---- the test DB -----------------------------------------------------------

scan "$SB/count" -d "$DB" "$S/eicar.com"
is "test DB: Known viruses = $TEST_SIGS" "$(known "$SB/count")" "$TEST_SIGS"

for f in "$S"/*.eml; do
	{ printf 'From mailwarren-test Mon Nov 23 00:10:00 2026\r\n'; cat "$f"; } >"$F/${f##*/}"
done

# Scan from inside the directory so the output names are bare file names.
(cd "$S" && scan "$SB/bare" --no-summary -d "$DB" ./*.eml eicar.com mailwarren-test-attachment.bin; exit $SCAN_RC)
is "bare scan exits 1 (virus found)" "$?" 1
(cd "$F" && scan "$SB/first" --no-summary -d "$DB" ./*.eml; exit $SCAN_RC)
is "From_ scan exits 1 (virus found)" "$?" 1
(cd "$F" && scan "$SB/all" --no-summary --allmatch -d "$DB" ./*.eml; exit $SCAN_RC)
is "From_ --allmatch scan exits 1" "$?" 1
check "scans wrote no errors" fails grep -q . "$SB/bare.err" "$SB/first.err" "$SB/all.err"

while read -r f first all bare; do
	[ -n "$f" ] || continue
	is "$f (From_): $first" "$(names "./$f" "$SB/first")" "$first"
	is "$f (From_, --allmatch): $all" "$(names "./$f" "$SB/all")" "$all"
	is "$f (bare): $bare" "$(names "./$f" "$SB/bare")" "$bare"
done <<<"$EXPECTED"
is "raw eicar.com: Test.EICAR.NDB" "$(names eicar.com "$SB/bare")" Test.EICAR.NDB
is "raw synthetic attachment: Mailwarren.Test.Attachment" \
	"$(names mailwarren-test-attachment.bin "$SB/bare")" Mailwarren.Test.Attachment
check "names carry the .UNOFFICIAL suffix" \
	grep -qx './eicar-zip.eml: Test.EICAR.NDB.UNOFFICIAL FOUND' "$SB/first"
diag "bare eicar-b64-nomagic.eml is typed as text, not mail: prepend a From_ line before scanning"

# the trigger strings are assembled at run time: our own sources stay clean
scan "$SB/self" --no-summary -d "$DB" "$GEN" "$top_srcdir/tests/integ/t-clamdb.sh"
is "generator and this test are clean under the test DB" "$SCAN_RC" 0

# each database file on its own: the formats really work independently
(cd "$F" && scan "$SB/hdb" --no-summary -d "$DB/test.hdb" eicar-b64.eml eicar-plain.eml eicar-qp.eml)
is "test.hdb alone: base64 attachment" "$(names eicar-b64.eml "$SB/hdb")" Test.EICAR.HDB
is "test.hdb alone: EICAR line in a text body is clean" "$(names eicar-plain.eml "$SB/hdb")" -
is "test.hdb alone: QP part is clean (decoder adds a newline)" "$(names eicar-qp.eml "$SB/hdb")" -
(cd "$F" && scan "$SB/ldb" --no-summary -d "$DB/test.ldb" eicar-zip.eml eicar-b64.eml logical-both.eml)
is "test.ldb alone: zip member" "$(names eicar-zip.eml "$SB/ldb")" Test.EICAR.InZip
is "test.ldb alone: not in a zip is clean" "$(names eicar-b64.eml "$SB/ldb")" -
is "test.ldb alone: both logical markers" "$(names logical-both.eml "$SB/ldb")" Mailwarren.Test.Logical
(cd "$F" && scan "$SB/hsb" --no-summary -d "$DB/test.hsb" attachment-trigger.eml eicar-b64.eml)
is "test.hsb alone: synthetic attachment" "$(names attachment-trigger.eml "$SB/hsb")" Mailwarren.Test.Attachment
is "test.hsb alone: EICAR is clean" "$(names eicar-b64.eml "$SB/hsb")" -

# ---- the scaled DB (small counts) ------------------------------------------

SC=$SB/scaled
check "gen scaled --hashes 2000 --bodies 200" \
	gen scaled "$SC" --hashes 2000 --bodies 200
is "synth.hdb: 1800 MD5 lines (90%)" "$(wc -l <"$SC/synth.hdb")" 1800
is "synth.hsb: 200 SHA-256 lines (10%)" "$(wc -l <"$SC/synth.hsb")" 200
is "synth.ndb: 200 body lines" "$(wc -l <"$SC/synth.ndb")" 200
check "synth.hdb lines are md5:size:name" \
	fails grep -vqE '^[0-9a-f]{32}:[0-9]+:Synth\.Hash\.[0-9]+$' "$SC/synth.hdb"
check "synth.hsb lines are sha256:size:name" \
	fails grep -vqE '^[0-9a-f]{64}:[0-9]+:Synth\.Sha256\.[0-9]+$' "$SC/synth.hsb"
is "synth names are unique" "$(cut -d: -f3 "$SC"/synth.h?b | sort | uniq -d | wc -l)" 0
(cd "$F" && scan "$SB/sc" -d "$SC" eicar-zip.eml ham.eml logical-one.eml body-trigger.eml; exit $SCAN_RC)
is "scaled DB loads and scans (exit 1)" "$?" 1
is "scaled DB: Known viruses = $((TEST_SIGS + 2200))" "$(known "$SB/sc")" $((TEST_SIGS + 2200))
is "scaled DB detects EICAR in a zip" "$(names eicar-zip.eml "$SB/sc")" Test.EICAR.NDB
is "scaled DB detects the body marker" "$(names body-trigger.eml "$SB/sc")" Mailwarren.Test.Body
is "scaled DB: ham stays clean" "$(names ham.eml "$SB/sc")" -
is "scaled DB: near miss stays clean" "$(names logical-one.eml "$SB/sc")" -

gen scaled "$SB/scaled2" --hashes 2000 --bodies 200
check "scaled DB is reproducible with the same seed" diff -r "$SC" "$SB/scaled2"
gen scaled "$SB/scaled3" --hashes 2000 --bodies 200 --seed 7
check "another seed gives other signatures" fails cmp -s "$SC/synth.hdb" "$SB/scaled3/synth.hdb"

# no SHA-256 share: no synth.hsb at all (an empty DB file would break the load)
gen scaled "$SC" --hashes 30 --bodies 0 --sha256-share 0
check "--sha256-share 0 --bodies 0: synth.hdb only" \
	test -s "$SC/synth.hdb" -a ! -e "$SC/synth.hsb" -a ! -e "$SC/synth.ndb"
scan "$SB/sc0" -d "$SC" "$S/eicar.com"
is "that DB loads: Known viruses = $((TEST_SIGS + 30))" "$(known "$SB/sc0")" $((TEST_SIGS + 30))
# `test` into a scaled DB dir drops the random signatures again
gen test "$SC"
scan "$SB/sc1" -d "$SC" "$S/eicar.com"
is "test over a scaled dir: back to $TEST_SIGS signatures" "$(known "$SB/sc1")" "$TEST_SIGS"

check "scaled --hashes -1 is refused" fails gen scaled "$SB/x" --hashes -1 2>/dev/null
check "no mode is refused" fails gen 2>/dev/null

# ---- defined failures (documentation of clamscan's behaviour) --------------

scan "$SB/missing" --no-summary -d "$SB/no-such-dir" "$S/eicar.com"
is "missing DB dir: exit 2" "$SCAN_RC" 2
check "missing DB dir: 'No such file or directory'" grep -q 'No such file or directory' "$SB/missing.err"
mkdir "$SB/empty"
scan "$SB/empty-out" --no-summary -d "$SB/empty" "$S/eicar.com"
is "empty DB dir: exit 2" "$SCAN_RC" 2
check "empty DB dir: 'No supported database files found'" \
	grep -q 'No supported database files found' "$SB/empty-out.err"
mkdir "$SB/emptyfile" && cp "$DB"/test.* "$SB/emptyfile/" && : >"$SB/emptyfile/extra.hdb"
scan "$SB/ef" --no-summary -d "$SB/emptyfile" "$S/eicar.com"
is "an empty .hdb among good files: exit 2" "$SCAN_RC" 2
check "an empty .hdb: 'Empty database file', whole load fails" grep -q 'Empty database file' "$SB/ef.err"
mkdir "$SB/bad" && cp "$DB"/test.* "$SB/bad/" && echo 'Broken.Sig:0:*:zz' >>"$SB/bad/test.ndb"
scan "$SB/bad-out" --no-summary -d "$SB/bad" "$S/eicar.com"
is "a malformed .ndb line: exit 2" "$SCAN_RC" 2
check "a malformed .ndb line: 'Malformed database'" grep -q 'Malformed database' "$SB/bad-out.err"

done_testing
