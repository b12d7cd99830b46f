/* test_spamc - mw_spamc: reply parser, User: check, host list failover */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mw_msg.h"
#include "mw_spamc.h"

static char err[512];

/* parse - run the parser on a C string */

static int
parse(const char *reply, struct mw_spamc_result *res)
{
	err[0] = '\0';
	return (mw_spamc_parse_reply(reply, strlen(reply), res, err, sizeof(err)));
}

static void
test_parse_symbols(void **state)
{
	struct mw_spamc_result r;

	assert_int_equal(parse("SPAMD/1.1 0 EX_OK\r\nContent-length: 27\r\n"
			       "Spam: True ; 1000.0 / 5.0\r\n\r\nGTUBE,NO_RECEIVED,NO_RELAYS", &r), 0);
	assert_int_equal(r.spam, 1);
	assert_true(r.score > 999.9 && r.score < 1000.1);
	assert_true(r.required > 4.9 && r.required < 5.1);
	assert_string_equal(r.symbols, "GTUBE,NO_RECEIVED,NO_RELAYS");
}

static void
test_parse_check_ham(void **state)
{
	struct mw_spamc_result r;

	assert_int_equal(parse("SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.0 / 5.0\r\n\r\n", &r), 0);
	assert_int_equal(r.spam, 0);
	assert_true(r.score == 0.0);
	assert_string_equal(r.symbols, "");
	/* REPORT_IFSPAM style words, any case, odd spacing, negative score */
	assert_int_equal(parse("SPAMD/1.5 0 EX_OK\r\nspam: yes;7.3/ 2.0\r\n\r\n", &r), 0);
	assert_int_equal(r.spam, 1);
	assert_true(r.score > 7.29 && r.score < 7.31);
	assert_true(r.required > 1.99 && r.required < 2.01);
	assert_int_equal(parse("SPAMD/1.5 0 EX_OK\nSpam: No ; -12.5 / 5.0\n\n", &r), 0);
	assert_true(r.score < -12.4 && r.score > -12.6);
	/* unknown headers are ignored; a trailing CRLF after the symbols too */
	assert_int_equal(parse("SPAMD/1.5 0 EX_OK\r\nX-Other: 1\r\nContent-length: 7\r\n"
			       "Spam: False ; 1 / 5\r\n\r\nA_B,C\r\n", &r), 0);
	assert_string_equal(r.symbols, "A_B,C");
}

/* bad - a malformed reply: -1 and an error naming the problem */

