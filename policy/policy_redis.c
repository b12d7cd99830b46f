/*++
/* NAME
/*	policy_redis 3
/* SUMMARY
/*	rate counters shared through Redis, without blocking the event loop
/* SYNOPSIS
/*	#include "policy_redis.h"
/*
/*	struct policy_redis *policy_redis_create(url, timeout_ms, epfd, tag, err, errlen)
/*	const char *url;
/*	int	timeout_ms;
/*	int	epfd;
/*	void	*tag;
/*
/*	int	policy_redis_submit(pr, pending, now, done, ctx, now_ms)
/*	struct policy_redis *pr;
/*	const struct policy_pending *pending;
/*	time_t	now;
/*	void	(*done)(void *ctx, int outcome);
/*	void	*ctx;
/*	long long now_ms;
/*
/*	void	policy_redis_io(pr, events, now_ms)
/*	void	policy_redis_tick(pr, now_ms)
/*	int	policy_redis_busy(pr)
/*	void	policy_redis_free(pr)
/* DESCRIPTION
/*	The counters of several MX hosts' mailwarren-policyd live in one
/*	Redis (RateStore redis://HOST:PORT).  Each rate question is ONE
/*	Lua script (EVAL), so that checking every window of the login and
/*	of the customer and counting the events is atomic across hosts.
/*	Windows slide as in mw_rate(3): ten buckets per window, one key per
/*	bucket ("mwrl:KEY:SECONDS:BUCKET"), summed with MGET and expiring
/*	by themselves one window after their last use.
/*
/*	The client speaks RESP over one non-blocking connection that the
/*	daemon's epoll set watches (events tagged with tag); requests are
/*	pipelined and answered in order.  policy_redis_submit() queues a
/*	question and returns 0; done(ctx, outcome) is called later with the
/*	index of the item over its limit, -1 within limits, or
/*	POLICY_RATE_ERROR.  When a request is older than timeout_ms,
/*	Redis is down, or the connection breaks, every queued question is
/*	answered POLICY_RATE_ERROR at once, the connection is closed and a
/*	new one is tried no sooner than a second later; meanwhile submit
/*	fails at once (returns -1) so the caller applies its fail mode.
/*	The event loop never waits for Redis.
/*
/*	policy_redis_io() handles readiness of the Redis socket;
/*	policy_redis_tick() enforces the deadline (call it at least every
/*	few milliseconds while policy_redis_busy() is true).
/* BUGS
/*	The script builds key names, so it needs a single Redis (not
/*	Redis Cluster).
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
#include <unistd.h>

/* Utility library. */

#include "mw_msg.h"
#include "mw_str.h"

/* Application-specific. */

#include "policy_redis.h"

#define REDIS_RETRY_MS	1000
#define REDIS_IN_MAX	(1024 * 1024)

/*
 * ARGV: now, item count, then per item: window count, check, add, then per
 * window: seconds, limit.  KEYS: one prefix per item.  Returns the 1-based
 * index of the first item over a limit, or 0 after counting everything.
 */
static const char redis_script[] =
"local now = tonumber(ARGV[1]) local n = tonumber(ARGV[2]) local p = 3 local B = 10 "
"local plan = {} "
"for i = 1, n do "
"  local nwin = tonumber(ARGV[p]) local chk = tonumber(ARGV[p+1]) local add = tonumber(ARGV[p+2]) "
"  p = p + 3 "
"  for w = 1, nwin do "
"    local secs = tonumber(ARGV[p]) local limit = tonumber(ARGV[p+1]) p = p + 2 "
"    local width = math.max(1, math.floor(secs / B)) "
"    local idx = math.floor(now / width) "
"    local keys = {} "
"    for b = idx - B + 1, idx do keys[#keys+1] = KEYS[i] .. ':' .. secs .. ':' .. b end "
"    local sum = 0 "
"    for _, v in ipairs(redis.call('MGET', unpack(keys))) do if v then sum = sum + tonumber(v) end end "
"    if chk > 0 and sum + chk > limit then return i end "
"    if add > 0 then plan[#plan+1] = {KEYS[i] .. ':' .. secs .. ':' .. idx, add, width * (B + 1)} end "
"  end "
"end "
"for _, e in ipairs(plan) do redis.call('INCRBY', e[1], e[2]) redis.call('EXPIRE', e[1], e[3]) end "
"return 0";

