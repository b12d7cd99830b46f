/* test_account - mw_userdb (protocol), mw_account (fields, ownership, cache)
 * and the relay decision with ownership and suspension from the userdb */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "mw_account.h"
#include "mw_relay.h"
#include "mw_userdb.h"

/* account - parse one USER line with the given fields */

static void
account(struct mw_account *a, const char *fields)
{
	char	line[8192];

	snprintf(line, sizeof(line), "USER\t7\talice\tuid=1%s%s", *fields ? "\t" : "", fields);
	mw_account_from_reply(a, MW_USERDB_FOUND, line);
}

static void
test_request_and_reply(void **state)
{
	char	buf[MW_USERDB_REQ_MAX];
	unsigned id = 0;
	size_t	len;
	const char *v;

	(void) state;
	assert_int_equal(mw_userdb_request(buf, sizeof(buf), 42, "alice", "smtp"), 27);
	assert_string_equal(buf, "USER\t42\talice\tservice=smtp\n");
	/* a name cannot add a field or a line */
	assert_true(mw_userdb_request(buf, sizeof(buf), 1, "a\tuid=0\n\001x", "smtp") > 0);
	assert_string_equal(buf, "USER\t1\ta\001tuid=0\001n\0011x\tservice=smtp\n");
	assert_int_equal(mw_userdb_request(buf, 20, 1, "alice", "smtp"), -1);

	assert_int_equal(mw_userdb_reply("USER\t7\talice\tuid=1", &id), MW_USERDB_FOUND);
	assert_int_equal(id, 7);
	assert_int_equal(mw_userdb_reply("NOTFOUND\t8", &id), MW_USERDB_NOTFOUND);
	assert_int_equal(mw_userdb_reply("FAIL\t9\treason=x", &id), MW_USERDB_FAIL);
	assert_int_equal(mw_userdb_reply("SPID\t1", &id), MW_USERDB_OTHER);
	assert_int_equal(mw_userdb_reply("USER\t0\tx", &id), MW_USERDB_BAD);
	assert_int_equal(mw_userdb_reply("USER\t4294967296\tx", &id), MW_USERDB_BAD);
	assert_int_equal(mw_userdb_reply("USER\t12x\tx", &id), MW_USERDB_BAD);

	/* fields come after the user name; the name itself is no field */
	v = mw_userdb_field("USER\t1\tmailwarren_suspended=yes\tuid=1", "mailwarren_suspended", &len);
	assert_null(v);
	v = mw_userdb_field("USER\t1\tu\tuid=1\tmailwarren_suspended=yes\tmailwarren_suspended=no",
			    "mailwarren_suspended", &len);
	assert_non_null(v);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "yes", 3);
	v = mw_userdb_field("USER\t1\tu\tflag", "flag", &len);
	assert_non_null(v);
	assert_int_equal(len, 0);
	assert_null(mw_userdb_field("USER\t1\tu\tflagx=1", "flag", &len));
	assert_null(mw_userdb_field("USER\t1", "flag", &len));
}

