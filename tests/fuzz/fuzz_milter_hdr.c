/*++
/* NAME
/*	fuzz_milter_hdr 1
/* SUMMARY
/*	libFuzzer target for mailwarren-milter's header and address handling
/* DESCRIPTION
/*	The input is NUL-separated fields, as libmilter delivers a header
/*	(name NUL value NUL): a header name, its value, an envelope
/*	address, then more header names.  The header goes through
/*	milter_hdr_copy() (the scan copy for ClamAV and spamd), the
/*	address through milter_addr_bare(), milter_addr_spamd_user() and
/*	milter_addr_client(), every name through milter_hdr_is_spam() and
/*	milter_hdrset_add().  Checks:
/* .IP \(bu
/*	a header is refused exactly when a plain oracle says it must be
/*	(a CR or LF in the name, a CR not followed by LF, a line break not
/*	followed by SP or HTAB, a line break at the end);
/* .IP \(bu
/*	a written header is "name: " then the value with every line break
/*	as CRLF, then CRLF; it holds no bare CR, no bare LF, no empty line,
/*	and every CRLF but the last is followed by SP or HTAB, so it can
/*	never end the header block or start a new header;
/* .IP \(bu
/*	a refused header writes nothing;
/* .IP \(bu
/*	the set counts every X-Spam-* or X-Mailwarren-Stamp name, once per
/*	occurrence, with distinct names (case-insensitive);
/* .IP \(bu
/*	a bare address holds no '>' and fits its buffer; a spamd user is
/*	NULL or a name mw_spamc_user_ok() allows; a client address loses
/*	exactly one leading "IPv6:".
/*--*/

#include "config.h"

#include <strings.h>

#include "fuzz.h"
#include "milter_input.h"
#include "mw_spamc.h"

#define FIELDS_MAX	32

struct out {
	char   *buf;
	size_t	len;
	size_t	cap;
};

static void
put(void *arg, const void *data, size_t len)
{
	struct out *o = arg;

	if (o->len + len + 1 > o->cap) {
		o->cap = (o->len + len + 1) * 2;
		if ((o->buf = realloc(o->buf, o->cap)) == NULL)
			abort();
	}
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

/* oracle - must this header be refused? */
static int
must_refuse(const char *name, const char *value)
{
	size_t	i;

	if (strchr(name, '\r') != NULL || strchr(name, '\n') != NULL)
		return (1);
	for (i = 0; value[i] != '\0'; i++) {
		if (value[i] == '\r' && value[i + 1] != '\n')
			return (1);
		if (value[i] == '\n' && value[i + 1] != ' ' && value[i + 1] != '\t')
			return (1);
	}
	return (0);
}

static void
check_header(const char *name, const char *value)
{
	struct out o = {0};
	size_t	nlen = strlen(name);
	size_t	i;
	size_t	j;
	int	rc;

	rc = milter_hdr_copy(name, value, put, &o);
	fuzz_check((rc != MILTER_HDR_OK) == must_refuse(name, value));
	fuzz_check(strcmp(milter_hdr_why(rc), "unknown") != 0);
	if (rc != MILTER_HDR_OK) {
		fuzz_check(o.len == 0);
		return;
	}
	fuzz_check(o.len >= nlen + 4);
	fuzz_check(memcmp(o.buf, name, nlen) == 0 && memcmp(o.buf + nlen, ": ", 2) == 0);
	fuzz_check(memcmp(o.buf + o.len - 2, "\r\n", 2) == 0);
	for (i = 0; i < o.len; i++) {
		if (o.buf[i] == '\r')
			fuzz_check(i + 1 < o.len && o.buf[i + 1] == '\n');
		if (o.buf[i] == '\n') {
			fuzz_check(i > 0 && o.buf[i - 1] == '\r');
			fuzz_check(i + 1 == o.len || o.buf[i + 1] == ' ' || o.buf[i + 1] == '\t');
		}
	}
	/* Without CRs, the copy is "name: value\n" with the value's CRs gone. */
	for (i = nlen + 2, j = 0; i < o.len - 2; i++) {
		if (o.buf[i] == '\r')
			continue;
		while (value[j] == '\r')
			j++;
		fuzz_check(o.buf[i] == value[j]);
		j++;
	}
	while (value[j] == '\r')
		j++;
	fuzz_check(value[j] == '\0');
	free(o.buf);
}

static void
check_addr(const char *addr)
{
	char	buf[16];
	char	big[512];
	char	client[512];
	const char *user;
	size_t	n;

	(void) milter_addr_bare(addr, buf, sizeof(buf));
	fuzz_check(strlen(buf) < sizeof(buf) && strchr(buf, '>') == NULL);
	if (milter_addr_bare(addr, big, sizeof(big)) == 0)
		fuzz_check(strstr(addr, big) != NULL);
	if ((user = milter_addr_spamd_user(addr, big, sizeof(big))) != NULL)
		fuzz_check(user == big && mw_spamc_user_ok(user));
	n = strlen(addr);
	if (n >= sizeof(client))
		return;
	memcpy(client, addr, n + 1);
	milter_addr_client(client);
	if (strncasecmp(addr, "IPv6:", 5) == 0)
		fuzz_check(strcmp(client, addr + 5) == 0);
	else
		fuzz_check(strcmp(client, addr) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct milter_hdrset set = {0};
	const char *field[FIELDS_MAX];
	char   *copy = malloc(size + 1);
	size_t	nfield = 0;
	size_t	i;
	int	spam = 0;
	int	total;
	int	k;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	/* The fields, as libmilter splits name NUL value NUL. */
	field[nfield++] = copy;
	for (i = 0; i < size && nfield < FIELDS_MAX; i++)
		if (copy[i] == '\0')
			field[nfield++] = copy + i + 1;
	while (nfield < 3)
		field[nfield++] = "";
	check_header(field[0], field[1]);
	check_addr(field[2]);
	for (i = 0; i < nfield; i++) {
		if (i == 1 || i == 2 || !milter_hdr_is_spam(field[i]))
			continue;
		fuzz_check(strncasecmp(field[i], "X-Spam-", 7) == 0
			   || strcasecmp(field[i], "X-Mailwarren-Stamp") == 0);
		fuzz_check(milter_hdrset_add(&set, field[i]) == 0);
		spam++;
	}
	for (total = 0, k = 0; k < set.n; k++) {
		fuzz_check(set.v[k].count >= 1);
		total += set.v[k].count;
		for (i = 0; i < (size_t) k; i++)
			fuzz_check(strcasecmp(set.v[i].name, set.v[k].name) != 0);
	}
	fuzz_check(total == spam);
	milter_hdrset_free(&set);
	fuzz_check(set.n == 0 && set.v == NULL);
	free(copy);
	return (0);
}
