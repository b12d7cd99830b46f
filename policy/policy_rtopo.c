/*++
/* NAME
/*	policy_rtopo 3
/* SUMMARY
/*	hiredis replies as mw_rtopo(3) reads them
/* SYNOPSIS
/*	#include "policy_rtopo.h"
/*
/*	struct mw_resp *policy_rtopo_view(reply)
/*	const redisReply *reply;
/* DESCRIPTION
/*	policy_rtopo_view() gives the struct mw_resp tree of a hiredis
/*	reply, so that the Cluster and Sentinel parsers of mw_rtopo(3)
/*	(pure functions, no hiredis in lib/) read what the server sent:
/*	CLUSTER SLOTS, SENTINEL get-master-addr-by-name, ROLE, MOVED/ASK.
/*	The tree is one allocation (free() it); its strings point into
/*	the reply, so it is valid while the reply is.  Types other than
/*	RESP2's are MW_RESP_OTHER (never accepted by the parsers).
/*	Arrays nested deeper than POLICY_RESP_DEPTH_MAX (the reader's
/*	limit, policy_resp_guard(3)) or a failed allocation give NULL.
/*--*/

/* System library. */

#include "config.h"

#include <stdlib.h>

/* Application-specific. */

#include "policy_rtopo.h"

/* count - the nodes of a reply, or 0 when it is too deep */

static size_t
count(const redisReply *r, int depth)
{
	size_t	n = 1, i, sub;

	if (r->type != REDIS_REPLY_ARRAY)
		return (1);
	if (depth >= POLICY_RESP_DEPTH_MAX)
		return (0);
	for (i = 0; i < r->elements; i++) {
		if ((sub = count(r->element[i], depth + 1)) == 0)
			return (0);
		n += sub;
	}
	return (n);
}

/* fill - one node, its children at pool[*next...] */

static void
fill(const redisReply *r, struct mw_resp *dst, struct mw_resp *pool, size_t *next)
{
	struct mw_resp *kids;
	size_t	i;

	dst->integer = 0;
	dst->str = NULL;
	dst->len = 0;
	dst->elements = 0;
	dst->element = NULL;
	switch (r->type) {
	case REDIS_REPLY_STRING:
		dst->type = MW_RESP_STRING;
		break;
	case REDIS_REPLY_STATUS:
		dst->type = MW_RESP_STATUS;
		break;
	case REDIS_REPLY_ERROR:
		dst->type = MW_RESP_ERROR;
		break;
	case REDIS_REPLY_INTEGER:
		dst->type = MW_RESP_INTEGER;
		dst->integer = r->integer;
		return;
	case REDIS_REPLY_NIL:
		dst->type = MW_RESP_NIL;
		return;
	case REDIS_REPLY_ARRAY:
		dst->type = MW_RESP_ARRAY;
		kids = pool + *next;
		*next += r->elements;
		dst->elements = r->elements;
		dst->element = kids;
		for (i = 0; i < r->elements; i++)
			fill(r->element[i], kids + i, pool, next);
		return;
	default:
		dst->type = MW_RESP_OTHER;
		return;
	}
	dst->str = r->str;
	dst->len = r->len;
}

struct mw_resp *
policy_rtopo_view(const redisReply *r)
{
	struct mw_resp *pool;
	size_t	n, next = 1;

	if (r == NULL || (n = count(r, 0)) == 0)
		return (NULL);
	if ((pool = calloc(n, sizeof(*pool))) == NULL)
		return (NULL);
	fill(r, pool, pool, &next);
	return (pool);
}
