#!/bin/bash
# milter-bench.sh - mailwarren-milter side by side with the established
# alternatives, through one private Postfix relaying to smtp-sink (issue 4's
# "Benchmark"), configurations interleaved and rotated per round.
#
# usage: bench/milter-bench.sh [-r ROUNDS] [-s "1 4 16"] [-o "4"] [-H HASHES] [-S] [-M]
#   -r  rounds (default 3; the summary gives medians and min-max)
#   -s  session counts (default "1 4 16") of the "av" and "hit" parts
#   -o  session counts of the "nocache" part (default "4"; "" skips it)
#   -H  random hash signatures in the scaled DB (default 1000000, plus
#       50,000 body signatures: tests/lib/gen-clamdb.py scaled)
#   -S  skip the spamd part
#   -M  the metrics cost (issue 17) instead: only mailwarren-milter, over a
#       unix socket, as mwux and mwux2 (two identical instances without
#       MetricsListen: their ratio is the A/A noise band), mwuxm
#       (MetricsListen, scraped every second during its runs, as Prometheus
#       would) and mwbase (MW_BENCH_BASE, e.g. the commit before the
#       metrics), in the av and hit parts; no clamd, spamd or Postfix
#       listeners for the others
# Messages per run: N1 (1 session, default 150), N4 (400), N16 (600);
# spamd runs: SPAM_N (default 40) 20 KB text messages at 4 sessions.
#
# Parts: "av", the mix with every message unique (libclamav's cache only
# helps with attachments seen before); "hit", the same mix sent as it is,
# so after the first of each file every scan is a cache hit (the issue's
# ">=95% of the do-nothing milter" case); "nocache", unique messages with
# the cache off (DisableCache yes) in mailwarren-milter (mwuxnc) and in a
# second clamd (clamuxnc, its own clamav-milter); "spam".
#
# AV configurations (no spamd): bare (no milter); null and nulltcp
# (bench/null-milter, the same negotiated steps, over a unix socket and over
# TCP: the protocol ceiling of each transport); mwtcp and
# mwux (mailwarren-milter over TCP and a unix socket); clamtcp and clamux
# (clamav-milter over TCP and a unix socket, both to one clamd).  Spam:
# mwsp (mailwarren-milter AV + spamd SYMBOLS), sass (spamass-milter, which
# forks spamc), spamd (raw SPAMC/1.5 to the same spamd: the ceiling).
# Every scanner gets the same DB, the same limits (MaxScanSize 100M,
# MaxFileSize 25M, MaxRecursion 17, MaxFiles 10000), temp files on tmpfs and
# libclamav's clean-file cache on.  The corpus (bench/gen-mail-corpus.py)
# is mixed 8 text : 6 base64 : 5 zip : 1 1-MB per 20, every message unique.
# Each AV path must reject EICAR in a zip before anything is measured.
#
# MW_BENCH_FLAGS: extra mailwarren-milter flags, e.g. -v to log each slot
# wait (run/mwtcp.log, run/mwux.log in the kept sandbox).
# MW_BENCH_BASE: another mailwarren-milter binary (say, an optimised build
# of an earlier commit) run beside this one as configuration "mwbase" (unix
# socket, same settings as mwux) in the av and hit parts: a change measured
# against its base in the same rounds.
#
# Runs under flock /tmp/mw-bench.lock (re-executes itself), builds an
# optimised tree in _build-bench, installs clamd, clamav-milter and
# spamass-milter on demand (tools/install-deps.sh --bench, nothing started),
# uses the test harness's private Postfix and spamd (tests/lib), loopback
# only, bounded in count.  Raw results: $OUT/results.jsonl; the summary
# (bench/milter-bench-summary.py) is printed at the end.
set -u
if [ -z "${MW_BENCH_LOCKED:-}" ]; then
	MW_BENCH_LOCKED=1 exec flock /tmp/mw-bench.lock "$0" "$@"
fi
TOP=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=3 SESSIONS="1 4 16" NC_SESSIONS="4" HASHES=1000000 SPAM=1 METRICS=
while getopts r:s:o:H:SM opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;; s) SESSIONS=$OPTARG ;; o) NC_SESSIONS=$OPTARG ;;
	H) HASHES=$OPTARG ;; S) SPAM= ;; M) METRICS=1 SPAM= NC_SESSIONS= ;;
	*) sed -n '2,49p' "$0"; exit 2 ;;
	esac
