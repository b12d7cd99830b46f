/*++
/* NAME
/*	policy_conf 3
/* SUMMARY
/*	mailwarren-policyd configuration and tables
/* SYNOPSIS
/*	#include "policy.h"
/*
/*	const struct mw_cfg_entry policy_conf_table[];
/*
/*	struct policy_tables *policy_tables_load(conf, err, errlen)
/*	struct policy_conf *conf;
/*	char	*err;
/*	size_t	errlen;
/*
/*	void	policy_tables_free(tables)
/*	struct policy_tables *tables;
/*
/*	int	policy_limits_for(tables, id, messages, recipients)
/*	const char *id;
/*	struct mw_rate_limits *messages;
/*	struct mw_rate_limits *recipients;
/* DESCRIPTION
/*	policy_conf_table describes mailwarren-policyd.conf; see
/*	mailwarren-policyd.conf(5) for each key.
/*
/*	policy_tables_load() builds, from the files and lists the
/*	configuration names, everything a decision needs: hosted domains,
/*	customer networks, the sender-login map, the suspended set and
/*	the rate windows with their per-id overrides.  The daemon calls it
/*	at start and on reload, and swaps in the result only when it
/*	succeeded, so a bad file never replaces good tables.
/*
/*	policy_limits_for() gives the message and recipient windows of a
/*	login or customer id: its RateLimitMap entry ("messages=LIMITS
/*	recipients=LIMITS", either part optional), else the defaults.
/* DIAGNOSTICS
/*	policy_tables_load() returns NULL with "file:line: reason" (or
/*	"Key: reason") in err.  policy_limits_for() returns -1 when an
/*	override cannot be parsed (cannot happen for loaded tables, which
/*	were checked).
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Utility library. */

#include "mw_metrics.h"
#include "mw_endpoint.h"
#include "mw_str.h"

/* Application-specific. */

#include "policy.h"

#define C(member) offsetof(struct policy_conf, member)

const struct mw_cfg_entry policy_conf_table[] = {
	{"PolicySocket", MW_CFG_STRING, "inet:10040@127.0.0.1", C(policy_socket), 0, 0},
	{"User", MW_CFG_STRING, NULL, C(user), 0, 0},
	{"Group", MW_CFG_STRING, NULL, C(group), 0, 0},
	{"PidFile", MW_CFG_STRING, NULL, C(pid_file), 0, 0},
	{"HostedDomains", MW_CFG_LIST, NULL, C(hosted_domains), 0, 0},
	{"CustomerNetworks", MW_CFG_STRING, NULL, C(customer_networks), 0, 0},
	{"SenderLoginMap", MW_CFG_STRING, NULL, C(sender_login_map), 0, 0},
	{"SuspendedList", MW_CFG_LIST, NULL, C(suspended_list), 0, 0},
	{"MessageRateLimit", MW_CFG_STRING, NULL, C(message_rate_limit), 0, 0},
	{"RecipientRateLimit", MW_CFG_STRING, NULL, C(recipient_rate_limit), 0, 0},
	{"RateLimitMap", MW_CFG_STRING, NULL, C(rate_limit_map), 0, 0},
	{"RateStore", MW_CFG_STRING, "memory", C(rate_store), 0, 0},
	{"RedisTimeout", MW_CFG_INT, "100", C(redis_timeout), 1, 60000},
	{"RedisUser", MW_CFG_STRING, NULL, C(redis_user), 0, 0},
	{"RedisPassword", MW_CFG_STRING, NULL, C(redis_password), 0, 0},
	{"RedisPasswordFile", MW_CFG_STRING, NULL, C(redis_password_file), 0, 0},
	{"RedisDatabase", MW_CFG_INT, "0", C(redis_database), 0, 2147483647LL},
	{"RedisCAFile", MW_CFG_STRING, NULL, C(redis_ca_file), 0, 0},
	{"RedisCertFile", MW_CFG_STRING, NULL, C(redis_cert_file), 0, 0},
	{"RedisKeyFile", MW_CFG_STRING, NULL, C(redis_key_file), 0, 0},
	{"RedisFailMode", MW_CFG_STRING, "tempfail", C(redis_fail_mode), 0, 0},
	{"RelayDenyAction", MW_CFG_STRING, "reject", C(relay_deny_action), 0, 0},
	{"MaxLineLength", MW_CFG_SIZE, "8K", C(max_line_length), 256, 1024 * 1024},
	{"MaxAttributes", MW_CFG_INT, "256", C(max_attributes), 16, 10000},
	{"IdleTimeout", MW_CFG_TIME, "1h", C(idle_timeout), 301, 7 * 86400},
	{"MaxConnections", MW_CFG_INT, "4096", C(max_connections), 1, 65536},
	{"LogAccepts", MW_CFG_BOOL, "yes", C(log_accepts), 0, 0},
	{"RecipientUserdb", MW_CFG_STRING, NULL, C(recipient_userdb), 0, 0},
	{"RecipientUserdbTimeout", MW_CFG_INT, "500", C(recipient_userdb_timeout), 1, 60000},
	{"RecipientCacheTime", MW_CFG_TIME, "10m", C(recipient_cache_time), 0, 7 * 86400},
	{"RecipientNegativeCacheTime", MW_CFG_TIME, "1m", C(recipient_negative_cache_time), 0, 7 * 86400},
	{"RecipientCacheSize", MW_CFG_INT, "100000", C(recipient_cache_size), 1, 100000000},
	{"RecipientDelimiter", MW_CFG_STRING, NULL, C(recipient_delimiter), 0, 0},
	MW_RELAY_USERDB_CFG(C),
	{"MetricsListen", MW_CFG_STRING, NULL, C(metrics_listen), 0, 0},
	MW_CFG_END,
};

