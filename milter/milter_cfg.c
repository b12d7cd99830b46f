/*++
/* NAME
/*	milter_cfg 3
/* SUMMARY
/*	mailwarren-milter configuration table and checks
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	const struct mw_cfg_entry milter_cfg_table[];
/*
/*	int	milter_cfg_check(conf, err, errlen)
/*	struct milter_conf *conf;
/*	char	*err;
/*	size_t	errlen;
/*
/*	int	milter_cfg_trusted(conf, addr)
/*	const struct milter_conf *conf;
/*	const struct mw_addr *addr;
/*
/*	void	milter_cfg_free(conf)
/*	struct milter_conf *conf;
/* DESCRIPTION
/*	milter_cfg_table describes mailwarren-milter.conf(5) for
/*	mw_cfg_load(); its defaults are those documented there and in the
/*	sample file.
/*
/*	milter_cfg_check() checks what the table's types cannot: the
/*	enumerated values (OnInfected, OnScanError, OnScanLimit, SpamdFailAction,
/*	ReloadMode), SpamRejectScore, SocketMode, TrustedNetworks and the
/*	SpamdHosts syntax, and fills in the derived members of conf.  It
/*	builds the TrustedNetworks table with mw_cidr_add(): a network is
/*	"addr" or "addr/bits", IPv4 or IPv6; bits set beyond the prefix
/*	length, a network listed twice, or an IPv4-mapped IPv6 network are
/*	errors.
/*
/*	milter_cfg_trusted() tells whether addr (from mw_addr_parse(),
/*	which takes an IPv4-mapped ::ffff:a.b.c.d as IPv4) lies in one of
/*	the TrustedNetworks.  An empty list, or an address that did not
/*	parse (family 0), never matches.
/*
/*	milter_cfg_free() releases conf: the settings and what
/*	milter_cfg_check() built.
/* DIAGNOSTICS
/*	milter_cfg_check() returns 0, or -1 with the reason in err.
/*--*/

/* System library. */

#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Utility library. */

#include "mw_cfg.h"
#include "mw_cidr.h"
#include "mw_endpoint.h"
#include "mw_metrics.h"

/* Application-specific. */

#include "milter.h"

#define C(m)	offsetof(struct milter_conf, m)