static void
bad(const char *reply, const char *want)
{
	struct mw_spamc_result r;

	if (parse(reply, &r) != -1)
		fail_msg("accepted: %s", reply);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static const char nul[] = "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\n\r\nA\0B";

static void
test_parse_malformed(void **state)
{
	struct mw_spamc_result r;

	bad("", "empty reply");
	bad("SPAMD/1.1 0 EX_OK", "truncated status line");
	bad("HTTP/1.0 200 OK\r\n\r\n", "bad status line");
	bad("SPAMD/ 0 EX_OK\r\n\r\n", "bad status line");
	bad("SPAMD/1.1 x EX_OK\r\n\r\n", "bad status line");
	bad("SPAMD/1.1 0\r\n", "bad status line");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1.0 / 5.0\r\n", "truncated reply header");
	bad("SPAMD/1.1 0 EX_OK\r\n\r\n", "no Spam header");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam True ; 1.0 / 5.0\r\n\r\n", "bad reply header");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1.0 / 5.0\r\n\r\n", "bad Spam header");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: True ; / 5.0\r\n\r\n", "bad Spam header");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1.0 5.0\r\n\r\n", "bad Spam header");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1.0 / 5.0 x\r\n\r\n", "bad Spam header");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: True ; nan / inf\r\n\r\n", "bad Spam header");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1e9 / 5.0\r\n\r\n", "bad Spam header");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: True\r\n\r\n", "bad Spam header");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1.0 / 5.0\r\nSpam: False ; 1.0 / 5.0\r\n\r\n",
	    "bad Spam header");
	bad("SPAMD/1.1 0 EX_OK\r\nContent-length: 10\r\nSpam: True ; 1.0 / 5.0\r\n\r\nGTUBE",
	    "Content-length says 10");
	bad("SPAMD/1.1 0 EX_OK\r\nContent-length: x\r\nSpam: True ; 1 / 5\r\n\r\n", "bad Content-length");
	bad("SPAMD/1.1 0 EX_OK\r\nContent-length: 1\r\nContent-length: 1\r\nSpam: True ; 1 / 5\r\n\r\nA",
	    "bad Content-length");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\n\r\nA B", "bad symbol list");
	bad("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\n\r\nA\r\nB", "bad symbol list");
	/* a NUL anywhere */
	err[0] = '\0';
	assert_int_equal(mw_spamc_parse_reply(nul, sizeof(nul) - 1, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	/* spamd's own errors are -2 and say what spamd said, printable */
	assert_int_equal(parse("SPAMD/1.0 76 Bad header line: (Content-Length mismatch)\r\n", &r), -2);
	assert_non_null(strstr(err, "76 Bad header line"));
	assert_int_equal(parse("SPAMD/1.0 79 Timeout: \x01\r\n", &r), -2);
	assert_null(strchr(err, '\x01'));
}

static void
test_parse_long_symbols(void **state)
{
	struct mw_spamc_result r;
	char   *reply;
	size_t	n = 0;
	int	i;

	reply = malloc(20000);
	assert_non_null(reply);
	n = (size_t) sprintf(reply, "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9 / 5\r\n\r\n");
	for (i = 0; i < 1500; i++)
		n += (size_t) sprintf(reply + n, "%sRULE_%04d", i ? "," : "", i);
	assert_int_equal(mw_spamc_parse_reply(reply, n, &r, err, sizeof(err)), 0);
	/* cut at a comma, within the buffer */
	assert_true(strlen(r.symbols) < sizeof(r.symbols));
	assert_true(strlen(r.symbols) > sizeof(r.symbols) - 12);
	assert_int_equal(strncmp(r.symbols, "RULE_0000,RULE_0001", 19), 0);
	assert_int_equal(strlen(r.symbols) % 10, 9);
	free(reply);
}

static void
test_user_ok(void **state)
{
	assert_true(mw_spamc_user_ok("alice"));
	assert_true(mw_spamc_user_ok("alice+tag@example.com"));
	assert_false(mw_spamc_user_ok(""));
	assert_false(mw_spamc_user_ok("a b"));
	assert_false(mw_spamc_user_ok("a\r\nSet: local"));
	assert_false(mw_spamc_user_ok("\"a\"@x"));
}

/*
 * A tiny fake spamd: one thread, one listening socket on 127.0.0.1, one
 * behaviour for every connection; it counts connections and records the
 * last request.
 */
#define FAKE_ANSWER	0		/* read the request, send canned reply */
#define FAKE_SILENT	1		/* read the request, never answer */

struct fake {
	int	fd;
	int	port;
	int	mode;
	const char *reply;
	int	conns;
	char	request[4096];
	pthread_t th;
};

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	char	buf[sizeof(f->request)];
	size_t	got;
	ssize_t	n;
	int	c;

	while ((c = accept(f->fd, NULL, NULL)) >= 0) {
		got = 0;
		while ((n = read(c, buf + got, sizeof(buf) - 1 - got)) > 0)
			got += (size_t) n;
		buf[got] = '\0';
		if (__atomic_add_fetch(&f->conns, 1, __ATOMIC_SEQ_CST) == 1)
			memcpy(f->request, buf, got + 1);
		if (f->mode == FAKE_ANSWER && write(c, f->reply, strlen(f->reply)) < 0)
			break;
		if (f->mode == FAKE_SILENT)
			sleep(2);
		close(c);
	}
	return (NULL);
}

static void
fake_start(struct fake *f, int mode, const char *reply)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->reply = reply;
	assert_true((f->fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
	assert_int_equal(listen(f->fd, 16), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *) &sin, &len), 0);
	f->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void
fake_stop(struct fake *f)
{
	shutdown(f->fd, SHUT_RDWR);
	close(f->fd);
	pthread_join(f->th, NULL);
}

/* dead_port - a port on 127.0.0.1 where nothing listens */

static int
dead_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int	fd;
	int	port;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

static char spec[2][64];		/* the host list of the last pair() */

/* pair - a client for two hosts on 127.0.0.1 (n = 1: the first only) */

static struct mw_spamc *
pair(int port0, int port1, size_t n, int timeout_ms)
{
	char   *specs[2] = {spec[0], spec[1]};
	struct mw_spamc *sc;

	snprintf(spec[0], sizeof(spec[0]), "inet:%d@127.0.0.1", port0);
	snprintf(spec[1], sizeof(spec[1]), "inet:%d@127.0.0.1", port1);
	sc = mw_spamc_create(specs, n, timeout_ms, err, sizeof(err));
	assert_non_null(sc);
	return (sc);
}

static const char *ham_reply = "SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\n"
	"Spam: False ; 1.5 / 5.0\r\n\r\nRULE1";

/* check - one mw_spamc_check() of a two-piece message */

