/*++
/* NAME
/*	policy_metrics 3
/* SUMMARY
/*	mailwarren-policyd's Prometheus metrics
/* SYNOPSIS
/*	#include "policy.h"
/*
/*	void	policy_metrics_init(conf)
/*	const struct policy_conf *conf;
/*
/*	void	policy_metrics_start(conf)
/*
/*	void	policy_metrics_stop(void)
/*
/*	void	policy_metrics_decision(whatsup, reason)
/*	const char *whatsup;
/*	const char *reason;
/*
/*	void	policy_metrics_request(result)
/*	int	result;
/*
/*	void	policy_metrics_connection(result, open)
/*	int	result;
/*	long long open;
/*
/*	void	policy_metrics_redis(t0, ok)
/*	const struct timespec *t0;
/*	int	ok;
/*
/*	void	policy_metrics_userdb(t0, result)
/*
/*	void	policy_metrics_cache(hit)
/*
/*	void	policy_metrics_reload(ok)
/*
/*	void	policy_metrics_summary(void)
/* DESCRIPTION
/*	The metrics of mailwarren-policyd(8) (its METRICS section lists
/*	them).  They are always counted; MetricsListen only decides
/*	whether they are served over HTTP, by a thread of their own
/*	(mw_metrics_http(3)), never by the event loop.
/*
/*	policy_metrics_init() creates them and, with MetricsListen set,
/*	binds the listener (as root); a bad address or a port in use is
/*	fatal.  policy_metrics_start() starts its thread (after the fork,
/*	with the signals blocked), policy_metrics_stop() ends it.
/*
/*	policy_metrics_decision() counts one decision as it is logged
/*	(whatsup: permit, dunno, reject, defer; reason: the log line's,
/*	mapped onto a fixed list, "other" for a reason not on it).
/*	policy_metrics_request() counts a request (POLICY_METRIC_DECIDED,
/*	_OVERLOADED, _PROTOCOL_ERROR); policy_metrics_connection() a
/*	connection (POLICY_METRIC_ACCEPTED, _OVERFLOW, _REFUSED) with the
/*	number open now; policy_metrics_redis() and policy_metrics_userdb()
/*	the time since t0 of a rate question and of a directory lookup,
/*	by outcome; policy_metrics_cache() a recipient cache lookup;
/*	policy_metrics_reload() a SIGHUP reload.
/*
/*	policy_metrics_summary() logs the counters on one line (SIGUSR2).
/*--*/

/* System library. */

#include "config.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

/* Utility library. */

#include "mw_metrics.h"
#include "mw_msg.h"
#include "mw_str.h"

/* Application-specific. */

#include "policy.h"

enum {
	PM_DECISIONS, PM_REQUESTS, PM_CONNECTIONS, PM_OPEN, PM_REDIS_SECONDS, PM_REDIS_ERRORS,
	PM_USERDB_SECONDS, PM_USERDB_ERRORS, PM_CACHE, PM_RELOADS, PM_START, PM_N
};

static const char *const pm_actions[] = {"permit", "dunno", "reject", "defer", NULL};

#define PM_NACTIONS	4
#define PM_NREASONS	((int) (sizeof(pm_reasons) / sizeof(pm_reasons[0])) - 1)

/* the reasons of the log lines, as labels; "other" is the last */
static const char *const pm_reasons[] = {
	"customer_relay", "sasl_relay", "hosted", "unqualified", "routed_recipient", "relay",
	"suspended", "sender_not_owned", "rate_limit", "rate_store_unavailable",
	"unknown_recipient", "user_directory_unavailable", "not_a_recipient",
	"no_protocol_state", "other", NULL};
static const char *const pm_requests[] = {"decided", "overloaded", "protocol_error", NULL};
static const char *const pm_conns[] = {"accepted", "overflow", "refused", NULL};
static const char *const pm_ok[] = {"ok", "error", NULL};
static const char *const pm_userdb[] = {"found", "unknown", "error", NULL};
static const char *const pm_cache[] = {"hit", "miss", NULL};
static const char *const pm_result[] = {"ok", "failed", NULL};

