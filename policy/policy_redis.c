/*++
/* NAME
/*	policy_redis 3
/* SUMMARY
/*	rate counters shared through Redis, without blocking the event loop
/* SYNOPSIS
/*	#include "policy_redis.h"
/*
/*	struct policy_redis *policy_redis_create(conf, err, errlen)
/*	const struct policy_conf *conf;
/*
/*	int	policy_redis_attach(pr, epfd, tag, err, errlen)
/*	struct policy_redis *pr;
/*	int	epfd;
/*	void	*tag;
/*
/*	int	policy_redis_submit(pr, pending, now, done, ctx, now_ms)
/*	struct policy_redis *pr;
/*	const struct policy_pending *pending;
/*	time_t	now;
/*	void	(*done)(void *ctx, int outcome);
/*	void	*ctx;
/*	long long now_ms;
/*
/*	void	policy_redis_io(pr, events, now_ms)
/*	void	policy_redis_tick(pr, now_ms)
/*	int	policy_redis_busy(pr)
/*	void	policy_redis_free(pr)
/* DESCRIPTION
/*	The counters of several MX hosts' mailwarren-policyd live in one
/*	Redis (RateStore redis://HOST:PORT).  Each rate question is ONE
/*	Lua script, so that checking every window of the login and of the
/*	customer and counting the events is atomic across hosts.  Windows
/*	slide as in mw_rate(3): ten buckets per window, one key per bucket
/*	("mwrl:KEY:SECONDS:BUCKET"), summed with MGET and expiring by
/*	themselves one window after their last use.  The bucket is chosen
/*	by Redis' clock (TIME, inside the script), so that hosts whose
/*	clocks differ count into the same windows; now (the daemon's
/*	clock) is not used.
/*
/*	The script is loaded (SCRIPT LOAD) first thing on every new
/*	connection and called by its SHA1 (EVALSHA); questions asked
/*	before the first load was answered send the script itself (EVAL).
/*	A NOSCRIPT answer (the server lost its script cache: a restart, a
/*	SCRIPT FLUSH, a failover) loads it again and asks once more, with
/*	the question's first deadline.
/*
/*	policy_redis_create() reads what the connection needs from the
/*	configuration (RateStore, RedisTimeout, RedisUser, RedisDatabase)
/*	and the files it names (RedisPasswordFile; for rediss://, TLS,
/*	RedisCAFile, RedisCertFile and RedisKeyFile; a password or key
/*	file must not be readable by everyone): call it before privileges
/*	are dropped.  Where hiredis has no TLS support (0.14), rediss://
/*	is refused here, with the reason.
/*	policy_redis_attach() then puts the connection on the daemon's
/*	epoll set (events tagged with tag); it connects lazily.
/*
/*	The connection is policy_rconn(3) (hiredis' asynchronous API on
/*	the daemon's epoll set, AUTH and SELECT on each new connection;
/*	RedisTimeout is the deadline of each question).  policy_redis_submit() queues a
/*	question and returns 0; done(ctx, outcome) is called later with the
/*	index of the item over its limit, -1 within limits, or
/*	POLICY_RATE_ERROR: when Redis is down, the connection breaks, no
/*	answer came within RedisTimeout, or the answer is not the script's
/*	(policy_resp_outcome(3): an error, another type, an integer out of
/*	range; logged once until a good answer comes, so that a replica
/*	given as the store, READONLY, is one line, not one per decision),
/*	so that the caller applies RedisFailMode.  While no
/*	connection can be made (within a second of a failure) submit fails
/*	at once (returns -1).  The event loop never waits for Redis.
/*
/*	policy_redis_io() handles readiness of the Redis socket;
/*	policy_redis_tick() enforces the deadlines (call it at least every
/*	few milliseconds while policy_redis_busy() is true).
/* BUGS
/*	The script builds key names, so it needs a single Redis (not
/*	Redis Cluster).
/*--*/

