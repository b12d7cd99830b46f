#!/bin/bash
# t-milter-reload.sh - ClamAV database hot reload in a running
# mailwarren-milter, under continuous miltertest traffic (TAP):
#   - a deleted signature file is noticed (cl_statchkdir alone misses it),
#     an added one too, within DatabaseCheckInterval, and the new names are
#     used with no restart;
#   - a broken file makes the reload fail and the old engine stays;
#   - SIGHUP reloads (ReloadMode blocking) and does not stop the milter;
#   - no session of the background traffic fails during all that;
#   - SIGHUP reloads the configuration file as a whole: relay tables,
#     actions, spamd hosts and TrustedNetworks change for new messages
#     (IPv4-mapped clients match IPv4 networks), a message in flight
#     keeps the configuration it started with, a bad file (or table) keeps
#     the old configuration and logs file:line: reason, settings that need
#     a restart are logged as such and left alone.
# No spamd: SpamdHosts none (a dead port where a spamd failure is wanted).

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
# a blocking reload under a stream of scans (4 clients, 2 slots): it is
# done while they go on, and the scans that waited for it are accepted.
# (This stream does not keep a scan running at every instant, so it passes
# with a lock that prefers the scans too; the writer preference that stops
# a steadier stream from starving the reload is proven by
# t-milter-reload-block.sh.)
head -c 3000000 /dev/zero | tr '\0' 'a' | fold -w 76 >"$SB/bulk.txt"
{ printf 'From: a@b.example\nTo: c@d.example\nSubject: bulk\n\n'; cat "$SB/bulk.txt"; } >"$SB/bulk.eml"
echo "Mailwarren.Reload.Stream:0:*:$EICAR_HEX" >"$MWM_DB/new.ndb"
: >"$SB/stream.stop"
rm -f "$SB/stream.stop"
spids=()
for c in 1 2 3 4; do
	(while [ ! -e "$SB/stream.stop" ]; do
		miltertest -D "sock=$MWM_CONN" -D "msg=$SB/bulk.eml" -s "$MWM_LUA" 2>&1 | grep '^reply ' || echo "reply none"
	done >"$SB/stream.$c") &
	spids+=($!)
done
sleep 2
kill -USR1 "$MWM_PID"
check "blocking reload under steady scans: done while they go on" \
	eventually 30 virus_is eicar-plain.eml Mailwarren.Reload.Stream.UNOFFICIAL
touch "$SB/stream.stop"
wait "${spids[@]}"
n=$(cat "$SB"/stream.? | wc -l)
check "blocking reload under steady scans: all $n stream messages accepted" \
	test "$n" -gt 0 -a "$(cat "$SB"/stream.? | grep -vcx 'reply continue')" = 0
mwm_stop

# 5. SIGHUP reloads the configuration file.
# hup: SIGHUP and wait until the reload thread is done (it reloads the
# ClamAV database last, whether the configuration loaded or not)
db_loads() { grep -c "ClamAV database .* loaded: " "$MWM_LOG"; }
hup() {
	local before i
	before=$(db_loads)
	kill -HUP "$MWM_PID"
	for ((i = 0; i < 300; i++)); do
		[ "$(db_loads)" -gt "$before" ] && return 0
		sleep 0.1
	done
	return 1
}
# relay_ok RCPT: a stranger's RCPT is accepted (the message reaches the end
# of data, whatever happens there); relay_no RCPT: refused at RCPT
relay_ok() { mwm_send "msg=$MWM_S/ham.eml" "rcpt=$1" && mwm_match "^reply "; }
relay_no() { mwm_send "msg=$MWM_S/ham.eml" "rcpt=$1" && mwm_has "rcptreply replycode"; }
DEAD=$(mw_next_port)

rm -f "$MWM_DB/new.ndb"
mwm_start cfg SpamdHosts none RelayPolicy yes HostedDomains a.example MaxConcurrentScans 1 ||
	{ echo "Bail out! milter did not start"; exit 1; }
CONF=$SB/cfg.conf
cp "$CONF" "$SB/cfg.orig"
check "before: a stranger may not relay to b.example" relay_no u@b.example
mwm_send "msg=$MWM_S/eicar-b64.eml" rcpt=u@a.example code=550 xcode=5.7.1 "text=Virus found: Test.EICAR.HDB.UNOFFICIAL"
check "before: EICAR is rejected (OnInfected reject)" mwm_has "smtpreply yes"

# a message in flight: MAIL FROM now, RCPT after the reload
rm -f "$SB/go"
miltertest -D "sock=$MWM_CONN" -D "msg=$MWM_S/ham.eml" -D rcpt=u@b.example -D "waitfile=$SB/go" \
	-s "$MWM_LUA" >"$SB/inflight.out" 2>&1 &
INFLIGHT=$!
sb_at_exit "touch $SB/go"
eventually 30 grep -q "MAIL\|" "$SB/inflight.out" >/dev/null 2>&1
sleep 0.5  # (no observable for "MAIL FROM answered"; the result does not depend on it)
{
	cat "$SB/cfg.orig"
	echo "HostedDomains b.example"
	echo "OnInfected tag"
	echo "SpamdHosts inet:$DEAD@127.0.0.1"
	echo "SpamdFailAction tempfail"
} | grep -v '^SpamdHosts none$' | sed 's/^MaxConcurrentScans 1$/MaxConcurrentScans 3/' >"$CONF"
check "SIGHUP with a changed file: reloaded" hup
check "  ... logged what it loaded" grep -q "reload: $CONF loaded: 1 spamd hosts, RelayPolicy yes: 2 hosted domains" "$MWM_LOG"
check "  ... MaxConcurrentScans applied live" grep -qF "at most 3 concurrent scans (was 1)" "$MWM_LOG"
touch "$SB/go"
wait "$INFLIGHT"
check "the message in flight keeps the configuration it started with (b.example not hosted)" \
	grep -qx "rcptreply replycode" "$SB/inflight.out"
