/*++
/* NAME
/*	mw_account 3h
/* SUMMARY
/*	a login's relay facts from the directory, and their cache
/* SYNOPSIS
/*	#include "mw_account.h"
/* DESCRIPTION
/*	See mw_account.c.
/*--*/
#ifndef MW_ACCOUNT_H
#define MW_ACCOUNT_H

#include <stddef.h>
#include <time.h>

#define MW_ACCOUNT_FOUND	1	/* the directory knows the login */
#define MW_ACCOUNT_NOTFOUND	0	/* it does not */
#define MW_ACCOUNT_FAIL		(-1)	/* it could not tell (down, slow, garbage) */
#define MW_ACCOUNT_INVALID	(-2)	/* it gave a value we refuse (see field) */

#define MW_ACCOUNT_SENDERS_MAX	4096	/* bytes of the normalized list */
#define MW_ACCOUNT_SENDERS_N	256	/* entries */
#define MW_ACCOUNT_ID_MAX	256	/* customer id (as MW_RELAY_ID_MAX) */

/* The userdb fields (LDAP attributes, SQL columns) */
#define MW_ACCOUNT_F_SENDERS	"mailwarren_senders"
#define MW_ACCOUNT_F_SUSPENDED	"mailwarren_suspended"
#define MW_ACCOUNT_F_CUSTOMER	"mailwarren_customer"

struct mw_account {
	int	status;			/* MW_ACCOUNT_* */
	int	suspended;
	char	customer[MW_ACCOUNT_ID_MAX];	/* "" = none */
	char	senders[MW_ACCOUNT_SENDERS_MAX];	/* lowercased, one space between */
	const char *field;		/* INVALID: the field refused */
	const char *why;		/* INVALID: why */
	char	fail_why[128];		/* FAIL: why, when the caller knows */
};

extern void mw_account_from_reply(struct mw_account *, int, const char *);
extern int mw_account_owns(const struct mw_account *, const char *);

typedef struct mw_account_cache mw_account_cache;

extern mw_account_cache *mw_account_cache_create(size_t);
extern int mw_account_cache_get(mw_account_cache *, const char *, time_t, struct mw_account *);
extern void mw_account_cache_put(mw_account_cache *, const char *, const struct mw_account *,
				         time_t, time_t);
extern void mw_account_cache_clear(mw_account_cache *);
extern size_t mw_account_cache_expire(mw_account_cache *, time_t);
extern void mw_account_cache_free(mw_account_cache *);

#endif
