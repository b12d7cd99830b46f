/* test_str - mw_str: bounded copy, printable, trim, lowercase, numbers */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>
#include <cmocka.h>

#include "mw_str.h"

static void
test_strlcpy(void **state)
{
	char	buf[6];

	assert_int_equal(mw_strlcpy(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(mw_strlcpy(buf, "abcdefgh", sizeof(buf)), 8);
	assert_string_equal(buf, "abcde");
	assert_int_equal(mw_strlcpy(buf, "", sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void
test_printable_replaces_controls_nul_and_8bit(void **state)
{
	char	buf[64];
	const char data[] = "a\0b\r\n\tc\x7f\xc3\xa9z";

	mw_printable(buf, sizeof(buf), data, sizeof(data) - 1);
	assert_string_equal(buf, "a?b???c???z");
}

static void
test_printable_truncates_with_marker(void **state)
{
	char	buf[8];

	mw_printable(buf, sizeof(buf), "0123456789", 10);
	assert_string_equal(buf, "0123...");
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	mw_printable(buf, sizeof(buf), "0123456", 7);
	assert_string_equal(buf, "0123456");
}

static void
test_trim_and_lowercase(void **state)
{
	char	a[] = " \t Hello World \r\n";
	char	b[] = "   ";
	char	c[] = "MiXeD.Example.COM \xc3\x89";

	assert_string_equal(mw_trim(a), "Hello World");
	assert_string_equal(mw_trim(b), "");
	mw_lowercase(c);
	assert_string_equal(c, "mixed.example.com \xc3\x89");
}

static void
test_parse_ull(void **state)
{
	unsigned long long v;
	const char *end;

	assert_int_equal(mw_parse_ull("1234x", &v, &end), 0);
	assert_true(v == 1234);
	assert_string_equal(end, "x");
	assert_int_equal(mw_parse_ull("18446744073709551615", &v, &end), 0);
	assert_true(v == ULLONG_MAX);
	assert_int_equal(mw_parse_ull("18446744073709551616", &v, &end), -2);
	assert_int_equal(mw_parse_ull("99999999999999999999999", &v, &end), -2);
	assert_int_equal(mw_parse_ull("", &v, &end), -1);
	assert_int_equal(mw_parse_ull("-1", &v, &end), -1);
	assert_int_equal(mw_parse_ull(" 1", &v, &end), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_printable_replaces_controls_nul_and_8bit),
		cmocka_unit_test(test_printable_truncates_with_marker),
		cmocka_unit_test(test_trim_and_lowercase),
		cmocka_unit_test(test_parse_ull),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
