# prometheus.sh - a private Prometheus server for the tests (sourced, bash;
# needs tests/lib/sandbox.sh sourced and sb_init called).
#
# prom_start JOB=PORT...  write $SB/prometheus/prometheus.yml (scrape every
#                      second, each JOB scraping 127.0.0.1:PORT/metrics),
#                      start Debian's prometheus on a free loopback port
#                      (PROM_PORT) with its storage in the sandbox; wait
#                      until it answers; stopped at exit
# prom_query EXPR      print the value of an instant query (the first
#                      sample, as Prometheus formats it), or "none"
# prom_wait EXPR VALUE [SECS]  wait until prom_query EXPR prints VALUE
# prom_stop            stop it
#
# PROM_BIN: the server (default /usr/bin/prometheus).

PROM_BIN=${PROM_BIN:-/usr/bin/prometheus}
PROM_PID=
PROM_PORT=

prom_start() {
	local d=$SB/prometheus j i
	mkdir -p "$d/data" || return 1
	{
		printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n'
		for j in "$@"; do
			printf '  - job_name: %s\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "${j%%=*}" "${j#*=}"
		done
	} >"$d/prometheus.yml"
	PROM_PORT=$(sb_port)
	"$PROM_BIN" --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
		--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
		>"$d/prometheus.log" 2>&1 &
	PROM_PID=$!
	sb_at_exit prom_stop
	for ((i = 0; i < 300; i++)); do
		"${MW_PYTHON:-/usr/bin/python3}" - "$PROM_PORT" <<'PY' 2>/dev/null && return 0
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/-/ready" % sys.argv[1], timeout=2).read()
PY
		sb_pid_running "$PROM_PID" || break
		sleep 0.1
	done
	sed 's/^/# /' "$d/prometheus.log"
	return 1
}

prom_query() {
	"${MW_PYTHON:-/usr/bin/python3}" - "$PROM_PORT" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode({"query": sys.argv[2]}))
try:
    r = json.load(urllib.request.urlopen(url, timeout=5))
except Exception as e:
    print("error: %s" % e)
    sys.exit(1)
res = r.get("data", {}).get("result", [])
if r.get("status") != "success":
    print("error: %s" % r.get("error"))
elif r["data"]["resultType"] == "scalar":
    print(res[1])
elif not res:
    print("none")
else:
    print(res[0]["value"][1])
PY
}

prom_wait() {
	local secs=${3:-30} i
	for ((i = 0; i < secs * 4; i++)); do
		[ "$(prom_query "$1")" = "$2" ] && return 0
		sleep 0.25
	done
	diag "prom_wait: $1 is $(prom_query "$1"), not $2"
	return 1
}

prom_stop() {
	[ -n "$PROM_PID" ] || return 0
	mw_kill_pid "$PROM_PID" 10
	PROM_PID=
}
