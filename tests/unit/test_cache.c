/* test_cache - mw_cache: answers, expiry, bound, oldest-first eviction */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mw_cache.h"

static void
test_get_put(void **state)
{
	mw_cache *c = mw_cache_create(10);
	int	v = -1;

	(void) state;
	assert_non_null(c);
	assert_int_equal(mw_cache_get(c, "alice@example.com", 100, &v), 0);
	assert_int_equal(mw_cache_put(c, "alice@example.com", 1, 200), 0);
	assert_int_equal(mw_cache_put(c, "bob@example.com", 0, 150), 0);
	assert_int_equal(mw_cache_get(c, "alice@example.com", 100, &v), 1);
	assert_int_equal(v, 1);
	assert_int_equal(mw_cache_get(c, "bob@example.com", 100, &v), 1);
	assert_int_equal(v, 0);
	/* keys are exact */
	assert_int_equal(mw_cache_get(c, "Alice@example.com", 100, &v), 0);
	assert_int_equal(mw_cache_get(c, "alice@example.co", 100, &v), 0);
	/* replacing keeps one entry */
	assert_int_equal(mw_cache_put(c, "bob@example.com", 1, 300), 0);
	assert_int_equal(mw_cache_count(c), 2);
	assert_int_equal(mw_cache_get(c, "bob@example.com", 160, &v), 1);
	assert_int_equal(v, 1);
	mw_cache_free(c);
}

static void
test_expiry(void **state)
{
	mw_cache *c = mw_cache_create(10);
	int	v;

	(void) state;
	assert_int_equal(mw_cache_put(c, "a", 1, 100), 0);
	assert_int_equal(mw_cache_put(c, "b", 0, 50), 0);
	assert_int_equal(mw_cache_put(c, "c", 1, 200), 0);
	/* an answer lives until, not including, its expiry time */
	assert_int_equal(mw_cache_get(c, "a", 99, &v), 1);
	assert_int_equal(mw_cache_get(c, "a", 100, &v), 0);
	assert_int_equal(mw_cache_count(c), 2);		/* dropped on the way */
	assert_int_equal(mw_cache_expire(c, 60), 1);	/* b, out of order */
	assert_int_equal(mw_cache_count(c), 1);
	assert_int_equal(mw_cache_get(c, "c", 60, &v), 1);
	mw_cache_clear(c);
	assert_int_equal(mw_cache_count(c), 0);
	assert_int_equal(mw_cache_get(c, "c", 60, &v), 0);
	assert_int_equal(mw_cache_put(c, "c", 1, 200), 0);
	assert_int_equal(mw_cache_get(c, "c", 60, &v), 1);
	mw_cache_free(c);
}

static void
test_bound(void **state)
{
	mw_cache *c = mw_cache_create(1000);
	char	key[32];
	int	i;
	int	v;

	(void) state;
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "user%d@example.com", i);
		assert_int_equal(mw_cache_put(c, key, i & 1, 10000), 0);
		assert_true(mw_cache_count(c) <= 1000);
	}
	assert_int_equal(mw_cache_count(c), 1000);
	/* the oldest went first: 0..3999 are gone, 4000..4999 remain */
	assert_int_equal(mw_cache_get(c, "user3999@example.com", 1, &v), 0);
	assert_int_equal(mw_cache_get(c, "user4000@example.com", 1, &v), 1);
	assert_int_equal(v, 0);
	assert_int_equal(mw_cache_get(c, "user4999@example.com", 1, &v), 1);
	assert_int_equal(v, 1);
	/* a refreshed entry is new again */
	assert_int_equal(mw_cache_put(c, "user4000@example.com", 1, 10000), 0);
	assert_int_equal(mw_cache_put(c, "new@example.com", 1, 10000), 0);
	assert_int_equal(mw_cache_get(c, "user4000@example.com", 1, &v), 1);
	assert_int_equal(mw_cache_get(c, "user4001@example.com", 1, &v), 0);
	mw_cache_free(c);

	/* a zero bound means one entry, not none */
	c = mw_cache_create(0);
	assert_int_equal(mw_cache_put(c, "a", 1, 10), 0);
	assert_int_equal(mw_cache_put(c, "b", 1, 10), 0);
	assert_int_equal(mw_cache_count(c), 1);
	assert_int_equal(mw_cache_get(c, "b", 1, &v), 1);
	mw_cache_free(c);
	mw_cache_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_put),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_bound),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
