/*++
/* NAME
/*	policy_rconn 3
/* SUMMARY
/*	one Redis connection on the daemon's event loop (hiredis async)
/* SYNOPSIS
/*	#include "policy_rconn.h"
/*
/*	struct policy_rconn *policy_rconn_create(name, endpoint, opts, epfd, tag,
/*						err, errlen)
/*	const char *name;
/*	const struct mw_endpoint *endpoint;
/*	const struct policy_rconn_opts *opts;
/*	int	epfd;
/*	void	*tag;
/*
/*	void	policy_rconn_hello(rc, hello, arg)
/*	struct policy_rconn *rc;
/*	void	(*hello)(void *arg, struct policy_rconn *rc, long long now_ms,
/*			long long deadline_ms);
/*
/*	int	policy_rconn_connect(rc, now_ms, deadline_ms)
/*
/*	int	policy_rconn_submit(rc, now_ms, deadline_ms, fn, ctx, argc, argv, argvlen)
/*	void	(*fn)(void *ctx, const redisReply *reply, const char *why);
/*	int	argc;
/*	const char **argv;
/*	const size_t *argvlen;
/*
/*	void	policy_rconn_io(rc, events, now_ms)
/*	void	policy_rconn_tick(rc, now_ms)
/*	int	policy_rconn_busy(rc)
/*	void	policy_rconn_close(rc, why, now_ms)
/*	void	policy_rconn_free(rc)
/*	const char *policy_rconn_name(rc)
/* DESCRIPTION
/*	The connection layer under the rate store (policy_redis(3)) and
/*	whatever else talks to Redis (Sentinel, Cluster): ONE connection
/*	object to one Redis server (endpoint: inet: or inet6:), which
/*	connects when asked to, carries commands with a callback per
/*	reply, enforces a deadline per command and closes.  It runs
/*	hiredis' asynchronous API on the caller's epoll set: the adapter
/*	here (addRead, delRead, addWrite, delWrite, cleanup) registers the
/*	socket with epfd, tagged with tag; the owner of the loop calls
/*	policy_rconn_io() when epoll reports that tag, and
/*	policy_rconn_tick() every few milliseconds while policy_rconn_busy()
/*	is true (the deadlines are timers kept here, not hiredis'). Nothing
/*	blocks.  name (e.g. "rate store redis://HOST:PORT") begins the
/*	connection's log lines.  Several objects may share one epoll set
/*	with different tags.
/*
/*	policy_rconn_submit() sends one command (argc strings argv of
/*	argvlen bytes) and returns 0: fn(ctx, reply, NULL) is then called
/*	exactly once with the reply (hiredis frees it when fn returns), or
/*	fn(ctx, NULL, why) when there will be none: the connection failed
/*	or closed, or a command on it is past its deadline_ms (an absolute
/*	time in ms, as now_ms).  Replies come in the order of the
/*	commands (pipelined).  When no connection exists, submit makes one
/*	first; it returns -1 (and fn is never called) while that is
/*	impossible, which includes the second after a failure, so that a
/*	dead server costs one attempt a second, not one per command.
/*	policy_rconn_connect() makes the connection without a command.
/*
/*	A connection is over TLS when opts->tls is set (the caller keeps
/*	it until the object is freed); the handshake is part of the
/*	connection, and its failure (OpenSSL's reason: "TLS: certificate
/*	verify failed") is the connection's.
/*
/*	On every new connection, before any other command: AUTH (when
/*	opts->password is set; with opts->user too for a Redis 6 ACL
/*	user), SELECT opts->database (unless 0), then the hello callback
/*	given with policy_rconn_hello() may queue its own commands (a
/*	script load) with the deadline it is given.  A refused AUTH or
/*	SELECT is logged and closes the connection.
/*
/*	When any command is past its deadline, the server closes, or the
/*	bytes it sends are not RESP within the limits of
/*	policy_resp_guard(3), the connection is closed: every command in
/*	flight gets fn(ctx, NULL, why), the reason is logged once
/*	("NAME: why; failing over", then "NAME: connected" when a reply
/*	arrives again), and no new connection is made for a second.
/*	policy_rconn_close() does the same on the caller's behalf (why:
/*	NULL for no log line).  policy_rconn_free() closes without a log
/*	line and releases the object.  A callback may submit commands
/*	and may close the connection, but not free it.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* Utility library. */

