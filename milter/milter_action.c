/*++
/* NAME
/*	milter_action 3
/* SUMMARY
/*	mailwarren-milter decisions, SMTP replies and the log line
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	sfsistat milter_act_virus(ctx, conf, virname)
/*	SMFICTX	*ctx;
/*	const struct milter_conf *conf;
/*	const char *virname;
/*
/*	sfsistat milter_act_scan_error(ctx, conf)
/*
/*	sfsistat milter_act_spam(ctx, conf, spam, rejected)
/*	const struct milter_spam *spam;
/*	int	*rejected;
/*
/*	sfsistat milter_act_relay(ctx, msg, rcpt)
/*	struct milter_msg *msg;
/*	const char *rcpt;
/*
/*	sfsistat milter_act_bad_header(ctx, msg)
/*
/*	void	milter_act_set_reply(ctx, rcode, xcode, text)
/*
/*	void	milter_act_log(msg, virus, scan_error, spam, action, scan_ms, score_ms)
/*
/*	long	milter_ms_since(t0)
/* DESCRIPTION
/*	The replies operators grep for are fixed:
/* .nf
/*	550 5.7.1 Virus found: <signature name>
/*	451 4.7.1 Virus scanner unavailable, try again later
/*	550 5.7.1 Message could not be scanned completely: LIMIT
/*	451 4.7.1 Spam scanner unavailable, try again later
/*	550 5.7.1 Message classified as spam
/*	550 5.6.0 Malformed message header: bare CR or LF
/* .fi
/*	milter_act_virus() applies OnInfected: reject with the first
/*	reply, discard, quarantine (Postfix's hold queue, Sendmail's
/*	quarantine) or tag (X-Virus-Found header only).
/*	milter_act_scan_error() applies OnScanError; milter_act_scan_limit()
/*	applies OnScanLimit to a message whose scan exceeded a limit
/*	(virname: libclamav's alert, such as
/*	Heuristics.Limits.Exceeded.MaxRecursion): reject with
/*	"550 5.7.1 Message could not be scanned completely: LIMIT", tempfail
/*	with "451 4.7.1 Message could not be scanned completely: LIMIT, try
/*	again later", tag (X-Virus-Found: virname) or accept.
/*	milter_act_spam() applies SpamdFailAction to an unscored message and
/*	SpamRejectScore to a scored one (*rejected set when it rejects).
/*	They return the libmilter status for xxfi_eom; SMFIS_CONTINUE
/*	means "go on with the message".
/*
/*	milter_act_bad_header() refuses, unscanned, a message with a header
/*	that milter_hdr_copy() could not put into the scan copy as it will
/*	be delivered (msg->bad_header, msg->bad_header_name): a bare CR,
/*	a line break that is not folding, a value that ends in a line
/*	break.  Scanning it would read a different header block than the
/*	recipient's software does.  Logged with
/*	"virus=unscanned bad_header=NAME:WHY".
/*
/*	milter_act_relay() applies RelayPolicy to one recipient (rcpt as
/*	the MTA gives it, in angle brackets) with the decision that
/*	mailwarren-policyd uses (mw_relay_decide): the client address,
/*	the SASL login ({auth_authen}), the sender and the recipient.  It
/*	rejects with the same replies as mailwarren-policyd:
/* .nf
/*	550 5.7.1 Account suspended, contact support
/*	553 5.7.1 Sender address <s> not owned by user <login>
/*	554 5.7.1 Relay access denied
/* .fi
/*	and, with SenderOwnership userdb or Suspension userdb, when the
/*	login's userdb entry (milter_account_get(), asked once a message)
/*	cannot be had or holds a value that is refused, defers with
/* .nf
/*	451 4.7.1 Account directory unavailable, try again later
/*	451 4.7.1 Account data invalid, try again later
/* .fi
/*	and logs one line per refusal or deferral ("QUEUEID: reject: RCPT from
/*	name[addr]: REPLY; reason=.. customer=.. sasl_username=.. from=<..>
/*	to=<..>"); accepted recipients are logged with -v only.  Rate
/*	limits are not applied (mailwarren-policyd's job on Postfix).
/*
/*	milter_act_set_reply() sets a reply, with CR and LF removed and
/*	"%" doubled as smfi_setreply() requires.
/*
/*	milter_act_log() writes the one log line per message, in
/*	Postfix's shape: "QUEUEID: action: client=name[addr] from=<..>
/*	nrcpt=N virus=NAME|clean|error|incomplete limit=LIMIT|unscanned bad_header=NAME:WHY score=S|-
/*	scan=Nms score_time=Nms".
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Utility library. */

#include "mw_msg.h"
#include "mw_relay.h"
#include "mw_str.h"

/* Application-specific. */

#include "milter.h"

/* milter_ms_since - milliseconds since t0 (CLOCK_MONOTONIC) */

