/*++
/* NAME
/*	policy_hiredis 3h
/* SUMMARY
/*	hiredis glue: the reader's limits, the two hiredis generations
/* SYNOPSIS
/*	#include "policy_hiredis.h"
/* DESCRIPTION
/*	See policy_hiredis.c.
/*--*/
#ifndef POLICY_HIREDIS_H
#define POLICY_HIREDIS_H

#include <stddef.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#define POLICY_RESP_DEPTH_MAX	8	/* nested arrays in one reply */
#define POLICY_RESP_BULK_MAX	(1024 * 1024)	/* bytes of a string, or buffered */
#define POLICY_RESP_ELEMENTS_MAX 65536	/* elements of one array */

/* what a connection's reader may build, and why it refused */
struct policy_resp_guard {
	redisReplyObjectFunctions *orig;	/* hiredis' own */
	unsigned long long expect;	/* replies still to come */
	const char *refused;		/* NULL, or why the reader stopped */
};

extern void policy_resp_guard(redisReader *, struct policy_resp_guard *);
extern int policy_resp_outcome(const redisReply *);
extern char *policy_resp_show(const redisReply *, char *, size_t);
struct policy_tls;			/* a TLS client context */

extern struct policy_tls *policy_tls_create(const char *, const char *, const char *,
					            const char *, char *, size_t);
extern void policy_tls_free(struct policy_tls *);
extern const char *policy_tls_why(char *, size_t);
extern redisAsyncContext *policy_hiredis_connect(const char *, int, struct policy_tls *);

#endif
