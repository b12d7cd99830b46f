/*++
/* NAME
/*	mw_userdb_client 3
/* SUMMARY
/*	blocking auth-userdb client with a deadline, for worker threads
/* SYNOPSIS
/*	#include "mw_userdb.h"
/*
/*	struct mw_userdb_client *mw_userdb_client_create(endpoint, timeout_ms,
/*						pool_max, err, errlen)
/*	const char *endpoint;
/*	int	timeout_ms;
/*	unsigned pool_max;
/*
/*	int	mw_userdb_client_lookup(client, name, service, line, why, whylen)
/*	struct mw_userdb_client *client;
/*	const char *name;
/*	const char *service;
/*	char	**line;
/*	char	*why;
/*	size_t	whylen;
/*
/*	void	mw_userdb_client_free(client)
/* DESCRIPTION
/*	The client of mw_userdb(3)'s protocol for threads that may wait:
/*	mailwarren-milter's libmilter workers.  (mailwarren-policyd asks
/*	the same questions from its event loop, without blocking.)
/*
/*	mw_userdb_client_lookup() asks one USER question and waits for its
/*	answer at most timeout_ms milliseconds in all, connecting
/*	included: MW_USERDB_FOUND with the reply line in *line (malloc'ed;
/*	the caller frees it), MW_USERDB_NOTFOUND, or MW_USERDB_FAIL with
/*	the reason in why (the socket cannot be reached, Dovecot answered
/*	FAIL, no answer in time, a reply line longer than
/*	MW_USERDB_LINE_MAX, a closed connection; lines that answer no
/*	question, such as answers with another or a bad id, are skipped, as
/*	mailwarren-policyd skips them).  Any number of threads
/*	may ask at once: each question has a connection of its own while
/*	it waits, taken from a pool of idle connections (at most pool_max
/*	are kept; more are opened when needed and closed after use).  A
/*	connection that failed or timed out is closed, never reused, so a
/*	late answer cannot be taken for another question's.
/* DIAGNOSTICS
/*	mw_userdb_client_create() returns NULL with the reason in err (a
/*	bad endpoint, out of memory).
/* SEE ALSO
/*	mw_userdb(3), mw_endpoint(3)
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Utility library. */

#include "mw_endpoint.h"
#include "mw_str.h"
#include "mw_userdb.h"

struct mw_userdb_client {
	struct mw_endpoint ep;
	int	timeout_ms;
	pthread_mutex_t lock;
	unsigned next_id;
	unsigned pool_max;
	unsigned nidle;
	int    *idle;			/* connections said VERSION, none waiting */
};

/* mw_userdb_client_create - parse the endpoint; connect lazily */

struct mw_userdb_client *
mw_userdb_client_create(const char *endpoint, int timeout_ms, unsigned pool_max,
			        char *err, size_t errlen)
{
	struct mw_userdb_client *uc;
	char	why[256];

	if ((uc = calloc(1, sizeof(*uc))) == NULL) {
		mw_err(err, errlen, "out of memory");
		return (NULL);
	}
	if (mw_endpoint_parse(endpoint, &uc->ep, why, sizeof(why)) < 0) {
		mw_err(err, errlen, "%s", why);
		free(uc);
		return (NULL);
	}
	if (pool_max == 0)
		pool_max = 1;
	if ((uc->idle = calloc(pool_max, sizeof(int))) == NULL) {
		mw_err(err, errlen, "out of memory");
		free(uc);
		return (NULL);
	}
	uc->pool_max = pool_max;
	uc->timeout_ms = timeout_ms;
	uc->next_id = 1;
	(void) pthread_mutex_init(&uc->lock, NULL);
	return (uc);
}

/* client_take - an idle connection, or -1; and a fresh id */

static int
client_take(struct mw_userdb_client *uc, unsigned *id)
{
	int	fd = -1;

	(void) pthread_mutex_lock(&uc->lock);
	if (uc->nidle > 0)
		fd = uc->idle[--uc->nidle];
	if (uc->next_id == 0)
		uc->next_id = 1;
	*id = uc->next_id++;
	(void) pthread_mutex_unlock(&uc->lock);
	return (fd);
}

/* client_give - back to the pool, or closed when it is full */

static void
client_give(struct mw_userdb_client *uc, int fd)
{
	(void) pthread_mutex_lock(&uc->lock);
	if (uc->nidle < uc->pool_max) {
		uc->idle[uc->nidle++] = fd;
		fd = -1;
	}
	(void) pthread_mutex_unlock(&uc->lock);
	if (fd >= 0)
		close(fd);
}

/* client_wait - poll for events until the deadline; 0, or -1 (timeout, error) */

static int
client_wait(int fd, short events, long long deadline, char *why, size_t whylen)
{
	struct pollfd pfd;
	long long left;
	int	n;

	for (;;) {
		if ((left = deadline - mw_now_ms()) <= 0)
			return (mw_err(why, whylen, "no answer within the timeout"));
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		if ((n = poll(&pfd, 1, (int) left)) > 0)
			return (0);
		if (n < 0 && errno != EINTR)
			return (mw_err(why, whylen, "poll: %s", strerror(errno)));
	}
}

