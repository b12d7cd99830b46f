/*++
/* NAME
/*	mw_stamp 3h
/* SUMMARY
/*	keyed stamp: the spam score mailwarren-milter wrote for a message
/* SYNOPSIS
/*	#include "mw_stamp.h"
/* DESCRIPTION
/*	See mw_stamp.c.
/*--*/
#ifndef MW_STAMP_H
#define MW_STAMP_H

#include <stddef.h>
#include <stdint.h>

#define MW_STAMP_HEADER		"X-Mailwarren-Stamp"
#define MW_STAMP_VALUE_MAX	128	/* longest value mw_stamp_make() writes */
#define MW_STAMP_SCORE_MAX	16	/* longest score text, with the NUL */

struct mw_stamp_key {
	uint64_t k0;			/* key bytes 0-7, little-endian */
	uint64_t k1;			/* key bytes 8-15 */
};

struct mw_stamp_info {
	long long t;			/* when the milter stamped (Unix time) */
	double	score;			/* the spamd score */
	char	score_text[MW_STAMP_SCORE_MAX];	/* as written ("7.3") */
};

extern int mw_stamp_key_parse(const char *, struct mw_stamp_key *, char *, size_t);
extern int mw_stamp_key_load(const char *, struct mw_stamp_key *, char *, size_t);
extern int mw_stamp_make(const struct mw_stamp_key *, const char *, const char *,
			         long long, char *, size_t);
extern int mw_stamp_verify(const struct mw_stamp_key *, size_t, const char *, const char *,
			           long long, long long, struct mw_stamp_info *, char *, size_t);

#endif
