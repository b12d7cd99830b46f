/*++
/* NAME
/*	mw_fdlimit 3h
/* SUMMARY
/*	descriptor limit and rate-limited overload warnings
/* SYNOPSIS
/*	#include "mw_fdlimit.h"
/*--*/
#ifndef MW_FDLIMIT_H
#define MW_FDLIMIT_H

#include <stddef.h>
#include <time.h>

extern int mw_fdlimit_raise(unsigned long long, const char *, long long,
			            unsigned long long *, char *, size_t);

 /*
  * One warning per interval for a storm of refusals.
  */
struct mw_ratelog {
	time_t	interval;		/* seconds between two lines */
	time_t	next;			/* no line before this */
	unsigned long long count;	/* events not yet logged */
};

#define MW_RATELOG_INIT(secs)	{(secs), 0, 0}

extern unsigned long long mw_ratelog_add(struct mw_ratelog *, time_t, unsigned long long);
extern unsigned long long mw_ratelog_flush(struct mw_ratelog *, time_t);

#endif