#include "mw_msg.h"
#include "mw_str.h"

/* Application-specific. */

#include "policy_rconn.h"

#define RCONN_RETRY_MS	1000

/* a command in flight */
struct rconn_cmd {
	struct policy_rconn *rc;
	policy_rconn_fn fn;
	void   *ctx;
	long long deadline;
	struct rconn_cmd *prev;
	struct rconn_cmd *next;
};

/* the adapter's state for one hiredis context (freed once hiredis is done with it) */
struct rconn_ev {
	struct policy_rconn *rc;	/* NULL: the connection was let go */
	struct policy_rconn *owner;
	struct rconn_ev *next_dead;	/* hiredis is done with it: free */
	redisAsyncContext *ac;
	int	fd;
	int	events;			/* registered with epoll */
	struct policy_resp_guard guard;
};

struct policy_rconn {
	char	name[MW_EP_STR_MAX + 64];
	struct mw_endpoint ep;
	struct policy_rconn_opts opts;
	int	epfd;
	void   *tag;
	redisAsyncContext *ac;		/* NULL: not connected */
	struct rconn_ev *ev;		/* of ac */
	long long retry_at;		/* no new connection before */
	int	warned;			/* said it is down; say when up */
	char	why[160];		/* why the last connection went */
	policy_rconn_hello_fn hello;
	void   *hello_arg;
	struct rconn_cmd *head;		/* in flight, oldest first */
	struct rconn_cmd *tail;
	size_t	unordered;		/* in flight with a deadline before an older one's */
	struct rconn_ev *dead;		/* adapter states to free, outside hiredis */
	int	in_hiredis;		/* calls into hiredis under way */
};

/* ev_want - (re)register the socket for events */

static void
ev_want(struct rconn_ev *e, int events)
{
	struct epoll_event ev;
	int	op;

	if (e->rc == NULL || events == e->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = (uint32_t) events;
	ev.data.ptr = e->rc->tag;
	op = events == 0 ? EPOLL_CTL_DEL : e->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(e->rc->epfd, op, e->fd, &ev) == 0 || events == 0)
		e->events = events;
	else
		mw_warn("%s: epoll_ctl: %m", e->rc->name);
}

/* The adapter: hiredis asks for events through these. */

static void
ev_add_read(void *arg)
{
	struct rconn_ev *e = arg;

	ev_want(e, e->events | EPOLLIN);
}

static void
ev_del_read(void *arg)
{
	struct rconn_ev *e = arg;

	ev_want(e, e->events & ~EPOLLIN);
}

static void
ev_add_write(void *arg)
{
	struct rconn_ev *e = arg;

	ev_want(e, e->events | EPOLLOUT);
}

static void
ev_del_write(void *arg)
{
	struct rconn_ev *e = arg;

	ev_want(e, e->events & ~EPOLLOUT);
}

static void rconn_lost(struct policy_rconn *, const char *, long long);
static const char *rconn_why(const redisAsyncContext *, const struct rconn_ev *, int, char *,
			              size_t);

static void
ev_cleanup(void *arg)
{
	struct rconn_ev *e = arg;
	struct policy_rconn *rc = e->rc;
	char	why[160];

	/*
	 * hiredis lets the connection go by itself (1.x calls this before the
	 * callbacks of what was in flight, 0.14 after them).  With nothing in
	 * flight and a plain close, the server closed an idle connection:
	 * forget it quietly, connect again when asked.  Anything else is a
	 * failure: say why once, wait a second.
	 */
	if (rc != NULL && rc->ev == e) {
		if (rc->head == NULL && e->ac->err == REDIS_ERR_EOF && e->guard.refused == NULL) {
			ev_want(e, 0);
			e->rc = NULL;
			rc->ev = NULL;
			rc->ac = NULL;
		} else {
			rconn_lost(rc, rconn_why(e->ac, e, rc->opts.tls != NULL, why, sizeof(why)),
				   mw_now_ms());
		}
	}
	ev_want(e, 0);

	/* hiredis may still pass it to callbacks: free it once hiredis returns */
	e->next_dead = e->owner->dead;
	e->owner->dead = e;
}

