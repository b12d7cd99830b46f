/*++
/* NAME
/*	mw_proxy 3
/* SUMMARY
/*	proxy tier: user -> backend, with down marks and away records
/* SYNOPSIS
/*	#include "mw_proxy.h"
/*
/*	MW_PROXY *mw_proxy_create(backends, err)
/*	const char *backends;
/*	char	err[MW_SHARD_ERR_MAX];
/*
/*	void	mw_proxy_free(proxy)
/*	MW_PROXY *proxy;
/*
/*	int	mw_proxy_find(proxy, name)
/*	const MW_PROXY *proxy;
/*	const char *name;
/*
/*	int	mw_proxy_states_parse(proxy, value, states, why)
/*	const MW_PROXY *proxy;
/*	const char *value;
/*	MW_PROXY_STATE *states;
/*	const char **why;
/*
/*	int	mw_proxy_away_parse(proxy, value, away, why)
/*	const MW_PROXY *proxy;
/*	const char *value;
/*	MW_PROXY_AWAY *away;
/*	const char **why;
/*
/*	void	mw_proxy_away_format(proxy, away, buf, len)
/*	const MW_PROXY *proxy;
/*	const MW_PROXY_AWAY *away;
/*	char	*buf;
/*	size_t	len;
/*
/*	int	mw_proxy_states_format(proxy, states, buf, len)
/*	const MW_PROXY *proxy;
/*	const MW_PROXY_STATE *states;
/*	char	*buf;
/*	size_t	len;
/*
/*	int	mw_proxy_away_valid(away, home, states)
/*	const MW_PROXY_AWAY *away;
/*	int	home;
/*	const MW_PROXY_STATE *states;
/*
/*	int	mw_proxy_decide(proxy, norm_user, pin, states, away, dec, err)
/*	const MW_PROXY *proxy;
/*	const char *norm_user;
/*	const char *pin;
/*	const MW_PROXY_STATE *states;
/*	const MW_PROXY_AWAY *away;
/*	MW_PROXY_DECISION *dec;
/*	char	err[MW_SHARD_ERR_MAX];
/* DESCRIPTION
/*	This module decides which backend Dovecot's proxy tier sends a
/*	user to; the auth module (libauthdb_mailshard_proxy.so) does the
/*	I/O, doveadm mailshard backend changes the states.  Every proxy that
/*	reads the same states and records decides the same.
/*
/*	mw_proxy_create() parses "NAME=HOST[:PORT[:WEIGHT]] ..." (white
/*	space or comma separated; HOST a name, an IPv4 address or an
/*	[IPv6] address; PORT 1-65535, or 0 or absent: the port the client
/*	reached on the proxy; WEIGHT as for volumes, default 1).  The
/*	user's home is the weighted rendezvous choice of mw_shard(3)
/*	over the names and weights, exactly as volumes are chosen.
/*
/*	mw_proxy_states_parse() reads the backends' stored states, one
/*	value "NAME=STATE:EPOCH ..." (STATE up, down, hold or returning)
/*	into states[] (one per configured backend, in list order); a
/*	backend not listed, or NULL (no record), is up with epoch 0; a
/*	name that is not configured here is ignored.  mw_proxy_away_parse() reads an away record
/*	"AT HOME EPOCH" (two configured backend names and a number);
/*	mw_proxy_away_format() writes one.  mw_proxy_states_format()
/*	writes the stored form of states[] (what mw_proxy_states_parse()
/*	reads back): the backends that are not up with epoch 0, in list
/*	order; "" when all are.  These are the only readers and writers of
/*	the stored forms: the auth module and the doveadm command
/*	(doveadm mailshard backend) both use them.
/*
/*	mw_proxy_away_valid() tells whether an away record still binds
/*	a user whose home is the backend index home: the record names that
/*	home, its epoch is not below the home's, and the backend it
/*	names as AT is another one and not down.
/*
/*	mw_proxy_decide(): the home is the pin (a configured backend
/*	name; any weight) if pin is not empty, else the rendezvous
/*	choice.  A valid away record (same home, epoch not below the
/*	home's, AT not down) wins: the user still may have sessions there.
/*	It means tempfail while the home is returning (its return is being
/*	checked) or AT is on hold.  Without one: home up or returning:
/*	home; home on hold: tempfail; home down: the next rendezvous
/*	choice among the backends neither down nor on hold (tempfail if
/*	none), and the away record to store before answering.
/* DIAGNOSTICS
/*	mw_proxy_create() returns NULL with the reason in err; the parse
/*	functions return -1 with the reason in *why;
/*	mw_proxy_states_format() returns -1 if len is too small;
/*	mw_proxy_decide()
/*	returns -1 (with err) for a pin that names no backend.
/* SEE ALSO
/*	mw_shard(3), mailshard-proxy(8)
/*--*/