/* client_send - all of buf before the deadline */

static int
client_send(int fd, const char *buf, size_t len, long long deadline, char *why, size_t whylen)
{
	ssize_t	n;

	while (len > 0) {
		if (client_wait(fd, POLLOUT, deadline, why, whylen) < 0)
			return (-1);
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return (mw_err(why, whylen, "write: %s", strerror(errno)));
		}
		buf += n;
		len -= (size_t) n;
	}
	return (0);
}

/* client_answer - read lines until the answer for id; result or FAIL */

static int
client_answer(int fd, unsigned id, long long deadline, char **line, char *why, size_t whylen)
{
	char   *buf;
	size_t	len = 0;
	size_t	off = 0;
	char   *nl;
	unsigned got;
	ssize_t	n;
	int	rc;

	if ((buf = malloc(MW_USERDB_LINE_MAX + 1)) == NULL)
		return (mw_err(why, whylen, "out of memory"));
	for (;;) {
		while ((nl = memchr(buf + off, '\n', len - off)) != NULL) {
			*nl = '\0';
			rc = mw_userdb_reply(buf + off, &got);
			if ((rc == MW_USERDB_FOUND || rc == MW_USERDB_NOTFOUND || rc == MW_USERDB_FAIL)
			    && got == id) {
				if (rc == MW_USERDB_FAIL) {
					free(buf);
					return (mw_err(why, whylen, "Dovecot answered FAIL"));
				}
				if (rc == MW_USERDB_FOUND) {
					memmove(buf, buf + off, (size_t) (nl - buf - off) + 1);
					*line = buf;
					return (rc);
				}
				free(buf);
				return (rc);
			}
			/* VERSION, SPID, bad ids, other ids: answer nobody, skipped */
			off = (size_t) (nl + 1 - buf);
		}
		memmove(buf, buf + off, len - off);
		len -= off;
		off = 0;
		if (len >= MW_USERDB_LINE_MAX) {
			free(buf);
			return (mw_err(why, whylen, "reply line too long"));
		}
		if (client_wait(fd, POLLIN, deadline, why, whylen) < 0) {
			free(buf);
			return (-1);
		}
		if ((n = read(fd, buf + len, MW_USERDB_LINE_MAX - len)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			free(buf);
			return (mw_err(why, whylen, "read: %s", strerror(errno)));
		}
		if (n == 0) {
			free(buf);
			return (mw_err(why, whylen, "connection closed"));
		}
		len += (size_t) n;
	}
}

/* client_ask - one attempt on one connection */

static int
client_ask(struct mw_userdb_client *uc, int fd, int fresh, unsigned id, const char *name,
	           const char *service, long long deadline, char **line, char *why, size_t whylen)
{
	char	req[sizeof(MW_USERDB_HELLO) + MW_USERDB_REQ_MAX];
	size_t	off = 0;
	int	len;
	int	rc;

	if (fresh) {
		memcpy(req, MW_USERDB_HELLO, sizeof(MW_USERDB_HELLO) - 1);
		off = sizeof(MW_USERDB_HELLO) - 1;
	}
	if ((len = mw_userdb_request(req + off, sizeof(req) - off, id, name, service)) < 0) {
		close(fd);
		return (mw_err(why, whylen, "name too long"));
	}
	if (client_send(fd, req, off + (size_t) len, deadline, why, whylen) < 0
	    || (rc = client_answer(fd, id, deadline, line, why, whylen)) < 0) {
		close(fd);
		return (MW_USERDB_FAIL);
	}
	client_give(uc, fd);
	return (rc);
}

/* mw_userdb_client_lookup - one question, answered within the timeout */

int
mw_userdb_client_lookup(struct mw_userdb_client *uc, const char *name, const char *service,
			        char **line, char *why, size_t whylen)
{
	long long deadline = mw_now_ms() + uc->timeout_ms;
	unsigned id;
	int	fd;
	int	rc;

	*line = NULL;

	/*
	 * An idle connection may have been closed by Dovecot (a restart):
	 * one that fails is replaced by a fresh one, within the same deadline.
	 */
	if ((fd = client_take(uc, &id)) >= 0) {
		rc = client_ask(uc, fd, 0, id, name, service, deadline, line, why, whylen);
		if (rc != MW_USERDB_FAIL || mw_now_ms() >= deadline || strcmp(why, "Dovecot answered FAIL") == 0)
			return (rc);
	}
	if ((fd = mw_endpoint_connect(&uc->ep, (int) (deadline - mw_now_ms()), why, whylen)) < 0)
		return (MW_USERDB_FAIL);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		mw_err(why, whylen, "fcntl: %s", strerror(errno));
		close(fd);
		return (MW_USERDB_FAIL);
	}
	return (client_ask(uc, fd, 1, id, name, service, deadline, line, why, whylen));
}

/* mw_userdb_client_free - close the idle connections */

void
mw_userdb_client_free(struct mw_userdb_client *uc)
{
	if (uc == NULL)
		return;
	while (uc->nidle > 0)
		close(uc->idle[--uc->nidle]);
	free(uc->idle);
	(void) pthread_mutex_destroy(&uc->lock);
	free(uc);
}
