/* test_stamp - mw_stamp: the keyed stamp the milter writes and spam_prefs checks */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mw_stamp.h"

#define KEY_HEX	"000102030405060708090a0b0c0d0e0f"
#define KEY2_HEX "f0e1d2c3b4a5968778695a4b3c2d1e0f"
#define MSGID	"<20261204.1234@mx.example.com>"
#define NOW	1764806400LL

static struct mw_stamp_key key, key2;

static int
setup(void **state)
{
	(void) state;
	if (mw_stamp_key_parse(KEY_HEX, &key, NULL, 0) < 0
	    || mw_stamp_key_parse(KEY2_HEX, &key2, NULL, 0) < 0)
		return (-1);
	return (0);
}

static void
test_key_parse(void **state)
{
	struct mw_stamp_key k;
	char	err[128];

	(void) state;
	assert_int_equal(mw_stamp_key_parse("  " KEY_HEX "\n", &k, err, sizeof(err)), 0);
	/* SipHash's reference key: bytes 00..0f, little-endian halves */
	assert_true(k.k0 == UINT64_C(0x0706050403020100));
	assert_true(k.k1 == UINT64_C(0x0f0e0d0c0b0a0908));
	assert_int_equal(mw_stamp_key_parse("000102", &k, err, sizeof(err)), -1);
	assert_string_equal(err, "key: expected 32 hexadecimal digits");
	assert_int_equal(mw_stamp_key_parse(KEY_HEX "00", &k, err, sizeof(err)), -1);
	assert_int_equal(mw_stamp_key_parse("x00102030405060708090a0b0c0d0e0f", &k, err, sizeof(err)), -1);
	assert_int_equal(mw_stamp_key_parse("", &k, err, sizeof(err)), -1);
}

