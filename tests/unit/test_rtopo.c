/* test_rtopo - mw_rtopo: Cluster key slots, MOVED/ASK, CLUSTER SLOTS, Sentinel and ROLE replies, seeds */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mw_rtopo.h"

#define KS(s)	mw_rtopo_keyslot((s), sizeof(s) - 1)

/* reply builders */
#define STR(s)	{ .type = MW_RESP_STRING, .str = (s), .len = sizeof(s) - 1 }
#define INT(i)	{ .type = MW_RESP_INTEGER, .integer = (i) }
#define NIL	{ .type = MW_RESP_NIL }
#define ARR(a)	{ .type = MW_RESP_ARRAY, .element = (a), .elements = sizeof(a) / sizeof((a)[0]) }

static void
test_crc16_xmodem(void **state)
{
	assert_int_equal(mw_rtopo_crc16("123456789", 9), 0x31c3);
	assert_int_equal(mw_rtopo_crc16("", 0), 0);
}

static void
test_keyslot_documented_values(void **state)
{
	/* Redis' CLUSTER KEYSLOT documentation */
	assert_int_equal(KS("somekey"), 11058);
	assert_int_equal(KS("foo{hash_tag}"), 2515);
	assert_int_equal(KS("bar{hash_tag}"), 2515);
	assert_int_equal(KS("hash_tag"), 2515);
}

static void
test_keyslot_hash_tag_rules(void **state)
{
	/* the first { and the first } after it, non-empty between */
	assert_int_equal(KS("{user1000}.following"), KS("user1000"));
	assert_int_equal(KS("{user1000}.followers"), KS("user1000"));
	assert_int_equal(KS("foo{bar}{zap}"), KS("bar"));
	assert_int_equal(KS("foo{{bar}}zap"), KS("{bar"));
	assert_int_equal(KS("foo{}{bar}"), mw_rtopo_crc16("foo{}{bar}", 10) % 16384);
	assert_int_equal(KS("{}"), mw_rtopo_crc16("{}", 2) % 16384);
	assert_int_equal(KS("foo{bar"), mw_rtopo_crc16("foo{bar", 7) % 16384);
	assert_int_equal(KS("foo}bar{x}"), KS("x"));
	assert_int_equal(KS("{a}"), KS("a"));
	/* binary keys: NUL is a byte like any other */
	assert_int_equal(mw_rtopo_keyslot("a\0{b}", 5), KS("b"));
	assert_true(KS("") < 16384);
}

static void
test_redirect_moved_ask(void **state)
{
	struct mw_rtopo_redirect rd;
	const char *m = "MOVED 3999 127.0.0.1:6381";
	const char *a = "ASK 16383 10.0.0.2:7000";
	const char *u = "MOVED 0 :6380";
	const char *v6 = "MOVED 12 ::1:7001";
	const char *br = "ASK 12 [fe80::1]:7001";

	assert_int_equal(mw_rtopo_redirect(m, strlen(m), &rd), MW_RTOPO_MOVED);
	assert_int_equal(rd.slot, 3999);
	assert_string_equal(rd.to.host, "127.0.0.1");
	assert_int_equal(rd.to.port, 6381);
	assert_int_equal(mw_rtopo_redirect(a, strlen(a), &rd), MW_RTOPO_ASK);
	assert_int_equal(rd.slot, 16383);
	assert_string_equal(rd.to.host, "10.0.0.2");
	assert_int_equal(rd.to.port, 7000);
	assert_int_equal(mw_rtopo_redirect(u, strlen(u), &rd), MW_RTOPO_MOVED);
	assert_string_equal(rd.to.host, "");
	assert_int_equal(rd.to.port, 6380);
	assert_int_equal(mw_rtopo_redirect(v6, strlen(v6), &rd), MW_RTOPO_MOVED);
	assert_string_equal(rd.to.host, "::1");
	assert_int_equal(rd.to.port, 7001);
	assert_int_equal(mw_rtopo_redirect(br, strlen(br), &rd), MW_RTOPO_ASK);
	assert_string_equal(rd.to.host, "fe80::1");
}

