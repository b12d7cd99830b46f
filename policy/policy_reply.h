/*++
/* NAME
/*	policy_reply 3h
/* SUMMARY
/*	readers of what the rate store answers
/* SYNOPSIS
/*	#include "policy_reply.h"
/* DESCRIPTION
/*	See policy_reply.c.
/*--*/
#ifndef POLICY_REPLY_H
#define POLICY_REPLY_H

#include <sys/types.h>

#include "mw_endpoint.h"
#include "policy.h"			/* POLICY_RATE_* */

#define POLICY_RESP_DEPTH_MAX	8	/* nested arrays in one reply */
#define POLICY_RESP_BULK_MAX	(1024 * 1024)	/* bytes or elements */

extern int policy_redis_url(const char *, struct mw_endpoint *, char *, size_t);
extern ssize_t policy_resp_parse(const char *, size_t, int *, long long *);
extern int policy_resp_outcome(int, long long);

#endif
