/* test_milter_cfg - mailwarren-milter's config table checks and TrustedNetworks */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mw_cfg.h"
#include "mw_cidr.h"
#include "milter.h"

static char err[512];

/* load - defaults plus the given lines; then milter_cfg_check() */

static int
load(struct milter_conf *conf, const char *text)
{
	FILE   *fp;
	int	rc;

	memset(conf, 0, sizeof(*conf));
	assert_int_equal(mw_cfg_defaults(milter_cfg_table, conf, err, sizeof(err)), 0);
	assert_non_null(fp = fmemopen((void *) text, strlen(text), "r"));
	rc = mw_cfg_parse(milter_cfg_table, conf, fp, "t.conf", 0, err, sizeof(err));
	fclose(fp);
	if (rc == 0)
		rc = milter_cfg_check(conf, err, sizeof(err));
	return (rc);
}

static void
test_defaults(void **state)
{
	struct milter_conf c;

	assert_int_equal(load(&c, ""), 0);
	assert_int_equal(c.on_infected_code, ON_INFECTED_REJECT);
	assert_int_equal(c.on_scan_error_code, ON_FAIL_TEMPFAIL);
	assert_int_equal(c.spamd_fail_code, ON_FAIL_TEMPFAIL);
	assert_int_equal(c.reload_code, RELOAD_CONCURRENT);
	assert_true(c.reject_score < 0);
	assert_int_equal(c.socket_mode_bits, 0660);
	assert_int_equal(c.max_scan_size, 400ULL << 20);
	assert_int_equal(c.max_file_size, 100ULL << 20);
	assert_int_equal(c.max_recursion, 17);
	assert_int_equal(c.max_files, 10000);
	assert_int_equal(c.spam_max_size, 500ULL << 10);
	assert_int_equal(c.spamd_hosts.n, 1);
	assert_string_equal(c.spamd_hosts.items[0], "inet:783@127.0.0.1");
	milter_cfg_free(&c);
}

static void
test_values(void **state)
{
	struct milter_conf c;

	assert_int_equal(load(&c, "OnInfected Quarantine\nOnScanError accept\n"
			      "SpamdFailAction accept\nReloadMode blocking\n"
			      "SpamRejectScore 7.5\nSocketMode 0600\n"
			      "SpamdHosts inet:783@10.0.0.1, local:/run/spamd.sock\n"
			      "SpamdHosts inet6:783@[::1]\n"), 0);
	assert_int_equal(c.on_infected_code, ON_INFECTED_QUARANTINE);
	assert_int_equal(c.on_scan_error_code, ON_FAIL_ACCEPT);
	assert_int_equal(c.spamd_fail_code, ON_FAIL_ACCEPT);
	assert_int_equal(c.reload_code, RELOAD_BLOCKING);
	assert_true(c.reject_score > 7.49 && c.reject_score < 7.51);
	assert_int_equal(c.socket_mode_bits, 0600);
	assert_int_equal(c.spamd_hosts.n, 3);
	milter_cfg_free(&c);
}

/* bad - text is refused with an error containing want */

static void
bad(const char *text, const char *want)
{
	struct milter_conf c;

	if (load(&c, text) == 0)
		fail_msg("accepted: %s", text);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	milter_cfg_free(&c);
}

static void
test_bad_values(void **state)
{
	bad("OnInfected bounce\n", "OnInfected: bad value \"bounce\" (expected reject, discard, quarantine, tag)");
	bad("OnScanError defer\n", "OnScanError: bad value");
	bad("SpamdFailAction reject\n", "SpamdFailAction: bad value");
	bad("ReloadMode lazy\n", "ReloadMode: bad value");
	bad("SpamRejectScore high\n", "SpamRejectScore: bad value");
	bad("SpamRejectScore -1\n", "SpamRejectScore: bad value");
	bad("SpamRejectScore nan\n", "SpamRejectScore: bad value");
	bad("SocketMode 999\n", "SocketMode: bad value");
	bad("MilterSocket inet:127.0.0.1:8890\n", "MilterSocket:");
	bad("SpamdHosts inet:127.0.0.1:783\n", "SpamdHosts:");
	bad("TrustedNetworks 10.0.0.0/33\n", "TrustedNetworks: 10.0.0.0/33: bad prefix length (expected 0..32)");
	bad("TrustedNetworks 2001:db8::/129\n", "TrustedNetworks: 2001:db8::/129: bad prefix length (expected 0..128)");
	bad("TrustedNetworks 10.0.0.0/\n", "TrustedNetworks: 10.0.0.0/: bad prefix length");
	bad("TrustedNetworks 10.0.0.0/-8\n", "TrustedNetworks: 10.0.0.0/-8: bad prefix length");
	bad("TrustedNetworks example.com\n", "TrustedNetworks: example.com: bad network address");
	bad("TrustedNetworks 10.1.2\n", "TrustedNetworks: 10.1.2: bad network address");
	bad("TrustedNetworks fe80::1%eth0\n", "TrustedNetworks: fe80::1%eth0: bad network address");
	/* host bits beyond the prefix are refused, as by mw_cidr_add() everywhere */
	bad("TrustedNetworks 192.0.2.1/24\n",
	    "TrustedNetworks: 192.0.2.1/24: address has bits set beyond the /24 prefix");
	bad("TrustedNetworks 10.0.0.0/8, 2001:db8::1/32\n",
	    "TrustedNetworks: 2001:db8::1/32: address has bits set beyond the /32 prefix");
	bad("TrustedNetworks 0.0.0.1/0\n", "TrustedNetworks: 0.0.0.1/0: address has bits set beyond the /0 prefix");
	/* an IPv4 network is written as IPv4; once is enough */
	bad("TrustedNetworks ::ffff:192.0.2.0/120\n", "TrustedNetworks: ::ffff:192.0.2.0/120: bad network address");
	bad("TrustedNetworks 192.0.2.7, 192.0.2.7/32\n", "TrustedNetworks: 192.0.2.7/32: network listed twice");
	/* a later error frees the table built so far (ASan) */
	bad("TrustedNetworks 10.0.0.0/8\nSpamdUser a b\n", "SpamdUser: bad user name");
	bad("SpamdUser a b\n", "SpamdUser: bad user name");
	bad("DatabaseDirectory db\n", "DatabaseDirectory: must be an absolute path");
	bad("MaxRecursion 0\n", "out of range");
}

