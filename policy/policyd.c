/*++
/* NAME
/*	mailwarren-policyd 8
/* SUMMARY
/*	relay-for-customers policy service for Postfix
/* SYNOPSIS
/*	mailwarren-policyd [-fhtv] [-c config_file]
/* DESCRIPTION
/*	mailwarren-policyd answers Postfix's policy delegation requests
/*	(check_policy_service) on one socket, event-driven, with any number
/*	of persistent connections: relay only for customers (customer
/*	networks, SASL logins), hosted domains open to all, sender
/*	ownership, account suspension and rate limits.  See
/*	mailwarren-policyd(8) and mailwarren-policyd.conf(5).
/*
/*	Options: -c file (configuration, default
/*	SYSCONFDIR/mailwarren/mailwarren-policyd.conf), -f (stay in the
/*	foreground, log to stderr too), -t (check the configuration and
/*	its tables, then exit), -v (verbose), -h or --help (usage on
/*	stdout, exit 0), --version (print the version, exit 0).
/*
/*	Postfix makes the client pay 1 s whenever the server closes a
/*	live connection, so this server never closes one except on a
/*	protocol error, after IdleTimeout (longer than Postfix's 300 s
/*	max_idle), or when it stops.  SIGHUP reloads the configuration and
/*	tables in a thread, beside the old ones, while the event loop goes
/*	on answering with the old ones; the loop swaps them in only when
/*	everything loaded.  Sockets and connections stay open, a bad file
/*	keeps the old tables, and a SIGHUP during a reload starts another
/*	one after it.  SIGTERM and SIGINT stop the server.
/* SECURITY
/*	Started as root, it opens its socket and pid file, then runs as
/*	User/Group.  It never runs a program.
/* DIAGNOSTICS
/*	Syslog, facility mail: one line per decision, warnings for
/*	protocol errors (the connection is closed without a reply, as
/*	SMTPD_POLICY_README prescribes), fatal errors at start.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <getopt.h>

/* Utility library. */

#include "mw_account.h"
#include "mw_cache.h"
#include "mw_cfg.h"
#include "mw_endpoint.h"
#include "mw_fdlimit.h"
#include "mw_msg.h"
#include "mw_privs.h"
#include "mw_str.h"

/* Application-specific. */

#include "policy.h"
#include "policy_redis.h"
#include "policy_userdb.h"

#ifndef MW_SYSCONFDIR
#define MW_SYSCONFDIR "/etc"
#endif
#define DEF_CONFIG	MW_SYSCONFDIR "/mailwarren/mailwarren-policyd.conf"
#define OUT_MAX		(64 * 1024)	/* unsent replies before we stop reading */
#define SWEEP_SECONDS	30

 /*
  * Overload.  Over MaxConnections, up to OVERFLOW_MAX more connections are
  * taken to answer their one request with a deferral, then closed; past
  * that, and when accept() fails for want of descriptors or memory, the
  * listener is left alone for ACCEPT_PAUSE_MS (the kernel's backlog holds
  * the callers) instead of being retried at once.  Each kind of trouble is
  * logged at most once per OVERLOAD_LOG_SECONDS, with a count.
  */
#define OVERFLOW_MAX	64
#define OVERFLOW_TIMEOUT 5		/* seconds for an overflow request */
#define ACCEPT_PAUSE_MS	100
#define REFUSE_BATCH	256		/* callers closed per pause: bounds the CPU a storm costs */
#define OVERLOAD_LOG_SECONDS 60
#define FD_RESERVE	64		/* listener, epoll, Redis, userdb, syslog, tables... */
#define FD_NEED(max)	((unsigned long long) (max) + OVERFLOW_MAX + FD_RESERVE)
#define OVERLOAD_ACTION	"451 4.3.5 Policy service overloaded, try again later"

struct conn {
	int	fd;
	char   *in;			/* received, not yet parsed */
	size_t	in_len;
	size_t	in_cap;
	char   *out;			/* replies not yet sent */
	size_t	out_len;
	size_t	out_cap;
	size_t	in_off;			/* parsed and answered */
	time_t	last;			/* last activity */
	int	events;			/* registered epoll events */
	int	waiting;		/* a question is with Redis or the userdb */
	size_t	wait_len;		/* size of the request it answers */
	int	closing;		/* closed while waiting: free on answer */
	int	overflow;		/* over MaxConnections: defer, then close */
	int	answered;		/* overflow: its deferral is queued */
	struct policy_pending *pending;
	struct conn_account *account;	/* the login's userdb entry (lazily) */
	struct timespec asked;		/* when the question went to Redis or the userdb */
	struct conn *prev;
	struct conn *next;
};

static struct policy_conf conf;
static struct policy_tables *tables;
static mw_rate *rate;
static const char *config_path = DEF_CONFIG;
static struct conn *conns;
static long long nconns;
static long long noverflow;		/* of nconns, over MaxConnections */
static long long accept_paused_until;	/* ms; 0: listening */
static int reserve_fd = -1;		/* spent to refuse a caller at EMFILE */
static struct mw_ratelog cap_log = MW_RATELOG_INIT(OVERLOAD_LOG_SECONDS);
static struct mw_ratelog fail_log = MW_RATELOG_INIT(OVERLOAD_LOG_SECONDS);
static int fail_errno;			/* the last accept() failure */
static int epfd = -1;
static int listen_fd = -1;		/* epoll tags: the address of these */
static int signal_fd = -1;
static int redis_tag;
static struct policy_redis *redis;	/* NULL: counters in memory */
static int userdb_tag;
static struct policy_userdb *userdb;	/* NULL: no recipient validation */
static mw_cache *rcpt_cache;		/* the userdb's answers */
static mw_account_cache *acct_cache;	/* the logins' entries (Userdb) */

