/*++
/* NAME
/*	mw_rate 3
/* SUMMARY
/*	sliding-window rate counters in memory
/* SYNOPSIS
/*	#include "mw_rate.h"
/*
/*	int	mw_rate_parse(spec, limits, err, errlen)
/*	const char *spec;
/*	struct mw_rate_limits *limits;
/*
/*	const char *mw_rate_str(limits, buf, len)
/*
/*	mw_rate	*mw_rate_create(void)
/*
/*	void	mw_rate_free(rate)
/*
/*	int	mw_rate_over(rate, key, limits, amount, now, count, window)
/*	mw_rate	*rate;
/*	const char *key;
/*	unsigned long long amount;
/*	time_t	now;
/*	unsigned long long *count;
/*	size_t	*window;
/*
/*	int	mw_rate_add(rate, key, limits, amount, now)
/*
/*	size_t	mw_rate_expire(rate, now)
/*
/*	size_t	mw_rate_count(rate)
/* DESCRIPTION
/*	Rate limits are written "LIMIT/TIME[, LIMIT/TIME...]", for example
/*	"100/1m, 1000/1h": at most 100 events in any minute and 1000 in
/*	any hour.  TIME is a number with an optional unit s, m, h or d; a
/*	bare unit means one of it ("100/m").  At most MW_RATE_WINDOWS_MAX
/*	windows.  mw_rate_parse() reads that form; mw_rate_str() writes
/*	it back.
/*
/*	Counters are kept per key (the caller builds keys such as
/*	"m:cust42") and per window length.  Each window is a SLIDING window
/*	of MW_RATE_BUCKETS buckets: the count is the sum of the buckets
/*	that lie within the last window length, so unlike fixed windows
/*	a burst at the edge of two windows cannot pass twice the limit;
/*	the error is at most one bucket (a tenth of the window).
/*
/*	mw_rate_over() tells whether adding amount events now would take
/*	any window of key above its limit, without counting them; it
/*	returns 1 and sets *count (the events already counted) and *window
/*	(the index in limits) for the first such window, else 0.
/*	mw_rate_add() counts amount events in every window.  Refused
/*	attempts are thus not counted, as long as the caller only adds
/*	after a successful check.
/*
/*	mw_rate_expire() forgets counters whose windows have passed
/*	completely and returns how many are left; call it now and then.
/* DIAGNOSTICS
/*	mw_rate_parse() returns 0 or -1 with a reason in err.
/*	mw_rate_add() returns -1 when out of memory (nothing is counted).
/*	mw_rate_create() returns NULL when out of memory.
/*--*/

/* System library. */

#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "mw_rate.h"
#include "mw_str.h"

#define RATE_KEY_MAX	300

struct rate_counter {
	char   *key;			/* "key|seconds"; NULL = empty slot */
	unsigned long long seconds;	/* window length */
	long long newest;		/* index of the newest bucket */
	unsigned long long bucket[MW_RATE_BUCKETS];
	int	dead;			/* deleted (tombstone) */
};

struct mw_rate {
	struct rate_counter *slots;
	size_t	size;			/* power of two */
	size_t	used;			/* live + dead */
	size_t	live;
};

/* mw_rate_parse - "100/1m, 1000/1h" */