static void
test_fields(void **state)
{
	struct mw_account a;
	char	big[6000];
	size_t	i;

	(void) state;
	account(&a, "mailwarren_senders=Alice@ISP.example,@Cust.Example  bob@x.example,\t"
		"mailwarren_suspended=No\tmailwarren_customer=cust7");
	assert_int_equal(a.status, MW_ACCOUNT_FOUND);
	assert_string_equal(a.senders, "alice@isp.example @cust.example bob@x.example");
	assert_int_equal(a.suspended, 0);
	assert_string_equal(a.customer, "cust7");
	account(&a, "mailwarren_suspended=yes");
	assert_int_equal(a.status, MW_ACCOUNT_FOUND);
	assert_int_equal(a.suspended, 1);
	assert_string_equal(a.senders, "");
	account(&a, "");
	assert_int_equal(a.status, MW_ACCOUNT_FOUND);
	assert_int_equal(a.suspended, 0);

	/* hostile values: refused, naming the field */
	account(&a, "mailwarren_senders=a@b.example\001tc@d.example");
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	assert_string_equal(a.field, "mailwarren_senders");
	assert_string_equal(a.why, "a tab-escaped control character");
	account(&a, "mailwarren_senders=a@b.example\001" "0");
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	account(&a, "mailwarren_senders=a@b.example\x1b[2J");
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	assert_string_equal(a.why, "a control character");
	account(&a, "mailwarren_senders=a@b.example nobody");
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	account(&a, "mailwarren_senders=j\xc3\xbcrgen@b.example");
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	account(&a, "mailwarren_suspended=maybe");
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	assert_string_equal(a.field, "mailwarren_suspended");
	account(&a, "mailwarren_suspended");
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	account(&a, "mailwarren_customer=cust 7");
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	assert_string_equal(a.field, "mailwarren_customer");
	account(&a, "mailwarren_customer=c\001n");
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	/* overlong lists: too many entries, too many bytes */
	strcpy(big, "mailwarren_senders=");
	for (i = 0; i < 300; i++)
		strcat(big, "@d.example,");
	account(&a, big);
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	assert_string_equal(a.why, "more than 256 entries");
	strcpy(big, "mailwarren_senders=");
	for (i = 0; i < 100; i++)
		strcat(big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@d.example,");
	account(&a, big);
	assert_int_equal(a.status, MW_ACCOUNT_INVALID);
	assert_string_equal(a.why, "a list longer than 4095 bytes");

	mw_account_from_reply(&a, MW_USERDB_NOTFOUND, NULL);
	assert_int_equal(a.status, MW_ACCOUNT_NOTFOUND);
	mw_account_from_reply(&a, MW_USERDB_FAIL, "USER\t1\tx");
	assert_int_equal(a.status, MW_ACCOUNT_FAIL);
}

static void
test_owns(void **state)
{
	struct mw_account a;

	(void) state;
	account(&a, "mailwarren_senders=alice@isp.example,@cust.example");
	assert_true(mw_account_owns(&a, "alice@isp.example"));
	assert_true(mw_account_owns(&a, "Alice@ISP.Example"));
	assert_true(mw_account_owns(&a, "alice+news@isp.example"));
	assert_true(mw_account_owns(&a, "anyone@cust.example"));
	assert_false(mw_account_owns(&a, "bob@isp.example"));
	assert_false(mw_account_owns(&a, "alice@isp.example.evil"));
	assert_false(mw_account_owns(&a, "x@sub.cust.example"));
	assert_false(mw_account_owns(&a, "alice"));
	assert_false(mw_account_owns(&a, "+@isp.example"));
	mw_account_from_reply(&a, MW_USERDB_NOTFOUND, NULL);
	assert_false(mw_account_owns(&a, "alice@isp.example"));
}

static void
test_cache(void **state)
{
	mw_account_cache *c = mw_account_cache_create(2);
	struct mw_account a;
	struct mw_account b;
	time_t	now = time(NULL);

	(void) state;
	account(&a, "mailwarren_senders=alice@isp.example\tmailwarren_suspended=yes\tmailwarren_customer=c1");
	mw_account_cache_put(c, "alice", &a, now + 30, now + 10);
	assert_true(mw_account_cache_get(c, "alice", now, &b));
	assert_int_equal(b.status, MW_ACCOUNT_FOUND);
	assert_int_equal(b.suspended, 1);
	assert_string_equal(b.customer, "c1");
	assert_string_equal(b.senders, "alice@isp.example");
	/* the positive TTL applies to found logins */
	assert_false(mw_account_cache_get(c, "alice", now + 30, &b));
	/* unknown logins live for the negative TTL; TTL 0 stores nothing */
	mw_account_from_reply(&a, MW_USERDB_NOTFOUND, NULL);
	mw_account_cache_put(c, "nobody", &a, now + 30, now + 10);
	assert_true(mw_account_cache_get(c, "nobody", now + 9, &b));
	assert_int_equal(b.status, MW_ACCOUNT_NOTFOUND);
	mw_account_cache_put(c, "nobody2", &a, now + 30, now);
	assert_false(mw_account_cache_get(c, "nobody2", now, &b));
	/* failures and refused values are never cached */
	mw_account_from_reply(&a, MW_USERDB_FAIL, NULL);
	mw_account_cache_put(c, "down", &a, now + 30, now + 30);
	assert_false(mw_account_cache_get(c, "down", now, &b));
	account(&a, "mailwarren_suspended=maybe");
	mw_account_cache_put(c, "bad", &a, now + 30, now + 30);
	assert_false(mw_account_cache_get(c, "bad", now, &b));
	mw_account_cache_clear(c);
	assert_false(mw_account_cache_get(c, "nobody", now, &b));
	mw_account_cache_free(c);
}

static void
test_decide(void **state)
{
	struct mw_relay_tables t = {0};
	struct mw_relay_result res;
	struct mw_account a;
	struct mw_relay_req req = {"198.51.100.7", "Alice", "alice@isp.example", "u@foreign.example", NULL};
	char	login[64];
	char	err[256];

	(void) state;
	t.hosted = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE);
	t.suspended = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE);
	assert_int_equal(mw_map_load_list(t.hosted, "hosted.example", err, sizeof(err)), 0);
	assert_int_equal(mw_map_load_list(t.suspended, "cust9", err, sizeof(err)), 0);

	/* flat tables only: no lookup is needed */
	assert_int_equal(mw_relay_account_login(&t, "Alice", login, sizeof(login)), 0);
	t.ownership_userdb = t.suspension_userdb = 1;
	assert_int_equal(mw_relay_account_login(&t, "Alice", login, sizeof(login)), 1);
	assert_string_equal(login, "alice");
	assert_int_equal(mw_relay_account_login(&t, "", login, sizeof(login)), 0);

	/* no entry (NULL, or the directory failed): 451, never a relay */
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_TEMPFAIL);
	assert_string_equal(res.text, "451 4.7.1 Account directory unavailable, try again later");
	mw_account_from_reply(&a, MW_USERDB_FAIL, NULL);
	strcpy(a.fail_why, "no answer within the timeout");
	req.account = &a;
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_TEMPFAIL);
	assert_string_equal(res.reason, "account directory unavailable: no answer within the timeout");
	/* even to a hosted recipient (suspension is whatever the recipient) */
	req.recipient = "u@hosted.example";
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_TEMPFAIL);
	req.recipient = "u@foreign.example";

	/* a refused value: 451, the reason names the field */
	account(&a, "mailwarren_senders=alice@isp.example\001n");
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_TEMPFAIL);
	assert_string_equal(res.text, "451 4.7.1 Account data invalid, try again later");
	assert_string_equal(res.reason, "invalid mailwarren_senders: a tab-escaped control character");

	/* owned, not suspended: relays */
	account(&a, "mailwarren_senders=alice@isp.example\tmailwarren_suspended=no");
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_OUTBOUND);
	/* not owned */
	req.sender = "bob@isp.example";
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_NOT_OWNER);
	assert_string_equal(res.text, "553 5.7.1 Sender address <bob@isp.example> not owned by user <alice>");
	/* the null sender is not an ownership question */
	req.sender = "";
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_OUTBOUND);
	req.sender = "alice@isp.example";
	/* suspended in the directory */
	account(&a, "mailwarren_senders=alice@isp.example\tmailwarren_suspended=yes");
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_SUSPENDED);
	/* ... but not with Suspension list */
	t.suspension_userdb = 0;
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_OUTBOUND);
	t.suspension_userdb = 1;
	/* the directory's customer: suspended by the list, counted as the login's */
	account(&a, "mailwarren_senders=alice@isp.example\tmailwarren_customer=cust9");
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_SUSPENDED);
	assert_string_equal(res.customer, "cust9");
	account(&a, "mailwarren_senders=alice@isp.example\tmailwarren_customer=cust3");
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_OUTBOUND);
	assert_string_equal(res.customer, "cust3");
	/* a login the directory does not know relays nothing */
	mw_account_from_reply(&a, MW_USERDB_NOTFOUND, NULL);
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_SUSPENDED);
	assert_string_equal(res.reason, "login not in the directory");
	/* strangers are not looked up and decided as before */
	req.sasl_username = "";
	req.account = NULL;
	mw_relay_decide(&t, &req, &res);
	assert_int_equal(res.verdict, MW_RELAY_DENIED);
	mw_map_free(t.hosted);
	mw_map_free(t.suspended);
}

