/* test_fdlimit - mw_fdlimit: raising the soft limit, refusing a cap the hard limit cannot hold; mw_ratelog */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "mw_fdlimit.h"

/* set_limits - this process's soft and hard RLIMIT_NOFILE */

static void
set_limits(rlim_t soft, rlim_t hard)
{
	struct rlimit rl = {soft, hard};

	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

static void
test_raise(void **state)
{
	struct rlimit rl;
	unsigned long long limit = 0;
	char	err[512] = "";

	(void) state;
	set_limits(256, 2048);
	/* below the soft limit: nothing changes */
	assert_int_equal(mw_fdlimit_raise(100, "MaxConnections", 36, &limit, err, sizeof(err)), 0);
	assert_int_equal(limit, 256);
	/* above the soft limit, within the hard one: soft raised to the need */
	assert_int_equal(mw_fdlimit_raise(1500, "MaxConnections", 1000, &limit, err, sizeof(err)), 0);
	assert_int_equal(limit, 1500);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 1500);
	assert_int_equal(rl.rlim_max, 2048);
	/* exactly the hard limit */
	assert_int_equal(mw_fdlimit_raise(2048, "MaxConnections", 1900, &limit, err, sizeof(err)), 0);
	assert_int_equal(limit, 2048);
}

static void
test_refuse(void **state)
{
	struct rlimit rl;
	unsigned long long limit = 7;
	char	err[512] = "";

	(void) state;
	set_limits(512, 1024);
	assert_int_equal(mw_fdlimit_raise(4160, "MaxConnections", 4096, &limit, err, sizeof(err)), -1);
	/* the message names the setting, its value, the need and the limit */
	assert_non_null(strstr(err, "MaxConnections 4096 needs 4160 descriptors"));
	assert_non_null(strstr(err, "limit is 512 (hard limit 1024)"));
	/* nothing changed */
	assert_int_equal(limit, 7);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 512);
}

static void
test_ratelog(void **state)
{
	struct mw_ratelog r = MW_RATELOG_INIT(60);
	unsigned long long lines = 0;
	unsigned long long logged = 0;
	unsigned long long n;
	time_t	t;
	int	i;

	(void) state;
	assert_int_equal(mw_ratelog_flush(&r, 1000), 0);	/* nothing to say */
	/* the first refusal of a storm is logged at once */
	assert_int_equal(mw_ratelog_add(&r, 1000, 1), 1);
	/* then nothing for the rest of the interval */
	assert_int_equal(mw_ratelog_add(&r, 1000, 5), 0);
	assert_int_equal(mw_ratelog_add(&r, 1059, 1), 0);
	assert_int_equal(mw_ratelog_flush(&r, 1059), 0);
	/* the first event after it carries the count of the interval */
	assert_int_equal(mw_ratelog_add(&r, 1060, 1), 7);
	/* a storm ending: flush says the rest, once, when due */
	assert_int_equal(mw_ratelog_add(&r, 1061, 3), 0);
	assert_int_equal(mw_ratelog_flush(&r, 1100), 0);
	assert_int_equal(mw_ratelog_flush(&r, 1120), 3);
	assert_int_equal(mw_ratelog_flush(&r, 1200), 0);

	/* 10 minutes of 1000 events a second: 11 lines, every event counted */
	r = (struct mw_ratelog) MW_RATELOG_INIT(60);
	for (t = 5000; t < 5600; t++) {
		for (i = 0; i < 1000; i++) {
			if ((n = mw_ratelog_add(&r, t, 1)) > 0) {
				lines++;
				logged += n;
			}
		}
	}
	if ((n = mw_ratelog_flush(&r, t + 60)) > 0) {
		lines++;
		logged += n;
	}
	assert_int_equal(logged, 600000);
	assert_true(lines <= 12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raise),
		cmocka_unit_test(test_refuse),
		cmocka_unit_test(test_ratelog),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
