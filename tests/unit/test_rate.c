/* test_rate - mw_rate: window syntax, sliding windows, expiry */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mw_rate.h"

static char err[256];

static void
test_parse(void **state)
{
	struct mw_rate_limits l;
	char	buf[128];

	assert_int_equal(mw_rate_parse("100/1m, 1000/1h", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(mw_rate_str(&l, buf, sizeof(buf)), "100/60s, 1000/3600s");
	assert_int_equal(mw_rate_parse("5/m,7/30,9/2d", &l, err, sizeof(err)), 0);
	assert_string_equal(mw_rate_str(&l, buf, sizeof(buf)), "5/60s, 7/30s, 9/172800s");
	assert_int_equal(mw_rate_parse("", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(mw_rate_parse("100", &l, err, sizeof(err)), -1);
	assert_string_equal(err, "bad rate \"100\" (expected LIMIT/TIME, e.g. 100/1m)");
	assert_int_equal(mw_rate_parse("100/1w", &l, err, sizeof(err)), -1);
	assert_string_equal(err, "bad rate \"100/1w\" (time unit must be s, m, h or d)");
	assert_int_equal(mw_rate_parse("100/0m", &l, err, sizeof(err)), -1);
	assert_int_equal(mw_rate_parse("100/400d", &l, err, sizeof(err)), -1);
	assert_int_equal(mw_rate_parse("-1/1m", &l, err, sizeof(err)), -1);
	assert_int_equal(mw_rate_parse("1/1mm", &l, err, sizeof(err)), -1);
	assert_int_equal(mw_rate_parse("99999999999999999999999/1m", &l, err, sizeof(err)), -1);
	/* a window too large for a number: refused for its range (no stale value read) */
	assert_int_equal(mw_rate_parse("1/99999999999999999999999s", &l, err, sizeof(err)), -1);
	assert_string_equal(err, "bad rate \"1/99999999999999999999999s\" (time out of range)");
	assert_int_equal(mw_rate_parse("1/1m,2/1m,3/1m,4/1m,5/1m,6/1m,7/1m,8/1m,9/1m", &l, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 8 windows");
}

static void
test_limit_and_refusals_not_counted(void **state)
{
	struct mw_rate_limits l;
	mw_rate *r = mw_rate_create();
	unsigned long long have;
	size_t	w;
	int	i;

	assert_int_equal(mw_rate_parse("3/1m, 5/1h", &l, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(mw_rate_over(r, "c:cust42", &l, 1, 1000, &have, &w), 0);
		assert_int_equal(mw_rate_add(r, "c:cust42", &l, 1, 1000), 0);
	}
	/* the 4th in the same minute is over the first window */
	assert_int_equal(mw_rate_over(r, "c:cust42", &l, 1, 1000, &have, &w), 1);
	assert_true(have == 3);
	assert_int_equal(w, 0);
	/* other keys are independent */
	assert_int_equal(mw_rate_over(r, "c:cust43", &l, 1, 1000, &have, &w), 0);
	/* a minute later the minute window is free, the hour holds 3 of 5 */
	assert_int_equal(mw_rate_over(r, "c:cust42", &l, 2, 1061, &have, &w), 0);
	assert_int_equal(mw_rate_add(r, "c:cust42", &l, 2, 1061), 0);
	assert_int_equal(mw_rate_over(r, "c:cust42", &l, 1, 1062, &have, &w), 1);
	assert_int_equal(w, 1);
	assert_true(have == 5);
	mw_rate_free(r);
}

static void
test_sliding_not_fixed(void **state)
{
	struct mw_rate_limits l;
	mw_rate *r = mw_rate_create();
	unsigned long long have;
	size_t	w;

	/*
	 * 10 per 60 s: 10 events at t=59 (end of a fixed minute) must still
	 * block at t=61 (start of the next); a fixed window would allow 20.
	 */
	assert_int_equal(mw_rate_parse("10/1m", &l, err, sizeof(err)), 0);
	assert_int_equal(mw_rate_add(r, "k", &l, 10, 59), 0);
	assert_int_equal(mw_rate_over(r, "k", &l, 1, 61, &have, &w), 1);
	assert_int_equal(mw_rate_over(r, "k", &l, 1, 100, &have, &w), 1);
	/* one bucket (6 s) after the window has passed, it is free again */
	assert_int_equal(mw_rate_over(r, "k", &l, 1, 59 + 66, &have, &w), 0);
	mw_rate_free(r);
}

static void
test_expire_and_many_keys(void **state)
{
	struct mw_rate_limits l;
	mw_rate *r = mw_rate_create();
	char	key[32];
	int	i;

	assert_int_equal(mw_rate_parse("100/10s, 1000/1m", &l, err, sizeof(err)), 0);
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "c:%d", i);
		assert_int_equal(mw_rate_add(r, key, &l, 1, 5000), 0);
	}
	assert_int_equal(mw_rate_count(r), 40000);
	assert_int_equal(mw_rate_expire(r, 5005), 40000);
	/* the 10 s windows are gone after 10 s + a bucket, the minutes later */
	assert_int_equal(mw_rate_expire(r, 5011), 20000);
	assert_int_equal(mw_rate_expire(r, 5070), 0);
	/* the store works after expiry and rehash */
	assert_int_equal(mw_rate_add(r, "c:1", &l, 1, 5070), 0);
	assert_int_equal(mw_rate_count(r), 2);
	mw_rate_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_limit_and_refusals_not_counted),
		cmocka_unit_test(test_sliding_not_fixed),
		cmocka_unit_test(test_expire_and_many_keys),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
