/*++
/* NAME
/*	policy_redis 3
/* SUMMARY
/*	rate counters shared through Redis, without blocking the event loop
/* SYNOPSIS
/*	#include "policy_redis.h"
#include "policy_reply.h"
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "mw_msg.h"
#include "mw_str.h"

/* Application-specific. */

#include "policy_link.h"
#include "policy_redis.h"
#include "policy_reply.h"

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

struct policy_redis {
	struct policy_link link;
	int	timeout_ms;
};

/* policy_redis_create - parse redis://HOST:PORT; connect lazily */

struct policy_redis *
policy_redis_create(const char *url, int timeout_ms, int epfd, void *tag,
		            char *err, size_t errlen)
{
	struct policy_redis *pr;
	struct mw_endpoint ep;
	char	name[MW_EP_HOST_MAX + 64];

	if (policy_redis_url(url, &ep, err, errlen) < 0)
		return (NULL);
	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	snprintf(name, sizeof(name), "rate store %s", url);
	policy_link_init(&pr->link, name, &ep, epfd, tag, REDIS_IN_MAX);
	pr->timeout_ms = timeout_ms;
	return (pr);
}

/* policy_redis_free - close and forget (questions are failed) */

void
policy_redis_free(struct policy_redis *pr)
{
	if (pr == NULL)
		return;
	policy_link_free(&pr->link, POLICY_RATE_ERROR);
	free(pr);
}

/* out_bulk - one RESP bulk string */

static int
out_bulk(struct policy_redis *pr, const char *s)
{
	char	head[32];
	size_t	len = strlen(s);

	snprintf(head, sizeof(head), "$%zu\r\n", len);
	return (policy_link_append(&pr->link, head, strlen(head))
		|| policy_link_append(&pr->link, s, len)
		|| policy_link_append(&pr->link, "\r\n", 2) ? -1 : 0);
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
	return (policy_link_busy(&pr->link));
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

	if (policy_link_reserve(&pr->link) < 0 || policy_link_open(&pr->link, now_ms) < 0)
		return (-1);

	/* EVAL script nitems key... now nitems (nwin chk add (secs limit)...)... */
	nargs = 3 + p->nitems + 2;
	for (i = 0; i < p->nitems; i++)
		nargs += 3 + 2 * p->item[i].limits.n;
	snprintf(head, sizeof(head), "*%zu\r\n", nargs);
	rc |= policy_link_append(&pr->link, head, strlen(head));
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
	policy_link_wait(&pr->link, 0, done, ctx, now_ms + pr->timeout_ms);
	return (0);
}

/* redis_replies - answer the questions whose replies arrived */

static void
redis_replies(void *arg, long long now_ms)
{
	struct policy_redis *pr = arg;
	struct policy_link *l = &pr->link;
	long long value;
	ssize_t	n;
	size_t	off = 0;
	int	type;
	int	outcome;

	while ((n = policy_resp_parse(l->in + off, l->in_len - off, &type, &value)) != 0) {
		if (n < 0 || !policy_link_busy(l)) {
			policy_link_fail(l, "protocol error", POLICY_RATE_ERROR, now_ms);
			return;
		}
		if (type == '-') {
			char	shown[128];
			const char *cr = memchr(l->in + off, '\r', (size_t) n);

			mw_warn("rate store: %s", mw_printable(shown, sizeof(shown), l->in + off + 1,
						  (size_t) (cr - l->in - off - 1)));
		}
		outcome = policy_resp_outcome(type, value);
		if (outcome == POLICY_RATE_ERROR && type != '-')
			mw_warn("rate store: a reply that is not the rate script's answer (type %c, %lld)",
				type >= ' ' && type < 0x7f ? type : '?', value);
		off += (size_t) n;
		(void) policy_link_answer(l, 1, 0, outcome);
		if (l->fd < 0)			/* a callback may not, but be safe */
			return;
	}
	policy_link_consume(l, off);
}

/* policy_redis_io - the Redis socket is ready */

void
policy_redis_io(struct policy_redis *pr, int events, long long now_ms)
{
	policy_link_io(&pr->link, events, POLICY_RATE_ERROR, now_ms, redis_replies, pr);
}

/* policy_redis_tick - enforce the deadline */

void
policy_redis_tick(struct policy_redis *pr, long long now_ms)
{
	if (policy_link_expired(&pr->link, now_ms))
		policy_link_fail(&pr->link, "no answer within RedisTimeout", POLICY_RATE_ERROR, now_ms);
}