struct redis_wait {
	void	(*done) (void *, int);
	void   *ctx;
	long long deadline;
};

struct policy_redis {
	char	host[256];
	char	port[8];
	int	timeout_ms;
	int	epfd;
	void   *tag;
	int	fd;
	int	connecting;
	int	events;
	long long retry_at;
	char   *out;
	size_t	out_len;
	size_t	out_cap;
	char   *in;
	size_t	in_len;
	size_t	in_cap;
	struct redis_wait *q;		/* ring of questions in flight */
	size_t	q_head;
	size_t	q_len;
	size_t	q_cap;
	int	warned;
};

/* redis_want - (re)register the socket with the daemon's epoll set */

static void
redis_want(struct policy_redis *pr, int events)
{
	struct epoll_event ev;

	if (pr->fd < 0 || events == pr->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = (uint32_t) events;
	ev.data.ptr = pr->tag;
	if (epoll_ctl(pr->epfd, pr->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, pr->fd, &ev) == 0)
		pr->events = events;
}

/* redis_fail_all - answer every question with an error, drop the connection */

static void
redis_fail_all(struct policy_redis *pr, const char *why, long long now_ms)
{
	struct redis_wait w;

	if (!pr->warned)
		mw_warn("rate store redis://%s:%s: %s; failing over", pr->host, pr->port, why);
	pr->warned = 1;
	if (pr->fd >= 0) {
		(void) epoll_ctl(pr->epfd, EPOLL_CTL_DEL, pr->fd, NULL);
		close(pr->fd);
	}
	pr->fd = -1;
	pr->events = 0;
	pr->connecting = 0;
	pr->out_len = pr->in_len = 0;
	pr->retry_at = now_ms + REDIS_RETRY_MS;
	while (pr->q_len > 0) {
		w = pr->q[pr->q_head];
		pr->q_head = (pr->q_head + 1) % pr->q_cap;
		pr->q_len--;
		w.done(w.ctx, POLICY_RATE_ERROR);
	}
}

/* redis_connect - start a non-blocking connect */

static int
redis_connect(struct policy_redis *pr, long long now_ms)
{
	struct addrinfo hints;
	struct addrinfo *res;
	int	on = 1;
	int	fd;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(pr->host, pr->port, &hints, &res) != 0) {
		pr->retry_at = now_ms + REDIS_RETRY_MS;
		return (-1);
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS)) {
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		pr->retry_at = now_ms + REDIS_RETRY_MS;
		return (-1);
	}
	freeaddrinfo(res);
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	pr->fd = fd;
	pr->connecting = 1;
	pr->events = 0;
	redis_want(pr, EPOLLOUT);
	return (0);
}

/* policy_redis_create - parse redis://HOST:PORT; connect lazily */

struct policy_redis *
policy_redis_create(const char *url, int timeout_ms, int epfd, void *tag,
		            char *err, size_t errlen)
{
	struct policy_redis *pr;
	const char *hp;
	const char *colon;

	if (strncmp(url, "redis://", 8) != 0 || (colon = strrchr(url + 8, ':')) == NULL
	    || colon == url + 8 || (size_t) (colon - url - 8) >= sizeof(pr->host)
	    || strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(pr->port)
	    || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		snprintf(err, errlen, "RateStore: expected memory or redis://HOST:PORT, found \"%.80s\"", url);
		return (NULL);
	}
	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	hp = url + 8;
	memcpy(pr->host, hp, (size_t) (colon - hp));
	mw_strlcpy(pr->port, colon + 1, sizeof(pr->port));
	pr->timeout_ms = timeout_ms;
	pr->epfd = epfd;
	pr->tag = tag;
	pr->fd = -1;
	return (pr);
}

/* policy_redis_free - close and forget (questions are failed) */

void
policy_redis_free(struct policy_redis *pr)
{
	if (pr == NULL)
		return;
	pr->warned = 1;
	redis_fail_all(pr, "closing", 0);
	free(pr->out);
	free(pr->in);
	free(pr->q);
	free(pr);
}

/* out_append - add bytes to the output buffer */

