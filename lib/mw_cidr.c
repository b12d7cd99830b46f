/*++
/* NAME
/*	mw_cidr 3
/* SUMMARY
/*	longest-prefix-match table of IPv4 and IPv6 networks
/* SYNOPSIS
/*	#include "mw_cidr.h"
/*
/*	mw_cidr	*mw_cidr_create(void)
/*
/*	void	mw_cidr_free(table)
/*	mw_cidr	*table;
/*
/*	int	mw_cidr_add(table, network, value, err, errlen)
/*	const char *network;
/*	const char *value;
/*	char	*err;
/*	size_t	errlen;
/*
/*	int	mw_cidr_load(table, path, err, errlen)
/*	const char *path;
/*
/*	const char *mw_cidr_lookup(table, addr)
/*	const struct mw_addr *addr;
/*
/*	size_t	mw_cidr_count(table)
/*
/*	int	mw_addr_parse(text, addr)
/*	const char *text;
/*	struct mw_addr *addr;
/* DESCRIPTION
/*	A table maps IPv4 and IPv6 networks to a value (a customer id).
/*	Unlike Postfix's cidr: tables, which return the first match in
/*	file order, mw_cidr_lookup() returns the value of the LONGEST
/*	matching prefix, whatever the order of the entries; so a /32
/*	carved out of a customer's /24 can belong to another customer.
/*
/*	Lookup cost does not grow with the number of entries: there is
/*	one open-addressing hash table keyed by (family, prefix length,
/*	masked address), and a lookup probes it once for each prefix
/*	length that the table actually holds, longest first (typically
/*	a handful).  For IPv4 a direct index of the 65,536 /16 networks
/*	(256 KB) says which lengths of /16 or longer occur inside each, so
/*	that a lookup usually probes only the one or two lengths that can
/*	match there.
/*
/*	mw_addr_parse() parses a textual address as Postfix sends it in
/*	client_address: dotted-quad IPv4 or IPv6; an IPv4-mapped IPv6
/*	address (::ffff:a.b.c.d) is taken as the IPv4 address.  Zone ids
/*	("%eth0"), "unknown", empty strings and anything else are refused.
/*
/*	mw_cidr_add() adds "address/length" (a bare address is a /32 or
/*	/128) with a value.  The address must have no bits set beyond the
/*	prefix length, and a network may be listed only once.
/*
/*	mw_cidr_load() adds the entries of a file: one "network value"
/*	per line, white space between them; blank lines and "#" comments
/*	are ignored.
/* DIAGNOSTICS
/*	mw_cidr_add() and mw_cidr_load() return 0 or -1 with one line in
/*	err ("path:line: reason" from mw_cidr_load()).  mw_cidr_lookup()
/*	returns NULL when no network matches.  mw_addr_parse() returns 0
/*	or -1.  mw_cidr_create() returns NULL when out of memory.
/*--*/

/* System library. */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "mw_cidr.h"
#include "mw_str.h"

struct cidr_slot {
	unsigned char key[18];		/* family, length, masked address */
	char   *value;			/* NULL: empty slot */
};

struct mw_cidr {
	struct cidr_slot *slots;
	size_t	size;			/* power of two */
	size_t	used;
	unsigned char lengths4[33];	/* prefix lengths present, IPv4 */
	unsigned char lengths6[129];	/* same, IPv6 */
	uint32_t *under16;		/* per IPv4 /16: bit L-16 = a /L inside */
};

/* cidr_key - build the lookup key of a masked network */

static void
cidr_key(unsigned char key[18], int family, unsigned len, const unsigned char *bytes)
{
	unsigned nbytes = family == 4 ? 4 : 16;
	unsigned i;

	memset(key, 0, 18);
	key[0] = (unsigned char) family;
	key[1] = (unsigned char) len;
	for (i = 0; i < nbytes && i * 8 < len; i++) {
		unsigned bits = len - i * 8;

		key[2 + i] = bits >= 8 ? bytes[i] : (unsigned char) (bytes[i] & (0xff << (8 - bits)));
	}
}

