/*++
/* NAME
/*	mw_cidr 3h
/* SUMMARY
/*	longest-prefix-match table of IPv4 and IPv6 networks
/* SYNOPSIS
/*	#include "mw_cidr.h"
/* DESCRIPTION
/*	See mw_cidr.c.
/*--*/
#ifndef MW_CIDR_H
#define MW_CIDR_H

#include <stddef.h>

#define MW_CIDR_VALUE_MAX	255	/* longest value (customer id) */

typedef struct mw_cidr mw_cidr;

struct mw_addr {
	int	family;			/* 4 or 6 */
	unsigned char bytes[16];	/* network order; IPv4 uses 4 */
};

extern mw_cidr *mw_cidr_create(void);
extern void mw_cidr_free(mw_cidr *);
extern int mw_cidr_add(mw_cidr *, const char *, const char *, char *, size_t);
extern int mw_cidr_load(mw_cidr *, const char *, char *, size_t);
extern const char *mw_cidr_lookup(const mw_cidr *, const struct mw_addr *);
extern size_t mw_cidr_count(const mw_cidr *);
extern int mw_addr_parse(const char *, struct mw_addr *);

#endif
