/*++
/* NAME
/*	policy_link 3
/* SUMMARY
/*	non-blocking client connection inside the event loop
/* SYNOPSIS
/*	#include "policy_link.h"
/*
/*	void	policy_link_init(link, name, endpoint, epfd, tag, in_max)
/*	struct policy_link *link;
/*	const char *name;
/*	const struct mw_endpoint *endpoint;
/*	int	epfd;
/*	void	*tag;
/*	size_t	in_max;
/*
/*	int	policy_link_open(link, now_ms)
/*	long long now_ms;
/*
/*	int	policy_link_append(link, data, len)
/*	const char *data;
/*	size_t	len;
/*
/*	int	policy_link_ready(link, events, why)
/*	int	events;
/*	const char **why;
/*
/*	void	policy_link_consume(link, len)
/*
/*	int	policy_link_flush(link, why)
/*
/*	void	policy_link_close(link, why, now_ms)
/*
/*	void	policy_link_free(link, code)
/*	int	code;
/*
/*	void	policy_link_io(link, events, err, now_ms, replies, arg)
/*	int	events;
/*	int	err;
/*	void	(*replies)(void *arg, long long now_ms);
/*	void	*arg;
/* DESCRIPTION
/*	The daemon's clients (the Dovecot userdb; Redis has policy_rconn(3))
/*	each keep one connection that the event loop's epoll set watches
/*	with the caller's tag; the protocol on top is theirs.  Nothing
/*	here ever blocks.
/*
/*	policy_link_open() makes sure a connection exists or is being made
/*	(a non-blocking connect to endpoint: inet:, inet6: or local:); it
/*	returns -1 when that is impossible now, including during the
/*	second after a failure, so that a dead server costs one attempt a
/*	second rather than one per request.  policy_link_append() queues
/*	bytes to send (-1: out of memory).
/*
/*	When epoll reports the tag, policy_link_ready() finishes a pending
/*	connect and reads what arrived into link->in (link->in_len bytes;
/*	at most in_max are ever buffered); the caller parses them and
/*	drops what it used with policy_link_consume(), then calls
/*	policy_link_flush() to send what is queued and register the
/*	events to wait for.  Both return -1 with a reason when the
/*	connection failed; the caller then answers whatever it had in
/*	flight and calls policy_link_close(), which logs the reason once
/*	(and "connected" when the link comes back).  policy_link_io()
/*	does all of that for a reported tag: ready, replies(arg, now_ms)
/*	when bytes arrived, flush; on failure policy_link_fail() with err.
/*
/*	A link also keeps the questions in flight, each with an id, a
/*	callback done(ctx, code) and a deadline.  policy_link_reserve()
/*	makes room for one more (-1: out of memory) before anything is
/*	queued to send; policy_link_wait() then records it.
/*	policy_link_answer() calls the callback of the oldest question
/*	(in_order: the protocol answers in order) or of the one with that
/*	id, with code; it returns -1 when there is no such question.
/*	policy_link_fail() closes the link and answers every question
/*	with code; policy_link_free() does the same without a log line
/*	and releases the buffers.  policy_link_expired() is true when the oldest
/*	question is past its deadline; policy_link_busy() when any
/*	question is in flight.  A callback may ask new questions.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Utility library. */

#include "mw_msg.h"
#include "mw_str.h"

/* Application-specific. */

#include "policy_link.h"

#define LINK_RETRY_MS	1000

/* link_want - (re)register the socket with the daemon's epoll set */