[ $? = 0 ] || diag "$(cat "$SB/inflight.out")"
check "a new message: b.example is hosted now" relay_ok u@b.example
mwm_send "msg=$MWM_S/eicar-b64.eml" rcpt=u@a.example
check "a new message: OnInfected tag (EICAR tagged, not rejected)" \
	grep -q "MTQID1: tag: client=.* virus=Test.EICAR.HDB.UNOFFICIAL" "$MWM_LOG"
mwm_send "msg=$MWM_S/ham.eml" rcpt=u@a.example code=451 xcode=4.7.1 "text=Spam scanner unavailable, try again later"
check "a new message: the new SpamdHosts (a dead port) is used: 451 4.7.1" mwm_has "smtpreply yes"

# a bad file keeps everything
cp "$CONF" "$SB/cfg.good"
echo "NoSuchKey 1" >>"$CONF"
n=$(wc -l <"$CONF")
check "SIGHUP with an unknown key: the reload thread goes on" hup
check "  ... logged as file:line: reason, old configuration kept" \
	grep -qF "reload of $CONF failed, keeping the configuration loaded before: $CONF:$n:" "$MWM_LOG"
check "  ... b.example still hosted" relay_ok u@b.example
mwm_send "msg=$MWM_S/ham.eml" rcpt=u@a.example code=451 xcode=4.7.1 "text=Spam scanner unavailable, try again later"
check "  ... the spamd hosts still those of the last good file" mwm_has "smtpreply yes"
printf '192.0.2.0/24 c1\n192.0.2.0/99 c2\n' >"$SB/bad.cidr"
{ cat "$SB/cfg.good"; echo "CustomerNetworks $SB/bad.cidr"; } >"$CONF"
check "SIGHUP with a bad CustomerNetworks file" hup
check "  ... logged with the table's file:line" \
	grep -qF "reload of $CONF failed, keeping the configuration loaded before: $CONF: $SB/bad.cidr:2:" "$MWM_LOG"
check "  ... b.example still hosted" relay_ok u@b.example

# TrustedNetworks is built with the configuration and replaced with it
# (SpamdHosts is a dead port: a trusted client is not scored, others get 451)
trusted() {
	mwm_send "msg=$MWM_S/ham.eml" rcpt=u@a.example "client=$1" &&
		mwm_has "hdr X-Spam-Status: Unknown, not scored: trusted network"
}
scored() {
	mwm_send "msg=$MWM_S/ham.eml" rcpt=u@a.example "client=$1" code=451 xcode=4.7.1 \
		"text=Spam scanner unavailable, try again later" && mwm_has "smtpreply yes"
}
{ cat "$SB/cfg.good"; echo "SkipAuthenticated yes"; echo "TrustedNetworks 192.0.2.0/24, 2001:db8::/32"; } >"$CONF"
check "SIGHUP with TrustedNetworks added: reloaded" hup
check "  ... a client in it is not scored" trusted 192.0.2.7
check "  ... nor an IPv4-mapped one" trusted ::ffff:192.0.2.7
check "  ... a client outside it is scored (451 from the dead spamd)" scored 198.51.100.7
{ cat "$SB/cfg.good"; echo "SkipAuthenticated yes"; echo "TrustedNetworks 192.0.2.7/24"; } >"$CONF"
check "SIGHUP with host bits set in TrustedNetworks" hup
check "  ... logged naming the setting and the value, old configuration kept" \
	grep -qF "reload of $CONF failed, keeping the configuration loaded before: $CONF: TrustedNetworks: 192.0.2.7/24: address has bits set beyond the /24 prefix" "$MWM_LOG"
check "  ... the old table still answers" trusted 192.0.2.7
{ cat "$SB/cfg.good"; echo "SkipAuthenticated yes"; echo "TrustedNetworks 198.51.100.0/24"; } >"$CONF"
check "SIGHUP with another TrustedNetworks" hup
check "  ... the new network is trusted" trusted 198.51.100.7
check "  ... the old one no longer" scored 192.0.2.7

# settings that need a restart
sed "s|^MilterSocket .*|MilterSocket local:$SB/other.sock|" "$SB/cfg.good" >"$CONF"
check "SIGHUP with another MilterSocket" hup
check "  ... logged as needing a restart" grep -qF "reload: MilterSocket changed to \"local:$SB/other.sock\": needs restart" "$MWM_LOG"
check "  ... the milter still answers on its socket" relay_ok u@b.example
check "  ... and listens on nothing new" test ! -e "$SB/other.sock"
hup
check "  ... the next reload of that file says so again (the running value was kept)" \
	test "$(grep -cF "reload: MilterSocket changed to \"local:$SB/other.sock\": needs restart" "$MWM_LOG")" = 2
check "SIGHUP: the milter is still running" mw_pid_alive "$MWM_PID"
mwm_stop
check "no sanitizer report in the milter logs" \
	bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$SB'/*.log"

done_testing