/* System library. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "mw_str.h"
#include "mw_shard.h"
#include "mw_proxy.h"

#define PROXY_SEP	" \t\r\n,"

/* proxy_err - format an error text */

static void
proxy_err(char *err, const char *fmt,...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, MW_SHARD_ERR_MAX, fmt, ap);
	va_end(ap);
}

/* parse_num - decimal number up to hi, whole string */

static int
parse_num(const char *str, unsigned long long hi, unsigned long long *val)
{
	const char *end;

	if (mw_parse_ull(str, val, &end) < 0 || *end != '\0' || *val > hi)
		return (-1);
	return (0);
}

/* valid_host - host name or address characters */

static int
valid_host(const char *host, int v6)
{
	const char *cp;

	if (*host == '\0' || strlen(host) > MW_PROXY_HOST_MAX)
		return (0);
	for (cp = host; *cp != '\0'; cp++)
		if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')
		      || (*cp >= '0' && *cp <= '9') || *cp == '.' || *cp == '-'
		      || (v6 && *cp == ':')))
			return (0);
	return (1);
}

/* parse_backend - one NAME=HOST[:PORT[:WEIGHT]] token */

static int
parse_backend(MW_PROXY_BACKEND *be, char *tok, char *err)
{
	unsigned long long v;
	char   *eq, *host, *rest, *colon;

	if ((eq = strchr(tok, '=')) == NULL || eq[1] == '\0') {
		proxy_err(err, "backend \"%.64s\": expected NAME=HOST[:PORT[:WEIGHT]]", tok);
		return (-1);
	}
	*eq = '\0';
	if (strlen(tok) > MW_SHARD_NAME_MAX) {
		proxy_err(err, "backend name \"%.64s...\" is too long", tok);
		return (-1);
	}
	mw_strlcpy(be->name, tok, sizeof(be->name));
	host = eq + 1;
	if (*host == '[') {
		if ((rest = strchr(host, ']')) == NULL) {
			proxy_err(err, "backend %s: \"[\" without \"]\"", be->name);
			return (-1);
		}
		*rest++ = '\0';
		host++;
		if (*rest != '\0' && *rest++ != ':') {
			proxy_err(err, "backend %s: expected \":\" after \"]\"", be->name);
			return (-1);
		}
		if (!valid_host(host, 1)) {
			proxy_err(err, "backend %s: bad IPv6 address \"%.64s\"", be->name, host);
			return (-1);
		}
	} else {
		rest = host + strcspn(host, ":");
		if (*rest == ':')
			*rest++ = '\0';
		if (!valid_host(host, 0)) {
			proxy_err(err, "backend %s: bad host \"%.64s\"", be->name, host);
			return (-1);
		}
	}
	mw_strlcpy(be->host, host, sizeof(be->host));
	be->port = 0;
	be->weight = 1;
	/* rest: "PORT[:WEIGHT]", or "" */
	if (*rest != '\0') {
		if ((colon = strchr(rest, ':')) != NULL)
			*colon = '\0';
		if (parse_num(rest, 65535, &v) < 0) {
			proxy_err(err, "backend %s: port \"%.16s\" is not a number "
				  "from 0 to 65535", be->name, rest);
			return (-1);
		}
		be->port = (unsigned) v;
		if (colon != NULL) {
			if (parse_num(colon + 1, MW_SHARD_WEIGHT_MAX, &v) < 0) {
				proxy_err(err, "backend %s: weight \"%.16s\" is not a "
					  "number from 0 to %d", be->name, colon + 1,
					  MW_SHARD_WEIGHT_MAX);
				return (-1);
			}
			be->weight = (unsigned) v;
		}
	}
	return (0);
}