static const double pm_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
0.05, 0.1, 0.25, 0.5, 1, 2.5};

#define NB	((int) (sizeof(pm_buckets) / sizeof(pm_buckets[0])))
#define P	"mailwarren_policyd_"

static const struct mw_metric_def pm_defs[PM_N] = {
	{P "decisions_total", "Policy decisions, by action and reason.",
	 MW_METRIC_COUNTER, "action", pm_actions, "reason", pm_reasons, NULL, 0},
	{P "requests_total", "Policy requests: decided, deferred over MaxConnections, malformed.",
	 MW_METRIC_COUNTER, "result", pm_requests, NULL, NULL, NULL, 0},
	{P "connections_total", "Connections accepted, taken over MaxConnections to defer, refused.",
	 MW_METRIC_COUNTER, "result", pm_conns, NULL, NULL, NULL, 0},
	{P "connections", "Connections open now.",
	 MW_METRIC_GAUGE, NULL, NULL, NULL, NULL, NULL, 0},
	{P "redis_duration_seconds", "Time of a rate question to Redis, by outcome.",
	 MW_METRIC_HISTOGRAM, "result", pm_ok, NULL, NULL, pm_buckets, NB},
	{P "redis_errors_total", "Rate questions that Redis did not answer usably.",
	 MW_METRIC_COUNTER, NULL, NULL, NULL, NULL, NULL, 0},
	{P "userdb_duration_seconds", "Time of a recipient lookup in the user directory, by answer.",
	 MW_METRIC_HISTOGRAM, "result", pm_userdb, NULL, NULL, pm_buckets, NB},
	{P "userdb_errors_total", "Recipient lookups the user directory could not answer.",
	 MW_METRIC_COUNTER, NULL, NULL, NULL, NULL, NULL, 0},
	{P "recipient_cache_lookups_total", "Recipient cache lookups, hits and misses.",
	 MW_METRIC_COUNTER, "result", pm_cache, NULL, NULL, NULL, 0},
	{P "reloads_total", "Reloads (SIGHUP) of the configuration and tables.",
	 MW_METRIC_COUNTER, "result", pm_result, NULL, NULL, NULL, 0},
	{P "start_time_seconds", "Start time of the process, seconds since the epoch.",
	 MW_METRIC_GAUGE, NULL, NULL, NULL, NULL, NULL, 0},
};

static struct mw_metrics *pm;
static struct mw_metrics_http *pm_http;
static int pm_fd = -1;
static char pm_url[300];		/* the scrape URL */

/* policy_metrics_init - the metrics; bind MetricsListen */

void
policy_metrics_init(const struct policy_conf *conf)
{
	char	err[512];

	if ((pm = mw_metrics_create(pm_defs, PM_N, err, sizeof(err))) == NULL)
		mw_fatal("metrics: %s", err);
	mw_metrics_set(pm, PM_START, 0, (long long) time(NULL));
	if (conf->metrics_listen != NULL
	    && (pm_fd = mw_metrics_http_bind(conf->metrics_listen, pm_url, sizeof(pm_url),
						 err, sizeof(err))) < 0)
		mw_fatal("MetricsListen: %s", err);
}

/* policy_metrics_start - serve them */

void
policy_metrics_start(const struct policy_conf *conf)
{
	char	err[512];

	if (pm_fd < 0)
		return;
	if ((pm_http = mw_metrics_http_start(pm, pm_fd, err, sizeof(err))) == NULL)
		mw_fatal("%s", err);
	mw_info("metrics on %s", pm_url);
}

/* policy_metrics_stop - stop serving */

void
policy_metrics_stop(void)
{
	mw_metrics_http_stop(pm_http);
	pm_http = NULL;
	pm_fd = -1;
}

/* pm_reason - a log line's reason as a label value */

