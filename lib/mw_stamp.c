/*++
/* NAME
/*	mw_stamp 3
/* SUMMARY
/*	keyed stamp: the spam score mailwarren-milter wrote for a message
/* SYNOPSIS
/*	#include "mw_stamp.h"
/*
/*	int	mw_stamp_key_parse(hex, key, err, errlen)
/*	const char *hex;
/*	struct mw_stamp_key *key;
/*	char	*err;
/*	size_t	errlen;
/*
/*	int	mw_stamp_key_load(path, key, err, errlen)
/*	const char *path;
/*
/*	int	mw_stamp_make(key, msgid, score, t, buf, len)
/*	const struct mw_stamp_key *key;
/*	const char *msgid;
/*	const char *score;
/*	long long t;
/*	char	*buf;
/*	size_t	len;
/*
/*	int	mw_stamp_verify(keys, nkeys, value, msgid, now, max_age, info, err, errlen)
/*	const struct mw_stamp_key *keys;
/*	size_t	nkeys;
/*	const char *value;
/*	const char *msgid;
/*	long long now;
/*	long long max_age;
/*	struct mw_stamp_info *info;
/* DESCRIPTION
/*	A stamp is the value of the X-Mailwarren-Stamp header that
/*	mailwarren-milter adds to a message it scored; the delivery side
/*	(spam_prefs) acts on the score in a stamp that verifies and on
/*	nothing else, so no header a sender or a local user can write is
/*	believed: the milter deletes every X-Spam-* and X-Mailwarren-Stamp
/*	header that arrives with a message, and mail that never passed the
/*	milter (local submission, pickup, another path in) has no valid
/*	stamp.  The value is
/* .nf
/*	v=1; t=UNIXTIME; score=SCORE; mac=16 HEX DIGITS
/* .fi
/*	where mac is SipHash-2-4 (mw_siphash24(), a keyed 64-bit PRF)
/*	under the site's 128-bit secret key of the bytes
/* .nf
/*	"mailwarren-stamp-v1" NUL UNIXTIME NUL SCORE NUL MSGID
/* .fi
/*	with UNIXTIME and SCORE exactly as in the value and MSGID the
/*	message's Message-ID header value with every space, tab, CR and LF
/*	removed (so the folding and the leading space the MTA or Dovecot
/*	show make no difference).  A stamp copied from one message onto
/*	another with a different Message-ID does not verify; a message
/*	with the same Message-ID and the copied stamp carries a score the
/*	milter gave to a message of that identity, which is the limit of
/*	this scheme (the body is not covered: MTAs may re-encode it).
/*	Forging a stamp means guessing a 64-bit value, one delivered
/*	message per guess.
/*
/*	mw_stamp_key_parse() reads a key written as 32 hexadecimal digits
/*	(16 bytes; "head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'"),
/*	with surrounding white space.  mw_stamp_key_load() reads it from
/*	the first line of path, which must be a regular file not readable
/*	or writable by others (the key is a secret shared by the milter
/*	and the delivery side only).
/*
/*	mw_stamp_make() writes the stamp for msgid (a Message-ID value;
/*	it must hold something besides white space), score (the score as
/*	written in X-Spam-Score: an optional minus, 1 to 7 digits, an
/*	optional point and 1 to 3 digits) and t into buf.
/*
/*	mw_stamp_verify() checks value (the header value as found) against
/*	msgid with each of nkeys keys (more than one while a key is being
/*	replaced) and, with max_age > 0, that the stamp is no older than
/*	max_age seconds before now and no more than 300 seconds after it.
/*	Every field must be there once, in any order, with no other field.
/*	It fills info on success.
/* DIAGNOSTICS
/*	The functions return 0, or -1 with one line in err (mw_stamp_make:
/*	-1 for a msgid or score it cannot stamp, or a short buf).
/*	mw_stamp_verify()'s reasons start with "malformed" (the value does
/*	not parse), "no Message-ID", "stale" or "bad mac" (forged, replayed
/*	onto another message, or another key).
/*--*/

/* System library. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Utility library. */

#include "mw_siphash.h"
#include "mw_stamp.h"

#define STAMP_DOMAIN	"mailwarren-stamp-v1"
#define STAMP_MSGID_MAX	998		/* RFC 5322 line length */
#define STAMP_SKEW	300		/* seconds a stamp may be in the future */

/* stamp_err - format an error */