done
N1=${N1:-150} N4=${N4:-400} N16=${N16:-600} SPAM_N=${SPAM_N:-40}
PY=${MW_PYTHON:-/usr/bin/python3}
B=$TOP/_build-bench
MIX=text.eml=8,b64.eml=6,zip.eml=5,big.eml=1

echo "== build (optimised, no sanitizers) in $B"
(cd "$TOP" && { [ -x configure ] || ./autogen.sh; }) >/dev/null 2>&1
mkdir -p "$B"
(cd "$B" && { [ -f Makefile ] || "$TOP/configure" --disable-integration-tests >/dev/null; } &&
	make -j"$(nproc)" milter/mailwarren-milter bench/null-milter >/dev/null) || { echo "build failed"; exit 1; }
need=
others="clamd clamav-milter spamass-milter spamd"
[ -z "$METRICS" ] || others=
for c in $others smtp-sink postfix; do
	command -v "$c" >/dev/null 2>&1 || need=1
done
[ -z "$need" ] || "$TOP/tools/install-deps.sh" --bench || exit 1

top_srcdir=$TOP
. "$TOP/tests/lib/sandbox.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/spamd.sh"
sb_init milter-bench
MW_KEEP=1
OUT=$SB
RUN=$SB/run
SHM=$(mktemp -d /dev/shm/mw-bench.XXXXXX)
chmod 755 "$SHM"
sb_at_exit "rm -rf $SHM"
mkdir -p "$RUN" "$SHM"/{mwtcp,mwux,mwux2,mwuxm,mwbase,mwuxnc,mwsp,clamd,clamdnc,clamtcp,clamux,clamuxnc}
chmod 1777 "$RUN" "$SHM"/mw*
JSON=$OUT/results.jsonl
PIDS=()
sb_at_exit 'for p in "${PIDS[@]}"; do mw_kill_pid "$p" 10; done'
port() { mw_next_port "$@"; }
since() { awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.2f", t1 - t0 }'; }

echo "== scaled DB ($HASHES hashes + 50000 body signatures) and corpus in $OUT"
"$PY" "$TOP/tests/lib/gen-clamdb.py" scaled "$OUT/db" --hashes "$HASHES" --bodies 50000 | tail -n 1
"$PY" "$TOP/bench/gen-mail-corpus.py" "$OUT/corpus" >/dev/null
chmod -R a+rX "$OUT/db" "$OUT/corpus"
sb_at_exit "rm -rf $OUT/db"

# ---- daemons -------------------------------------------------------------
SINK=$(port)
smtp-sink -u postfix "127.0.0.1:$SINK" 256 >"$RUN/sink.log" 2>&1 &
PIDS+=($!)
if [ -n "$SPAM" ]; then
	SPAMD_MAX_CHILDREN=2
	spamd_start || { echo "spamd did not start"; exit 1; }
fi
DEAD=$(port)
limits="MaxScanSize 100M
MaxFileSize 25M
MaxRecursion 17
MaxFiles 10000"
declare -A MPID MSOCK
# mw NAME SOCKET [KEY VALUE]...: one mailwarren-milter (foreground), timed load
mw() {
	local name=$1 sock=$2 t0 i
	shift 2
	{
		echo "MilterSocket $sock"
		echo "SocketMode 0666"
		echo "DatabaseDirectory $OUT/db"
		echo "DatabaseCheckInterval 0"
		echo "TemporaryDirectory $SHM/$name"
		echo "$limits"
		# as root the milter must be given a user (it refuses to stay root)
		[ "$(id -u)" != 0 ] || printf 'User nobody\nGroup nogroup\n'
		while [ $# -ge 2 ]; do echo "$1 $2"; shift 2; done
	} >"$RUN/$name.conf"
	t0=$(date +%s.%N)
	"${MWBIN:-$B/milter/mailwarren-milter}" -f ${MW_BENCH_FLAGS:-} -c "$RUN/$name.conf" </dev/null >"$RUN/$name.log" 2>&1 &
	MPID[$name]=$!
	PIDS+=($!)
	for ((i = 0; i < 600; i++)); do
		grep -qs "started on" "$RUN/$name.log" && break
		sleep 0.1
	done
	echo "$name: ready in $(since "$t0") s, $(grep -o 'loaded: [0-9]* signatures in [0-9]* ms' "$RUN/$name.log")"
}
M_MWTCP=$(port) M_MWSP=$(port) M_CLAMTCP=$(port) M_SASS=$(port)
MWTCP=mwtcp
[ -z "$METRICS" ] || MWTCP=	# -M: over a unix socket only
[ -z "$MWTCP" ] || mw mwtcp "inet:$M_MWTCP@127.0.0.1" SpamdHosts none
mw mwux "local:$RUN/mwux.sock" SpamdHosts none
BASE=
if [ -n "${MW_BENCH_BASE:-}" ]; then
	[ -x "$MW_BENCH_BASE" ] || { echo "MW_BENCH_BASE: $MW_BENCH_BASE is not executable"; exit 1; }
	MWBIN=$MW_BENCH_BASE mw mwbase "local:$RUN/mwbase.sock" SpamdHosts none
	BASE=mwbase
fi
[ -n "$NC_SESSIONS" ] && mw mwuxnc "local:$RUN/mwuxnc.sock" SpamdHosts none DisableCache yes
if [ -n "$METRICS" ]; then
	M_METRICS=$(port)
	mw mwux2 "local:$RUN/mwux2.sock" SpamdHosts none
	mw mwuxm "local:$RUN/mwuxm.sock" SpamdHosts none MetricsListen "$M_METRICS"
fi
[ -n "$SPAM" ] && mw mwsp "inet:$M_MWSP@127.0.0.1" SpamdHosts "inet:$SPAMD_PORT@127.0.0.1" SpamdTimeout 120
# nullmilter NAME SOCKET: one bench/null-milter (libmilter socket syntax)
nullmilter() {
	"$B/bench/null-milter" "$2" >"$RUN/$1.log" 2>&1 &
	MPID[$1]=$!
	PIDS+=($!)
}
M_NULLTCP=$(port)
nullmilter null "unix:$RUN/null.sock"
nullmilter nulltcp "inet:$M_NULLTCP@127.0.0.1"

# clamd NAME [KEY VALUE]...: one clamd (foreground) on $RUN/NAME.sock
clamd_start() {
	local name=$1 t0 i
	shift
	{
		cat <<EOC
LocalSocket $RUN/$name.sock
FixStaleSocket yes
Foreground yes
LogFile $RUN/$name.log
DatabaseDirectory $OUT/db
TemporaryDirectory $SHM/$name
SelfCheck 0
MaxThreads 12
ScanMail yes
ScanArchive yes
Bytecode yes
$limits
StreamMaxLength 25M
EOC
		while [ $# -ge 2 ]; do echo "$1 $2"; shift 2; done
	} >"$RUN/$name.conf"
	t0=$(date +%s.%N)
	clamd -c "$RUN/$name.conf" >"$RUN/$name.out" 2>&1 &
	MPID[$name]=$!
	PIDS+=($!)
	for ((i = 0; i < 1200; i++)); do
		"$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"zPING\0"); sys.exit(0 if s.recv(8).startswith(b"PONG") else 1)' \
			"$RUN/$name.sock" 2>/dev/null && break
		sleep 0.1
	done
	echo "$name: ready (PONG) in $(since "$t0") s"
}
if [ -z "$METRICS" ]; then
clamd_start clamd
[ -n "$NC_SESSIONS" ] && clamd_start clamdnc DisableCache yes
# clammilter NAME SOCKET [CLAMD]: clamav-milter to a clamd above (default
# clamd; temp file fds)
clammilter() {
	cat >"$RUN/$1.conf" <<EOC
MilterSocket $2
MilterSocketMode 666
Foreground yes
ClamdSocket unix:$RUN/${3:-clamd}.sock
TemporaryDirectory $SHM/$1
OnClean Accept
OnInfected Reject
OnFail Defer
AddHeader No
LogFile $RUN/$1.log
LogInfected Basic
MaxFileSize 25M
ReadTimeout 120
EOC
	clamav-milter -c "$RUN/$1.conf" >"$RUN/$1.out" 2>&1 &
	MPID[$1]=$!
	PIDS+=($!)
}
clammilter clamtcp "inet:$M_CLAMTCP@127.0.0.1"
clammilter clamux "$RUN/clamux.sock"
[ -n "$NC_SESSIONS" ] && clammilter clamuxnc "$RUN/clamuxnc.sock" clamdnc
if [ -n "$SPAM" ]; then
	spamass-milter -p "inet:$M_SASS@127.0.0.1" -- -d 127.0.0.1 -p "$SPAMD_PORT" >"$RUN/sass.log" 2>&1 &
	MPID[sass]=$!
	PIDS+=($!)
fi
fi	# -M: none of the others
sb_wait_port "$M_NULLTCP" 30 || { echo "null-milter (TCP) did not start"; exit 1; }
if [ -z "$METRICS" ]; then
	sb_wait_port "$M_CLAMTCP" 30 && sb_wait_file "$RUN/clamux.sock" 30 || { echo "clamav-milter did not start"; exit 1; }
fi
[ -z "$NC_SESSIONS" ] || sb_wait_file "$RUN/clamuxnc.sock" 30 || { echo "clamav-milter (no cache) did not start"; exit 1; }
[ -z "$SPAM" ] || sb_wait_port "$M_SASS" 30 || { echo "spamass-milter did not start"; exit 1; }

# ---- Postfix: one smtpd listener per configuration ------------------------
declare -A PORT
for cfg in bare null nulltcp mwtcp mwux mwux2 mwuxm mwbase mwuxnc clamtcp clamux clamuxnc mwsp sass; do PORT[$cfg]=$(port); done
listener() { postfix_add_master "127.0.0.1:${PORT[$1]} inet n - n - - smtpd -o smtpd_milters=$2"; }
PF_SMTP_PORT=${PORT[bare]}
PF_NEXTHOP="smtp:[127.0.0.1]:$SINK"
listener null "unix:$RUN/null.sock"
listener nulltcp "inet:127.0.0.1:$M_NULLTCP"
listener mwtcp "inet:127.0.0.1:$M_MWTCP"
listener mwux "unix:$RUN/mwux.sock"
[ -z "$BASE" ] || listener mwbase "unix:$RUN/mwbase.sock"
if [ -n "$METRICS" ]; then
	listener mwux2 "unix:$RUN/mwux2.sock"
	listener mwuxm "unix:$RUN/mwuxm.sock"
else
	listener clamtcp "inet:127.0.0.1:$M_CLAMTCP"
	listener clamux "unix:$RUN/clamux.sock"
fi
if [ -n "$NC_SESSIONS" ]; then
	listener mwuxnc "unix:$RUN/mwuxnc.sock"
	listener clamuxnc "unix:$RUN/clamuxnc.sock"
fi
if [ -n "$SPAM" ]; then
	listener mwsp "inet:127.0.0.1:$M_MWSP"
	listener sass "inet:127.0.0.1:$M_SASS"
fi
postfix_start "milter_default_action = tempfail" "milter_command_timeout = 120s" \
	"milter_content_timeout = 300s" "smtpd_client_connection_count_limit = 0" \
	"default_process_limit = 200" "queue_run_delay = 300s" ||
	{ echo "postfix did not start"; exit 1; }
PFM=$(pf_master_pid)
NC=
[ -z "$NC_SESSIONS" ] || NC="mwuxnc clamuxnc"
CLAM="clamtcp clamux" CLAMUX=clamux MWM=
[ -z "$METRICS" ] || CLAM= CLAMUX= MWM="mwux2 mwuxm"
for cfg in null nulltcp $MWTCP mwux $MWM $BASE $CLAM $NC ${SPAM:+mwsp sass}; do sb_wait_port "${PORT[$cfg]}" 30; done

scanner_pids() {
	case $1 in
	bare) echo "" ;;
	clamtcp | clamux) echo "${MPID[clamd]},${MPID[$1]}" ;;
	clamuxnc) echo "${MPID[clamdnc]},${MPID[$1]}" ;;
	mwsp) echo "${MPID[mwsp]},$SPAMD_PID" ;;
	sass) echo "${MPID[sass]},$SPAMD_PID" ;;
	spamd) echo "$SPAMD_PID" ;;
	*) echo "${MPID[$1]}" ;;
	esac
}
drain() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ -z "$(find "$PF_DIR/spool/incoming" "$PF_DIR/spool/active" "$PF_DIR/spool/maildrop" \
			"$PF_DIR/spool/deferred" -type f 2>/dev/null | head -n 1)" ] && break
		sleep 0.2
	done
	sleep 0.5
}
# run CFG SESSIONS COUNT MIX LABEL...: one measured run
run() {
	local cfg=$1 s=$2 n=$3 mix=$4 sp
	shift 4
	sp=$(scanner_pids "$cfg")
	drain
	if [ "$cfg" = spamd ]; then
		set -- --spamd "$SPAMD_PORT" "$@"
	else
		set -- --port "${PORT[$cfg]}" "$@"
	fi
	local scraper=
	if [ "$cfg" = mwuxm ]; then	# a Prometheus: one scrape a second
		"$PY" "$TOP/tests/lib/scraper.py" loop "$M_METRICS" 1 >/dev/null 2>&1 &
		scraper=$!
	fi
	"$PY" "$TOP/bench/smtp-load.py" --label "cfg=$cfg" --sessions "$s" --count "$n" \
		--mix "$OUT/corpus:$mix" --watch "postfix=$PFM" ${sp:+--watch "scanner=$sp"} --json "$JSON" "$@"
	[ -z "$scraper" ] || { kill "$scraper"; wait "$scraper" 2>/dev/null; }
}

