/*++
/* NAME
/*	milter_live 3
/* SUMMARY
/*	the running configuration, replaced as a whole on reload
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	struct milter_live *milter_live_load(path, err, errlen)
/*	const char *path;
/*	char	*err;
/*	size_t	errlen;
/*
/*	void	milter_live_install(live)
/*	struct milter_live *live;
/*
/*	struct milter_live *milter_live_get(void)
/*
/*	void	milter_live_put(live)
/*	struct milter_live *live;
/*
/*	int	milter_live_reload(path)
/*	const char *path;
/*
/*	void	milter_live_describe(live, prefix, path)
/*	const struct milter_live *live;
/*	const char *prefix;
/* DESCRIPTION
/*	A struct milter_live holds everything built from
/*	mailwarren-milter.conf: the settings (with the TrustedNetworks
/*	table), the spamd host list and, with RelayPolicy yes, the relay
/*	tables.  It is reference counted: each
/*	message takes a reference at MAIL FROM (milter_live_get()) and
/*	gives it back when the message ends (milter_live_put()), so a
/*	message is handled from start to end by one configuration, and a
/*	reload never changes the settings under a callback in flight.
/*
/*	milter_live_load() reads and checks path, then builds the spamd
/*	host list, reads the StampKeyFile key and builds the relay tables.  The same rules apply at start and
/*	at reload (an unknown key is an error in both), so a file that
/*	reloads also starts.
/*
/*	milter_live_install() makes live the current configuration and
/*	drops the holder's reference to the previous one, which is freed
/*	by its last message.
/*
/*	milter_live_reload() loads path beside the current configuration
/*	and installs it when it is good.  A bad file keeps the current
/*	configuration and logs "reload of path failed ...: file:line:
/*	reason".  Settings that only a restart can change (MilterSocket,
/*	SocketMode, User, Group, PidFile, MetricsListen, MilterTimeout,
/*	MaxConnections,
/*	Userdb, UserdbTimeout, UserdbCacheSize, SenderOwnership,
/*	Suspension) are logged as
/*	"needs restart" when they differ and keep, in the new configuration,
/*	the values the process started with (so every later reload of the
/*	same file says so again).  A reload empties the cache of userdb
/*	entries.  Everything else applies to the next message.
/*
/*	milter_live_describe() logs what a configuration holds (spamd
/*	hosts, relay table sizes).
/* DIAGNOSTICS
/*	milter_live_load() returns NULL with the reason in err.
/*	milter_live_reload() returns 0 or -1 (logged).
/*--*/

/* System library. */

#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "mw_cfg.h"
#include "mw_msg.h"
#include "mw_relay.h"
#include "mw_spamc.h"

/* Application-specific. */

#include "milter.h"

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_live *live_current;

/* live_free - release a configuration nobody uses */

static void
live_free(struct milter_live *lv)
{
	mw_spamc_free(lv->spamc);
	mw_relay_tables_free(&lv->relay);
	memset(&lv->stamp_key, 0, sizeof(lv->stamp_key));
	milter_cfg_free(&lv->conf);
	free(lv);
}

/* milter_live_load - read, check and build a configuration */