static void
test_redirect_bad_and_other(void **state)
{
	struct mw_rtopo_redirect rd;
	static const char *const other[] = {
		"ERR unknown command", "NOSCRIPT No matching script", "READONLY You can't write",
		"MOVEDX 1 h:1", "ASKING", "",
	};
	static const char *const bad[] = {
		"MOVED 16384 h:1", "MOVED -1 h:1", "MOVED 1 h:0", "MOVED 1 h:65536", "MOVED 1 h",
		"MOVED 1", "MOVED  h:1", "ASK 1 h:1 x", "ASK 1 h:1x", "MOVED 99999999999 h:1",
		"MOVED 1 h :1", "ASK 1 [::1:7", "MOVED 1 h:",
	};
	size_t	i;

	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		assert_int_equal(mw_rtopo_redirect(other[i], strlen(other[i]), &rd), MW_RTOPO_NOT_REDIRECT);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mw_rtopo_redirect(bad[i], strlen(bad[i]), &rd) != MW_RTOPO_BAD)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void
test_slots_three_masters(void **state)
{
	static struct mw_rtopo_slotmap map;
	struct mw_resp n1[] = {STR("127.0.0.1"), INT(7001), STR("id1")};
	struct mw_resp n2[] = {STR(""), INT(7002), STR("id2")};
	struct mw_resp n3[] = {STR("127.0.0.3"), INT(7003), STR("id3")};
	struct mw_resp r3[] = {STR("127.0.0.9"), INT(7009), STR("replica")};
	struct mw_resp s1[] = {INT(0), INT(5460), ARR(n1)};
	struct mw_resp s2[] = {INT(5461), INT(10922), ARR(n2), ARR(r3)};
	struct mw_resp s3[] = {INT(10923), INT(16383), ARR(n3)};
	struct mw_resp s4[] = {INT(16000), INT(16000), ARR(n1)};
	struct mw_resp all[] = {ARR(s1), ARR(s2), ARR(s3)};
	struct mw_resp overl[] = {ARR(s1), ARR(s3), ARR(s4)};
	struct mw_resp reply = ARR(all);
	struct mw_resp roverl = ARR(overl);
	const struct mw_rtopo_addr *o;
	struct mw_rtopo_addr moved = {"127.0.0.3", 7003};
	char	err[128];

	assert_int_equal(mw_rtopo_slots(&reply, "10.1.1.1", &map, err, sizeof(err)), 16384);
	assert_int_equal(map.nnodes, 3);
	o = mw_rtopo_owner(&map, 0);
	assert_string_equal(o->host, "127.0.0.1");
	assert_int_equal(o->port, 7001);
	o = mw_rtopo_owner(&map, 5461);
	assert_string_equal(o->host, "10.1.1.1");	/* empty host: the node asked */
	assert_int_equal(o->port, 7002);
	o = mw_rtopo_owner(&map, 16383);
	assert_int_equal(o->port, 7003);
	assert_null(mw_rtopo_owner(&map, 16384));
	/* a MOVED moves one slot */
	assert_int_equal(mw_rtopo_set_owner(&map, 0, &moved), 0);
	assert_int_equal(mw_rtopo_owner(&map, 0)->port, 7003);
	assert_int_equal(mw_rtopo_owner(&map, 1)->port, 7001);
	assert_int_equal(map.nnodes, 3);

	assert_int_equal(mw_rtopo_slots(&roverl, "h", &map, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "overlapping"));
	assert_null(mw_rtopo_owner(&map, 0));	/* never a partial map */
}

