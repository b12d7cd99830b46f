/*++
/* NAME
/*	mw_shard 3h
/* SUMMARY
/*	mail shard placement: user -> volume -> hashed directory
/* SYNOPSIS
/*	#include "mw_shard.h"
/* DESCRIPTION
/*	See mw_shard.c and mailshard(7).
/*--*/
#ifndef MW_SHARD_H
#define MW_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define MW_SHARD_USER_MAX	255	/* bytes in a username */
#define MW_SHARD_NAME_MAX	64	/* bytes in a volume name */
#define MW_SHARD_VOLUMES_MAX	256	/* volumes in one spec */
#define MW_SHARD_WEIGHT_MAX	1000000	/* largest volume weight */
#define MW_SHARD_PATH_MAX	1024	/* bytes in a volume or user path */
#define MW_SHARD_LETTERS_MAX	8	/* letters:N, N at most */
#define MW_SHARD_ERR_MAX	256	/* room for an error text */

#define MW_SHARD_DEFAULT_LAYOUT	"hash:2:2"
#define MW_SHARD_MARKER		".mailshard-volume"

/* Why a user lives where it does. */
#define MW_SHARD_BY_HASH	0	/* rendezvous hashing over volumes */
#define MW_SHARD_BY_PIN_VOLUME	1	/* userdb mailshard_volume */
#define MW_SHARD_BY_PIN_PATH	2	/* userdb mailshard_path */

typedef struct MW_SHARD_VOLUME {
	char	name[MW_SHARD_NAME_MAX + 1];
	char	path[MW_SHARD_PATH_MAX];	/* normalised, no trailing / */
	unsigned weight;			/* 0: pins only */
	uint64_t name_hash;			/* mw_shard_hash(name) */
	size_t	path_len;			/* strlen(path) */
} MW_SHARD_VOLUME;

/* Volumes of one weight above 0, in list order (see pick_hashed()). */
typedef struct MW_SHARD_GROUP {
	unsigned weight;
	int	first;			/* index of the first in members */
	int	count;
} MW_SHARD_GROUP;

typedef struct MW_SHARD {
	MW_SHARD_VOLUME *volumes;
	int	count;
	MW_SHARD_GROUP *groups;		/* one per distinct weight above 0 */
	int	group_count;
	int    *members;		/* volume indexes, group by group */
	int	letters;		/* > 0: letters:N layout */
	int	levels;			/* hash:LEVELS:WIDTH layout */
	int	width;
} MW_SHARD;

typedef struct MW_SHARD_PLACE {
	const MW_SHARD_VOLUME *volume;	/* the volume holding path */
	int	reason;			/* MW_SHARD_BY_* */
	char	user[MW_SHARD_USER_MAX + 1];	/* normalised username */
	char	path[MW_SHARD_PATH_MAX];	/* the user's directory */
} MW_SHARD_PLACE;

extern uint64_t mw_shard_hash(const void *, size_t);
extern int mw_shard_normalize(const char *, size_t, char *, const char **);
extern int mw_shard_path_normalize(const char *, char *, const char **);
extern MW_SHARD *mw_shard_create(const char *, const char *, char *);
extern void mw_shard_free(MW_SHARD *);
extern int mw_shard_pick(const MW_SHARD *, const char *);
extern int mw_shard_pick_skip(const MW_SHARD *, const char *,
			              const unsigned char *);
extern MW_SHARD *mw_shard_create_set(const char *const *, const unsigned *,
				             int, char *);
extern int mw_shard_find(const MW_SHARD *, const char *);
extern int mw_shard_place(const MW_SHARD *, const char *, const char *,
			          const char *, MW_SHARD_PLACE *, char *);
extern const char *mw_shard_reason_name(int);

#endif
