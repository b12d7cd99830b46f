/*++
/* NAME
/*	policy_check 3
/* SUMMARY
/*	mailwarren-policyd decision for one request
/* SYNOPSIS
/*	#include "policy.h"
/*
/*	void	policy_check(tables, rate, req, now, log_accepts, action, len)
/*	const struct policy_tables *tables;
/*	mw_rate	*rate;
/*	const struct policy_req *req;
/*	time_t	now;
/*	int	log_accepts;
/*	char	*action;
/*	size_t	len;
/* DESCRIPTION
/*	policy_check() answers one request with one access(5) action, and
/*	logs the decision in one line.
/*
/*	At protocol_state RCPT it applies mw_relay_decide() (suspension,
/*	sender ownership, relay) and, between relay and acceptance, the
/*	rate windows of the login and of the customer: a recipient that
/*	would take either identity over a recipient window, or that comes
/*	when a message window is already full, is answered "450 4.7.1
/*	Rate limit exceeded for <id>, try again later".  Accepted
/*	recipients are then counted for both identities; refused ones are
/*	not.  Hosted and unqualified recipients get DUNNO (the next
/*	restriction, e.g. reject_unauth_destination, still runs), relay by
/*	a customer or login gets OK.
/*
/*	At DATA a message that would exceed a message window is refused
/*	the same way; at END-OF-MESSAGE the message is counted.  All other
/*	states, and DATA/END-OF-MESSAGE within limits, get DUNNO.
/*
/*	The log line has Postfix's shape: queue id (or NOQUEUE), what
/*	happened (reject, defer, permit, dunno), the state, the client,
/*	the action text, then reason, customer, sasl_username, from and
/*	to.  Accepts are logged only when log_accepts is set.
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <string.h>

/* Utility library. */

#include "mw_msg.h"
#include "mw_str.h"

/* Application-specific. */

#include "policy.h"

#define RATE_KEY_MAX	(MW_RELAY_ID_MAX + 8)

/* check_log - one log line per decision */

static void
check_log(const struct policy_req *req, const struct mw_relay_result *res,
	  const char *whatsup, const char *action, const char *reason)
{
	char	qid[64];
	char	client[160];
	char	addr[80];
	char	sender[200];
	char	rcpt[200];

	mw_printable(qid, sizeof(qid), req->queue_id, strlen(req->queue_id));
	mw_printable(client, sizeof(client), req->client_name, strlen(req->client_name));
	mw_printable(addr, sizeof(addr), req->client_address, strlen(req->client_address));
	mw_printable(sender, sizeof(sender), req->sender, strlen(req->sender));
	mw_printable(rcpt, sizeof(rcpt), req->recipient, strlen(req->recipient));
	mw_info("%s: %s: %s from %s[%s]: %s; reason=%s customer=%s sasl_username=%s from=<%s> to=<%s>",
		*qid ? qid : "NOQUEUE", whatsup, *req->protocol_state ? req->protocol_state : "-",
		*client ? client : "unknown", *addr ? addr : "unknown", action, reason,
		*res->customer ? res->customer : "-", *res->login ? res->login : "-",
		sender, rcpt);
}

/* rate_over - is one identity over one of its windows */

static int
rate_over(const struct policy_tables *t, mw_rate *rate, char kind, const char *id,
	  unsigned long long msgs, unsigned long long rcpts, time_t now)
{
	struct mw_rate_limits m;
	struct mw_rate_limits r;
	char	key[RATE_KEY_MAX];
	unsigned long long have;
	size_t	w;

	if (*id == '\0')
		return (0);
	if (policy_limits_for(t, id, &m, &r) < 0)
		return (0);
	snprintf(key, sizeof(key), "m%c:%s", kind, id);
	if (msgs && mw_rate_over(rate, key, &m, msgs, now, &have, &w))
		return (1);
	snprintf(key, sizeof(key), "r%c:%s", kind, id);
	if (rcpts && mw_rate_over(rate, key, &r, rcpts, now, &have, &w))
		return (1);
	return (0);
}

