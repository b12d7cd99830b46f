#!/bin/bash
# t-chain-mail.sh - the whole chain with real daemons (tests/lib/stack.sh,
# the stack of ./demo): Postfix -> mailwarren-policyd, mailwarren-milter
# (libclamav, spamd), Dovecot SASL -> LMTP -> Dovecot with mailshard (two
# volumes) and spam_prefs -> IMAP/POP3.  The demo's scenarios as
# assertions: SMTP replies, the headers of the delivered copies, their
# exact paths (mailshard(7), computed independently), what IMAP and POP3
# show; forged X-Spam-* headers stripped; then volume v1 goes read-only (a
# read-only bind mount in a private mount namespace): mail for a user on
# v2 still arrives, mail for a user on v1 waits in Postfix's queue (no
# bounce) and arrives once v1 is writable again.  Every copy is counted.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# a private mount namespace for the read-only volume (gone with the test)
# (in a chroot whose root is no mount point, as the Debian 13 test chroot,
# mounts cannot be made private: there, with no shared mount at all,
# nothing can propagate out and the propagation is left unchanged)
ns_prop=private
if ! unshare -m --propagation private true 2>/dev/null &&
	! grep -q ' shared:' /proc/self/mountinfo 2>/dev/null; then
	ns_prop=unchanged
