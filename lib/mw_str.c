/*++
/* NAME
/*	mw_str 3
/* SUMMARY
/*	small string utilities
/* SYNOPSIS
/*	#include "mw_str.h"
/*
/*	size_t	mw_strlcpy(dst, src, size)
/*	char	*dst;
/*	const char *src;
/*	size_t	size;
/*
/*	char	*mw_printable(buf, bufsize, data, len)
/*	char	*buf;
/*	size_t	bufsize;
/*	const char *data;
/*	size_t	len;
/*
/*	char	*mw_trim(str)
/*	char	*str;
/*
/*	void	mw_lowercase(str)
/*	char	*str;
/*
/*	int	mw_parse_ull(str, value, end)
/*	const char *str;
/*	unsigned long long *value;
/*	const char **end;
/*
/*	uint64_t mw_hash(data, len)
/*	const void *data;
/*	size_t	len;
/*
/*	int	mw_err(err, errlen, format, ...)
/*	char	*err;
/*	size_t	errlen;
/*	const char *format;
/*
/*	long long mw_now_ms(void)
/* DESCRIPTION
/*	mw_strlcpy() copies src into dst of the given size, always
/*	terminating it, and returns strlen(src) (truncation happened when
/*	the result is >= size), as BSD strlcpy().
/*
/*	mw_printable() copies at most len bytes of data, which may hold any
/*	byte including NUL, into buf, replacing every byte that is not
/*	printable ASCII (0x20-0x7e) with '?', so that peer data can be
/*	echoed into a log line.  When the data does not fit, it is cut and
/*	"..." is appended.  The result is always terminated; bufsize must
/*	be at least 4.
/*
/*	mw_trim() removes leading and trailing white space in place and
/*	returns a pointer into str.
/*
/*	mw_lowercase() folds ASCII letters to lower case in place; other
/*	bytes (UTF-8 included) are left alone.
/*
/*	mw_parse_ull() parses an unsigned decimal number at the start of
/*	str: at least one digit, no sign, no leading white space.  *end
/*	is set to the first byte after the digits.
/*
/*	mw_hash() is the hash of the in-memory tables (mw_cidr, mw_map,
/*	mw_rate): 64-bit FNV-1a with a final avalanche step, so that the
/*	low bits used as a table index are well mixed.  Not for anything
/*	an attacker may not collide (shard placement uses SipHash).
/*
/*	mw_err() formats one error line into err (the library's way of
/*	reporting why a function failed) and returns -1, so that a failing
/*	function can "return (mw_err(err, errlen, ...));".
/*
/*	mw_now_ms() is the monotonic clock in milliseconds, for deadlines.
/* DIAGNOSTICS
/*	mw_parse_ull() returns 0 on success, -1 when there is no digit and
/*	-2 when the value does not fit in an unsigned long long.
/*--*/

/* System library. */

#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Utility library. */

#include "mw_str.h"

/* mw_strlcpy - bounded copy that always terminates */

size_t
mw_strlcpy(char *dst, const char *src, size_t size)
{
	size_t	len = strlen(src);

	if (size > 0) {
		size_t	n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return (len);
}

/* mw_printable - copy peer data for logging, replacing non-printables */

char   *
mw_printable(char *buf, size_t bufsize, const char *data, size_t len)
{
	size_t	i;
	size_t	room = bufsize - 1;
	int	cut = 0;

	if (len > room) {
		room = bufsize - 4;
		cut = 1;
	}
	for (i = 0; i < len && i < room; i++) {
		unsigned char ch = (unsigned char) data[i];

		buf[i] = (ch >= 0x20 && ch < 0x7f) ? (char) ch : '?';
	}
	if (cut) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return (buf);
}

/* mw_trim - strip leading and trailing white space in place */

char   *
mw_trim(char *str)
{
	char   *end;

	while (*str != '\0' && isspace((unsigned char) *str))
		str++;
	end = str + strlen(str);
	while (end > str && isspace((unsigned char) end[-1]))
		*--end = '\0';
	return (str);
}

/* mw_lowercase - ASCII lower-case in place */

void
mw_lowercase(char *str)
{
	for (; *str != '\0'; str++)
		if (*str >= 'A' && *str <= 'Z')
			*str = (char) (*str - 'A' + 'a');
}

/* mw_parse_ull - parse an unsigned decimal number with overflow check */

int
mw_parse_ull(const char *str, unsigned long long *value, const char **end)
{
	unsigned long long val = 0;
	const char *cp;

	for (cp = str; *cp >= '0' && *cp <= '9'; cp++) {
		unsigned digit = (unsigned) (*cp - '0');

		if (val > (ULLONG_MAX - digit) / 10)
			return (-2);
		val = val * 10 + digit;
	}
	if (cp == str)
		return (-1);
	*value = val;
	*end = cp;
	return (0);
}

/* mw_err - format an error line, return -1 */

int
mw_err(char *err, size_t errlen, const char *fmt,...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return (-1);
}

/* mw_hash - FNV-1a with a final mix, for in-memory hash tables */

uint64_t
mw_hash(const void *data, size_t len)
{
	const unsigned char *cp = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len-- > 0) {
		h ^= *cp++;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (h);
}

/* mw_now_ms - monotonic clock in milliseconds */

long long
mw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}