/* rate_count - count events for one identity */

static void
rate_count(const struct policy_tables *t, mw_rate *rate, char kind, const char *id,
	   unsigned long long msgs, unsigned long long rcpts, time_t now)
{
	struct mw_rate_limits m;
	struct mw_rate_limits r;
	char	key[RATE_KEY_MAX];

	if (*id == '\0' || policy_limits_for(t, id, &m, &r) < 0)
		return;
	snprintf(key, sizeof(key), "m%c:%s", kind, id);
	if (msgs && m.n > 0 && mw_rate_add(rate, key, &m, msgs, now) < 0)
		mw_warn("rate counter for %s: out of memory; not counted", id);
	snprintf(key, sizeof(key), "r%c:%s", kind, id);
	if (rcpts && r.n > 0 && mw_rate_add(rate, key, &r, rcpts, now) < 0)
		mw_warn("rate counter for %s: out of memory; not counted", id);
}

/* rate_refused - which identity (if any) is over; formats the action */

static const char *
rate_refused(const struct policy_tables *t, mw_rate *rate, const struct mw_relay_result *res,
	     unsigned long long msgs, unsigned long long rcpts, time_t now,
	     char *action, size_t len)
{
	const char *id = NULL;

	if (rate_over(t, rate, 'l', res->login, msgs, rcpts, now))
		id = res->login;
	else if (rate_over(t, rate, 'c', res->customer, msgs, rcpts, now))
		id = res->customer;
	if (id != NULL)
		snprintf(action, len, "450 4.7.1 Rate limit exceeded for %s, try again later", id);
	return (id);
}

/* policy_check - one request, one action */

void
policy_check(const struct policy_tables *t, mw_rate *rate, const struct policy_req *req,
	         time_t now, int log_accepts, char *action, size_t len)
{
	struct mw_relay_req rreq;
	struct mw_relay_result res;
	const char *state = req->protocol_state;

	rreq.client_address = req->client_address;
	rreq.sasl_username = req->sasl_username;
	rreq.sender = req->sender;
	rreq.recipient = req->recipient;
	mw_relay_decide(&t->relay, &rreq, &res);

	if (strcmp(state, "RCPT") == 0) {
		switch (res.verdict) {
		case MW_RELAY_SUSPENDED:
		case MW_RELAY_NOT_OWNER:
			mw_strlcpy(action, res.text, len);
			check_log(req, &res, "reject", action, res.reason);
			return;
		case MW_RELAY_DENIED:
			mw_strlcpy(action, t->deny_native ? "reject_unauth_destination" : res.text, len);
			check_log(req, &res, "reject", action, res.reason);
			return;
		case MW_RELAY_INBOUND:
		case MW_RELAY_OUTBOUND:
			break;
		}
		if (rate_refused(t, rate, &res, 1, 1, now, action, len) != NULL) {
			check_log(req, &res, "defer", action, "rate limit");
			return;
		}
		rate_count(t, rate, 'l', res.login, 0, 1, now);
		rate_count(t, rate, 'c', res.customer, 0, 1, now);
		mw_strlcpy(action, res.verdict == MW_RELAY_OUTBOUND ? "OK" : "DUNNO", len);
		if (log_accepts)
			check_log(req, &res, res.verdict == MW_RELAY_OUTBOUND ? "permit" : "dunno",
				  action, res.reason);
		return;
	}
	if (strcmp(state, "DATA") == 0) {
		if (rate_refused(t, rate, &res, 1, 0, now, action, len) != NULL) {
			check_log(req, &res, "defer", action, "rate limit");
			return;
		}
	} else if (strcmp(state, "END-OF-MESSAGE") == 0) {
		rate_count(t, rate, 'l', res.login, 1, 0, now);
		rate_count(t, rate, 'c', res.customer, 1, 0, now);
	}
	mw_strlcpy(action, "DUNNO", len);
	if (log_accepts)
		check_log(req, &res, "dunno", action, *state ? "not a recipient" : "no protocol_state");
}
