/*++
/* NAME
/*	policy_reply 3
/* SUMMARY
/*	the rate store's address, the user directory's answers
/* SYNOPSIS
/*	#include "policy_reply.h"
/*
/*	int	policy_redis_url(url, ep, err, errlen)
/*	const char *url;
/*	struct mw_endpoint *ep;
/*
/*	int	policy_userdb_reply(line, id)
/*	const char *line;
/*	unsigned *id;
/* DESCRIPTION
/*	The parsers of outside input that mailwarren-policyd(8) reads
/*	from its peers, kept apart from the connection handling so that
/*	they can be fuzzed on their own (tests/fuzz).
/*
/*	policy_redis_url() parses RateStore redis://HOST:PORT (or
/*	rediss://HOST:PORT, the same over TLS), where HOST is a name, an
/*	IPv4 address or an IPv6 address in brackets (redis://[::1]:6379).
/*
/*	policy_userdb_reply() reads one line of Dovecot's auth master
/*	protocol: POLICY_USER_FOUND (USER), POLICY_USER_UNKNOWN (NOTFOUND)
/*	or POLICY_USER_ERROR (FAIL) with the lookup id in id;
/*	POLICY_REPLY_OTHER for lines that answer no lookup (VERSION,
/*	SPID, future commands); POLICY_REPLY_BAD for an answer whose id
/*	is not a decimal number of 1 to 4294967295 followed by a TAB or
/*	the end of the line.
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

/* policy_redis_url - redis[s]://HOST:PORT or redis[s]://[ADDR]:PORT */

int
policy_redis_url(const char *url, struct mw_endpoint *ep, char *err, size_t errlen)
{
	char	shown[100];
	const char *hp;
	const char *host;
	const char *colon;
	size_t	hlen;
	size_t	i;
	unsigned long long port;
	const char *end;

	memset(ep, 0, sizeof(*ep));
	mw_printable(shown, sizeof(shown), url, strlen(url));
	if (strncmp(url, "redis://", 8) == 0)
		hp = url + 8;
	else if (strncmp(url, "rediss://", 9) == 0)
		hp = url + 9;
	else
		hp = NULL;
	if (hp == NULL || (colon = strrchr(hp, ':')) == NULL)
		return (mw_err(err, errlen, "RateStore: expected memory, redis://HOST:PORT or "
			       "rediss://HOST:PORT, found \"%s\"", shown));
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

/* policy_userdb_reply - one auth master protocol line */

int
policy_userdb_reply(const char *line, unsigned *id)
{
	unsigned long long n = 0;
	const char *cp;
	int	result;

	if (strncmp(line, "USER\t", 5) == 0)
		result = POLICY_USER_FOUND, cp = line + 5;
	else if (strncmp(line, "NOTFOUND\t", 9) == 0)
		result = POLICY_USER_UNKNOWN, cp = line + 9;
	else if (strncmp(line, "FAIL\t", 5) == 0)
		result = POLICY_USER_ERROR, cp = line + 5;
	else
		return (POLICY_REPLY_OTHER);
	if (*cp < '0' || *cp > '9')
		return (POLICY_REPLY_BAD);
	for (; *cp >= '0' && *cp <= '9'; cp++)
		if ((n = n * 10 + (unsigned) (*cp - '0')) > UINT_MAX)
			return (POLICY_REPLY_BAD);
	if (n == 0 || (*cp != '\t' && *cp != '\0'))
		return (POLICY_REPLY_BAD);
	*id = (unsigned) n;
	return (result);
}
