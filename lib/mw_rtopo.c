/*++
/* NAME
/*	mw_rtopo 3
/* SUMMARY
/*	Redis topology: Cluster key slots, redirections, slot maps, Sentinel and ROLE replies
/* SYNOPSIS
/*	#include "mw_rtopo.h"
/*
/*	unsigned mw_rtopo_crc16(data, len)
/*	unsigned mw_rtopo_keyslot(key, len)
/*
/*	int	mw_rtopo_redirect(err, len, redirect)
/*	const char *err;
/*	struct mw_rtopo_redirect *redirect;
/*
/*	int	mw_rtopo_slots(reply, host, map, errbuf, errlen)
/*	const struct mw_resp *reply;
/*	const char *host;
/*	struct mw_rtopo_slotmap *map;
/*
/*	const struct mw_rtopo_addr *mw_rtopo_owner(map, slot)
/*	int	mw_rtopo_set_owner(map, slot, addr)
/*
/*	int	mw_rtopo_sentinel_master(reply, addr, errbuf, errlen)
/*	int	mw_rtopo_role(reply, master, errbuf, errlen)
/*	int	mw_rtopo_readonly(err, len)
/*
/*	int	mw_rtopo_seeds_parse(spec, seeds, errbuf, errlen)
/* DESCRIPTION
/*	What a Redis client needs beyond hiredis to use Redis Cluster and
/*	Redis Sentinel, as pure functions of the server's replies (Debian
/*	ships no Cluster client library; this is ours, kept small).
/*	Replies are struct mw_resp trees: the daemon converts hiredis'
/*	redisReply (policy_rtopo_view(3)); nothing here does I/O.
/*
/*	mw_rtopo_crc16() is CRC16-XMODEM (polynomial 0x1021, initial 0),
/*	Redis Cluster's key hash.  mw_rtopo_keyslot() is the slot of a key
/*	exactly as the Cluster specification says: when the key has a
/*	"{" and, after it, a "}" with at least one byte between them, only
/*	the bytes between the first "{" and the first "}" after it are
/*	hashed (the hash tag); otherwise the whole key.  The slot is the
/*	hash modulo MW_RTOPO_SLOTS.
/*
/*	mw_rtopo_redirect() reads an error reply's text (without the
/*	leading "-"): "MOVED SLOT HOST:PORT" returns MW_RTOPO_MOVED,
/*	"ASK SLOT HOST:PORT" MW_RTOPO_ASK, each with the slot and address;
/*	an empty HOST (Redis 7's unknown endpoint: the host of the
/*	connection that answered) is left empty for the caller.  IPv6
/*	addresses are split at the last ":" (Redis writes them without
/*	brackets) or taken from brackets.  Another error returns
/*	MW_RTOPO_NOT_REDIRECT; a MOVED or ASK that does not parse (slot out
/*	of range, port not 1-65535, extra bytes) MW_RTOPO_BAD.
/*
/*	mw_rtopo_slots() builds a slot map from a CLUSTER SLOTS reply:
/*	for each range [START, END, [HOST, PORT, ...], replicas...] the
/*	slots START..END belong to the master HOST:PORT (replicas are not
/*	used: the rate script writes).  An empty or nil HOST is host (the
/*	node that answered).  A range out of order, overlapping another,
/*	a port out of range, more than MW_RTOPO_NODES_MAX masters or any
/*	element of the wrong type makes the whole reply refused (-1, with
/*	why in errbuf), never a partial map; on success it returns the
/*	number of slots with a master (map->covered).
/*	mw_rtopo_owner() is the master of a slot, or NULL.
/*	mw_rtopo_set_owner() records that a slot moved (after a MOVED, until
/*	the map is fetched again): -1 when the map is full.
/*
/*	mw_rtopo_sentinel_master() reads the answer of SENTINEL
/*	get-master-addr-by-name: [HOST, PORT] returns 1 with the address,
/*	nil (the Sentinel knows no such master) MW_RTOPO_UNKNOWN, anything
/*	else -1 with why.
/*
/*	mw_rtopo_role() reads a ROLE reply: MW_RTOPO_ROLE_MASTER,
/*	MW_RTOPO_ROLE_REPLICA (master, when not NULL, is the replica's
/*	master as it sees it) or MW_RTOPO_ROLE_SENTINEL; -1 with why for
/*	anything else.  A client that is to write needs MW_RTOPO_ROLE_MASTER.
/*
/*	mw_rtopo_readonly() tells whether an error reply is READONLY (a
/*	replica refused a write: the master moved).
/*
/*	mw_rtopo_seeds_parse() reads the RateStore forms
/*	"sentinel://HOST[:PORT][,HOST[:PORT]...]/MASTERNAME" (port 26379 by
/*	default) and "cluster://HOST[:PORT][,HOST[:PORT]...]" (port 6379 by
/*	default); an IPv6 HOST is written in brackets.  At most
/*	MW_RTOPO_SEEDS_MAX addresses.  It returns 0, or -1 with why.
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <string.h>

/* Utility library. */