struct milter_live *
milter_live_load(const char *path, char *err, size_t errlen)
{
	const struct milter_conf *c;
	struct mw_relay_sources src = {0};
	struct milter_live *lv;
	char	why[512];

	if ((lv = calloc(1, sizeof(*lv))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return (NULL);
	}
	lv->refs = 1;
	c = &lv->conf;
	if (mw_cfg_load(milter_cfg_table, &lv->conf, path, 0, err, errlen) < 0)
		goto fail;
	if (milter_cfg_check(&lv->conf, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	if (c->spamd_hosts.n > 0
	    && !(c->spamd_hosts.n == 1 && strcmp(c->spamd_hosts.items[0], "none") == 0)
	    && (lv->spamc = mw_spamc_create(c->spamd_hosts.items, c->spamd_hosts.n,
					  (int) c->spamd_timeout * 1000, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s: SpamdHosts: %s", path, why);
		goto fail;
	}
	if (c->stamp_key_file != NULL) {
		if (mw_stamp_key_load(c->stamp_key_file, &lv->stamp_key, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: StampKeyFile %s", path, why);
			goto fail;
		}
		lv->stamp = 1;
	}
	if (c->relay_policy) {
		src.hosted_domains = &c->hosted_domains;
		src.customer_networks = c->customer_networks;
		src.sender_login_map = c->sender_login_map;
		src.suspended_list = &c->suspended_list;
		if (mw_relay_userdb_conf(&src, c->sender_ownership, c->suspension, c->userdb,
					 why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", path, why);
			goto fail;
		}
		if (mw_relay_tables_load(&lv->relay, &src, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", path, why);
			goto fail;
		}
	}
	return (lv);

fail:
	live_free(lv);
	return (NULL);
}

/* milter_live_get - a reference to the current configuration */

struct milter_live *
milter_live_get(void)
{
	struct milter_live *lv;

	pthread_mutex_lock(&live_lock);
	if ((lv = live_current) != NULL)
		lv->refs++;
	pthread_mutex_unlock(&live_lock);
	return (lv);
}

/* milter_live_put - drop a reference; the last one frees */

void
milter_live_put(struct milter_live *lv)
{
	unsigned refs;

	if (lv == NULL)
		return;
	pthread_mutex_lock(&live_lock);
	refs = --lv->refs;
	pthread_mutex_unlock(&live_lock);
	if (refs == 0)
		live_free(lv);
}

/* milter_live_install - make lv current; NULL at exit */

void
milter_live_install(struct milter_live *lv)
{
	struct milter_live *old;

	pthread_mutex_lock(&live_lock);
	old = live_current;
	live_current = lv;
	pthread_mutex_unlock(&live_lock);
	milter_live_put(old);
}

/* live_keep - a setting that needs a restart keeps its running value */

static int
live_keep(const char *key, char **now, char *const *was)
{
	char   *copy = NULL;

	if (*was == NULL ? *now == NULL : *now != NULL && strcmp(*was, *now) == 0)
		return (0);
	if (*was != NULL && (copy = strdup(*was)) == NULL)
		return (-1);
	mw_warn("reload: %s changed to \"%s\": needs restart; still using \"%s\"",
		key, *now ? *now : "(unset)", *was ? *was : "(unset)");
	free(*now);
	*now = copy;
	return (0);
}

/* live_keep_num - a number that needs a restart keeps its running value */

static void
live_keep_num(const char *key, long long *now, long long was)
{
	if (*now == was)
		return;
	mw_warn("reload: %s changed to %lld: needs restart; still using %lld", key, *now, was);
	*now = was;
}

/* live_restart_only - settings a reload cannot change: logged, kept */

static int
live_restart_only(const struct milter_conf *o, struct milter_conf *n)
{
	if (live_keep("MilterSocket", &n->milter_socket, &o->milter_socket) < 0
	    || live_keep("SocketMode", &n->socket_mode, &o->socket_mode) < 0
	    || live_keep("User", &n->user, &o->user) < 0
	    || live_keep("Group", &n->group, &o->group) < 0
	    || live_keep("PidFile", &n->pid_file, &o->pid_file) < 0
	    || live_keep("Userdb", &n->userdb, &o->userdb) < 0
	    || live_keep("SenderOwnership", &n->sender_ownership, &o->sender_ownership) < 0
	    || live_keep("Suspension", &n->suspension, &o->suspension) < 0
	    || live_keep("MetricsListen", &n->metrics_listen, &o->metrics_listen) < 0)
		return (-1);
	live_keep_num("UserdbTimeout", &n->userdb_timeout, o->userdb_timeout);
	live_keep_num("UserdbCacheSize", &n->userdb_cache_size, o->userdb_cache_size);
	live_keep_num("MaxConnections", &n->max_connections, o->max_connections);
	n->socket_mode_bits = o->socket_mode_bits;
	if (o->milter_timeout != n->milter_timeout) {
		mw_warn("reload: MilterTimeout changed to %llus: needs restart; still using %llus",
			n->milter_timeout, o->milter_timeout);
		n->milter_timeout = o->milter_timeout;
	}
	return (0);
}

/* milter_live_describe - one log line: what a configuration holds */

void
milter_live_describe(const struct milter_live *lv, const char *prefix, const char *path)
{
	const struct mw_relay_tables *t = &lv->relay;

	if (!lv->conf.relay_policy) {
		mw_info("%s%s loaded: %zu spamd hosts, RelayPolicy no", prefix, path,
			lv->spamc != NULL ? lv->conf.spamd_hosts.n : 0);
		return;
	}
	mw_info("%s%s loaded: %zu spamd hosts, RelayPolicy yes: %zu hosted domains, "
		"%zu customer networks, %s sender logins, %zu suspended%s", prefix, path,
		lv->spamc != NULL ? lv->conf.spamd_hosts.n : 0, mw_map_count(t->hosted),
		t->customers != NULL ? mw_cidr_count(t->customers) : 0,
		t->ownership_userdb ? "userdb-checked" : t->sender_logins != NULL ? "checked" : "unchecked",
		mw_map_count(t->suspended), t->suspension_userdb ? " (and suspension from the userdb)" : "");
}

/* milter_live_reload - load beside the current one; swap when good */

int
milter_live_reload(const char *path)
{
	struct milter_live *old;
	struct milter_live *lv;
	char	err[MW_CFG_ERR_MAX + 256];
	int	rc;

	if ((lv = milter_live_load(path, err, sizeof(err))) == NULL) {
		mw_error("reload of %s failed, keeping the configuration loaded before: %s", path, err);
		return (-1);
	}
	if ((old = milter_live_get()) != NULL) {
		rc = live_restart_only(&old->conf, &lv->conf);
		/* the sources of ownership and suspension, like Userdb, are the start's */
		lv->relay.ownership_userdb = old->relay.ownership_userdb;
		lv->relay.suspension_userdb = old->relay.suspension_userdb;
		milter_live_put(old);
		if (rc < 0) {
			mw_error("reload of %s failed, keeping the configuration loaded before: out of memory", path);
			live_free(lv);
			return (-1);
		}
	}
	milter_live_install(lv);
	milter_account_clear();			/* users may have changed */
	milter_live_describe(lv, "reload: ", path);
	return (0);
}
