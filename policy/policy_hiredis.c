/*++
/* NAME
/*	policy_hiredis 3
/* SUMMARY
/*	hiredis glue: the reader's limits, the two hiredis generations
/* SYNOPSIS
/*	#include "policy_hiredis.h"
/*
/*	void	policy_resp_guard(reader, guard)
/*	redisReader *reader;
/*	struct policy_resp_guard *guard;
/*
/*	int	policy_resp_outcome(reply)
/*	const redisReply *reply;
/*
/*	char	*policy_resp_show(reply, buf, len)
/*	const redisReply *reply;
/*	char	*buf;
/*	size_t	len;
/*
/*	redisAsyncContext *policy_hiredis_connect(host, port)
/*	const char *host;
/*	int	port;
/* DESCRIPTION
/*	Everything that differs between hiredis 0.14 (Debian 12) and 1.x
/*	(Debian 13) is in this file, and so is the reading of what a Redis
/*	server sends, kept apart from the connection handling so that it
/*	can be fuzzed on its own (tests/fuzz/fuzz_redis_reply.c).
/*
/*	policy_resp_guard() puts limits on what hiredis' reply reader may
/*	build from a server's bytes (hiredis' own reader does the parsing:
/*	it refuses malformed numbers, lengths out of range and, in 0.14,
/*	arrays nested deeper than 7).  The reader then refuses, with the
/*	reason in guard->refused: arrays nested deeper than
/*	POLICY_RESP_DEPTH_MAX or of more than POLICY_RESP_ELEMENTS_MAX
/*	elements, strings of more than POLICY_RESP_BULK_MAX bytes, the
/*	RESP3 types (we speak RESP2: a double, boolean, map, set, push,
/*	attribute, big number or verbatim string is a server's error), and
/*	a reply beyond guard->expect (a reply to no request would make
/*	hiredis 0.14 and 1.x abort the process).  guard->expect is the
/*	caller's to count up (one per command sent); each reply counts it
/*	down.  The reader must be new (nothing fed yet).
/*
/*	policy_resp_outcome() turns the reply to the rate script into a
/*	rate outcome: -1 (within limits) for the integer 0, the item
/*	index for 1..POLICY_RATE_ITEMS, and POLICY_RATE_ERROR for
/*	anything else (an error, another type, a number out of range,
/*	no reply), so that a broken or hostile store follows RedisFailMode.
/*	policy_resp_show() describes a reply for a log line, with its
/*	RESP type byte ("type :, 2147483648").
/*
/*	policy_hiredis_connect() starts a non-blocking connection to a
/*	Redis server (a name, an IPv4 or an IPv6 address) and returns
/*	hiredis' asynchronous context (NULL: out of memory; ac->err set:
/*	failed at once).
/* BUGS
/*	hiredis resolves a host name with getaddrinfo(), which may block:
/*	give RateStore an address where that matters.
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <string.h>

/* Utility library. */

#include "mw_str.h"

/* Application-specific. */

#include "policy.h"
#include "policy_hiredis.h"

#if HIREDIS_MAJOR >= 1
#define HIREDIS_RESP3	1		/* the reader knows RESP3 types */
typedef size_t guard_count;
#else
#define HIREDIS_RESP3	0
typedef int guard_count;
#endif

/* guard_refuse - stop the reader, say why */

static void *
guard_refuse(struct policy_resp_guard *g, const char *why)
{
	if (g->refused == NULL)
		g->refused = why;
	return (NULL);
}

/* guard_admit - a top-level reply must answer a request */

static int
guard_admit(struct policy_resp_guard *g, const redisReadTask *t)
{
	if (t->parent != NULL)
		return (0);
	if (g->expect == 0) {
		(void) guard_refuse(g, "a reply to no request");
		return (-1);
	}
	g->expect--;
	return (0);
}

/* guard_string - a bulk string, status or error */

static void *
guard_string(const redisReadTask *t, char *s, size_t len)
{
	struct policy_resp_guard *g = t->privdata;

	if (t->type != REDIS_REPLY_STRING && t->type != REDIS_REPLY_STATUS
	    && t->type != REDIS_REPLY_ERROR)
		return (guard_refuse(g, "a RESP3 reply on a RESP2 connection"));
	if (len > POLICY_RESP_BULK_MAX)
		return (guard_refuse(g, "a string longer than 1 MB"));
	if (guard_admit(g, t) < 0)
		return (NULL);
	return (g->orig->createString(t, s, len));
}

