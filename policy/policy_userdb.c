/*++
/* NAME
/*	policy_userdb 3
/* SUMMARY
/*	recipient validation through Dovecot's auth-userdb socket
/* SYNOPSIS
/*	#include "policy_userdb.h"
#include "policy_reply.h"
/*
/*	struct policy_userdb *policy_userdb_create(endpoint, timeout_ms, epfd, tag,
/*						err, errlen)
/*	const char *endpoint;
/*	int	timeout_ms;
/*	int	epfd;
/*	void	*tag;
/*
/*	int	policy_userdb_submit(ud, user, done, ctx, now_ms)
/*	struct policy_userdb *ud;
/*	const char *user;
/*	void	(*done)(void *ctx, int result);
/*	void	*ctx;
/*	long long now_ms;
/*
/*	void	policy_userdb_io(ud, events, now_ms)
/*	void	policy_userdb_tick(ud, now_ms)
/*	int	policy_userdb_busy(ud)
/*	void	policy_userdb_free(ud)
/* DESCRIPTION
/*	Asks Dovecot whether a user exists, the way its LMTP server and
/*	"doveadm user" do: Dovecot's auth master protocol on the
/*	auth-userdb socket (endpoint: local:/path, or inet:port@host for
/*	an inet_listener).  One persistent, non-blocking connection in the
/*	daemon's epoll set (events tagged with tag) carries any number of
/*	lookups at once, each with its own id:
/*
/*	    VERSION<TAB>1<TAB>0              (once per connection)
/*	    USER<TAB>id<TAB>user<TAB>service=lmtp
/*
/*	answered by "USER<TAB>id<TAB>..." (the user exists), "NOTFOUND<TAB>id"
/*	or "FAIL<TAB>id<TAB>..." (Dovecot could not tell), in any order.
/*	Dovecot applies its auth_username_format to the name, so the
/*	caller sends the address as the MTA would deliver it.
/*
/*	policy_userdb_submit() queues one lookup and returns 0;
/*	done(ctx, result) is called later with POLICY_USER_FOUND,
/*	POLICY_USER_UNKNOWN or POLICY_USER_ERROR.  It returns -1 without
/*	calling done when no lookup can be made now (the socket cannot be
/*	reached, within a second of a failure, out of memory).  When the
/*	oldest lookup is older than timeout_ms, or the connection breaks,
/*	every lookup in flight is answered POLICY_USER_ERROR and the
/*	connection is closed.  policy_userdb_io() handles readiness;
/*	policy_userdb_tick() enforces the deadline (call it every few
/*	milliseconds while policy_userdb_busy() is true).
/*
/*	Names are escaped as Dovecot's str_tabescape() does, so that no
/*	name can add a field or a line.
/* SEE ALSO
/*	Dovecot's doc/wiki Design.AuthProtocol, the auth master protocol
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

/* Application-specific. */

#include "policy_link.h"
#include "policy_userdb.h"
#include "policy_reply.h"

#define USERDB_IN_MAX	(256 * 1024)
#define USERDB_NAME_MAX	1024		/* escaped user name */

struct policy_userdb {
	struct policy_link link;
	int	timeout_ms;
	unsigned next_id;
};

/* policy_userdb_create - parse the endpoint; connect lazily */

