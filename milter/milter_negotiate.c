/*++
/* NAME
/*	milter_negotiate 3
/* SUMMARY
/*	mailwarren-milter's protocol negotiation
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	sfsistat milter_negotiate(ctx, f0, f1, f2, f3, pf0, pf1, pf2, pf3)
/*	SMFICTX	*ctx;
/*	unsigned long f0, f1, f2, f3;
/*	unsigned long *pf0, *pf1, *pf2, *pf3;
/*
/*	int	milter_nodelay_listeners()
/* DESCRIPTION
/*	milter_negotiate() is the xxfi_negotiate callback: the actions the
/*	milter may take (add and change headers, quarantine, macro lists),
/*	header and end-of-header steps without replies (SMFIP_NR_*, faked
/*	by libmilter where the MTA lacks them), no unknown commands, and
/*	exactly the macros used at each stage (smfi_setsymlist: Sendmail's
/*	defaults lack {client_addr}).
/*
/*	milter_nodelay_listeners() sets TCP_NODELAY on the process's
/*	listening TCP sockets, after smfi_opensocket().  libmilter does not
/*	hand out its listening socket, and sends each header change and the
/*	final reply as separate small packets: with Nagle's algorithm on,
/*	the second waits for the MTA's delayed ACK, ~40 ms per message.
/*	Accepted sockets inherit TCP_NODELAY from the listener on Linux.
/*	It returns the number of sockets it could not change (errno tells
/*	why).
/*
/*	Both have a file of their own because bench/null-milter talks to
/*	the MTA the same way, to measure the protocol's cost apart from the
/*	scanning.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* Application-specific. */

#include <libmilter/mfapi.h>

#include "milter_negotiate.h"

sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
		         unsigned long f3, unsigned long *pf0, unsigned long *pf1,
		         unsigned long *pf2, unsigned long *pf3)
{
	(void) f2;
	(void) f3;
	*pf0 = (MILTER_FLAGS | SMFIF_SETSYMLIST) & f0;
	*pf1 = (*pf1 | SMFIP_NOUNKNOWN | SMFIP_NR_HDR | SMFIP_NR_EOH) & f1;
	*pf2 = 0;
	*pf3 = 0;
	if ((*pf0 & SMFIF_SETSYMLIST) != 0) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, "j {client_addr} {client_name}");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen} {mail_addr}");
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i {rcpt_addr}");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return (SMFIS_CONTINUE);
}

/* milter_nodelay_listeners - TCP_NODELAY on our listening TCP sockets */

int
milter_nodelay_listeners(void)
{
	socklen_t len;
	int	failed = 0;
	int	why = 0;
	int	on = 1;
	int	val;
	int	fd;

	for (fd = 3; fd < 1024; fd++) {
		len = sizeof(val);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0 || val == 0)
			continue;
		len = sizeof(val);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &val, &len) < 0
		    || (val != AF_INET && val != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0) {
			why = errno;
			failed++;
		}
	}
	if (failed > 0)
		errno = why;			/* the later probes changed it */
	return (failed);
}