int
mw_rate_parse(const char *spec, struct mw_rate_limits *limits, char *err, size_t errlen)
{
	static const char units[] = "smhd";
	static const unsigned long long factor[] = {1, 60, 3600, 86400};
	unsigned long long limit;
	unsigned long long num;
	const char *cp = spec;
	const char *end;
	const char *unit;
	int	rc;

	memset(limits, 0, sizeof(*limits));
	for (;;) {
		cp += strspn(cp, ", \t");
		if (*cp == '\0')
			break;
		if (limits->n == MW_RATE_WINDOWS_MAX)
			return (mw_err(err, errlen, "more than %d windows", MW_RATE_WINDOWS_MAX));
		if (mw_parse_ull(cp, &limit, &end) != 0 || *end != '/')
			return (mw_err(err, errlen, "bad rate \"%s\" (expected LIMIT/TIME, e.g. 100/1m)", spec));
		cp = end + 1;
		if ((rc = mw_parse_ull(cp, &num, &end)) == -1) {
			num = 1;
			end = cp;
		} else if (rc != 0 || num == 0 || num > 366ULL * 86400) {
			return (mw_err(err, errlen, "bad rate \"%s\" (time out of range)", spec));
		}
		if (*end == '\0' || *end == ',' || *end == ' ' || *end == '\t') {
			unit = units;
		} else if ((unit = strchr(units, *end)) == NULL || *unit == '\0') {
			return (mw_err(err, errlen, "bad rate \"%s\" (time unit must be s, m, h or d)", spec));
		} else {
			end++;
		}
		if (*end != '\0' && *end != ',' && *end != ' ' && *end != '\t')
			return (mw_err(err, errlen, "bad rate \"%s\" (expected LIMIT/TIME, e.g. 100/1m)", spec));
		if (num * factor[unit - units] > 366ULL * 86400)
			return (mw_err(err, errlen, "bad rate \"%s\" (window longer than a year)", spec));
		limits->w[limits->n].limit = limit;
		limits->w[limits->n].seconds = num * factor[unit - units];
		limits->n++;
		cp = end;
	}
	return (0);
}

/* mw_rate_str - canonical text of limits */

const char *
mw_rate_str(const struct mw_rate_limits *limits, char *buf, size_t len)
{
	size_t	i;
	size_t	off = 0;

	buf[0] = '\0';
	for (i = 0; i < limits->n && off < len; i++)
		off += (size_t) snprintf(buf + off, len - off, "%s%llu/%llus", i ? ", " : "",
					 limits->w[i].limit, limits->w[i].seconds);
	return (buf);
}

/* rate_find - counter slot of key, or where it goes (reusing no tombstone) */

static struct rate_counter *
rate_find(const mw_rate *rate, const char *key)
{
	size_t	mask = rate->size - 1;
	size_t	i = (size_t) mw_hash(key, strlen(key)) & mask;

	while (rate->slots[i].key != NULL && (rate->slots[i].dead || strcmp(rate->slots[i].key, key) != 0))
		i = (i + 1) & mask;
	return (&rate->slots[i]);
}

/* rate_rehash - rebuild into size slots, dropping tombstones */

static int
rate_rehash(mw_rate *rate, size_t size)
{
	struct rate_counter *old = rate->slots;
	size_t	old_size = rate->size;
	size_t	i;

	if ((rate->slots = calloc(size, sizeof(*old))) == NULL) {
		rate->slots = old;
		return (-1);
	}
	rate->size = size;
	rate->used = rate->live = 0;
	for (i = 0; i < old_size; i++) {
		if (old[i].key == NULL)
			continue;
		if (old[i].dead) {
			free(old[i].key);
			continue;
		}
		*rate_find(rate, old[i].key) = old[i];
		rate->used++;
		rate->live++;
	}
	free(old);
	return (0);
}

/* mw_rate_create - empty store */

mw_rate *
mw_rate_create(void)
{
	mw_rate *rate;

	if ((rate = calloc(1, sizeof(*rate))) == NULL)
		return (NULL);
	rate->size = 64;
	if ((rate->slots = calloc(rate->size, sizeof(*rate->slots))) == NULL) {
		free(rate);
		return (NULL);
	}
	return (rate);
}

/* mw_rate_free - release the store */

void
mw_rate_free(mw_rate *rate)
{
	size_t	i;

	if (rate == NULL)
		return;
	for (i = 0; i < rate->size; i++)
		free(rate->slots[i].key);
	free(rate->slots);
	free(rate);
}

/* mw_rate_count - number of live counters */

size_t
mw_rate_count(const mw_rate *rate)
{
	return (rate->live);
}

/* rate_width - bucket width in seconds (at least 1) */

static unsigned long long
rate_width(unsigned long long seconds)
{
	unsigned long long width = seconds / MW_RATE_BUCKETS;

	return (width > 0 ? width : 1);
}

