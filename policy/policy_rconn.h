/*++
/* NAME
/*	policy_rconn 3h
/* SUMMARY
/*	one Redis connection on the daemon's event loop (hiredis async)
/* SYNOPSIS
/*	#include "policy_rconn.h"
/* DESCRIPTION
/*	See policy_rconn.c.
/*--*/
#ifndef POLICY_RCONN_H
#define POLICY_RCONN_H

#include <stddef.h>

#include "mw_endpoint.h"
#include "policy_hiredis.h"

struct policy_rconn;

/* a reply, or NULL and why there is none; the reply is hiredis' until return */
typedef void (*policy_rconn_fn) (void *, const redisReply *, const char *);

/* called on every new connection, before anything else is sent on it */
typedef void (*policy_rconn_hello_fn) (void *, struct policy_rconn *, long long, long long);

struct policy_rconn_opts {
	const char *user;		/* AUTH user (Redis 6 ACL), or NULL */
	const char *password;		/* AUTH password, or NULL: no AUTH */
	int	database;		/* SELECT this, unless 0 */
	struct policy_tls *tls;		/* TLS (policy_tls_create()), or NULL */
};

extern struct policy_rconn *policy_rconn_create(const char *, const struct mw_endpoint *,
				             const struct policy_rconn_opts *, int, void *,
						        char *, size_t);
extern void policy_rconn_hello(struct policy_rconn *, policy_rconn_hello_fn, void *);
extern int policy_rconn_connect(struct policy_rconn *, long long, long long);
extern int policy_rconn_submit(struct policy_rconn *, long long, long long, policy_rconn_fn,
			               void *, int, const char **, const size_t *);
extern void policy_rconn_io(struct policy_rconn *, int, long long);
extern void policy_rconn_tick(struct policy_rconn *, long long);
extern int policy_rconn_busy(const struct policy_rconn *);
extern void policy_rconn_close(struct policy_rconn *, const char *, long long);
extern void policy_rconn_free(struct policy_rconn *);
extern const char *policy_rconn_name(const struct policy_rconn *);

#endif