/*
 * A request whose decision needs the login's userdb entry waits for it
 * with its attributes saved as offsets (the input buffer may move).
 */
struct conn_account {
	char	login[MW_RELAY_ID_MAX];
	struct mw_account acct;
	struct policy_req_saved saved;
	int	asking;			/* the lookup is in flight */
};

/*
 * A reload builds the new configuration and tables in a thread, so that
 * requests keep being answered; the event loop swaps them in when the
 * thread says it is done (reload_fd, an eventfd).
 */
struct reload_job {
	pthread_t thread;
	struct policy_conf conf;
	struct policy_tables *tables;	/* NULL: failed, see err */
	char	err[MW_CFG_ERR_MAX];
	struct timespec start;
};
static int reload_fd = -1;
static struct reload_job *reload_job;	/* running */
static int reload_again;		/* SIGHUP while running */

/* usage - the usage line; exit 0 (asked for) or 2 (a bad command line) */

static void
usage(const char *myname, int asked)
{
	fprintf(asked ? stdout : stderr, "usage: %s [-fhtv] [-c config_file] [--help] [--version]\n",
		myname);
	exit(asked ? 0 : 2);
}

/* conn_free - release a connection's memory */

static void
conn_free(struct conn *c)
{
	free(c->in);
	free(c->out);
	free(c->pending);
	free(c->account);
	free(c);
}

/* conn_close - forget a connection (kept until Redis answers, if waiting) */

static void
conn_close(struct conn *c)
{
	(void) epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nconns--;
	if (c->overflow)
		noverflow--;
	policy_metrics_connection(-1, nconns);
	if (c->waiting)
		c->closing = 1;
	else
		conn_free(c);
}

/* conn_want - register the events a connection waits for */

static void
conn_want(struct conn *c, int events)
{
	struct epoll_event ev;

	if (events == c->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = (uint32_t) events;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = events;
}

/* conn_flush - send what replies we can; -1 on a dead peer */

static int
conn_flush(struct conn *c)
{
	ssize_t	n;

	while (c->out_len > 0) {
		n = write(c->fd, c->out, c->out_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return (-1);
		memmove(c->out, c->out + n, c->out_len - (size_t) n);
		c->out_len -= (size_t) n;
	}
	/* Stop reading while replies pile up; resume when they are sent. */
	conn_want(c, c->out_len > 0 ? (c->out_len > OUT_MAX ? EPOLLOUT : EPOLLIN | EPOLLOUT) : EPOLLIN);
	return (0);
}

/* conn_reply - queue "action=...\n\n" */

static int
conn_reply(struct conn *c, const char *action)
{
	size_t	need = strlen(action) + 9;
	char   *out;

	if (c->out_len + need > c->out_cap) {
		size_t	cap = (c->out_len + need) * 2;

		if ((out = realloc(c->out, cap)) == NULL)
			return (-1);
		c->out = out;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, "action=", 7);
	memcpy(c->out + c->out_len + 7, action, need - 9);
	memcpy(c->out + c->out_len + need - 2, "\n\n", 2);
	c->out_len += need;
	return (0);
}

/* conn_peer - the peer's address for log lines */

static const char *
conn_peer(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *) &ss, &sslen) == 0 && ss.ss_family != AF_UNIX) {
		char	host[64];

		if (getnameinfo((struct sockaddr *) &ss, sslen, host, sizeof(host), NULL, 0,
				NI_NUMERICHOST) == 0) {
			snprintf(buf, len, "%s", host);
			return (buf);
		}
	}
	snprintf(buf, len, "local socket");
	return (buf);
}

static void conn_process(struct conn *, time_t);
static void overflow_process(struct conn *);
static void reload_fd_limit(long long);
static void redis_done(void *, int);
static void userdb_done(void *, int);
static void account_done(void *, int);

/* conn_answer - send one action, move past its request, go on */

static int
conn_answer(struct conn *c, const char *action, size_t request_len)
{
	if (conn_reply(c, action) < 0) {
		mw_warn("out of memory for a reply; closing connection");
		conn_close(c);
		return (-1);
	}
	c->in_off += request_len;
	return (0);
}

/* decision_step - carry a decision on; 1: waiting for an answer */