/* rconn_sweep - free the adapter states hiredis is done with */

static void
rconn_sweep(struct policy_rconn *rc)
{
	struct rconn_ev *e;

	if (rc->in_hiredis > 0)
		return;
	while ((e = rc->dead) != NULL) {
		rc->dead = e->next_dead;
		free(e);
	}
}

/* rconn_lost - the connection is gone or going: log once, wait a second */

static void
rconn_lost(struct policy_rconn *rc, const char *why, long long now_ms)
{
	if (!rc->warned && why != NULL)
		mw_warn("%s: %s; failing over", rc->name, why);
	rc->warned = 1;
	mw_strlcpy(rc->why, why ? why : "connection closed", sizeof(rc->why));
	if (rc->ev != NULL) {
		ev_want(rc->ev, 0);
		rc->ev->rc = NULL;
	}
	rc->ev = NULL;
	rc->ac = NULL;
	rc->retry_at = now_ms + RCONN_RETRY_MS;
}

/* rconn_why - why a context failed, for a log line */

static const char *
rconn_why(const redisAsyncContext *ac, const struct rconn_ev *e, int tls, char *buf, size_t len)
{
	char	reason[128];

	if (e != NULL && e->guard.refused != NULL)
		snprintf(buf, len, "protocol error: %s", e->guard.refused);
	else if (tls && policy_tls_why(reason, sizeof(reason)) != NULL)
		snprintf(buf, len, "TLS: %s", reason);
	else if (ac->err == REDIS_ERR_EOF)
		snprintf(buf, len, "connection closed");
	else if (ac->err == REDIS_ERR_PROTOCOL)
		snprintf(buf, len, "protocol error: %s", ac->errstr);
	else if (ac->errstr != NULL && ac->errstr[0] != '\0')
		snprintf(buf, len, "%s", ac->errstr);
	else
		snprintf(buf, len, "connection failed");
	return (buf);
}

/* rconn_unlink - a command leaves the list of those in flight */

static void
rconn_unlink(struct policy_rconn *rc, struct rconn_cmd *cmd)
{
	if (cmd->prev)
		cmd->prev->next = cmd->next;
	else
		rc->head = cmd->next;
	if (cmd->next)
		cmd->next->prev = cmd->prev;
	else
		rc->tail = cmd->prev;
	if (rc->head == NULL)
		rc->unordered = 0;
}

/* rconn_reply - hiredis' callback: pass the reply on, or why there is none */

static void
rconn_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct rconn_cmd *cmd = privdata;
	struct policy_rconn *rc = cmd->rc;
	struct rconn_ev *e = ac->ev.data;
	policy_rconn_fn fn = cmd->fn;
	void   *ctx = cmd->ctx;
	char	buf[160];

	rconn_unlink(rc, cmd);
	free(cmd);
	if (reply == NULL) {
		if (rc->ac == ac)
			rconn_lost(rc, rconn_why(ac, e, rc->opts.tls != NULL, buf, sizeof(buf)), mw_now_ms());
		fn(ctx, NULL, rc->why);
		return;
	}
	if (rc->warned && rc->ac == ac && ((redisReply *) reply)->type != REDIS_REPLY_ERROR) {
		mw_info("%s: connected", rc->name);
		rc->warned = 0;
	}
	fn(ctx, reply, NULL);
}

/* rconn_setup - AUTH or SELECT answered: anything but OK closes */

