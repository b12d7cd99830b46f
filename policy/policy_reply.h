/*++
/* NAME
/*	policy_reply 3h
/* SUMMARY
/*	the rate store's address
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

extern int policy_redis_url(const char *, struct mw_endpoint *, char *, size_t);

#endif