static int
decision_step(struct conn *c, time_t now, char *action, size_t len)
{
	struct policy_pending *p = c->pending;
	int	known;

	if (p->stage == POLICY_STAGE_USER) {
		p->stage = POLICY_STAGE_RATE;
		if (p->user[0] != '\0' && p->user_result == POLICY_USER_UNASKED && rcpt_cache != NULL) {
			int	hit = mw_cache_get(rcpt_cache, p->user, now, &known);

			policy_metrics_cache(hit);
			clock_gettime(CLOCK_MONOTONIC, &c->asked);
			if (hit) {
				policy_user_known(p, known);
			} else if (policy_userdb_submit(userdb, p->user, "lmtp",
						      (int) conf.recipient_userdb_timeout, userdb_done, c,
						      mw_now_ms()) == 0) {
				return (1);
			} else {
				policy_metrics_userdb(&c->asked, POLICY_USER_ERROR);
				policy_user_known(p, POLICY_USER_ERROR);
			}
		}
	}
	if (p->stage == POLICY_STAGE_RATE) {
		p->stage = POLICY_STAGE_DONE;
		p->rate_outcome = -1;
		if (p->nitems > 0) {
			clock_gettime(CLOCK_MONOTONIC, &c->asked);
			if (redis == NULL)
				p->rate_outcome = policy_rate_memory(rate, p, now);
			else if (policy_redis_submit(redis, p, now, redis_done, c, mw_now_ms()) == 0)
				return (1);
			else
				p->rate_outcome = POLICY_RATE_ERROR;
			if (redis != NULL)
				policy_metrics_redis(&c->asked, 0);
		}
	}
	policy_finish(p, p->rate_outcome, conf.redis_fail_tempfail, action, len);
	return (0);
}

/* conn_resume - an answer arrived: go on with the decision, then the connection */

static void
conn_resume(struct conn *c)
{
	char	action[POLICY_ACTION_MAX];
	time_t	now = time(NULL);

	if (c->closing) {
		conn_free(c);
		return;
	}
	if (decision_step(c, now, action, sizeof(action)))
		return;
	c->waiting = 0;
	if (conn_answer(c, action, c->wait_len) == 0)
		conn_process(c, now);
}

/* redis_done - Redis answered (or failed) a connection's rate question */

static void
redis_done(void *ctx, int outcome)
{
	struct conn *c = ctx;

	/* an item this question did not ask about: the store is broken */
	if (outcome >= 0 && (size_t) outcome >= c->pending->nitems)
		outcome = POLICY_RATE_ERROR;
	policy_metrics_redis(&c->asked, outcome != POLICY_RATE_ERROR);
	c->pending->rate_outcome = outcome;
	conn_resume(c);
}

/* userdb_done - the user directory answered (or failed) */

static void
userdb_done(void *ctx, int result)
{
	struct conn *c = ctx;
	const char *line = policy_userdb_line(userdb);
	char	shown[200];
	time_t	now = time(NULL);

	if (result == POLICY_USER_ERROR && line != NULL)
		mw_warn("userdb: recipient lookup failed: %s",
			mw_printable(shown, sizeof(shown), line, strlen(line)));
	policy_metrics_userdb(&c->asked, result);
	if (result == POLICY_USER_FOUND && conf.recipient_cache_time > 0)
		(void) mw_cache_put(rcpt_cache, c->pending->user, result,
				    now + (time_t) conf.recipient_cache_time);
	else if (result == POLICY_USER_UNKNOWN && conf.recipient_negative_cache_time > 0)
		(void) mw_cache_put(rcpt_cache, c->pending->user, result,
				    now + (time_t) conf.recipient_negative_cache_time);
	policy_user_known(c->pending, result);
	conn_resume(c);
}

/* conn_account - the login's entry: 0 (*acct: NULL if not needed), 1 asked */

static int
conn_account(struct conn *c, const struct policy_req *req, size_t n, time_t now,
	             const struct mw_account **acct)
{
	struct conn_account *ca = c->account;
	char	login[MW_RELAY_ID_MAX];

	*acct = NULL;
	if (!mw_relay_account_login(&tables->relay, req->sasl_username, login, sizeof(login)))
		return (0);
	if (ca == NULL && (ca = c->account = malloc(sizeof(*ca))) == NULL) {
		static struct mw_account failed = {.status = MW_ACCOUNT_FAIL};

		*acct = &failed;		/* out of memory: deferred */
		return (0);
	}
	*acct = &ca->acct;
	mw_strlcpy(ca->login, login, sizeof(ca->login));
	if (mw_account_cache_get(acct_cache, login, now, &ca->acct))
		return (0);
	if (userdb != NULL
	    && policy_userdb_submit(userdb, login, "smtp", (int) conf.userdb_timeout, account_done, c,
				    mw_now_ms()) == 0) {
		policy_req_save(req, c->in + c->in_off, n, &ca->saved);
		ca->asking = 1;
		return (1);
	}
	mw_account_from_reply(&ca->acct, MW_USERDB_FAIL, NULL);
	return (0);
}

/* account_done - the login's entry arrived (or failed): decide, go on */

static void
account_done(void *ctx, int result)
{
	struct conn *c = ctx;
	struct conn_account *ca = c->account;
	struct policy_req req;
	char	action[POLICY_ACTION_MAX];
	const char *line = policy_userdb_line(userdb);
	time_t	now = time(NULL);

	ca->asking = 0;
	mw_account_from_reply(&ca->acct, result, line);
	/* Dovecot's reason goes into the decision's one log line */
	if (result == MW_USERDB_FAIL && line != NULL)
		snprintf(ca->acct.fail_why, sizeof(ca->acct.fail_why), "Dovecot answered FAIL");
	mw_account_cache_put(acct_cache, ca->login, &ca->acct, now + (time_t) conf.userdb_cache_ttl,
			     now + (time_t) conf.userdb_negative_cache_ttl);
	if (c->closing) {
		conn_free(c);
		return;
	}
	policy_req_restore(&ca->saved, c->in + c->in_off, &req);
	if (policy_decide(tables, &req, &ca->acct, conf.log_accepts, c->pending, action, sizeof(action))
	    && decision_step(c, now, action, sizeof(action)))
		return;				/* still waiting: recipient, rate */
	c->waiting = 0;
	if (conn_answer(c, action, c->wait_len) == 0)
		conn_process(c, now);
}

