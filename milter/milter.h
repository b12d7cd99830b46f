/*++
/* NAME
/*	milter 3h
/* SUMMARY
/*	mailwarren-milter internal interfaces
/* SYNOPSIS
/*	#include "milter.h"
/* DESCRIPTION
/*	The configuration, the per-message state and the functions the
/*	milter's modules export to each other.
/*--*/
#ifndef MILTER_H
#define MILTER_H

#include <stddef.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "mw_cfg.h"
#include "mw_cidr.h"
#include "mw_endpoint.h"
#include "mw_relay.h"
#include "mw_spamc.h"
#include "mw_stamp.h"

#include "milter_input.h"

#define MILTER_NAME	"mailwarren-milter"
#define MILTER_CONF	"/etc/mailwarren/mailwarren-milter.conf"

 /*
  * Configuration (milter_cfg.c).  Enumerated settings are parsed into
  * the *_code members by milter_cfg_check().
  */
#define ON_INFECTED_REJECT	0
#define ON_INFECTED_DISCARD	1
#define ON_INFECTED_QUARANTINE	2
#define ON_INFECTED_TAG		3

#define ON_FAIL_TEMPFAIL	0
#define ON_FAIL_ACCEPT		1

#define ON_LIMIT_REJECT		0
#define ON_LIMIT_TEMPFAIL	1
#define ON_LIMIT_TAG		2
#define ON_LIMIT_ACCEPT		3

#define RELOAD_CONCURRENT	0
#define RELOAD_BLOCKING		1

struct milter_conf {
	char   *milter_socket;
	char   *user;
	char   *group;
	char   *pid_file;
	char   *database_directory;
	unsigned long long database_check_interval;
	char   *temporary_directory;
	unsigned long long temporary_min_free;	/* TemporaryDirectoryMinFree */
	unsigned long long memory_spool_max;
	unsigned long long max_scan_size;
	unsigned long long max_file_size;
	long long max_recursion;
	long long max_files;
	int	disable_cache;			/* libclamav's clean-file cache off */
	long long max_concurrent_scans;
	char   *on_infected;
	char   *on_scan_error;
	char   *on_scan_limit;
	struct mw_cfg_list spamd_hosts;
	unsigned long long spamd_timeout;
	char   *spamd_user;
	int	spamd_per_recipient;
	char   *spamd_fail_action;
	unsigned long long spam_max_size;
	char   *spam_reject_score;
	int	skip_authenticated;
	struct mw_cfg_list trusted_networks;
	char   *reload_mode;
	unsigned long long milter_timeout;
	long long max_connections;
	char   *socket_mode;
	int	relay_policy;
	struct mw_cfg_list hosted_domains;
	char   *customer_networks;
	char   *sender_login_map;
	struct mw_cfg_list suspended_list;
	char   *stamp_key_file;		/* StampKeyFile */
	char   *sender_ownership;	/* map | userdb */
	char   *suspension;		/* list | userdb */
	char   *userdb;			/* auth-userdb socket */
	long long userdb_timeout;	/* ms */
	unsigned long long userdb_cache_ttl;
	unsigned long long userdb_negative_cache_ttl;
	long long userdb_cache_size;
	char   *metrics_listen;		/* MetricsListen; NULL: off */
	/* Derived by milter_cfg_check(). */
	int	on_infected_code;
	int	on_scan_error_code;
	int	on_scan_limit_code;
	int	spamd_fail_code;
	int	reload_code;
	double	reject_score;		/* < 0: never reject on score */
	int	socket_mode_bits;	/* -1: leave alone */
	mw_cidr *trusted;		/* TrustedNetworks; NULL: none */
};

extern const struct mw_cfg_entry milter_cfg_table[];
extern int milter_cfg_check(struct milter_conf *, char *, size_t);
extern int milter_cfg_trusted(const struct milter_conf *, const struct mw_addr *);
extern void milter_cfg_free(struct milter_conf *);

/*
 * Everything built from the configuration file, replaced as a whole on
 * reload and reference counted (milter_live.c).
 */
struct milter_live {
	struct milter_conf conf;
	struct mw_spamc *spamc;		/* NULL: no spam scoring */
	struct mw_relay_tables relay;	/* RelayPolicy yes */
	int	stamp;			/* StampKeyFile set: stamp_key loaded */
	struct mw_stamp_key stamp_key;
	unsigned refs;			/* guarded by milter_live.c's lock */
};

extern struct milter_live *milter_live_load(const char *, char *, size_t);
extern void milter_live_install(struct milter_live *);
extern struct milter_live *milter_live_get(void);
extern void milter_live_put(struct milter_live *);
extern int milter_live_reload(const char *);
extern void milter_live_describe(const struct milter_live *, const char *, const char *);

 /*
  * Message buffer with spill to an unlinked temp file (milter_buf.c).
  */
struct milter_buf {
	char   *mem;			/* in memory, or NULL */
	size_t	len;			/* bytes so far */
	size_t	cap;
	int	fd;			/* spooled: unlinked temp file, or -1 */
	void   *map;			/* mmap of fd, from milter_buf_map() */
	size_t	maplen;
	const char *tmpdir;		/* TemporaryDirectory */
	unsigned long long spool_max;	/* MemorySpoolMax */
};

extern void milter_buf_init(struct milter_buf *, const struct milter_conf *);
extern int milter_buf_add(struct milter_buf *, const void *, size_t);
extern const char *milter_buf_map(struct milter_buf *);
extern void milter_buf_reset(struct milter_buf *);

 /*
  * Per-connection and per-message state (smfi_setpriv).
  */
