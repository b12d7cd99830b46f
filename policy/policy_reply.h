/*++
/* NAME
/*	policy_reply 3h
/* SUMMARY
/*	the rate store's address, the user directory's answers
/* SYNOPSIS
/*	#include "policy_reply.h"
/* DESCRIPTION
/*	See policy_reply.c.
/*--*/
#ifndef POLICY_REPLY_H
#define POLICY_REPLY_H

#include <sys/types.h>

#include "mw_endpoint.h"
#include "policy.h"			/* POLICY_RATE_*, POLICY_USER_* */

#define POLICY_REPLY_OTHER	(-10)	/* a line that answers no lookup */
#define POLICY_REPLY_BAD	(-11)	/* an answer with a bad id */

extern int policy_redis_url(const char *, struct mw_endpoint *, char *, size_t);
extern int policy_userdb_reply(const char *, unsigned *);

#endif
