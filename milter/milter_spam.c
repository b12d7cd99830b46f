/*++
/* NAME
/*	milter_spam 3
/* SUMMARY
/*	spam scoring through spamd; X-Spam-* headers
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	void	milter_spam_strip(ctx, msg)
/*	SMFICTX	*ctx;
/*	struct milter_msg *msg;
/*
/*	void	milter_spam_score(ctx, msg, data, len, spam)
/*	const char *data;
/*	size_t	len;
/*	struct milter_spam *spam;
/*
/*	void	milter_spam_headers(ctx, spam)
/*	const struct milter_spam *spam;
/* DESCRIPTION
/*	milter_spam_strip() deletes every X-Spam-* and X-Mailwarren-Stamp
/*	header that came with the message, however many names and copies
/*	there are, so that nobody outside can forge a score that the
/*	delivery side trusts.  The header callback counted each name;
/*	the copies are deleted by index, highest first, so that the
/*	remaining indexes stay valid.
/*
/*	milter_spam_score() decides whether the message is scored
/*	(SkipAuthenticated with an authenticated sender or a client in
/*	TrustedNetworks, and SpamMaxSize, skip it, with the reason in
/*	spam->why), then sends it to the spamd farm (mw_spamc) as it will
/*	be delivered: with a synthesized Received: line for the last hop,
/*	which neither Postfix nor Sendmail shows to a milter.  The spamd
/*	user is SpamdUser, or the recipient when SpamdPerRecipient is on
/*	and there is exactly one recipient.  data and len hold the message
/*	without the From_ line.
/*
/*	milter_spam_headers() adds SpamAssassin's conventional headers:
/*	X-Spam-Flag, X-Spam-Score, X-Spam-Level and X-Spam-Status for a
/*	scored message, or an X-Spam-Status saying why it was not scored.
/*
/*	milter_spam_stamp() (StampKeyFile set, a scored message) adds
/*	X-Mailwarren-Stamp (mw_stamp(3)): the score of X-Spam-Score bound
/*	to the message's Message-ID under the site key, for spam_prefs to
/*	check.  A message without a usable Message-ID (none, only white
/*	space, or longer than a header line may be) gets one, replacing
/*	the unusable one: "<QUEUEID.MILLISECONDS.PID@MTA-NAME>"; a second
/*	Message-ID header is left alone (the first one is stamped, and read).
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include <time.h>

/* Utility library. */

#include "mw_msg.h"
#include "mw_spamc.h"
#include "mw_stamp.h"
#include "mw_str.h"

/* Application-specific. */

#include "milter.h"

/* milter_spam_strip - delete inbound X-Spam-* headers */

void
milter_spam_strip(SMFICTX *ctx, struct milter_msg *msg)
{
	int	i;
	int	idx;

	for (i = 0; i < msg->spam_hdrs.n; i++)
		for (idx = msg->spam_hdrs.v[i].count; idx >= 1; idx--)
			if (smfi_chgheader(ctx, msg->spam_hdrs.v[i].name, idx, NULL) != MI_SUCCESS)
				mw_warn("%s: cannot delete header %s #%d", msg->qid,
					msg->spam_hdrs.v[i].name, idx);
}

/* spam_received - the Received: line the MTA will add */

static size_t
spam_received(const struct milter_msg *msg, char *buf, size_t len)
{
	struct tm tm;
	time_t	now = time(NULL);
	char	date[64];
	int	n;

	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", localtime_r(&now, &tm));
	n = snprintf(buf, len, "Received: from %s (%s [%s])\r\n\tby %s (%s) with ESMTP id %s;\r\n\t%s\r\n",
		     msg->helo[0] ? msg->helo : "unknown",
		     msg->client_name[0] ? msg->client_name : "unknown",
		     msg->client_addr[0] ? msg->client_addr : "unknown",
		     msg->mta_name[0] ? msg->mta_name : "localhost", MILTER_NAME,
		     msg->qid[0] ? msg->qid : "unknown", date);
	return (n < 0 ? 0 : (size_t) n >= len ? len - 1 : (size_t) n);
}

/* spam_user - the User: to score as, or NULL */

static const char *
spam_user(const struct milter_msg *msg, char *buf, size_t len)
{
	const struct milter_conf *conf = &msg->live->conf;
	const char *user;

	if (conf->spamd_per_recipient && msg->nrcpt == 1
	    && (user = milter_addr_spamd_user(msg->rcpt, buf, len)) != NULL)
		return (user);
	return (conf->spamd_user);
}

/* milter_spam_score - ask spamd, unless the message is to be skipped */

