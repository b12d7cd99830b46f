/*++
/* NAME
/*	mw_metrics_http 3
/* SUMMARY
/*	a scraper's endpoint that cannot slow the mail path
/* SYNOPSIS
/*	#include "mw_metrics.h"
/*
/*	int	mw_metrics_http_open(ep, err, errlen)
/*	const struct mw_endpoint *ep;
/*
/*	int	mw_metrics_http_bind(spec, url, urllen, err, errlen)
/*	const char *spec;
/*	char	*url;
/*	size_t	urllen;
/*
/*	struct mw_metrics_http *mw_metrics_http_start(m, fd, err, errlen)
/*	struct mw_metrics *m;
/*	int	fd;
/*
/*	void	mw_metrics_http_stop(h)
/*	struct mw_metrics_http *h;
/* DESCRIPTION
/*	mw_metrics_http_open() binds and listens (as root, before the
/*	privileges go, so that a low port works); the descriptor is
/*	non-blocking.  mw_metrics_http_bind() does the same for a
/*	MetricsListen value (mw_metrics_listen_parse(3)) and writes the
/*	scrape URL into url ("http://127.0.0.1:9130/metrics").
/*
/*	mw_metrics_http_start() serves GET /metrics on that descriptor in a
/*	thread of its own, which shares nothing with the mail path but the
/*	metrics' relaxed atomic counters: a scraper, however slow or
/*	hostile, can make the listener's thread wait, never a mail thread.
/*	Start it after the signal mask is in place and after any fork.
/*	The thread poll()s non-blocking sockets only and bounds everything:
/* .IP \(bu
/*	at most MW_METRICS_HTTP_CONNS scrapers at once; one more is
/*	accepted and closed at once ("503" written if the socket takes it
/*	without waiting), so a flood of connections costs each one an
/*	accept and a close; when accept() fails for want of descriptors the
/*	listener is left alone for 100 ms instead of spinning;
/* .IP \(bu
/*	a request head of at most MW_METRICS_HTTP_REQ_MAX bytes (longer:
/*	"431", then closed) that must arrive within MW_METRICS_HTTP_TIMEOUT
/*	ms of the connection (a slowloris scraper is closed then);
/* .IP \(bu
/*	the answer must be taken within MW_METRICS_HTTP_TIMEOUT ms, written
/*	without blocking; a reader that does not keep up is dropped.
/* .PP
/*	Only GET (and HEAD) of /metrics is answered (200, text/plain;
/*	version=0.0.4, Connection: close); another path is 404, another
/*	method 405, a malformed request line 400.
/*
/*	mw_metrics_http_stop() ends the thread and closes its descriptors.
/* DIAGNOSTICS
/*	mw_metrics_http_open() and mw_metrics_http_bind() return -1
/*	with err set; mw_metrics_http_start() returns NULL with err set.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Utility library. */

#include "mw_endpoint.h"
#include "mw_metrics.h"
#include "mw_msg.h"
#include "mw_str.h"

#define HTTP_REFUSE_BATCH	64	/* accepts per wake-up */
#define HTTP_PAUSE_MS		100	/* listener left alone after EMFILE */

struct http_conn {
	int	fd;			/* -1: free */
	char	in[MW_METRICS_HTTP_REQ_MAX];
	size_t	in_len;
	char   *out;			/* the answer, once the request is read */
	size_t	out_len;
	size_t	out_off;
	long long deadline;		/* ms */
};

struct mw_metrics_http {
	struct mw_metrics *m;
	int	lfd;
	int	wake[2];		/* stop: a byte on wake[1] */
	pthread_t tid;
	struct http_conn conn[MW_METRICS_HTTP_CONNS];
};

/* mw_metrics_http_open - the listening socket, non-blocking */