/* System library. */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Utility library. */

#include "mw_msg.h"
#include "mw_str.h"

/* Application-specific. */

#include "policy_redis.h"
#include "policy_reply.h"

#ifdef HAVE_HIREDIS

#include "policy_rconn.h"

/* EVALSHA sha nkeys key... nitems, then per item 3 and 2 per window */
#define RATE_ARGS_MAX	(4 + POLICY_RATE_ITEMS + POLICY_RATE_ITEMS * (3 + 2 * MW_RATE_WINDOWS_MAX))
#define SHA_LEN		40

/*
 * ARGV: item count, then per item: window count, check, add, then per
 * window: seconds, limit.  KEYS: one prefix per item.  Returns the 1-based
 * index of the first item over a limit, or 0 after counting everything.
 * The buckets are chosen by Redis' clock (TIME), the one clock of every
 * host that shares the counters.  TIME before writes is allowed because
 * Redis replicates a script by its effects (the default since Redis 5, the
 * only way since 7), not by running it again on the replicas.
 */
static const char redis_script[] =
"local now = tonumber(redis.call('TIME')[1]) local n = tonumber(ARGV[1]) local p = 2 local B = 10 "
"local plan = {} "
"for i = 1, n do "
"  local nwin = tonumber(ARGV[p]) local chk = tonumber(ARGV[p+1]) local add = tonumber(ARGV[p+2]) "
"  p = p + 3 "
"  for w = 1, nwin do "
"    local secs = tonumber(ARGV[p]) local limit = tonumber(ARGV[p+1]) p = p + 2 "
"    local width = math.max(1, math.floor(secs / B)) "
"    local idx = math.floor(now / width) "
"    local keys = {} "
"    for b = idx - B + 1, idx do keys[#keys+1] = KEYS[i] .. ':' .. secs .. ':' .. b end "
"    local sum = 0 "
"    for _, v in ipairs(redis.call('MGET', unpack(keys))) do if v then sum = sum + tonumber(v) end end "
"    if chk > 0 and sum + chk > limit then return i end "
"    if add > 0 then plan[#plan+1] = {KEYS[i] .. ':' .. secs .. ':' .. idx, add, width * (B + 1)} end "
"  end "
"end "
"for _, e in ipairs(plan) do redis.call('INCRBY', e[1], e[2]) redis.call('EXPIRE', e[1], e[3]) end "
"return 0";

#define SECRET_MAX	512

struct policy_redis {
	struct policy_rconn *rc;	/* NULL: not attached yet */
	char	name[MW_EP_HOST_MAX + 64];
	struct mw_endpoint ep;
	struct policy_rconn_opts opts;
	char   *user;
	char	password[SECRET_MAX + 1];
	struct policy_tls *tls;		/* rediss:// */
	int	timeout_ms;
	char	sha[SHA_LEN + 1];	/* "": not loaded yet */
	int	said;			/* logged a bad answer; quiet until a good one */
};

/* one rate question, kept to be asked again after NOSCRIPT */
struct redis_q {
	struct policy_redis *pr;
	void	(*done) (void *, int);
	void   *ctx;
	long long deadline;
	int	tries;
	int	argc;
	const char *argv[RATE_ARGS_MAX];
	size_t	lens[RATE_ARGS_MAX];
	char	keys[POLICY_RATE_ITEMS][sizeof(((struct policy_rate_item *) 0)->key) + 8];
	char	nums[RATE_ARGS_MAX][24];
};

static void redis_answer(void *, const redisReply *, const char *);

/* redis_loaded - the answer to SCRIPT LOAD: the script's SHA1 */