/* guard_array - an array: bounded size and depth */

static void *
guard_array(const redisReadTask *t, guard_count n)
{
	struct policy_resp_guard *g = t->privdata;
	const redisReadTask *p;
	int	depth = 0;

	if (t->type != REDIS_REPLY_ARRAY)
		return (guard_refuse(g, "a RESP3 reply on a RESP2 connection"));
	for (p = t->parent; p != NULL; p = p->parent)
		depth++;
	if (depth >= POLICY_RESP_DEPTH_MAX)
		return (guard_refuse(g, "arrays nested too deep"));
	if ((unsigned long long) n > POLICY_RESP_ELEMENTS_MAX)
		return (guard_refuse(g, "an array too large"));
	if (guard_admit(g, t) < 0)
		return (NULL);
	return (g->orig->createArray(t, n));
}

/* guard_integer - an integer (hiredis checked its digits and range) */

static void *
guard_integer(const redisReadTask *t, long long value)
{
	struct policy_resp_guard *g = t->privdata;

	if (guard_admit(g, t) < 0)
		return (NULL);
	return (g->orig->createInteger(t, value));
}

/* guard_nil - a nil bulk string or array */

static void *
guard_nil(const redisReadTask *t)
{
	struct policy_resp_guard *g = t->privdata;

	if (guard_admit(g, t) < 0)
		return (NULL);
	return (g->orig->createNil(t));
}

#if HIREDIS_RESP3

/* guard_double - RESP3 only */

static void *
guard_double(const redisReadTask *t, double d, char *s, size_t len)
{
	(void) d;
	(void) s;
	(void) len;
	return (guard_refuse(t->privdata, "a RESP3 reply on a RESP2 connection"));
}

/* guard_bool - RESP3 only */

static void *
guard_bool(const redisReadTask *t, int b)
{
	(void) b;
	return (guard_refuse(t->privdata, "a RESP3 reply on a RESP2 connection"));
}

#endif

/* guard_free - hiredis' own */

static void
guard_free(void *obj)
{
	freeReplyObject(obj);
}

static redisReplyObjectFunctions guard_functions = {
	.createString = guard_string,
	.createArray = guard_array,
	.createInteger = guard_integer,
#if HIREDIS_RESP3
	.createDouble = guard_double,
	.createBool = guard_bool,
#endif
	.createNil = guard_nil,
	.freeObject = guard_free,
};

/* policy_resp_guard - bound what the reader builds */

void
policy_resp_guard(redisReader *r, struct policy_resp_guard *g)
{
	g->orig = r->fn;
	g->refused = NULL;
	r->fn = &guard_functions;
	r->privdata = g;
}

/* policy_resp_outcome - the rate script's answer as a rate outcome */

int
policy_resp_outcome(const redisReply *r)
{
	if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < 0
	    || r->integer > POLICY_RATE_ITEMS)
		return (POLICY_RATE_ERROR);
	return ((int) r->integer - 1);
}

/* policy_resp_show - a reply for a log line */

char   *
policy_resp_show(const redisReply *r, char *buf, size_t len)
{
	char	shown[100];

	if (r == NULL) {
		snprintf(buf, len, "no reply");
		return (buf);
	}
	switch (r->type) {
	case REDIS_REPLY_INTEGER:
		snprintf(buf, len, "type :, %lld", r->integer);
		break;
	case REDIS_REPLY_ARRAY:
		snprintf(buf, len, "type *, %zu elements", r->elements);
		break;
	case REDIS_REPLY_NIL:
		snprintf(buf, len, "type $, nil");
		break;
	default:
		snprintf(buf, len, "type %c, \"%s\"",
			 r->type == REDIS_REPLY_STATUS ? '+' : r->type == REDIS_REPLY_ERROR ? '-' : '$',
			 mw_printable(shown, sizeof(shown), r->str, r->len));
		break;
	}
	return (buf);
}

/* policy_hiredis_connect - a non-blocking connection under way */

redisAsyncContext *
policy_hiredis_connect(const char *host, int port)
{
	return (redisAsyncConnect(host, port));
}