static void
rconn_setup(struct policy_rconn *rc, const char *what, const redisReply *reply)
{
	char	shown[160];

	if (reply == NULL)
		return;				/* the connection's failure is logged */
	if (reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "OK") == 0)
		return;
	if (!rc->warned)
		mw_warn("%s: %s refused (%s); failing over", rc->name, what,
			policy_resp_show(reply, shown, sizeof(shown)));
	rc->warned = 1;
	policy_rconn_close(rc, NULL, mw_now_ms());
}

/* rconn_auth_done - the answer to AUTH */

static void
rconn_auth_done(void *ctx, const redisReply *reply, const char *why)
{
	(void) why;
	rconn_setup(ctx, "AUTH", reply);
}

/* rconn_select_done - the answer to SELECT */

static void
rconn_select_done(void *ctx, const redisReply *reply, const char *why)
{
	(void) why;
	rconn_setup(ctx, "SELECT", reply);
}

/* rconn_open - a new connection, its login and hello queued */

static int
rconn_open(struct policy_rconn *rc, long long now_ms, long long deadline_ms)
{
	redisAsyncContext *ac;
	struct rconn_ev *e;
	const char *argv[3];
	size_t	lens[3];
	char	db[16];
	char	why[160];
	int	n = 0;

	if (now_ms < rc->retry_at)
		return (-1);
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		rconn_lost(rc, "out of memory", now_ms);
		return (-1);
	}
	if (rc->opts.tls != NULL)
		(void) policy_tls_why(NULL, 0);	/* no stale reason */
	if ((ac = policy_hiredis_connect(rc->ep.host, (int) rc->ep.port, rc->opts.tls)) == NULL
	    || ac->err) {
		rconn_lost(rc, ac ? rconn_why(ac, NULL, rc->opts.tls != NULL, why, sizeof(why)) :
			   "out of memory", now_ms);
		if (ac)
			redisAsyncFree(ac);
		free(e);
		return (-1);
	}
	e->rc = rc;
	e->owner = rc;
	e->ac = ac;
	e->fd = ac->c.fd;
	policy_resp_guard(ac->c.reader, &e->guard);
	ac->ev.data = e;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	rc->ac = ac;
	rc->ev = e;
	ev_add_write(e);			/* the connect completes on it */

	if (rc->opts.password != NULL) {
		argv[n] = "AUTH", lens[n] = 4, n++;
		if (rc->opts.user != NULL)
			argv[n] = rc->opts.user, lens[n] = strlen(rc->opts.user), n++;
		argv[n] = rc->opts.password, lens[n] = strlen(rc->opts.password), n++;
		if (policy_rconn_submit(rc, now_ms, deadline_ms, rconn_auth_done, rc, n, argv, lens) < 0)
			goto fail;
	}
	if (rc->opts.database != 0) {
		snprintf(db, sizeof(db), "%d", rc->opts.database);
		argv[0] = "SELECT", lens[0] = 6;
		argv[1] = db, lens[1] = strlen(db);
		if (policy_rconn_submit(rc, now_ms, deadline_ms, rconn_select_done, rc, 2, argv, lens) < 0)
			goto fail;
	}
	if (rc->hello != NULL)
		rc->hello(rc->hello_arg, rc, now_ms, deadline_ms);
	return (rc->ac != NULL ? 0 : -1);

fail:
	policy_rconn_close(rc, "out of memory", now_ms);	/* not logged in: no use */
	return (-1);
}

/* policy_rconn_create - a connection object; it connects when asked */