static int
check(struct mw_spamc *sc, const char *user, struct mw_spamc_result *r, char *host, size_t hlen)
{
	struct iovec iov[2];

	iov[0].iov_base = (void *) "Received: x\r\n";
	iov[0].iov_len = 13;
	iov[1].iov_base = (void *) "Subject: t\r\n\r\nbody\r\n";
	iov[1].iov_len = 20;
	return (mw_spamc_check(sc, MW_SPAMC_SYMBOLS, user, iov, 2, r, host, hlen, err, sizeof(err)));
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
test_request_and_round_robin(void **state)
{
	struct mw_spamc_result r;
	struct fake a;
	struct fake b;
	struct mw_spamc *sc;
	char	host[128];
	int	i;

	fake_start(&a, FAKE_ANSWER, ham_reply);
	fake_start(&b, FAKE_ANSWER, ham_reply);
	sc = pair(a.port, b.port, 2, 2000);
	for (i = 0; i < 4; i++) {
		assert_int_equal(check(sc, i == 0 ? "alice@example.com" : NULL, &r, host, sizeof(host)), 0);
		assert_int_equal(r.spam, 0);
		assert_string_equal(r.symbols, "RULE1");
	}
	/* load spread evenly over both hosts */
	assert_int_equal(a.conns, 2);
	assert_int_equal(b.conns, 2);
	fake_stop(&a);
	fake_stop(&b);
	/* the first request of each host, as spamd expects it */
	assert_string_equal(a.request, "SYMBOLS SPAMC/1.5\r\nContent-length: 33\r\n"
			    "User: alice@example.com\r\n\r\n"
			    "Received: x\r\nSubject: t\r\n\r\nbody\r\n");
	assert_string_equal(b.request, "SYMBOLS SPAMC/1.5\r\nContent-length: 33\r\n\r\n"
			    "Received: x\r\nSubject: t\r\n\r\nbody\r\n");
	mw_spamc_free(sc);
}

static void
test_failover_refused(void **state)
{
	struct mw_spamc_result r;
	struct fake a;
	struct mw_spamc *sc;
	char	host[128];
	int	i;

	fake_start(&a, FAKE_ANSWER, ham_reply);
	sc = pair(dead_port(), a.port, 2, 2000);
	for (i = 0; i < 4; i++) {
		assert_int_equal(check(sc, NULL, &r, host, sizeof(host)), 0);
		assert_string_equal(host, spec[1]);
	}
	assert_int_equal(a.conns, 4);
	fake_stop(&a);
	mw_spamc_free(sc);
}

static void
test_failover_timeout_bounded(void **state)
{
	struct mw_spamc_result r;
	struct fake silent;
	struct fake good;
	struct mw_spamc *sc;
	char	host[128];
	long long t0;
	long long took;

	fake_start(&silent, FAKE_SILENT, NULL);
	fake_start(&good, FAKE_ANSWER, ham_reply);
	sc = pair(silent.port, good.port, 2, 300);
	/* first call starts at the silent host: times out, then fails over */
	t0 = now_ms();
	assert_int_equal(check(sc, NULL, &r, host, sizeof(host)), 0);
	took = now_ms() - t0;
	assert_string_equal(host, spec[1]);
	assert_true(took >= 290 && took < 1500);
	/* the silent host is now avoided: the next calls do not wait */
	t0 = now_ms();
	assert_int_equal(check(sc, NULL, &r, host, sizeof(host)), 0);
	assert_int_equal(check(sc, NULL, &r, host, sizeof(host)), 0);
	assert_true(now_ms() - t0 < 250);
	assert_int_equal(silent.conns, 1);
	fake_stop(&good);
	mw_spamc_free(sc);

	/* only the silent host: -1 after one timeout, never a hang */
	sc = pair(silent.port, 0, 1, 300);
	t0 = now_ms();
	assert_int_equal(check(sc, NULL, &r, host, sizeof(host)), -1);
	took = now_ms() - t0;
	assert_true(took >= 290 && took < 1500);
	assert_non_null(strstr(err, "timeout"));
	fake_stop(&silent);
	mw_spamc_free(sc);
}

static void
test_all_down_and_bad_reply(void **state)
{
	struct mw_spamc_result r;
	struct fake junk;
	struct mw_spamc *sc;
	char	host[128];

	fake_start(&junk, FAKE_ANSWER, "SPAMD/1.0 76 Bad header line: x\r\n");
	sc = pair(junk.port, dead_port(), 2, 1000);
	assert_int_equal(check(sc, NULL, &r, host, sizeof(host)), -1);
	/* every host failed a moment ago: they are still tried, once each */
	assert_int_equal(check(sc, NULL, &r, host, sizeof(host)), -1);
	assert_int_equal(junk.conns, 2);
	fake_stop(&junk);
	mw_spamc_free(sc);

	/* bad host specs */
	{
		char   *bad[1] = {(char *) "inet:127.0.0.1:783"};

		assert_null(mw_spamc_create(bad, 1, 1000, err, sizeof(err)));
		assert_null(mw_spamc_create(bad, 0, 1000, err, sizeof(err)));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_symbols),
		cmocka_unit_test(test_parse_check_ham),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_long_symbols),
		cmocka_unit_test(test_user_ok),
		cmocka_unit_test(test_request_and_round_robin),
		cmocka_unit_test(test_failover_refused),
		cmocka_unit_test(test_failover_timeout_bounded),
		cmocka_unit_test(test_all_down_and_bad_reply),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
