#!/bin/bash
# t-milter-overload-postfix.sh - what a real Postfix does when
# mailwarren-milter is at MaxConnections: the milter closes the new
# connection at once, Postfix applies milter_default_action = tempfail
# (451 4.7.1 to the SMTP client, nothing accepted, nothing lost), and once a
# session is free the same message is accepted and delivered.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/postfix.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

PY=${MW_PYTHON:-/usr/bin/python3}
sb_need_root
mwm_need
sb_need_cmd postfix postfix
sb_need_cmd swaks swaks
sb_init t-milter-overload-postfix
mwm_db

MPORT=$(sb_port)
mwm_start ov MilterSocket "inet:$MPORT@127.0.0.1" SpamdHosts none MaxConnections 1 ||
	{ echo "Bail out! milter did not start"; exit 1; }
postfix_start "smtpd_milters = inet:127.0.0.1:$MPORT" "milter_default_action = tempfail" ||
	{ echo "Bail out! postfix did not start"; exit 1; }

# One negotiated session, held open: the milter is at its cap.
"$PY" - "$MPORT" "$SB/held" <<'PY' &
import os, socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(struct.pack(">I", 13) + b"O" + struct.pack(">III", 6, 0x1ff, 0x1fffff))
s.recv(4096)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[2] + ".release"):
    time.sleep(0.1)
s.close()
PY
HELD=$!
sb_at_exit "touch $SB/held.release; wait $HELD"
sb_wait_file "$SB/held" 20

mwm_smtp "$PF_SMTP_PORT" "$MWM_S/ham.eml" over
check "at MaxConnections: Postfix tempfails the SMTP client (milter_default_action)" \
	grep -qE '^<\*\* +451 4\.7\.1 ' "$SB/swaks-over.log"
check "  ... and queues nothing" test -z "$(mwm_delivered "$PF_SINK_DIR" over)"
check "Postfix logged the milter connection as failed" \
	grep -qE "warning: milter inet:127\.0\.0\.1:$MPORT: .*(read|lost|closed|Connection reset)" "$(postfix_log)"
check "the milter logged one warning with the count" \
	grep -qE 'warning: MaxConnections \(1\) reached: [0-9]+ MTA connection\(s\) closed at once' "$MWM_LOG"

touch "$SB/held.release"
wait "$HELD"
sb_eventually 10 mwm_smtp "$PF_SMTP_PORT" "$MWM_S/ham.eml" free
check "a session free again: the same message is accepted" grep -q '^<- *250 2.0.0 Ok: queued' "$SB/swaks-free.log"
sb_eventually 10 test -n "$(mwm_delivered "$PF_SINK_DIR" free)"
check "  ... and delivered" test -n "$(mwm_delivered "$PF_SINK_DIR" free)"
done_testing