/* conn_process - answer every complete request that is buffered */

static void
conn_process(struct conn *c, time_t now)
{
	struct policy_req req;
	char	action[POLICY_ACTION_MAX];
	const struct mw_account *acct;
	char	err[256];
	char	peer[80];
	ssize_t	n;

	if (c->overflow) {
		overflow_process(c);
		return;
	}
	while (!c->waiting) {
		n = policy_proto_parse(c->in + c->in_off, c->in_len - c->in_off, conf.max_line_length,
				       (unsigned) conf.max_attributes, &req, err, sizeof(err));
		if (n == 0)
			break;
		if (n < 0) {
			policy_metrics_request(POLICY_METRIC_PROTOCOL_ERROR);
			mw_warn("protocol error from %s: %s; closing without a reply",
				conn_peer(c->fd, peer, sizeof(peer)), err);
			conn_close(c);
			return;
		}
		policy_metrics_request(POLICY_METRIC_DECIDED);
		if (c->pending == NULL && (c->pending = malloc(sizeof(*c->pending))) == NULL) {
			mw_warn("out of memory for a request; closing connection");
			conn_close(c);
			return;
		}
		if (conn_account(c, &req, (size_t) n, now, &acct)
		    || (policy_decide(tables, &req, acct, conf.log_accepts, c->pending, action,
				      sizeof(action))
			&& decision_step(c, now, action, sizeof(action)))) {
			c->waiting = 1;
			c->wait_len = (size_t) n;
			break;
		}
		if (conn_answer(c, action, (size_t) n) < 0)
			return;
	}
	if (!c->waiting && c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (conn_flush(c) < 0)
		conn_close(c);
}

/* conn_input - read what the client sent, then answer it */

static void
conn_input(struct conn *c, time_t now)
{
	char	peer[80];
	size_t	limit = conf.max_line_length * ((size_t) conf.max_attributes + 2);
	ssize_t	n;

	if (c->in_len == c->in_cap) {
		size_t	cap = c->in_cap ? c->in_cap * 2 : 4096;
		char   *in;

		if (cap > limit + 4096)
			cap = limit + 4096;
		if (cap == c->in_cap || (in = realloc(c->in, cap)) == NULL) {
			mw_warn("connection from %s: request too large or out of memory; closing",
				conn_peer(c->fd, peer, sizeof(peer)));
			conn_close(c);
			return;
		}
		c->in = in;
		c->in_cap = cap;
	}
	n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->in_len += (size_t) n;
	c->last = now;
	conn_process(c, now);
}

/* overload_action - the answer over MaxConnections: defer, lose nothing */

static const char *
overload_action(const struct policy_req *req)
{

	/*
	 * A 4xx, not DEFER_IF_PERMIT: behind reject_unauth_destination that
	 * would turn a customer's relaying into a permanent 554.  The message
	 * checks (DATA, END-OF-MESSAGE: default_action=DUNNO in our snippets)
	 * and the states that are never refused get DUNNO, as in an outage:
	 * only a count is missed.
	 */
	if (strcmp(req->protocol_state, "RCPT") == 0)
		return (OVERLOAD_ACTION);
	return ("DUNNO");
}

/* overflow_process - a connection over the cap: answer its request, then close */

static void
overflow_process(struct conn *c)
{
	struct policy_req req;
	char	err[256];
	ssize_t	n;

	if (c->answered)
		return;				/* more input after it: ignored */
	n = policy_proto_parse(c->in, c->in_len, conf.max_line_length,
			       (unsigned) conf.max_attributes, &req, err, sizeof(err));
	if (n == 0)
		return;
	policy_metrics_request(n < 0 ? POLICY_METRIC_PROTOCOL_ERROR : POLICY_METRIC_OVERLOADED);
	if (n < 0 || conn_reply(c, overload_action(&req)) < 0) {
		conn_close(c);			/* no reply: Postfix retries, then default_action */
		return;
	}
	c->answered = 1;
	if (conn_flush(c) < 0 || c->out_len == 0)
		conn_close(c);
}

/* conn_add - a new connection, in the list and in epoll; -1: refused */

static int
conn_add(int fd, time_t now, int overflow)
{
	struct epoll_event ev;
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (-1);
	c->fd = fd;
	c->last = now;
	c->events = EPOLLIN;
	c->overflow = overflow;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return (-1);
	}
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	nconns++;
	noverflow += overflow;
	policy_metrics_connection(overflow ? POLICY_METRIC_OVERFLOW : POLICY_METRIC_ACCEPTED, nconns);
	return (0);
}

/* accept_pause - leave the listener alone for a while */

static void
accept_pause(void)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.data.ptr = &listen_fd;
	if (accept_paused_until == 0)
		(void) epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev);
	accept_paused_until = mw_now_ms() + ACCEPT_PAUSE_MS;
}

/* accept_resume - listen again once the pause is over */

static void
accept_resume(long long now_ms)
{
	struct epoll_event ev;

	if (accept_paused_until == 0 || now_ms < accept_paused_until)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &listen_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev) < 0)
		mw_fatal("epoll_ctl: %m");
	accept_paused_until = 0;
}

/* overload_log - one line per interval for each kind of trouble */

