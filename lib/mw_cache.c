/*++
/* NAME
/*	mw_cache 3
/* SUMMARY
/*	bounded cache of answers with expiry
/* SYNOPSIS
/*	#include "mw_cache.h"
/*
/*	mw_cache *mw_cache_create(max_entries)
/*	size_t	max_entries;
/*
/*	void	mw_cache_free(cache)
/*	mw_cache *cache;
/*
/*	int	mw_cache_get(cache, key, now, value)
/*	const char *key;
/*	time_t	now;
/*	int	*value;
/*
/*	int	mw_cache_put(cache, key, value, expires)
/*	int	value;
/*	time_t	expires;
/*
/*	int	mw_cache_get_data(cache, key, now, value, buf, len, dlen)
/*	char	*buf;
/*	size_t	len;
/*	size_t	*dlen;
/*
/*	int	mw_cache_put_data(cache, key, value, data, dlen, expires)
/*	const void *data;
/*	size_t	dlen;
/*
/*	size_t	mw_cache_expire(cache, now)
/*
/*	void	mw_cache_clear(cache)
/*
/*	size_t	mw_cache_count(cache)
/* DESCRIPTION
/*	A cache remembers a small integer answer per string key until the
/*	answer's own expiry time, so that positive and negative answers
/*	may live for different times.  It never holds more than
/*	max_entries (at least 1): putting a new key into a full cache
/*	first forgets the oldest entry.  Keys are compared exactly (the
/*	caller normalizes them).
/*
/*	mw_cache_get() returns 1 and sets *value when key has an answer
/*	that has not expired at now, else 0 (an expired entry is dropped
/*	on the way).  mw_cache_put() stores or replaces the answer for key
/*	(a replaced entry counts as new for the oldest-first order); it
/*	returns -1 when out of memory, leaving the cache as it was.
/*	mw_cache_put_data() stores dlen bytes of data with the answer
/*	(a copy, in the entry's own memory), and mw_cache_get_data() copies
/*	them into buf (*dlen set to their size; an answer whose data do not
/*	fit in len bytes counts as absent); mw_cache_get() and
/*	mw_cache_put() are the same without data.
/*	mw_cache_expire() drops every entry expired at now and returns
/*	how many; mw_cache_clear() drops everything.
/*
/*	Not thread-safe: one event loop owns a cache.
/*--*/

/* System library. */

#include "config.h"

#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "mw_cache.h"
#include "mw_str.h"

struct cache_ent {
	struct cache_ent *hnext;	/* hash chain */
	struct cache_ent *older;	/* insertion order */
	struct cache_ent *newer;
	time_t	expires;
	int	value;
	size_t	hash;
	size_t	dlen;			/* data after the key's NUL */
	char	key[];
};

struct mw_cache {
	struct cache_ent **bucket;
	size_t	nbuckets;		/* power of two, >= max */
	size_t	count;
	size_t	max;
	struct cache_ent *oldest;
	struct cache_ent *newest;
};

/* mw_cache_create - an empty cache for at most max entries */

mw_cache *
mw_cache_create(size_t max)
{
	mw_cache *c;
	size_t	n = 16;

	if (max == 0)
		max = 1;
	while (n < max && n < ((size_t) 1 << 30))
		n <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	if ((c->bucket = calloc(n, sizeof(*c->bucket))) == NULL) {
		free(c);
		return (NULL);
	}
	c->nbuckets = n;
	c->max = max;
	return (c);
}

/* cache_find - the link that points at key's entry, or at NULL */

static struct cache_ent **
cache_find(mw_cache *c, const char *key, size_t hash)
{
	struct cache_ent **pp = &c->bucket[hash & (c->nbuckets - 1)];

	while (*pp != NULL && ((*pp)->hash != hash || strcmp((*pp)->key, key) != 0))
		pp = &(*pp)->hnext;
	return (pp);
}

/* cache_drop - unlink and free one entry */

static void
cache_drop(mw_cache *c, struct cache_ent *e)
{
	struct cache_ent **pp = cache_find(c, e->key, e->hash);

	*pp = e->hnext;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	c->count--;
	free(e);
}

/* mw_cache_get_data - a live answer for key, with its data */

int
mw_cache_get_data(mw_cache *c, const char *key, time_t now, int *value, void *buf,
		          size_t len, size_t *dlen)
{
	struct cache_ent *e = *cache_find(c, key, (size_t) mw_hash(key, strlen(key)));

	if (e == NULL)
		return (0);
	if (e->expires <= now) {
		cache_drop(c, e);
		return (0);
	}
	if (e->dlen > len)
		return (0);
	if (e->dlen > 0)
		memcpy(buf, e->key + strlen(e->key) + 1, e->dlen);
	if (dlen != NULL)
		*dlen = e->dlen;
	*value = e->value;
	return (1);
}

/* mw_cache_get - a live answer for key */

int
mw_cache_get(mw_cache *c, const char *key, time_t now, int *value)
{
	return (mw_cache_get_data(c, key, now, value, NULL, 0, NULL));
}

/* mw_cache_put_data - remember an answer and its data until expires */

int
mw_cache_put_data(mw_cache *c, const char *key, int value, const void *data, size_t dlen,
		          time_t expires)
{
	size_t	len = strlen(key);
	size_t	hash = (size_t) mw_hash(key, len);
	struct cache_ent *e;

	if ((e = *cache_find(c, key, hash)) != NULL)
		cache_drop(c, e);
	if ((e = malloc(sizeof(*e) + len + 1 + dlen)) == NULL)
		return (-1);
	if (c->count >= c->max)
		cache_drop(c, c->oldest);
	memcpy(e->key, key, len + 1);
	if (dlen > 0)
		memcpy(e->key + len + 1, data, dlen);
	e->dlen = dlen;
	e->hash = hash;
	e->value = value;
	e->expires = expires;
	e->hnext = c->bucket[hash & (c->nbuckets - 1)];
	c->bucket[hash & (c->nbuckets - 1)] = e;
	e->newer = NULL;
	e->older = c->newest;
	if (c->newest)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
	c->count++;
	return (0);
}

/* mw_cache_put - remember an answer until expires */

int
mw_cache_put(mw_cache *c, const char *key, int value, time_t expires)
{
	return (mw_cache_put_data(c, key, value, NULL, 0, expires));
}

/* mw_cache_expire - drop what has expired */

size_t
mw_cache_expire(mw_cache *c, time_t now)
{
	struct cache_ent *e;
	struct cache_ent *next;
	size_t	n = 0;

	for (e = c->oldest; e != NULL; e = next) {
		next = e->newer;
		if (e->expires <= now) {
			cache_drop(c, e);
			n++;
		}
	}
	return (n);
}

/* mw_cache_clear - forget everything */

void
mw_cache_clear(mw_cache *c)
{
	struct cache_ent *e;
	struct cache_ent *next;

	for (e = c->oldest; e != NULL; e = next) {
		next = e->newer;
		free(e);
	}
	memset(c->bucket, 0, c->nbuckets * sizeof(*c->bucket));
	c->oldest = c->newest = NULL;
	c->count = 0;
}

/* mw_cache_count - entries held, expired or not */

size_t
mw_cache_count(const mw_cache *c)
{
	return (c->count);
}

/* mw_cache_free - release everything */

void
mw_cache_free(mw_cache *c)
{
	if (c == NULL)
		return;
	mw_cache_clear(c);
	free(c->bucket);
	free(c);
}