/* rate_advance - move a counter to bucket index "now", zeroing what passed */

static void
rate_advance(struct rate_counter *c, long long now_idx)
{
	long long i;

	if (now_idx <= c->newest)
		return;
	if (now_idx - c->newest >= MW_RATE_BUCKETS) {
		memset(c->bucket, 0, sizeof(c->bucket));
	} else {
		for (i = c->newest + 1; i <= now_idx; i++)
			c->bucket[i % MW_RATE_BUCKETS] = 0;
	}
	c->newest = now_idx;
}

/* rate_sum - events in the window ending at bucket now_idx */

static unsigned long long
rate_sum(const struct rate_counter *c, long long now_idx)
{
	unsigned long long sum = 0;
	long long i;

	for (i = now_idx - MW_RATE_BUCKETS + 1; i <= now_idx; i++)
		if (i <= c->newest && i > c->newest - MW_RATE_BUCKETS)
			sum += c->bucket[((i % MW_RATE_BUCKETS) + MW_RATE_BUCKETS) % MW_RATE_BUCKETS];
	return (sum);
}

/* rate_key - "key|seconds" */

static int
rate_key(char *buf, size_t len, const char *key, unsigned long long seconds)
{
	return (snprintf(buf, len, "%s|%llu", key, seconds) < (int) len ? 0 : -1);
}

/* mw_rate_over - would amount more events exceed a window */

int
mw_rate_over(mw_rate *rate, const char *key, const struct mw_rate_limits *limits,
	     unsigned long long amount, time_t now, unsigned long long *count,
	     size_t *window)
{
	char	buf[RATE_KEY_MAX + 32];
	const struct rate_counter *c;
	unsigned long long have;
	size_t	i;

	for (i = 0; i < limits->n; i++) {
		have = 0;
		if (rate_key(buf, sizeof(buf), key, limits->w[i].seconds) == 0
		    && (c = rate_find(rate, buf))->key != NULL)
			have = rate_sum(c, (long long) now / (long long) rate_width(limits->w[i].seconds));
		if (have + amount > limits->w[i].limit) {
			*count = have;
			*window = i;
			return (1);
		}
	}
	return (0);
}

/* mw_rate_add - count events in every window */

int
mw_rate_add(mw_rate *rate, const char *key, const struct mw_rate_limits *limits,
	    unsigned long long amount, time_t now)
{
	char	buf[RATE_KEY_MAX + 32];
	struct rate_counter *c;
	long long idx;
	size_t	i;

	for (i = 0; i < limits->n; i++) {
		if (rate_key(buf, sizeof(buf), key, limits->w[i].seconds) < 0)
			return (-1);
		if ((rate->used + 1) * 2 > rate->size
		    && rate_rehash(rate, rate->live * 4 > rate->size ? rate->size * 2 : rate->size) < 0)
			return (-1);
		idx = (long long) now / (long long) rate_width(limits->w[i].seconds);
		c = rate_find(rate, buf);
		if (c->key == NULL) {
			if ((c->key = strdup(buf)) == NULL)
				return (-1);
			c->seconds = limits->w[i].seconds;
			c->newest = idx;
			c->dead = 0;
			memset(c->bucket, 0, sizeof(c->bucket));
			rate->used++;
			rate->live++;
		}
		rate_advance(c, idx);
		c->bucket[idx % MW_RATE_BUCKETS] += amount;
	}
	return (0);
}

/* mw_rate_expire - forget counters whose window has passed */

size_t
mw_rate_expire(mw_rate *rate, time_t now)
{
	struct rate_counter *c;
	size_t	i;

	for (i = 0; i < rate->size; i++) {
		c = &rate->slots[i];
		if (c->key == NULL || c->dead)
			continue;
		if ((long long) now / (long long) rate_width(c->seconds) - c->newest >= MW_RATE_BUCKETS) {
			c->dead = 1;
			rate->live--;
		}
	}
	if (rate->used > rate->live * 2 + 64)
		(void) rate_rehash(rate, rate->size);
	return (rate->live);
}