static int
pm_reason(const char *reason)
{
	char	label[64];
	size_t	n = 0;
	int	i;

	for (; *reason != '\0' && *reason != ',' && n < sizeof(label) - 1; reason++)
		label[n++] = isalnum((unsigned char) *reason) ? (char) tolower((unsigned char) *reason) : '_';
	label[n] = '\0';
	for (i = 0; pm_reasons[i] != NULL; i++)
		if (strcmp(pm_reasons[i], label) == 0)
			return (i);
	return (PM_NREASONS - 1);		/* "other" */
}

/* policy_metrics_decision - one decision, as logged */

void
policy_metrics_decision(const char *whatsup, const char *reason)
{
	int	a;

	for (a = 0; a < PM_NACTIONS && strcmp(pm_actions[a], whatsup) != 0; a++)
		 /* void */ ;
	if (a == PM_NACTIONS)
		return;
	mw_metrics_inc(pm, PM_DECISIONS, MW_METRICS_SET(a, PM_NREASONS, pm_reason(reason)));
}

/* policy_metrics_request - one request */

void
policy_metrics_request(int result)
{
	mw_metrics_inc(pm, PM_REQUESTS, result);
}

/* policy_metrics_connection - one connection, and how many are open */

void
policy_metrics_connection(int result, long long open)
{
	if (result >= 0)
		mw_metrics_inc(pm, PM_CONNECTIONS, result);
	mw_metrics_set(pm, PM_OPEN, 0, open);
}

/* policy_metrics_redis - a rate question answered or failed */

void
policy_metrics_redis(const struct timespec *t0, int ok)
{
	mw_metrics_observe_since(pm, PM_REDIS_SECONDS, ok ? 0 : 1, t0);
	if (!ok)
		mw_metrics_inc(pm, PM_REDIS_ERRORS, 0);
}

/* policy_metrics_userdb - a directory lookup answered or failed */

void
policy_metrics_userdb(const struct timespec *t0, int result)
{
	int	set = result == POLICY_USER_FOUND ? 0 : result == POLICY_USER_UNKNOWN ? 1 : 2;

	mw_metrics_observe_since(pm, PM_USERDB_SECONDS, set, t0);
	if (set == 2)
		mw_metrics_inc(pm, PM_USERDB_ERRORS, 0);
}

/* policy_metrics_cache - a recipient cache lookup */

void
policy_metrics_cache(int hit)
{
	mw_metrics_inc(pm, PM_CACHE, hit ? 0 : 1);
}

/* policy_metrics_reload - a reload, good or failed */

void
policy_metrics_reload(int ok)
{
	mw_metrics_inc(pm, PM_RELOADS, ok ? 0 : 1);
}

/* policy_metrics_summary - the counters on one log line (SIGUSR2) */

void
policy_metrics_summary(void)
{
	long long by_action[PM_NACTIONS] = {0};
	int	a;
	int	r;

	if (pm == NULL)
		return;
	for (a = 0; a < PM_NACTIONS; a++)
		for (r = 0; r < PM_NREASONS; r++)
			by_action[a] += mw_metrics_get(pm, PM_DECISIONS, MW_METRICS_SET(a, PM_NREASONS, r));
	mw_info("statistics: permit=%lld dunno=%lld reject=%lld defer=%lld overloaded=%lld "
		"protocol_errors=%lld connections=%lld redis_errors=%lld userdb_errors=%lld "
		"cache_hits=%lld cache_misses=%lld",
		by_action[0], by_action[1], by_action[2], by_action[3],
		mw_metrics_get(pm, PM_REQUESTS, 1), mw_metrics_get(pm, PM_REQUESTS, 2),
		mw_metrics_get(pm, PM_OPEN, 0), mw_metrics_get(pm, PM_REDIS_ERRORS, 0),
		mw_metrics_get(pm, PM_USERDB_ERRORS, 0), mw_metrics_get(pm, PM_CACHE, 0),
		mw_metrics_get(pm, PM_CACHE, 1));
}
