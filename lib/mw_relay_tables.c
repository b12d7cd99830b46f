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
/*	mw_relay_tables_load() builds all four into tables (which it
/*	clears first); on failure nothing is left allocated.  Callers load
/*	beside the tables in use and swap only on success, so that a bad
/*	file never replaces good tables.  mw_relay_tables_free() releases
/*	them and clears the structure (safe on a cleared one).
/* DIAGNOSTICS
/*	mw_relay_tables_load() returns 0, or -1 with "file:line: reason"
/*	or "Key: reason" in err.
/* SEE ALSO
/*	mw_relay(3), mw_cidr(3), mw_map(3)
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <string.h>

/* Utility library. */

#include "mw_relay.h"

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
