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
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