static void
overload_log(time_t now, unsigned long long deferred, unsigned long long refused)
{
	unsigned long long n;

	if ((deferred > 0 || cap_log.count > 0)
	    && (n = mw_ratelog_add(&cap_log, now, deferred)) > 0)
		mw_warn("MaxConnections (%lld) reached: %llu connection(s) over it taken only "
			"to answer \"%s\" and be closed, since the last warning; accepting "
			"paused while %d such are open", conf.max_connections, n, OVERLOAD_ACTION, OVERFLOW_MAX);
	if ((refused > 0 || fail_log.count > 0)
	    && (n = mw_ratelog_add(&fail_log, now, refused)) > 0)
		mw_warn("accept: %s: %llu connection(s) refused since the last warning; "
			"accepting paused %d ms at a time", strerror(fail_errno), n, ACCEPT_PAUSE_MS);
}

/* refuse_pending - out of descriptors: spend the reserve to close the callers waiting */

static unsigned long long
refuse_pending(int lfd)
{
	unsigned long long n = 0;
	int	fd;

	if (reserve_fd < 0)
		return (0);
	close(reserve_fd);
	while (n < REFUSE_BATCH && (fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		close(fd);			/* Postfix retries, then default_action */
		policy_metrics_connection(POLICY_METRIC_REFUSED, nconns);
		n++;
	}
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return (n);
}

/* accept_conns - take every pending connection, or pause */

static void
accept_conns(int lfd, time_t now)
{
	unsigned long long deferred = 0;
	unsigned long long refused = 0;
	int	over;
	int	fd;

	for (;;) {
		if ((over = nconns - noverflow >= conf.max_connections) && noverflow >= OVERFLOW_MAX) {
			accept_pause();		/* callers wait in the backlog */
			break;
		}
		if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			fail_errno = errno;
			if (errno == EMFILE || errno == ENFILE)
				refused += refuse_pending(lfd);
			accept_pause();		/* EMFILE, ENFILE, ENOBUFS, ENOMEM... */
			break;
		}
		if (conn_add(fd, now, over) < 0) {
			fail_errno = errno ? errno : ENOMEM;
			close(fd);
			policy_metrics_connection(POLICY_METRIC_REFUSED, nconns);
			refused++;
			accept_pause();
			break;
		}
		deferred += over;
	}
	overload_log(now, deferred, refused);
}

/* sweep_overflow - close overflow connections that did not send their request in time */

static void
sweep_overflow(time_t now)
{
	struct conn *c;
	struct conn *next;

	for (c = conns; c != NULL && noverflow > 0; c = next) {
		next = c->next;
		if (c->overflow && now - c->last >= OVERFLOW_TIMEOUT)
			conn_close(c);
	}
}

/* sweep - close idle connections, expire rate counters */

static void
sweep(time_t now)
{
	struct conn *c;
	struct conn *next;

	sweep_overflow(now);
	for (c = conns; c != NULL; c = next) {
		next = c->next;
		if (c->out_len == 0 && !c->waiting
		    && (unsigned long long) (now - c->last) > conf.idle_timeout)
			conn_close(c);
	}
	(void) mw_rate_expire(rate, now);
	if (rcpt_cache != NULL)
		(void) mw_cache_expire(rcpt_cache, now);
	(void) mw_account_cache_expire(acct_cache, now);
}

/* socket_owner - give a UNIX socket to User/Group, so Postfix's group can use it */

static void
socket_owner(const char *path)
{
	char	err[256];

	if (mw_privs_chown(path, conf.user, conf.group, err, sizeof(err)) < 0)
		mw_warn("%s", err);		/* mw_privs_drop() will fail on a bad name */
}

/* load_all - configuration and tables; on failure nothing changes */

static int
load_all(struct policy_conf *newconf, struct policy_tables **newtables, int flags,
	 char *err, size_t errlen)
{
	char	why[MW_CFG_ERR_MAX];

	memset(newconf, 0, sizeof(*newconf));
	if (mw_cfg_load(policy_conf_table, newconf, config_path, flags, err, errlen) < 0) {
		mw_cfg_free(policy_conf_table, newconf);
		return (-1);
	}
	if ((*newtables = policy_tables_load(newconf, why, sizeof(why))) == NULL) {
		/* "file: Key: reason", as mw_cfg_load() names the file too */
		(void) mw_err(err, errlen, "%s: %s", config_path, why);
		mw_cfg_free(policy_conf_table, newconf);
		return (-1);
	}
	return (0);
}

/* tables_summary - what was loaded, for the log */

static void
tables_summary(const char *what, const struct policy_tables *t, double ms)
{
	mw_info("%s %s: %zu hosted domains, %zu customer networks, %zu sender logins%s, "
		"%zu suspended%s, %zu rate overrides, in %.1f ms", what, config_path,
		mw_map_count(t->relay.hosted),
		t->relay.customers ? mw_cidr_count(t->relay.customers) : 0,
		t->relay.sender_logins ? mw_map_count(t->relay.sender_logins) : 0,
		t->relay.ownership_userdb ? " (ownership from the userdb)" : "",
		mw_map_count(t->relay.suspended),
		t->relay.suspension_userdb ? " (and suspension from the userdb)" : "",
		t->rate_overrides ? mw_map_count(t->rate_overrides) : 0, ms);
}

/* elapsed_ms - milliseconds since start */

static double
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((double) (now.tv_sec - start->tv_sec) * 1e3
		+ (double) (now.tv_nsec - start->tv_nsec) / 1e6);
}

