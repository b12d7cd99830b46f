/*++
/* NAME
/*	mw_map 3h
/* SUMMARY
/*	in-memory string tables loaded from lists and files
/* SYNOPSIS
/*	#include "mw_map.h"
/* DESCRIPTION
/*	See mw_map.c.
/*--*/
#ifndef MW_MAP_H
#define MW_MAP_H

#include <stddef.h>

typedef struct mw_map mw_map;

#define MW_MAP_KEYS_ONLY	(1 << 0)	/* a set: no value after the key */
#define MW_MAP_LOWERCASE	(1 << 1)	/* fold keys to ASCII lower case */

extern mw_map *mw_map_create(int);
extern void mw_map_free(mw_map *);
extern int mw_map_put(mw_map *, const char *, const char *, char *, size_t);
extern const char *mw_map_get(const mw_map *, const char *);
extern size_t mw_map_count(const mw_map *);
extern int mw_map_load_file(mw_map *, const char *, char *, size_t);
extern int mw_map_load_list(mw_map *, const char *, char *, size_t);

#endif
