/*++
/* NAME
/*	policy_redis 3h
/* SUMMARY
/*	rate counters shared through Redis
/* SYNOPSIS
/*	#include "policy_redis.h"
/* DESCRIPTION
/*	See policy_redis.c.
/*--*/
#ifndef POLICY_REDIS_H
#define POLICY_REDIS_H

#include "policy.h"

struct policy_redis;

extern struct policy_redis *policy_redis_create(const struct policy_conf *, char *, size_t);
extern int policy_redis_attach(struct policy_redis *, int, void *, char *, size_t);
extern int policy_redis_submit(struct policy_redis *, const struct policy_pending *, time_t,
			               void (*) (void *, int), void *, long long);
extern void policy_redis_io(struct policy_redis *, int, long long);
extern void policy_redis_tick(struct policy_redis *, long long);
extern int policy_redis_busy(const struct policy_redis *);
extern void policy_redis_free(struct policy_redis *);

#endif
