# scraper.sh - hostile scrapers against a /metrics endpoint while the
# caller's mail or policy traffic runs (sourced, bash; after sandbox.sh and
# tap.sh, with $SB set).
#
# sc_attack PORT    with the file $SB/attack present for the caller's
#                   traffic loop, at once: two slowloris scrapers (a byte a
#                   second for up to 20 s), a 1 MB request line, 1,000
#                   connections held 8 s, a reader that never reads; waits
#                   for them all, then removes $SB/attack.  Raises the
#                   shell's descriptor limit (the flood needs 1,000).
# sc_attack_checks  the TAP checks of what the scrapers saw: both slowloris
#                   closed by the server, the 1 MB line refused (431 or
#                   closed), the flood ran (its counts as a diagnostic)
# sc_exposition_checks PORT MAN8 MIN  four TAP checks of the endpoint: GET
#                   /metrics is 200, promtool check metrics has nothing to
#                   say, every metric of the METRICS section of MAN8 (at
#                   least MIN) is served and every one served is there;
#                   the exposition is left in $SB/m0.prom

SC_SCRAPER=$MW_TESTLIB/scraper.py

sc_attack() {
	local port=$1 s1 s2 f r py=${MW_PYTHON:-/usr/bin/python3}
	ulimit -n 8192
	"$py" "$SC_SCRAPER" slowloris "$port" 20 >"$SB/slow1.out" 2>&1 &
	s1=$!
	"$py" "$SC_SCRAPER" slowloris "$port" 20 >"$SB/slow2.out" 2>&1 &
	s2=$!
	"$py" "$SC_SCRAPER" bigline "$port" >"$SB/big.out" 2>&1
	"$py" "$SC_SCRAPER" flood "$port" 1000 8 >"$SB/flood.out" 2>&1 &
	f=$!
	"$py" "$SC_SCRAPER" slowreader "$port" 6 >"$SB/reader.out" 2>&1 &
	r=$!
	wait "$s1" "$s2" "$f" "$r"
	rm -f "$SB/attack"
}

sc_attack_checks() {
	check "slowloris 1: closed by the server ($(cat "$SB/slow1.out"))" grep -q '^closed after' "$SB/slow1.out"
	check "slowloris 2: closed by the server ($(cat "$SB/slow2.out"))" grep -q '^closed after' "$SB/slow2.out"
	check "1 MB request line: refused ($(cat "$SB/big.out"))" grep -qE '^(HTTP/1.1 431|\[closed\])' "$SB/big.out"
	diag "flood: $(cat "$SB/flood.out"); slow reader: $(cat "$SB/reader.out")"
	check "the flood of 1,000 connections ran ($(cat "$SB/flood.out"))" grep -q '^connected=' "$SB/flood.out"
}

sc_exposition_checks() {
	local port=$1 man8=$2 min=$3 m n missing= undoc= prefix
	prefix=$(basename "$man8" .8)
	prefix=${prefix//-/_}_		# mailwarren_milter_
	"${MW_PYTHON:-/usr/bin/python3}" "$SC_SCRAPER" get "$port" >"$SB/m0.txt"
	check "GET /metrics: 200" grep -q '^HTTP/1.1 200 OK' "$SB/m0.txt"
	tail -n +2 "$SB/m0.txt" >"$SB/m0.prom"
	check "promtool check metrics: no complaint" \
		bash -c 'promtool check metrics <"$1" >"$2" 2>&1' _ "$SB/m0.prom" "$SB/lint.out"
	[ -s "$SB/lint.out" ] && diag "$(cat "$SB/lint.out")"
	for m in $(sed -n "s/^\.B \(${prefix}[a-z_]*\).*/\1/p" "$man8"); do
		grep -q "^# TYPE $m " "$SB/m0.prom" || missing="$missing $m"
	done
	n=$(grep -c "^\.B $prefix" "$man8")
	check "every metric of $(basename "$man8") ($n) is served${missing:+; missing:$missing}" \
		bash -c '[ -z "$1" ] && [ "$2" -ge "$3" ]' _ "$missing" "$n" "$min"
	for m in $(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$SB/m0.prom"); do
		grep -q "^\.B $m " "$man8" || undoc="$undoc $m"
	done
	check "every metric served is in $(basename "$man8")${undoc:+; not:$undoc}" test -z "$undoc"
}
