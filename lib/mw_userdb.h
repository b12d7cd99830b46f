/*++
/* NAME
/*	mw_userdb 3h
/* SUMMARY
/*	Dovecot auth-userdb (auth master) protocol and blocking client
/* SYNOPSIS
/*	#include "mw_userdb.h"
/* DESCRIPTION
/*	See mw_userdb.c and mw_userdb_client.c.
/*--*/
#ifndef MW_USERDB_H
#define MW_USERDB_H

#include <stddef.h>

#define MW_USERDB_NOTFOUND	0	/* NOTFOUND: the directory does not know it */
#define MW_USERDB_FOUND		1	/* USER: it exists; fields follow */
#define MW_USERDB_FAIL		(-1)	/* FAIL, or no usable answer */
#define MW_USERDB_OTHER		(-10)	/* a line that answers no lookup */
#define MW_USERDB_BAD		(-11)	/* an answer with a bad id */

#define MW_USERDB_NAME_MAX	1024	/* escaped user name */
#define MW_USERDB_REQ_MAX	(MW_USERDB_NAME_MAX + 64)
#define MW_USERDB_LINE_MAX	(64 * 1024)	/* one reply line */

#define MW_USERDB_HELLO		"VERSION\t1\t0\n"

extern int mw_userdb_escape(const char *, char *, size_t);
extern int mw_userdb_request(char *, size_t, unsigned, const char *, const char *);
extern int mw_userdb_reply(const char *, unsigned *);
extern const char *mw_userdb_field(const char *, const char *, size_t *);

/* The blocking client with a connection pool (mw_userdb_client.c). */
struct mw_userdb_client;

extern struct mw_userdb_client *mw_userdb_client_create(const char *, int, unsigned,
							        char *, size_t);
extern int mw_userdb_client_lookup(struct mw_userdb_client *, const char *, const char *,
				           char **, char *, size_t);
extern void mw_userdb_client_free(struct mw_userdb_client *);

#endif