static void
test_key_load_refuses_a_key_others_can_read(void **state)
{
	char	path[] = "/tmp/test_stamp.XXXXXX";
	struct mw_stamp_key k;
	char	err[256];
	int	fd;

	(void) state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, KEY_HEX "\n", 33), 33);
	close(fd);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(mw_stamp_key_load(path, &k, err, sizeof(err)), 0);
	assert_true(k.k0 == key.k0 && k.k1 == key.k1);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(mw_stamp_key_load(path, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "readable or writable by others"));
	unlink(path);
	assert_int_equal(mw_stamp_key_load(path, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

static void
test_make_and_verify(void **state)
{
	struct mw_stamp_info info;
	char	v[MW_STAMP_VALUE_MAX];
	char	err[256];

	(void) state;
	assert_int_equal(mw_stamp_make(&key, MSGID, "7.3", NOW, v, sizeof(v)), 0);
	assert_int_equal(strncmp(v, "v=1; t=1764806400; score=7.3; mac=", 34), 0);
	assert_int_equal(strlen(v), 34 + 16);
	assert_int_equal(mw_stamp_verify(&key, 1, v, MSGID, NOW + 60, 0, &info, err, sizeof(err)), 0);
	assert_true(info.t == NOW);
	assert_true(info.score > 7.29 && info.score < 7.31);
	assert_string_equal(info.score_text, "7.3");
	/* the same value, however the Message-ID is folded or spaced */
	assert_int_equal(mw_stamp_verify(&key, 1, v, " <20261204.1234@mx.example.com>\r\n", NOW, 0,
					 &info, err, sizeof(err)), 0);
	assert_int_equal(mw_stamp_verify(&key, 1, v, "<20261204.1234@mx.\n\texample.com>", NOW, 0,
					 &info, err, sizeof(err)), 0);
	/* negative scores, field order and spacing free */
	assert_int_equal(mw_stamp_make(&key, MSGID, "-100.0", NOW, v, sizeof(v)), 0);
	assert_int_equal(mw_stamp_verify(&key, 1, v, MSGID, NOW, 0, &info, err, sizeof(err)), 0);
	assert_true(info.score < -99.9 && info.score > -100.1);
}

static void
test_replayed_onto_another_message(void **state)
{
	char	v[MW_STAMP_VALUE_MAX];
	char	err[256];

	(void) state;
	assert_int_equal(mw_stamp_make(&key, MSGID, "-2.0", NOW, v, sizeof(v)), 0);
	assert_int_equal(mw_stamp_verify(&key, 1, v, "<other@mx.example.com>", NOW, 0, NULL,
					 err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, "bad mac", 7), 0);
	assert_int_equal(mw_stamp_verify(&key, 1, v, NULL, NOW, 0, NULL, err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, "no Message-ID", 13), 0);
	assert_int_equal(mw_stamp_verify(&key, 1, v, " \r\n", NOW, 0, NULL, err, sizeof(err)), -1);
}

static void
test_forged_fields(void **state)
{
	char	v[MW_STAMP_VALUE_MAX];
	char	forged[MW_STAMP_VALUE_MAX + 8];
	char	err[256];
	char   *mac;

	(void) state;
	assert_int_equal(mw_stamp_make(&key, MSGID, "9.5", NOW, v, sizeof(v)), 0);
	mac = strstr(v, "mac=") + 4;
	/* a lower score with the real mac */
	snprintf(forged, sizeof(forged), "v=1; t=1764806400; score=-9.5; mac=%s", mac);
	assert_int_equal(mw_stamp_verify(&key, 1, forged, MSGID, NOW, 0, NULL, err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, "bad mac", 7), 0);
	/* another time */
	snprintf(forged, sizeof(forged), "v=1; t=1764806401; score=9.5; mac=%s", mac);
	assert_int_equal(mw_stamp_verify(&key, 1, forged, MSGID, NOW, 0, NULL, err, sizeof(err)), -1);
	/* one bit of the mac */
	mw_stamp_make(&key, MSGID, "9.5", NOW, v, sizeof(v));
	mac = strstr(v, "mac=") + 4;
	mac[15] = mac[15] == '0' ? '1' : '0';
	assert_int_equal(mw_stamp_verify(&key, 1, v, MSGID, NOW, 0, NULL, err, sizeof(err)), -1);
	/* another site's key */
	mw_stamp_make(&key2, MSGID, "9.5", NOW, v, sizeof(v));
	assert_int_equal(mw_stamp_verify(&key, 1, v, MSGID, NOW, 0, NULL, err, sizeof(err)), -1);
}

static void
test_key_rotation(void **state)
{
	struct mw_stamp_key keys[2];
	char	v[MW_STAMP_VALUE_MAX];

	(void) state;
	keys[0] = key2;
	keys[1] = key;
	assert_int_equal(mw_stamp_make(&key, MSGID, "1.0", NOW, v, sizeof(v)), 0);
	assert_int_equal(mw_stamp_verify(keys, 2, v, MSGID, NOW, 0, NULL, NULL, 0), 0);
	assert_int_equal(mw_stamp_verify(keys, 1, v, MSGID, NOW, 0, NULL, NULL, 0), -1);
}

static void
test_max_age(void **state)
{
	char	v[MW_STAMP_VALUE_MAX];
	char	err[256];

	(void) state;
	assert_int_equal(mw_stamp_make(&key, MSGID, "1.0", NOW, v, sizeof(v)), 0);
	assert_int_equal(mw_stamp_verify(&key, 1, v, MSGID, NOW + 86400, 86400, NULL, err, sizeof(err)), 0);
	assert_int_equal(mw_stamp_verify(&key, 1, v, MSGID, NOW + 86401, 86400, NULL, err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, "stale", 5), 0);
	assert_int_equal(mw_stamp_verify(&key, 1, v, MSGID, NOW - 301, 86400, NULL, err, sizeof(err)), -1);
	assert_int_equal(mw_stamp_verify(&key, 1, v, MSGID, NOW - 300, 86400, NULL, err, sizeof(err)), 0);
	assert_int_equal(mw_stamp_verify(&key, 1, v, MSGID, NOW + 999999, 0, NULL, err, sizeof(err)), 0);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"v=1",
		"v=2; t=1; score=1.0; mac=0000000000000000",
		"t=1; score=1.0; mac=0000000000000000",
		"v=1; t=1; score=1.0",
		"v=1; t=1; mac=0000000000000000",
		"v=1; score=1.0; mac=0000000000000000",
		"v=1; v=1; t=1; score=1.0; mac=0000000000000000",
		"v=1; t=1; score=1.0; mac=0000000000000000; x=1",
		"v=1; t=-1; score=1.0; mac=0000000000000000",
		"v=1; t=01; score=1.0; mac=0000000000000000",
		"v=1; t=1; score=1e3; mac=0000000000000000",
		"v=1; t=1; score=1.; mac=0000000000000000",
		"v=1; t=1; score=.5; mac=0000000000000000",
		"v=1; t=1; score=12345678; mac=0000000000000000",
		"v=1; t=1; score=1.0; mac=000000000000000",
		"v=1; t=1; score=1.0; mac=00000000000000000",
		"v=1; t=1; score=1.0; mac=000000000000000g",
		"v=1; t=1; score=1.0; mac=000000000000000A",
		"v=1 t=1; score=1.0; mac=0000000000000000",
		"v=1;; t=1; score=1.0; mac=0000000000000000",
		"v=; t=1; score=1.0; mac=0000000000000000",
		"=1; t=1; score=1.0; mac=0000000000000000",
		"verylongname=1; t=1; score=1.0; mac=0000000000000000",
		NULL,
	};
	char	err[256];
	int	i;

	(void) state;
	for (i = 0; bad[i] != NULL; i++) {
		err[0] = '\0';
		if (mw_stamp_verify(&key, 1, bad[i], MSGID, NOW, 0, NULL, err, sizeof(err)) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
		if (strncmp(err, "malformed", 9) != 0)
			fail_msg("\"%s\": %s", bad[i], err);
	}
}

static void
test_make_refuses(void **state)
{
	char	v[MW_STAMP_VALUE_MAX];

	(void) state;
	assert_int_equal(mw_stamp_make(&key, "", "1.0", NOW, v, sizeof(v)), -1);
	assert_int_equal(mw_stamp_make(&key, NULL, "1.0", NOW, v, sizeof(v)), -1);
	assert_int_equal(mw_stamp_make(&key, MSGID, "1,0", NOW, v, sizeof(v)), -1);
	assert_int_equal(mw_stamp_make(&key, MSGID, "nan", NOW, v, sizeof(v)), -1);
	assert_int_equal(mw_stamp_make(&key, MSGID, "1.0", NOW, v, 20), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_key_load_refuses_a_key_others_can_read),
		cmocka_unit_test(test_make_and_verify),
		cmocka_unit_test(test_replayed_onto_another_message),
		cmocka_unit_test(test_forged_fields),
		cmocka_unit_test(test_key_rotation),
		cmocka_unit_test(test_max_age),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_make_refuses),
	};

	return (cmocka_run_group_tests(tests, setup, NULL));
}