/* cidr_find - the slot holding key, or the empty slot where it goes */

static struct cidr_slot *
cidr_find(const mw_cidr *table, const unsigned char key[18])
{
	size_t	mask = table->size - 1;
	size_t	i = (size_t) mw_hash(key, 18) & mask;

	while (table->slots[i].value != NULL && memcmp(table->slots[i].key, key, 18) != 0)
		i = (i + 1) & mask;
	return (&table->slots[i]);
}

/* cidr_grow - double the hash table */

static int
cidr_grow(mw_cidr *table)
{
	struct cidr_slot *old = table->slots;
	size_t	old_size = table->size;
	size_t	i;

	if ((table->slots = calloc(old_size * 2, sizeof(*old))) == NULL) {
		table->slots = old;
		return (-1);
	}
	table->size = old_size * 2;
	for (i = 0; i < old_size; i++)
		if (old[i].value != NULL)
			*cidr_find(table, old[i].key) = old[i];
	free(old);
	return (0);
}

/* mw_cidr_create - empty table */

mw_cidr *
mw_cidr_create(void)
{
	mw_cidr *table;

	if ((table = calloc(1, sizeof(*table))) == NULL)
		return (NULL);
	table->size = 64;
	if ((table->slots = calloc(table->size, sizeof(*table->slots))) == NULL) {
		free(table);
		return (NULL);
	}
	return (table);
}

/* mw_cidr_free - release a table */

void
mw_cidr_free(mw_cidr *table)
{
	size_t	i;

	if (table == NULL)
		return;
	for (i = 0; i < table->size; i++)
		free(table->slots[i].value);
	free(table->slots);
	free(table->under16);
	free(table);
}

/* mw_cidr_count - number of networks */

size_t
mw_cidr_count(const mw_cidr *table)
{
	return (table->used);
}

/* mw_addr_parse - IPv4 or IPv6 text to an address */

int
mw_addr_parse(const char *text, struct mw_addr *addr)
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, text, addr->bytes) == 1) {
		addr->family = 4;
		return (0);
	}
	if (inet_pton(AF_INET6, text, addr->bytes) == 1) {
		if (memcmp(addr->bytes, v4mapped, 12) == 0) {
			memmove(addr->bytes, addr->bytes + 12, 4);
			memset(addr->bytes + 4, 0, 12);
			addr->family = 4;
		} else {
			addr->family = 6;
		}
		return (0);
	}
	return (-1);
}

/* mw_cidr_add - add one network */

int
mw_cidr_add(mw_cidr *table, const char *network, const char *value,
	    char *err, size_t errlen)
{
	char	buf[64];
	char	shown[80];
	struct mw_addr addr;
	struct cidr_slot *slot;
	unsigned char key[18];
	unsigned long long len;
	const char *slash;
	const char *end;
	unsigned max;

	mw_printable(shown, sizeof(shown), network, strlen(network));
	if (*value == '\0' || strlen(value) > MW_CIDR_VALUE_MAX)
		return (mw_err(err, errlen, "%s: value missing or longer than %d bytes",
				  shown, MW_CIDR_VALUE_MAX));
	slash = strchr(network, '/');
	if ((slash ? (size_t) (slash - network) : strlen(network)) >= sizeof(buf))
		return (mw_err(err, errlen, "%s: bad network address", shown));
	mw_strlcpy(buf, network, slash ? (size_t) (slash - network) + 1 : sizeof(buf));
	/* a mapped IPv4 network would change its prefix length: refuse it */
	if (mw_addr_parse(buf, &addr) < 0 || (addr.family == 4 && strchr(buf, ':') != NULL))
		return (mw_err(err, errlen, "%s: bad network address", shown));
	max = addr.family == 4 ? 32 : 128;
	if (slash == NULL) {
		len = max;
	} else if (mw_parse_ull(slash + 1, &len, &end) != 0 || *end != '\0' || len > max) {
		return (mw_err(err, errlen, "%s: bad prefix length (expected 0..%u)", shown, max));
	}
	cidr_key(key, addr.family, (unsigned) len, addr.bytes);
	if (memcmp(key + 2, addr.bytes, addr.family == 4 ? 4 : 16) != 0)
		return (mw_err(err, errlen, "%s: address has bits set beyond the /%llu prefix",
				  shown, len));

	if ((table->used + 1) * 2 > table->size && cidr_grow(table) < 0)
		return (mw_err(err, errlen, "out of memory"));
	if (addr.family == 4 && len >= 16 && table->under16 == NULL
	    && (table->under16 = calloc(65536, sizeof(*table->under16))) == NULL)
		return (mw_err(err, errlen, "out of memory"));
	slot = cidr_find(table, key);
	if (slot->value != NULL)
		return (mw_err(err, errlen, "%s: network listed twice", shown));
	if ((slot->value = strdup(value)) == NULL)
		return (mw_err(err, errlen, "out of memory"));
	memcpy(slot->key, key, sizeof(key));
	table->used++;
	if (addr.family == 4) {
		table->lengths4[len] = 1;
		if (len >= 16)
			table->under16[addr.bytes[0] << 8 | addr.bytes[1]] |= (uint32_t) 1 << (len - 16);
	} else
		table->lengths6[len] = 1;
	return (0);
}