/* reload_work - the thread: load beside the running configuration */

static void *
reload_work(void *arg)
{
	struct reload_job *job = arg;
	uint64_t one = 1;

	/* The same rules as at start: a file that would not start does not reload. */
	if (load_all(&job->conf, &job->tables, 0, job->err, sizeof(job->err)) < 0)
		job->tables = NULL;
	if (write(reload_fd, &one, sizeof(one)) != sizeof(one))
		mw_warn("reload: eventfd write: %m");
	return (NULL);
}

/* reload_start - SIGHUP: start a reload, or ask for another after this one */

static void
reload_start(void)
{
	struct reload_job *job;
	int	rc;

	if (reload_job != NULL) {
		reload_again = 1;
		return;
	}
	reload_again = 0;
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		mw_error("reload failed, keeping the old configuration: out of memory");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &job->start);
	if ((rc = pthread_create(&job->thread, NULL, reload_work, job)) != 0) {
		mw_error("reload failed, keeping the old configuration: pthread_create: %s",
			 strerror(rc));
		free(job);
		return;
	}
	reload_job = job;
}

/* keep_str - a restart-only string setting: warn, keep the running value */

static void
keep_str(const char *key, char **was, char **now)
{
	if (*was == NULL ? *now == NULL : *now != NULL && strcmp(*was, *now) == 0)
		return;
	mw_warn("reload: %s changed to \"%s\": needs restart; still using \"%s\"",
		key, *now ? *now : "(unset)", *was ? *was : "(unset)");
	free(*now);
	*now = *was;				/* the old configuration gives it up */
	*was = NULL;
}

/* keep_secret - a restart-only secret: as keep_str, without showing it */

static void
keep_secret(const char *key, char **was, char **now)
{
	if (*was == NULL ? *now == NULL : *now != NULL && strcmp(*was, *now) == 0)
		return;
	mw_warn("reload: %s changed: needs restart; still using the value it started with", key);
	free(*now);
	*now = *was;				/* the old configuration gives it up */
	*was = NULL;
}

/* secret_in_config - RedisPassword where everyone can read it: say so */

static void
secret_in_config(void)
{
	struct stat st;

	if (conf.redis_password != NULL && stat(config_path, &st) == 0 && (st.st_mode & S_IROTH))
		mw_warn("%s: RedisPassword is in a file everyone can read; "
			"prefer RedisPasswordFile", config_path);
}

/* keep_num - a restart-only number: warn, keep the running value */

static void
keep_num(const char *key, long long was, long long *now)
{
	if (was == *now)
		return;
	mw_warn("reload: %s changed to %lld: needs restart; still using %lld", key, *now, was);
	*now = was;
}

/*
 * restart_only - settings a reload cannot change (the socket, the process,
 * the connections to the stores and the cache are made once, at start)
 * keep, in the new configuration, the values the process runs with, so that
 * every reload of a changed file says so again.
 */
static void
restart_only(struct policy_conf *was, struct policy_conf *now)
{
	keep_str("PolicySocket", &was->policy_socket, &now->policy_socket);
	keep_str("User", &was->user, &now->user);
	keep_str("Group", &was->group, &now->group);
	keep_str("PidFile", &was->pid_file, &now->pid_file);
	keep_str("MetricsListen", &was->metrics_listen, &now->metrics_listen);
	keep_str("RateStore", &was->rate_store, &now->rate_store);
	keep_num("RedisTimeout", was->redis_timeout, &now->redis_timeout);
	keep_str("RedisUser", &was->redis_user, &now->redis_user);
	keep_secret("RedisPassword", &was->redis_password, &now->redis_password);
	keep_str("RedisPasswordFile", &was->redis_password_file, &now->redis_password_file);
	keep_num("RedisDatabase", was->redis_database, &now->redis_database);
	keep_str("RedisCAFile", &was->redis_ca_file, &now->redis_ca_file);
	keep_str("RedisCertFile", &was->redis_cert_file, &now->redis_cert_file);
	keep_str("RedisKeyFile", &was->redis_key_file, &now->redis_key_file);
	keep_str("RecipientUserdb", &was->recipient_userdb, &now->recipient_userdb);
	keep_num("RecipientUserdbTimeout", was->recipient_userdb_timeout, &now->recipient_userdb_timeout);
	keep_num("RecipientCacheSize", was->recipient_cache_size, &now->recipient_cache_size);
	keep_str("Userdb", &was->userdb, &now->userdb);
	keep_num("UserdbTimeout", was->userdb_timeout, &now->userdb_timeout);
	keep_num("UserdbCacheSize", was->userdb_cache_size, &now->userdb_cache_size);
	keep_str("SenderOwnership", &was->sender_ownership, &now->sender_ownership);
	keep_str("Suspension", &was->suspension, &now->suspension);
}

/* reload_finish - the thread is done: swap, or keep the old and say why */