#define MILTER_FROM_LINE "From mailwarren-milter\n"	/* makes libclamav see mail */

struct milter_msg {
	struct milter_live *live;	/* the configuration of this message */
	/* Connection. */
	char	client_addr[64];
	struct mw_addr client;		/* client_addr parsed; family 0: unparsable */
	char	client_name[256];
	char	helo[256];
	char	mta_name[256];		/* macro j */
	int	trusted;		/* client in TrustedNetworks */
	int	relay_refused;		/* RCPTs refused by RelayPolicy */
	/* Message. */
	char	qid[64];
	char	from[256];
	char	rcpt[256];		/* the first recipient */
	char	auth[128];		/* {auth_authen} */
	struct mw_account *account;	/* the login's userdb entry, asked once a message */
	int	nrcpt;
	int	in_message;		/* between MAIL and EOM/ABORT */
	int	io_error;		/* buffer could not be written */
	struct milter_buf buf;		/* From_ line, headers, body */
	size_t	hdr_len;		/* offset of the body in buf */
	struct milter_hdrset spam_hdrs;	/* inbound X-Spam-*, X-Mailwarren-Stamp */
	int	bad_header;		/* MILTER_HDR_* of the first bad header */
	char	bad_header_name[64];	/* its name, printable */
	char   *msgid;			/* the first Message-ID value, or NULL */
};

 /*
  * ClamAV engine (milter_clam.c).
  */
#define SCAN_CLEAN	0
#define SCAN_VIRUS	1
#define SCAN_ERROR	2
#define SCAN_LIMIT	3		/* a scan limit was exceeded */

extern void milter_clam_init(const struct milter_conf *);
extern void milter_clam_reload(const struct milter_conf *, int);
extern void milter_clam_check(const struct milter_conf *);
extern void milter_clam_slots(const struct milter_conf *);
extern void milter_clam_version(char *, size_t);
extern int milter_clam_scan(SMFICTX *, const struct milter_conf *, const char *, const char *,
			            size_t, char *, size_t);
extern const char *milter_clam_limit(const char *);
extern void milter_clam_done(void);
extern long milter_clam_running(void);

 /*
  * Spam scoring (milter_spam.c).
  */
#define SPAM_SCORED	0
#define SPAM_SKIPPED	1
#define SPAM_ERROR	2

struct milter_spam {
	int	status;			/* SPAM_* */
	const char *why;		/* SPAM_SKIPPED: the reason */
	struct mw_spamc_result res;
	char	host[128];
};

extern void milter_spam_strip(SMFICTX *, struct milter_msg *);
extern void milter_spam_score(SMFICTX *, struct milter_msg *, const char *, size_t, struct milter_spam *);
extern void milter_spam_headers(SMFICTX *, const struct milter_spam *);
extern void milter_spam_stamp(SMFICTX *, struct milter_msg *, const struct milter_spam *);

 /*
  * Decisions (milter_action.c).
  */
extern sfsistat milter_act_virus(SMFICTX *, const struct milter_conf *, const char *);
extern sfsistat milter_act_scan_error(SMFICTX *, const struct milter_conf *);
extern sfsistat milter_act_scan_limit(SMFICTX *, const struct milter_conf *, const char *);
extern sfsistat milter_act_spam(SMFICTX *, const struct milter_conf *, const struct milter_spam *, int *);
extern sfsistat milter_act_relay(SMFICTX *, struct milter_msg *, const char *);
extern sfsistat milter_act_bad_header(SMFICTX *, const struct milter_msg *);

 /*
  * The login's userdb entry for RelayPolicy (milter_account.c).
  */
extern void milter_account_init(const struct milter_conf *);
extern void milter_account_get(const struct milter_conf *, const char *, struct mw_account *);
extern void milter_account_clear(void);
extern void milter_account_done(void);
extern void milter_act_set_reply(SMFICTX *, const char *, const char *, const char *);
extern void milter_act_log(const struct milter_msg *, const char *, const char *,
			           const struct milter_spam *, const char *, long, long);
extern long milter_ms_since(const struct timespec *);

 /*
  * Signals and the reload thread (milter_signal.c).
  */
extern void milter_signal_block(void);
extern void milter_signal_start(const char *, const struct mw_endpoint *);
extern void milter_signal_stop(void);

 /*
  * Connection cap and accept() back-off (milter_accept.c).  Each MTA
  * connection may hold its socket, a spool file and a spamd connection.
  */
#define MILTER_FD_NEED(max)	((unsigned long long) (max) * 3 + 64)

extern int milter_accept_init(const struct milter_conf *, char *, size_t);
extern long long milter_accept_sessions(void);

 /*
  * Prometheus metrics (milter_metrics.c).
  */
extern void milter_metrics_init(const struct milter_conf *);
extern void milter_metrics_start(const struct milter_conf *);
extern void milter_metrics_stop(void);
extern void milter_metrics_decision(const char *, const char *, const char *, const struct milter_spam *);
extern void milter_metrics_recipient(int);
extern void milter_metrics_scan(int, const struct timespec *);
extern void milter_metrics_spam(const struct milter_spam *, const struct timespec *);
extern void milter_metrics_slot_wait(const struct timespec *);
extern void milter_metrics_database(unsigned, long long, long long);
extern void milter_metrics_reload(const char *, int);
extern void milter_metrics_connection(int);
extern void milter_metrics_summary(void);

 /*
  * Callbacks (milter_cb.c).
  */
extern struct smfiDesc milter_desc;

#endif
