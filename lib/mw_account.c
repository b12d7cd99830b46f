/*++
/* NAME
/*	mw_account 3
/* SUMMARY
/*	a login's relay facts from the directory, and their cache
/* SYNOPSIS
/*	#include "mw_account.h"
/*
/*	void	mw_account_from_reply(acct, result, line)
/*	struct mw_account *acct;
/*	int	result;
/*	const char *line;
/*
/*	int	mw_account_owns(acct, sender)
/*	const struct mw_account *acct;
/*	const char *sender;
/*
/*	mw_account_cache *mw_account_cache_create(max_entries)
/*	size_t	max_entries;
/*
/*	int	mw_account_cache_get(cache, login, now, acct)
/*	mw_account_cache *cache;
/*	const char *login;
/*	time_t	now;
/*
/*	void	mw_account_cache_put(cache, login, acct, positive, negative)
/*	time_t	positive;
/*	time_t	negative;
/*
/*	void	mw_account_cache_clear(cache)
/*
/*	size_t	mw_account_cache_expire(cache, now)
/*
/*	void	mw_account_cache_free(cache)
/* DESCRIPTION
/*	The relay decision (mw_relay(3)) may take sender ownership and
/*	suspension of a SASL login from Dovecot's userdb, answered by
/*	mw_userdb(3), instead of the flat tables.  Three userdb fields
/*	(LDAP attributes or SQL columns behind Dovecot) carry them:
/* .IP mailwarren_senders
/*	the addresses and @domains the login may send as, separated by
/*	spaces and/or commas;
/* .IP mailwarren_suspended
/*	"yes" or "no" (absent: no);
/* .IP mailwarren_customer
/*	the login's customer id (optional), for suspension by customer
/*	and rate limits by customer, as the customer networks give.
/* .PP
/*	mw_account_from_reply() fills acct from a lookup's result
/*	(MW_USERDB_FOUND, MW_USERDB_NOTFOUND, anything else a failure) and,
/*	when found, its USER line.  Values are checked, not trusted:
/*	a value with a control byte or a Dovecot tab-escape (\001: an
/*	escaped TAB, CR, LF or NUL), a byte outside printable ASCII in a
/*	sender or customer, a sender entry without "@" or longer than 320
/*	bytes, more than MW_ACCOUNT_SENDERS_N entries or
/*	MW_ACCOUNT_SENDERS_MAX bytes, a customer id of MW_ACCOUNT_ID_MAX
/*	bytes or more, or a mailwarren_suspended other than yes or no
/*	(case-insensitive) makes the status MW_ACCOUNT_INVALID, with the
/*	field's name in acct->field and the reason in acct->why.  The
/*	sender entries are kept lowercased, one space apart.
/*
/*	mw_account_owns() is true when the login may send as sender
/*	(compared case-insensitively): sender is one of its entries, or
/*	sender without its +extension is ("user+tag@d" as "user@d"), or
/*	"@domain" of sender is.  The null sender is not the caller's
/*	question.
/*
/*	The cache remembers found accounts until positive and unknown
/*	logins until negative (absolute times; a time not later than now
/*	stores nothing); failures and invalid answers are never cached, so
/*	a repaired entry counts at once.  It holds at most max_entries
/*	logins (the oldest is forgotten first) and is safe to share
/*	between threads (one mutex).  mw_account_cache_get() returns 1 and
/*	fills acct when login has a live entry.
/* SEE ALSO
/*	mw_userdb(3), mw_relay(3), mw_cache(3)
/*--*/

/* System library. */

#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Utility library. */

#include "mw_account.h"
#include "mw_cache.h"
#include "mw_str.h"
#include "mw_userdb.h"

#define ACCOUNT_ENTRY_MAX	320	/* 64 + @ + 255, with room */

/* account_invalid - refuse a field */

static void
account_invalid(struct mw_account *a, const char *field, const char *why)
{
	a->status = MW_ACCOUNT_INVALID;
	a->field = field;
	a->why = why;
}

/* account_clean - no control byte, no escape; printable ASCII when strict */

static const char *
account_clean(const char *v, size_t len, int strict)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char) v[i];

		if (ch == '\001')
			return ("a tab-escaped control character");
		if (ch < 0x20 || ch == 0x7f)
			return ("a control character");
		if (strict && ch > 0x7f)
			return ("a byte that is not printable ASCII");
	}
	return (NULL);
}