#define NETS	"TrustedNetworks 192.0.2.0/24, 198.51.100.7 10.0.0.0/9\n" \
		"TrustedNetworks 2001:db8::/33 ::1 203.0.113.5/32\n"

/* Client addresses and whether the TrustedNetworks of conf hold them. */

static const struct trusted_case {
	const char *conf;
	const char *addr;
	int	want;
}	trusted_cases[] = {
	{NETS, "192.0.2.1", 1},
	{NETS, "192.0.2.255", 1},
	{NETS, "192.0.3.1", 0},
	{NETS, "198.51.100.7", 1},
	{NETS, "198.51.100.8", 0},
	{NETS, "203.0.113.5", 1},
	{NETS, "203.0.113.4", 0},
	{NETS, "10.127.255.255", 1},
	{NETS, "10.128.0.0", 0},
	{NETS, "2001:db8:7fff::1", 1},
	{NETS, "2001:db8:8000::1", 0},
	{NETS, "::1", 1},
	{NETS, "::2", 0},
	/* an IPv4-mapped client (dual-stack socket) is its IPv4 address */
	{NETS, "::ffff:192.0.2.1", 1},
	{NETS, "::FFFF:198.51.100.7", 1},
	{NETS, "::ffff:192.0.3.1", 0},
	/* IPv4-compatible (::a.b.c.d) is IPv6, not IPv4 */
	{NETS, "::192.0.2.1", 0},
	/* garbage never matches */
	{NETS, "", 0},
	{NETS, "unknown", 0},
	{NETS, "192.0.2.1/24", 0},
	{NETS, "[192.0.2.1]", 0},
	{NETS, "IPv6:::1", 0},
	/* /0: every address of that family, mapped IPv4 included */
	{"TrustedNetworks 0.0.0.0/0\n", "203.0.113.9", 1},
	{"TrustedNetworks 0.0.0.0/0\n", "0.0.0.0", 1},
	{"TrustedNetworks 0.0.0.0/0\n", "255.255.255.255", 1},
	{"TrustedNetworks 0.0.0.0/0\n", "::ffff:203.0.113.9", 1},
	{"TrustedNetworks 0.0.0.0/0\n", "2001:db8::1", 0},
	{"TrustedNetworks 0.0.0.0/0\n", "unknown", 0},
	{"TrustedNetworks ::/0\n", "2001:db8::1", 1},
	{"TrustedNetworks ::/0\n", "::", 1},
	{"TrustedNetworks ::/0\n", "203.0.113.9", 0},
	{"TrustedNetworks ::/0\n", "::ffff:203.0.113.9", 0},
	/* an empty list (the default) never matches */
	{"", "192.0.2.1", 0},
	{"", "::1", 0},
	{"", "unknown", 0},
};

static void
test_trusted(void **state)
{
	const struct trusted_case *tc;
	struct milter_conf c;
	struct mw_addr a;
	size_t	i;

	assert_int_equal(load(&c, NETS), 0);
	assert_non_null(c.trusted);
	assert_int_equal(mw_cidr_count(c.trusted), 6);
	milter_cfg_free(&c);
	assert_int_equal(load(&c, ""), 0);
	assert_null(c.trusted);			/* nothing built for an empty list */
	milter_cfg_free(&c);

	for (i = 0; i < sizeof(trusted_cases) / sizeof(trusted_cases[0]); i++) {
		tc = trusted_cases + i;
		assert_int_equal(load(&c, tc->conf), 0);
		/* as cb_connect() does it */
		if (mw_addr_parse(tc->addr, &a) < 0)
			a.family = 0;
		if (milter_cfg_trusted(&c, &a) != tc->want)
			fail_msg("case %zu: \"%s\": trusted %d, expected %d", i, tc->addr,
				 !tc->want, tc->want);
		milter_cfg_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_trusted),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
