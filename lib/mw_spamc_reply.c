/*++
/* NAME
/*	mw_spamc_reply 3
/* SUMMARY
/*	parse a spamd SPAMC/1.5 reply
/* SYNOPSIS
/*	#include "mw_spamc.h"
/*
/*	int	mw_spamc_parse_reply(buf, len, res, err, errlen)
/*	const char *buf;
/*	size_t	len;
/*	struct mw_spamc_result *res;
/*	char	*err;
/*	size_t	errlen;
/*
/*	int	mw_spamc_user_ok(user)
/*	const char *user;
/* DESCRIPTION
/*	mw_spamc_parse_reply() parses the complete reply of spamd to a
/*	CHECK or SYMBOLS request (everything up to the server's close),
/*	as spamd/PROTOCOL of SpamAssassin describes it:
/* .nf
/*	SPAMD/1.1 0 EX_OK CRLF
/*	Content-length: 27 CRLF		(SYMBOLS only)
/*	Spam: True ; 1000.0 / 5.0 CRLF
/*	CRLF
/*	GTUBE,NO_RECEIVED,NO_RELAYS	(SYMBOLS only; no CRLF at the end)
/* .fi
/*	It is a pure function of its input (no I/O, no global state), so
/*	that it can be tested and fuzzed on its own.  The verdict word may
/*	be True, False, Yes or No in any case; scores are decimal numbers
/*	with an optional sign and fraction ("-0.0").  A body, when
/*	present, must be exactly Content-length bytes; it holds the rule
/*	names, which must be printable and free of white space, and is
/*	cut at the last comma that fits MW_SPAMC_SYMBOLS_MAX.
/*
/*	mw_spamc_user_ok() tells whether user may be sent in a User:
/*	header (1) or not (0): 1 to 128 characters of [-A-Za-z0-9_.@+=,].
/* DIAGNOSTICS
/*	mw_spamc_parse_reply() returns 0 with res filled in, -1 for a
/*	malformed reply and -2 when spamd answered with a non-zero status
/*	(an error of spamd's).  On error err holds one printable line.
/*--*/

/* System library. */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Utility library. */

#include "mw_spamc.h"
#include "mw_str.h"

/* reply_fail - format an error, return code */

static int __attribute__((format(printf, 4, 5)))
reply_fail(int code, char *err, size_t errlen, const char *fmt,...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return (code);
}

/* reply_line - next line of [*cp, end); strips CRLF or LF; -1 if none */

static int
reply_line(const char **cp, const char *end, const char **line, size_t *len)
{
	const char *nl;

	if ((nl = memchr(*cp, '\n', (size_t) (end - *cp))) == NULL)
		return (-1);
	*line = *cp;
	*len = (size_t) (nl - *cp);
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	*cp = nl + 1;
	return (0);
}

/* reply_number - parse [-+]digits[.digits] at *cp; advance */

static int
reply_number(const char **cp, const char *end, double *val)
{
	char	buf[32];
	size_t	n = 0;
	int	digits = 0;
	const char *p = *cp;

	if (p < end && (*p == '-' || *p == '+'))
		buf[n++] = *p++;
	for (; p < end && *p >= '0' && *p <= '9' && n < sizeof(buf) - 1; p++, digits++)
		buf[n++] = *p;
	if (p < end && *p == '.' && n < sizeof(buf) - 1) {
		buf[n++] = *p++;
		for (; p < end && *p >= '0' && *p <= '9' && n < sizeof(buf) - 1; p++, digits++)
			buf[n++] = *p;
	}
	if (digits == 0 || (p < end && *p >= '0' && *p <= '9'))
		return (-1);
	buf[n] = '\0';
	*val = strtod(buf, NULL);
	*cp = p;
	return (0);
}

/* reply_sep - skip blanks, then sep (or, with sep NUL, the end) */

static int
reply_sep(const char **cp, const char *end, int sep)
{
	while (*cp < end && **cp == ' ')
		(*cp)++;
	if (sep == '\0')
		return (*cp == end ? 0 : -1);
	if (*cp >= end || **cp != sep)
		return (-1);
	(*cp)++;
	while (*cp < end && **cp == ' ')
		(*cp)++;
	return (0);
}

/* reply_spam - parse "True ; 7.3 / 5.0" */

static int
reply_spam(const char *val, size_t len, struct mw_spamc_result *res)
{
	const char *cp = val;
	const char *end = val + len;
	size_t	wlen;

	for (wlen = 0; wlen < len && cp[wlen] != ' ' && cp[wlen] != ';'; wlen++)
		 /* void */ ;
	if ((wlen == 4 && strncasecmp(cp, "True", 4) == 0)
	    || (wlen == 3 && strncasecmp(cp, "Yes", 3) == 0))
		res->spam = 1;
	else if ((wlen == 5 && strncasecmp(cp, "False", 5) == 0)
		 || (wlen == 2 && strncasecmp(cp, "No", 2) == 0))
		res->spam = 0;
	else
		return (-1);
	cp += wlen;
	if (reply_sep(&cp, end, ';') < 0 || reply_number(&cp, end, &res->score) < 0
	    || reply_sep(&cp, end, '/') < 0 || reply_number(&cp, end, &res->required) < 0
	    || reply_sep(&cp, end, '\0') < 0)
		return (-1);
	return (0);
}

