/*++
/* NAME
/*	milter_cb 3
/* SUMMARY
/*	mailwarren-milter libmilter callbacks
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	struct smfiDesc milter_desc;
/* DESCRIPTION
/*	The callbacks collect one message per MAIL transaction in the
/*	connection's private data (smfi_setpriv): the client, HELO,
/*	sender, recipients, and the message itself as the MTA will
/*	deliver it (headers with CRLF line ends, the body as received),
/*	behind an mbox "From " line so that libclamav types it as mail.
/*	Header lines go into that copy through milter_hdr_copy()
/*	(milter_input(3)); a header it refuses (a bare CR, a line break
/*	that is not folding) makes the message refused unscanned at end
/*	of message (milter_act_bad_header), and the body is not kept.
/*	Callbacks of one session may run on different worker threads,
/*	one at a time, so nothing is kept in thread-local storage.
/*
/*	Negotiation is milter_negotiate(3).
/*	xxfi_data is registered, although it does nothing: with DATA
/*	negotiated away Postfix still sends the DATA macros and a TCP
/*	milter then stalls ~40 ms per message on a delayed ACK.
/*
/*	At end of message: virus scan (milter_clam; OnInfected, OnScanError
/*	and OnScanLimit), then, for a message that goes on, forged X-Spam-* removal and spam scoring (milter_spam),
/*	the headers, the decision (milter_action) and one log line.
/*	Nothing is answered 2xx for a message that was not handled as
/*	configured.
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Utility library. */

#include "mw_cidr.h"
#include "mw_msg.h"
#include "mw_str.h"

/* Application-specific. */

#include "milter.h"
#include "milter_negotiate.h"

#define MSG(ctx)	((struct milter_msg *) smfi_getpriv(ctx))

static void cb_reset(struct milter_msg *);
static void cb_free(SMFICTX *, struct milter_msg *);

/* cb_macro - copy a macro value, or "" */

static void
cb_macro(SMFICTX *ctx, const char *name, char *buf, size_t len)
{
	const char *val = smfi_getsymval(ctx, (char *) name);

	if (val != NULL && *val != '\0')
		mw_strlcpy(buf, val, len);
}

/* cb_connect - allocate the connection state */

static sfsistat
cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct milter_msg *msg;

	/* Sendmail's QUIT_NC reuses the connection: never leak the old state. */
	if ((msg = MSG(ctx)) != NULL)
		cb_free(ctx, msg);
	if ((msg = calloc(1, sizeof(*msg))) == NULL) {
		mw_warn("out of memory for a new connection");
		return (SMFIS_TEMPFAIL);
	}
	if ((msg->live = milter_live_get()) == NULL) {
		free(msg);
		return (SMFIS_TEMPFAIL);
	}
	milter_buf_init(&msg->buf, &msg->live->conf);
	cb_macro(ctx, "{client_addr}", msg->client_addr, sizeof(msg->client_addr));
	/* Sendmail writes IPv6 clients as "IPv6:addr": the address, everywhere. */
	milter_addr_client(msg->client_addr);
	cb_macro(ctx, "j", msg->mta_name, sizeof(msg->mta_name));
	if (host != NULL)
		mw_strlcpy(msg->client_name, host, sizeof(msg->client_name));
	if (mw_addr_parse(msg->client_addr, &msg->client) < 0)
		msg->client.family = 0;
	msg->trusted = milter_cfg_trusted(&msg->live->conf, &msg->client);
	smfi_setpriv(ctx, msg);
	return (SMFIS_CONTINUE);
}

/* cb_helo - remember the HELO name */

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct milter_msg *msg = MSG(ctx);

	if (msg != NULL && helo != NULL)
		mw_strlcpy(msg->helo, helo, sizeof(msg->helo));
	return (SMFIS_CONTINUE);
}

/* cb_reset - forget the previous message of this connection */

static void
cb_reset(struct milter_msg *msg)
{
	milter_buf_reset(&msg->buf);
	milter_hdrset_free(&msg->spam_hdrs);
	msg->bad_header = MILTER_HDR_OK;
	msg->bad_header_name[0] = '\0';
	free(msg->msgid);
	msg->msgid = NULL;
	free(msg->account);
	msg->account = NULL;
	msg->qid[0] = msg->from[0] = msg->rcpt[0] = msg->auth[0] = '\0';
	msg->nrcpt = 0;
	msg->io_error = 0;
	msg->hdr_len = 0;
	msg->in_message = 0;
}

/* cb_free - release the connection state */

static void
cb_free(SMFICTX *ctx, struct milter_msg *msg)
{
	cb_reset(msg);
	milter_live_put(msg->live);
	free(msg);
	smfi_setpriv(ctx, NULL);
}