/* mw_cidr_load - add the networks listed in a file */

int
mw_cidr_load(mw_cidr *table, const char *path, char *err, size_t errlen)
{
	char	why[256];
	char   *line = NULL;
	size_t	cap = 0;
	ssize_t	len;
	unsigned lineno = 0;
	char   *cp;
	char   *net;
	char   *val;
	FILE   *fp;
	int	rc = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return (mw_err(err, errlen, "%s: cannot open: %s", path, strerror(errno)));
	while (rc == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (memchr(line, '\0', (size_t) len) != NULL) {
			rc = mw_err(err, errlen, "%s:%u: line contains a NUL byte", path, lineno);
			break;
		}
		if ((cp = strchr(line, '#')) != NULL)
			*cp = '\0';
		net = mw_trim(line);
		if (*net == '\0')
			continue;
		val = net + strcspn(net, " \t");
		if (*val != '\0')
			*val++ = '\0';
		val = mw_trim(val);
		if (*val == '\0' || strcspn(val, " \t") != strlen(val)) {
			rc = mw_err(err, errlen, "%s:%u: expected \"network value\"", path, lineno);
			break;
		}
		if (mw_cidr_add(table, net, val, why, sizeof(why)) < 0)
			rc = mw_err(err, errlen, "%s:%u: %s", path, lineno, why);
	}
	if (rc == 0 && ferror(fp))
		rc = mw_err(err, errlen, "%s: read error: %s", path, strerror(errno));
	free(line);
	fclose(fp);
	return (rc);
}

/* mw_cidr_lookup - value of the longest matching prefix */

const char *
mw_cidr_lookup(const mw_cidr *table, const struct mw_addr *addr)
{
	const unsigned char *lengths = addr->family == 4 ? table->lengths4 : table->lengths6;
	int	len = addr->family == 4 ? 32 : 128;
	unsigned char key[18];
	const struct cidr_slot *slot;
	uint32_t under = 0;

	if (table->used == 0 || (addr->family != 4 && addr->family != 6))
		return (NULL);
	if (addr->family == 4 && table->under16 != NULL)
		under = table->under16[addr->bytes[0] << 8 | addr->bytes[1]];
	for (; len >= 0; len--) {
		if (!lengths[len])
			continue;
		if (addr->family == 4 && len >= 16 && (under & ((uint32_t) 1 << (len - 16))) == 0)
			continue;
		cidr_key(key, addr->family, (unsigned) len, addr->bytes);
		slot = cidr_find(table, key);
		if (slot->value != NULL)
			return (slot->value);
	}
	return (NULL);
}
