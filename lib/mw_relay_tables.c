/*++
/* NAME
/*	mw_relay_tables 3
/* SUMMARY
/*	load the tables of the relay-for-customers decision
/* SYNOPSIS
/*	#include "mw_relay.h"
/*
/*	int	mw_relay_tables_load(tables, src, err, errlen)
/*	struct mw_relay_tables *tables;
/*	const struct mw_relay_sources *src;
/*	char	*err;
/*	size_t	errlen;
/*
/*	void	mw_relay_tables_free(tables)
/*	struct mw_relay_tables *tables;
/*
/*	int	mw_relay_userdb_conf(src, ownership, suspension, userdb, err, errlen)
/*	struct mw_relay_sources *src;
/*	const char *ownership;
/*	const char *suspension;
/*	const char *userdb;
/* DESCRIPTION
/*	The tables of mw_relay_decide() come from the same four settings
/*	in mailwarren-policyd.conf(5) and mailwarren-milter.conf(5):
/* .IP HostedDomains
/*	a list of domains, or of files by absolute path (one domain a
/*	line), case-insensitive;
/* .IP CustomerNetworks
/*	a file "network customer-id" (mw_cidr), or NULL: no customers;
/* .IP SenderLoginMap
/*	a file "address owners" (mw_map), or NULL: sender ownership is not
/*	checked;
/* .IP SuspendedList
/*	like HostedDomains, with logins and customer ids.
/* .PP
/*	With SenderOwnership userdb and Suspension userdb (the flags
/*	ownership_userdb and suspension_userdb, copied into tables) the
/*	decision also takes ownership and suspension from each login's
/*	userdb entry (mw_account(3)).
/*
/*	mw_relay_tables_load() builds all four into tables (which it
/*	clears first); on failure nothing is left allocated.  Callers load
/*	beside the tables in use and swap only on success, so that a bad
/*	file never replaces good tables.  mw_relay_tables_free() releases
/*	them and clears the structure (safe on a cleared one).
/*
/*	mw_relay_userdb_conf() checks the settings SenderOwnership (map or
/*	userdb), Suspension (list or userdb) and Userdb (the auth-userdb
/*	socket, needed by either userdb) of both daemons alike and sets the
/*	flags of src; SenderLoginMap (src->sender_login_map) and
/*	SenderOwnership userdb exclude each other.
/* DIAGNOSTICS
/*	mw_relay_tables_load() and mw_relay_userdb_conf() return 0, or -1
/*	with "file:line: reason" or "Key: reason" in err.
/* SEE ALSO
/*	mw_relay(3), mw_cidr(3), mw_map(3)
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Utility library. */

#include "mw_endpoint.h"
#include "mw_relay.h"
#include "mw_str.h"

/* relay_set - a set from a LIST setting: names, or files by absolute path */

static mw_map *
relay_set(const struct mw_cfg_list *list, const char *key, char *err, size_t errlen)
{
	mw_map *map;
	char	why[512];
	size_t	i;

	if ((map = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", key);
		return (NULL);
	}
	for (i = 0; list != NULL && i < list->n; i++) {
		if (mw_map_load_list(map, list->items[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", key, why);
			mw_map_free(map);
			return (NULL);
		}
	}
	return (map);
}

/* mw_relay_tables_load - build the decision's tables */

int
mw_relay_tables_load(struct mw_relay_tables *t, const struct mw_relay_sources *src,
		             char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->ownership_userdb = src->ownership_userdb;
	t->suspension_userdb = src->suspension_userdb;
	if ((t->hosted = relay_set(src->hosted_domains, "HostedDomains", err, errlen)) == NULL)
		goto fail;
	if ((t->suspended = relay_set(src->suspended_list, "SuspendedList", err, errlen)) == NULL)
		goto fail;
	if (src->customer_networks != NULL) {
		if ((t->customers = mw_cidr_create()) == NULL) {
			snprintf(err, errlen, "CustomerNetworks: out of memory");
			goto fail;
		}
		if (mw_cidr_load(t->customers, src->customer_networks, err, errlen) < 0)
			goto fail;
	}
	if (src->sender_login_map != NULL) {
		if ((t->sender_logins = mw_map_create(MW_MAP_LOWERCASE)) == NULL) {
			snprintf(err, errlen, "SenderLoginMap: out of memory");
			goto fail;
		}
		if (mw_map_load_file(t->sender_logins, src->sender_login_map, err, errlen) < 0)
			goto fail;
	}
	return (0);

fail:
	mw_relay_tables_free(t);
	return (-1);
}

/* mw_relay_userdb_conf - SenderOwnership, Suspension, Userdb */

int
mw_relay_userdb_conf(struct mw_relay_sources *src, const char *ownership, const char *suspension,
		             const char *userdb, char *err, size_t errlen)
{
	struct mw_endpoint ep;
	char	why[256];

	if (strcasecmp(ownership, "map") == 0)
		src->ownership_userdb = 0;
	else if (strcasecmp(ownership, "userdb") == 0)
		src->ownership_userdb = 1;
	else
		return (mw_err(err, errlen, "SenderOwnership: expected map or userdb"));
	if (strcasecmp(suspension, "list") == 0)
		src->suspension_userdb = 0;
	else if (strcasecmp(suspension, "userdb") == 0)
		src->suspension_userdb = 1;
	else
		return (mw_err(err, errlen, "Suspension: expected list or userdb"));
	if (src->ownership_userdb && src->sender_login_map != NULL)
		return (mw_err(err, errlen, "SenderLoginMap: not used with SenderOwnership userdb (remove one)"));
	if ((src->ownership_userdb || src->suspension_userdb) && userdb == NULL)
		return (mw_err(err, errlen, "Userdb: not set, but %s userdb needs it",
			       src->ownership_userdb ? "SenderOwnership" : "Suspension"));
	if (userdb != NULL && mw_endpoint_parse(userdb, &ep, why, sizeof(why)) < 0)
		return (mw_err(err, errlen, "Userdb: %s", why));
	return (0);
}

/* mw_relay_tables_free - release the tables */

void
mw_relay_tables_free(struct mw_relay_tables *t)
{
	mw_map_free(t->hosted);
	mw_map_free(t->suspended);
	mw_cidr_free(t->customers);
	mw_map_free(t->sender_logins);
	memset(t, 0, sizeof(*t));
}
