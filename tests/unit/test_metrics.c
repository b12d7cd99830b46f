/* test_metrics - mw_metrics: the text exposition format, label sets, stripes */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mw_metrics.h"

static const char *const actions[] = {"accept", "reject", NULL};
static const char *const reasons[] = {"clean", "virus", "spam", NULL};
static const char *const kinds[] = {"a\"b", NULL};
static const double buckets[] = {0.01, 0.1, 1};

enum {
	M_DECISIONS, M_RELOADS, M_AGE, M_SCAN, M_ESC, M_N
};

static const struct mw_metric_def defs[] = {
	{"mw_test_decisions_total", "Decisions by action and reason.", MW_METRIC_COUNTER,
	 "action", actions, "reason", reasons, NULL, 0},
	{"mw_test_reloads_total", "Reloads.", MW_METRIC_COUNTER, NULL, NULL, NULL, NULL, NULL, 0},
	{"mw_test_age_seconds", "Age.", MW_METRIC_GAUGE, NULL, NULL, NULL, NULL, NULL, 0},
	{"mw_test_scan_seconds", "Scan time.", MW_METRIC_HISTOGRAM, NULL, NULL, NULL, NULL, buckets, 3},
	{"mw_test_esc", "back\\slash\nnewline", MW_METRIC_GAUGE, "kind", kinds, NULL, NULL, NULL, 0},
};

