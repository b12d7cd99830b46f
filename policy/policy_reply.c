/*++
/* NAME
/*	policy_reply 3
/* SUMMARY
/*	the rate store's address
/* SYNOPSIS
/*	#include "policy_reply.h"
/*
/*	int	policy_redis_url(url, ep, err, errlen)
/*	const char *url;
/*	struct mw_endpoint *ep;
/*
/* DESCRIPTION
/*	The parsers of outside input that mailwarren-policyd(8) reads
/*	from its peers, kept apart from the connection handling so that
/*	they can be fuzzed on their own (tests/fuzz).
/*
/*	policy_redis_url() parses RateStore redis://HOST:PORT (or
/*	rediss://HOST:PORT, the same over TLS), where HOST is a name, an
/*	IPv4 address or an IPv6 address in brackets (redis://[::1]:6379).
/*
/*	The user directory's replies are read by mw_userdb(3); the rate
/*	store's by hiredis, within the limits of policy_hiredis(3).
/*--*/

/* System library. */

#include "config.h"

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