static void
reload_finish(void)
{
	struct reload_job *job = reload_job;
	struct policy_tables *old;
	uint64_t n;
	long long was_max = conf.max_connections;

	if (job == NULL || read(reload_fd, &n, sizeof(n)) != sizeof(n))
		return;
	(void) pthread_join(job->thread, NULL);
	reload_job = NULL;
	policy_metrics_reload(job->tables != NULL);
	if (job->tables == NULL) {
		mw_error("reload failed, keeping the old configuration: %s", job->err);
	} else {
		restart_only(&conf, &job->conf);
		/* the sources of ownership and suspension, like Userdb, are the start's */
		job->tables->relay.ownership_userdb = tables->relay.ownership_userdb;
		job->tables->relay.suspension_userdb = tables->relay.suspension_userdb;
		if (rcpt_cache != NULL)
			mw_cache_clear(rcpt_cache);	/* users may have come or gone */
		mw_account_cache_clear(acct_cache);
		mw_cfg_free(policy_conf_table, &conf);
		conf = job->conf;
		reload_fd_limit(was_max);
		old = tables;
		tables = job->tables;
		tables_summary("reloaded", tables, elapsed_ms(&job->start));
		policy_tables_free(old);
	}
	free(job);
	if (reload_again)
		reload_start();
}

/* reload_wait - stopping: let a running reload end, discard it */

static void
reload_wait(void)
{
	if (reload_job == NULL)
		return;
	(void) pthread_join(reload_job->thread, NULL);
	if (reload_job->tables != NULL) {
		policy_tables_free(reload_job->tables);
		mw_cfg_free(policy_conf_table, &reload_job->conf);
	}
	free(reload_job);
	reload_job = NULL;
}

/* serve - the event loop */

static void
serve(void)
{
	struct epoll_event ev[64];
	struct signalfd_siginfo si;
	time_t	now;
	time_t	last_sweep = time(NULL);
	int	timeout;
	int	n;
	int	i;

	for (;;) {
		timeout = (redis && policy_redis_busy(redis))
			|| (userdb && policy_userdb_busy(userdb)) ? 5 : 1000 * SWEEP_SECONDS;
		if (accept_paused_until != 0 && timeout > ACCEPT_PAUSE_MS)
			timeout = ACCEPT_PAUSE_MS;
		if ((noverflow > 0 || cap_log.count > 0 || fail_log.count > 0) && timeout > 1000)
			timeout = 1000;
		n = epoll_wait(epfd, ev, 64, timeout);
		if (n < 0 && errno != EINTR)
			mw_fatal("epoll_wait: %m");
		now = time(NULL);
		accept_resume(mw_now_ms());
		if (noverflow > 0)
			sweep_overflow(now);
		overload_log(now, 0, 0);
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &listen_fd) {
				accept_conns(listen_fd, now);
			} else if (ev[i].data.ptr == &redis_tag) {
				policy_redis_io(redis, (int) ev[i].events, mw_now_ms());
			} else if (ev[i].data.ptr == &reload_fd) {
				reload_finish();
			} else if (ev[i].data.ptr == &userdb_tag) {
				policy_userdb_io(userdb, (int) ev[i].events, mw_now_ms());
			} else if (ev[i].data.ptr == &signal_fd) {
				while (read(signal_fd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						reload_start();
					} else if (si.ssi_signo == SIGUSR2) {
						policy_metrics_summary();
					} else {
						mw_info("stopping on signal %u", si.ssi_signo);
						return;
					}
				}
			} else {
				struct conn *c = ev[i].data.ptr;

				if (ev[i].events & EPOLLOUT) {
					if (conn_flush(c) < 0 || (c->answered && c->out_len == 0)) {
						conn_close(c);
						continue;
					}
				}
				if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_input(c, now);
			}
		}
		if (redis != NULL)
			policy_redis_tick(redis, mw_now_ms());
		if (userdb != NULL)
			policy_userdb_tick(userdb, mw_now_ms());
		if (now - last_sweep >= SWEEP_SECONDS) {
			sweep(now);
			last_sweep = now;
		}
	}
}

/* fd_limit - room for MaxConnections: raise the soft limit, or say why not */

static int
fd_limit(char *err, size_t errlen)
{
	unsigned long long limit;

	if (mw_fdlimit_raise(FD_NEED(conf.max_connections), "MaxConnections",
			     conf.max_connections, &limit, err, errlen) < 0)
		return (-1);
	if (mw_verbose)
		mw_info("descriptor limit %llu for MaxConnections %lld", limit, conf.max_connections);
	return (0);
}

/* reload_fd_limit - a larger MaxConnections needs room, or the old value stays */

static void
reload_fd_limit(long long was_max)
{
	char	err[512];

	if (conf.max_connections > was_max && fd_limit(err, sizeof(err)) < 0) {
		mw_warn("reload: %s; MaxConnections stays %lld", err, was_max);
		conf.max_connections = was_max;
	}
}

/* main - start up, then serve */

