/*++
/* NAME
/*	policy_check 3
/* SUMMARY
/*	mailwarren-policyd decision for one request
/* SYNOPSIS
/*	#include "policy.h"
/*
/*	int	policy_decide(tables, req, account, log_accepts, pending, action, len)
/*	const struct policy_tables *tables;
/*	const struct policy_req *req;
/*	const struct mw_account *account;
/*	int	log_accepts;
/*	struct policy_pending *pending;
/*	char	*action;
/*	size_t	len;
/*
/*	int	policy_rate_memory(rate, pending, now)
/*	mw_rate	*rate;
/*	time_t	now;
/*
/*	void	policy_finish(pending, outcome, fail_tempfail, action, len)
/*	int	outcome;
/*	int	fail_tempfail;
/* DESCRIPTION
/*	A request is answered in two steps, so that the rate counters may
/*	live in this process or in Redis (answered later, without blocking
/*	the event loop).
/*
/*	policy_decide() applies mw_relay_decide() at protocol_state RCPT
/*	(suspension, sender ownership, relay), with account the login's
/*	userdb entry when mw_relay_account_login() says the decision needs
/*	one (NULL otherwise; the daemon looks it up first, see
/*	mailwarren-policyd(8)).  A directory that failed or gave a value
/*	that is refused defers the recipient ("451 4.7.1 ..."), logged
/*	with the reason naming the field.  A refusal, or a request
/*	that involves no rate window, is final: the action is written and
/*	logged and the result is 0.  Otherwise the result is 1 and pending
/*	holds the rate question: for the login and for the customer, the
/*	counter keys, their windows, how many events to check and how many
/*	to count.  At RCPT a recipient is checked against the recipient
/*	windows and, since a full message window refuses the next message
/*	anyway, against the message windows; accepted recipients are
/*	counted.  At DATA a message is checked against the message windows;
/*	at END-OF-MESSAGE it is counted.  All other states get DUNNO.
/*
/*	With RecipientUserdb, a hosted recipient at RCPT also gets
/*	pending->user, the name to ask the user directory about (see
/*	mw_relay_rcpt_user()); the daemon asks (or finds the answer in its
/*	cache) before the rate question and hands the answer to
/*	policy_user_known(), which makes sure a refused recipient is not
/*	counted.  The rate question still comes first in the outcome: a
/*	customer over a limit gets 450 whoever the recipient is.
/*
/*	policy_rate_memory() answers a rate question with counters in this
/*	process: the index of the first item over one of its windows, or
/*	-1 when all are within limits, in which case every item's events
/*	are counted (refused attempts are never counted).  The Redis store
/*	(policy_redis.c) answers the same question with one atomic script.
/*
/*	policy_finish() turns the answer (outcome: an item index, -1 for
/*	within limits, POLICY_RATE_ERROR when the store failed) into the
/*	action and logs it: "450 4.7.1 Rate limit exceeded, try again
/*	later" for an item over its limit (the login or customer id only in
/*	the log line, never in the reply to the client); the decision's own action
/*	(OK for relay by a customer or login, DUNNO otherwise) within
/*	limits; on a store failure the same as within limits (RedisFailMode
/*	open), or "DEFER_IF_PERMIT 4.7.1 Rate limit service unavailable"
/*	with fail_tempfail.  Then the directory's answer: "550 5.1.1 User
/*	unknown", or "DEFER_IF_PERMIT 4.4.3 Recipient directory
/*	unavailable, try again later" when it could not tell.
/*
/*	The log line has Postfix's shape: queue id (or NOQUEUE), what
/*	happened (reject, defer, permit, dunno), the state, the client,
/*	the action, then reason, customer, sasl_username, from and to.
/*	Accepts are logged only when pending->log_accepts is set.
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

/* check_log - one log line per decision */