echo "== sanity: every AV path rejects EICAR in a zip"
for cfg in $MWTCP mwux $MWM $BASE $CLAM $NC ${SPAM:+mwsp}; do
	out=$(run "$cfg" 1 1 eicar-zip.eml=1 2>&1)
	grep -q '"550": 1' <<<"$out" || { echo "$cfg does not reject EICAR: $out"; exit 1; }
done
: >"$JSON"

# part PART "SESSIONS" "CFG..." [smtp-load.py options]: ROUNDS rounds, the
# configurations rotated per round
part() {
	local name=$1 sessions=$2 r s n i cfg
	local -a cfgs=($3)
	shift 3
	echo "== $name: $ROUNDS rounds x sessions {$sessions} x ${cfgs[*]}"
	for ((r = 1; r <= ROUNDS; r++)); do
		for s in $sessions; do
			case $s in 1) n=$N1 ;; 4) n=$N4 ;; *) n=$N16 ;; esac
			for ((i = 0; i < ${#cfgs[@]}; i++)); do
				cfg=${cfgs[$(((i + r - 1) % ${#cfgs[@]}))]}
				run "$cfg" "$s" "$n" "$MIX" --label "part=$name round=$r cfg=$cfg" "$@" |
					"$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["label"], "s=%d" % d["sessions"], "%.1f msg/s" % d["rate"], "small p50/p99 %s/%s ms" % (d["small_ms"]["p50"], d["small_ms"]["p99"]), d["codes"])'
			done
		done
	done
}
if [ -n "$METRICS" ]; then
	part av "$SESSIONS" "mwux mwux2 mwuxm $BASE"
	for cfg in mwux mwux2 mwuxm $BASE; do
		run "$cfg" 1 20 "$MIX" --same --label "part=warm round=0" >/dev/null
	done
	part hit "$SESSIONS" "mwux mwux2 mwuxm $BASE" --same
	echo "== mwuxm counted: $(grep -E '^mailwarren_milter_decisions_total\{action="(accept|reject)",reason="(clean|virus)"\} [1-9]' \
		<("$PY" "$TOP/tests/lib/scraper.py" get "$M_METRICS") | tr '\n' ' ')"
else
part av "$SESSIONS" "bare null nulltcp mwtcp mwux $BASE clamtcp clamux"
# the first of each file fills the caches; then every scan is a cache hit
for cfg in mwtcp mwux $BASE clamux; do
	run "$cfg" 1 20 "$MIX" --same --label "part=warm round=0" >/dev/null
done
part hit "$SESSIONS" "bare null nulltcp mwtcp mwux $BASE clamux" --same
fi
[ -z "$NC_SESSIONS" ] || part nocache "$NC_SESSIONS" "null mwuxnc clamuxnc"
if [ -n "$SPAM" ]; then
	SP=(mwsp sass spamd)
	echo "== spam: $ROUNDS rounds x 4 sessions x $SPAM_N messages x ${SP[*]}"
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((i = 0; i < ${#SP[@]}; i++)); do
			cfg=${SP[$(((i + r - 1) % ${#SP[@]}))]}
			run "$cfg" 4 "$SPAM_N" text.eml=1 --label "part=spam round=$r cfg=$cfg" |
				"$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["label"], "%.2f msg/s" % d["rate"], d["codes"])'
		done
	done
fi
echo "== idle RSS after the runs (MB)"
for cfg in null nulltcp $MWTCP mwux $MWM $BASE ${CLAM:+clamd $CLAM} ${NC:+mwuxnc clamdnc clamuxnc} ${SPAM:+mwsp sass}; do
	echo "$cfg $(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/${MPID[$cfg]}/status" 2>/dev/null)"
done
echo "== summary ($JSON)"
"$PY" "$TOP/bench/milter-bench-summary.py" "$JSON"