struct policy_rconn *
policy_rconn_create(const char *name, const struct mw_endpoint *ep,
		            const struct policy_rconn_opts *opts, int epfd, void *tag,
		            char *err, size_t errlen)
{
	struct policy_rconn *rc;

	if (ep->type != MW_EP_INET && ep->type != MW_EP_INET6) {
		snprintf(err, errlen, "%s: expected a TCP endpoint", name);
		return (NULL);
	}
	if ((rc = calloc(1, sizeof(*rc))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	mw_strlcpy(rc->name, name, sizeof(rc->name));
	rc->ep = *ep;
	if (opts != NULL)
		rc->opts = *opts;
	rc->epfd = epfd;
	rc->tag = tag;
	return (rc);
}

/* policy_rconn_hello - what every new connection sends first */

void
policy_rconn_hello(struct policy_rconn *rc, policy_rconn_hello_fn hello, void *arg)
{
	rc->hello = hello;
	rc->hello_arg = arg;
}

/* policy_rconn_connect - connected, connecting, or -1 for now */

int
policy_rconn_connect(struct policy_rconn *rc, long long now_ms, long long deadline_ms)
{
	if (rc->ac != NULL)
		return (0);
	return (rconn_open(rc, now_ms, deadline_ms));
}

/* policy_rconn_submit - send one command; fn gets its reply */

int
policy_rconn_submit(struct policy_rconn *rc, long long now_ms, long long deadline_ms,
		            policy_rconn_fn fn, void *ctx, int argc, const char **argv,
		            const size_t *argvlen)
{
	struct rconn_cmd *cmd;

	if (policy_rconn_connect(rc, now_ms, deadline_ms) < 0)
		return (-1);
	if ((cmd = calloc(1, sizeof(*cmd))) == NULL)
		return (-1);
	cmd->rc = rc;
	cmd->fn = fn;
	cmd->ctx = ctx;
	cmd->deadline = deadline_ms;
	if (redisAsyncCommandArgv(rc->ac, rconn_reply, cmd, argc, argv, argvlen) != REDIS_OK) {
		free(cmd);
		return (-1);
	}
	rc->ev->guard.expect++;
	if ((cmd->prev = rc->tail) != NULL) {
		rc->tail->next = cmd;
		if (deadline_ms < cmd->prev->deadline)
			rc->unordered++;
	} else {
		rc->head = cmd;
	}
	rc->tail = cmd;
	return (0);
}

/* policy_rconn_io - the socket is ready */

void
policy_rconn_io(struct policy_rconn *rc, int events, long long now_ms)
{
	redisAsyncContext *ac = rc->ac;
	const redisReader *r;

	if (ac == NULL)
		return;
	rc->in_hiredis++;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		redisAsyncHandleWrite(ac);
	if (rc->ac == ac && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		redisAsyncHandleRead(ac);
	rc->in_hiredis--;
	if (rc->ac == ac) {
		r = ac->c.reader;
		if (r->len - r->pos > POLICY_RESP_BULK_MAX)
			policy_rconn_close(rc, "a reply longer than 1 MB", now_ms);
	}
	rconn_sweep(rc);
}

/* policy_rconn_tick - enforce the deadlines */

void
policy_rconn_tick(struct policy_rconn *rc, long long now_ms)
{
	struct rconn_cmd *cmd;

	for (cmd = rc->head; cmd != NULL; cmd = rc->unordered ? cmd->next : NULL) {
		if (cmd->deadline <= now_ms) {
			policy_rconn_close(rc, "no answer within RedisTimeout", now_ms);
			return;
		}
	}
}

/* policy_rconn_busy - commands in flight */

int
policy_rconn_busy(const struct policy_rconn *rc)
{
	return (rc->head != NULL);
}

/* policy_rconn_close - close; what is in flight gets no reply */

void
policy_rconn_close(struct policy_rconn *rc, const char *why, long long now_ms)
{
	redisAsyncContext *ac = rc->ac;

	rconn_lost(rc, why, now_ms);
	if (ac != NULL) {
		rc->in_hiredis++;
		redisAsyncFree(ac);		/* in a callback: once it returns */
		rc->in_hiredis--;
	}
	rconn_sweep(rc);
}

/* policy_rconn_free - close quietly and release */

void
policy_rconn_free(struct policy_rconn *rc)
{
	if (rc == NULL)
		return;
	rc->warned = 1;
	policy_rconn_close(rc, NULL, 0);
	free(rc);
}

/* policy_rconn_name - for the caller's log lines */

const char *
policy_rconn_name(const struct policy_rconn *rc)
{
	return (rc->name);
}