/* mw_proxy_create - parse the backend list */

MW_PROXY *
mw_proxy_create(const char *backends, char *err)
{
	MW_PROXY *proxy;
	const char **names = NULL;
	unsigned *weights = NULL;
	char   *copy, *tok, *save;
	int	n = 0, i;

	if (backends == NULL)
		backends = "";
	if ((proxy = calloc(1, sizeof(*proxy))) == NULL
	    || (copy = strdup(backends)) == NULL) {
		free(proxy);
		proxy_err(err, "out of memory");
		return (NULL);
	}
	for (tok = copy; *(tok += strspn(tok, PROXY_SEP)) != '\0'; tok += strcspn(tok, PROXY_SEP))
		n++;
	if (n == 0) {
		proxy_err(err, "no backends configured (NAME=HOST[:PORT[:WEIGHT]] ...)");
		goto bad;
	}
	if (n > MW_SHARD_VOLUMES_MAX) {
		proxy_err(err, "more than %d backends", MW_SHARD_VOLUMES_MAX);
		goto bad;
	}
	if ((proxy->backends = calloc(n, sizeof(*proxy->backends))) == NULL
	    || (names = calloc(n, sizeof(*names))) == NULL
	    || (weights = calloc(n, sizeof(*weights))) == NULL) {
		proxy_err(err, "out of memory");
		goto bad;
	}
	for (tok = strtok_r(copy, PROXY_SEP, &save); tok != NULL;
	     tok = strtok_r(NULL, PROXY_SEP, &save)) {
		if (parse_backend(proxy->backends + proxy->count, tok, err) < 0)
			goto bad;
		proxy->count++;
	}
	for (i = 0; i < proxy->count; i++) {
		names[i] = proxy->backends[i].name;
		weights[i] = proxy->backends[i].weight;
	}
	if ((proxy->set = mw_shard_create_set(names, weights, proxy->count, err)) == NULL) {
		char	why[MW_SHARD_ERR_MAX];

		mw_strlcpy(why, err, sizeof(why));
		proxy_err(err, "backends: %s", why);
		goto bad;
	}
	free(names);
	free(weights);
	free(copy);
	return (proxy);

bad:
	free(names);
	free(weights);
	free(copy);
	mw_proxy_free(proxy);
	return (NULL);
}

/* mw_proxy_free - release */

void
mw_proxy_free(MW_PROXY *proxy)
{
	if (proxy != NULL) {
		mw_shard_free(proxy->set);
		free(proxy->backends);
		free(proxy);
	}
}

/* mw_proxy_find - a backend by name, or -1 */

int
mw_proxy_find(const MW_PROXY *proxy, const char *name)
{
	return (mw_shard_find(proxy->set, name));
}

static const char *const state_names[] = {"up", "down", "hold", "returning"};

/* mw_proxy_state_name - "up", "down", "hold", "returning" */

const char *
mw_proxy_state_name(int state)
{
	return (state >= 0 && state <= MW_PROXY_RETURNING ? state_names[state] : "?");
}

/* split_words - exactly want space-separated words of a copy; 0, or -1 */