static void
check_log(const struct policy_pending *p, const char *whatsup, const char *action,
	  const char *reason)
{
	policy_metrics_decision(whatsup, reason);
	mw_info("%s: %s: %s from %s[%s]: %s; reason=%s customer=%s sasl_username=%s from=<%s> to=<%s>",
		*p->qid ? p->qid : "NOQUEUE", whatsup, p->state, *p->client ? p->client : "unknown",
		*p->addr ? p->addr : "unknown", action, reason,
		*p->res.customer ? p->res.customer : "-", *p->res.login ? p->res.shown_login : "-",
		p->sender, p->rcpt);
}

/* add_item - one identity's part of the rate question */

static void
add_item(const struct policy_tables *t, struct policy_pending *p, char kind,
	 const char *id, unsigned long long msgs, unsigned long long rcpts)
{
	struct mw_rate_limits m;
	struct mw_rate_limits r;
	struct policy_rate_item *it;

	if (*id == '\0' || policy_limits_for(t, id, &m, &r) < 0)
		return;
	if (m.n > 0) {
		it = &p->item[p->nitems++];
		snprintf(it->key, sizeof(it->key), "m%c:%s", kind, id);
		it->kind = kind;
		it->limits = m;
		it->check = msgs ? msgs : (rcpts ? 1 : 0);
		it->add = p->count_messages ? 1 : 0;
	}
	if (r.n > 0 && rcpts) {
		it = &p->item[p->nitems++];
		snprintf(it->key, sizeof(it->key), "r%c:%s", kind, id);
		it->kind = kind;
		it->limits = r;
		it->check = rcpts;
		it->add = rcpts;
	}
}

/* policy_decide - the relay decision; final, or a rate question */

int
policy_decide(const struct policy_tables *t, const struct policy_req *req,
	          const struct mw_account *acct, int log_accepts, struct policy_pending *p,
	          char *action, size_t len)
{
	struct mw_relay_req rreq = {0};
	const char *state = req->protocol_state;

	memset(p, 0, sizeof(*p));
	p->log_accepts = log_accepts;
	p->user_result = POLICY_USER_UNASKED;
	p->stage = POLICY_STAGE_USER;
	mw_printable(p->state, sizeof(p->state), *state ? state : "-", *state ? strlen(state) : 1);
	mw_printable(p->qid, sizeof(p->qid), req->queue_id, strlen(req->queue_id));
	mw_printable(p->client, sizeof(p->client), req->client_name, strlen(req->client_name));
	mw_printable(p->addr, sizeof(p->addr), req->client_address, strlen(req->client_address));
	mw_printable(p->sender, sizeof(p->sender), req->sender, strlen(req->sender));
	mw_printable(p->rcpt, sizeof(p->rcpt), req->recipient, strlen(req->recipient));

	rreq.client_address = req->client_address;
	rreq.sasl_username = req->sasl_username;
	rreq.sender = req->sender;
	rreq.recipient = req->recipient;
	rreq.account = acct;
	mw_relay_decide(&t->relay, &rreq, &p->res);

	if (strcmp(state, "RCPT") == 0) {
		switch (p->res.verdict) {
		case MW_RELAY_TEMPFAIL:
			mw_strlcpy(action, p->res.text, len);
			check_log(p, "defer", action, p->res.reason);
			return (0);
		case MW_RELAY_SUSPENDED:
		case MW_RELAY_NOT_OWNER:
			mw_strlcpy(action, p->res.text, len);
			check_log(p, "reject", action, p->res.reason);
			return (0);
		case MW_RELAY_DENIED:
			mw_strlcpy(action, t->deny_native ? "reject_unauth_destination" : p->res.text, len);
			check_log(p, "reject", action, p->res.reason);
			return (0);
		case MW_RELAY_INBOUND:
		case MW_RELAY_OUTBOUND:
			break;
		}
		p->final = p->res.verdict == MW_RELAY_OUTBOUND ? "OK" : "DUNNO";
		p->reason = p->res.reason;
		if (t->validate && p->res.verdict == MW_RELAY_INBOUND
		    && p->res.rcpt_class == MW_RCPT_HOSTED
		    && mw_relay_rcpt_user(req->recipient, t->rcpt_delimiter, p->user,
					  sizeof(p->user)) < 0) {
			p->user[0] = '\0';		/* no such name fits: nobody */
			p->user_result = POLICY_USER_UNKNOWN;
		}
		add_item(t, p, 'l', p->res.login, 0, 1);
		add_item(t, p, 'c', p->res.customer, 0, 1);
		if (p->user_result == POLICY_USER_UNKNOWN)
			policy_user_known(p, POLICY_USER_UNKNOWN);
	} else {
		p->final = "DUNNO";
		p->reason = *req->protocol_state ? "not a recipient" : "no protocol_state";
		if (strcmp(state, "DATA") == 0) {
			add_item(t, p, 'l', p->res.login, 1, 0);
			add_item(t, p, 'c', p->res.customer, 1, 0);
		} else if (strcmp(state, "END-OF-MESSAGE") == 0) {
			p->count_messages = 1;
			add_item(t, p, 'l', p->res.login, 0, 0);
			add_item(t, p, 'c', p->res.customer, 0, 0);
		}
	}
	if (p->nitems == 0 && p->user[0] == '\0') {
		policy_finish(p, -1, 0, action, len);
		return (0);
	}
	return (1);
}

