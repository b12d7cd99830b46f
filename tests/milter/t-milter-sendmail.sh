#!/bin/bash
# t-milter-sendmail.sh - mailwarren-milter behind a real, private Sendmail
# 8.17 (INPUT_MAIL_FILTER over TCP), with one real spamd and the
# generated ClamAV test DB (TAP):
#   - EICAR quoted-printable, in a zip and as an attachment: 550 5.7.1 Virus
#     found: NAME at end of DATA;
#   - GTUBE delivered with X-Spam-Flag: YES; ham delivered with our X-Spam-*
#     headers only;
#   - the macros Sendmail does not send by default ({client_addr}) arrive,
#     requested with smfi_setsymlist: the log line names the client.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/sendmail.sh"
. "$MW_TESTLIB/spamd.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"

sb_need_root
mwm_need
sb_need_cmd m4 m4
sb_need_cmd smtp-sink postfix
sb_need_cmd swaks swaks
sb_need_cmd "$SPAMD_BIN" spamd
sendmail_fetch || skip_all "Sendmail packages unavailable: $SM_FETCH_ERROR"
sb_init t-milter-sendmail
mwm_db

send() { mwm_smtp "$SM_SMTP_PORT" "$@"; }
replied() { mwm_replied "$@"; }
delivered() { mwm_delivered "$SM_SINK_DIR" "$1"; }

accepted() {
	grep -q '^<- *250 2.0.0 .* Message accepted for delivery' "$SB/swaks-$1.log" ||
		{ diag "swaks $1: $(grep -E '^<(-|\*\*) ' "$SB/swaks-$1.log" | tail -n 1)"; return 1; }
}

if ! spamd_start; then
	echo "Bail out! spamd did not start"
	exit 1
fi
# a UNIX socket under /tmp is "unsafe" to Sendmail (world-writable /tmp)
MPORT=$(mw_next_port "$SPAMD_PORT")
mwm_start sm MilterSocket "inet:$MPORT@127.0.0.1" SpamdHosts "inet:$SPAMD_PORT@127.0.0.1" SpamdTimeout 20 ||
	{ echo "Bail out! milter did not start"; exit 1; }
if ! sendmail_start "INPUT_MAIL_FILTER(\`mailwarren', \`S=inet:$MPORT@127.0.0.1, F=T, T=C:10s;S:30s;R:60s;E:2m')dnl"; then
	echo "Bail out! sendmail did not start"
	exit 1
fi

for f in eicar-qp eicar-zip eicar-b64; do
	send "$MWM_S/$f.eml" "$f"
	check "$f: 550 5.7.1 Virus found: $(mwm_expected "$f.eml")" \
		replied "$f" "550 5.7.1 Virus found: $(mwm_expected "$f.eml")"
done
check "the log line has Sendmail's queue id and {client_addr} (smfi_setsymlist)" \
	grep -qE "^mailwarren-milter: [0-9A-Za-z]{10,}: reject: client=[^ ]*\[127\.0\.0\.1\] from=<sender@origin.example> nrcpt=1 virus=Test.EICAR" "$MWM_LOG"

send "$top_srcdir/tests/data/gtube.eml" gtube
check "GTUBE accepted by Sendmail" accepted gtube
send "$MWM_S/ham.eml" ham --add-header "X-Spam-Score: 99.9" --add-header "X-Spam-Flag: YES"
check "ham with forged X-Spam-* accepted" accepted ham
sendmail_wait_sink 2 60
g=$(delivered gtube)
h=$(delivered ham)
check "GTUBE delivered with X-Spam-Flag: YES" bash -c "[ -n '$g' ] && grep -qx 'X-Spam-Flag: YES' <(tr -d '\r' <'$g')"
check "ham delivered with exactly one X-Spam-Flag: NO" \
	bash -c "[ -n '$h' ] && [ \"\$(tr -d '\r' <'$h' | grep '^X-Spam-Flag:')\" = 'X-Spam-Flag: NO' ]"
check "ham: the forged X-Spam-Score is gone" bash -c "[ -n '$h' ] && ! grep -q '^X-Spam-Score: 99.9' '$h'"
check "ham: X-Virus-Scanned by mailwarren-milter" bash -c "[ -n '$h' ] && grep -q '^X-Virus-Scanned: ClamAV .* via mailwarren-milter' '$h'"
check "no sanitizer report in the milter log" bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$MWM_LOG'"

done_testing