/* reply_symbols - check and copy the rule names */

static int
reply_symbols(const char *body, size_t len, struct mw_spamc_result *res)
{
	size_t	i;
	size_t	keep;

	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r'))
		len--;
	for (i = 0; i < len; i++)
		if (body[i] <= ' ' || body[i] > '~')
			return (-1);
	keep = len;
	if (keep >= sizeof(res->symbols)) {
		keep = sizeof(res->symbols) - 1;
		while (keep > 0 && body[keep] != ',')
			keep--;
	}
	memcpy(res->symbols, body, keep);
	res->symbols[keep] = '\0';
	return (0);
}

/* mw_spamc_parse_reply - parse a whole reply */

int
mw_spamc_parse_reply(const char *buf, size_t len, struct mw_spamc_result *res,
		     char *err, size_t errlen)
{
	const char *cp = buf;
	const char *end = buf + len;
	const char *line;
	const char *val;
	size_t	llen;
	size_t	vlen;
	long	clen = -1;
	int	have_spam = 0;
	int	code;
	char	shown[128];
	char	num[16];

	memset(res, 0, sizeof(*res));
	if (len == 0)
		return (reply_fail(-1, err, errlen, "empty reply"));
	if (memchr(buf, '\0', len) != NULL)
		return (reply_fail(-1, err, errlen, "NUL byte in reply"));

	/* Status line: "SPAMD/1.1 0 EX_OK". */
	if (reply_line(&cp, end, &line, &llen) < 0)
		return (reply_fail(-1, err, errlen, "truncated status line"));
	mw_printable(shown, sizeof(shown), line, llen);
	if (llen < 10 || strncmp(line, "SPAMD/", 6) != 0)
		return (reply_fail(-1, err, errlen, "bad status line \"%s\"", shown));
	/* "SPAMD/" version SP code SP text */
	val = line + 6;
	vlen = strspn(val, "0123456789.");
	if (vlen == 0 || val[vlen] != ' ')
		return (reply_fail(-1, err, errlen, "bad status line \"%s\"", shown));
	val += vlen + 1;
	llen = strspn(val, "0123456789");
	if (llen == 0 || llen > 5 || val[llen] != ' ')
		return (reply_fail(-1, err, errlen, "bad status line \"%s\"", shown));
	memcpy(num, val, llen);
	num[llen] = '\0';
	if ((code = atoi(num)) != 0)
		return (reply_fail(-2, err, errlen, "spamd error \"%s\"", shown));

	/* Headers up to the empty line. */
	for (;;) {
		if (reply_line(&cp, end, &line, &llen) < 0)
			return (reply_fail(-1, err, errlen, "truncated reply header"));
		if (llen == 0)
			break;
		mw_printable(shown, sizeof(shown), line, llen);
		if ((val = memchr(line, ':', llen)) == NULL)
			return (reply_fail(-1, err, errlen, "bad reply header \"%s\"", shown));
		vlen = (size_t) (line + llen - val - 1);
		for (val++; vlen > 0 && *val == ' '; val++, vlen--)
			 /* void */ ;
		if (llen >= 5 && strncasecmp(line, "Spam:", 5) == 0) {
			if (have_spam++ || reply_spam(val, vlen, res) < 0)
				return (reply_fail(-1, err, errlen, "bad Spam header \"%s\"", shown));
		} else if (llen >= 15 && strncasecmp(line, "Content-length:", 15) == 0) {
			if (clen >= 0 || vlen == 0 || vlen > 9 || strspn(val, "0123456789") < vlen)
				return (reply_fail(-1, err, errlen, "bad Content-length \"%s\"", shown));
			memcpy(num, val, vlen);
			num[vlen] = '\0';
			clen = atol(num);
		}
		/* Other headers are ignored, as spamc does. */
	}
	if (!have_spam)
		return (reply_fail(-1, err, errlen, "no Spam header in reply"));
	if (clen >= 0 && (size_t) (end - cp) != (size_t) clen)
		return (reply_fail(-1, err, errlen, "body is %zu bytes, Content-length says %ld",
				   (size_t) (end - cp), clen));
	if (reply_symbols(cp, (size_t) (end - cp), res) < 0)
		return (reply_fail(-1, err, errlen, "bad symbol list in reply body"));
	return (0);
}

/* mw_spamc_user_ok - may this name go into a User: header? */

int
mw_spamc_user_ok(const char *user)
{
	size_t	len = strlen(user);

	return (len > 0 && len <= 128
		&& strspn(user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789-_.@+=,") == len);
}
