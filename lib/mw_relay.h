/*++
/* NAME
/*	mw_relay 3h
/* SUMMARY
/*	relay-for-customers decision
/* SYNOPSIS
/*	#include "mw_relay.h"
/* DESCRIPTION
/*	See mw_relay.c.
/*--*/
#ifndef MW_RELAY_H
#define MW_RELAY_H

#include <stddef.h>

#include "mw_account.h"
#include "mw_cfg.h"
#include "mw_cidr.h"
#include "mw_map.h"

struct mw_relay_tables {
	mw_map *hosted;			/* set: domain, ".parent" = subdomains */
	mw_cidr *customers;		/* network -> customer id */
	mw_map *sender_logins;		/* address or @domain -> owners; NULL = off */
	mw_map *suspended;		/* set: logins and customer ids */
	int	ownership_userdb;	/* SenderOwnership userdb */
	int	suspension_userdb;	/* Suspension userdb */
};

struct mw_relay_req {
	const char *client_address;
	const char *sasl_username;
	const char *sender;
	const char *recipient;
	const struct mw_account *account;	/* the login's, from the userdb */
};

enum mw_rcpt_class {
	MW_RCPT_HOSTED,			/* domain in HostedDomains */
	MW_RCPT_UNQUALIFIED,		/* no "@": Postfix qualifies it */
	MW_RCPT_ROUTED,			/* @ % ! in local part, literal, ... */
	MW_RCPT_FOREIGN,		/* anything else */
};

enum mw_relay_verdict {
	MW_RELAY_TEMPFAIL,		/* 451 4.7.1: the directory failed us */
	MW_RELAY_SUSPENDED,		/* 550 5.7.1 Account suspended ... */
	MW_RELAY_NOT_OWNER,		/* 553 5.7.1 Sender address ... */
	MW_RELAY_DENIED,		/* 554 5.7.1 Relay access denied */
	MW_RELAY_INBOUND,		/* hosted or unqualified: DUNNO */
	MW_RELAY_OUTBOUND,		/* customer or login relays: OK */
};

#define MW_RELAY_ID_MAX		256
#define MW_RELAY_TEXT_MAX	512

struct mw_relay_result {
	enum mw_relay_verdict verdict;
	enum mw_rcpt_class rcpt_class;
	char	login[MW_RELAY_ID_MAX];	/* lowercased sasl_username, or "" */
	char	shown_login[MW_RELAY_ID_MAX];	/* login made printable: logs, replies */
	char	customer[MW_RELAY_ID_MAX];	/* customer id, or "" */
	char	text[MW_RELAY_TEXT_MAX];	/* SMTP reply for refusals */
	const char *reason;		/* short reason for the log */
	char	reason_buf[200];	/* where reason points when composed */
};

/* The settings the tables come from (mw_relay_tables.c); NULL = empty. */
struct mw_relay_sources {
	const struct mw_cfg_list *hosted_domains;
	const char *customer_networks;
	const char *sender_login_map;
	const struct mw_cfg_list *suspended_list;
	int	ownership_userdb;	/* SenderOwnership userdb */
	int	suspension_userdb;	/* Suspension userdb */
};

/*
 * The settings of ownership and suspension from the userdb, the same in
 * both daemons' tables (C(member) gives a member's offset; the members
 * are char *sender_ownership, *suspension, *userdb; long long
 * userdb_timeout, userdb_cache_size; unsigned long long
 * userdb_cache_ttl, userdb_negative_cache_ttl).
 */
#define MW_RELAY_USERDB_CFG(C) \
	{"SenderOwnership", MW_CFG_STRING, "map", C(sender_ownership), 0, 0}, \
	{"Suspension", MW_CFG_STRING, "list", C(suspension), 0, 0}, \
	{"Userdb", MW_CFG_STRING, NULL, C(userdb), 0, 0}, \
	{"UserdbTimeout", MW_CFG_INT, "500", C(userdb_timeout), 1, 60000}, \
	{"UserdbCacheTTL", MW_CFG_TIME, "30s", C(userdb_cache_ttl), 0, 86400}, \
	{"UserdbNegativeCacheTTL", MW_CFG_TIME, "10s", C(userdb_negative_cache_ttl), 0, 86400}, \
	{"UserdbCacheSize", MW_CFG_INT, "100000", C(userdb_cache_size), 1, 100000000}

extern int mw_relay_tables_load(struct mw_relay_tables *, const struct mw_relay_sources *,
				        char *, size_t);
extern void mw_relay_tables_free(struct mw_relay_tables *);
extern int mw_relay_userdb_conf(struct mw_relay_sources *, const char *, const char *,
				        const char *, char *, size_t);

extern enum mw_rcpt_class mw_relay_rcpt_class(const mw_map *, const char *);
extern int mw_relay_hosted(const mw_map *, const char *, size_t);
extern int mw_relay_sender_owned(const mw_map *, const char *, const char *);
extern int mw_relay_rcpt_user(const char *, const char *, char *, size_t);
extern int mw_relay_account_login(const struct mw_relay_tables *, const char *, char *, size_t);
extern void mw_relay_decide(const struct mw_relay_tables *, const struct mw_relay_req *,
			            struct mw_relay_result *);

#endif