/* account_senders - the normalized list; 0, or -1 with why */

static int
account_senders(struct mw_account *a, const char *v, size_t len, const char **why)
{
	size_t	out = 0;
	size_t	n = 0;
	size_t	i = 0;
	size_t	elen;

	while (i < len) {
		if (v[i] == ' ' || v[i] == ',') {
			i++;
			continue;
		}
		for (elen = 0; i + elen < len && v[i + elen] != ' ' && v[i + elen] != ','; elen++)
			 /* void */ ;
		if (elen > ACCOUNT_ENTRY_MAX) {
			*why = "an entry longer than 320 bytes";
			return (-1);
		}
		if (memchr(v + i, '@', elen) == NULL) {
			*why = "an entry that is not an address or @domain";
			return (-1);
		}
		if (++n > MW_ACCOUNT_SENDERS_N) {
			*why = "more than 256 entries";
			return (-1);
		}
		if (out + elen + 2 > sizeof(a->senders)) {
			*why = "a list longer than 4095 bytes";
			return (-1);
		}
		if (out > 0)
			a->senders[out++] = ' ';
		memcpy(a->senders + out, v + i, elen);
		out += elen;
		i += elen;
	}
	a->senders[out] = '\0';
	mw_lowercase(a->senders);
	return (0);
}

/* mw_account_from_reply - the facts of one lookup, checked */

void
mw_account_from_reply(struct mw_account *a, int result, const char *line)
{
	const char *v;
	const char *why;
	size_t	len;

	memset(a, 0, sizeof(*a));
	if (result == MW_USERDB_NOTFOUND) {
		a->status = MW_ACCOUNT_NOTFOUND;
		return;
	}
	if (result != MW_USERDB_FOUND || line == NULL) {
		a->status = MW_ACCOUNT_FAIL;
		return;
	}
	a->status = MW_ACCOUNT_FOUND;

	if ((v = mw_userdb_field(line, MW_ACCOUNT_F_SENDERS, &len)) != NULL) {
		if ((why = account_clean(v, len, 1)) != NULL
		    || account_senders(a, v, len, &why) < 0) {
			account_invalid(a, MW_ACCOUNT_F_SENDERS, why);
			return;
		}
	}
	if ((v = mw_userdb_field(line, MW_ACCOUNT_F_SUSPENDED, &len)) != NULL) {
		if (len == 3 && strncasecmp(v, "yes", 3) == 0) {
			a->suspended = 1;
		} else if (!(len == 2 && strncasecmp(v, "no", 2) == 0)) {
			account_invalid(a, MW_ACCOUNT_F_SUSPENDED, "neither yes nor no");
			return;
		}
	}
	if ((v = mw_userdb_field(line, MW_ACCOUNT_F_CUSTOMER, &len)) != NULL) {
		if ((why = account_clean(v, len, 1)) != NULL || memchr(v, ' ', len) != NULL) {
			account_invalid(a, MW_ACCOUNT_F_CUSTOMER, why ? why : "a space");
			return;
		}
		if (len >= sizeof(a->customer)) {
			account_invalid(a, MW_ACCOUNT_F_CUSTOMER, "longer than 255 bytes");
			return;
		}
		memcpy(a->customer, v, len);
		a->customer[len] = '\0';
	}
}

/* account_listed - is entry (len bytes) one of the login's senders */

static int
account_listed(const char *senders, const char *entry, size_t len)
{
	const char *cp = senders;
	size_t	elen;

	while (*cp != '\0') {
		elen = strcspn(cp, " ");
		if (elen == len && strncasecmp(cp, entry, len) == 0)
			return (1);
		cp += elen;
		if (*cp == ' ')
			cp++;
	}
	return (0);
}

/* mw_account_owns - may the login send as sender */