static void
link_want(struct policy_link *l, int events)
{
	struct epoll_event ev;

	if (l->fd < 0 || events == l->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = (uint32_t) events;
	ev.data.ptr = l->tag;
	if (epoll_ctl(l->epfd, l->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, l->fd, &ev) == 0)
		l->events = events;
}

/* policy_link_init - a link that connects lazily */

void
policy_link_init(struct policy_link *l, const char *name, const struct mw_endpoint *ep,
		         int epfd, void *tag, size_t in_max)
{
	memset(l, 0, sizeof(*l));
	mw_strlcpy(l->name, name, sizeof(l->name));
	l->ep = *ep;
	l->epfd = epfd;
	l->tag = tag;
	l->fd = -1;
	l->in_max = in_max;
}

/* link_socket - a non-blocking socket with a connect under way */

static int
link_socket(const struct mw_endpoint *ep)
{
	struct sockaddr_un sun;
	struct addrinfo hints;
	struct addrinfo *res;
	char	port[8];
	int	on = 1;
	int	fd;

	if (ep->type == MW_EP_UNIX) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		mw_strlcpy(sun.sun_path, ep->path, sizeof(sun.sun_path));
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
			return (-1);
		if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0 && errno != EINPROGRESS) {
			close(fd);
			return (-1);
		}
		return (fd);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	hints.ai_family = ep->type == MW_EP_INET6 ? AF_INET6 : AF_UNSPEC;
	snprintf(port, sizeof(port), "%u", ep->port);
	if (getaddrinfo(*ep->host ? ep->host : "127.0.0.1", port, &hints, &res) != 0)
		return (-1);
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return (fd);
}

/* policy_link_open - connected, connecting, or -1 for now */

int
policy_link_open(struct policy_link *l, long long now_ms)
{
	if (l->fd >= 0)
		return (0);
	if (now_ms < l->retry_at)
		return (-1);
	if ((l->fd = link_socket(&l->ep)) < 0) {
		policy_link_close(l, strerror(errno), now_ms);
		return (-1);
	}
	l->connecting = 1;
	l->events = 0;
	link_want(l, EPOLLOUT);
	return (0);
}

/* policy_link_append - queue bytes to send */

int
policy_link_append(struct policy_link *l, const char *data, size_t len)
{
	if (l->out_len + len > l->out_cap) {
		size_t	cap = (l->out_len + len) * 2 + 1024;
		char   *out = realloc(l->out, cap);

		if (out == NULL)
			return (-1);
		l->out = out;
		l->out_cap = cap;
	}
	memcpy(l->out + l->out_len, data, len);
	l->out_len += len;
	if (!l->connecting)
		link_want(l, EPOLLIN | EPOLLOUT);
	return (0);
}

/* policy_link_ready - finish a connect, read what arrived */

int
policy_link_ready(struct policy_link *l, int events, const char **why)
{
	int	error = 0;
	socklen_t len = sizeof(error);
	ssize_t	n;

	if (l->fd < 0) {
		*why = "not connected";
		return (-1);
	}
	if (l->connecting) {
		if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0 || error != 0) {
			*why = error ? strerror(error) : "connect failed";
			return (-1);
		}
		l->connecting = 0;
		if (l->warned)
			mw_info("%s: connected", l->name);
		l->warned = 0;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0)
		return (0);
	if (l->in_cap - l->in_len < 4096) {
		size_t	cap = l->in_cap ? l->in_cap * 2 : 16384;
		char   *in;

		if (cap > l->in_max || (in = realloc(l->in, cap)) == NULL) {
			*why = "reply too large";
			return (-1);
		}
		l->in = in;
		l->in_cap = cap;
	}
	n = read(l->fd, l->in + l->in_len, l->in_cap - l->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return (0);
	if (n <= 0) {
		*why = n == 0 ? "connection closed" : strerror(errno);
		return (-1);
	}
	l->in_len += (size_t) n;
	return (0);
}

/* policy_link_consume - drop parsed input */

void
policy_link_consume(struct policy_link *l, size_t len)
{
	memmove(l->in, l->in + len, l->in_len - len);
	l->in_len -= len;
}

/* policy_link_flush - send what we can, wait for the right events */