int
mw_metrics_http_open(const struct mw_endpoint *ep, char *err, size_t errlen)
{
	int	fd;

	if ((fd = mw_endpoint_listen(ep, 64, -1, err, errlen)) < 0)
		return (-1);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		mw_err(err, errlen, "MetricsListen: fcntl: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* mw_metrics_http_bind - MetricsListen: parse, bind, listen */

int
mw_metrics_http_bind(const char *spec, char *url, size_t urllen, char *err, size_t errlen)
{
	struct mw_endpoint ep;

	if (mw_metrics_listen_parse(spec, &ep, err, errlen) < 0)
		return (-1);
	snprintf(url, urllen, ep.type == MW_EP_INET6 ? "http://[%s]:%u/metrics" : "http://%s:%u/metrics",
		 ep.host, ep.port);
	return (mw_metrics_http_open(&ep, err, errlen));
}

/* http_drop - close a scraper's connection */

static void
http_drop(struct http_conn *c)
{
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	c->in_len = c->out_len = c->out_off = 0;
}

/* http_answer - queue a status line and a body; the body may be NULL */

static void
http_answer(struct http_conn *c, const char *status, const char *body, size_t blen,
	    int head_only)
{
	char	head[256];
	int	n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, strncmp(status, "200", 3) == 0 ? "text/plain; version=0.0.4; charset=utf-8"
		     : "text/plain; charset=utf-8", blen);
	if ((c->out = malloc((size_t) n + blen)) == NULL) {
		http_drop(c);
		return;
	}
	memcpy(c->out, head, (size_t) n);
	c->out_len = (size_t) n;
	if (!head_only && body != NULL) {
		memcpy(c->out + n, body, blen);
		c->out_len += blen;
	}
	c->out_off = 0;
	c->deadline = mw_now_ms() + MW_METRICS_HTTP_TIMEOUT;
}

/* http_request - a complete request head: decide the answer */

static void
http_request(struct mw_metrics_http *h, struct http_conn *c)
{
	static const char bad[] = "bad request\n";
	static const char nf[] = "not found: try /metrics\n";
	static const char na[] = "method not allowed\n";
	char	method[16];
	char	target[256];
	char	version[16];
	char   *text;
	size_t	len;
	int	head_only;

	c->in[c->in_len < sizeof(c->in) ? c->in_len : sizeof(c->in) - 1] = '\0';
	if (sscanf(c->in, "%15[A-Z] %255[^ \r\n] %15[A-Z0-9/.]", method, target, version) != 3
	    || strncmp(version, "HTTP/1.", 7) != 0) {
		http_answer(c, "400 Bad Request", bad, sizeof(bad) - 1, 0);
		return;
	}
	head_only = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") != 0 && !head_only) {
		http_answer(c, "405 Method Not Allowed", na, sizeof(na) - 1, 0);
		return;
	}
	len = strcspn(target, "?");
	if (len != 8 || strncmp(target, "/metrics", 8) != 0) {
		http_answer(c, "404 Not Found", nf, sizeof(nf) - 1, head_only);
		return;
	}
	if ((text = mw_metrics_render(h->m, &len)) == NULL) {
		http_answer(c, "503 Service Unavailable", NULL, 0, 0);
		return;
	}
	http_answer(c, "200 OK", text, len, head_only);
	free(text);
}

/* http_read - read what a scraper sent */

static void
http_read(struct mw_metrics_http *h, struct http_conn *c)
{
	static const char big[] = "request too large\n";
	ssize_t	n;

	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		http_drop(c);
		return;
	}
	if (n < 0)
		return;
	c->in_len += (size_t) n;
	c->in[c->in_len] = '\0';
	if (strstr(c->in, "\r\n\r\n") != NULL || strstr(c->in, "\n\n") != NULL)
		http_request(h, c);
	else if (c->in_len >= sizeof(c->in) - 1)
		http_answer(c, "431 Request Header Fields Too Large", big, sizeof(big) - 1, 0);
	else if (memchr(c->in, '\0', c->in_len) != NULL)
		http_answer(c, "400 Bad Request", NULL, 0, 0);
}

/* http_write - send what the socket takes now; done: close */

static void
http_write(struct http_conn *c)
{
	ssize_t	n;

	n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		http_drop(c);
		return;
	}
	if (n > 0)
		c->out_off += (size_t) n;
	if (c->out_off == c->out_len) {
		(void) shutdown(c->fd, SHUT_WR);
		http_drop(c);
	}
}

/* http_accept - take callers: a free slot, or refused at once */