static void
test_userdb_conf(void **state)
{
	struct mw_relay_sources src = {0};
	char	err[256];

	(void) state;
	assert_int_equal(mw_relay_userdb_conf(&src, "map", "list", NULL, err, sizeof(err)), 0);
	assert_int_equal(src.ownership_userdb + src.suspension_userdb, 0);
	assert_int_equal(mw_relay_userdb_conf(&src, "userdb", "UserDB", "local:/run/dovecot/auth-userdb",
					      err, sizeof(err)), 0);
	assert_int_equal(src.ownership_userdb + src.suspension_userdb, 2);
	assert_int_equal(mw_relay_userdb_conf(&src, "userdb", "list", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "Userdb: not set, but SenderOwnership userdb needs it");
	assert_int_equal(mw_relay_userdb_conf(&src, "maps", "list", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "SenderOwnership: expected map or userdb");
	assert_int_equal(mw_relay_userdb_conf(&src, "map", "ldap", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "Suspension: expected list or userdb");
	assert_int_equal(mw_relay_userdb_conf(&src, "map", "userdb", "inet:nope", err, sizeof(err)), -1);
	src.sender_login_map = "/etc/x";
	assert_int_equal(mw_relay_userdb_conf(&src, "userdb", "list", "local:/x", err, sizeof(err)), -1);
	assert_string_equal(err, "SenderLoginMap: not used with SenderOwnership userdb (remove one)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_and_reply),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_owns),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_userdb_conf),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
