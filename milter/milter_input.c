/*++
/* NAME
/*	milter_input 3
/* SUMMARY
/*	what the MTA hands mailwarren-milter: header lines, addresses
/* SYNOPSIS
/*	#include "milter_input.h"
/*
/*	int	milter_hdr_copy(name, value, put, arg)
/*	const char *name;
/*	const char *value;
/*	milter_hdr_put put;
/*	void	*arg;
/*
/*	const char *milter_hdr_why(code)
/*	int	code;
/*
/*	int	milter_hdr_is_spam(name)
/*	const char *name;
/*
/*	int	milter_hdrset_add(set, name)
/*	struct milter_hdrset *set;
/*	const char *name;
/*
/*	void	milter_hdrset_free(set)
/*	struct milter_hdrset *set;
/*
/*	int	milter_addr_bare(addr, buf, len)
/*	const char *addr;
/*	char	*buf;
/*	size_t	len;
/*
/*	const char *milter_addr_spamd_user(rcpt, buf, len)
/*	const char *rcpt;
/*	char	*buf;
/*	size_t	len;
/*
/*	void	milter_addr_client(addr)
/*	char	*addr;
/* DESCRIPTION
/*	libmilter hands a header as two C strings, name and value, raw as
/*	the MTA sent them (miltertest sends anything).  A folded value
/*	holds its line breaks as LF (Postfix, Sendmail) or CRLF, each
/*	followed by the white space that starts the next line.
/*
/*	milter_hdr_copy() writes the header, as the copy that ClamAV and
/*	spamd scan holds it, through put(arg, data, len): "name: value"
/*	with every line break written as CRLF, then CRLF.  It writes
/*	nothing and returns a MILTER_HDR_* code other than MILTER_HDR_OK
/*	when the header cannot be written so that a scanner reads it as
/*	the MTA will deliver it: a CR or LF in the name
/*	(MILTER_HDR_NAME_BREAK), a CR not followed by LF
/*	(MILTER_HDR_BARE_CR), a line break not followed by a space or a
/*	tab, i.e. not folding (MILTER_HDR_NOT_FOLDED), or a line break
/*	that ends the value (MILTER_HDR_END_BREAK).  Written as line
/*	breaks, any of these would make an empty line or a new header
/*	line in the scan copy: the header block would end early there,
/*	the rest of the headers (Content-Type, MIME-Version) would become
/*	body, and the message would be scanned as a structure that the
/*	recipient's software does not see.  A NUL ends the value as
/*	libmilter passes it; the milter never sees what follows.
/*
/*	milter_hdr_why() is a short token for the log line
/*	("bare-CR" ...).
/*
/*	milter_hdr_is_spam() tells whether name is one of the headers
/*	that nobody outside may set: X-Spam-* and X-Mailwarren-Stamp
/*	(case-insensitive).  milter_hdrset_add() counts one occurrence
/*	of name in set (case-insensitive, the name kept as first seen),
/*	however many names there are; milter_hdrset_free() empties set.
/*
/*	milter_addr_bare() copies addr without leading spaces and angle
/*	brackets ("" for <>) into buf.  milter_addr_spamd_user() is the
/*	recipient rcpt as a spamd user name (User: header), or NULL when
/*	it is not one (mw_spamc_user_ok()).  milter_addr_client() removes
/*	Sendmail's "IPv6:" prefix from a client address in place.
/* DIAGNOSTICS
/*	milter_hdrset_add() returns -1 when out of memory (the name is
/*	not counted: the caller must not let the message pass).
/*	milter_addr_bare() returns -1 when it had to truncate (buf holds
/*	len - 1 bytes of the address), 0 otherwise.
/*--*/

/* System library. */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Utility library. */

#include "mw_spamc.h"
#include "mw_stamp.h"

/* Application-specific. */

#include "milter_input.h"

/* hdr_check - can this header go into the scan copy as delivered? */

static int
hdr_check(const char *name, const char *value)
{
	const char *cp;

	if (strpbrk(name, "\r\n") != NULL)
		return (MILTER_HDR_NAME_BREAK);
	for (cp = value; *cp != '\0'; cp++) {
		if (*cp == '\r') {
			if (cp[1] != '\n')
				return (MILTER_HDR_BARE_CR);
			cp++;
		}
		if (*cp == '\n') {
			if (cp[1] == '\0')
				return (MILTER_HDR_END_BREAK);
			if (cp[1] != ' ' && cp[1] != '\t')
				return (MILTER_HDR_NOT_FOLDED);
		}
	}
	return (MILTER_HDR_OK);
}