static int
split_words(const char *value, char *buf, size_t len, char **words, int want)
{
	char   *cp = buf;
	int	n = 0;

	if (mw_strlcpy(buf, value, len) >= len)
		return (-1);
	while (*(cp += strspn(cp, " ")) != '\0') {
		if (n == want)
			return (-1);
		words[n++] = cp;
		cp += strcspn(cp, " ");
		if (*cp != '\0')
			*cp++ = '\0';
	}
	return (n == want ? 0 : -1);
}

/* mw_proxy_states_parse - "NAME=STATE:EPOCH ...", or NULL: all up 0 */

int
mw_proxy_states_parse(const MW_PROXY *proxy, const char *value,
		              MW_PROXY_STATE *states, const char **why)
{
	unsigned char seen[MW_SHARD_VOLUMES_MAX];
	char	name[MW_SHARD_NAME_MAX + 1], word[16], num[24];
	const char *cp, *eq, *colon, *end;
	unsigned long long epoch;
	size_t	n;
	int	i, j;

	for (i = 0; i < proxy->count; i++) {
		states[i].state = MW_PROXY_UP;
		states[i].epoch = 0;
		seen[i] = 0;
	}
	if (value == NULL)
		return (0);
	for (cp = value; *(cp += strspn(cp, " ")) != '\0'; cp = end) {
		end = cp + strcspn(cp, " ");
		if ((eq = memchr(cp, '=', end - cp)) == NULL
		    || (colon = memchr(eq, ':', end - eq)) == NULL)
			return (*why = "expected NAME=STATE:EPOCH ...", -1);
		if ((n = eq - cp) == 0 || n > MW_SHARD_NAME_MAX)
			return (*why = "a backend name is empty or too long", -1);
		memcpy(name, cp, n);
		name[n] = '\0';
		if ((n = colon - eq - 1) >= sizeof(word))
			return (*why = "STATE is not up, down, hold or returning", -1);
		memcpy(word, eq + 1, n);
		word[n] = '\0';
		for (j = 0; j <= MW_PROXY_RETURNING; j++)
			if (strcmp(word, state_names[j]) == 0)
				break;
		if (j > MW_PROXY_RETURNING)
			return (*why = "STATE is not up, down, hold or returning", -1);
		if ((n = end - colon - 1) == 0 || n >= sizeof(num))
			return (*why = "EPOCH is not a number", -1);
		memcpy(num, colon + 1, n);
		num[n] = '\0';
		if (parse_num(num, ~0ULL, &epoch) < 0)
			return (*why = "EPOCH is not a number", -1);
		/* a name this proxy does not know: another proxy's, ignored */
		if ((i = mw_proxy_find(proxy, name)) < 0)
			continue;
		if (seen[i]++)
			return (*why = "a backend is listed twice", -1);
		states[i].state = j;
		states[i].epoch = epoch;
	}
	return (0);
}

/* mw_proxy_away_parse - "AT HOME EPOCH" */

int
mw_proxy_away_parse(const MW_PROXY *proxy, const char *value, MW_PROXY_AWAY *away,
		            const char **why)
{
	char	buf[MW_PROXY_VALUE_MAX], *w[3];

	if (split_words(value, buf, sizeof(buf), w, 3) < 0)
		return (*why = "expected AT HOME EPOCH", -1);
	if ((away->at = mw_proxy_find(proxy, w[0])) < 0
	    || (away->home = mw_proxy_find(proxy, w[1])) < 0)
		return (*why = "names a backend that is not configured", -1);
	if (parse_num(w[2], ~0ULL, &away->epoch) < 0)
		return (*why = "EPOCH is not a number", -1);
	return (0);
}

/* mw_proxy_away_format - the stored form of a record */

void
mw_proxy_away_format(const MW_PROXY *proxy, const MW_PROXY_AWAY *away,
		             char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %llu", proxy->backends[away->at].name,
		 proxy->backends[away->home].name, away->epoch);
}

/* mw_proxy_states_format - the stored form of all states */