long
milter_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000);
}

/* milter_act_set_reply - set an SMTP reply, made safe for libmilter */

void
milter_act_set_reply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text)
{
	char	clean[512];
	size_t	i;
	size_t	j = 0;

	for (i = 0; text[i] != '\0' && j < sizeof(clean) - 2; i++) {
		if (text[i] == '\r' || text[i] == '\n')
			continue;
		if (text[i] == '%')
			clean[j++] = '%';
		clean[j++] = text[i];
	}
	clean[j] = '\0';
	if (smfi_setreply(ctx, (char *) rcode, (char *) xcode, clean) != MI_SUCCESS)
		mw_warn("smfi_setreply %s %s %s failed", rcode, xcode, clean);
}

/* milter_act_virus - OnInfected */

sfsistat
milter_act_virus(SMFICTX *ctx, const struct milter_conf *conf, const char *virname)
{
	char	text[300];

	switch (conf->on_infected_code) {
	case ON_INFECTED_DISCARD:
		return (SMFIS_DISCARD);
	case ON_INFECTED_QUARANTINE:
		snprintf(text, sizeof(text), "Virus found: %s", virname);
		if (smfi_quarantine(ctx, text) != MI_SUCCESS)
			mw_warn("smfi_quarantine failed");
		smfi_addheader(ctx, "X-Virus-Found", (char *) virname);
		return (SMFIS_CONTINUE);
	case ON_INFECTED_TAG:
		smfi_addheader(ctx, "X-Virus-Found", (char *) virname);
		return (SMFIS_CONTINUE);
	default:
		snprintf(text, sizeof(text), "Virus found: %s", virname);
		milter_act_set_reply(ctx, "550", "5.7.1", text);
		return (SMFIS_REJECT);
	}
}

/* milter_act_scan_error - OnScanError */

sfsistat
milter_act_scan_error(SMFICTX *ctx, const struct milter_conf *conf)
{
	if (conf->on_scan_error_code == ON_FAIL_ACCEPT)
		return (SMFIS_CONTINUE);
	milter_act_set_reply(ctx, "451", "4.7.1", "Virus scanner unavailable, try again later");
	return (SMFIS_TEMPFAIL);
}

/* milter_act_scan_limit - OnScanLimit; virname is libclamav's alert */

sfsistat
milter_act_scan_limit(SMFICTX *ctx, const struct milter_conf *conf, const char *virname)
{
	const char *limit = milter_clam_limit(virname);
	char	text[300];

	switch (conf->on_scan_limit_code) {
	case ON_LIMIT_TEMPFAIL:
		snprintf(text, sizeof(text), "Message could not be scanned completely: %s, try again later",
			 limit);
		milter_act_set_reply(ctx, "451", "4.7.1", text);
		return (SMFIS_TEMPFAIL);
	case ON_LIMIT_TAG:
		smfi_addheader(ctx, "X-Virus-Found", (char *) virname);
		return (SMFIS_CONTINUE);
	case ON_LIMIT_ACCEPT:
		return (SMFIS_CONTINUE);
	default:
		snprintf(text, sizeof(text), "Message could not be scanned completely: %s", limit);
		milter_act_set_reply(ctx, "550", "5.7.1", text);
		return (SMFIS_REJECT);
	}
}

/* milter_act_spam - SpamdFailAction, SpamRejectScore */

sfsistat
milter_act_spam(SMFICTX *ctx, const struct milter_conf *conf, const struct milter_spam *spam,
		        int *rejected)
{
	*rejected = 0;
	if (spam->status == SPAM_ERROR && conf->spamd_fail_code == ON_FAIL_TEMPFAIL) {
		milter_act_set_reply(ctx, "451", "4.7.1", "Spam scanner unavailable, try again later");
		return (SMFIS_TEMPFAIL);
	}
	if (spam->status == SPAM_SCORED && conf->reject_score >= 0
	    && spam->res.score >= conf->reject_score) {
		*rejected = 1;
		milter_act_set_reply(ctx, "550", "5.7.1", "Message classified as spam");
		return (SMFIS_REJECT);
	}
	return (SMFIS_CONTINUE);
}

/* milter_act_relay - RelayPolicy for one recipient */

