/*++
/* NAME
/*	milter_metrics 3
/* SUMMARY
/*	mailwarren-milter's Prometheus metrics
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	void	milter_metrics_init(conf)
/*	const struct milter_conf *conf;
/*
/*	void	milter_metrics_start(void)
/*
/*	void	milter_metrics_stop(void)
/*
/*	void	milter_metrics_decision(action, virus, scan_state, spam)
/*	const char *action;
/*	const char *virus;
/*	const char *scan_state;
/*	const struct milter_spam *spam;
/*
/*	void	milter_metrics_recipient(refused)
/*
/*	void	milter_metrics_scan(scan, t0)
/*	int	scan;
/*	const struct timespec *t0;
/*
/*	void	milter_metrics_spam(spam, t0)
/*
/*	void	milter_metrics_slot_wait(t0)
/*
/*	void	milter_metrics_database(signatures, db_time, db_version)
/*
/*	void	milter_metrics_reload(what, ok)
/*	const char *what;
/*
/*	void	milter_metrics_connection(accepted)
/*
/*	void	milter_metrics_summary(void)
/* DESCRIPTION
/*	The metrics of mailwarren-milter(8) (its METRICS section lists
/*	them).  They are always counted (a relaxed atomic add on the
/*	thread's own stripe, see mw_metrics(3)); MetricsListen only decides
/*	whether they are served over HTTP.
/*
/*	milter_metrics_init() creates them and, with MetricsListen set,
/*	binds the listener (as root, before the privileges go); a bad
/*	address or a port in use is fatal.  milter_metrics_start() starts
/*	the listener's thread (after the fork and the signal mask),
/*	milter_metrics_stop() ends it.
/*
/*	milter_metrics_decision() counts the decision that
/*	milter_act_log() logs; milter_metrics_recipient() a RelayPolicy
/*	verdict on one recipient; milter_metrics_scan() and
/*	milter_metrics_spam() the time from t0 of a virus scan and of a
/*	spamd call (skipped calls are not timed); milter_metrics_slot_wait()
/*	a wait for a scan slot; milter_metrics_database() a database load;
/*	milter_metrics_reload() a reload ("config" or "database");
/*	milter_metrics_connection() an MTA connection accepted or refused
/*	over MaxConnections.
/*
/*	milter_metrics_summary() logs the counters on one line (SIGUSR2).
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Utility library. */

#include "mw_metrics.h"
#include "mw_msg.h"
#include "mw_spamc.h"

/* Application-specific. */

#include "milter.h"

enum {
	MM_DECISIONS, MM_RECIPIENTS, MM_VIRUSES, MM_SCAN_SECONDS, MM_SPAMD_SECONDS,
	MM_SLOT_WAITS, MM_SLOT_WAIT_SECONDS, MM_SCANS_RUNNING, MM_SPAMD_HOSTS,
	MM_SPAMD_ERRORS, MM_SPAMD_FAILOVERS, MM_SIGNATURES, MM_DB_AGE, MM_DB_VERSION,
	MM_RELOADS, MM_CONNECTIONS, MM_SESSIONS, MM_START, MM_N
};

static const char *const mm_actions[] = {"accept", "tag", "quarantine", "discard", "reject",
	"tempfail", NULL};
static const char *const mm_reasons[] = {"clean", "virus", "scan_error", "scan_limit", "spam",
	"spamd_error", NULL};
static const char *const mm_verdicts[] = {"permit", "reject", NULL};
static const char *const mm_scan_results[] = {"clean", "virus", "limit", "error", NULL};
static const char *const mm_spam_results[] = {"scored", "error", NULL};
static const char *const mm_states[] = {"up", "down", NULL};
static const char *const mm_what[] = {"config", "database", NULL};
static const char *const mm_result[] = {"ok", "failed", NULL};
static const char *const mm_conn[] = {"accepted", "refused", NULL};

_Static_assert(sizeof(mm_actions) / sizeof(mm_actions[0]) == 7
	       && sizeof(mm_reasons) / sizeof(mm_reasons[0]) == 7, "milter_metrics_summary counts 6 x 6");

static const double mm_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
1, 2.5, 5, 10, 30};

#define NB	((int) (sizeof(mm_buckets) / sizeof(mm_buckets[0])))
#define P	"mailwarren_milter_"

