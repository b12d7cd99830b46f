#!/bin/bash
# t-milter-reload.sh - ClamAV database hot reload in a running
# mailwarren-milter, under continuous miltertest traffic (TAP):
#   - a deleted signature file is noticed (cl_statchkdir alone misses it),
#     an added one too, within DatabaseCheckInterval, and the new names are
#     used with no restart;
#   - a broken file makes the reload fail and the old engine stays;
#   - SIGHUP reloads (ReloadMode blocking) and does not stop the milter;
#   - no session of the background traffic fails during all that.
# No spamd: SpamdHosts none.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/postfix.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_init t-milter-reload
mwm_db

EICAR_HEX=$(awk -F: '$1 == "Test.EICAR.NDB" { print $4 }' "$MWM_DB/test.ndb")
[ -n "$EICAR_HEX" ] || { echo "Bail out! no EICAR signature in test.ndb"; exit 1; }

# virus_is FILE NAME: the milter rejects sample FILE naming NAME
virus_is() {
	mwm_send "msg=$MWM_S/$1" code=550 xcode=5.7.1 "text=Virus found: $2" && mwm_has "smtpreply yes"
}

# eventually SECS CMD...: CMD succeeds within SECS seconds
eventually() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 4; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	"$@"
}

# traffic OUT: sessions back to back until $SB/stop exists; one line per
# session in OUT: the reply, or "error" if miltertest failed
traffic() {
	local out=$1 f r
	while [ ! -e "$SB/stop" ]; do
		for f in eicar-b64 ham; do
			r=$(miltertest -D "sock=$MWM_CONN" -D "msg=$MWM_S/$f.eml" -s "$MWM_LUA" 2>&1 |
				sed -n 's/^reply //p')
			echo "$f ${r:-error}" >>"$out"
		done
	done
}

mwm_start conc SpamdHosts none DatabaseCheckInterval 1 ReloadMode concurrent ||
	{ echo "Bail out! milter did not start"; exit 1; }
check "before: plain EICAR is Test.EICAR.NDB" virus_is eicar-plain.eml Test.EICAR.NDB.UNOFFICIAL

traffic "$SB/traffic.out" &
TRAFFIC=$!
sb_at_exit "touch $SB/stop; wait $TRAFFIC"

# 1. delete test.ndb: only the file count shows it
rm "$MWM_DB/test.ndb"
check "test.ndb deleted: base64 EICAR now reported by the hash signature" \
	eventually 10 virus_is eicar-b64.eml Test.EICAR.HDB.UNOFFICIAL
mwm_send "msg=$MWM_S/eicar-plain.eml"
check "test.ndb deleted: the plain-text EICAR no longer matches" mwm_has "reply continue"

# 2. add a signature file with a new name
echo "Mailwarren.Reload.New:0:*:$EICAR_HEX" >"$MWM_DB/new.ndb"
check "new.ndb added: plain EICAR reported as Mailwarren.Reload.New" \
	eventually 10 virus_is eicar-plain.eml Mailwarren.Reload.New.UNOFFICIAL

# 3. a broken file: the reload fails, the engine loaded before stays
echo "this is not a signature" >"$MWM_DB/broken.ndb"
check "broken.ndb: the reload failure is logged" \
	eventually 10 grep -q "reload failed: keeping the ClamAV engine loaded before" "$MWM_LOG"
check "broken.ndb: the old engine still answers with the new name" \
	virus_is eicar-plain.eml Mailwarren.Reload.New.UNOFFICIAL
rm "$MWM_DB/broken.ndb"

touch "$SB/stop"
wait "$TRAFFIC"
total=$(wc -l <"$SB/traffic.out")
bad=$(grep -cvE '^(eicar-b64 replycode|ham continue)$' "$SB/traffic.out")
check "background traffic: $total sessions during the reloads, none failed ($bad)" \
	test "$total" -ge 10 -a "$bad" = 0
[ "$bad" = 0 ] || diag "$(grep -vE '^(eicar-b64 replycode|ham continue)$' "$SB/traffic.out" | sort | uniq -c)"
check "concurrent reloads: at least 3 logged" test "$(grep -c 'reloading ClamAV database' "$MWM_LOG")" -ge 3
mwm_stop

# 4. SIGHUP, blocking mode, no periodic check
mwm_start block SpamdHosts none DatabaseCheckInterval 0 ReloadMode blocking ||
	{ echo "Bail out! milter did not start"; exit 1; }
echo "Mailwarren.Reload.Hup:0:*:$EICAR_HEX" >"$MWM_DB/new.ndb"
sleep 1.2
check "without a reload the engine keeps the loaded name" \
	virus_is eicar-plain.eml Mailwarren.Reload.New.UNOFFICIAL
kill -HUP "$MWM_PID"
check "SIGHUP: the new name is used" eventually 10 virus_is eicar-plain.eml Mailwarren.Reload.Hup.UNOFFICIAL
check "SIGHUP: the milter is still running (libmilter did not stop it)" mw_pid_alive "$MWM_PID"
check "SIGHUP: logged as a reload" grep -q "signal SIGHUP: reloading" "$MWM_LOG"
mwm_stop
check "no sanitizer report in the milter logs" \
	bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$SB'/*.log"

done_testing