#include "mw_rtopo.h"

/* Redis Cluster's CRC16: XMODEM */

unsigned
mw_rtopo_crc16(const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned crc = 0;
	int	bit;

	while (len-- > 0) {
		crc ^= (unsigned) *p++ << 8;
		for (bit = 0; bit < 8; bit++)
			crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) : (crc << 1);
		crc &= 0xffff;
	}
	return (crc);
}

unsigned
mw_rtopo_keyslot(const char *key, size_t len)
{
	size_t	open, close;

	for (open = 0; open < len && key[open] != '{'; open++)
		 /* void */ ;
	if (open < len) {
		for (close = open + 1; close < len && key[close] != '}'; close++)
			 /* void */ ;
		if (close < len && close > open + 1)
			return (mw_rtopo_crc16(key + open + 1, close - open - 1) % MW_RTOPO_SLOTS);
	}
	return (mw_rtopo_crc16(key, len) % MW_RTOPO_SLOTS);
}

/* number - a decimal 0..max, all of s[0..len) */

static int
number(const char *s, size_t len, long max, long *out)
{
	long	v = 0;
	size_t	i;

	if (len == 0 || len > 10)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return (-1);
	}
	*out = v;
	return (0);
}

/* hostport - HOST:PORT, [HOST]:PORT or :PORT into addr */

static int
hostport(const char *s, size_t len, struct mw_rtopo_addr *addr)
{
	const char *colon = NULL;
	const char *h = s;
	size_t	hlen, i;
	long	port;

	for (i = 0; i < len; i++)
		if (s[i] == ':')
			colon = s + i;
	if (colon == NULL)
		return (-1);
	hlen = (size_t) (colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		h = s + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(addr->host))
		return (-1);
	for (i = 0; i < hlen; i++)
		if ((unsigned char) h[i] <= ' ' || (unsigned char) h[i] >= 0x7f
		    || h[i] == '[' || h[i] == ']' || h[i] == ',' || h[i] == '/')
			return (-1);
	if (number(colon + 1, len - (size_t) (colon - s) - 1, 65535, &port) < 0
	    || port == 0)
		return (-1);
	memcpy(addr->host, h, hlen);
	addr->host[hlen] = 0;
	addr->port = (int) port;
	return (0);
}

