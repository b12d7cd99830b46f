# docs.sh - read a daemon's configuration table, its .conf(5) page and its
# conf.d sample, so that a test can hold the three to one another (sourced).
#
# docs_table FILE...    key <TAB> type <TAB> default <TAB> min <TAB> max, one
#                       line per "{"Key", MW_CFG_TYPE, default, C(..), min,
#                       max}" entry (default "(null)" for NULL, min/max as
#                       written, "LL" dropped)
# docs_man_default KEY MAN
#                       the default that KEY's heading line in MAN states
#                       (the words after "default" up to ")", ", " or ": ",
#                       font escapes removed); "required" for "(..., required)"
# docs_man_range KEY MAN
#                       the "N..M" range of KEY's heading line, if it has one
# docs_sample_default KEY SAMPLE
#                       the last "# Default:" value before "#KEY value"
#                       (or "KEY value") in the sample

docs_table() {
	sed -e 's/MW_CFG_\([A-Z]*\), NULL,/MW_CFG_\1, "(null)",/' -e 's/\([0-9]\)LL\b/\1/g' "$@" |
		sed -n 's/^	*{"\([A-Za-z]*\)", MW_CFG_\([A-Z]*\), \(NULL\|"\([^"]*\)"\), C([a-z_]*), \([^,]*\), \([^}]*\)}.*/\1	\2	\4	\5	\6/p'
}

# the heading line, after .TP or .TQ: ".B Key ..." or ".BR Key ..." or
# ".BR A \", \" Key ..."
docs_man_heading() {
	awk -v k="$1" '(p == ".TP" || p == ".TQ") && ($1 == ".B" || $1 == ".BR") {
			for (i = 2; i <= NF; i++) if ($i == k) { print; exit } }
		{ p = $1 }' "$2" | sed 's/\\f[BIRP]//g'
}

docs_man_default() {
	docs_man_heading "$1" "$2" | awk '
		/[(,] *required\)/ { print "required"; exit }
		{ if (match($0, /default:? [^)]*/)) {
			v = substr($0, RSTART, RLENGTH); sub(/^default:? /, "", v)
			sub(/(, |: ).*/, "", v); print v } }'
}

docs_man_range() {
	docs_man_heading "$1" "$2" | grep -oE '[0-9]+[A-Za-z]*\.\.[0-9]+[A-Za-z]*' | head -n 1
}

docs_sample_default() {
	awk -v k="$1" '/^# Default: / { d = substr($0, 12); next }
	     $1 == "#" k || $1 == k { print d; exit }' "$2"
}

# docs_null_word WORD: how a page or sample may say "no default"
docs_null_word() {
	case $1 in
	none | unset | empty | required | "(none"* | "(unset"*) return 0 ;;
	*) return 1 ;;
	esac
}

# docs_check_defaults MAN SAMPLE FILE...: three TAP checks (tap.sh) that
# every key of the table in FILE... states, in MAN, the table's default
# (or a word for none) and, for an INT, the table's range when it gives
# one; and, in SAMPLE, the same default on its "# Default:" line.
docs_check_defaults() {
	local man=$1 sample=$2 key type def min max doc bad_man= bad_range= bad_sample=
	shift 2
	while IFS=$'\t' read -r key type def min max; do
		doc=$(docs_man_default "$key" "$man")
		if [ "$def" = "(null)" ]; then
			docs_null_word "$doc" || bad_man="$bad_man $key=$doc(none)"
		else
			[ "$doc" = "$def" ] || bad_man="$bad_man $key=$doc($def)"
		fi
		doc=$(docs_man_range "$key" "$man")
		[ "$type" != INT ] || [ -z "$doc" ] || [ "$doc" = "$min..$max" ] ||
			bad_range="$bad_range $key=$doc($min..$max)"
		doc=$(docs_sample_default "$key" "$sample")
		if [ "$def" = "(null)" ]; then
			docs_null_word "$doc" || bad_sample="$bad_sample $key=$doc(none)"
		else
			[ "${doc%% *}" = "$def" ] || bad_sample="$bad_sample $key=$doc($def)"
		fi
	done < <(docs_table "$@")
	check "every key's default in ${man##*/} is the code's${bad_man:+ (wrong:$bad_man)}" test -z "$bad_man"
	check "every INT range in ${man##*/} is the code's${bad_range:+ (wrong:$bad_range)}" test -z "$bad_range"
	check "every key's # Default: in ${sample##*/} is the code's${bad_sample:+ (wrong:$bad_sample)}" test -z "$bad_sample"
}

# docs_restart_code FILE FUNCTION: the keys FUNCTION (a daemon's
# restart_only step of a reload) keeps, sorted: its "Key" arguments and
# the keys of its own "reload: Key changed" warnings
docs_restart_code() {
	awk -v f="$2" '$0 ~ "^" f "\\(" { b = 1 } b { print } b && /^}/ { exit }' "$1" |
		grep -oE '"[A-Z][A-Za-z]+"|reload: [A-Z][A-Za-z]+ changed' |
		sed -e 's/"//g' -e 's/^reload: //' -e 's/ changed$//' | sort -u
}

# docs_man_entry KEY MAN: the text of KEY's entry (from its heading line to
# the next .TP, .PP or .SH), on one line
docs_man_entry() {
	awk -v k="$1" '(p == ".TP" || p == ".TQ") && ($1 == ".B" || $1 == ".BR") {
			for (i = 2; i <= NF; i++) if ($i == k) e = 1 }
		e && n++ && /^\.(TP|PP|SH)/ { exit }
		e { print }
		{ p = $1 }' "$2" | tr '\n' ' '
}

# docs_restart_page MAN: the keys that MAN's SIGHUP entry lists as needing
# a restart, sorted (policyd: "A, B, ... take effect only at restart";
# milter: "Settings that need a restart (A, B, ...)")
docs_restart_page() {
	awk '/^\.B SIGHUP/ { f = 1; next } f && /^\.TP/ { exit } f' "$1" | tr '\n' ' ' |
		sed -n -e 's/.*Settings that need a restart (\([^)]*\)).*/\1/p' \
			-e 's/.*[.;] \([A-Z][A-Za-z]*, [A-Z][^.;]*\) take effect only at restart.*/\1/p' |
		grep -oE '[A-Z][A-Za-z]+' | sort -u
}

# docs_check_restart MAN FILE FUNCTION: a TAP check that MAN's SIGHUP entry
# lists exactly the keys that FUNCTION in FILE keeps at reload
docs_check_restart() {
	local code page
	code=$(docs_restart_code "$2" "$3" | tr '\n' ' ')
	page=$(docs_restart_page "$1" | tr '\n' ' ')
	check "${1##*/} SIGHUP: the restart-only keys are the code's ($3: ${code:-none found})" \
		test -n "$code" -a "$code" = "$page"
	[ "$code" = "$page" ] || diag "page lists: $page"
}

# docs_check_t DESC BIN CONF WANT: a TAP check that "BIN -t -c CONF" prints
# exactly WANT (on stdout or stderr)
docs_check_t() {
	local out
	out=$("$2" -t -c "$3" 2>&1)
	check "$1 ($out)" test "$out" = "$4"
}
