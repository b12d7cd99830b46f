/* test_cidr - mw_cidr: longest-prefix match, IPv4/IPv6/mapped, bad input */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mw_cidr.h"

static char err[512];

static const char *
lookup(mw_cidr *t, const char *text)
{
	struct mw_addr a;

	if (mw_addr_parse(text, &a) != 0)
		return ("(unparsable)");
	return (mw_cidr_lookup(t, &a));
}

static void
test_addr_parse(void **state)
{
	struct mw_addr a;

	assert_int_equal(mw_addr_parse("16.1.2.3", &a), 0);
	assert_int_equal(a.family, 4);
	assert_int_equal(mw_addr_parse("::ffff:16.1.2.3", &a), 0);
	assert_int_equal(a.family, 4);
	assert_int_equal(a.bytes[0], 16);
	assert_int_equal(mw_addr_parse("2a02:1::5", &a), 0);
	assert_int_equal(a.family, 6);
	assert_int_equal(mw_addr_parse("unknown", &a), -1);
	assert_int_equal(mw_addr_parse("", &a), -1);
	assert_int_equal(mw_addr_parse("fe80::1%eth0", &a), -1);
	assert_int_equal(mw_addr_parse("1.2.3.4.5", &a), -1);
	assert_int_equal(mw_addr_parse("1.2.3", &a), -1);
	assert_int_equal(mw_addr_parse(" 1.2.3.4", &a), -1);
}

static void
test_longest_prefix_wins(void **state)
{
	mw_cidr *t = mw_cidr_create();

	/* the /32 is listed last: a first-match table would miss it */
	assert_int_equal(mw_cidr_add(t, "16.0.0.0/8", "big", err, sizeof(err)), 0);
	assert_int_equal(mw_cidr_add(t, "16.1.2.0/24", "cust24", err, sizeof(err)), 0);
	assert_int_equal(mw_cidr_add(t, "16.1.2.3", "cust42", err, sizeof(err)), 0);
	assert_int_equal(mw_cidr_add(t, "2a02:1::/48", "v6cust", err, sizeof(err)), 0);
	assert_int_equal(mw_cidr_add(t, "2a02:1::5/128", "v6host", err, sizeof(err)), 0);
	assert_int_equal(mw_cidr_add(t, "0.0.0.0/0", "default4", err, sizeof(err)), 0);
	assert_string_equal(lookup(t, "16.1.2.3"), "cust42");
	assert_string_equal(lookup(t, "::ffff:16.1.2.3"), "cust42");
	assert_string_equal(lookup(t, "16.1.2.4"), "cust24");
	assert_string_equal(lookup(t, "16.200.0.1"), "big");
	assert_string_equal(lookup(t, "198.51.100.7"), "default4");
	assert_string_equal(lookup(t, "2a02:1::5"), "v6host");
	assert_string_equal(lookup(t, "2a02:1:0:ffff::1"), "v6cust");
	assert_null(lookup(t, "2a02:2::1"));
	assert_null(lookup(t, "2001:db8::9"));
	assert_int_equal(mw_cidr_count(t), 6);
	mw_cidr_free(t);
}

static void
test_bad_entries(void **state)
{
	mw_cidr *t = mw_cidr_create();

	assert_int_equal(mw_cidr_add(t, "16.1.2.3/24", "x", err, sizeof(err)), -1);
	assert_string_equal(err, "16.1.2.3/24: address has bits set beyond the /24 prefix");
	assert_int_equal(mw_cidr_add(t, "16.1.2.0/33", "x", err, sizeof(err)), -1);
	assert_string_equal(err, "16.1.2.0/33: bad prefix length (expected 0..32)");
	assert_int_equal(mw_cidr_add(t, "2a02::/129", "x", err, sizeof(err)), -1);
	assert_string_equal(err, "2a02::/129: bad prefix length (expected 0..128)");
	assert_int_equal(mw_cidr_add(t, "16.1.2.0/", "x", err, sizeof(err)), -1);
	assert_int_equal(mw_cidr_add(t, "16.1.2.0/-1", "x", err, sizeof(err)), -1);
	assert_int_equal(mw_cidr_add(t, "host.example/24", "x", err, sizeof(err)), -1);
	assert_string_equal(err, "host.example/24: bad network address");
	assert_int_equal(mw_cidr_add(t, "::ffff:16.1.2.0/120", "x", err, sizeof(err)), -1);
	assert_int_equal(mw_cidr_add(t, "16.1.2.0/24", "", err, sizeof(err)), -1);
	assert_int_equal(mw_cidr_add(t, "16.1.2.0/24", "a", err, sizeof(err)), 0);
	assert_int_equal(mw_cidr_add(t, "16.1.2.0/24", "b", err, sizeof(err)), -1);
	assert_string_equal(err, "16.1.2.0/24: network listed twice");
	assert_int_equal(mw_cidr_count(t), 1);
	mw_cidr_free(t);
}

