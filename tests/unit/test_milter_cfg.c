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
	mw_cfg_free(milter_cfg_table, &c);
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
	mw_cfg_free(milter_cfg_table, &c);
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
	mw_cfg_free(milter_cfg_table, &c);
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
	bad("TrustedNetworks 10.0.0.0/33\n", "TrustedNetworks: bad network \"10.0.0.0/33\"");
	bad("TrustedNetworks example.com\n", "TrustedNetworks: bad network");
	bad("SpamdUser a b\n", "SpamdUser: bad user name");
	bad("DatabaseDirectory db\n", "DatabaseDirectory: must be an absolute path");
	bad("MaxRecursion 0\n", "out of range");
}

static void
test_net_match(void **state)
{
	struct milter_conf c;

	assert_int_equal(load(&c, "TrustedNetworks 192.0.2.0/24, 198.51.100.7 10.0.0.0/9\n"
			      "TrustedNetworks 2001:db8::/33 ::1\n"), 0);
	assert_true(milter_net_match(&c.trusted_networks, "192.0.2.1"));
	assert_true(milter_net_match(&c.trusted_networks, "192.0.2.255"));
	assert_false(milter_net_match(&c.trusted_networks, "192.0.3.1"));
	assert_true(milter_net_match(&c.trusted_networks, "198.51.100.7"));
	assert_false(milter_net_match(&c.trusted_networks, "198.51.100.8"));
	assert_true(milter_net_match(&c.trusted_networks, "10.127.255.255"));
	assert_false(milter_net_match(&c.trusted_networks, "10.128.0.0"));
	assert_true(milter_net_match(&c.trusted_networks, "2001:db8:7fff::1"));
	assert_false(milter_net_match(&c.trusted_networks, "2001:db8:8000::1"));
	assert_true(milter_net_match(&c.trusted_networks, "::1"));
	assert_false(milter_net_match(&c.trusted_networks, "::2"));
	/* no cross-family matches, garbage never matches */
	assert_false(milter_net_match(&c.trusted_networks, "::ffff:192.0.2.1"));
	assert_false(milter_net_match(&c.trusted_networks, ""));
	assert_false(milter_net_match(&c.trusted_networks, "unknown"));
	mw_cfg_free(milter_cfg_table, &c);
	assert_int_equal(load(&c, "TrustedNetworks 0.0.0.0/0\n"), 0);
	assert_true(milter_net_match(&c.trusted_networks, "203.0.113.9"));
	mw_cfg_free(milter_cfg_table, &c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_net_match),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
