# tap.sh - minimal TAP producer for shell tests (sourced)
#
# plan N           print the plan
# ok DESC          a passing test
# not_ok DESC      a failing test (also prints diagnostics from stdin if piped)
# check DESC CMD.. run CMD; ok if it exits 0, not_ok otherwise
# skip_all REASON  print "1..0 # SKIP REASON" and exit 0
# diag TEXT        a comment line on stderr-safe stdout
# done_testing     print the plan at the end when none was given; exit 1 on failures
#
# The automake TAP driver (build-aux/tap-driver.sh) reads this output.

TAP_N=0
TAP_FAILED=0
TAP_PLANNED=

plan() {
	TAP_PLANNED=$1
	echo "1..$1"
}

ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $*"
}

not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $*"
}

check() {
	_desc=$1
	shift
	if "$@"; then
		ok "$_desc"
	else
		not_ok "$_desc"
	fi
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

done_testing() {
	[ -n "$TAP_PLANNED" ] || echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
