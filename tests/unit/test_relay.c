/* test_relay - mw_map and mw_relay: the golden table of the relay decision */

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

#include "mw_relay.h"

static char err[512];
static struct mw_relay_tables tables;

static int
setup(void **state)
{
	tables.hosted = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE);
	tables.customers = mw_cidr_create();
	tables.sender_logins = mw_map_create(MW_MAP_LOWERCASE);
	tables.suspended = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE);
	assert_int_equal(mw_map_load_list(tables.hosted, "hosted.example, .sub.example Other.Example",
					  err, sizeof(err)), 0);
	assert_int_equal(mw_cidr_add(tables.customers, "16.1.2.3/32", "cust42", err, sizeof(err)), 0);
	assert_int_equal(mw_cidr_add(tables.customers, "16.9.0.0/16", "cust9", err, sizeof(err)), 0);
	assert_int_equal(mw_cidr_add(tables.customers, "2a02:1::/48", "cust6", err, sizeof(err)), 0);
	assert_int_equal(mw_map_put(tables.sender_logins, "alice@isp.example", "alice", err, sizeof(err)), 0);
	assert_int_equal(mw_map_put(tables.sender_logins, "bob@isp.example", "bob", err, sizeof(err)), 0);
	assert_int_equal(mw_map_put(tables.sender_logins, "shared@isp.example", "bob, Carol", err, sizeof(err)), 0);
	assert_int_equal(mw_map_put(tables.sender_logins, "@carol.example", "carol", err, sizeof(err)), 0);
	assert_int_equal(mw_map_load_list(tables.suspended, "mallory cust9", err, sizeof(err)), 0);
	return (0);
}

static int
teardown(void **state)
{
	mw_map_free(tables.hosted);
	mw_cidr_free(tables.customers);
	mw_map_free(tables.sender_logins);
	mw_map_free(tables.suspended);
	return (0);
}

struct golden {
	const char *client;
	const char *login;
	const char *sender;
	const char *rcpt;
	enum mw_relay_verdict verdict;
	const char *text;		/* for refusals */
};

