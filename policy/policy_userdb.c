/*++
/* NAME
/*	policy_userdb 3
/* SUMMARY
/*	Dovecot auth-userdb lookups inside mailwarren-policyd's event loop
/* SYNOPSIS
/*	#include "policy_userdb.h"
/*
/*	struct policy_userdb *policy_userdb_create(endpoint, epfd, tag,
/*						err, errlen)
/*	const char *endpoint;
/*	int	epfd;
/*	void	*tag;
/*
/*	int	policy_userdb_submit(ud, user, service, timeout_ms, done, ctx, now_ms)
/*	struct policy_userdb *ud;
/*	const char *user;
/*	const char *service;
/*	int	timeout_ms;
/*	void	(*done)(void *ctx, int result);
/*	void	*ctx;
/*	long long now_ms;
/*
/*	const char *policy_userdb_line(ud)
/*
/*	void	policy_userdb_io(ud, events, now_ms)
/*	void	policy_userdb_tick(ud, now_ms)
/*	int	policy_userdb_busy(ud)
/*	void	policy_userdb_free(ud)
/* DESCRIPTION
/*	The event-loop side of mw_userdb(3) (whose protocol functions
/*	format the questions and read the answers): one persistent,
/*	non-blocking connection to the auth-userdb socket (endpoint:
/*	local:/path, or inet:port@host for an inet_listener) in the
/*	daemon's epoll set (events tagged with tag) carries any number of
/*	lookups at once, each with its own id, for recipient validation
/*	(service lmtp) and the logins' relay facts (service smtp) alike.
/*
/*	policy_userdb_submit() queues one lookup and returns 0;
/*	done(ctx, result) is called later with MW_USERDB_FOUND,
/*	MW_USERDB_NOTFOUND or MW_USERDB_FAIL; during a done() call,
/*	policy_userdb_line() is the USER line (with the userdb fields) or
/*	Dovecot's FAIL line, else NULL (NOTFOUND, or no answer: the
/*	connection failed, which the connection logs once).  It returns -1 without
/*	calling done when no lookup can be made now (the socket cannot be
/*	reached, within a second of a failure, out of memory).  When the
/*	oldest lookup is older than its timeout_ms, or the connection breaks,
/*	every lookup in flight is answered MW_USERDB_FAIL and the
/*	connection is closed.  policy_userdb_io() handles readiness;
/*	policy_userdb_tick() enforces the deadline (call it every few
/*	milliseconds while policy_userdb_busy() is true).
/* SEE ALSO
/*	mw_userdb(3), policy_link(3)
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "mw_endpoint.h"
#include "mw_msg.h"
#include "mw_str.h"
#include "mw_userdb.h"

/* Application-specific. */

#include "policy_link.h"
#include "policy_userdb.h"

#define USERDB_IN_MAX	(4 * MW_USERDB_LINE_MAX)

struct policy_userdb {
	struct policy_link link;
	unsigned next_id;
	const char *line;		/* the USER line, during done() */
};

/* policy_userdb_create - parse the endpoint; connect lazily */

struct policy_userdb *
policy_userdb_create(const char *endpoint, int epfd, void *tag, char *err, size_t errlen)
{
	struct policy_userdb *ud;
	struct mw_endpoint ep;
	char	why[256];
	char	name[MW_EP_STR_MAX + 32];

	if (mw_endpoint_parse(endpoint, &ep, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s", why);
		return (NULL);
	}
	if ((ud = calloc(1, sizeof(*ud))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	snprintf(name, sizeof(name), "userdb %s", endpoint);
	policy_link_init(&ud->link, name, &ep, epfd, tag, USERDB_IN_MAX);
	ud->next_id = 1;
	return (ud);
}

/* policy_userdb_free - close and forget (lookups are failed) */

void
policy_userdb_free(struct policy_userdb *ud)
{
	if (ud == NULL)
		return;
	policy_link_free(&ud->link, MW_USERDB_FAIL);
	free(ud);
}

/* policy_userdb_busy - lookups in flight */

int
policy_userdb_busy(const struct policy_userdb *ud)
{
	return (policy_link_busy(&ud->link));
}

/* policy_userdb_submit - queue one lookup */

int
policy_userdb_submit(struct policy_userdb *ud, const char *user, const char *service,
		             int timeout_ms, void (*done) (void *, int), void *ctx, long long now_ms)
{
	char	line[MW_USERDB_REQ_MAX];
	int	fresh = ud->link.fd < 0;
	int	len;

	if (ud->next_id == 0)
		ud->next_id = 1;
	if ((len = mw_userdb_request(line, sizeof(line), ud->next_id, user, service)) < 0)
		return (-1);
	if (policy_link_reserve(&ud->link) < 0 || policy_link_open(&ud->link, now_ms) < 0)
		return (-1);
	if (fresh && policy_link_append(&ud->link, MW_USERDB_HELLO, sizeof(MW_USERDB_HELLO) - 1) < 0)
		return (-1);
	if (policy_link_append(&ud->link, line, (size_t) len) < 0)
		return (-1);
	policy_link_wait(&ud->link, ud->next_id++, done, ctx, now_ms + timeout_ms);
	return (0);
}

/* policy_userdb_line - the USER line being answered */

const char *
policy_userdb_line(const struct policy_userdb *ud)
{
	return (ud->line);
}

/* userdb_answer - one reply line: USER, NOTFOUND or FAIL for an id */

static void
userdb_answer(struct policy_userdb *ud, const char *line)
{
	char	shown[200];
	unsigned id;
	int	result;

	if ((result = mw_userdb_reply(line, &id)) == MW_USERDB_OTHER)
		return;				/* VERSION, SPID, future lines */
	if (result == MW_USERDB_BAD) {		/* answers nobody: skipped */
		mw_warn("%s: reply with a bad id skipped: %s", ud->link.name,
			mw_printable(shown, sizeof(shown), line, strlen(line)));
		return;
	}
	ud->line = result == MW_USERDB_NOTFOUND ? NULL : line;	/* USER, FAIL */
	(void) policy_link_answer(&ud->link, 0, id, result);
	ud->line = NULL;
}

/* userdb_replies - answer the lookups whose replies arrived */

static void
userdb_replies(void *arg, long long now_ms)
{
	struct policy_userdb *ud = arg;
	struct policy_link *l = &ud->link;
	char   *nl;
	size_t	off = 0;

	while (l->fd >= 0 && (nl = memchr(l->in + off, '\n', l->in_len - off)) != NULL) {
		*nl = '\0';
		userdb_answer(ud, l->in + off);
		off = (size_t) (nl + 1 - l->in);
	}
	if (l->fd < 0)
		return;
	policy_link_consume(l, off);
	if (l->in_len >= l->in_max - 4096)
		policy_link_fail(l, "reply line too long", MW_USERDB_FAIL, now_ms);
}

/* policy_userdb_io - the socket is ready */

void
policy_userdb_io(struct policy_userdb *ud, int events, long long now_ms)
{
	policy_link_io(&ud->link, events, MW_USERDB_FAIL, now_ms, userdb_replies, ud);
}

/* policy_userdb_tick - enforce the deadline */

void
policy_userdb_tick(struct policy_userdb *ud, long long now_ms)
{
	if (policy_link_expired(&ud->link, now_ms))
		policy_link_fail(&ud->link, "no answer within the timeout",
				 MW_USERDB_FAIL, now_ms);
}