static int
out_append(struct policy_redis *pr, const char *data, size_t len)
{
	if (pr->out_len + len > pr->out_cap) {
		size_t	cap = (pr->out_len + len) * 2 + 1024;
		char   *out = realloc(pr->out, cap);

		if (out == NULL)
			return (-1);
		pr->out = out;
		pr->out_cap = cap;
	}
	memcpy(pr->out + pr->out_len, data, len);
	pr->out_len += len;
	return (0);
}

/* out_bulk - one RESP bulk string */

static int
out_bulk(struct policy_redis *pr, const char *s)
{
	char	head[32];
	size_t	len = strlen(s);

	snprintf(head, sizeof(head), "$%zu\r\n", len);
	return (out_append(pr, head, strlen(head)) || out_append(pr, s, len)
		|| out_append(pr, "\r\n", 2) ? -1 : 0);
}

/* out_num - one number as a RESP bulk string */

static int
out_num(struct policy_redis *pr, unsigned long long n)
{
	char	buf[32];

	snprintf(buf, sizeof(buf), "%llu", n);
	return (out_bulk(pr, buf));
}

/* policy_redis_busy - questions in flight */

int
policy_redis_busy(const struct policy_redis *pr)
{
	return (pr->q_len > 0);
}

/* policy_redis_submit - queue one rate question */

int
policy_redis_submit(struct policy_redis *pr, const struct policy_pending *p, time_t now,
		            void (*done) (void *, int), void *ctx, long long now_ms)
{
	char	head[32];
	char	key[sizeof(p->item[0].key) + 8];
	size_t	nargs;
	size_t	i;
	size_t	w;
	int	rc = 0;

	if (pr->fd < 0) {
		if (now_ms < pr->retry_at || redis_connect(pr, now_ms) < 0)
			return (-1);
	}
	if (pr->q_len == pr->q_cap) {
		size_t	cap = pr->q_cap ? pr->q_cap * 2 : 64;
		struct redis_wait *q = malloc(cap * sizeof(*q));

		if (q == NULL)
			return (-1);
		for (i = 0; i < pr->q_len; i++)
			q[i] = pr->q[(pr->q_head + i) % pr->q_cap];
		free(pr->q);
		pr->q = q;
		pr->q_cap = cap;
		pr->q_head = 0;
	}

	/* EVAL script nitems key... now nitems (nwin chk add (secs limit)...)... */
	nargs = 3 + p->nitems + 2;
	for (i = 0; i < p->nitems; i++)
		nargs += 3 + 2 * p->item[i].limits.n;
	snprintf(head, sizeof(head), "*%zu\r\n", nargs);
	rc |= out_append(pr, head, strlen(head));
	rc |= out_bulk(pr, "EVAL");
	rc |= out_bulk(pr, redis_script);
	rc |= out_num(pr, p->nitems);
	for (i = 0; i < p->nitems; i++) {
		snprintf(key, sizeof(key), "mwrl:%s", p->item[i].key);
		rc |= out_bulk(pr, key);
	}
	rc |= out_num(pr, (unsigned long long) now);
	rc |= out_num(pr, p->nitems);
	for (i = 0; i < p->nitems; i++) {
		rc |= out_num(pr, p->item[i].limits.n);
		rc |= out_num(pr, p->item[i].check);
		rc |= out_num(pr, p->item[i].add);
		for (w = 0; w < p->item[i].limits.n; w++) {
			rc |= out_num(pr, p->item[i].limits.w[w].seconds);
			rc |= out_num(pr, p->item[i].limits.w[w].limit);
		}
	}
	if (rc != 0)
		return (-1);
	pr->q[(pr->q_head + pr->q_len) % pr->q_cap] = (struct redis_wait) {
		done, ctx, now_ms + pr->timeout_ms
	};
	pr->q_len++;
	if (!pr->connecting)
		redis_want(pr, EPOLLIN | EPOLLOUT);
	return (0);
}

/* resp_line - end of the line starting at s, or NULL when incomplete */

static const char *
resp_line(const char *s, const char *end)
{
	const char *cr;

	for (cr = s; cr + 1 < end; cr++)
		if (cr[0] == '\r' && cr[1] == '\n')
			return (cr);
	return (NULL);
}