const struct mw_cfg_entry milter_cfg_table[] = {
	{"MilterSocket", MW_CFG_STRING, "local:/run/mailwarren/milter.sock", C(milter_socket), 0, 0},
	{"SocketMode", MW_CFG_STRING, "0660", C(socket_mode), 0, 0},
	{"User", MW_CFG_STRING, NULL, C(user), 0, 0},
	{"Group", MW_CFG_STRING, NULL, C(group), 0, 0},
	{"PidFile", MW_CFG_STRING, NULL, C(pid_file), 0, 0},
	{"MilterTimeout", MW_CFG_TIME, "300s", C(milter_timeout), 1, 86400},
	{"MaxConnections", MW_CFG_INT, "4096", C(max_connections), 1, 65536},
	{"DatabaseDirectory", MW_CFG_STRING, "/var/lib/clamav", C(database_directory), 0, 0},
	{"DatabaseCheckInterval", MW_CFG_TIME, "60s", C(database_check_interval), 0, 86400},
	{"ReloadMode", MW_CFG_STRING, "concurrent", C(reload_mode), 0, 0},
	{"TemporaryDirectory", MW_CFG_STRING, "/tmp", C(temporary_directory), 0, 0},
	{"TemporaryDirectoryMinFree", MW_CFG_SIZE, "1M", C(temporary_min_free), 0, 1LL << 40},
	{"MemorySpoolMax", MW_CFG_SIZE, "1M", C(memory_spool_max), 0, 1LL << 40},
	{"MaxScanSize", MW_CFG_SIZE, "400M", C(max_scan_size), 0, 4LL << 30},
	{"MaxFileSize", MW_CFG_SIZE, "100M", C(max_file_size), 0, 4LL << 30},
	{"MaxRecursion", MW_CFG_INT, "17", C(max_recursion), 1, 1000},
	{"MaxFiles", MW_CFG_INT, "10000", C(max_files), 1, 10000000},
	{"DisableCache", MW_CFG_BOOL, "no", C(disable_cache), 0, 0},
	{"MaxConcurrentScans", MW_CFG_INT, "0", C(max_concurrent_scans), 0, 4096},
	{"OnInfected", MW_CFG_STRING, "reject", C(on_infected), 0, 0},
	{"OnScanError", MW_CFG_STRING, "tempfail", C(on_scan_error), 0, 0},
	{"OnScanLimit", MW_CFG_STRING, "reject", C(on_scan_limit), 0, 0},
	{"SpamdHosts", MW_CFG_LIST, "inet:783@127.0.0.1", C(spamd_hosts), 0, 0},
	{"SpamdTimeout", MW_CFG_TIME, "30s", C(spamd_timeout), 1, 3600},
	{"SpamdUser", MW_CFG_STRING, NULL, C(spamd_user), 0, 0},
	{"SpamdPerRecipient", MW_CFG_BOOL, "no", C(spamd_per_recipient), 0, 0},
	{"SpamdFailAction", MW_CFG_STRING, "tempfail", C(spamd_fail_action), 0, 0},
	{"SpamMaxSize", MW_CFG_SIZE, "500K", C(spam_max_size), 0, 1LL << 32},
	{"SpamRejectScore", MW_CFG_STRING, "off", C(spam_reject_score), 0, 0},
	{"SkipAuthenticated", MW_CFG_BOOL, "no", C(skip_authenticated), 0, 0},
	{"TrustedNetworks", MW_CFG_LIST, NULL, C(trusted_networks), 0, 0},
	{"RelayPolicy", MW_CFG_BOOL, "no", C(relay_policy), 0, 0},
	{"HostedDomains", MW_CFG_LIST, NULL, C(hosted_domains), 0, 0},
	{"CustomerNetworks", MW_CFG_STRING, NULL, C(customer_networks), 0, 0},
	{"SenderLoginMap", MW_CFG_STRING, NULL, C(sender_login_map), 0, 0},
	{"SuspendedList", MW_CFG_LIST, NULL, C(suspended_list), 0, 0},
	{"StampKeyFile", MW_CFG_STRING, NULL, C(stamp_key_file), 0, 0},
	MW_RELAY_USERDB_CFG(C),
	{"MetricsListen", MW_CFG_STRING, NULL, C(metrics_listen), 0, 0},
	MW_CFG_END,
};

/* cfg_enum - map a value to its index in names, or -1 */

static int
cfg_enum(const char *key, const char *value, const char *const *names,
	 int *code, char *err, size_t errlen)
{
	char	list[128] = "";
	int	i;

	for (i = 0; names[i] != NULL; i++) {
		if (strcasecmp(value, names[i]) == 0) {
			*code = i;
			return (0);
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? ", " : "", names[i]);
	}
	snprintf(err, errlen, "%s: bad value \"%s\" (expected %s)", key, value, list);
	return (-1);
}

/* milter_cfg_check - semantic checks; derived values */