static void
redis_loaded(void *ctx, const redisReply *reply, const char *why)
{
	struct policy_redis *pr = ctx;
	char	shown[160];
	size_t	i;

	(void) why;
	if (reply == NULL)
		return;				/* the connection's failure is logged */
	if (reply->type == REDIS_REPLY_STRING && reply->len == SHA_LEN) {
		for (i = 0; i < SHA_LEN; i++)
			if (strchr("0123456789abcdef", reply->str[i]) == NULL)
				break;
		if (i == SHA_LEN) {
			memcpy(pr->sha, reply->str, SHA_LEN + 1);
			return;
		}
	}
	mw_warn("rate store: SCRIPT LOAD answered %s", policy_resp_show(reply, shown, sizeof(shown)));
}

/* redis_load - queue SCRIPT LOAD */

static int
redis_load(struct policy_redis *pr, long long now_ms, long long deadline_ms)
{
	const char *argv[3] = {"SCRIPT", "LOAD", redis_script};
	size_t	lens[3] = {6, 4, sizeof(redis_script) - 1};

	return (policy_rconn_submit(pr->rc, now_ms, deadline_ms, redis_loaded, pr, 3, argv, lens));
}

/* redis_hello - a new connection: load the script first */

static void
redis_hello(void *arg, struct policy_rconn *rc, long long now_ms, long long deadline_ms)
{
	(void) rc;
	(void) redis_load(arg, now_ms, deadline_ms);
}

/* redis_ask - send a question (EVALSHA once the SHA1 is known) */

static int
redis_ask(struct redis_q *q, long long now_ms)
{
	struct policy_redis *pr = q->pr;

	if (pr->sha[0] != '\0') {
		q->argv[0] = "EVALSHA", q->lens[0] = 7;
		q->argv[1] = pr->sha, q->lens[1] = SHA_LEN;
	} else {
		q->argv[0] = "EVAL", q->lens[0] = 4;
		q->argv[1] = redis_script, q->lens[1] = sizeof(redis_script) - 1;
	}
	return (policy_rconn_submit(pr->rc, now_ms, q->deadline, redis_answer, q, q->argc,
				    q->argv, q->lens));
}

/* redis_answer - the script's answer (or none) */

static void
redis_answer(void *ctx, const redisReply *reply, const char *why)
{
	struct redis_q *q = ctx;
	struct policy_redis *pr = q->pr;
	char	shown[160];
	long long now_ms;
	int	outcome;

	(void) why;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR
	    && strncmp(reply->str, "NOSCRIPT", 8) == 0 && q->tries++ == 0) {
		now_ms = mw_now_ms();
		if (redis_load(pr, now_ms, q->deadline) == 0 && redis_ask(q, now_ms) == 0)
			return;
		reply = NULL;
	}
	outcome = policy_resp_outcome(reply);
	if (reply == NULL || pr->said) {
		 /* the connection's failure is logged; or this answer was said */ ;
	} else if (reply->type == REDIS_REPLY_ERROR) {
		mw_warn("rate store: %s", mw_printable(shown, sizeof(shown), reply->str, reply->len));
	} else if (outcome == POLICY_RATE_ERROR) {
		mw_warn("rate store: a reply that is not the rate script's answer (%s)",
			policy_resp_show(reply, shown, sizeof(shown)));
	}
	if (reply != NULL)
		pr->said = outcome == POLICY_RATE_ERROR;
	q->done(q->ctx, outcome);
	free(q);
}

/* redis_secret - the password from RedisPasswordFile: its first line */

static int
redis_secret(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t	n;
	char   *nl;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "RedisPasswordFile %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return (-1);
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & S_IROTH)) {
		close(fd);
		snprintf(err, errlen, "RedisPasswordFile %s: %s", path, !S_ISREG(st.st_mode) ?
			 "not a regular file" : "readable by everyone (chmod o-rwx it)");
		return (-1);
	}
	n = read(fd, buf, len);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "RedisPasswordFile %s: %s", path, strerror(errno));
		return (-1);
	}
	if ((nl = memchr(buf, '\n', (size_t) n)) != NULL)
		n = nl - buf;
	else if ((size_t) n == len)
		n = -1;				/* no end in sight */
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n <= 0 || memchr(buf, '\0', (size_t) n) != NULL) {
		snprintf(err, errlen, "RedisPasswordFile %s: %s", path, n == 0 ?
			 "the first line is empty" : n < 0 ? "the first line is longer than 512 bytes" :
			 "a NUL byte in the password");
		return (-1);
	}
	buf[n] = '\0';
	return (0);
}