/* parse_override - "messages=LIMITS recipients=LIMITS" */

static int
parse_override(const char *value, struct mw_rate_limits *messages,
	       struct mw_rate_limits *recipients, char *err, size_t errlen)
{
	char	buf[512];
	char   *cp;
	char   *word;
	char   *save = NULL;

	if (mw_strlcpy(buf, value, sizeof(buf)) >= sizeof(buf)) {
		snprintf(err, errlen, "entry too long");
		return (-1);
	}
	for (cp = buf; (word = strtok_r(cp, " \t", &save)) != NULL; cp = NULL) {
		if (strncasecmp(word, "messages=", 9) == 0) {
			if (mw_rate_parse(word + 9, messages, err, errlen) < 0)
				return (-1);
		} else if (strncasecmp(word, "recipients=", 11) == 0) {
			if (mw_rate_parse(word + 11, recipients, err, errlen) < 0)
				return (-1);
		} else {
			snprintf(err, errlen, "expected messages=LIMITS and/or recipients=LIMITS, found \"%.40s\"", word);
			return (-1);
		}
	}
	return (0);
}

/* policy_limits_for - the windows of one id */

int
policy_limits_for(const struct policy_tables *t, const char *id,
		          struct mw_rate_limits *messages, struct mw_rate_limits *recipients)
{
	const char *value;
	char	err[256];

	*messages = t->messages;
	*recipients = t->recipients;
	if (t->rate_overrides == NULL || (value = mw_map_get(t->rate_overrides, id)) == NULL)
		return (0);
	return (parse_override(value, messages, recipients, err, sizeof(err)));
}

/* check_overrides - every RateLimitMap entry must parse */