fi
if [ -z "${MW_CHAIN_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare -m --propagation $ns_prop true 2>/dev/null; then
	export MW_CHAIN_NS=1
	# Dovecot's module overlays (2.4) go into this namespace too, so that
	# Dovecot sees the read-only remount below
	export DC_PRIVATE_NS=1
	exec unshare -m --propagation $ns_prop "${BASH:-bash}" "$0" "$@"
fi
. "$top_srcdir/tests/lib/sandbox.sh"
. "$MW_TESTLIB/stack.sh"
. "$top_srcdir/tests/milter/milter-lib.sh"
stack_need

stack_test_start chain-mail

D=$ST_DOMAIN
dir_of() { local w; w=$(stack_where "$1"); echo "${w#* }"; }
hdr() {	# hdr FILE NAME: the unfolded value(s) of header NAME
	mwm_headers "$1" | awk -v n="$2" 'BEGIN { n = tolower(n) ": " }
		tolower(substr($0, 1, length(n))) == n { print substr($0, length(n) + 1) }'
}
only_copy_in() {	# TAG DIR: exactly one copy of TAG exists and it is in DIR
	local f
	f=$(stack_found "$1")
	[ "$(printf '%s\n' "$f" | grep -c .)" = 1 ] && [ "${f#"$2"/}" != "$f" ] ||
		{ diag "$1: copies: ${f:-none}, expected one in $2"; return 1; }
}

# --- clean mail, at the hashed path -------------------------------------
stack_send clean --from friend@elsewhere.example --to "juan@$D" --subject "Hello" >/dev/null
check "clean mail: 250 at the end of DATA" grep -q '^DATA 250 2.0.0 Ok: queued' "$SB/smtp/clean.out"
stack_wait_found clean 1 60
check "clean mail: the one copy is in juan's hashed maildir $(dir_of juan)/Maildir/new" \
	only_copy_in clean "$(dir_of juan)/Maildir/new"
f=$(stack_found clean)
check "clean mail: X-Spam-Flag: NO, scored by spamd" test "$(hdr "$f" X-Spam-Flag)" = NO
check "clean mail: X-Virus-Scanned by mailwarren-milter" \
	grep -qE '^ClamAV .* via mailwarren-milter$' <<<"$(hdr "$f" X-Virus-Scanned)"
check "juan lives on volume v2 under 2 levels of hash directories" \
	grep -qE "^$SB/srv/v2/[0-9a-f]{2}/[0-9a-f]{2}/juan\$" <<<"$(dir_of juan)"

stack_send pinned --from friend@elsewhere.example --to "pat@$D" --subject "Pinned" >/dev/null
stack_wait_found pinned 1 60
check "pinned user pat (mailshard_volume=v2): the copy is in $(dir_of pat)/Maildir/new" \
	only_copy_in pinned "$(dir_of pat)/Maildir/new"

# --- a forged score from outside is replaced ----------------------------
stack_send forged --from friend@elsewhere.example --to "anna@$D" --subject "Forged" \
	--header "X-Spam-Score: -99.0" --header "X-Spam-Flag: NO" >/dev/null
stack_wait_found forged 1 60
f=$(stack_found forged)
check "forged X-Spam-Score/-Flag: only the milter's own (one each, not -99.0)" \
	test "$(hdr "$f" X-Spam-Score | wc -l)" = 1 -a "$(hdr "$f" X-Spam-Score)" != -99.0 \
	-a "$(hdr "$f" X-Spam-Flag | wc -l)" = 1

# --- a virus is refused during SMTP -------------------------------------
name=$(awk -F '\t' '$1 == "eicar-zip.eml" { print $2 ".UNOFFICIAL" }' "$SB/samples/expected.tsv")
stack_send eicar --from joker@elsewhere.example --to "juan@$D" --file "$SB/samples/eicar-zip.eml" >/dev/null
check "EICAR in a zip: 550 5.7.1 Virus found: $name" \
	test "$(stack_reply eicar DATA)" = "550 5.7.1 Virus found: $name"
check "Postfix logged the milter-reject" grep -q 'milter-reject: END-OF-MESSAGE .*Virus found' "$(postfix_log)"

# --- spam: one message, two users, two thresholds -----------------------
stack_send gtube --from spammer@elsewhere.example --to "anna@$D" --to "maria@$D" \
	--file "$top_srcdir/tests/data/gtube.eml" >/dev/null
check "GTUBE to anna and maria: 250" grep -q '^DATA 250 ' "$SB/smtp/gtube.out"
stack_wait_found gtube 2 60
check "GTUBE: 2 copies in all" test "$(stack_found gtube | wc -l)" = 2
a=$(stack_found gtube | grep "^$(dir_of anna)/Maildir/.Junk/new/")
m=$(stack_found gtube | grep "^$(dir_of maria)/Maildir/new/")
check "GTUBE: anna (threshold 3) has it in Junk" test -n "$a"
check "GTUBE: maria (threshold 5000) has it in her INBOX" test -n "$m"
check "GTUBE: X-Spam-Flag: YES and a score over 1000 on the copy" \
	eval 'test "$(hdr "$a" X-Spam-Flag)" = YES && awk "BEGIN { exit !($(hdr "$a" X-Spam-Score) > 1000) }"'

# --- relaying -----------------------------------------------------------
stack_send stranger --from someone@elsewhere.example --to friend@far-away.example >/dev/null
check "stranger relay: 554 Relay access denied" test "$(stack_reply stranger RCPT)" = \
	"friend@far-away.example 554 5.7.1 <friend@far-away.example>: Recipient address rejected: Relay access denied"
stack_send subm-anon --port "$ST_SUBMISSION_PORT" --from someone@elsewhere.example --to "juan@$D" >/dev/null
check "submission port without a login: refused (554 5.7.1 ... Access denied)" \
	grep -q "^RCPT juan@$D 554 5.7.1 .*Access denied" "$SB/smtp/subm-anon.out"
stack_send badpw --port "$ST_SUBMISSION_PORT" --auth carol:wrong --from carol@customer.example --to friend@far-away.example >/dev/null
check "a wrong password: 535 from Dovecot's auth" grep -q '^AUTH 535 ' "$SB/smtp/badpw.out"
stack_send customer --port "$ST_SUBMISSION_PORT" --auth "carol:$ST_PASS" --from carol@customer.example \
	--to friend@far-away.example --subject Relayed >/dev/null
check "customer carol after SASL AUTH on the submission port: 235, then 250" \
	eval 'grep -q "^AUTH 235 " "$SB/smtp/customer.out" && grep -q "^DATA 250 " "$SB/smtp/customer.out"'
stack_wait_found customer 1 60
check "customer relay: the one copy went to the next hop" only_copy_in customer "$SB/internet"
stack_send notowner --auth "carol:$ST_PASS" --from rick@customer.example --to friend@far-away.example >/dev/null
check "carol sending as rick@customer.example: 553 not owned" \
	grep -q '^RCPT friend@far-away.example 553 5.7.1 .*not owned by user <carol>' "$SB/smtp/notowner.out"
stack_send rate --port "$ST_SUBMISSION_PORT" --auth "rick:$ST_PASS" --from rick@customer.example --to a@far-away.example \
	--to b@far-away.example --to c@far-away.example --to d@far-away.example --to e@far-away.example >/dev/null
check "rick (3 recipients an hour): 3 accepted, 2 deferred with 450 4.7.1 Rate limit exceeded" \
	test "$(grep -c '^RCPT .* 250 ' "$SB/smtp/rate.out")" = 3 -a \
	"$(grep -c '^RCPT .* 450 4.7.1 .*Rate limit exceeded, try again later' "$SB/smtp/rate.out")" = 2

# --- reading back -------------------------------------------------------
check "IMAP: juan's INBOX holds Hello" test "$(stack_imap juan INBOX)" = Hello
check "IMAP: anna's Junk holds the GTUBE" test "$(stack_imap anna Junk)" = "Test spam mail (GTUBE)"
check "IMAP: anna's INBOX holds only Forged" test "$(stack_imap anna INBOX)" = Forged
check "POP3: maria sees the GTUBE" test "$(stack_pop3 maria)" = "Test spam mail (GTUBE)"
check "POP3: pat sees Pinned" test "$(stack_pop3 pat)" = Pinned
check "POP3: a wrong password is refused" \
	grep -q '^REFUSED' <<<"$("$MW_PYTHON" "$MW_TESTLIB/mailclient.py" pop3 "$DC_POP3_PORT" pat nope)"

# --- volume v1 read-only ------------------------------------------------
if [ -n "${MW_CHAIN_NS:-}" ] && mount --bind "$SB/srv/v1" "$SB/srv/v1" &&
	mount -o remount,ro,bind "$SB/srv/v1"; then
	sb_at_exit "umount '$SB/srv/v1'"
	stack_send ro-anna --from friend@elsewhere.example --to "anna@$D" --subject "While v1 was read-only" >/dev/null
	stack_send ro-pat --from friend@elsewhere.example --to "pat@$D" --subject "v2 regardless" >/dev/null
	check "v1 read-only: both messages accepted by Postfix" \
		eval 'grep -q "^DATA 250 " "$SB/smtp/ro-anna.out" && grep -q "^DATA 250 " "$SB/smtp/ro-pat.out"'
	stack_wait_found ro-pat 1 60
	check "v1 read-only: pat's mail (v2) arrives" only_copy_in ro-pat "$(dir_of pat)/Maildir/new"
	sb_eventually 60 grep -q "to=<anna@$D>.*status=deferred" "$(postfix_log)"
	check "v1 read-only: anna's mail (v1) is deferred by LMTP, not bounced" \
		eval 'grep -q "to=<anna@$D>.*status=deferred" "$(postfix_log)" && ! grep -q "to=<anna@$D>.*status=bounced" "$(postfix_log)"'
	check "v1 read-only: it waits in Postfix's queue" test "$(stack_queue_count)" = 1
	check "v1 read-only: nothing of it on disk yet" test -z "$(stack_found ro-anna)"
	umount "$SB/srv/v1"
	postqueue -c "$PF_CONF" -f
	stack_wait_found ro-anna 1 60
	check "v1 writable again: anna's mail arrives, once, in her INBOX" \
		only_copy_in ro-anna "$(dir_of anna)/Maildir/new"
	sb_eventually 30 test "$(stack_queue_count)" = 0
	check "the queue is empty" test "$(stack_queue_count)" = 0
else
	for i in 1 2 3 4 5 6 7; do
		ok "# SKIP no private mount namespace / read-only bind mount here"
	done
fi

# --- every copy counted --------------------------------------------------
# juan 1, pat 2, anna 3 (Forged, GTUBE, ro-anna), maria 1; sink 2 (carol,
# rick's 3 recipients in one transaction)
# (new/ or cur/: POP3 and IMAP move what they have seen to cur/)
n_mail=$(find "$SB/srv" -path '*/Maildir/*' \( -path '*/new/*' -o -path '*/cur/*' \) -type f | wc -l)
n_out=$(smtp_sink_count "$SB/internet")
expect_mail=7
[ -n "${MW_CHAIN_NS:-}" ] || expect_mail=5
check "every message stored exactly once: $expect_mail in the maildirs, 2 relayed" \
	test "$n_mail" = "$expect_mail" -a "$n_out" = 2
check "no bounces were generated" eval '! grep -q "status=bounced" "$(postfix_log)"'
done_testing
