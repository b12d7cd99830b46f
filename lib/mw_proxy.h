/*++
/* NAME
/*	mw_proxy 3h
/* SUMMARY
/*	proxy tier: user -> backend, with down marks and away records
/* SYNOPSIS
/*	#include "mw_proxy.h"
/* DESCRIPTION
/*	See mw_proxy.c and mailshard-proxy(8).
/*--*/
#ifndef MW_PROXY_H
#define MW_PROXY_H

#include "mw_shard.h"

#define MW_PROXY_HOST_MAX	255	/* bytes in a backend host */
#define MW_PROXY_VALUE_MAX	(2 * MW_SHARD_NAME_MAX + 32)	/* an away record */
/* the stored states of all backends */
#define MW_PROXY_STATES_MAX	(MW_SHARD_VOLUMES_MAX * (MW_SHARD_NAME_MAX + 32))

/* Defaults of the passdb and the doveadm command (mailshard-proxy(8)). */
#define MW_PROXY_DEFAULT_PREFIX		"mailshard-proxy/"
#define MW_PROXY_DEFAULT_PIN_FIELD	"mailshard_backend"
#define MW_PROXY_DEFAULT_MAX_DECISION_MSECS 2000
#define MW_PROXY_DEFAULT_HOLD_MSECS	5000

/* A backend's state in the shared store (absent: up, epoch 0). */
#define MW_PROXY_UP		0	/* serves its users */
#define MW_PROXY_DOWN		1	/* its users go to their next choice */
#define MW_PROXY_HOLD		2	/* changing: its users wait (tempfail) */
#define MW_PROXY_RETURNING	3	/* up; its away users wait (tempfail) */

/* Why a user goes where it goes. */
#define MW_PROXY_BY_HASH	0	/* its rendezvous choice, up */
#define MW_PROXY_BY_PIN		1	/* its pinned backend, up */
#define MW_PROXY_BY_AWAY	2	/* follows its away record */
#define MW_PROXY_BY_MOVED	3	/* home down: next choice, record it */
#define MW_PROXY_TEMPFAIL	4	/* wait: retry later */

typedef struct MW_PROXY_BACKEND {
	char	name[MW_SHARD_NAME_MAX + 1];
	char	host[MW_PROXY_HOST_MAX + 1];	/* without [] for IPv6 */
	unsigned port;				/* 0: the client's port */
	unsigned weight;
} MW_PROXY_BACKEND;

typedef struct MW_PROXY {
	MW_PROXY_BACKEND *backends;
	int	count;
	MW_SHARD *set;			/* the same names and weights */
} MW_PROXY;

typedef struct MW_PROXY_STATE {
	int	state;			/* MW_PROXY_UP ... */
	unsigned long long epoch;	/* raised by each completed return */
} MW_PROXY_STATE;

typedef struct MW_PROXY_AWAY {
	int	at;			/* backend index serving the user */
	int	home;			/* backend index it belongs to */
	unsigned long long epoch;	/* home's epoch when written */
} MW_PROXY_AWAY;

typedef struct MW_PROXY_DECISION {
	int	backend;		/* index, or -1 with MW_PROXY_TEMPFAIL */
	int	home;			/* the user's home backend */
	int	reason;			/* MW_PROXY_BY_* */
	int	write_away;		/* store away before answering */
	MW_PROXY_AWAY away;		/* the record to store */
	const char *why;		/* MW_PROXY_TEMPFAIL: a short reason */
} MW_PROXY_DECISION;

extern MW_PROXY *mw_proxy_create(const char *, char *);
extern void mw_proxy_free(MW_PROXY *);
extern int mw_proxy_find(const MW_PROXY *, const char *);
extern int mw_proxy_states_parse(const MW_PROXY *, const char *, MW_PROXY_STATE *,
				         const char **);
extern int mw_proxy_away_parse(const MW_PROXY *, const char *, MW_PROXY_AWAY *,
			               const char **);
extern void mw_proxy_away_format(const MW_PROXY *, const MW_PROXY_AWAY *,
				         char *, size_t);
extern int mw_proxy_states_format(const MW_PROXY *, const MW_PROXY_STATE *,
				          char *, size_t);
extern int mw_proxy_away_valid(const MW_PROXY_AWAY *, int,
			               const MW_PROXY_STATE *);
extern int mw_proxy_decide(const MW_PROXY *, const char *, const char *,
			           const MW_PROXY_STATE *, const MW_PROXY_AWAY *,
			           MW_PROXY_DECISION *, char *);
extern const char *mw_proxy_reason_name(int);
extern const char *mw_proxy_state_name(int);

#endif