void
milter_spam_score(SMFICTX *ctx, struct milter_msg *msg, const char *data, size_t len,
		  struct milter_spam *spam)
{
	struct iovec iov[2];
	char	received[1024];
	char	user[256];
	const struct milter_conf *conf = &msg->live->conf;
	char	err[512];

	memset(spam, 0, sizeof(*spam));
	if (msg->live->spamc == NULL) {
		spam->status = SPAM_SKIPPED;
		spam->why = "no SpamdHosts";
		return;
	}
	if (conf->skip_authenticated && msg->auth[0] != '\0') {
		spam->status = SPAM_SKIPPED;
		spam->why = "authenticated sender";
		return;
	}
	if (conf->skip_authenticated && msg->trusted) {
		spam->status = SPAM_SKIPPED;
		spam->why = "trusted network";
		return;
	}
	if (len > conf->spam_max_size) {
		spam->status = SPAM_SKIPPED;
		spam->why = "larger than SpamMaxSize";
		return;
	}
	iov[0].iov_base = received;
	iov[0].iov_len = spam_received(msg, received, sizeof(received));
	iov[1].iov_base = (void *) data;
	iov[1].iov_len = len;
	if (mw_spamc_check(msg->live->spamc, MW_SPAMC_SYMBOLS, spam_user(msg, user, sizeof(user)),
			   iov, 2, &spam->res, spam->host, sizeof(spam->host),
			   err, sizeof(err)) < 0) {
		mw_warn("%s: no spamd host could score the message: %s",
			msg->qid[0] ? msg->qid : "NOQUEUE", err);
		spam->status = SPAM_ERROR;
		return;
	}
	spam->status = SPAM_SCORED;
}

/* milter_spam_headers - X-Spam-Flag, -Score, -Level, -Status */

void
milter_spam_headers(SMFICTX *ctx, const struct milter_spam *spam)
{
	char	buf[MW_SPAMC_SYMBOLS_MAX + 128];
	char	level[64];
	int	stars;

	if (spam->status != SPAM_SCORED) {
		snprintf(buf, sizeof(buf), "Unknown, not scored: %s",
			 spam->status == SPAM_ERROR ? "spam scanner unavailable" : spam->why);
		smfi_addheader(ctx, "X-Spam-Status", buf);
		return;
	}
	smfi_addheader(ctx, "X-Spam-Flag", spam->res.spam ? "YES" : "NO");
	snprintf(buf, sizeof(buf), "%.1f", spam->res.score);
	smfi_addheader(ctx, "X-Spam-Score", buf);
	stars = spam->res.score < 1 ? 0 : spam->res.score >= 50 ? 50 : (int) spam->res.score;
	memset(level, '*', (size_t) stars);
	level[stars] = '\0';
	smfi_addheader(ctx, "X-Spam-Level", level);
	snprintf(buf, sizeof(buf), "%s, score=%.1f required=%.1f tests=%s",
		 spam->res.spam ? "Yes" : "No", spam->res.score, spam->res.required,
		 spam->res.symbols[0] ? spam->res.symbols : "none");
	smfi_addheader(ctx, "X-Spam-Status", buf);
}

/* milter_spam_stamp - X-Mailwarren-Stamp, with a Message-ID to bind to */

void
milter_spam_stamp(SMFICTX *ctx, struct milter_msg *msg, const struct milter_spam *spam)
{
	char	value[MW_STAMP_VALUE_MAX];
	char	score[32];
	char	msgid[400];
	const char *qid = msg->qid[0] ? msg->qid : "NOQUEUE";
	long long now = (long long) time(NULL);

	snprintf(score, sizeof(score), "%.1f", spam->res.score);	/* as X-Spam-Score */
	if (mw_stamp_make(&msg->live->stamp_key, msg->msgid, score, now, value, sizeof(value)) < 0) {
		snprintf(msgid, sizeof(msgid), "<%s.%lld.%ld@%s>", qid, mw_now_ms(), (long) getpid(),
			 msg->mta_name[0] ? msg->mta_name : "localhost");
		if (mw_stamp_make(&msg->live->stamp_key, msgid, score, now, value, sizeof(value)) < 0) {
			mw_warn("%s: cannot stamp score %s", qid, score);
			return;
		}
		if ((msg->msgid != NULL ? smfi_chgheader(ctx, "Message-ID", 1, msgid)
		     : smfi_addheader(ctx, "Message-ID", msgid)) != MI_SUCCESS) {
			mw_warn("%s: cannot set Message-ID; not stamped", qid);
			return;
		}
		mw_info("%s: %s Message-ID: %s", qid, msg->msgid != NULL ? "replaced unusable" : "added", msgid);
	}
	if (smfi_addheader(ctx, MW_STAMP_HEADER, value) != MI_SUCCESS)
		mw_warn("%s: cannot add %s", qid, MW_STAMP_HEADER);
}
