/*++
/* NAME
/*	fuzz_endpoint 1
/* SUMMARY
/*	libFuzzer target for socket endpoints and the RateStore URL
/* DESCRIPTION
/*	Parses the input (up to its first NUL) with mw_endpoint_parse()
/*	(milter sockets, RecipientUserdb) and policy_redis_url()
/*	(RateStore).  Checks that a parsed endpoint has a known type, a
/*	port of 1..65535 (inet), a host without blanks, brackets or
/*	control bytes (the brackets of an IPv6 address are removed), and
/*	that mw_endpoint_str() writes it back in a form that parses to
/*	the same endpoint.
/*--*/

#include "config.h"

#include "fuzz.h"
#include "mw_endpoint.h"
#include "policy_reply.h"

static void
check_host(const struct mw_endpoint *ep)
{
	const unsigned char *cp;

	fuzz_check(ep->port >= 1 && ep->port <= 65535);
	for (cp = (const unsigned char *) ep->host; *cp; cp++)
		fuzz_check(*cp > ' ' && *cp < 0x7f && *cp != '[' && *cp != ']');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_endpoint ep;
	struct mw_endpoint again;
	char	err[512];
	char	buf[MW_EP_STR_MAX];
	char   *spec = fuzz_str(data, size);

	err[0] = '\0';
	if (mw_endpoint_parse(spec, &ep, err, sizeof(err)) == 0) {
		fuzz_check(ep.type == MW_EP_UNIX || ep.type == MW_EP_INET || ep.type == MW_EP_INET6);
		if (ep.type == MW_EP_UNIX)
			fuzz_check(ep.path[0] == '/');
		else
			check_host(&ep);
		mw_endpoint_str(&ep, buf, sizeof(buf));
		fuzz_check(mw_endpoint_parse(buf, &again, err, sizeof(err)) == 0);
		fuzz_check(again.type == ep.type && again.port == ep.port
			   && strcmp(again.host, ep.host) == 0 && strcmp(again.path, ep.path) == 0);
	} else {
		fuzz_check(err[0] != '\0');
	}
	err[0] = '\0';
	if (policy_redis_url(spec, &ep, err, sizeof(err)) == 0) {
		fuzz_check(ep.type == MW_EP_INET || ep.type == MW_EP_INET6);
		fuzz_check(ep.host[0] != '\0');
		check_host(&ep);
		fuzz_check(ep.type == MW_EP_INET6 || strchr(ep.host, ':') == NULL);
	} else {
		fuzz_check(err[0] != '\0');
	}
	free(spec);
	return (0);
}
