/*++
/* NAME
/*	milter_account 3
/* SUMMARY
/*	a SASL login's userdb entry for RelayPolicy, from libmilter's threads
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	void	milter_account_init(conf)
/*	const struct milter_conf *conf;
/*
/*	void	milter_account_get(conf, login, acct)
/*	const char *login;
/*	struct mw_account *acct;
/*
/*	void	milter_account_clear(void)
/*
/*	void	milter_account_done(void)
/* DESCRIPTION
/*	With Userdb set, RelayPolicy takes sender ownership and suspension
/*	(SenderOwnership userdb, Suspension userdb) from Dovecot's userdb,
/*	through the same auth-userdb protocol as mailwarren-policyd
/*	(mw_userdb(3)), with a cache shared by all worker threads
/*	(mw_account(3)).
/*
/*	milter_account_init() makes the client (a pool of connections:
/*	each waiting thread has one, MILTER_USERDB_POOL are kept idle) and
/*	the cache from the configuration the milter starts with (Userdb,
/*	UserdbTimeout and UserdbCacheSize need a restart).
/*
/*	milter_account_get() fills acct for login (already lowercased):
/*	from the cache, else with a USER lookup (service smtp) that waits
/*	at most UserdbTimeout; found and unknown logins are cached for
/*	UserdbCacheTTL and UserdbNegativeCacheTTL of conf (the message's
/*	configuration).  A failure gives MW_ACCOUNT_FAIL with the reason
/*	in acct->fail_why; the decision then defers the recipient and its
/*	one log line says why.
/*
/*	milter_account_clear() empties the cache (every reload);
/*	milter_account_done() releases everything at exit.
/*--*/

/* System library. */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Utility library. */

#include "mw_account.h"
#include "mw_msg.h"
#include "mw_str.h"
#include "mw_userdb.h"

/* Application-specific. */

#include "milter.h"

#define MILTER_USERDB_POOL	16

static struct mw_userdb_client *account_client;
static mw_account_cache *account_cache;

/* milter_account_init - client and cache, from the start-up settings */

void
milter_account_init(const struct milter_conf *conf)
{
	char	err[256];

	if (conf->userdb == NULL)
		return;
	if ((account_client = mw_userdb_client_create(conf->userdb, (int) conf->userdb_timeout,
						      MILTER_USERDB_POOL, err, sizeof(err))) == NULL)
		mw_fatal("Userdb: %s", err);
	if ((account_cache = mw_account_cache_create((size_t) conf->userdb_cache_size)) == NULL)
		mw_fatal("out of memory");
}

/* milter_account_get - the login's entry: cached, or asked */

void
milter_account_get(const struct milter_conf *conf, const char *login, struct mw_account *acct)
{
	char	why[256];
	char   *line = NULL;
	time_t	now = time(NULL);
	int	rc;

	if (mw_account_cache_get(account_cache, login, now, acct))
		return;
	if (account_client == NULL) {
		mw_account_from_reply(acct, MW_USERDB_FAIL, NULL);
		return;
	}
	rc = mw_userdb_client_lookup(account_client, login, "smtp", &line, why, sizeof(why));
	mw_account_from_reply(acct, rc, line);
	free(line);
	if (rc == MW_USERDB_FAIL)		/* said in the decision's log line */
		mw_printable(acct->fail_why, sizeof(acct->fail_why), why, strlen(why));
	now = time(NULL);
	mw_account_cache_put(account_cache, login, acct, now + (time_t) conf->userdb_cache_ttl,
			     now + (time_t) conf->userdb_negative_cache_ttl);
}

/* milter_account_clear - forget every entry (reload) */

void
milter_account_clear(void)
{
	mw_account_cache_clear(account_cache);
}

/* milter_account_done - release at exit */

void
milter_account_done(void)
{
	mw_userdb_client_free(account_client);
	mw_account_cache_free(account_cache);
	account_client = NULL;
	account_cache = NULL;
}