/* redis_tls - the TLS context of rediss://: the files are read now */

static int
redis_tls(struct policy_redis *pr, const struct policy_conf *conf, char *err, size_t errlen)
{
	struct in6_addr a;
	struct stat st;
	const char *sni;

	if (conf->redis_key_file != NULL && stat(conf->redis_key_file, &st) == 0
	    && (st.st_mode & S_IROTH)) {
		snprintf(err, errlen, "RedisKeyFile %s: readable by everyone (chmod o-rwx it)",
			 conf->redis_key_file);
		return (-1);
	}
	/* SNI names a host, never an address */
	sni = inet_pton(AF_INET, pr->ep.host, &a) == 1 || inet_pton(AF_INET6, pr->ep.host, &a) == 1 ?
		NULL : pr->ep.host;
	if ((pr->tls = policy_tls_create(conf->redis_ca_file, conf->redis_cert_file,
				  conf->redis_key_file, sni, err, errlen)) == NULL)
		return (-1);
	return (0);
}

/* policy_redis_create - parse redis[s]://HOST:PORT, read the secrets */

struct policy_redis *
policy_redis_create(const struct policy_conf *conf, char *err, size_t errlen)
{
	struct policy_redis *pr;

	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	if (policy_redis_url(conf->rate_store, &pr->ep, err, errlen) < 0)
		goto fail;
	snprintf(pr->name, sizeof(pr->name), "rate store %s", conf->rate_store);
	if (conf->redis_password_file != NULL) {
		if (redis_secret(conf->redis_password_file, pr->password, sizeof(pr->password) - 1,
				 err, errlen) < 0)
			goto fail;
		pr->opts.password = pr->password;
	} else if (conf->redis_password != NULL) {
		if (mw_strlcpy(pr->password, conf->redis_password, sizeof(pr->password))
		    >= sizeof(pr->password)) {
			snprintf(err, errlen, "RedisPassword: longer than %d bytes", SECRET_MAX);
			goto fail;
		}
		pr->opts.password = pr->password;
	}
	if (conf->redis_user != NULL && (pr->user = strdup(conf->redis_user)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pr->opts.user = pr->user;
	pr->opts.database = (int) conf->redis_database;
	if (strncmp(conf->rate_store, "rediss://", 9) == 0) {
		if (redis_tls(pr, conf, err, errlen) < 0)
			goto fail;
		pr->opts.tls = pr->tls;
	}
	pr->timeout_ms = (int) conf->redis_timeout;
	return (pr);

fail:
	policy_redis_free(pr);
	return (NULL);
}

/* policy_redis_attach - on the daemon's event loop; connect lazily */

int
policy_redis_attach(struct policy_redis *pr, int epfd, void *tag, char *err, size_t errlen)
{
	if ((pr->rc = policy_rconn_create(pr->name, &pr->ep, &pr->opts, epfd, tag, err,
					  errlen)) == NULL)
		return (-1);
	policy_rconn_hello(pr->rc, redis_hello, pr);
	return (0);
}

/* policy_redis_free - close and forget (questions are failed) */

void
policy_redis_free(struct policy_redis *pr)
{
	if (pr == NULL)
		return;
	policy_rconn_free(pr->rc);
	policy_tls_free(pr->tls);
	explicit_bzero(pr->password, sizeof(pr->password));
	free(pr->user);
	free(pr);
}

/* redis_arg - one more argument */

static void
redis_arg(struct redis_q *q, const char *s)
{
	q->argv[q->argc] = s;
	q->lens[q->argc] = strlen(s);
	q->argc++;
}

/* redis_num - one more argument, a number */

static void
redis_num(struct redis_q *q, unsigned long long n)
{
	snprintf(q->nums[q->argc], sizeof(q->nums[0]), "%llu", n);
	redis_arg(q, q->nums[q->argc]);
}

/* policy_redis_busy - questions in flight */

int
policy_redis_busy(const struct policy_redis *pr)
{
	return (policy_rconn_busy(pr->rc));
}

/* policy_redis_submit - queue one rate question */

int
policy_redis_submit(struct policy_redis *pr, const struct policy_pending *p, time_t now,
		            void (*done) (void *, int), void *ctx, long long now_ms)
{
	struct redis_q *q;
	size_t	i;
	size_t	w;

	if ((q = malloc(sizeof(*q))) == NULL)
		return (-1);
	q->pr = pr;
	q->done = done;
	q->ctx = ctx;
	q->deadline = now_ms + pr->timeout_ms;
	q->tries = 0;

	/* EVALSHA sha nitems key... nitems (nwin chk add (secs limit)...)...: no time */
	(void) now;
	q->argc = 2;
	redis_num(q, p->nitems);
	for (i = 0; i < p->nitems; i++) {
		snprintf(q->keys[i], sizeof(q->keys[i]), "mwrl:%s", p->item[i].key);
		redis_arg(q, q->keys[i]);
	}
	redis_num(q, p->nitems);
	for (i = 0; i < p->nitems; i++) {
		redis_num(q, p->item[i].limits.n);
		redis_num(q, p->item[i].check);
		redis_num(q, p->item[i].add);
		for (w = 0; w < p->item[i].limits.n; w++) {
			redis_num(q, p->item[i].limits.w[w].seconds);
			redis_num(q, p->item[i].limits.w[w].limit);
		}
	}
	if (redis_ask(q, now_ms) < 0) {
		free(q);
		return (-1);
	}
	return (0);
}

/* policy_redis_io - the Redis socket is ready */

void
policy_redis_io(struct policy_redis *pr, int events, long long now_ms)
{
	policy_rconn_io(pr->rc, events, now_ms);
}

/* policy_redis_tick - enforce the deadlines */

void
policy_redis_tick(struct policy_redis *pr, long long now_ms)
{
	policy_rconn_tick(pr->rc, now_ms);
}

#else					/* HAVE_HIREDIS */

/* Built without hiredis: RateStore redis:// is refused at start. */

struct policy_redis *
policy_redis_create(const struct policy_conf *conf, char *err, size_t errlen)
{
	snprintf(err, errlen, "RateStore %s: mailwarren-policyd was built without hiredis "
		 "(configure --with-hiredis)", conf->rate_store);
	return (NULL);
}

int
policy_redis_attach(struct policy_redis *pr, int epfd, void *tag, char *err, size_t errlen)
{
	(void) pr, (void) epfd, (void) tag, (void) err, (void) errlen;
	return (-1);
}

int
policy_redis_submit(struct policy_redis *pr, const struct policy_pending *p, time_t now,
		            void (*done) (void *, int), void *ctx, long long now_ms)
{
	(void) pr, (void) p, (void) now, (void) done, (void) ctx, (void) now_ms;
	return (-1);
}

void
policy_redis_io(struct policy_redis *pr, int events, long long now_ms)
{
	(void) pr, (void) events, (void) now_ms;
}

void
policy_redis_tick(struct policy_redis *pr, long long now_ms)
{
	(void) pr, (void) now_ms;
}

int
policy_redis_busy(const struct policy_redis *pr)
{
	(void) pr;
	return (0);
}

void
policy_redis_free(struct policy_redis *pr)
{
	(void) pr;
}

#endif					/* HAVE_HIREDIS */