sfsistat
milter_act_relay(SMFICTX *ctx, struct milter_msg *msg, const char *rcpt)
{
	struct mw_relay_result res;
	struct mw_relay_req req = {0};
	const char *addr = msg->client_addr;
	char	sender[256];
	char	recipient[256];
	char	shown_from[200];
	char	shown_to[200];
	char	name[128];
	char	login[MW_RELAY_ID_MAX];
	char	rcode[4];
	char	xcode[16];
	const char *text;
	int	refused;

	(void) milter_addr_bare(msg->from, sender, sizeof(sender));
	(void) milter_addr_bare(rcpt, recipient, sizeof(recipient));
	req.client_address = addr;
	req.sasl_username = msg->auth;
	req.sender = sender;
	req.recipient = recipient;
	/* the login's userdb entry, asked once a message (all its recipients) */
	if (mw_relay_account_login(&msg->live->relay, msg->auth, login, sizeof(login))) {
		if (msg->account == NULL && (msg->account = malloc(sizeof(*msg->account))) != NULL)
			milter_account_get(&msg->live->conf, login, msg->account);
		req.account = msg->account;	/* NULL (out of memory): deferred */
	}
	mw_relay_decide(&msg->live->relay, &req, &res);
	refused = res.verdict == MW_RELAY_SUSPENDED || res.verdict == MW_RELAY_NOT_OWNER
		|| res.verdict == MW_RELAY_DENIED || res.verdict == MW_RELAY_TEMPFAIL;
	mw_printable(shown_from, sizeof(shown_from), sender, strlen(sender));
	mw_printable(shown_to, sizeof(shown_to), recipient, strlen(recipient));
	mw_printable(name, sizeof(name), msg->client_name, strlen(msg->client_name));
	(refused ? mw_info : mw_debug)
		("%s: %s: RCPT from %s[%s]: %s; reason=%s customer=%s sasl_username=%s from=<%s> to=<%s>",
		 msg->qid[0] ? msg->qid : "NOQUEUE",
		 res.verdict == MW_RELAY_TEMPFAIL ? "defer" : refused ? "reject" : "permit",
		 name[0] ? name : "unknown", msg->client_addr[0] ? msg->client_addr : "unknown",
		 refused ? res.text : "relay policy", res.reason,
		 res.customer[0] ? res.customer : "-", res.login[0] ? res.shown_login : "-",
		 shown_from, shown_to);
	milter_metrics_recipient(refused);
	if (!refused)
		return (SMFIS_CONTINUE);
	/* res.text is "NNN X.Y.Z text" */
	if (sscanf(res.text, "%3s %15s", rcode, xcode) != 2
	    || (text = strchr(res.text + 4, ' ')) == NULL) {
		milter_act_set_reply(ctx, "554", "5.7.1", "Relay access denied");
		return (SMFIS_REJECT);
	}
	milter_act_set_reply(ctx, rcode, xcode, text + 1);
	return (res.verdict == MW_RELAY_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT);
}

/* milter_act_bad_header - refuse a header the scanners would misread */

sfsistat
milter_act_bad_header(SMFICTX *ctx, const struct milter_msg *msg)
{
	char	state[128];

	snprintf(state, sizeof(state), "unscanned bad_header=%s:%s",
		 msg->bad_header_name[0] ? msg->bad_header_name : "-",
		 milter_hdr_why(msg->bad_header));
	milter_act_set_reply(ctx, "550", "5.6.0", "Malformed message header: bare CR or LF");
	milter_act_log(msg, NULL, state, NULL, "reject", 0, 0);
	return (SMFIS_REJECT);
}

/* milter_act_log - the one line per message */

void
milter_act_log(const struct milter_msg *msg, const char *virus, const char *scan_state,
	       const struct milter_spam *spam, const char *action, long scan_ms, long score_ms)
{
	char	from[128];
	char	name[128];
	char	vir[128];
	char	score[32];

	milter_metrics_decision(action, virus, scan_state, spam);
	mw_printable(from, sizeof(from), msg->from, strlen(msg->from));
	mw_printable(name, sizeof(name), msg->client_name, strlen(msg->client_name));
	if (virus != NULL)
		mw_printable(vir, sizeof(vir), virus, strlen(virus));
	else
		mw_strlcpy(vir, scan_state, sizeof(vir));
	if (spam == NULL || spam->status == SPAM_ERROR)
		mw_strlcpy(score, spam == NULL ? "-" : "error", sizeof(score));
	else if (spam->status == SPAM_SKIPPED)
		mw_strlcpy(score, "skipped", sizeof(score));
	else
		snprintf(score, sizeof(score), "%.1f", spam->res.score);
	mw_info("%s: %s: client=%s[%s] from=%s nrcpt=%d virus=%s score=%s scan=%ldms score_time=%ldms%s%s%s",
		msg->qid[0] ? msg->qid : "NOQUEUE", action,
		name[0] ? name : "unknown", msg->client_addr[0] ? msg->client_addr : "unknown",
		from[0] ? from : "<>", msg->nrcpt, vir, score, scan_ms, score_ms,
		spam != NULL && spam->status == SPAM_SKIPPED ? " skip=\"" : "",
		spam != NULL && spam->status == SPAM_SKIPPED ? spam->why : "",
		spam != NULL && spam->status == SPAM_SKIPPED ? "\"" : "");
}