struct policy_userdb *
policy_userdb_create(const char *endpoint, int timeout_ms, int epfd, void *tag,
		             char *err, size_t errlen)
{
	struct policy_userdb *ud;
	struct mw_endpoint ep;
	char	why[256];
	char	name[MW_EP_STR_MAX + 32];

	if (mw_endpoint_parse(endpoint, &ep, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "RecipientUserdb: %s", why);
		return (NULL);
	}
	if ((ud = calloc(1, sizeof(*ud))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	snprintf(name, sizeof(name), "userdb %s", endpoint);
	policy_link_init(&ud->link, name, &ep, epfd, tag, USERDB_IN_MAX);
	ud->timeout_ms = timeout_ms;
	ud->next_id = 1;
	return (ud);
}

/* policy_userdb_free - close and forget (lookups are failed) */

void
policy_userdb_free(struct policy_userdb *ud)
{
	if (ud == NULL)
		return;
	policy_link_free(&ud->link, POLICY_USER_ERROR);
	free(ud);
}

/* policy_userdb_busy - lookups in flight */

int
policy_userdb_busy(const struct policy_userdb *ud)
{
	return (policy_link_busy(&ud->link));
}

/* tabescape - Dovecot's str_tabescape(); -1 when it does not fit */

static int
tabescape(const char *s, char *buf, size_t len)
{
	size_t	n = 0;

	for (; *s != '\0'; s++) {
		const char *esc = NULL;

		switch (*s) {
		case '\001':
			esc = "\0011";
			break;
		case '\t':
			esc = "\001t";
			break;
		case '\r':
			esc = "\001r";
			break;
		case '\n':
			esc = "\001n";
			break;
		}
		if (n + 3 > len)
			return (-1);
		if (esc != NULL) {
			buf[n++] = esc[0];
			buf[n++] = esc[1];
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = '\0';
	return (0);
}

/* policy_userdb_submit - queue one lookup */

int
policy_userdb_submit(struct policy_userdb *ud, const char *user, void (*done) (void *, int),
		             void *ctx, long long now_ms)
{
	char	name[USERDB_NAME_MAX];
	char	line[USERDB_NAME_MAX + 64];
	int	fresh = ud->link.fd < 0;

	if (tabescape(user, name, sizeof(name)) < 0)
		return (-1);
	if (policy_link_reserve(&ud->link) < 0 || policy_link_open(&ud->link, now_ms) < 0)
		return (-1);
	if (fresh && policy_link_append(&ud->link, "VERSION\t1\t0\n", 12) < 0)
		return (-1);
	if (ud->next_id == 0)
		ud->next_id = 1;
	snprintf(line, sizeof(line), "USER\t%u\t%s\tservice=lmtp\n", ud->next_id, name);
	if (policy_link_append(&ud->link, line, strlen(line)) < 0)
		return (-1);
	policy_link_wait(&ud->link, ud->next_id++, done, ctx, now_ms + ud->timeout_ms);
	return (0);
}

/* userdb_answer - one reply line: USER, NOTFOUND or FAIL for an id */

static void
userdb_answer(struct policy_userdb *ud, const char *line)
{
	char	shown[200];
	unsigned id;
	int	result;

	if ((result = policy_userdb_reply(line, &id)) == POLICY_REPLY_OTHER)
		return;				/* VERSION, SPID, future lines */
	if (result == POLICY_REPLY_BAD) {		/* answers nobody: skipped */
		mw_warn("%s: reply with a bad id skipped: %s", ud->link.name,
			mw_printable(shown, sizeof(shown), line, strlen(line)));
		return;
	}
	if (result == POLICY_USER_ERROR)
		mw_warn("%s: lookup failed: %s", ud->link.name,
			mw_printable(shown, sizeof(shown), line, strlen(line)));
	(void) policy_link_answer(&ud->link, 0, id, result);
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
		policy_link_fail(l, "reply line too long", POLICY_USER_ERROR, now_ms);
}

/* policy_userdb_io - the socket is ready */

void
policy_userdb_io(struct policy_userdb *ud, int events, long long now_ms)
{
	policy_link_io(&ud->link, events, POLICY_USER_ERROR, now_ms, userdb_replies, ud);
}

/* policy_userdb_tick - enforce the deadline */

void
policy_userdb_tick(struct policy_userdb *ud, long long now_ms)
{
	if (policy_link_expired(&ud->link, now_ms))
		policy_link_fail(&ud->link, "no answer within RecipientUserdbTimeout",
				 POLICY_USER_ERROR, now_ms);
}
