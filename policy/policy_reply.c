/*++
/* NAME
/*	policy_reply 3
/* SUMMARY
/*	readers of what the rate store answers
/* SYNOPSIS
/*	#include "policy_reply.h"
/*
/*	int	policy_redis_url(url, ep, err, errlen)
/*	const char *url;
/*	struct mw_endpoint *ep;
/*
/*	ssize_t	policy_resp_parse(buf, len, type, value)
/*	const char *buf;
/*	size_t	len;
/*	int	*type;
/*	long long *value;
/*
/*	int	policy_resp_outcome(type, value)
/*	int	type;
/*	long long value;
/* DESCRIPTION
/*	The parsers of outside input that mailwarren-policyd(8) reads
/*	from its peers, kept apart from the connection handling so that
/*	they can be fuzzed on their own (tests/fuzz).
/*
/*	policy_redis_url() parses RateStore redis://HOST:PORT, where
/*	HOST is a name, an IPv4 address or an IPv6 address in brackets
/*	(redis://[::1]:6379).
/*
/*	policy_resp_parse() looks for one complete RESP reply at the
/*	start of buf (which need not be NUL-terminated).  It returns its
/*	size, 0 while it is incomplete, or -1 when it is malformed: an
/*	unknown type, a number that is not one (digits only, optional
/*	"-", within long long, nothing else on the line), a bulk string
/*	or array of negative size other than -1 (nil) or of more than
/*	POLICY_RESP_BULK_MAX bytes or elements, arrays nested deeper than
/*	POLICY_RESP_DEPTH_MAX, or a line longer than 4096 bytes.  type is
/*	the reply's first byte; value the number of an integer reply.
/*
/*	policy_resp_outcome() turns the reply to the rate script into a
/*	rate outcome: -1 (within limits) for the integer 0, the item
/*	index for 1..POLICY_RATE_ITEMS, and POLICY_RATE_ERROR for
/*	anything else (an error, another type, a number out of range),
/*	so that a broken or hostile store follows RedisFailMode.
/*
/*	The user directory's replies are read by mw_userdb(3).
/*--*/

/* System library. */

#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Utility library. */

#include "mw_str.h"

/* Application-specific. */

#include "policy_reply.h"

#define RESP_LINE_MAX	4096

/* policy_redis_url - redis://HOST:PORT or redis://[ADDR]:PORT */

int
policy_redis_url(const char *url, struct mw_endpoint *ep, char *err, size_t errlen)
{
	char	shown[100];
	const char *hp = url + 8;
	const char *host;
	const char *colon;
	size_t	hlen;
	size_t	i;
	unsigned long long port;
	const char *end;

	memset(ep, 0, sizeof(*ep));
	mw_printable(shown, sizeof(shown), url, strlen(url));
	if (strncmp(url, "redis://", 8) != 0 || (colon = strrchr(hp, ':')) == NULL)
		return (mw_err(err, errlen, "RateStore: expected memory or redis://HOST:PORT, found \"%s\"",
			       shown));
	host = hp;
	hlen = (size_t) (colon - hp);
	ep->type = MW_EP_INET;
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		ep->type = MW_EP_INET6;
		host++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(ep->host))
		return (mw_err(err, errlen, "RateStore: \"%s\": bad host", shown));
	for (i = 0; i < hlen; i++)
		if ((unsigned char) host[i] <= ' ' || (unsigned char) host[i] >= 0x7f
		    || strchr("[]@/", host[i]) != NULL
		    || (host[i] == ':' && ep->type != MW_EP_INET6))
			return (mw_err(err, errlen, "RateStore: \"%s\": bad host%s", shown,
				       host[i] == ':' ? " (write an IPv6 address in brackets)" : ""));
	if (mw_parse_ull(colon + 1, &port, &end) != 0 || *end != '\0' || port == 0 || port > 65535)
		return (mw_err(err, errlen, "RateStore: \"%s\": bad port (expected 1..65535)", shown));
	memcpy(ep->host, host, hlen);
	ep->host[hlen] = '\0';
	ep->port = (unsigned) port;
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

/* resp_number - the whole of [s, end) as a long long; -1 if it is not one */

static int
resp_number(const char *s, const char *end, long long *value)
{
	unsigned long long mag = 0;
	unsigned long long lim = LLONG_MAX;
	int	neg = 0;

	if (s < end && *s == '-') {
		neg = 1;
		lim = (unsigned long long) LLONG_MAX + 1;
		s++;
	}
	if (s == end)
		return (-1);
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		if (mag > (lim - (unsigned) (*s - '0')) / 10)
			return (-1);
		mag = mag * 10 + (unsigned) (*s - '0');
	}
	if (neg)
		*value = mag == (unsigned long long) LLONG_MAX + 1 ? LLONG_MIN : -(long long) mag;
	else
		*value = (long long) mag;
	return (0);
}

/* resp_reply - one reply at depth; size, 0 if incomplete, -1 if malformed */

static ssize_t
resp_reply(const char *s, const char *end, int depth, int *type, long long *value)
{
	const char *cr = resp_line(s, end);
	const char *cp;
	long long n = 0;
	ssize_t	sub;
	int	t;
	long long v;

	if (cr == NULL)
		return (end - s > RESP_LINE_MAX ? -1 : 0);
	if (cr - s > RESP_LINE_MAX)
		return (-1);
	*type = (unsigned char) *s;
	*value = 0;
	cp = cr + 2;
	switch (*s) {
	case '+':
	case '-':
		return (cp - s);
	case ':':
		if (resp_number(s + 1, cr, value) < 0)
			return (-1);
		return (cp - s);
	case '$':
		if (resp_number(s + 1, cr, &n) < 0 || n < -1 || n > POLICY_RESP_BULK_MAX)
			return (-1);
		if (n < 0)
			return (cp - s);
		if ((size_t) (end - cp) < (size_t) n + 2)
			return (0);
		if (cp[n] != '\r' || cp[n + 1] != '\n')
			return (-1);
		return (cp + n + 2 - s);
	case '*':
		if (resp_number(s + 1, cr, &n) < 0 || n < -1 || n > POLICY_RESP_BULK_MAX
		    || (n > 0 && depth >= POLICY_RESP_DEPTH_MAX))
			return (-1);
		for (; n > 0; n--) {
			if ((sub = resp_reply(cp, end, depth + 1, &t, &v)) <= 0)
				return (sub);
			cp += sub;
		}
		return (cp - s);
	default:
		return (-1);
	}
}

/* policy_resp_parse - one complete reply at the start of buf */

ssize_t
policy_resp_parse(const char *buf, size_t len, int *type, long long *value)
{
	return (resp_reply(buf, buf + len, 0, type, value));
}

/* policy_resp_outcome - the rate script's answer as a rate outcome */

int
policy_resp_outcome(int type, long long value)
{
	if (type != ':' || value < 0 || value > POLICY_RATE_ITEMS)
		return (POLICY_RATE_ERROR);
	return ((int) value - 1);
}