int
mw_rtopo_redirect(const char *err, size_t len, struct mw_rtopo_redirect *rd)
{
	int	kind;
	size_t	skip, sp;
	long	slot;

	if (len >= 6 && memcmp(err, "MOVED ", 6) == 0) {
		kind = MW_RTOPO_MOVED;
		skip = 6;
	} else if (len >= 4 && memcmp(err, "ASK ", 4) == 0) {
		kind = MW_RTOPO_ASK;
		skip = 4;
	} else {
		return (MW_RTOPO_NOT_REDIRECT);
	}
	for (sp = skip; sp < len && err[sp] != ' '; sp++)
		 /* void */ ;
	if (sp >= len || number(err + skip, sp - skip, MW_RTOPO_SLOTS - 1, &slot) < 0)
		return (MW_RTOPO_BAD);
	if (hostport(err + sp + 1, len - sp - 1, &rd->to) < 0)
		return (MW_RTOPO_BAD);
	rd->slot = (unsigned) slot;
	return (kind);
}

/* why - the error text */

static int
why(char *errbuf, size_t errlen, const char *what)
{
	if (errlen > 0)
		snprintf(errbuf, errlen, "%s", what);
	return (-1);
}

/* host_elem - a string element into host; nil or "" is dflt */

static int
host_elem(const struct mw_resp *r, const char *dflt, char *host)
{
	size_t	i;

	if (r->type == MW_RESP_NIL || (r->type == MW_RESP_STRING && r->len == 0)) {
		if (dflt == NULL || strlen(dflt) >= MW_RTOPO_HOST_MAX)
			return (-1);
		strcpy(host, dflt);
		return (0);
	}
	if (r->type != MW_RESP_STRING || r->len >= MW_RTOPO_HOST_MAX || r->str == NULL)
		return (-1);
	for (i = 0; i < r->len; i++)
		if ((unsigned char) r->str[i] <= ' ' || (unsigned char) r->str[i] >= 0x7f)
			return (-1);
	if (r->len == 1 && r->str[0] == '?')	/* Redis 7: no usable endpoint */
		return (-1);
	memcpy(host, r->str, r->len);
	host[r->len] = 0;
	return (0);
}

/* port_elem - an integer or a decimal string 1..65535 */

static int
port_elem(const struct mw_resp *r, int *port)
{
	long	v;

	if (r->type == MW_RESP_INTEGER) {
		if (r->integer < 1 || r->integer > 65535)
			return (-1);
		*port = (int) r->integer;
		return (0);
	}
	if (r->type != MW_RESP_STRING || r->str == NULL
	    || number(r->str, r->len, 65535, &v) < 0 || v == 0)
		return (-1);
	*port = (int) v;
	return (0);
}

/* refuse - no partial map: empty it, and why */

static int
refuse(struct mw_rtopo_slotmap *map, char *errbuf, size_t errlen, const char *what)
{
	memset(map, 0, sizeof(*map));
	return (why(errbuf, errlen, what));
}

int
mw_rtopo_slots(const struct mw_resp *reply, const char *dflt, struct mw_rtopo_slotmap *map,
	               char *errbuf, size_t errlen)
{
	const struct mw_resp *range, *node;
	struct mw_rtopo_addr a;
	size_t	i, n;
	long long s;

	memset(map, 0, sizeof(*map));
	if (reply == NULL || reply->type != MW_RESP_ARRAY)
		return (refuse(map, errbuf, errlen, "CLUSTER SLOTS: not an array"));
	for (i = 0; i < reply->elements; i++) {
		range = reply->element + i;
		if (range->type != MW_RESP_ARRAY || range->elements < 3)
			return (refuse(map, errbuf, errlen, "CLUSTER SLOTS: a range is not [start, end, master...]"));
		if (range->element[0].type != MW_RESP_INTEGER || range->element[1].type != MW_RESP_INTEGER
		    || range->element[0].integer < 0 || range->element[1].integer >= MW_RTOPO_SLOTS
		    || range->element[0].integer > range->element[1].integer)
			return (refuse(map, errbuf, errlen, "CLUSTER SLOTS: a slot range out of order or out of 0-16383"));
		node = range->element + 2;
		if (node->type != MW_RESP_ARRAY || node->elements < 2
		    || host_elem(node->element + 0, dflt, a.host) < 0
		    || port_elem(node->element + 1, &a.port) < 0)
			return (refuse(map, errbuf, errlen, "CLUSTER SLOTS: a master is not [host, port...]"));
		for (n = 0; n < map->nnodes; n++)
			if (map->node[n].port == a.port && strcmp(map->node[n].host, a.host) == 0)
				break;
		if (n == map->nnodes) {
			if (map->nnodes >= MW_RTOPO_NODES_MAX)
				return (refuse(map, errbuf, errlen, "CLUSTER SLOTS: more masters than supported"));
			map->node[map->nnodes++] = a;
		}
		for (s = range->element[0].integer; s <= range->element[1].integer; s++) {
			if (map->owner[s] != 0)
				return (refuse(map, errbuf, errlen, "CLUSTER SLOTS: overlapping slot ranges"));
			map->owner[s] = (uint8_t) (n + 1);
			map->covered++;
		}
	}
	return ((int) map->covered);
}