/* policy_rate_memory - answer a rate question with local counters */

int
policy_rate_memory(mw_rate *rate, const struct policy_pending *p, time_t now)
{
	unsigned long long have;
	size_t	w;
	size_t	i;

	for (i = 0; i < p->nitems; i++)
		if (p->item[i].check > 0
		    && mw_rate_over(rate, p->item[i].key, &p->item[i].limits, p->item[i].check,
				    now, &have, &w))
			return ((int) i);
	for (i = 0; i < p->nitems; i++)
		if (p->item[i].add > 0
		    && mw_rate_add(rate, p->item[i].key, &p->item[i].limits, p->item[i].add, now) < 0)
			mw_warn("rate counter for %s: out of memory; not counted", policy_item_id(p, i));
	return (-1);
}

/* policy_user_known - the directory's answer; refused recipients are not counted */

void
policy_user_known(struct policy_pending *p, int result)
{
	size_t	i;

	p->user_result = result;
	if (result == POLICY_USER_UNKNOWN || result == POLICY_USER_ERROR)
		for (i = 0; i < p->nitems; i++)
			p->item[i].add = 0;
}

/* policy_item_id - the login or customer a rate item counts for */

const char *
policy_item_id(const struct policy_pending *p, size_t i)
{
	return (p->item[i].kind == 'l' ? p->res.shown_login : p->res.customer);
}

/* policy_finish - the action for a rate answer, logged */

void
policy_finish(const struct policy_pending *p, int outcome, int fail_tempfail,
	          char *action, size_t len)
{
	if (outcome >= 0 && (size_t) outcome < p->nitems) {
		/* The id (a login or an internal customer id) goes to the log only. */
		mw_strlcpy(action, "450 4.7.1 Rate limit exceeded, try again later", len);
		check_log(p, "defer", action, "rate limit");
		return;
	}
	if (outcome == POLICY_RATE_ERROR && fail_tempfail) {
		mw_strlcpy(action, "DEFER_IF_PERMIT 4.7.1 Rate limit service unavailable", len);
		check_log(p, "defer", action, "rate store unavailable");
		return;
	}
	if (p->user_result == POLICY_USER_UNKNOWN) {
		mw_strlcpy(action, "550 5.1.1 User unknown", len);
		check_log(p, "reject", action, "unknown recipient");
		return;
	}
	if (p->user_result == POLICY_USER_ERROR) {
		mw_strlcpy(action, "DEFER_IF_PERMIT 4.4.3 Recipient directory unavailable, try again later", len);
		check_log(p, "defer", action, "user directory unavailable");
		return;
	}
	mw_strlcpy(action, p->final, len);
	if (p->log_accepts || outcome == POLICY_RATE_ERROR)
		check_log(p, strcmp(p->final, "OK") == 0 ? "permit" : "dunno", action,
			  outcome == POLICY_RATE_ERROR ? "rate store unavailable, not counted" : p->reason);
	else
		policy_metrics_decision(strcmp(p->final, "OK") == 0 ? "permit" : "dunno", p->reason);
}