static int
stamp_err(char *err, size_t errlen, const char *fmt,...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* stamp_hexval - value of a hex digit, or -1 */

static int
stamp_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* stamp_space - white space in a header value */

static int
stamp_space(int c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

/* mw_stamp_key_parse - 32 hex digits */

int
mw_stamp_key_parse(const char *hex, struct mw_stamp_key *key, char *err, size_t errlen)
{
	unsigned char b[16];
	const char *cp = hex;
	int	hi, lo, i;

	while (stamp_space(*cp))
		cp++;
	for (i = 0; i < 16; i++) {
		if ((hi = stamp_hexval(cp[0])) < 0 || (lo = stamp_hexval(cp[1])) < 0)
			return (stamp_err(err, errlen, "key: expected 32 hexadecimal digits"));
		b[i] = (unsigned char) (hi << 4 | lo);
		cp += 2;
	}
	while (stamp_space(*cp))
		cp++;
	if (*cp != '\0')
		return (stamp_err(err, errlen, "key: expected 32 hexadecimal digits, found more"));
	key->k0 = key->k1 = 0;
	for (i = 7; i >= 0; i--) {
		key->k0 = key->k0 << 8 | b[i];
		key->k1 = key->k1 << 8 | b[i + 8];
	}
	return (0);
}

/* mw_stamp_key_load - the key from a private file */

int
mw_stamp_key_load(const char *path, struct mw_stamp_key *key, char *err, size_t errlen)
{
	char	line[128];
	struct stat st;
	ssize_t	n;
	int	fd;
	char	why[160];

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return (stamp_err(err, errlen, "%s: %s", path, strerror(errno)));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (stamp_err(err, errlen, "%s: not a regular file", path));
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		close(fd);
		return (stamp_err(err, errlen, "%s: readable or writable by others (chmod o-rw): "
				  "the key is a secret", path));
	}
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n < 0)
		return (stamp_err(err, errlen, "%s: %s", path, strerror(errno)));
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (mw_stamp_key_parse(line, key, why, sizeof(why)) < 0)
		return (stamp_err(err, errlen, "%s: %s", path, why));
	return (0);
}

/* stamp_msgid - Message-ID without white space; 0, or -1 if empty/long */

static int
stamp_msgid(const char *msgid, char *buf, size_t len)
{
	size_t	j = 0;

	if (msgid == NULL)
		return (-1);
	for (; *msgid != '\0'; msgid++) {
		if (stamp_space(*msgid))
			continue;
		if (j + 1 >= len)
			return (-1);
		buf[j++] = *msgid;
	}
	buf[j] = '\0';
	return (j > 0 ? 0 : -1);
}

/* stamp_score_ok - the score syntax: -?D{1,7}(.D{1,3})? */

static int
stamp_score_ok(const char *s)
{
	size_t	n;

	if (*s == '-')
		s++;
	n = strspn(s, "0123456789");
	if (n < 1 || n > 7)
		return (0);
	s += n;
	if (*s == '\0')
		return (1);
	if (*s++ != '.')
		return (0);
	n = strspn(s, "0123456789");
	return (n >= 1 && n <= 3 && s[n] == '\0');
}

/* stamp_score_value - the value of a checked score, locale-free */