/* cb_envfrom - a new message starts, with the newest configuration */

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_msg *msg = MSG(ctx);
	struct milter_live *lv;

	if (msg == NULL)
		return (SMFIS_TEMPFAIL);
	cb_reset(msg);
	if ((lv = milter_live_get()) != NULL && lv != msg->live) {
		milter_live_put(msg->live);
		msg->live = lv;
		msg->trusted = milter_cfg_trusted(&lv->conf, &msg->client);
	} else {
		milter_live_put(lv);
	}
	milter_buf_init(&msg->buf, &msg->live->conf);
	msg->in_message = 1;
	if (argv[0] != NULL)
		mw_strlcpy(msg->from, argv[0], sizeof(msg->from));
	cb_macro(ctx, "i", msg->qid, sizeof(msg->qid));
	cb_macro(ctx, "{auth_authen}", msg->auth, sizeof(msg->auth));
	if (milter_buf_add(&msg->buf, MILTER_FROM_LINE, sizeof(MILTER_FROM_LINE) - 1) < 0)
		msg->io_error = 1;
	return (SMFIS_CONTINUE);
}

/* cb_envrcpt - RelayPolicy; count recipients, keep the first */

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_msg *msg = MSG(ctx);
	sfsistat rc;

	if (msg == NULL)
		return (SMFIS_TEMPFAIL);
	if (msg->live->conf.relay_policy) {
		if (msg->qid[0] == '\0')
			cb_macro(ctx, "i", msg->qid, sizeof(msg->qid));
		if ((rc = milter_act_relay(ctx, msg, argv[0] != NULL ? argv[0] : "")) != SMFIS_CONTINUE)
			return (rc);
	}
	if (msg->nrcpt++ == 0 && argv[0] != NULL)
		mw_strlcpy(msg->rcpt, argv[0], sizeof(msg->rcpt));
	return (SMFIS_CONTINUE);
}

/* cb_data - nothing to do; registered to avoid the TCP stall */

static sfsistat
cb_data(SMFICTX *ctx)
{
	struct milter_msg *msg = MSG(ctx);

	if (msg != NULL && msg->qid[0] == '\0')
		cb_macro(ctx, "i", msg->qid, sizeof(msg->qid));
	return (SMFIS_CONTINUE);
}

/* cb_add - append to the buffer, remember failure */

static void
cb_add(struct milter_msg *msg, const void *data, size_t len)
{
	if (!msg->io_error && milter_buf_add(&msg->buf, data, len) < 0)
		msg->io_error = 1;
}

/* cb_put - milter_hdr_copy() output into the buffer */

static void
cb_put(void *arg, const void *data, size_t len)
{
	cb_add((struct milter_msg *) arg, data, len);
}

/* cb_header - one header: count X-Spam-*, buffer with CRLF line ends */

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_msg *msg = MSG(ctx);
	int	why;

	if (msg == NULL || !msg->in_message || msg->bad_header != MILTER_HDR_OK)
		return (SMFIS_NOREPLY);
	if (milter_hdr_is_spam(name)) {
		if (milter_hdrset_add(&msg->spam_hdrs, name) < 0)
			msg->io_error = 1;	/* tempfail rather than keep a forgery */
	} else if (msg->msgid == NULL && strcasecmp(name, "Message-ID") == 0
		   && (msg->msgid = strdup(value)) == NULL) {
		msg->io_error = 1;
	}
	/* A header the scanners would read differently is refused at EOM. */
	if ((why = milter_hdr_copy(name, value, cb_put, msg)) != MILTER_HDR_OK) {
		msg->bad_header = why;
		mw_printable(msg->bad_header_name, sizeof(msg->bad_header_name), name, strlen(name));
	}
	return (SMFIS_NOREPLY);
}

/* cb_eoh - end of headers */

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct milter_msg *msg = MSG(ctx);

	if (msg != NULL && msg->in_message) {
		cb_add(msg, "\r\n", 2);
		msg->hdr_len = msg->buf.len;
	}
	return (SMFIS_NOREPLY);
}

/* cb_body - one body chunk */

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct milter_msg *msg = MSG(ctx);

	if (msg != NULL && msg->in_message && msg->bad_header == MILTER_HDR_OK)
		cb_add(msg, chunk, len);
	return (SMFIS_CONTINUE);
}

