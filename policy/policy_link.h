/*++
/* NAME
/*	policy_link 3h
/* SUMMARY
/*	non-blocking client connection inside the event loop
/* SYNOPSIS
/*	#include "policy_link.h"
/* DESCRIPTION
/*	See policy_link.c.
/*--*/
#ifndef POLICY_LINK_H
#define POLICY_LINK_H

#include <stddef.h>

#include "mw_endpoint.h"

struct policy_wait {
	unsigned id;
	void	(*done) (void *, int);	/* NULL: answered */
	void   *ctx;
	long long deadline;
};

struct policy_link {
	char	name[MW_EP_STR_MAX + 32];	/* for log lines */
	struct mw_endpoint ep;
	int	epfd;
	void   *tag;			/* epoll data for this link */
	int	fd;			/* -1: not connected */
	int	connecting;
	int	events;			/* registered epoll events */
	long long retry_at;		/* no new connection before */
	int	warned;			/* said it is down; say when up */
	size_t	in_max;
	char   *out;
	size_t	out_len;
	size_t	out_cap;
	char   *in;
	size_t	in_len;
	size_t	in_cap;
	struct policy_wait *q;		/* questions in flight, oldest first */
	size_t	q_head;
	size_t	q_len;
	size_t	q_cap;
};

extern void policy_link_init(struct policy_link *, const char *, const struct mw_endpoint *,
			             int, void *, size_t);
extern int policy_link_open(struct policy_link *, long long);
extern int policy_link_append(struct policy_link *, const char *, size_t);
extern int policy_link_ready(struct policy_link *, int, const char **);
extern void policy_link_consume(struct policy_link *, size_t);
extern int policy_link_flush(struct policy_link *, const char **);
extern void policy_link_close(struct policy_link *, const char *, long long);
extern void policy_link_free(struct policy_link *, int);
extern int policy_link_reserve(struct policy_link *);
extern void policy_link_wait(struct policy_link *, unsigned, void (*) (void *, int), void *,
			             long long);
extern int policy_link_answer(struct policy_link *, int, unsigned, int);
extern void policy_link_fail(struct policy_link *, const char *, int, long long);
extern void policy_link_io(struct policy_link *, int, int, long long,
			           void (*) (void *, long long), void *);
extern int policy_link_expired(struct policy_link *, long long);
extern int policy_link_busy(const struct policy_link *);

#endif