/* The golden vectors of the notes (postfix-policy.md section 4), and more. */
static const struct golden golden[] = {
	/* 1-2 inbound is open to all; case and trailing dot */
	{"198.51.100.7", "", "a@b.example", "u@hosted.example", MW_RELAY_INBOUND, NULL},
	{"198.51.100.7", "", "", "U@HOSTED.EXAMPLE.", MW_RELAY_INBOUND, NULL},
	/* 3 strangers may not relay */
	{"198.51.100.7", "", "a@b.example", "u@foreign.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	/* 4-6 customers (v4, v6, mapped) and logins relay */
	{"16.1.2.3", "", "x@y", "u@foreign.example", MW_RELAY_OUTBOUND, NULL},
	{"2a02:1::5", "", "x@y", "u@foreign.example", MW_RELAY_OUTBOUND, NULL},
	{"::ffff:16.1.2.3", "", "x@y", "u@foreign.example", MW_RELAY_OUTBOUND, NULL},
	{"198.51.100.7", "alice", "alice@isp.example", "u@foreign.example", MW_RELAY_OUTBOUND, NULL},
	/* 7-10 routed recipients are never hosted */
	{"198.51.100.7", "", "a@b", "u%foreign.example@hosted.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"198.51.100.7", "", "a@b", "foreign.example!u@hosted.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"198.51.100.7", "", "a@b", "u@foreign.example@hosted.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"198.51.100.7", "", "a@b", "@hosted.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"198.51.100.7", "", "a@b", "u@[192.0.2.1]", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"198.51.100.7", "", "a@b", "u@[IPv6:2001:db8::1]", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"198.51.100.7", "", "a@b", "u@", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	/* 11 a customer may relay to a literal */
	{"16.1.2.3", "", "x@y", "u@[192.0.2.1]", MW_RELAY_OUTBOUND, NULL},
	/* 12 ".sub.example" means subdomains only */
	{"198.51.100.7", "", "a@b", "u@x.sub.example", MW_RELAY_INBOUND, NULL},
	{"198.51.100.7", "", "a@b", "u@deep.x.sub.example", MW_RELAY_INBOUND, NULL},
	{"198.51.100.7", "", "a@b", "u@sub.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"198.51.100.7", "", "a@b", "u@nothosted.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"198.51.100.7", "", "a@b", "u@OTHER.example", MW_RELAY_INBOUND, NULL},
	/* 13 unqualified recipients are Postfix's to qualify */
	{"198.51.100.7", "", "a@b", "user", MW_RELAY_INBOUND, NULL},
	{"198.51.100.7", "", "a@b", "postmaster", MW_RELAY_INBOUND, NULL},
	/* 14-15 non-customers: IPv6, unknown, junk */
	{"2001:db8::9", "", "a@b", "u@foreign.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"unknown", "", "a@b", "u@foreign.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"", "", "a@b", "u@foreign.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	{"fe80::1%eth0", "", "a@b", "u@foreign.example", MW_RELAY_DENIED, "554 5.7.1 Relay access denied"},
	/* 16-17 sender ownership: login case, extensions, domains, null sender */
	{"198.51.100.7", "Alice", "bob@isp.example", "u@foreign.example", MW_RELAY_NOT_OWNER,
	"553 5.7.1 Sender address <bob@isp.example> not owned by user <alice>"},
	{"198.51.100.7", "ALICE", "Alice@ISP.example", "u@foreign.example", MW_RELAY_OUTBOUND, NULL},
	{"198.51.100.7", "alice", "alice+list@isp.example", "u@foreign.example", MW_RELAY_OUTBOUND, NULL},
	{"198.51.100.7", "carol", "anything@carol.example", "u@foreign.example", MW_RELAY_OUTBOUND, NULL},
	{"198.51.100.7", "carol", "shared@isp.example", "u@foreign.example", MW_RELAY_OUTBOUND, NULL},
	{"198.51.100.7", "alice", "nobody@unlisted.example", "u@hosted.example", MW_RELAY_NOT_OWNER,
	"553 5.7.1 Sender address <nobody@unlisted.example> not owned by user <alice>"},
	/* control bytes of a login (CR, ESC) are shown as "?", as a sender's are */
	{"198.51.100.7", "Eve\r\x1b[31m", "bob\r@isp.example", "u@foreign.example", MW_RELAY_NOT_OWNER,
	"553 5.7.1 Sender address <bob?@isp.example> not owned by user <eve??[31m>"},
	{"198.51.100.7", "alice", "", "u@foreign.example", MW_RELAY_OUTBOUND, NULL},
	/* a stranger's sender is never checked (no login) */
	{"198.51.100.7", "", "bob@isp.example", "u@hosted.example", MW_RELAY_INBOUND, NULL},
	/* 18 suspension stops the identity, hosted recipients too */
	{"16.9.1.1", "", "x@y", "u@hosted.example", MW_RELAY_SUSPENDED, "550 5.7.1 Account suspended, contact support"},
	{"198.51.100.7", "Mallory", "", "u@hosted.example", MW_RELAY_SUSPENDED, "550 5.7.1 Account suspended, contact support"},
};

static void
test_golden_table(void **state)
{
	struct mw_relay_result res;
	struct mw_relay_req req = {0};
	size_t	i;

	for (i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		req.client_address = golden[i].client;
		req.sasl_username = golden[i].login;
		req.sender = golden[i].sender;
		req.recipient = golden[i].rcpt;
		mw_relay_decide(&tables, &req, &res);
		if (res.verdict != golden[i].verdict)
			fail_msg("row %zu (%s %s -> %s): verdict %d, want %d", i + 1, golden[i].client,
				 golden[i].login, golden[i].rcpt, res.verdict, golden[i].verdict);
		if (golden[i].text != NULL && strcmp(res.text, golden[i].text) != 0)
			fail_msg("row %zu: text \"%s\", want \"%s\"", i + 1, res.text, golden[i].text);
		assert_non_null(res.reason);
	}
}

static void
test_identities(void **state)
{
	struct mw_relay_result res;
	struct mw_relay_req req = {"16.1.2.3", "Alice", "alice@isp.example", "u@foreign.example", NULL};

	mw_relay_decide(&tables, &req, &res);
	assert_string_equal(res.login, "alice");
	assert_string_equal(res.shown_login, "alice");
	assert_string_equal(res.customer, "cust42");
	/* the login counts as sent, and is shown printable */
	req.sasl_username = "J\xc3\xbcrgen\r";
	mw_relay_decide(&tables, &req, &res);
	assert_string_equal(res.login, "j\xc3\xbcrgen\r");
	assert_string_equal(res.shown_login, "j??rgen?");
	req.sasl_username = "Alice";
	assert_int_equal(res.rcpt_class, MW_RCPT_FOREIGN);
	/* NULL fields are treated as empty */
	req.sasl_username = NULL;
	req.sender = NULL;
	req.recipient = NULL;
	req.client_address = NULL;
	mw_relay_decide(&tables, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_INBOUND);
	assert_int_equal(res.rcpt_class, MW_RCPT_UNQUALIFIED);
}

static void
test_no_ownership_map(void **state)
{
	struct mw_relay_tables t = tables;
	struct mw_relay_result res;
	struct mw_relay_req req = {"198.51.100.7", "alice", "bob@isp.example", "u@foreign.example", NULL};

	t.sender_logins = NULL;
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_OUTBOUND);
}

static void
test_hosted_edge_cases(void **state)
{
	char	longdom[700];

	assert_true(mw_relay_hosted(tables.hosted, "hosted.example.", 15));
	assert_false(mw_relay_hosted(tables.hosted, "hosted.example..", 16));
	assert_false(mw_relay_hosted(tables.hosted, ".", 1));
	assert_false(mw_relay_hosted(tables.hosted, "", 0));
	assert_false(mw_relay_hosted(tables.hosted, "example", 7));
	/* UTF-8 is compared as bytes */
	assert_false(mw_relay_hosted(tables.hosted, "h\xc3\xb6sted.example", 15));
	memset(longdom, 'a', sizeof(longdom) - 1);
	longdom[sizeof(longdom) - 1] = '\0';
	assert_false(mw_relay_hosted(tables.hosted, longdom, strlen(longdom)));
	assert_int_equal(mw_relay_rcpt_class(tables.hosted, longdom), MW_RCPT_UNQUALIFIED);
}

static void
test_rcpt_user(void **state)
{
	char	buf[64];

	(void) state;
	assert_int_equal(mw_relay_rcpt_user("Alice@Example.COM.", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "Alice@example.com");
	assert_int_equal(mw_relay_rcpt_user("alice+news@example.com", "+", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "alice@example.com");
	assert_int_equal(mw_relay_rcpt_user("alice-x+y@example.com", "+-", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "alice@example.com");
	/* no delimiter set: the extension stays */
	assert_int_equal(mw_relay_rcpt_user("alice+news@example.com", "", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "alice+news@example.com");
	/* a leading delimiter is part of the name, as in Postfix */
	assert_int_equal(mw_relay_rcpt_user("+alice@example.com", "+", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "+alice@example.com");
	assert_int_equal(mw_relay_rcpt_user("alice", "+", buf, sizeof(buf)), -1);
	assert_int_equal(mw_relay_rcpt_user("a@b", "+", buf, 4), 0);
	assert_int_equal(mw_relay_rcpt_user("ab@b", "+", buf, 4), -1);
	assert_int_equal(mw_relay_rcpt_user("a\tb@example.com", "+", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a\tb@example.com");
}

static void
test_map_file_and_errors(void **state)
{
	char	path[] = "/tmp/mw-test-map-XXXXXX";
	mw_map *m;
	FILE   *fp;
	int	fd;

	assert_true((fd = mkstemp(path)) >= 0);
	fp = fdopen(fd, "w");
	fputs("# hosted\nHosted.Example\n\n  .sub.example  \n", fp);
	fclose(fp);
	m = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE);
	/* list items and files mix */
	{
		char	list[128];

		snprintf(list, sizeof(list), "extra.example,%s", path);
		assert_int_equal(mw_map_load_list(m, list, err, sizeof(err)), 0);
	}
	assert_int_equal(mw_map_count(m), 3);
	assert_non_null(mw_map_get(m, "hosted.example"));
	assert_non_null(mw_map_get(m, "HOSTED.EXAMPLE"));
	assert_non_null(mw_map_get(m, ".sub.example"));
	mw_map_free(m);

	/* a set entry with a value, and duplicates, are errors naming the line */
	fp = fopen(path, "w");
	fputs("a.example\nb.example extra\n", fp);
	fclose(fp);
	m = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE);
	assert_int_equal(mw_map_load_file(m, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: expected one entry per line"));
	mw_map_free(m);
	fp = fopen(path, "w");
	fputs("a.example\nA.EXAMPLE\n", fp);
	fclose(fp);
	m = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE);
	assert_int_equal(mw_map_load_file(m, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: \"A.EXAMPLE\" listed twice"));
	mw_map_free(m);
	/* a map entry without a value */
	fp = fopen(path, "w");
	fputs("alice@isp.example alice\nbob@isp.example\n", fp);
	fclose(fp);
	m = mw_map_create(MW_MAP_LOWERCASE);
	assert_int_equal(mw_map_load_file(m, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: expected \"key value\""));
	mw_map_free(m);
	unlink(path);

	m = mw_map_create(0);
	assert_int_equal(mw_map_load_list(m, "/nonexistent/hosted", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/hosted: cannot open: No such file or directory");
	mw_map_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_table),
		cmocka_unit_test(test_identities),
		cmocka_unit_test(test_no_ownership_map),
		cmocka_unit_test(test_hosted_edge_cases),
		cmocka_unit_test(test_rcpt_user),
		cmocka_unit_test(test_map_file_and_errors),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