const struct mw_rtopo_addr *
mw_rtopo_owner(const struct mw_rtopo_slotmap *map, unsigned slot)
{
	if (slot >= MW_RTOPO_SLOTS || map->owner[slot] == 0)
		return (NULL);
	return (&map->node[map->owner[slot] - 1]);
}

int
mw_rtopo_set_owner(struct mw_rtopo_slotmap *map, unsigned slot, const struct mw_rtopo_addr *a)
{
	size_t	n;

	if (slot >= MW_RTOPO_SLOTS)
		return (-1);
	for (n = 0; n < map->nnodes; n++)
		if (map->node[n].port == a->port && strcmp(map->node[n].host, a->host) == 0)
			break;
	if (n == map->nnodes) {
		if (map->nnodes >= MW_RTOPO_NODES_MAX)
			return (-1);
		map->node[map->nnodes++] = *a;
	}
	if (map->owner[slot] == 0)
		map->covered++;
	map->owner[slot] = (uint8_t) (n + 1);
	return (0);
}

int
mw_rtopo_sentinel_master(const struct mw_resp *reply, struct mw_rtopo_addr *a,
			         char *errbuf, size_t errlen)
{
	if (reply == NULL)
		return (why(errbuf, errlen, "Sentinel: no reply"));
	if (reply->type == MW_RESP_NIL)
		return (MW_RTOPO_UNKNOWN);
	if (reply->type == MW_RESP_ERROR)
		return (why(errbuf, errlen, "Sentinel: an error reply"));
	if (reply->type != MW_RESP_ARRAY || reply->elements != 2
	    || reply->element[0].type != MW_RESP_STRING
	    || host_elem(reply->element + 0, NULL, a->host) < 0
	    || port_elem(reply->element + 1, &a->port) < 0)
		return (why(errbuf, errlen, "Sentinel: the master's address is not [host, port]"));
	return (1);
}

static int
is_word(const struct mw_resp *r, const char *w)
{
	return ((r->type == MW_RESP_STRING || r->type == MW_RESP_STATUS) && r->str != NULL
		&& r->len == strlen(w) && memcmp(r->str, w, r->len) == 0);
}

int
mw_rtopo_role(const struct mw_resp *reply, struct mw_rtopo_addr *master,
	              char *errbuf, size_t errlen)
{
	struct mw_rtopo_addr a;

	if (reply == NULL || reply->type != MW_RESP_ARRAY || reply->elements < 1)
		return (why(errbuf, errlen, "ROLE: not an array"));
	if (is_word(reply->element, "master")) {
		if (reply->elements != 3 || reply->element[1].type != MW_RESP_INTEGER
		    || reply->element[2].type != MW_RESP_ARRAY)
			return (why(errbuf, errlen, "ROLE: a master's reply is not [master, offset, replicas]"));
		return (MW_RTOPO_ROLE_MASTER);
	}
	if (is_word(reply->element, "slave") || is_word(reply->element, "replica")) {
		if (reply->elements != 5 || host_elem(reply->element + 1, NULL, a.host) < 0
		    || port_elem(reply->element + 2, &a.port) < 0
		    || reply->element[3].type != MW_RESP_STRING)
			return (why(errbuf, errlen, "ROLE: a replica's reply is not [slave, host, port, state, offset]"));
		if (master != NULL)
			*master = a;
		return (MW_RTOPO_ROLE_REPLICA);
	}
	if (is_word(reply->element, "sentinel"))
		return (MW_RTOPO_ROLE_SENTINEL);
	return (why(errbuf, errlen, "ROLE: neither master, replica nor sentinel"));
}

