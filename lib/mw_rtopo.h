/*++
/* NAME
/*	mw_rtopo 3h
/* SUMMARY
/*	Redis topology: Cluster key slots, redirections, slot maps, Sentinel and ROLE replies
/* SYNOPSIS
/*	#include "mw_rtopo.h"
/* DESCRIPTION
/*	See mw_rtopo.c.
/*--*/
#ifndef MW_RTOPO_H
#define MW_RTOPO_H

#include <stddef.h>
#include <stdint.h>

#define MW_RTOPO_SLOTS		16384	/* Redis Cluster hash slots */
#define MW_RTOPO_NODES_MAX	64	/* masters in one slot map */
#define MW_RTOPO_HOST_MAX	256	/* bytes of a host name or address, with NUL */
#define MW_RTOPO_SEEDS_MAX	16	/* host:port in one sentinel:// or cluster:// */
#define MW_RTOPO_NAME_MAX	128	/* bytes of a Sentinel master name, with NUL */

/*
 * A server reply as the parsers see it: the fields of hiredis' redisReply
 * that matter, in a type of our own (lib/ does not depend on hiredis; the
 * daemon converts, policy_rtopo_view()).
 */
enum mw_resp_type {
	MW_RESP_STRING = 1,		/* bulk string */
	MW_RESP_ARRAY,
	MW_RESP_INTEGER,
	MW_RESP_NIL,
	MW_RESP_STATUS,			/* +OK */
	MW_RESP_ERROR,			/* -ERR ... */
	MW_RESP_OTHER,			/* anything else (RESP3 types): never accepted */
};

struct mw_resp {
	enum mw_resp_type type;
	long long integer;
	const char *str;		/* STRING, STATUS, ERROR: len bytes */
	size_t	len;
	size_t	elements;		/* ARRAY */
	const struct mw_resp *element;	/* ARRAY: elements of them */
};

struct mw_rtopo_addr {
	char	host[MW_RTOPO_HOST_MAX];
	int	port;
};

/* key slots */
extern unsigned mw_rtopo_crc16(const void *, size_t);
extern unsigned mw_rtopo_keyslot(const char *, size_t);

/* -MOVED / -ASK */
#define MW_RTOPO_NOT_REDIRECT	0
#define MW_RTOPO_MOVED		1
#define MW_RTOPO_ASK		2
#define MW_RTOPO_BAD		(-1)

struct mw_rtopo_redirect {
	unsigned slot;
	struct mw_rtopo_addr to;	/* host "" when the server left it out */
};

extern int mw_rtopo_redirect(const char *, size_t, struct mw_rtopo_redirect *);

/* CLUSTER SLOTS */
struct mw_rtopo_slotmap {
	size_t	nnodes;
	struct mw_rtopo_addr node[MW_RTOPO_NODES_MAX];	/* the masters */
	uint8_t	owner[MW_RTOPO_SLOTS];	/* node index + 1, 0: no master */
	unsigned covered;		/* slots with a master */
};

extern int mw_rtopo_slots(const struct mw_resp *, const char *, struct mw_rtopo_slotmap *,
			          char *, size_t);
extern const struct mw_rtopo_addr *mw_rtopo_owner(const struct mw_rtopo_slotmap *, unsigned);
extern int mw_rtopo_set_owner(struct mw_rtopo_slotmap *, unsigned, const struct mw_rtopo_addr *);

/* SENTINEL get-master-addr-by-name */
#define MW_RTOPO_UNKNOWN	0	/* the Sentinel knows no such master */
extern int mw_rtopo_sentinel_master(const struct mw_resp *, struct mw_rtopo_addr *,
				            char *, size_t);

/* ROLE */
#define MW_RTOPO_ROLE_MASTER	1
#define MW_RTOPO_ROLE_REPLICA	2
#define MW_RTOPO_ROLE_SENTINEL	3
extern int mw_rtopo_role(const struct mw_resp *, struct mw_rtopo_addr *, char *, size_t);

/* other errors that send the client back to its Sentinels */
extern int mw_rtopo_readonly(const char *, size_t);

/* settings: sentinel://H:P,H:P/NAME and cluster://H:P,H:P */
#define MW_RTOPO_SENTINEL	1
#define MW_RTOPO_CLUSTER	2
struct mw_rtopo_seeds {
	int	kind;			/* MW_RTOPO_SENTINEL or MW_RTOPO_CLUSTER */
	size_t	n;
	struct mw_rtopo_addr addr[MW_RTOPO_SEEDS_MAX];
	char	name[MW_RTOPO_NAME_MAX];	/* Sentinel's master name */
};

extern int mw_rtopo_seeds_parse(const char *, struct mw_rtopo_seeds *, char *, size_t);

#endif