static char *
render(struct mw_metrics *m)
{
	size_t	len;
	char   *text = mw_metrics_render(m, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return (text);
}

/* the whole exposition of a small table, byte for byte */

static void
test_exposition(void **state)
{
	char	err[256];
	struct mw_metrics *m = mw_metrics_create(defs, M_N, err, sizeof(err));
	char   *text;
	int	set;

	(void) state;
	assert_non_null(m);
	set = mw_metrics_label(&defs[M_DECISIONS], "reject", "virus");
	assert_int_equal(set, MW_METRICS_SET(1, 3, 1));
	mw_metrics_inc(m, M_DECISIONS, set);
	mw_metrics_inc(m, M_DECISIONS, set);
	mw_metrics_add(m, M_DECISIONS, mw_metrics_label(&defs[M_DECISIONS], "accept", "clean"), 5);
	mw_metrics_inc(m, M_RELOADS, 0);
	mw_metrics_set(m, M_AGE, 0, 3600);
	mw_metrics_observe(m, M_SCAN, 0, 0.005);
	mw_metrics_observe(m, M_SCAN, 0, 0.01);	/* le is inclusive */
	mw_metrics_observe(m, M_SCAN, 0, 0.5);
	mw_metrics_observe(m, M_SCAN, 0, 7.25);
	mw_metrics_set(m, M_ESC, 0, -2);
	text = render(m);
	assert_string_equal(text,
	"# HELP mw_test_decisions_total Decisions by action and reason.\n"
	"# TYPE mw_test_decisions_total counter\n"
	"mw_test_decisions_total{action=\"accept\",reason=\"clean\"} 5\n"
	"mw_test_decisions_total{action=\"accept\",reason=\"virus\"} 0\n"
	"mw_test_decisions_total{action=\"accept\",reason=\"spam\"} 0\n"
	"mw_test_decisions_total{action=\"reject\",reason=\"clean\"} 0\n"
	"mw_test_decisions_total{action=\"reject\",reason=\"virus\"} 2\n"
	"mw_test_decisions_total{action=\"reject\",reason=\"spam\"} 0\n"
	"# HELP mw_test_reloads_total Reloads.\n"
	"# TYPE mw_test_reloads_total counter\n"
	"mw_test_reloads_total 1\n"
	"# HELP mw_test_age_seconds Age.\n"
	"# TYPE mw_test_age_seconds gauge\n"
	"mw_test_age_seconds 3600\n"
	"# HELP mw_test_scan_seconds Scan time.\n"
	"# TYPE mw_test_scan_seconds histogram\n"
	"mw_test_scan_seconds_bucket{le=\"0.01\"} 2\n"
	"mw_test_scan_seconds_bucket{le=\"0.1\"} 2\n"
	"mw_test_scan_seconds_bucket{le=\"1\"} 3\n"
	"mw_test_scan_seconds_bucket{le=\"+Inf\"} 4\n"
	"mw_test_scan_seconds_sum 7.765000\n"
	"mw_test_scan_seconds_count 4\n"
	"# HELP mw_test_esc back\\\\slash\\nnewline\n"
	"# TYPE mw_test_esc gauge\n"
	"mw_test_esc{kind=\"a\\\"b\"} -2\n");
	free(text);
	mw_metrics_free(m);
}

/* out of range and NULL: nothing happens, nothing breaks */

static void
test_bounds(void **state)
{
	char	err[256];
	struct mw_metrics *m = mw_metrics_create(defs, M_N, err, sizeof(err));

	(void) state;
	mw_metrics_inc(NULL, M_RELOADS, 0);
	mw_metrics_inc(m, M_N, 0);
	mw_metrics_inc(m, -1, 0);
	mw_metrics_inc(m, M_DECISIONS, 6);
	mw_metrics_inc(m, M_DECISIONS, -1);
	mw_metrics_inc(m, M_AGE, 0);		/* a gauge is set, not counted */
	mw_metrics_observe(m, M_RELOADS, 0, 1);	/* not a histogram */
	mw_metrics_set(m, M_SCAN, 0, 1);
	assert_int_equal(mw_metrics_get(m, M_AGE, 0), 0);
	assert_int_equal(mw_metrics_get(m, M_RELOADS, 0), 0);
	assert_int_equal(mw_metrics_get(m, M_SCAN, 0), 0);
	assert_int_equal(mw_metrics_label(&defs[M_DECISIONS], "reject", "nonsense"), -1);
	assert_int_equal(mw_metrics_label(&defs[M_DECISIONS], "user@example.com", "virus"), -1);
	assert_int_equal(mw_metrics_label(&defs[M_RELOADS], NULL, NULL), 0);
	assert_int_equal(mw_metrics_label(&defs[M_ESC], "a\"b", NULL), 0);
	mw_metrics_observe(m, M_SCAN, 0, -1);	/* clock step: the first bucket */
	assert_int_equal(mw_metrics_get(m, M_SCAN, 0), 1);
	mw_metrics_free(m);
}

/* bad tables are refused with a reason */

static void
test_bad_tables(void **state)
{
	static const double down[] = {1, 0.5};
	const struct mw_metric_def bad_name[] = {
		{"1bad", "x", MW_METRIC_COUNTER, NULL, NULL, NULL, NULL, NULL, 0}};
	const struct mw_metric_def bad_label[] = {
		{"ok_total", "x", MW_METRIC_COUNTER, "l", NULL, NULL, NULL, NULL, 0}};
	const struct mw_metric_def bad_buckets[] = {
		{"ok_seconds", "x", MW_METRIC_HISTOGRAM, NULL, NULL, NULL, NULL, down, 2}};
	const struct mw_metric_def no_buckets[] = {
		{"ok_seconds", "x", MW_METRIC_HISTOGRAM, NULL, NULL, NULL, NULL, NULL, 0}};
	char	err[256];

	(void) state;
	assert_null(mw_metrics_create(bad_name, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "bad name"));
	assert_null(mw_metrics_create(bad_label, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "label"));
	assert_null(mw_metrics_create(bad_buckets, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "ascending"));
	assert_null(mw_metrics_create(no_buckets, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "buckets"));
}

/* many threads, one counter: nothing lost */

#define THREADS	24
#define ADDS	20000

static struct mw_metrics *shared;

static void *
adder(void *arg)
{
	int	i;

	(void) arg;
	for (i = 0; i < ADDS; i++) {
		mw_metrics_inc(shared, M_RELOADS, 0);
		mw_metrics_observe(shared, M_SCAN, 0, 0.05);
	}
	return (NULL);
}

static void
test_threads(void **state)
{
	pthread_t tid[THREADS];
	char	err[256];
	char   *text;
	int	i;

	(void) state;
	shared = mw_metrics_create(defs, M_N, err, sizeof(err));
	assert_non_null(shared);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, adder, NULL), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	assert_int_equal(mw_metrics_get(shared, M_RELOADS, 0), THREADS * ADDS);
	assert_int_equal(mw_metrics_get(shared, M_SCAN, 0), THREADS * ADDS);
	text = render(shared);
	assert_non_null(strstr(text, "mw_test_scan_seconds_bucket{le=\"0.01\"} 0\n"));
	assert_non_null(strstr(text, "mw_test_scan_seconds_bucket{le=\"0.1\"} 480000\n"));
	assert_non_null(strstr(text, "mw_test_scan_seconds_sum 24000.000000\n"));
	free(text);
	mw_metrics_free(shared);
}

/* the collector runs before each exposition */

static void
collect(struct mw_metrics *m, void *arg)
{
	int    *calls = arg;

	mw_metrics_set(m, M_AGE, 0, 100 + ++*calls);
}

static void
test_collector(void **state)
{
	char	err[256];
	struct mw_metrics *m = mw_metrics_create(defs, M_N, err, sizeof(err));
	char   *text;
	int	calls = 0;

	(void) state;
	mw_metrics_set_collector(m, collect, &calls);
	text = render(m);
	assert_non_null(strstr(text, "\nmw_test_age_seconds 101\n"));
	free(text);
	text = render(m);
	assert_non_null(strstr(text, "\nmw_test_age_seconds 102\n"));
	free(text);
	mw_metrics_free(m);
}

/* MetricsListen: loopback unless an address is given; no UNIX sockets */