static const struct mw_metric_def mm_defs[MM_N] = {
	{P "decisions_total", "Messages decided at end of DATA, by action and reason.",
	 MW_METRIC_COUNTER, "action", mm_actions, "reason", mm_reasons, NULL, 0},
	{P "recipients_total", "RelayPolicy verdicts on recipients.",
	 MW_METRIC_COUNTER, "verdict", mm_verdicts, NULL, NULL, NULL, 0},
	{P "viruses_found_total", "Messages in which ClamAV found a signature.",
	 MW_METRIC_COUNTER, NULL, NULL, NULL, NULL, NULL, 0},
	{P "scan_duration_seconds", "ClamAV scan time per message, slot wait included.",
	 MW_METRIC_HISTOGRAM, "result", mm_scan_results, NULL, NULL, mm_buckets, NB},
	{P "spamd_duration_seconds", "spamd call time per message, failovers included.",
	 MW_METRIC_HISTOGRAM, "result", mm_spam_results, NULL, NULL, mm_buckets, NB},
	{P "scan_slot_waits_total", "Scans that waited for a MaxConcurrentScans slot.",
	 MW_METRIC_COUNTER, NULL, NULL, NULL, NULL, NULL, 0},
	{P "scan_slot_wait_seconds", "Time scans waited for a slot.",
	 MW_METRIC_HISTOGRAM, NULL, NULL, NULL, NULL, mm_buckets, NB},
	{P "scans_running", "Scans inside libclamav now.",
	 MW_METRIC_GAUGE, NULL, NULL, NULL, NULL, NULL, 0},
	{P "spamd_hosts", "SpamdHosts up, and down (avoided after a failure).",
	 MW_METRIC_GAUGE, "state", mm_states, NULL, NULL, NULL, 0},
	{P "spamd_host_errors_total", "spamd attempts that failed on a host.",
	 MW_METRIC_COUNTER, NULL, NULL, NULL, NULL, NULL, 0},
	{P "spamd_failovers_total", "Messages scored by another spamd host after one failed.",
	 MW_METRIC_COUNTER, NULL, NULL, NULL, NULL, NULL, 0},
	{P "clamav_signatures", "Signatures in the loaded ClamAV engine.",
	 MW_METRIC_GAUGE, NULL, NULL, NULL, NULL, NULL, 0},
	{P "clamav_database_age_seconds", "Age of the loaded ClamAV database (its build time).",
	 MW_METRIC_GAUGE, NULL, NULL, NULL, NULL, NULL, 0},
	{P "clamav_database_version", "Version of the loaded ClamAV database.",
	 MW_METRIC_GAUGE, NULL, NULL, NULL, NULL, NULL, 0},
	{P "reloads_total", "Reloads of the configuration and of the ClamAV database.",
	 MW_METRIC_COUNTER, "what", mm_what, "result", mm_result, NULL, 0},
	{P "connections_total", "MTA connections, accepted or refused over MaxConnections.",
	 MW_METRIC_COUNTER, "result", mm_conn, NULL, NULL, NULL, 0},
	{P "connections", "MTA connections open now.",
	 MW_METRIC_GAUGE, NULL, NULL, NULL, NULL, NULL, 0},
	{P "start_time_seconds", "Start time of the process, seconds since the epoch.",
	 MW_METRIC_GAUGE, NULL, NULL, NULL, NULL, NULL, 0},
};

static struct mw_metrics *mm;
static struct mw_metrics_http *mm_http;
static int mm_fd = -1;
static char mm_url[300];		/* the scrape URL */
static long long mm_db_time;		/* the database's build time; atomic */

/* mm_collect - the gauges read from state, before each exposition */

static void
mm_collect(struct mw_metrics *m, void *arg)
{
	struct milter_live *lv;
	unsigned long long errors;
	unsigned long long failovers;
	unsigned up = 0;
	unsigned down = 0;
	long long db;

	(void) arg;
	mw_metrics_set(m, MM_SCANS_RUNNING, 0, milter_clam_running());
	mw_metrics_set(m, MM_SESSIONS, 0, milter_accept_sessions());
	if ((lv = milter_live_get()) != NULL) {
		mw_spamc_hosts(lv->spamc, &up, &down);
		milter_live_put(lv);
	}
	mw_metrics_set(m, MM_SPAMD_HOSTS, 0, up);
	mw_metrics_set(m, MM_SPAMD_HOSTS, 1, down);
	mw_spamc_stats(&errors, &failovers);
	mw_metrics_set(m, MM_SPAMD_ERRORS, 0, (long long) errors);
	mw_metrics_set(m, MM_SPAMD_FAILOVERS, 0, (long long) failovers);
	if ((db = __atomic_load_n(&mm_db_time, __ATOMIC_RELAXED)) > 0)
		mw_metrics_set(m, MM_DB_AGE, 0, (long long) time(NULL) - db);
}

/* milter_metrics_init - the metrics; bind MetricsListen */

void
milter_metrics_init(const struct milter_conf *conf)
{
	char	err[512];

	if ((mm = mw_metrics_create(mm_defs, MM_N, err, sizeof(err))) == NULL)
		mw_fatal("metrics: %s", err);
	mw_metrics_set_collector(mm, mm_collect, NULL);
	mw_metrics_set(mm, MM_START, 0, (long long) time(NULL));
	if (conf->metrics_listen != NULL
	    && (mm_fd = mw_metrics_http_bind(conf->metrics_listen, mm_url, sizeof(mm_url),
						 err, sizeof(err))) < 0)
		mw_fatal("MetricsListen: %s", err);
}

/* milter_metrics_start - serve them */

void
milter_metrics_start(const struct milter_conf *conf)
{
	char	err[512];

	if (mm_fd < 0)
		return;
	if ((mm_http = mw_metrics_http_start(mm, mm_fd, err, sizeof(err))) == NULL)
		mw_fatal("%s", err);
	mw_info("metrics on %s", mm_url);
}