/* cb_eom - scan, score, decide, log */

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct milter_msg *msg = MSG(ctx);
	const struct milter_conf *conf;
	struct milter_spam spam;
	struct timespec t0;
	const char *data;
	const size_t from_len = sizeof(MILTER_FROM_LINE) - 1;
	char	virname[256];
	char	version[96];
	char	hdr[200];
	char	state[128];
	long	scan_ms;
	long	score_ms = 0;
	int	scan;
	int	rejected;
	sfsistat rc;

	if (msg == NULL || !msg->in_message)
		return (SMFIS_TEMPFAIL);
	msg->in_message = 0;
	conf = &msg->live->conf;
	cb_macro(ctx, "i", msg->qid, sizeof(msg->qid));
	if (msg->bad_header != MILTER_HDR_OK)
		return (milter_act_bad_header(ctx, msg));

	/* Virus scan: the message as received, from memory or the spool. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (msg->io_error || (data = milter_buf_map(&msg->buf)) == NULL)
		scan = SCAN_ERROR;
	else
		scan = milter_clam_scan(ctx, conf, msg->qid[0] ? msg->qid : "NOQUEUE", data,
					msg->buf.len, virname, sizeof(virname));
	scan_ms = milter_ms_since(&t0);
	milter_metrics_scan(scan, &t0);
	if (scan == SCAN_LIMIT)
		snprintf(state, sizeof(state), "incomplete limit=%s", milter_clam_limit(virname));
	else
		mw_strlcpy(state, scan == SCAN_ERROR ? "error" : "clean", sizeof(state));
	if (scan == SCAN_VIRUS) {
		rc = milter_act_virus(ctx, conf, virname);
		milter_act_log(msg, virname, NULL, NULL,
			       rc == SMFIS_REJECT ? "reject" : rc == SMFIS_DISCARD ? "discard" :
			       conf->on_infected_code == ON_INFECTED_QUARANTINE ? "quarantine" : "tag",
			       scan_ms, 0);
		if (rc != SMFIS_CONTINUE)
			return (rc);
	} else if (scan == SCAN_ERROR) {
		rc = milter_act_scan_error(ctx, conf);
		if (rc != SMFIS_CONTINUE) {
			milter_act_log(msg, NULL, state, NULL, "tempfail", scan_ms, 0);
			return (rc);
		}
	} else if (scan == SCAN_LIMIT) {
		rc = milter_act_scan_limit(ctx, conf, virname);
		if (rc != SMFIS_CONTINUE) {
			milter_act_log(msg, NULL, state, NULL,
				       rc == SMFIS_REJECT ? "reject" : "tempfail", scan_ms, 0);
			return (rc);
		}
	}

	/* Spam: never trust inbound X-Spam-*; then score. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	milter_spam_strip(ctx, msg);
	if (scan == SCAN_ERROR || (data = milter_buf_map(&msg->buf)) == NULL) {
		memset(&spam, 0, sizeof(spam));
		spam.status = SPAM_SKIPPED;
		spam.why = "message not readable";
	} else {
		milter_spam_score(ctx, msg, data + from_len, msg->buf.len - from_len, &spam);
	}
	score_ms = milter_ms_since(&t0);
	milter_metrics_spam(&spam, &t0);
	rc = milter_act_spam(ctx, conf, &spam, &rejected);
	if (rc != SMFIS_CONTINUE) {
		milter_act_log(msg, scan == SCAN_VIRUS ? virname : NULL, state, &spam,
			       rejected ? "reject" : "tempfail", scan_ms, score_ms);
		return (rc);
	}

	/* Headers for the delivery side. */
	milter_clam_version(version, sizeof(version));
	if (scan == SCAN_LIMIT)
		snprintf(hdr, sizeof(hdr), "incomplete: %s (%s via %s)",
			 milter_clam_limit(virname), version, MILTER_NAME);
	else
		snprintf(hdr, sizeof(hdr), scan == SCAN_ERROR ? "no, scanner error (%s via %s)" : "%s via %s",
			 version, MILTER_NAME);
	smfi_addheader(ctx, "X-Virus-Scanned", hdr);
	milter_spam_headers(ctx, &spam);
	if (msg->live->stamp && spam.status == SPAM_SCORED)
		milter_spam_stamp(ctx, msg, &spam);
	if (scan != SCAN_VIRUS)
		milter_act_log(msg, NULL, state, &spam,
			       scan == SCAN_LIMIT && conf->on_scan_limit_code == ON_LIMIT_TAG ? "tag" : "accept",
			       scan_ms, score_ms);
	return (SMFIS_CONTINUE);
}

/* cb_abort - the message was aborted; the connection goes on */

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct milter_msg *msg = MSG(ctx);

	if (msg != NULL)
		cb_reset(msg);
	return (SMFIS_CONTINUE);
}

/* cb_close - free the connection state */

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct milter_msg *msg = MSG(ctx);

	if (msg != NULL)
		cb_free(ctx, msg);
	return (SMFIS_CONTINUE);
}

struct smfiDesc milter_desc = {
	.xxfi_name = (char *) MILTER_NAME,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = MILTER_FLAGS,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_data = cb_data,
	.xxfi_negotiate = milter_negotiate,
};