/* resp_parse - one reply: its size, 0 if incomplete, -1 if malformed */

static ssize_t
resp_parse(const char *s, const char *end, int *type, long long *value)
{
	const char *cr = resp_line(s, end);
	long long n;
	ssize_t	sub;
	const char *cp;
	int	t;
	long long v;

	if (cr == NULL)
		return (end - s > 4096 ? -1 : 0);
	*type = *s;
	n = strtoll(s + 1, NULL, 10);
	*value = n;
	cp = cr + 2;
	switch (*s) {
	case ':':
	case '+':
	case '-':
		return (cp - s);
	case '$':
		if (n < 0)
			return (cp - s);
		if (end - cp < n + 2)
			return (0);
		return (cp + n + 2 - s);
	case '*':
		for (; n > 0; n--) {
			if ((sub = resp_parse(cp, end, &t, &v)) <= 0)
				return (sub);
			cp += sub;
		}
		return (cp - s);
	default:
		return (-1);
	}
}

/* redis_read - take replies off the connection */

static void
redis_read(struct policy_redis *pr, long long now_ms)
{
	struct redis_wait w;
	long long value;
	ssize_t	n;
	size_t	off = 0;
	int	type;

	if (pr->in_cap - pr->in_len < 4096) {
		size_t	cap = pr->in_cap ? pr->in_cap * 2 : 16384;
		char   *in;

		if (cap > REDIS_IN_MAX || (in = realloc(pr->in, cap)) == NULL) {
			redis_fail_all(pr, "reply too large", now_ms);
			return;
		}
		pr->in = in;
		pr->in_cap = cap;
	}
	n = read(pr->fd, pr->in + pr->in_len, pr->in_cap - pr->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		redis_fail_all(pr, n == 0 ? "connection closed" : strerror(errno), now_ms);
		return;
	}
	pr->in_len += (size_t) n;
	while ((n = resp_parse(pr->in + off, pr->in + pr->in_len, &type, &value)) != 0) {
		if (n < 0 || pr->q_len == 0) {
			redis_fail_all(pr, "protocol error", now_ms);
			return;
		}
		if (type == '-') {
			char	shown[128];
			const char *cr = resp_line(pr->in + off, pr->in + pr->in_len);

			mw_warn("rate store: %s", mw_printable(shown, sizeof(shown), pr->in + off + 1,
						  (size_t) (cr - pr->in - off - 1)));
		}
		w = pr->q[pr->q_head];
		pr->q_head = (pr->q_head + 1) % pr->q_cap;
		pr->q_len--;
		off += (size_t) n;
		w.done(w.ctx, type == ':' ? (value > 0 ? (int) value - 1 : -1) : POLICY_RATE_ERROR);
		if (pr->fd < 0)			/* a callback may not, but be safe */
			return;
	}
	memmove(pr->in, pr->in + off, pr->in_len - off);
	pr->in_len -= off;
}

/* policy_redis_io - the Redis socket is ready */

void
policy_redis_io(struct policy_redis *pr, int events, long long now_ms)
{
	int	error = 0;
	socklen_t len = sizeof(error);
	ssize_t	n;

	if (pr->fd < 0)
		return;
	if (pr->connecting) {
		if (getsockopt(pr->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0 || error != 0) {
			redis_fail_all(pr, error ? strerror(error) : "connect failed", now_ms);
			return;
		}
		pr->connecting = 0;
		if (pr->warned)
			mw_info("rate store redis://%s:%s: connected", pr->host, pr->port);
		pr->warned = 0;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		redis_read(pr, now_ms);
	while (pr->fd >= 0 && pr->out_len > 0) {
		n = write(pr->fd, pr->out, pr->out_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			redis_fail_all(pr, strerror(errno), now_ms);
			return;
		}
		memmove(pr->out, pr->out + n, pr->out_len - (size_t) n);
		pr->out_len -= (size_t) n;
	}
	if (pr->fd >= 0)
		redis_want(pr, pr->out_len > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* policy_redis_tick - enforce the deadline */

void
policy_redis_tick(struct policy_redis *pr, long long now_ms)
{
	if (pr->q_len > 0 && pr->q[pr->q_head].deadline <= now_ms)
		redis_fail_all(pr, "no answer within RedisTimeout", now_ms);
}