/* milter_hdr_copy - one header, CRLF line ends, or why not */

int
milter_hdr_copy(const char *name, const char *value, milter_hdr_put put, void *arg)
{
	const char *cp;
	size_t	len;
	int	why;

	if ((why = hdr_check(name, value)) != MILTER_HDR_OK)
		return (why);
	put(arg, name, strlen(name));
	put(arg, ": ", 2);
	/* Each line break is LF or CRLF, followed by SP or HTAB. */
	for (cp = value; /* void */ ; cp += len) {
		len = strcspn(cp, "\r\n");
		put(arg, cp, len);
		if (cp[len] == '\0')
			break;
		put(arg, "\r\n", 2);
		len += cp[len] == '\r' ? 2 : 1;
	}
	put(arg, "\r\n", 2);
	return (MILTER_HDR_OK);
}

/* milter_hdr_why - log token for a MILTER_HDR_* code */

const char *
milter_hdr_why(int code)
{
	switch (code) {
	case MILTER_HDR_OK:
		return ("ok");
	case MILTER_HDR_NAME_BREAK:
		return ("line-break-in-name");
	case MILTER_HDR_BARE_CR:
		return ("bare-CR");
	case MILTER_HDR_NOT_FOLDED:
		return ("line-break-not-folding");
	case MILTER_HDR_END_BREAK:
		return ("line-break-at-end");
	default:
		return ("unknown");
	}
}

/* milter_hdr_is_spam - a name only mailwarren-milter may write */

int
milter_hdr_is_spam(const char *name)
{
	return (strncasecmp(name, "X-Spam-", 7) == 0 || strcasecmp(name, MW_STAMP_HEADER) == 0);
}

/* milter_hdrset_add - count one occurrence of name */

int
milter_hdrset_add(struct milter_hdrset *set, const char *name)
{
	struct milter_hdrseen *h;
	int	cap;
	int	i;

	for (i = 0; i < set->n; i++) {
		if (strcasecmp(set->v[i].name, name) == 0) {
			set->v[i].count++;
			return (0);
		}
	}
	/* However many names: a forged header left behind is believed. */
	if (set->n == set->cap) {
		cap = set->cap ? 2 * set->cap : 8;
		if ((h = realloc(set->v, (size_t) cap * sizeof(*h))) == NULL)
			return (-1);
		set->v = h;
		set->cap = cap;
	}
	if ((set->v[i].name = strdup(name)) == NULL)
		return (-1);
	set->v[i].count = 1;
	set->n++;
	return (0);
}

/* milter_hdrset_free - forget every name */

void
milter_hdrset_free(struct milter_hdrset *set)
{
	int	i;

	for (i = 0; i < set->n; i++)
		free(set->v[i].name);
	free(set->v);
	set->v = NULL;
	set->n = set->cap = 0;
}

/* milter_addr_bare - an address without its angle brackets ("" for <>) */

int
milter_addr_bare(const char *addr, char *buf, size_t len)
{
	size_t	n;
	int	rc = 0;

	while (*addr == ' ')
		addr++;
	if (*addr == '<')
		addr++;
	n = strcspn(addr, ">");
	if (n >= len) {
		n = len - 1;
		rc = -1;
	}
	memcpy(buf, addr, n);
	buf[n] = '\0';
	return (rc);
}

/* milter_addr_spamd_user - the recipient as a spamd user, or NULL */

const char *
milter_addr_spamd_user(const char *rcpt, char *buf, size_t len)
{
	if (milter_addr_bare(rcpt, buf, len) == 0 && mw_spamc_user_ok(buf))
		return (buf);
	return (NULL);
}

/* milter_addr_client - Sendmail writes IPv6 clients as "IPv6:addr" */

void
milter_addr_client(char *addr)
{
	if (strncasecmp(addr, "IPv6:", 5) == 0)
		memmove(addr, addr + 5, strlen(addr + 5) + 1);
}