static double
stamp_score_value(const char *s)
{
	double	v = 0;
	double	scale = 1;
	int	neg = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (*s - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			v += (*s - '0') * (scale /= 10);
	return (neg ? -v : v);
}

/* stamp_mac - the keyed hash of the stamped fields */

static uint64_t
stamp_mac(const struct mw_stamp_key *key, const char *t, const char *score, const char *msgid)
{
	char	buf[sizeof(STAMP_DOMAIN) + 24 + MW_STAMP_SCORE_MAX + STAMP_MSGID_MAX + 4];
	size_t	n = 0;
	size_t	l;

	memcpy(buf, STAMP_DOMAIN, sizeof(STAMP_DOMAIN));	/* with its NUL */
	n = sizeof(STAMP_DOMAIN);
	l = strlen(t) + 1;
	memcpy(buf + n, t, l);
	n += l;
	l = strlen(score) + 1;
	memcpy(buf + n, score, l);
	n += l;
	l = strlen(msgid);
	memcpy(buf + n, msgid, l);
	n += l;
	return (mw_siphash24(key->k0, key->k1, buf, n));
}

/* mw_stamp_make - the header value */

int
mw_stamp_make(const struct mw_stamp_key *key, const char *msgid, const char *score,
	              long long t, char *buf, size_t len)
{
	char	id[STAMP_MSGID_MAX + 1];
	char	ts[24];
	int	n;

	if (stamp_msgid(msgid, id, sizeof(id)) < 0 || !stamp_score_ok(score) || t < 0)
		return (-1);
	snprintf(ts, sizeof(ts), "%lld", t);
	n = snprintf(buf, len, "v=1; t=%s; score=%s; mac=%016llx", ts, score,
		     (unsigned long long) stamp_mac(key, ts, score, id));
	return (n < 0 || (size_t) n >= len ? -1 : 0);
}

/* stamp_field - copy a field value: [^;\s]{1,max-1} */

static int
stamp_field(const char **cpp, char *buf, size_t len)
{
	const char *cp = *cpp;
	size_t	n = 0;

	while (*cp != '\0' && *cp != ';' && !stamp_space(*cp)) {
		if (n + 1 >= len)
			return (-1);
		buf[n++] = *cp++;
	}
	buf[n] = '\0';
	*cpp = cp;
	return (n > 0 ? 0 : -1);
}

/* mw_stamp_verify - is this the milter's stamp for this message? */

int
mw_stamp_verify(const struct mw_stamp_key *keys, size_t nkeys, const char *value,
		        const char *msgid, long long now, long long max_age,
		        struct mw_stamp_info *info, char *err, size_t errlen)
{
	char	v[8] = "", t[24] = "", score[MW_STAMP_SCORE_MAX] = "", mac[24] = "";
	char	id[STAMP_MSGID_MAX + 1];
	char	name[8];
	const char *cp = value;
	unsigned long long want = 0;
	unsigned long long diff;
	long long when;
	char   *slot;
	size_t	slen, i, n;
	char   *end;
	int	d;

	/* Fields: NAME=VALUE separated by ';', white space around each. */
	for (;;) {
		while (stamp_space(*cp))
			cp++;
		if (*cp == '\0')
			break;
		n = strcspn(cp, "=; \t\r\n");
		if (n == 0 || n >= sizeof(name) || cp[n] != '=')
			return (stamp_err(err, errlen, "malformed stamp: expected NAME=VALUE"));
		memcpy(name, cp, n);
		name[n] = '\0';
		cp += n + 1;
		if (strcmp(name, "v") == 0)
			slot = v, slen = sizeof(v);
		else if (strcmp(name, "t") == 0)
			slot = t, slen = sizeof(t);
		else if (strcmp(name, "score") == 0)
			slot = score, slen = sizeof(score);
		else if (strcmp(name, "mac") == 0)
			slot = mac, slen = sizeof(mac);
		else
			return (stamp_err(err, errlen, "malformed stamp: unknown field \"%s\"", name));
		if (*slot != '\0')
			return (stamp_err(err, errlen, "malformed stamp: field %s twice", name));
		if (stamp_field(&cp, slot, slen) < 0)
			return (stamp_err(err, errlen, "malformed stamp: bad value of %s", name));
		while (stamp_space(*cp))
			cp++;
		if (*cp == ';')
			cp++;
		else if (*cp != '\0')
			return (stamp_err(err, errlen, "malformed stamp: expected ';' after %s", name));
	}
	if (strcmp(v, "1") != 0)
		return (stamp_err(err, errlen, "malformed stamp: %s", v[0] ? "unknown version" : "no v=1"));
	if (t[0] == '\0' || score[0] == '\0' || mac[0] == '\0')
		return (stamp_err(err, errlen, "malformed stamp: missing %s",
				  t[0] == '\0' ? "t" : score[0] == '\0' ? "score" : "mac"));
	if (strspn(t, "0123456789") != strlen(t) || strlen(t) > 18 || (t[0] == '0' && t[1] != '\0'))
		return (stamp_err(err, errlen, "malformed stamp: bad time"));
	if (!stamp_score_ok(score))
		return (stamp_err(err, errlen, "malformed stamp: bad score"));
	if (strlen(mac) != 16)
		return (stamp_err(err, errlen, "malformed stamp: mac is not 16 hex digits"));
	for (i = 0; i < 16; i++) {
		if ((d = stamp_hexval(mac[i])) < 0 || (mac[i] >= 'A' && mac[i] <= 'F'))
			return (stamp_err(err, errlen, "malformed stamp: mac is not 16 hex digits"));
		want = want << 4 | (unsigned) d;
	}
	if (stamp_msgid(msgid, id, sizeof(id)) < 0)
		return (stamp_err(err, errlen, "no Message-ID to check the stamp against"));
	when = strtoll(t, &end, 10);
	if (max_age > 0 && (when > now + STAMP_SKEW || now - when > max_age))
		return (stamp_err(err, errlen, "stale stamp: made at %lld, now %lld", when, now));
	for (i = 0; i < nkeys; i++) {
		/* constant time: no early exit inside the comparison */
		diff = stamp_mac(&keys[i], t, score, id) ^ want;
		if (diff == 0) {
			if (info != NULL) {
				info->t = when;
				info->score = stamp_score_value(score);
				memcpy(info->score_text, score, sizeof(info->score_text));
			}
			return (0);
		}
	}
	return (stamp_err(err, errlen, "bad mac: the stamp was not made for this message with this key"));
}