int
milter_cfg_check(struct milter_conf *conf, char *err, size_t errlen)
{
	static const char *const infected[] = {"reject", "discard", "quarantine", "tag", NULL};
	static const char *const onfail[] = {"tempfail", "accept", NULL};
	static const char *const reload[] = {"concurrent", "blocking", NULL};
	static const char *const onlimit[] = {"reject", "tempfail", "tag", "accept", NULL};
	struct mw_endpoint ep;
	char	why[256];
	char   *end;
	size_t	i;
	long	mode;

	if (cfg_enum("OnInfected", conf->on_infected, infected, &conf->on_infected_code, err, errlen) < 0
	    || cfg_enum("OnScanError", conf->on_scan_error, onfail, &conf->on_scan_error_code, err, errlen) < 0
	    || cfg_enum("OnScanLimit", conf->on_scan_limit, onlimit, &conf->on_scan_limit_code, err, errlen) < 0
	    || cfg_enum("SpamdFailAction", conf->spamd_fail_action, onfail, &conf->spamd_fail_code, err, errlen) < 0
	    || cfg_enum("ReloadMode", conf->reload_mode, reload, &conf->reload_code, err, errlen) < 0)
		return (-1);
	if (conf->metrics_listen != NULL && mw_metrics_listen_parse(conf->metrics_listen, &ep, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "MetricsListen: %s", why);
		return (-1);
	}
	if (strcasecmp(conf->spam_reject_score, "off") == 0) {
		conf->reject_score = -1;
	} else {
		conf->reject_score = strtod(conf->spam_reject_score, &end);
		if (*end != '\0' || end == conf->spam_reject_score || !(conf->reject_score >= 0)
		    || conf->reject_score > 100000) {
			snprintf(err, errlen, "SpamRejectScore: bad value \"%s\" (expected off or a score >= 0)",
				 conf->spam_reject_score);
			return (-1);
		}
	}
	mode = strtol(conf->socket_mode, &end, 8);
	if (*end != '\0' || end == conf->socket_mode || mode < 0 || mode > 0777) {
		snprintf(err, errlen, "SocketMode: bad value \"%s\" (expected an octal mode such as 0660)",
			 conf->socket_mode);
		return (-1);
	}
	conf->socket_mode_bits = (int) mode;
	if (mw_endpoint_parse(conf->milter_socket, &ep, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "MilterSocket: %s", why);
		return (-1);
	}
	for (i = 0; i < conf->spamd_hosts.n; i++) {
		if (strcasecmp(conf->spamd_hosts.items[i], "none") == 0 && conf->spamd_hosts.n == 1)
			break;
		if (mw_endpoint_parse(conf->spamd_hosts.items[i], &ep, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "SpamdHosts: %s", why);
			return (-1);
		}
	}
	if (conf->spamd_hosts.n > MW_SPAMC_HOSTS_MAX) {
		snprintf(err, errlen, "SpamdHosts: more than %d hosts", MW_SPAMC_HOSTS_MAX);
		return (-1);
	}
	/* The table belongs to conf from here on: milter_cfg_free() frees it. */
	if (conf->trusted_networks.n > 0 && (conf->trusted = mw_cidr_create()) == NULL) {
		snprintf(err, errlen, "TrustedNetworks: out of memory");
		return (-1);
	}
	for (i = 0; i < conf->trusted_networks.n; i++) {
		if (mw_cidr_add(conf->trusted, conf->trusted_networks.items[i], "trusted",
				why, sizeof(why)) < 0) {
			snprintf(err, errlen, "TrustedNetworks: %s", why);
			return (-1);
		}
	}
	if (conf->spamd_user != NULL && !mw_spamc_user_ok(conf->spamd_user)) {
		snprintf(err, errlen, "SpamdUser: bad user name \"%s\"", conf->spamd_user);
		return (-1);
	}
	if (conf->relay_policy && conf->hosted_domains.n == 0) {
		snprintf(err, errlen, "RelayPolicy yes needs HostedDomains (or every stranger's mail is refused)");
		return (-1);
	}
	if (*conf->database_directory != '/' || *conf->temporary_directory != '/') {
		snprintf(err, errlen, "%s: must be an absolute path",
			 *conf->database_directory != '/' ? "DatabaseDirectory" : "TemporaryDirectory");
		return (-1);
	}
	return (0);
}

/* milter_cfg_trusted - is the client in TrustedNetworks? */

int
milter_cfg_trusted(const struct milter_conf *conf, const struct mw_addr *addr)
{
	return (conf->trusted != NULL && mw_cidr_lookup(conf->trusted, addr) != NULL);
}

/* milter_cfg_free - release the settings and the derived tables */

void
milter_cfg_free(struct milter_conf *conf)
{
	mw_cidr_free(conf->trusted);
	conf->trusted = NULL;
	mw_cfg_free(milter_cfg_table, conf);
}