static void
test_slots_partial_and_bad(void **state)
{
	static struct mw_rtopo_slotmap map;
	struct mw_resp n1[] = {STR("127.0.0.1"), INT(7001)};
	struct mw_resp nq[] = {STR("?"), INT(7001)};
	struct mw_resp np[] = {STR("h"), INT(0)};
	struct mw_resp ns[] = {STR("h"), STR("7001")};
	struct mw_resp nshort[] = {STR("h")};
	struct mw_resp ok[] = {INT(100), INT(199), ARR(n1)};
	struct mw_resp rev[] = {INT(200), INT(100), ARR(n1)};
	struct mw_resp big[] = {INT(0), INT(16384), ARR(n1)};
	struct mw_resp q[] = {INT(0), INT(1), ARR(nq)};
	struct mw_resp p0[] = {INT(0), INT(1), ARR(np)};
	struct mw_resp sp[] = {INT(0), INT(1), ARR(ns)};
	struct mw_resp sh[] = {INT(0), INT(1), ARR(nshort)};
	struct mw_resp two[] = {INT(0), INT(1)};
	struct mw_resp strs[] = {STR("0"), INT(1), ARR(n1)};
	struct mw_resp a_ok[] = {ARR(ok)};
	struct mw_resp a_rev[] = {ARR(rev)}, a_big[] = {ARR(big)}, a_q[] = {ARR(q)};
	struct mw_resp a_p0[] = {ARR(p0)}, a_sp[] = {ARR(sp)}, a_sh[] = {ARR(sh)};
	struct mw_resp a_two[] = {ARR(two)}, a_strs[] = {ARR(strs)}, a_int[] = {INT(1)};
	struct mw_resp bad[] = {ARR(a_rev), ARR(a_big), ARR(a_q), ARR(a_p0), ARR(a_sh), ARR(a_two),
		ARR(a_strs), ARR(a_int), STR("x"), NIL, {.type = MW_RESP_ERROR, .str = "ERR", .len = 3}};
	struct mw_resp r_ok = ARR(a_ok), r_sp = ARR(a_sp);
	struct mw_resp empty = {.type = MW_RESP_ARRAY};
	char	err[128];
	size_t	i;

	assert_int_equal(mw_rtopo_slots(&r_ok, "h", &map, err, sizeof(err)), 100);
	assert_null(mw_rtopo_owner(&map, 99));
	assert_non_null(mw_rtopo_owner(&map, 150));
	assert_int_equal(mw_rtopo_slots(&r_sp, "h", &map, err, sizeof(err)), 2);	/* port as a string */
	assert_int_equal(mw_rtopo_slots(&empty, "h", &map, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (mw_rtopo_slots(bad + i, "h", &map, err, sizeof(err)) != -1)
			fail_msg("bad reply %zu accepted", i);
		assert_true(strncmp(err, "CLUSTER SLOTS:", 14) == 0);
	}
	assert_int_equal(mw_rtopo_slots(NULL, "h", &map, err, sizeof(err)), -1);
	/* a bad range after a good one: no partial map (found by fuzz_rtopo_reply) */
	{
		struct mw_resp goodbad[] = {ARR(ok), ARR(rev)};
		struct mw_resp r_gb = ARR(goodbad);

		assert_int_equal(mw_rtopo_slots(&r_gb, "h", &map, err, sizeof(err)), -1);
		assert_int_equal(map.covered, 0);
		assert_int_equal(map.nnodes, 0);
		assert_null(mw_rtopo_owner(&map, 150));
	}
}

static void
test_sentinel_master(void **state)
{
	struct mw_resp ok[] = {STR("127.0.0.1"), STR("6380")};
	struct mw_resp port0[] = {STR("127.0.0.1"), STR("0")};
	struct mw_resp junk[] = {STR("127.0.0.1"), STR("63x")};
	struct mw_resp three[] = {STR("h"), STR("1"), STR("x")};
	struct mw_resp intport[] = {STR("h"), INT(6380)};
	struct mw_resp sp[] = {STR("a b"), STR("1")};
	struct mw_resp r_ok = ARR(ok), nil = NIL;
	struct mw_resp bad[] = {ARR(port0), ARR(junk), ARR(three), STR("h:1"),
		{.type = MW_RESP_ERROR, .str = "ERR x", .len = 5}, {.type = MW_RESP_ARRAY}, ARR(sp)};
	struct mw_resp r_int = ARR(intport);
	struct mw_rtopo_addr a;
	char	err[128];
	size_t	i;

	assert_int_equal(mw_rtopo_sentinel_master(&r_ok, &a, err, sizeof(err)), 1);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 6380);
	assert_int_equal(mw_rtopo_sentinel_master(&r_int, &a, err, sizeof(err)), 1);
	assert_int_equal(mw_rtopo_sentinel_master(&nil, &a, err, sizeof(err)), MW_RTOPO_UNKNOWN);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mw_rtopo_sentinel_master(bad + i, &a, err, sizeof(err)) != -1)
			fail_msg("bad Sentinel reply %zu accepted", i);
}