int
main(int argc, char **argv)
{
	struct mw_endpoint ep;
	struct mw_pidfile pf = {-1, NULL};
	struct epoll_event evt;
	struct timespec start;
	sigset_t sigs;
	char	err[MW_CFG_ERR_MAX];
	int	foreground = 0;
	int	check_only = 0;
	int	lfd;
	int	sfd;
	int	ch;

	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};

	while ((ch = getopt_long(argc, argv, "c:fhtv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(argv[0], 1);
			break;
		case 'V':
			printf("mailwarren-policyd %s\n", PACKAGE_VERSION);
			return (0);
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			check_only = 1;
			break;
		case 'v':
			mw_verbose++;
			break;
		default:
			usage(argv[0], 0);
		}
	}
	if (optind != argc)
		usage(argv[0], 0);

	if (check_only) {
		struct policy_tables *t;

		mw_msg_open(argv[0], MW_MSG_STDERR);
		memset(&conf, 0, sizeof(conf));
		if (load_all(&conf, &t, 0, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return (1);
		}
		if (mw_endpoint_parse(conf.policy_socket, &ep, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: PolicySocket: %s\n", config_path, err);
			return (1);
		}
		if (fd_limit(err, sizeof(err)) < 0
		    || (strcasecmp(conf.rate_store, "memory") != 0
			&& (redis = policy_redis_create(&conf, err, sizeof(err))) == NULL)) {
			fprintf(stderr, "%s: %s\n", config_path, err);
			policy_tables_free(t);
			mw_cfg_free(policy_conf_table, &conf);
			return (1);
		}
		policy_redis_free(redis);
		secret_in_config();
		printf("%s: OK\n", config_path);
		policy_tables_free(t);
		mw_cfg_free(policy_conf_table, &conf);
		return (0);
	}

	/* Syslog first: it must work after a chroot too. */
	mw_msg_open(argv[0], MW_MSG_SYSLOG | (foreground ? MW_MSG_STDERR : 0));

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (load_all(&conf, &tables, 0, err, sizeof(err)) < 0)
		mw_fatal("%s", err);
	tables_summary("loaded", tables, elapsed_ms(&start));
	if ((rate = mw_rate_create()) == NULL)
		mw_fatal("out of memory");
	if (mw_endpoint_parse(conf.policy_socket, &ep, err, sizeof(err)) < 0)
		mw_fatal("%s: PolicySocket: %s", config_path, err);
	if (fd_limit(err, sizeof(err)) < 0)
		mw_fatal("%s: %s", config_path, err);
	if ((reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		mw_fatal("open /dev/null: %m");

	/* Signals go to a signalfd, never to a handler. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0)
		mw_fatal("sigprocmask: %m");

	/* Root's work: pid file, socket, the rate store's secrets; then drop privileges. */
	if (strcasecmp(conf.rate_store, "memory") != 0
	    && (redis = policy_redis_create(&conf, err, sizeof(err))) == NULL)
		mw_fatal("%s: %s", config_path, err);
	secret_in_config();
	if (conf.pid_file != NULL && mw_pidfile_open(&pf, conf.pid_file, err, sizeof(err)) < 0)
		mw_fatal("%s", err);
	if ((lfd = mw_endpoint_listen(&ep, 1024, 0660, err, sizeof(err))) < 0)
		mw_fatal("%s", err);
	policy_metrics_init(&conf);
	if (ep.type == MW_EP_UNIX && conf.user != NULL && geteuid() == 0)
		socket_owner(ep.path);
	if (mw_privs_drop(conf.user, conf.group, NULL, err, sizeof(err)) < 0)
		mw_fatal("%s", err);
	if (!foreground && mw_daemonize(err, sizeof(err)) < 0)
		mw_fatal("%s", err);
	if (pf.fd >= 0 && mw_pidfile_write(&pf, err, sizeof(err)) < 0)
		mw_fatal("%s", err);

	if (fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) < 0)
		mw_fatal("fcntl: %m");
	if ((sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		mw_fatal("signalfd: %m");
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		mw_fatal("epoll_create1: %m");
	memset(&evt, 0, sizeof(evt));
	evt.events = EPOLLIN;
	if (redis != NULL && policy_redis_attach(redis, epfd, &redis_tag, err, sizeof(err)) < 0)
		mw_fatal("%s: %s", config_path, err);
	/* One auth-userdb connection for recipients (lmtp) and logins (smtp). */
	if (conf.recipient_userdb != NULL || conf.userdb != NULL) {
		if ((userdb = policy_userdb_create(conf.userdb ? conf.userdb : conf.recipient_userdb,
						   epfd, &userdb_tag, err, sizeof(err))) == NULL)
			mw_fatal("%s: %s: %s", config_path,
				 conf.userdb ? "Userdb" : "RecipientUserdb", err);
	}
	if (conf.recipient_userdb != NULL
	    && (rcpt_cache = mw_cache_create((size_t) conf.recipient_cache_size)) == NULL)
		mw_fatal("out of memory");
	if (conf.userdb != NULL
	    && (acct_cache = mw_account_cache_create((size_t) conf.userdb_cache_size)) == NULL)
		mw_fatal("out of memory");
	listen_fd = lfd;
	signal_fd = sfd;
	evt.data.ptr = &listen_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &evt) < 0)
		mw_fatal("epoll_ctl: %m");
	evt.data.ptr = &signal_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &evt) < 0)
		mw_fatal("epoll_ctl: %m");
	if ((reload_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		mw_fatal("eventfd: %m");
	evt.data.ptr = &reload_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, reload_fd, &evt) < 0)
		mw_fatal("epoll_ctl: %m");

	policy_metrics_start(&conf);
	mw_info("listening on %s", conf.policy_socket);
	serve();
	policy_metrics_stop();

	/* Orderly stop: close everything, remove our files. */
	reload_wait();
	while (conns != NULL)
		conn_close(conns);
	close(lfd);
	if (ep.type == MW_EP_UNIX)
		(void) unlink(ep.path);
	mw_pidfile_close(&pf, 1);
	policy_redis_free(redis);
	policy_userdb_free(userdb);
	mw_cache_free(rcpt_cache);
	mw_account_cache_free(acct_cache);
	policy_tables_free(tables);
	mw_rate_free(rate);
	mw_cfg_free(policy_conf_table, &conf);
	mw_info("stopped");
	return (0);
}
