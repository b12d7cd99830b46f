/*++
/* NAME
/*	mw_spamc 3h
/* SUMMARY
/*	SPAMC/1.5 client for a farm of spamd hosts
/* SYNOPSIS
/*	#include "mw_spamc.h"
/* DESCRIPTION
/*	See mw_spamc.c and mw_spamc_reply.c.
/*--*/
#ifndef MW_SPAMC_H
#define MW_SPAMC_H

#include <stddef.h>
#include <sys/uio.h>

#define MW_SPAMC_SYMBOLS_MAX	4096	/* rule names kept, longer is cut */
#define MW_SPAMC_REPLY_MAX	65536	/* longest reply accepted */
#define MW_SPAMC_HOSTS_MAX	64	/* spamd hosts in one list */
#define MW_SPAMC_RETRY_SECS	10	/* a failed host is avoided this long */

#define MW_SPAMC_CHECK		0	/* CHECK: verdict only */
#define MW_SPAMC_SYMBOLS	1	/* SYMBOLS: verdict and rule names */

struct mw_spamc_result {
	int	spam;			/* spamd's verdict: 1 spam, 0 ham */
	double	score;			/* e.g. 7.3 */
	double	required;		/* e.g. 5.0 */
	char	symbols[MW_SPAMC_SYMBOLS_MAX];	/* "GTUBE,NO_RELAYS", or "" */
};

struct mw_spamc;

extern int mw_spamc_parse_reply(const char *, size_t, struct mw_spamc_result *, char *, size_t);
extern int mw_spamc_user_ok(const char *);

extern struct mw_spamc *mw_spamc_create(char **, size_t, int, char *, size_t);
extern void mw_spamc_free(struct mw_spamc *);
extern int mw_spamc_check(struct mw_spamc *, int, const char *, const struct iovec *, int,
			          struct mw_spamc_result *, char *, size_t, char *, size_t);
extern void mw_spamc_hosts(struct mw_spamc *, unsigned *, unsigned *);
extern void mw_spamc_stats(unsigned long long *, unsigned long long *);

#endif
