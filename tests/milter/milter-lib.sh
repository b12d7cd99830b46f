# milter-lib.sh - helpers for the mailwarren-milter tests (sourced, bash;
# after tests/lib/sandbox.sh and sb_init).
#
# mwm_need             skip unless the milter binary, miltertest, clamscan's
#                      generator inputs and python3 are there
# mwm_db               generate the ClamAV test DB in $MWM_DB and the sample
#                      messages in $MWM_S (tests/lib/gen-clamdb.py)
# mwm_expected FILE    the signature name a scan reports for a sample, with
#                      ".UNOFFICIAL" as ClamAV appends it (from expected.tsv)
# mwm_start NAME [KEY VALUE]...  write $SB/NAME.conf (defaults below, then
#                      the given lines) and start "mailwarren-milter -f" on
#                      local:$SB/NAME.sock (unless MilterSocket is given);
#                      wait until it listens.  Sets MWM_PID, MWM_CONN (the
#                      socket in milter syntax), MWM_LOG.  Stopped at exit.
#                      MWM_FLAGS: extra command-line flags (e.g. -v).
#                      As root without a User line it runs as nobody:nogroup
#                      (it refuses to stay root), so what it reads must be
#                      readable by nobody.
# mwm_stop             SIGTERM the milter started last and wait for it
# mwm_send VAR=VALUE...  one message through miltertest (tests/milter/
#                      mt-send.lua; see there for the variables); the
#                      outcome lines are in $MWM_OUT; 0 if miltertest ran
# mwm_smtp PORT FILE TAG [SWAKS ARGS...]  one message through an MTA on
#                      127.0.0.1:PORT, marked "X-MW-Tag: TAG-$MWM_TOKEN";
#                      transcript in $SB/swaks-TAG.log; swaks' status
# mwm_replied TAG TEXT the end-of-DATA reply to TAG was exactly TEXT
# mwm_delivered DIR TAG  print the one file in the sink DIR holding TAG
# mwm_headers FILE     the unfolded header block of a delivered message
# mwm_has LINE         $MWM_OUT has exactly this line
# mwm_match REGEX      a line of $MWM_OUT matches the extended regex

MWM_BIN=${MWM_BIN:-$(mw_sbin milter mailwarren-milter)}
MWM_LUA=$MW_TOP_SRCDIR/tests/milter/mt-send.lua
MWM_PID=
MWM_OUT=

mwm_need() {
	[ -x "$MWM_BIN" ] || skip_all "$MWM_BIN not built"
	sb_need_cmd miltertest miltertest
	sb_need_cmd "${MW_PYTHON:-/usr/bin/python3}" python3
}

mwm_db() {
	MWM_DB=$SB/db
	MWM_S=$SB/samples
	"${MW_PYTHON:-/usr/bin/python3}" "$MW_TESTLIB/gen-clamdb.py" test "$MWM_DB" >/dev/null &&
		"${MW_PYTHON:-/usr/bin/python3}" "$MW_TESTLIB/gen-clamdb.py" samples "$MWM_S" >/dev/null ||
		{ echo "Bail out! gen-clamdb.py failed"; exit 1; }
	mkdir -p "$SB/tmp" && chmod 1777 "$SB/tmp"
}

mwm_expected() {
	awk -F '\t' -v f="$1" '$1 == f { print $2 ".UNOFFICIAL" }' "$MWM_S/expected.tsv"
}

mwm_start() {
	local name=$1 i kv
	shift
	MWM_SOCK=$SB/$name.sock
	MWM_LOG=$SB/$name.log
	{
		while [ $# -ge 2 ]; do
			echo "$1 $2"
			shift 2
		done
	} >"$SB/$name.conf"
	MWM_CONN=$(sed -n 's/^MilterSocket //p' "$SB/$name.conf")
	MWM_CONN=${MWM_CONN:-local:$MWM_SOCK}
	# defaults for what the test did not set
	# as root the milter must be given a user (it refuses to stay root)
	if [ "$(id -u)" = 0 ] && ! grep -qi '^User ' "$SB/$name.conf"; then
		printf 'User nobody\nGroup nogroup\n' >>"$SB/$name.conf"
	fi
	for kv in "MilterSocket local:$MWM_SOCK" "DatabaseDirectory $MWM_DB" \
		"TemporaryDirectory $SB/tmp" "DatabaseCheckInterval 0"; do
		grep -q "^${kv%% *} " "$SB/$name.conf" || echo "$kv" >>"$SB/$name.conf"
	done
	"$MWM_BIN" -f ${MWM_FLAGS:-} -c "$SB/$name.conf" </dev/null >"$MWM_LOG" 2>&1 &
	MWM_PID=$!
	sb_at_exit "mw_kill_pid $MWM_PID 10"
	for ((i = 0; i < 300; i++)); do
		grep -q "started on" "$MWM_LOG" && return 0
		kill -0 "$MWM_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "mailwarren-milter $name did not start:"
	diag "$(tail -n 5 "$MWM_LOG")"
	return 1
}

mwm_stop() {
	mw_kill_pid "$MWM_PID" 15
}

mwm_send() {
	local args=() a
	for a in "$@"; do
		args+=(-D "$a")
	done
	MWM_OUT=$(miltertest -D "sock=$MWM_CONN" "${args[@]}" -s "$MWM_LUA" 2>&1)
	local rc=$?
	[ $rc = 0 ] || diag "miltertest exit $rc: $MWM_OUT"
	return $rc
}

mwm_has() {
	printf '%s\n' "$MWM_OUT" | grep -qxF -- "$1" ||
		{ diag "no line \"$1\" in: $(printf '%s' "$MWM_OUT" | tr '\n' '|')"; return 1; }
}

mwm_match() {
	printf '%s\n' "$MWM_OUT" | grep -qE -- "$1" ||
		{ diag "no line matching /$1/ in: $(printf '%s' "$MWM_OUT" | tr '\n' '|')"; return 1; }
}

MWM_TOKEN=$$-$RANDOM

mwm_smtp() {
	local port=$1 file=$2 tag=$3
	shift 3
	swaks --server "127.0.0.1:$port" --from sender@origin.example \
		--to "rcpt-$tag@dest.example" --data @"$file" --add-header "X-MW-Tag: $tag-$MWM_TOKEN" \
		"$@" >"$SB/swaks-$tag.log" 2>&1
}

mwm_replied() {
	grep -qxF "<** $2" "$SB/swaks-$1.log" ||
		{ diag "swaks $1: $(grep -E '^<(\*\*|-) ' "$SB/swaks-$1.log" | tail -n 1)"; return 1; }
}

mwm_delivered() {
	local f
	f=$(grep -l -F -- "X-MW-Tag: $2-$MWM_TOKEN" "$1"/* 2>/dev/null)
	[ -n "$f" ] && [ "$(printf '%s\n' "$f" | wc -l)" = 1 ] && echo "$f"
}

mwm_headers() {
	awk '/^\r?$/ { exit }
	     /^[ \t]/ { sub(/^[ \t]+/, " "); line = line $0; next }
	     { if (line != "") print line; line = $0 }
	     END { if (line != "") print line }' "$1" | tr -d '\r'
}
