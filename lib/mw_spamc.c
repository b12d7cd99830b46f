/*++
/* NAME
/*	mw_spamc 3
/* SUMMARY
/*	SPAMC/1.5 client for a farm of spamd hosts
/* SYNOPSIS
/*	#include "mw_spamc.h"
/*
/*	struct mw_spamc *mw_spamc_create(specs, nspecs, timeout_ms, err, errlen)
/*	char	**specs;
/*	size_t	nspecs;
/*	int	timeout_ms;
/*	char	*err;
/*	size_t	errlen;
/*
/*	void	mw_spamc_free(sc)
/*	struct mw_spamc *sc;
/*
/*	int	mw_spamc_check(sc, method, user, iov, iovcnt, res,
/*				host, hostlen, err, errlen)
/*	int	method;
/*	const char *user;
/*	const struct iovec *iov;
/*	int	iovcnt;
/*	struct mw_spamc_result *res;
/*	char	*host;
/*	size_t	hostlen;
/* DESCRIPTION
/*	This module asks spamd for a verdict without forking spamc.
/*
/*	mw_spamc_create() takes the spamd endpoints in milter syntax
/*	(inet:port@host, inet6:port@[addr], local:/path), as the
/*	SpamdHosts setting lists them, and the deadline of one attempt in
/*	milliseconds.  The result may be used by any number of threads.
/*
/*	mw_spamc_check() sends the message, given as iovcnt pieces (e.g.
/*	a synthesized Received: line, then the message), with method
/*	MW_SPAMC_SYMBOLS or MW_SPAMC_CHECK, "Content-length:" and, when
/*	user is not NULL, "User: user" (see mw_spamc_user_ok()).  It then
/*	half-closes the connection, reads the reply to the server's close
/*	and parses it with mw_spamc_parse_reply().
/*
/*	Load spreading and failover: each call starts at the next host in
/*	round-robin order and tries every host at most once.  A host that
/*	fails (connect error, timeout, I/O error, malformed or error reply)
/*	is logged and avoided for MW_SPAMC_RETRY_SECS seconds, unless every
/*	host is being avoided.  Each attempt, connect included, is bounded
/*	by timeout_ms with poll(2), so a call never takes longer than
/*	nspecs * timeout_ms (name resolution of inet hosts excepted: use
/*	addresses).
/*
/*	host receives the endpoint that answered (for logging).
/*
/*	mw_spamc_hosts() counts the hosts up (not being avoided) and down.
/*	mw_spamc_stats() reads two process-wide counters: attempts that
/*	failed on a host, and calls answered by another host than the first
/*	one tried (failovers: calls in which a host failed and another
/*	answered).
/* DIAGNOSTICS
/*	mw_spamc_create() returns NULL with err set for a bad endpoint.
/*	mw_spamc_check() returns 0 with res filled in, or -1 when no host
/*	gave a usable answer; err then holds the last host's reason.
/* SEE ALSO
/*	mw_spamc_reply(3), spamd(8p), spamd/PROTOCOL in SpamAssassin.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Utility library. */

#include "mw_endpoint.h"
#include "mw_msg.h"
#include "mw_spamc.h"
#include "mw_str.h"

struct spamc_host {
	struct mw_endpoint ep;
	char	name[MW_EP_STR_MAX];
	long long avoid_until;		/* monotonic seconds; atomic */
};

struct mw_spamc {
	struct spamc_host *hosts;
	size_t	nhosts;
	unsigned next;			/* round-robin position; atomic */
	int	timeout_ms;
};

static unsigned long long spamc_host_errors;	/* atomic */
static unsigned long long spamc_failovers;	/* atomic */

/* mw_spamc_create - parse the host list */

struct mw_spamc *
mw_spamc_create(char **specs, size_t nspecs, int timeout_ms, char *err, size_t errlen)
{
	struct mw_spamc *sc;
	size_t	i;

	if (nspecs == 0 || nspecs > MW_SPAMC_HOSTS_MAX) {
		snprintf(err, errlen, "%s spamd hosts (1 to %d)", nspecs ? "too many" : "no",
			 MW_SPAMC_HOSTS_MAX);
		return (NULL);
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL
	    || (sc->hosts = calloc(nspecs, sizeof(*sc->hosts))) == NULL) {
		free(sc);
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	sc->nhosts = nspecs;
	sc->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	for (i = 0; i < nspecs; i++) {
		if (mw_endpoint_parse(specs[i], &sc->hosts[i].ep, err, errlen) < 0) {
			mw_spamc_free(sc);
			return (NULL);
		}
		mw_endpoint_str(&sc->hosts[i].ep, sc->hosts[i].name, sizeof(sc->hosts[i].name));
	}
	return (sc);
}

/* mw_spamc_free - release */

void
mw_spamc_free(struct mw_spamc *sc)
{
	if (sc == NULL)
		return;
	free(sc->hosts);
	free(sc);
}

/* spamc_wait - poll one descriptor until the deadline */

static int
spamc_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int	rc;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		if ((left = deadline - mw_now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return (-1);
		}
		rc = poll(&pfd, 1, (int) left);
		if (rc > 0)
			return (0);
		if (rc < 0 && errno != EINTR)
			return (-1);
	}
}

/* spamc_send - write one buffer completely before the deadline */

