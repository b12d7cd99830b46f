#!/bin/sh
# summary.sh - one line over automake's .trs files: "N passed, N failed, N skipped"
#
# PASS and XFAIL count as passed; FAIL, XPASS and ERROR as failed; SKIP as
# skipped.  A listed .trs that does not exist (the test could not even be
# built) counts as one failure.  Exits 1 when anything failed.
missing=0
files=
for f in "$@"; do
	if [ -f "$f" ]; then
		files="$files $f"
	else
		echo "ERROR: ${f%.trs} (no result: not built or not run)"
		missing=$((missing + 1))
	fi
done
# shellcheck disable=SC2086
cat /dev/null $files | awk -v missing="$missing" '
	/^:test-result: (PASS|XFAIL)/		{ p++ }
	/^:test-result: (FAIL|XPASS|ERROR)/	{ f++ }
	/^:test-result: SKIP/			{ s++ }
	END {
		f += missing
		printf "%d passed, %d failed, %d skipped\n", p, f, s
		exit (f > 0)
	}'