int
mw_proxy_states_format(const MW_PROXY *proxy, const MW_PROXY_STATE *states,
		               char *buf, size_t len)
{
	size_t	used = 0;
	int	i, n;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	for (i = 0; i < proxy->count; i++) {
		if (states[i].state == MW_PROXY_UP && states[i].epoch == 0)
			continue;
		n = snprintf(buf + used, len - used, "%s%s=%s:%llu",
			     used > 0 ? " " : "", proxy->backends[i].name,
			     mw_proxy_state_name(states[i].state), states[i].epoch);
		if (n < 0 || (size_t) n >= len - used)
			return (-1);
		used += n;
	}
	return (0);
}

/* mw_proxy_away_valid - the record still binds a user of that home */

int
mw_proxy_away_valid(const MW_PROXY_AWAY *away, int home,
		            const MW_PROXY_STATE *states)
{
	return (away->home == home && away->at != home
		&& away->epoch >= states[home].epoch
		&& states[away->at].state != MW_PROXY_DOWN);
}

/* tempfail - a decision to wait */

static int
tempfail(MW_PROXY_DECISION *dec, const char *why)
{
	dec->backend = -1;
	dec->reason = MW_PROXY_TEMPFAIL;
	dec->why = why;
	return (0);
}

/* mw_proxy_decide - where a user goes now */

int
mw_proxy_decide(const MW_PROXY *proxy, const char *norm_user, const char *pin,
		        const MW_PROXY_STATE *states, const MW_PROXY_AWAY *away,
		        MW_PROXY_DECISION *dec, char *err)
{
	unsigned char skip[MW_SHARD_VOLUMES_MAX];
	int	home, i, next;

	memset(dec, 0, sizeof(*dec));
	if (pin != NULL && *pin != '\0') {
		if ((home = mw_proxy_find(proxy, pin)) < 0) {
			char	shown[80];

			mw_printable(shown, sizeof(shown), pin, strlen(pin));
			proxy_err(err, "mailshard_backend \"%s\" is not a configured backend",
				  shown);
			return (-1);
		}
		dec->reason = MW_PROXY_BY_PIN;
	} else {
		home = mw_shard_pick(proxy->set, norm_user);
		dec->reason = MW_PROXY_BY_HASH;
	}
	dec->home = home;

	/*
	 * A valid away record: the user may still have sessions at AT.
	 */
	if (away != NULL && mw_proxy_away_valid(away, home, states)) {
		if (states[home].state == MW_PROXY_RETURNING)
			return (tempfail(dec, "home backend returning"));
		if (states[away->at].state == MW_PROXY_HOLD)
			return (tempfail(dec, "away backend on hold"));
		dec->backend = away->at;
		dec->reason = MW_PROXY_BY_AWAY;
		return (0);
	}
	switch (states[home].state) {
	case MW_PROXY_HOLD:
		return (tempfail(dec, "home backend on hold"));
	case MW_PROXY_DOWN:
		for (i = 0; i < proxy->count; i++)
			skip[i] = states[i].state == MW_PROXY_DOWN
			    || states[i].state == MW_PROXY_HOLD;
		if ((next = mw_shard_pick_skip(proxy->set, norm_user, skip)) < 0)
			return (tempfail(dec, "no backend up"));
		dec->backend = next;
		dec->reason = MW_PROXY_BY_MOVED;
		dec->write_away = 1;
		dec->away.at = next;
		dec->away.home = home;
		dec->away.epoch = states[home].epoch;
		return (0);
	default:
		dec->backend = home;
		return (0);
	}
}

/* mw_proxy_reason_name - for the log */

const char *
mw_proxy_reason_name(int reason)
{
	switch (reason) {
	case MW_PROXY_BY_HASH:
		return ("hash");
	case MW_PROXY_BY_PIN:
		return ("pin");
	case MW_PROXY_BY_AWAY:
		return ("away");
	case MW_PROXY_BY_MOVED:
		return ("moved");
	default:
		return ("tempfail");
	}
}