static int
check_overrides(const struct policy_conf *conf, const struct policy_tables *t,
		        char *err, size_t errlen)
{
	struct mw_rate_limits m;
	struct mw_rate_limits r;
	char	why[256];
	char   *line = NULL;
	size_t	cap = 0;
	unsigned lineno = 0;
	char   *key;
	FILE   *fp;
	int	rc = 0;

	/* Re-read the file for line numbers; the map already loaded it. */
	if ((fp = fopen(conf->rate_limit_map, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open", conf->rate_limit_map);
		return (-1);
	}
	while (rc == 0 && getline(&line, &cap, fp) >= 0) {
		lineno++;
		key = mw_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		key[strcspn(key, " \t")] = '\0';
		if (parse_override(mw_map_get(t->rate_overrides, key), &m, &r, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", conf->rate_limit_map, lineno, why);
			rc = -1;
		}
	}
	free(line);
	fclose(fp);
	return (rc);
}

/* policy_tables_load - build all tables from the configuration */

struct policy_tables *
policy_tables_load(struct policy_conf *conf, char *err, size_t errlen)
{
	struct mw_relay_sources src = {0};
	struct policy_tables *t;
	char	why[512];

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	conf->redis_fail_tempfail = strcasecmp(conf->redis_fail_mode, "tempfail") == 0;
	if (strcasecmp(conf->relay_deny_action, "reject") == 0) {
		t->deny_native = 0;
	} else if (strcasecmp(conf->relay_deny_action, "reject_unauth_destination") == 0) {
		t->deny_native = 1;
	} else {
		snprintf(err, errlen, "RelayDenyAction: expected reject or reject_unauth_destination");
		goto fail;
	}
	if (strcasecmp(conf->rate_store, "memory") != 0 && strncmp(conf->rate_store, "redis://", 8) != 0
	    && strncmp(conf->rate_store, "rediss://", 9) != 0) {
		snprintf(err, errlen, "RateStore: expected memory, redis://HOST:PORT or rediss://HOST:PORT");
		goto fail;
	}
	if (strncmp(conf->rate_store, "rediss://", 9) != 0
	    && (conf->redis_ca_file || conf->redis_cert_file || conf->redis_key_file)) {
		snprintf(err, errlen, "%s: only with TLS (RateStore rediss://HOST:PORT)",
			 conf->redis_ca_file ? "RedisCAFile" : conf->redis_cert_file ?
			 "RedisCertFile" : "RedisKeyFile");
		goto fail;
	}
	if ((conf->redis_cert_file == NULL) != (conf->redis_key_file == NULL)) {
		snprintf(err, errlen, "RedisCertFile and RedisKeyFile: set both or neither");
		goto fail;
	}
	if (conf->redis_password != NULL && conf->redis_password_file != NULL) {
		snprintf(err, errlen, "RedisPassword and RedisPasswordFile: set one of them");
		goto fail;
	}
	if (conf->redis_user != NULL && conf->redis_password == NULL && conf->redis_password_file == NULL) {
		snprintf(err, errlen, "RedisUser: needs RedisPasswordFile (or RedisPassword)");
		goto fail;
	}
	if (strcasecmp(conf->redis_fail_mode, "tempfail") != 0
	    && strcasecmp(conf->redis_fail_mode, "open") != 0) {
		snprintf(err, errlen, "RedisFailMode: expected tempfail or open");
		goto fail;
	}
	if (conf->recipient_userdb != NULL) {
		struct mw_endpoint ep;

		if (mw_endpoint_parse(conf->recipient_userdb, &ep, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "RecipientUserdb: %s", why);
			goto fail;
		}
		t->validate = 1;
	}
	if (conf->metrics_listen != NULL) {
		struct mw_endpoint ep;

		if (mw_metrics_listen_parse(conf->metrics_listen, &ep, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "MetricsListen: %s", why);
			goto fail;
		}
	}
	if (conf->recipient_delimiter != NULL
	    && mw_strlcpy(t->rcpt_delimiter, conf->recipient_delimiter,
			  sizeof(t->rcpt_delimiter)) >= sizeof(t->rcpt_delimiter)) {
		snprintf(err, errlen, "RecipientDelimiter: at most %zu characters",
			 sizeof(t->rcpt_delimiter) - 1);
		goto fail;
	}
	src.hosted_domains = &conf->hosted_domains;
	src.customer_networks = conf->customer_networks;
	src.sender_login_map = conf->sender_login_map;
	src.suspended_list = &conf->suspended_list;
	if (mw_relay_userdb_conf(&src, conf->sender_ownership, conf->suspension, conf->userdb,
				 err, errlen) < 0)
		goto fail;
	/* One connection serves both kinds of lookup. */
	if (conf->userdb != NULL && conf->recipient_userdb != NULL
	    && strcmp(conf->userdb, conf->recipient_userdb) != 0) {
		snprintf(err, errlen, "Userdb: differs from RecipientUserdb (one auth-userdb socket serves both)");
		goto fail;
	}
	if (mw_relay_tables_load(&t->relay, &src, err, errlen) < 0)
		goto fail;
	/* Without hosted domains every inbound recipient would get 554. */
	if (mw_map_count(t->relay.hosted) == 0) {
		snprintf(err, errlen, "HostedDomains: %s (list the domains this site takes mail for, "
			 "or every inbound recipient is refused)",
			 conf->hosted_domains.n == 0 ? "not set" : "no domains in the list or its files");
		goto fail;
	}
	if (conf->message_rate_limit != NULL
	    && mw_rate_parse(conf->message_rate_limit, &t->messages, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "MessageRateLimit: %s", why);
		goto fail;
	}
	if (conf->recipient_rate_limit != NULL
	    && mw_rate_parse(conf->recipient_rate_limit, &t->recipients, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "RecipientRateLimit: %s", why);
		goto fail;
	}
	if (conf->rate_limit_map != NULL) {
		if ((t->rate_overrides = mw_map_create(MW_MAP_LOWERCASE)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (mw_map_load_file(t->rate_overrides, conf->rate_limit_map, err, errlen) < 0
		    || check_overrides(conf, t, err, errlen) < 0)
			goto fail;
	}
	return (t);

fail:
	policy_tables_free(t);
	return (NULL);
}

/* policy_tables_free - release tables */

void
policy_tables_free(struct policy_tables *t)
{
	if (t == NULL)
		return;
	mw_relay_tables_free(&t->relay);
	mw_map_free(t->rate_overrides);
	free(t);
}
