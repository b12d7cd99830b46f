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
/*	struct policy_tls *policy_tls_create(ca_file, cert_file, key_file,
/*						server_name, err, errlen)
/*	const char *ca_file;
/*	const char *cert_file;
/*	const char *key_file;
/*	const char *server_name;
/*
/*	void	policy_tls_free(tls)
/*	struct policy_tls *tls;
/*
/*	const char *policy_tls_why(buf, len)
/*	char	*buf;
/*	size_t	len;
/*
/*	redisAsyncContext *policy_hiredis_connect(host, port, tls)
/*	const char *host;
/*	int	port;
/*	struct policy_tls *tls;
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
/*	policy_tls_create() makes the TLS client context of hiredis' SSL
/*	support (libhiredis_ssl, hiredis 1.x): the server's certificate
/*	must chain to a certificate of ca_file (NULL: the system's CA
/*	certificates); cert_file and key_file (both or neither) are the
/*	client's certificate and key; server_name (or NULL) is sent as
/*	SNI.  The files are read now (call it before privileges are
/*	dropped).  Without TLS support (hiredis 0.14) it returns NULL and
/*	says so in err, as it does when a file cannot be used.
/*	policy_tls_why() gives OpenSSL's reason for the last TLS failure
/*	(NULL: none) and forgets it.
/*
/*	policy_hiredis_connect() starts a non-blocking connection to a
/*	Redis server (a name, an IPv4 or an IPv6 address), over TLS with
/*	tls unless that is NULL, and returns hiredis' asynchronous
/*	context (NULL: out of memory; ac->err set: failed at once).
/* BUGS
/*	hiredis resolves a host name with getaddrinfo(), which may block:
/*	give RateStore an address where that matters.
/*
/*	hiredis checks that the server's certificate chains to ca_file,
/*	not that it names the server: use a CA that signs nothing but
/*	your Redis servers.
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

#ifdef HAVE_HIREDIS_SSL
#include <hiredis/hiredis_ssl.h>
#include <openssl/err.h>
#endif

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

#ifdef HAVE_HIREDIS_SSL

struct policy_tls {
	redisSSLContext *ctx;
};

/* policy_tls_why - OpenSSL's reason for the last failure, forgotten */

const char *
policy_tls_why(char *buf, size_t len)
{
	unsigned long e;
	unsigned long last = 0;
	const char *reason;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0 || buf == NULL || (reason = ERR_reason_error_string(last)) == NULL)
		return (NULL);
	snprintf(buf, len, "%s", reason);
	return (buf);
}

/* policy_tls_create - hiredis' TLS client context, files read now */

struct policy_tls *
policy_tls_create(const char *ca_file, const char *cert_file, const char *key_file,
		          const char *server_name, char *err, size_t errlen)
{
	static int openssl_ready;
	redisSSLContextError e = REDIS_SSL_CTX_NONE;
	struct policy_tls *tls;
	const char *what;
	const char *file;
	char	why[160];

	if (!openssl_ready) {
		(void) redisInitOpenSSL();
		openssl_ready = 1;
	}
	if ((tls = calloc(1, sizeof(*tls))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	(void) policy_tls_why(NULL, 0);
	if ((tls->ctx = redisCreateSSLContext(ca_file, NULL, cert_file, key_file, server_name,
					      &e)) != NULL)
		return (tls);
	switch (e) {
	case REDIS_SSL_CTX_CA_CERT_LOAD_FAILED:
	case REDIS_SSL_CTX_CLIENT_DEFAULT_CERT_FAILED:
		what = "RedisCAFile", file = ca_file ? ca_file : "(unset: the system's CA certificates)";
		break;
	case REDIS_SSL_CTX_CLIENT_CERT_LOAD_FAILED:
		what = "RedisCertFile", file = cert_file;
		break;
	case REDIS_SSL_CTX_PRIVATE_KEY_LOAD_FAILED:
		what = "RedisKeyFile", file = key_file;
		break;
	default:
		what = "TLS", file = "";
		break;
	}
	if (policy_tls_why(why, sizeof(why)) != NULL)
		snprintf(err, errlen, "%s %s: %s (%s)", what, file, redisSSLContextGetError(e), why);
	else
		snprintf(err, errlen, "%s %s: %s", what, file, redisSSLContextGetError(e));
	free(tls);
	return (NULL);
}

/* policy_tls_free - release */

void
policy_tls_free(struct policy_tls *tls)
{
	if (tls == NULL)
		return;
	redisFreeSSLContext(tls->ctx);
	free(tls);
}

#else					/* HAVE_HIREDIS_SSL */

struct policy_tls {
	int	none;
};

/* policy_tls_why - no TLS, no reason */

const char *
policy_tls_why(char *buf, size_t len)
{
	(void) buf;
	(void) len;
	return (NULL);
}

/* policy_tls_create - hiredis 0.14 has no TLS support */

struct policy_tls *
policy_tls_create(const char *ca_file, const char *cert_file, const char *key_file,
		          const char *server_name, char *err, size_t errlen)
{
	(void) ca_file, (void) cert_file, (void) key_file, (void) server_name;
	snprintf(err, errlen, "TLS to Redis (rediss://, RedisCAFile, RedisCertFile, RedisKeyFile): "
		 "this mailwarren-policyd is built with hiredis %d.%d.%d, which has no TLS support "
		 "(hiredis 1.x with libhiredis_ssl has)", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
	return (NULL);
}

/* policy_tls_free - nothing to release */

void
policy_tls_free(struct policy_tls *tls)
{
	(void) tls;
}

#endif					/* HAVE_HIREDIS_SSL */

/* policy_hiredis_connect - a non-blocking connection under way */

redisAsyncContext *
policy_hiredis_connect(const char *host, int port, struct policy_tls *tls)
{
	redisAsyncContext *ac;

	if ((ac = redisAsyncConnect(host, port)) == NULL || ac->err || tls == NULL)
		return (ac);
#ifdef HAVE_HIREDIS_SSL
	if (redisInitiateSSLWithContext(&ac->c, tls->ctx) != REDIS_OK) {
		ac->err = ac->c.err ? ac->c.err : REDIS_ERR_OTHER;
		ac->errstr = ac->c.errstr;
	}
#endif
	return (ac);
}