int
mw_account_owns(const struct mw_account *a, const char *sender)
{
	const char *at = strrchr(sender, '@');
	const char *plus;
	char	key[2 * ACCOUNT_ENTRY_MAX];

	if (a->status != MW_ACCOUNT_FOUND || *a->senders == '\0')
		return (0);
	if (account_listed(a->senders, sender, strlen(sender)))
		return (1);
	if (at == NULL)
		return (0);
	if ((plus = memchr(sender, '+', (size_t) (at - sender))) != NULL && plus > sender
	    && (size_t) (plus - sender) + strlen(at) < sizeof(key)) {
		memcpy(key, sender, (size_t) (plus - sender));
		strcpy(key + (plus - sender), at);
		if (account_listed(a->senders, key, strlen(key)))
			return (1);
	}
	return (account_listed(a->senders, at, strlen(at)));
}

/*
 * The cache: an mw_cache (answer = status) whose data are
 * "S" or "-" (suspended), the customer, NUL, the senders, NUL.
 */
struct mw_account_cache {
	pthread_mutex_t lock;
	mw_cache *cache;
};

/* mw_account_cache_create - an empty cache */

mw_account_cache *
mw_account_cache_create(size_t max)
{
	mw_account_cache *ac;

	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return (NULL);
	if ((ac->cache = mw_cache_create(max)) == NULL) {
		free(ac);
		return (NULL);
	}
	(void) pthread_mutex_init(&ac->lock, NULL);
	return (ac);
}

/* mw_account_cache_get - a live entry for login */

int
mw_account_cache_get(mw_account_cache *ac, const char *login, time_t now, struct mw_account *a)
{
	char	buf[1 + MW_ACCOUNT_ID_MAX + MW_ACCOUNT_SENDERS_MAX + 1];
	size_t	dlen = 0;
	size_t	clen;
	int	status;
	int	hit;

	if (ac == NULL)
		return (0);
	(void) pthread_mutex_lock(&ac->lock);
	hit = mw_cache_get_data(ac->cache, login, now, &status, buf, sizeof(buf), &dlen);
	(void) pthread_mutex_unlock(&ac->lock);
	if (!hit || dlen < 3)
		return (0);
	memset(a, 0, sizeof(*a));
	a->status = status;
	a->suspended = buf[0] == 'S';
	clen = strlen(buf + 1);
	memcpy(a->customer, buf + 1, clen + 1);
	mw_strlcpy(a->senders, buf + 1 + clen + 1, sizeof(a->senders));
	return (1);
}

/* mw_account_cache_put - remember a found or unknown login */

void
mw_account_cache_put(mw_account_cache *ac, const char *login, const struct mw_account *a,
		             time_t positive, time_t negative)
{
	char	buf[1 + MW_ACCOUNT_ID_MAX + MW_ACCOUNT_SENDERS_MAX + 1];
	size_t	clen = strlen(a->customer);
	size_t	slen = strlen(a->senders);
	time_t	expires;

	if (ac == NULL || (a->status != MW_ACCOUNT_FOUND && a->status != MW_ACCOUNT_NOTFOUND))
		return;
	expires = a->status == MW_ACCOUNT_FOUND ? positive : negative;
	buf[0] = a->suspended ? 'S' : '-';
	memcpy(buf + 1, a->customer, clen + 1);
	memcpy(buf + 1 + clen + 1, a->senders, slen + 1);
	(void) pthread_mutex_lock(&ac->lock);
	if (expires > time(NULL))
		(void) mw_cache_put_data(ac->cache, login, a->status, buf, 1 + clen + 1 + slen + 1,
					 expires);
	(void) pthread_mutex_unlock(&ac->lock);
}

/* mw_account_cache_clear - forget everything (reload) */

void
mw_account_cache_clear(mw_account_cache *ac)
{
	if (ac == NULL)
		return;
	(void) pthread_mutex_lock(&ac->lock);
	mw_cache_clear(ac->cache);
	(void) pthread_mutex_unlock(&ac->lock);
}

/* mw_account_cache_expire - drop expired entries */

size_t
mw_account_cache_expire(mw_account_cache *ac, time_t now)
{
	size_t	n;

	if (ac == NULL)
		return (0);
	(void) pthread_mutex_lock(&ac->lock);
	n = mw_cache_expire(ac->cache, now);
	(void) pthread_mutex_unlock(&ac->lock);
	return (n);
}

/* mw_account_cache_free - release */

void
mw_account_cache_free(mw_account_cache *ac)
{
	if (ac == NULL)
		return;
	mw_cache_free(ac->cache);
	(void) pthread_mutex_destroy(&ac->lock);
	free(ac);
}