static int
spamc_send(int fd, const char *buf, size_t len, long long deadline)
{
	ssize_t	n;

	while (len > 0) {
		if (spamc_wait(fd, POLLOUT, deadline) < 0)
			return (-1);
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t) n;
	}
	return (0);
}

/* spamc_talk - one request/reply exchange with one host */

static int
spamc_talk(struct mw_spamc *sc, struct spamc_host *h, int method, const char *user,
	   const struct iovec *iov, int iovcnt, struct mw_spamc_result *res,
	   char *err, size_t errlen)
{
	long long deadline = mw_now_ms() + sc->timeout_ms;
	char	head[256];
	char   *reply;
	size_t	total = 0;
	size_t	got = 0;
	ssize_t	n;
	int	fd;
	int	i;
	int	rc = -1;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if ((fd = mw_endpoint_connect(&h->ep, sc->timeout_ms, err, errlen)) < 0)
		return (-1);
	if ((reply = malloc(MW_SPAMC_REPLY_MAX)) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return (-1);
	}
	snprintf(head, sizeof(head), "%s SPAMC/1.5\r\nContent-length: %zu\r\n%s%s%s\r\n",
		 method == MW_SPAMC_CHECK ? "CHECK" : "SYMBOLS", total,
		 user ? "User: " : "", user ? user : "", user ? "\r\n" : "");
	if (spamc_send(fd, head, strlen(head), deadline) < 0)
		goto io_error;
	for (i = 0; i < iovcnt; i++)
		if (spamc_send(fd, iov[i].iov_base, iov[i].iov_len, deadline) < 0)
			goto io_error;
	(void) shutdown(fd, SHUT_WR);
	for (;;) {
		if (got == MW_SPAMC_REPLY_MAX) {
			snprintf(err, errlen, "%s: reply longer than %d bytes", h->name, MW_SPAMC_REPLY_MAX);
			goto out;
		}
		if (spamc_wait(fd, POLLIN, deadline) < 0)
			goto io_error;
		n = recv(fd, reply + got, MW_SPAMC_REPLY_MAX - got, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			goto io_error;
		}
		got += (size_t) n;
	}
	if ((rc = mw_spamc_parse_reply(reply, got, res, head, sizeof(head))) < 0) {
		snprintf(err, errlen, "%s: %s", h->name, head);
		rc = -1;
	}
	goto out;

io_error:
	snprintf(err, errlen, "%s: %s", h->name,
		 errno == ETIMEDOUT ? "timeout" : strerror(errno));
out:
	free(reply);
	close(fd);
	return (rc);
}

/* mw_spamc_check - score one message, with load spreading and failover */

int
mw_spamc_check(struct mw_spamc *sc, int method, const char *user,
	       const struct iovec *iov, int iovcnt, struct mw_spamc_result *res,
	       char *host, size_t hostlen, char *err, size_t errlen)
{
	struct spamc_host *h;
	unsigned start;
	unsigned char skipped[MW_SPAMC_HOSTS_MAX];
	long long now_s;
	size_t	i;
	int	pass;
	int	failed = 0;

	start = __atomic_fetch_add(&sc->next, 1, __ATOMIC_RELAXED);
	snprintf(err, errlen, "no spamd host tried");

	/*
	 * First pass: hosts not recently failed.  Second pass: the others,
	 * so that a farm whose hosts all failed a moment ago is still tried.
	 */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < sc->nhosts; i++) {
			h = sc->hosts + (start + i) % sc->nhosts;
			now_s = mw_now_ms() / 1000;
			if (pass == 0) {
				skipped[i] = __atomic_load_n(&h->avoid_until, __ATOMIC_RELAXED) > now_s;
				if (skipped[i])
					continue;
			} else if (!skipped[i]) {
				continue;
			}
			if (spamc_talk(sc, h, method, user, iov, iovcnt, res, err, errlen) == 0) {
				__atomic_store_n(&h->avoid_until, 0, __ATOMIC_RELAXED);
				mw_strlcpy(host, h->name, hostlen);
				if (failed)
					__atomic_fetch_add(&spamc_failovers, 1, __ATOMIC_RELAXED);
				return (0);
			}
			mw_warn("spamd %s", err);
			__atomic_fetch_add(&spamc_host_errors, 1, __ATOMIC_RELAXED);
			failed = 1;
			__atomic_store_n(&h->avoid_until, mw_now_ms() / 1000 + MW_SPAMC_RETRY_SECS,
					 __ATOMIC_RELAXED);
		}
	}
	return (-1);
}

/* mw_spamc_hosts - hosts up and down now */

void
mw_spamc_hosts(struct mw_spamc *sc, unsigned *up, unsigned *down)
{
	long long now_s = mw_now_ms() / 1000;
	size_t	i;

	*up = *down = 0;
	for (i = 0; sc != NULL && i < sc->nhosts; i++) {
		if (__atomic_load_n(&sc->hosts[i].avoid_until, __ATOMIC_RELAXED) > now_s)
			++*down;
		else
			++*up;
	}
}

/* mw_spamc_stats - host errors and failovers since the start */

void
mw_spamc_stats(unsigned long long *errors, unsigned long long *failovers)
{
	*errors = __atomic_load_n(&spamc_host_errors, __ATOMIC_RELAXED);
	*failovers = __atomic_load_n(&spamc_failovers, __ATOMIC_RELAXED);
}