static void
test_listen_parse(void **state)
{
	struct mw_endpoint ep;
	char	err[256];

	(void) state;
	assert_int_equal(mw_metrics_listen_parse("9100", &ep, err, sizeof(err)), 0);
	assert_int_equal(ep.type, MW_EP_INET);
	assert_string_equal(ep.host, "127.0.0.1");
	assert_int_equal(ep.port, 9100);
	assert_int_equal(mw_metrics_listen_parse("inet:9101", &ep, err, sizeof(err)), 0);
	assert_string_equal(ep.host, "127.0.0.1");
	assert_int_equal(mw_metrics_listen_parse("inet:9102@0.0.0.0", &ep, err, sizeof(err)), 0);
	assert_string_equal(ep.host, "0.0.0.0");
	assert_int_equal(mw_metrics_listen_parse("inet6:9103", &ep, err, sizeof(err)), 0);
	assert_string_equal(ep.host, "::1");
	assert_int_equal(mw_metrics_listen_parse("local:/tmp/x", &ep, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "TCP"));
	assert_int_equal(mw_metrics_listen_parse("", &ep, err, sizeof(err)), -1);
	assert_int_equal(mw_metrics_listen_parse("99999", &ep, err, sizeof(err)), -1);
	assert_int_equal(mw_metrics_listen_parse("inet:x@y", &ep, err, sizeof(err)), -1);
}

/* the listener: a loopback socket on a port of the kernel's choice */

static int
http_listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int	fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	*port = ntohs(sin.sin_port);
	return (fd);
}

static int
http_connect(int port)
{
	struct sockaddr_in sin;
	int	fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short) port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
	return (fd);
}

/* send req (NULL: nothing), read to EOF; the answer, malloc()ed */

static char *
http_talk(int fd, const char *req)
{
	size_t	len = 0;
	char   *buf = malloc(1 << 20);
	ssize_t	n;

	if (req != NULL)
		assert_int_equal(write(fd, req, strlen(req)), (ssize_t) strlen(req));
	while ((n = read(fd, buf + len, (1 << 20) - 1 - len)) > 0)
		len += (size_t) n;
	buf[len] = '\0';
	close(fd);
	return (buf);
}

/* GET, HEAD, 404, 405, 400, the connection cap, the request deadline */

static void
test_http(void **state)
{
	struct mw_metrics_http *h;
	struct mw_metrics *m;
	char	err[256];
	int	held[MW_METRICS_HTTP_CONNS];
	char   *text;
	char   *ans;
	size_t	len;
	int	port;
	int	i;

	(void) state;
	m = mw_metrics_create(defs, M_N, err, sizeof(err));
	mw_metrics_inc(m, M_RELOADS, 0);
	h = mw_metrics_http_start(m, http_listener(&port), err, sizeof(err));
	assert_non_null(h);
	text = mw_metrics_render(m, &len);
	ans = http_talk(http_connect(port), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(strncmp(ans, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(ans, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(ans, "\r\nConnection: close\r\n"));
	assert_string_equal(strstr(ans, "\r\n\r\n") + 4, text);
	free(ans);
	ans = http_talk(http_connect(port), "HEAD /metrics HTTP/1.0\r\n\r\n");
	assert_true(strncmp(ans, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_string_equal(strstr(ans, "\r\n\r\n") + 4, "");
	free(ans);
	ans = http_talk(http_connect(port), "GET / HTTP/1.1\r\n\r\n");
	assert_true(strncmp(ans, "HTTP/1.1 404 ", 13) == 0);
	free(ans);
	ans = http_talk(http_connect(port), "DELETE /metrics HTTP/1.1\r\n\r\n");
	assert_true(strncmp(ans, "HTTP/1.1 405 ", 13) == 0);
	free(ans);
	ans = http_talk(http_connect(port), "GET\r\n\r\n");
	assert_true(strncmp(ans, "HTTP/1.1 400 ", 13) == 0);
	free(ans);
	/* MW_METRICS_HTTP_CONNS silent scrapers: the next one is refused at once */
	for (i = 0; i < MW_METRICS_HTTP_CONNS; i++)
		held[i] = http_connect(port);
	usleep(200 * 1000);
	ans = http_talk(http_connect(port), NULL);
	assert_true(strncmp(ans, "HTTP/1.1 503 ", 13) == 0);
	free(ans);
	/* ... and each is closed by the server once its time is up */
	for (i = 0; i < MW_METRICS_HTTP_CONNS; i++) {
		ans = http_talk(held[i], NULL);
		assert_string_equal(ans, "");
		free(ans);
	}
	/* then a scrape is served again */
	ans = http_talk(http_connect(port), "GET /metrics?x HTTP/1.1\r\n\r\n");
	assert_true(strncmp(ans, "HTTP/1.1 200 OK\r\n", 17) == 0);
	free(ans);
	mw_metrics_http_stop(h);
	free(text);
	mw_metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exposition),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_bad_tables),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_collector),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_http),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
