/*++
/* NAME
/*	mw_userdb 3
/* SUMMARY
/*	Dovecot auth-userdb (auth master) protocol
/* SYNOPSIS
/*	#include "mw_userdb.h"
/*
/*	int	mw_userdb_escape(name, buf, len)
/*	const char *name;
/*	char	*buf;
/*	size_t	len;
/*
/*	int	mw_userdb_request(buf, len, id, name, service)
/*	unsigned id;
/*	const char *service;
/*
/*	int	mw_userdb_reply(line, id)
/*	const char *line;
/*	unsigned *id;
/*
/*	const char *mw_userdb_field(line, name, vlen)
/*	size_t	*vlen;
/* DESCRIPTION
/*	Dovecot's auth master protocol, as its LMTP server and "doveadm
/*	user" speak it on the auth-userdb socket: the client says
/*	"VERSION<TAB>1<TAB>0" once per connection (MW_USERDB_HELLO), then
/*	asks
/*
/*	    USER<TAB>id<TAB>name<TAB>service=SERVICE
/*
/*	and is answered "USER<TAB>id<TAB>name<TAB>field=value..." (the user
/*	exists, with its userdb fields), "NOTFOUND<TAB>id" or
/*	"FAIL<TAB>id<TAB>..." (Dovecot could not tell), in any order.
/*	These functions are pure (no I/O), shared by mailwarren-policyd's
/*	event loop and mailwarren-milter's blocking client, and fuzzed
/*	(tests/fuzz/fuzz_userdb_reply.c).
/*
/*	mw_userdb_escape() escapes name as Dovecot's str_tabescape() does
/*	(\001 -> \001 1, TAB -> \001 t, CR -> \001 r, LF -> \001 n), so
/*	that no name can add a field or a line; -1 when the result does
/*	not fit in len bytes.
/*
/*	mw_userdb_request() writes the USER line for id, name (escaped) and
/*	service (a constant of the caller's) into buf and returns its
/*	length, or -1 when it does not fit.
/*
/*	mw_userdb_reply() reads one reply line (without its LF):
/*	MW_USERDB_FOUND (USER), MW_USERDB_NOTFOUND or MW_USERDB_FAIL with
/*	the lookup id in id; MW_USERDB_OTHER for lines that answer no
/*	lookup (VERSION, SPID, future commands); MW_USERDB_BAD for an
/*	answer whose id is not a decimal number of 1 to 4294967295
/*	followed by a TAB or the end of the line.
/*
/*	mw_userdb_field() finds the field name ("name=value", or a bare
/*	"name" with an empty value) of a USER line, after the id and the
/*	user name; it returns a pointer to the value, still tab-escaped,
/*	with its length in vlen, or NULL when the line has no such field.
/*	The first occurrence counts.
/* SEE ALSO
/*	Dovecot's doc/wiki Design.AuthProtocol, the auth master protocol
/*--*/

/* System library. */

#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Utility library. */

#include "mw_userdb.h"

/* mw_userdb_escape - Dovecot's str_tabescape(); -1 when it does not fit */

int
mw_userdb_escape(const char *s, char *buf, size_t len)
{
	size_t	n = 0;

	if (len == 0)
		return (-1);
	for (; *s != '\0'; s++) {
		char	esc = 0;

		switch (*s) {
		case '\001':
			esc = '1';
			break;
		case '\t':
			esc = 't';
			break;
		case '\r':
			esc = 'r';
			break;
		case '\n':
			esc = 'n';
			break;
		}
		if (n + 3 > len)
			return (-1);
		if (esc != 0) {
			buf[n++] = '\001';
			buf[n++] = esc;
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = '\0';
	return (0);
}

/* mw_userdb_request - the USER line for one lookup */

int
mw_userdb_request(char *buf, size_t len, unsigned id, const char *name, const char *service)
{
	char	esc[MW_USERDB_NAME_MAX];
	int	n;

	if (mw_userdb_escape(name, esc, sizeof(esc)) < 0)
		return (-1);
	n = snprintf(buf, len, "USER\t%u\t%s\tservice=%s\n", id, esc, service);
	if (n < 0 || (size_t) n >= len)
		return (-1);
	return (n);
}

/* mw_userdb_reply - one auth master protocol line */

int
mw_userdb_reply(const char *line, unsigned *id)
{
	unsigned long long n = 0;
	const char *cp;
	int	result;

	if (strncmp(line, "USER\t", 5) == 0)
		result = MW_USERDB_FOUND, cp = line + 5;
	else if (strncmp(line, "NOTFOUND\t", 9) == 0)
		result = MW_USERDB_NOTFOUND, cp = line + 9;
	else if (strncmp(line, "FAIL\t", 5) == 0)
		result = MW_USERDB_FAIL, cp = line + 5;
	else
		return (MW_USERDB_OTHER);
	if (*cp < '0' || *cp > '9')
		return (MW_USERDB_BAD);
	for (; *cp >= '0' && *cp <= '9'; cp++)
		if ((n = n * 10 + (unsigned) (*cp - '0')) > UINT_MAX)
			return (MW_USERDB_BAD);
	if (n == 0 || (*cp != '\t' && *cp != '\0'))
		return (MW_USERDB_BAD);
	*id = (unsigned) n;
	return (result);
}

/* mw_userdb_field - a field of a USER line: value (escaped) and length */

const char *
mw_userdb_field(const char *line, const char *name, size_t *vlen)
{
	size_t	nlen = strlen(name);
	const char *cp;
	size_t	len;
	int	skip;

	/* "USER", the id, the user name: then the fields */
	for (cp = line, skip = 3; skip > 0; skip--) {
		if ((cp = strchr(cp, '\t')) == NULL)
			return (NULL);
		cp++;
	}
	for (;;) {
		len = strcspn(cp, "\t");
		if (len >= nlen && strncmp(cp, name, nlen) == 0
		    && (len == nlen || cp[nlen] == '=')) {
			*vlen = len == nlen ? 0 : len - nlen - 1;
			return (len == nlen ? cp + len : cp + nlen + 1);
		}
		if (cp[len] == '\0')
			return (NULL);
		cp += len + 1;
	}
}
