/*++
/* NAME
/*	mw_endpoint 3h
/* SUMMARY
/*	milter-style socket addresses
/* SYNOPSIS
/*	#include "mw_endpoint.h"
/* DESCRIPTION
/*	See mw_endpoint.c.
/*--*/
#ifndef MW_ENDPOINT_H
#define MW_ENDPOINT_H

#include <sys/types.h>
#include <sys/un.h>

#define MW_EP_UNIX	1		/* local:/path or unix:/path */
#define MW_EP_INET	2		/* inet:port@host */
#define MW_EP_INET6	3		/* inet6:port@[addr] */

#define MW_EP_HOST_MAX	256
#define MW_EP_STR_MAX	(sizeof(((struct sockaddr_un *) 0)->sun_path) + MW_EP_HOST_MAX + 16)

struct mw_endpoint {
	int	type;			/* MW_EP_* */
	char	path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
	char	host[MW_EP_HOST_MAX];	/* empty = any address (listen) */
	unsigned port;			/* 1..65535 */
};

extern int mw_endpoint_parse(const char *, struct mw_endpoint *, char *, size_t);
extern const char *mw_endpoint_str(const struct mw_endpoint *, char *, size_t);
extern int mw_endpoint_listen(const struct mw_endpoint *, int, int, char *, size_t);
extern int mw_endpoint_connect(const struct mw_endpoint *, int, char *, size_t);

#endif