static void
test_role(void **state)
{
	struct mw_resp rep1[] = {STR("127.0.0.1"), STR("6381"), STR("0")};
	struct mw_resp reps[] = {ARR(rep1)};
	struct mw_resp master[] = {STR("master"), INT(3129659), ARR(reps)};
	struct mw_resp slave[] = {STR("slave"), STR("127.0.0.1"), INT(9380), STR("connected"), INT(3167038)};
	struct mw_resp names[] = {STR("mymaster")};
	struct mw_resp sentinel[] = {STR("sentinel"), ARR(names)};
	struct mw_resp mshort[] = {STR("master"), INT(1)};
	struct mw_resp sbad[] = {STR("slave"), STR("h"), INT(0), STR("connected"), INT(1)};
	struct mw_resp other[] = {STR("leader")};
	struct mw_resp r_m = ARR(master), r_s = ARR(slave), r_x = ARR(sentinel);
	struct mw_resp bad[] = {ARR(mshort), ARR(sbad), ARR(other), {.type = MW_RESP_ARRAY}, STR("master"),
		NIL, {.type = MW_RESP_ERROR, .str = "ERR", .len = 3}};
	struct mw_rtopo_addr a;
	char	err[128];
	size_t	i;

	assert_int_equal(mw_rtopo_role(&r_m, NULL, err, sizeof(err)), MW_RTOPO_ROLE_MASTER);
	assert_int_equal(mw_rtopo_role(&r_s, &a, err, sizeof(err)), MW_RTOPO_ROLE_REPLICA);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 9380);
	assert_int_equal(mw_rtopo_role(&r_x, NULL, err, sizeof(err)), MW_RTOPO_ROLE_SENTINEL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mw_rtopo_role(bad + i, &a, err, sizeof(err)) != -1)
			fail_msg("bad ROLE reply %zu accepted", i);
	assert_true(strncmp(err, "ROLE:", 5) == 0);
}

static void
test_readonly(void **state)
{
	assert_true(mw_rtopo_readonly("READONLY You can't write against a read only replica.", 54));
	assert_true(mw_rtopo_readonly("READONLY", 8));
	assert_false(mw_rtopo_readonly("READONLYX", 9));
	assert_false(mw_rtopo_readonly("ERR READONLY", 12));
}

static void
test_seeds(void **state)
{
	struct mw_rtopo_seeds s;
	char	err[160];
	static const char *const bad[] = {
		"redis://h:1", "sentinel://h:1", "sentinel://h:1/", "sentinel://h:1/a b",
		"sentinel://h:1/a/b", "sentinel:///m", "sentinel://h:1,,h:2/m", "cluster://h:1/x",
		"cluster://", "cluster://h:0", "cluster://h:70000", "cluster://h:1,", "cluster://:1",
		"cluster://a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9,j:10,k:11,l:12,m:13,n:14,o:15,p:16,q:17",
	};
	size_t	i;

	assert_int_equal(mw_rtopo_seeds_parse("sentinel://127.0.0.1:26379,127.0.0.2,[::1]:5/mymaster",
					      &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, MW_RTOPO_SENTINEL);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.addr[0].host, "127.0.0.1");
	assert_int_equal(s.addr[1].port, 26379);
	assert_string_equal(s.addr[2].host, "::1");
	assert_int_equal(s.addr[2].port, 5);
	assert_string_equal(s.name, "mymaster");
	assert_int_equal(mw_rtopo_seeds_parse("cluster://h1:7000,h2,[fe80::2]", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, MW_RTOPO_CLUSTER);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.addr[1].port, 6379);
	assert_int_equal(s.addr[2].port, 6379);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (mw_rtopo_seeds_parse(bad[i], &s, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc16_xmodem),
		cmocka_unit_test(test_keyslot_documented_values),
		cmocka_unit_test(test_keyslot_hash_tag_rules),
		cmocka_unit_test(test_redirect_moved_ask),
		cmocka_unit_test(test_redirect_bad_and_other),
		cmocka_unit_test(test_slots_three_masters),
		cmocka_unit_test(test_slots_partial_and_bad),
		cmocka_unit_test(test_sentinel_master),
		cmocka_unit_test(test_role),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_seeds),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