static int
http_accept(struct mw_metrics_http *h, long long now)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
		"Connection: close\r\n\r\n";
	int	fd;
	int	i;
	int	n;

	for (n = 0; n < HTTP_REFUSE_BATCH; n++) {
		if ((fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				return (-1);
			return (0);
		}
		for (i = 0; i < MW_METRICS_HTTP_CONNS && h->conn[i].fd >= 0; i++)
			 /* void */ ;
		if (i == MW_METRICS_HTTP_CONNS) {
			(void) send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		h->conn[i].fd = fd;
		h->conn[i].in_len = 0;
		h->conn[i].deadline = now + MW_METRICS_HTTP_TIMEOUT;
	}
	return (0);
}

/* http_thread - the listener: poll, accept, read, answer, time out */

static void *
http_thread(void *arg)
{
	struct mw_metrics_http *h = arg;
	struct pollfd pfd[MW_METRICS_HTTP_CONNS + 2];
	int	idx[MW_METRICS_HTTP_CONNS + 2];
	long long paused_until = 0;
	long long now;
	long long wait;
	int	npfd;
	int	i;
	int	k;

	for (;;) {
		now = mw_now_ms();
		wait = 1000;
		npfd = 0;
		pfd[npfd].fd = h->wake[0];
		pfd[npfd++].events = POLLIN;
		if (now >= paused_until) {
			pfd[npfd].fd = h->lfd;
			pfd[npfd++].events = POLLIN;
		} else if (paused_until - now < wait) {
			wait = paused_until - now;
		}
		for (i = 0; i < MW_METRICS_HTTP_CONNS; i++) {
			struct http_conn *c = h->conn + i;

			if (c->fd < 0)
				continue;
			if (now >= c->deadline) {
				http_drop(c);		/* too slow: sending or reading */
				continue;
			}
			if (c->deadline - now < wait)
				wait = c->deadline - now;
			idx[npfd] = i;
			pfd[npfd].fd = c->fd;
			pfd[npfd++].events = c->out ? POLLOUT : POLLIN;
		}
		if (poll(pfd, (nfds_t) npfd, (int) wait) < 0) {
			if (errno == EINTR)
				continue;
			mw_warn("metrics listener: poll: %m; stopping it");
			break;
		}
		if (pfd[0].revents)
			break;
		now = mw_now_ms();
		for (k = 1; k < npfd; k++) {
			if (pfd[k].revents == 0)
				continue;
			if (pfd[k].fd == h->lfd) {
				if (http_accept(h, now) < 0)
					paused_until = now + HTTP_PAUSE_MS;
				continue;
			}
			if (h->conn[idx[k]].fd != pfd[k].fd)
				continue;
			if (h->conn[idx[k]].out != NULL)
				http_write(h->conn + idx[k]);
			else
				http_read(h, h->conn + idx[k]);
		}
	}
	return (NULL);
}

/* mw_metrics_http_start - serve /metrics from its own thread */

struct mw_metrics_http *
mw_metrics_http_start(struct mw_metrics *m, int fd, char *err, size_t errlen)
{
	struct mw_metrics_http *h;
	int	rc;
	int	i;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		mw_err(err, errlen, "metrics listener: out of memory");
		return (NULL);
	}
	h->m = m;
	h->lfd = fd;
	for (i = 0; i < MW_METRICS_HTTP_CONNS; i++)
		h->conn[i].fd = -1;
	if (pipe2(h->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		mw_err(err, errlen, "metrics listener: pipe: %s", strerror(errno));
		free(h);
		return (NULL);
	}
	if ((rc = pthread_create(&h->tid, NULL, http_thread, h)) != 0) {
		mw_err(err, errlen, "metrics listener: cannot start its thread: %s", strerror(rc));
		close(h->wake[0]);
		close(h->wake[1]);
		free(h);
		return (NULL);
	}
	return (h);
}

/* mw_metrics_http_stop - end the thread, close everything */

void
mw_metrics_http_stop(struct mw_metrics_http *h)
{
	int	i;

	if (h == NULL)
		return;
	if (write(h->wake[1], "x", 1) < 0)
		mw_warn("metrics listener: cannot wake it: %m");
	pthread_join(h->tid, NULL);
	for (i = 0; i < MW_METRICS_HTTP_CONNS; i++)
		if (h->conn[i].fd >= 0)
			http_drop(h->conn + i);
	close(h->lfd);
	close(h->wake[0]);
	close(h->wake[1]);
	free(h);
}