static void
test_load_file(void **state)
{
	char	path[] = "/tmp/mw-test-cidr-XXXXXX";
	const char *good = "# customers\n16.1.2.3/32 cust42\n\n  2a02:1::/48\tv6cust  # comment\n";
	const char *bad = "16.1.2.3/32 cust42\n10.0.0.0/8\n";
	mw_cidr *t = mw_cidr_create();
	FILE   *fp;
	int	fd;

	assert_true((fd = mkstemp(path)) >= 0);
	fp = fdopen(fd, "w");
	fputs(good, fp);
	fclose(fp);
	assert_int_equal(mw_cidr_load(t, path, err, sizeof(err)), 0);
	assert_string_equal(lookup(t, "2a02:1::77"), "v6cust");
	mw_cidr_free(t);

	fp = fopen(path, "w");
	fputs(bad, fp);
	fclose(fp);
	t = mw_cidr_create();
	assert_int_equal(mw_cidr_load(t, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: expected \"network value\""));
	mw_cidr_free(t);
	unlink(path);

	t = mw_cidr_create();
	assert_int_equal(mw_cidr_load(t, "/nonexistent/x.cidr", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/x.cidr: cannot open: No such file or directory");
	mw_cidr_free(t);
}

static void
test_many_entries(void **state)
{
	mw_cidr *t = mw_cidr_create();
	char	net[32];
	char	val[16];
	unsigned i;

	/* 100k distinct /29s and /32s: all found, misses stay misses */
	for (i = 0; i < 100000; i++) {
		unsigned a = (16U << 24) + i * 8 + (i % 2 ? 0 : 1);

		snprintf(net, sizeof(net), "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff,
			 (a >> 8) & 0xff, a & 0xff, i % 2 ? 29 : 32);
		snprintf(val, sizeof(val), "c%u", i);
		if (mw_cidr_add(t, net, val, err, sizeof(err)) != 0)
			fail_msg("%s", err);
	}
	assert_int_equal(mw_cidr_count(t), 100000);
	assert_string_equal(lookup(t, "16.0.0.1"), "c0");
	assert_null(lookup(t, "16.0.0.2"));
	assert_string_equal(lookup(t, "16.0.0.15"), "c1");
	assert_string_equal(lookup(t, "16.12.52.255"), "c99999");
	assert_null(lookup(t, "200.1.1.1"));
	mw_cidr_free(t);
}

static uint32_t
rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return ((*seed >> 8) ^ (*seed << 13));
}

/* test_random_against_linear - LPM agrees with a linear scan (IPv4 /8../32) */

static void
test_random_against_linear(void **state)
{
	enum { N = 3000, Q = 30000 };
	static uint32_t net[N];
	static unsigned len[N];
	mw_cidr *t = mw_cidr_create();
	struct mw_addr a;
	char	text[64];
	char	val[16];
	uint32_t seed = 12345;
	int	i;
	int	q;
	int	n = 0;

	(void) state;
	for (i = 0; i < N; i++) {
		/* cluster in a few /16s so that prefixes nest */
		uint32_t r1 = rnd(&seed), r2 = rnd(&seed), r3 = rnd(&seed), r4 = rnd(&seed);
		uint32_t ip = ((uint32_t) (10 + r1 % 4) << 24) | ((r2 % 64) << 16) | (r3 & 0xffff);
		unsigned l = 8 + r4 % 25;
		uint32_t m = l == 0 ? 0 : 0xffffffffu << (32 - l);

		snprintf(text, sizeof(text), "%u.%u.%u.%u/%u", (ip & m) >> 24, ((ip & m) >> 16) & 255,
			 ((ip & m) >> 8) & 255, (ip & m) & 255, l);
		snprintf(val, sizeof(val), "v%d", n);
		if (mw_cidr_add(t, text, val, err, sizeof(err)) == 0) {
			net[n] = ip & m;
			len[n] = l;
			n++;
		}
	}
	for (q = 0; q < Q; q++) {
		uint32_t r1 = rnd(&seed), r2 = rnd(&seed), r3 = rnd(&seed);
		uint32_t ip = ((uint32_t) (10 + r1 % 5) << 24) | ((r2 % 66) << 16) | (r3 & 0xffff);
		int	best = -1;
		const char *got;

		for (i = 0; i < n; i++) {
			uint32_t m = 0xffffffffu << (32 - len[i]);

			if ((ip & m) == net[i] && (best < 0 || len[i] > len[best]))
				best = i;
		}
		snprintf(text, sizeof(text), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
		assert_int_equal(mw_addr_parse(text, &a), 0);
		got = mw_cidr_lookup(t, &a);
		if (best < 0) {
			assert_null(got);
		} else {
			snprintf(val, sizeof(val), "v%d", best);
			assert_non_null(got);
			assert_string_equal(got, val);
		}
	}
	mw_cidr_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_longest_prefix_wins),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_many_entries),
		cmocka_unit_test(test_random_against_linear),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