int
policy_link_flush(struct policy_link *l, const char **why)
{
	ssize_t	n;

	if (l->fd < 0 || l->connecting)
		return (0);
	while (l->out_len > 0) {
		n = write(l->fd, l->out, l->out_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			*why = strerror(errno);
			return (-1);
		}
		memmove(l->out, l->out + n, l->out_len - (size_t) n);
		l->out_len -= (size_t) n;
	}
	link_want(l, l->out_len > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
	return (0);
}

/* policy_link_close - drop the connection; try again a second later */

void
policy_link_close(struct policy_link *l, const char *why, long long now_ms)
{
	if (!l->warned && why != NULL)
		mw_warn("%s: %s; failing over", l->name, why);
	l->warned = 1;
	if (l->fd >= 0) {
		(void) epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->fd, NULL);
		close(l->fd);
	}
	l->fd = -1;
	l->events = 0;
	l->connecting = 0;
	l->out_len = l->in_len = 0;
	l->retry_at = now_ms + LINK_RETRY_MS;
}

/* link_drop_answered - answered questions leave once the older ones have */

static void
link_drop_answered(struct policy_link *l)
{
	while (l->q_len > 0 && l->q[l->q_head].done == NULL) {
		l->q_head = (l->q_head + 1) % l->q_cap;
		l->q_len--;
	}
}

/* policy_link_reserve - room for one more question */

int
policy_link_reserve(struct policy_link *l)
{
	struct policy_wait *q;
	size_t	cap;
	size_t	i;

	if (l->q_len < l->q_cap)
		return (0);
	cap = l->q_cap ? l->q_cap * 2 : 64;
	if ((q = malloc(cap * sizeof(*q))) == NULL)
		return (-1);
	for (i = 0; i < l->q_len; i++)
		q[i] = l->q[(l->q_head + i) % l->q_cap];
	free(l->q);
	l->q = q;
	l->q_cap = cap;
	l->q_head = 0;
	return (0);
}

/* policy_link_wait - record a question (after policy_link_reserve) */

void
policy_link_wait(struct policy_link *l, unsigned id, void (*done) (void *, int), void *ctx,
		         long long deadline)
{
	l->q[(l->q_head + l->q_len) % l->q_cap] = (struct policy_wait) {
		id, done, ctx, deadline
	};
	l->q_len++;
}

/* policy_link_answer - answer the oldest question, or the one with id */

int
policy_link_answer(struct policy_link *l, int in_order, unsigned id, int code)
{
	struct policy_wait *w;
	void	(*done) (void *, int);
	size_t	i;

	for (i = 0; i < l->q_len; i++) {
		w = &l->q[(l->q_head + i) % l->q_cap];
		if (w->done != NULL && (in_order || w->id == id)) {
			done = w->done;
			w->done = NULL;		/* first: the callback may ask again */
			done(w->ctx, code);
			link_drop_answered(l);
			return (0);
		}
	}
	return (-1);
}

/* policy_link_fail - close, answer every question with code */

void
policy_link_fail(struct policy_link *l, const char *why, int code, long long now_ms)
{
	policy_link_close(l, why, now_ms);
	while (policy_link_answer(l, 1, 0, code) == 0)
		 /* void */ ;
}

/* policy_link_io - the socket is ready: connect, read, parse, write */

void
policy_link_io(struct policy_link *l, int events, int err, long long now_ms,
	               void (*replies) (void *, long long), void *arg)
{
	const char *why;

	if (l->fd < 0)
		return;
	if (policy_link_ready(l, events, &why) < 0) {
		policy_link_fail(l, why, err, now_ms);
		return;
	}
	if (l->in_len > 0)
		replies(arg, now_ms);
	if (l->fd >= 0 && policy_link_flush(l, &why) < 0)
		policy_link_fail(l, why, err, now_ms);
}

/* policy_link_expired - the oldest question is past its deadline */

int
policy_link_expired(struct policy_link *l, long long now_ms)
{
	link_drop_answered(l);
	return (l->q_len > 0 && l->q[l->q_head].deadline <= now_ms);
}

/* policy_link_busy - questions in flight */

int
policy_link_busy(const struct policy_link *l)
{
	return (l->q_len > 0);
}

/* policy_link_free - close quietly, answer what is in flight, release */

void
policy_link_free(struct policy_link *l, int code)
{
	l->warned = 1;
	policy_link_fail(l, NULL, code, 0);
	free(l->out);
	free(l->in);
	free(l->q);
	l->out = l->in = NULL;
	l->q = NULL;
	l->q_len = l->q_cap = 0;
}
