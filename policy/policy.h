/*++
/* NAME
/*	policy 3h
/* SUMMARY
/*	mailwarren-policyd internal interfaces
/* SYNOPSIS
/*	#include "policy.h"
/* DESCRIPTION
/*	Shared by the parts of mailwarren-policyd: the protocol reader
/*	(policy_proto.c), configuration and tables (policy_conf.c), the
/*	decision (policy_check.c) and the event loop (policyd.c).
/*--*/
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "mw_cfg.h"
#include "mw_rate.h"
#include "mw_relay.h"
#include "mw_userdb.h"

/*
 * One request, as Postfix sends it.  The pointers point into the
 * connection's input buffer; absent attributes are "".
 */
struct policy_req {
	const char *request;
	const char *protocol_state;
	const char *client_address;
	const char *client_name;
	const char *sasl_username;
	const char *sender;
	const char *recipient;
	const char *recipient_count;
	const char *queue_id;
	const char *instance;
	const char *policy_context;
	unsigned nattrs;
};

#define POLICY_REQ_ATTRS	11	/* the pointers of struct policy_req */

struct policy_req_saved {
	long	off[POLICY_REQ_ATTRS];	/* -1: absent ("") */
	unsigned nattrs;
};

extern void policy_req_save(const struct policy_req *, const char *, size_t,
			            struct policy_req_saved *);
extern void policy_req_restore(const struct policy_req_saved *, const char *, struct policy_req *);
extern ssize_t policy_proto_parse(char *, size_t, size_t, unsigned,
			             struct policy_req *, char *, size_t);

/*
 * Configuration (mailwarren-policyd.conf).
 */
struct policy_conf {
	char   *policy_socket;
	char   *user;
	char   *group;
	char   *pid_file;
	struct mw_cfg_list hosted_domains;
	char   *customer_networks;
	char   *sender_login_map;
	struct mw_cfg_list suspended_list;
	char   *message_rate_limit;
	char   *recipient_rate_limit;
	char   *rate_limit_map;
	char   *rate_store;
	long long redis_timeout;
	char   *redis_user;
	char   *redis_password;
	char   *redis_password_file;
	long long redis_database;
	char   *redis_ca_file;
	char   *redis_cert_file;
	char   *redis_key_file;
	char   *redis_fail_mode;
	int	redis_fail_tempfail;		/* derived: RedisFailMode tempfail */
	char   *relay_deny_action;
	unsigned long long max_line_length;
	long long max_attributes;
	unsigned long long idle_timeout;
	long long max_connections;
	int	log_accepts;
	char   *recipient_userdb;
	long long recipient_userdb_timeout;
	unsigned long long recipient_cache_time;
	unsigned long long recipient_negative_cache_time;
	long long recipient_cache_size;
	char   *recipient_delimiter;
	char   *sender_ownership;
	char   *suspension;
	char   *userdb;
	long long userdb_timeout;
	unsigned long long userdb_cache_ttl;
	unsigned long long userdb_negative_cache_ttl;
	long long userdb_cache_size;
	char   *metrics_listen;			/* MetricsListen; NULL: off */
};

extern const struct mw_cfg_entry policy_conf_table[];

/*
 * Everything built from the configuration's files; replaced as a whole
 * on reload.
 */
struct policy_tables {
	struct mw_relay_tables relay;
	struct mw_rate_limits messages;	/* default windows */
	struct mw_rate_limits recipients;
	mw_map *rate_overrides;		/* id -> "messages=... recipients=..." */
	int	deny_native;		/* RelayDenyAction reject_unauth_destination */
	int	validate;		/* RecipientUserdb is set */
	char	rcpt_delimiter[32];	/* RecipientDelimiter */
};

extern struct policy_tables *policy_tables_load(struct policy_conf *, char *, size_t);
extern void policy_tables_free(struct policy_tables *);
extern int policy_limits_for(const struct policy_tables *, const char *,
			             struct mw_rate_limits *, struct mw_rate_limits *);

/*
 * The decision: final at once, or after a rate question is answered by
 * the counters in memory or in Redis.
 */
#define POLICY_ACTION_MAX	600
#define POLICY_RATE_ITEMS	4	/* (login, customer) x (messages, recipients) */
#define POLICY_RATE_ERROR	(-2)	/* the rate store failed */

#define POLICY_USER_UNKNOWN	MW_USERDB_NOTFOUND	/* the user directory does not know it */
#define POLICY_USER_FOUND	MW_USERDB_FOUND
#define POLICY_USER_ERROR	MW_USERDB_FAIL	/* the directory could not tell */
#define POLICY_USER_UNASKED	2	/* no validation for this request */

#define POLICY_STAGE_USER	0	/* ask the user directory */
#define POLICY_STAGE_RATE	1	/* then ask the rate counters */
#define POLICY_STAGE_DONE	2

struct policy_rate_item {
	char	key[MW_RELAY_ID_MAX + 8];	/* "rc:cust42" */
	char	kind;			/* 'l': the login, 'c': the customer */
	struct mw_rate_limits limits;
	unsigned long long check;	/* events to check against the limits */
	unsigned long long add;		/* events to count when within them */
};

struct policy_pending {
	struct mw_relay_result res;
	const char *final;		/* action within limits: OK or DUNNO */
	const char *reason;
	size_t	nitems;
	struct policy_rate_item item[POLICY_RATE_ITEMS];
	int	count_messages;
	int	log_accepts;
	int	stage;			/* POLICY_STAGE_* */
	char	user[2 * MW_RELAY_ID_MAX];	/* directory name; "" = no validation */
	int	user_result;		/* POLICY_USER_* */
	int	rate_outcome;		/* item over its limit, -1, POLICY_RATE_ERROR */
	/* sanitized copies of the request, for the log line */
	char	state[24];
	char	qid[64];
	char	client[160];
	char	addr[80];
	char	sender[200];
	char	rcpt[200];
};

extern int policy_decide(const struct policy_tables *, const struct policy_req *,
			         const struct mw_account *, int,
			         struct policy_pending *, char *, size_t);
extern int policy_rate_memory(mw_rate *, const struct policy_pending *, time_t);
extern const char *policy_item_id(const struct policy_pending *, size_t);
extern void policy_user_known(struct policy_pending *, int);
extern void policy_finish(const struct policy_pending *, int, int, char *, size_t);

/*
 * Prometheus metrics (policy_metrics.c).
 */
#define POLICY_METRIC_DECIDED		0	/* policy_metrics_request() */
#define POLICY_METRIC_OVERLOADED	1
#define POLICY_METRIC_PROTOCOL_ERROR	2
#define POLICY_METRIC_ACCEPTED		0	/* policy_metrics_connection() */
#define POLICY_METRIC_OVERFLOW		1
#define POLICY_METRIC_REFUSED		2

extern void policy_metrics_init(const struct policy_conf *);
extern void policy_metrics_start(const struct policy_conf *);
extern void policy_metrics_stop(void);
extern void policy_metrics_decision(const char *, const char *);
extern void policy_metrics_request(int);
extern void policy_metrics_connection(int, long long);
extern void policy_metrics_redis(const struct timespec *, int);
extern void policy_metrics_userdb(const struct timespec *, int);
extern void policy_metrics_cache(int);
extern void policy_metrics_reload(int);
extern void policy_metrics_summary(void);

#endif
