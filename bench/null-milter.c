/*++
/* NAME
/*	null-milter 1
/* SUMMARY
/*	do-nothing milter: the milter-protocol ceiling for the benchmark
/* SYNOPSIS
/*	null-milter SOCKET
/* DESCRIPTION
/*	null-milter negotiates what mailwarren-milter negotiates (the same
/*	code, milter_negotiate(3), and the same callbacks; TCP_NODELAY on a
/*	TCP socket, as there), receives every message, adds two headers at end of
/*	message as mailwarren-milter does (X-Virus-Scanned, X-Spam-Status)
/*	and accepts.  It keeps no message: the difference between it and
/*	mailwarren-milter in bench/milter-bench.sh is the scanning.
/*	SOCKET is in libmilter syntax (unix:/path, inet:port@host).  It runs
/*	in the foreground until SIGTERM.
/*--*/

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

#include "milter_negotiate.h"

static sfsistat
nm_continue(SMFICTX *ctx)
{
	(void) ctx;
	return (SMFIS_CONTINUE);
}

static sfsistat
nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void) host;
	(void) sa;
	return (nm_continue(ctx));
}

static sfsistat
nm_helo(SMFICTX *ctx, char *helo)
{
	(void) helo;
	return (nm_continue(ctx));
}

static sfsistat
nm_argv(SMFICTX *ctx, char **argv)
{
	(void) argv;
	return (nm_continue(ctx));
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void) ctx;
	(void) name;
	(void) value;
	return (SMFIS_NOREPLY);
}

static sfsistat
nm_eoh(SMFICTX *ctx)
{
	(void) ctx;
	return (SMFIS_NOREPLY);
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void) chunk;
	(void) len;
	return (nm_continue(ctx));
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	smfi_addheader(ctx, "X-Virus-Scanned", "not scanned (null-milter)");
	smfi_addheader(ctx, "X-Spam-Status", "Unknown, not scored: null-milter");
	return (SMFIS_CONTINUE);
}

static struct smfiDesc nm_desc = {
	.xxfi_name = "null-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = MILTER_FLAGS,
	.xxfi_connect = nm_connect,
	.xxfi_helo = nm_helo,
	.xxfi_envfrom = nm_argv,
	.xxfi_envrcpt = nm_argv,
	.xxfi_header = nm_header,
	.xxfi_eoh = nm_eoh,
	.xxfi_body = nm_body,
	.xxfi_eom = nm_eom,
	.xxfi_abort = nm_continue,
	.xxfi_close = nm_continue,
	.xxfi_data = nm_continue,
	.xxfi_negotiate = milter_negotiate,
};

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s unix:/path|inet:port@host\n", argv[0]);
		return (2);
	}
	umask(0);				/* the MTA's user connects to a unix socket */
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(nm_desc) == MI_FAILURE
	    || smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "%s: cannot listen on %s\n", argv[0], argv[1]);
		return (1);
	}
	if (milter_nodelay_listeners() > 0)
		perror("TCP_NODELAY");
	return (smfi_main() == MI_SUCCESS ? 0 : 1);
}
