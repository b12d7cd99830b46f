/*++
/* NAME
/*	mw_rate 3h
/* SUMMARY
/*	sliding-window rate counters in memory
/* SYNOPSIS
/*	#include "mw_rate.h"
/* DESCRIPTION
/*	See mw_rate.c.
/*--*/
#ifndef MW_RATE_H
#define MW_RATE_H

#include <stddef.h>
#include <time.h>

#define MW_RATE_WINDOWS_MAX	8	/* windows per limit */
#define MW_RATE_BUCKETS		10	/* buckets per window */

struct mw_rate_window {
	unsigned long long limit;	/* events allowed per window */
	unsigned long long seconds;	/* window length */
};

struct mw_rate_limits {
	size_t	n;
	struct mw_rate_window w[MW_RATE_WINDOWS_MAX];
};

typedef struct mw_rate mw_rate;

extern int mw_rate_parse(const char *, struct mw_rate_limits *, char *, size_t);
extern const char *mw_rate_str(const struct mw_rate_limits *, char *, size_t);
extern mw_rate *mw_rate_create(void);
extern void mw_rate_free(mw_rate *);
extern int mw_rate_over(mw_rate *, const char *, const struct mw_rate_limits *,
			        unsigned long long, time_t, unsigned long long *, size_t *);
extern int mw_rate_add(mw_rate *, const char *, const struct mw_rate_limits *,
		               unsigned long long, time_t);
extern size_t mw_rate_expire(mw_rate *, time_t);
extern size_t mw_rate_count(const mw_rate *);

#endif
