/*++
/* NAME
/*	mw_cfg 3h
/* SUMMARY
/*	table-driven "KeyName Value" configuration files
/* SYNOPSIS
/*	#include "mw_cfg.h"
/* DESCRIPTION
/*	See mw_cfg.c.
/*--*/
#ifndef MW_CFG_H
#define MW_CFG_H

#include <stddef.h>
#include <stdio.h>

enum mw_cfg_type {
	MW_CFG_BOOL,			/* int: 0 or 1 */
	MW_CFG_STRING,			/* char *, NULL when unset */
	MW_CFG_INT,			/* long long, within [min, max] */
	MW_CFG_SIZE,			/* unsigned long long bytes; K, M, G */
	MW_CFG_TIME,			/* unsigned long long seconds; s, m, h, d */
	MW_CFG_LIST,			/* struct mw_cfg_list */
};

struct mw_cfg_list {
	size_t	n;			/* number of items */
	char  **items;			/* malloc'ed strings */
};

struct mw_cfg_entry {
	const char *name;		/* KeyName, matched without case */
	enum mw_cfg_type type;
	const char *def;		/* default in file syntax, or NULL */
	size_t	offset;			/* offsetof() the member in the conf */
	long long min;			/* INT, SIZE, TIME: range checked */
	long long max;			/* ... only when min < max */
};

#define MW_CFG_END { NULL, MW_CFG_BOOL, NULL, 0, 0, 0 }

#define MW_CFG_UNKNOWN_WARN	(1 << 0)	/* unknown key: warn, go on */

#define MW_CFG_LINE_MAX	4096		/* longest line in a file */
#define MW_CFG_ERR_MAX	512		/* room for one error message */

extern int mw_cfg_defaults(const struct mw_cfg_entry *, void *, char *, size_t);
extern int mw_cfg_set(const struct mw_cfg_entry *, void *, const char *, char *, size_t);
extern int mw_cfg_parse(const struct mw_cfg_entry *, void *, FILE *, const char *, int, char *, size_t);
extern int mw_cfg_load(const struct mw_cfg_entry *, void *, const char *, int, char *, size_t);
extern void mw_cfg_free(const struct mw_cfg_entry *, void *);
extern int mw_cfg_check(const struct mw_cfg_entry *, size_t, const char *, FILE *);
extern const struct mw_cfg_entry *mw_cfg_lookup(const struct mw_cfg_entry *, const char *);

#endif