/* milter_metrics_stop - stop serving */

void
milter_metrics_stop(void)
{
	mw_metrics_http_stop(mm_http);
	mm_http = NULL;
	mm_fd = -1;
}

/* milter_metrics_decision - one message decided */

void
milter_metrics_decision(const char *action, const char *virus, const char *scan_state,
			        const struct milter_spam *spam)
{
	const char *reason;
	int	set;

	if (virus != NULL)
		reason = "virus";
	else if (scan_state != NULL && strcmp(scan_state, "error") == 0)
		reason = "scan_error";
	else if (scan_state != NULL && strncmp(scan_state, "incomplete", 10) == 0)
		reason = "scan_limit";
	else if (spam != NULL && spam->status == SPAM_ERROR)
		reason = "spamd_error";
	else if (spam != NULL && strcmp(action, "reject") == 0)
		reason = "spam";
	else
		reason = "clean";
	if ((set = mw_metrics_label(&mm_defs[MM_DECISIONS], action, reason)) < 0)
		mw_warn("metrics: no series for action %s reason %s", action, reason);
	mw_metrics_inc(mm, MM_DECISIONS, set);
	if (virus != NULL)
		mw_metrics_inc(mm, MM_VIRUSES, 0);
}

/* milter_metrics_recipient - one RelayPolicy verdict */

void
milter_metrics_recipient(int refused)
{
	mw_metrics_inc(mm, MM_RECIPIENTS, refused ? 1 : 0);
}

/* milter_metrics_scan - a scan's time and result */

void
milter_metrics_scan(int scan, const struct timespec *t0)
{
	int	set = scan == SCAN_VIRUS ? 1 : scan == SCAN_LIMIT ? 2 : scan == SCAN_ERROR ? 3 : 0;

	mw_metrics_observe_since(mm, MM_SCAN_SECONDS, set, t0);
}

/* milter_metrics_spam - a spamd call's time and result */

void
milter_metrics_spam(const struct milter_spam *spam, const struct timespec *t0)
{
	if (spam->status == SPAM_SCORED || spam->status == SPAM_ERROR)
		mw_metrics_observe_since(mm, MM_SPAMD_SECONDS, spam->status == SPAM_ERROR, t0);
}

/* milter_metrics_slot_wait - a scan waited for a slot since t0 */

void
milter_metrics_slot_wait(const struct timespec *t0)
{
	mw_metrics_inc(mm, MM_SLOT_WAITS, 0);
	mw_metrics_observe_since(mm, MM_SLOT_WAIT_SECONDS, 0, t0);
}

/* milter_metrics_database - a database was loaded */

void
milter_metrics_database(unsigned sigs, long long db_time, long long db_version)
{
	mw_metrics_set(mm, MM_SIGNATURES, 0, sigs);
	mw_metrics_set(mm, MM_DB_VERSION, 0, db_version);
	__atomic_store_n(&mm_db_time, db_time, __ATOMIC_RELAXED);
}

/* milter_metrics_reload - a reload, good or failed */

void
milter_metrics_reload(const char *what, int ok)
{
	mw_metrics_inc(mm, MM_RELOADS, mw_metrics_label(&mm_defs[MM_RELOADS], what,
							 ok ? "ok" : "failed"));
}

/* milter_metrics_connection - an MTA connection accepted or refused */

void
milter_metrics_connection(int accepted)
{
	mw_metrics_inc(mm, MM_CONNECTIONS, accepted ? 0 : 1);
}

/* milter_metrics_summary - the counters on one log line (SIGUSR2) */

void
milter_metrics_summary(void)
{
	long long by_action[6] = {0};
	unsigned long long errors;
	unsigned long long failovers;
	int	a;
	int	r;

	if (mm == NULL)
		return;
	mm_collect(mm, NULL);
	for (a = 0; a < 6; a++)
		for (r = 0; r < 6; r++)
			by_action[a] += mw_metrics_get(mm, MM_DECISIONS, MW_METRICS_SET(a, 6, r));
	mw_spamc_stats(&errors, &failovers);
	mw_info("statistics: accept=%lld tag=%lld quarantine=%lld discard=%lld reject=%lld "
		"tempfail=%lld viruses=%lld scan_slot_waits=%lld spamd_hosts_up=%lld "
		"spamd_hosts_down=%lld spamd_failovers=%llu signatures=%lld database_age=%llds "
		"connections=%lld",
		by_action[0], by_action[1], by_action[2], by_action[3], by_action[4], by_action[5],
		mw_metrics_get(mm, MM_VIRUSES, 0), mw_metrics_get(mm, MM_SLOT_WAITS, 0),
		mw_metrics_get(mm, MM_SPAMD_HOSTS, 0), mw_metrics_get(mm, MM_SPAMD_HOSTS, 1),
		failovers, mw_metrics_get(mm, MM_SIGNATURES, 0), mw_metrics_get(mm, MM_DB_AGE, 0),
		mw_metrics_get(mm, MM_SESSIONS, 0));
}
