/*++
/* NAME
/*	mw_cache 3h
/* SUMMARY
/*	bounded cache of answers with expiry
/* SYNOPSIS
/*	#include "mw_cache.h"
/* DESCRIPTION
/*	See mw_cache.c.
/*--*/
#ifndef MW_CACHE_H
#define MW_CACHE_H

#include <stddef.h>
#include <time.h>

typedef struct mw_cache mw_cache;

extern mw_cache *mw_cache_create(size_t);
extern void mw_cache_free(mw_cache *);
extern int mw_cache_get(mw_cache *, const char *, time_t, int *);
extern int mw_cache_put(mw_cache *, const char *, int, time_t);
extern int mw_cache_get_data(mw_cache *, const char *, time_t, int *, void *, size_t, size_t *);
extern int mw_cache_put_data(mw_cache *, const char *, int, const void *, size_t, time_t);
extern size_t mw_cache_expire(mw_cache *, time_t);
extern void mw_cache_clear(mw_cache *);
extern size_t mw_cache_count(const mw_cache *);

#endif