int
mw_rtopo_readonly(const char *err, size_t len)
{
	return (len >= 8 && memcmp(err, "READONLY", 8) == 0 && (len == 8 || err[8] == ' '));
}

int
mw_rtopo_seeds_parse(const char *spec, struct mw_rtopo_seeds *seeds, char *errbuf, size_t errlen)
{
	const char *p, *end, *item, *slash;
	int	dflt_port;
	size_t	len, i;
	char	buf[MW_RTOPO_HOST_MAX + 16];

	memset(seeds, 0, sizeof(*seeds));
	if (strncmp(spec, "sentinel://", 11) == 0) {
		seeds->kind = MW_RTOPO_SENTINEL;
		p = spec + 11;
		dflt_port = 26379;
	} else if (strncmp(spec, "cluster://", 10) == 0) {
		seeds->kind = MW_RTOPO_CLUSTER;
		p = spec + 10;
		dflt_port = 6379;
	} else {
		return (why(errbuf, errlen, "expected sentinel://HOST:PORT,.../MASTERNAME or cluster://HOST:PORT,..."));
	}
	slash = strchr(p, '/');
	end = slash ? slash : p + strlen(p);
	if (seeds->kind == MW_RTOPO_SENTINEL) {
		if (slash == NULL || slash[1] == 0)
			return (why(errbuf, errlen, "sentinel://: the master's name is missing (sentinel://HOST:PORT,.../MASTERNAME)"));
		len = strlen(slash + 1);
		if (len >= sizeof(seeds->name))
			return (why(errbuf, errlen, "sentinel://: the master's name is too long"));
		for (i = 0; i < len; i++)
			if ((unsigned char) slash[1 + i] <= ' ' || (unsigned char) slash[1 + i] >= 0x7f
			    || slash[1 + i] == '/')
				return (why(errbuf, errlen, "sentinel://: the master's name has a space, a control character or a \"/\""));
		memcpy(seeds->name, slash + 1, len + 1);
	} else if (slash != NULL) {
		return (why(errbuf, errlen, "cluster://: nothing may follow the addresses"));
	}
	for (item = p; item <= end; item = p + 1) {
		for (p = item; p < end && *p != ','; p++)
			 /* void */ ;
		len = (size_t) (p - item);
		if (len == 0)
			return (why(errbuf, errlen, "an empty address in the list"));
		if (seeds->n >= MW_RTOPO_SEEDS_MAX)
			return (why(errbuf, errlen, "more addresses than supported (16)"));
		if (len >= MW_RTOPO_HOST_MAX)
			return (why(errbuf, errlen, "an address is too long"));
		/* no port: the default one */
		if (item[len - 1] == ']' || memchr(item, ':', len) == NULL)
			snprintf(buf, sizeof(buf), "%.*s:%d", (int) len, item, dflt_port);
		else
			snprintf(buf, sizeof(buf), "%.*s", (int) len, item);
		if (hostport(buf, strlen(buf), seeds->addr + seeds->n) < 0
		    || seeds->addr[seeds->n].host[0] == 0)
			return (why(errbuf, errlen, "an address is not HOST:PORT (port 1-65535; IPv6 in brackets)"));
		seeds->n++;
		if (p >= end)
			break;
	}
	return (0);
}
