/* test_cfg - mw_cfg: types, defaults, and every kind of bad input */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mw_cfg.h"
#include "mw_msg.h"

struct conf {
	int	fork;
	char   *socket;
	long long children;
	long long offset;
	unsigned long long max_size;
	unsigned long long timeout;
	struct mw_cfg_list hosts;
};

static const struct mw_cfg_entry table[] = {
	{"Foreground", MW_CFG_BOOL, "no", offsetof(struct conf, fork), 0, 0},
	{"MilterSocket", MW_CFG_STRING, "local:/run/mw.sock", offsetof(struct conf, socket), 0, 0},
	{"Children", MW_CFG_INT, "4", offsetof(struct conf, children), 1, 64},
	{"Offset", MW_CFG_INT, "-3", offsetof(struct conf, offset), 0, 0},
	{"MaxSize", MW_CFG_SIZE, "25M", offsetof(struct conf, max_size), 0, 0},
	{"Timeout", MW_CFG_TIME, "30s", offsetof(struct conf, timeout), 1, 86400},
	{"SpamdHosts", MW_CFG_LIST, "inet:783@127.0.0.1", offsetof(struct conf, hosts), 0, 0},
	MW_CFG_END,
};

/* parse - run mw_cfg_parse over a string; return rc, error in err */

static int
parse(struct conf *c, const char *text, size_t len, int flags, char *err)
{
	FILE   *fp = fmemopen((void *) text, len, "r");
	int	rc;

	assert_non_null(fp);
	memset(c, 0, sizeof(*c));
	assert_int_equal(mw_cfg_defaults(table, c, err, MW_CFG_ERR_MAX), 0);
	rc = mw_cfg_parse(table, c, fp, "t.conf", flags, err, MW_CFG_ERR_MAX);
	fclose(fp);
	return (rc);
}

#define PARSE(c, text, err) parse((c), (text), strlen(text), 0, (err))

static void
test_defaults(void **state)
{
	struct conf c;
	char	err[MW_CFG_ERR_MAX];

	assert_int_equal(PARSE(&c, "", err), 0);
	assert_int_equal(c.fork, 0);
	assert_string_equal(c.socket, "local:/run/mw.sock");
	assert_true(c.children == 4);
	assert_true(c.offset == -3);
	assert_true(c.max_size == 25ULL * 1024 * 1024);
	assert_true(c.timeout == 30);
	assert_int_equal(c.hosts.n, 1);
	assert_string_equal(c.hosts.items[0], "inet:783@127.0.0.1");
	mw_cfg_free(table, &c);
	assert_null(c.socket);
	assert_int_equal(c.hosts.n, 0);
}

static void
test_all_types(void **state)
{
	struct conf c;
	char	err[MW_CFG_ERR_MAX];
	const char *text =
	"# a comment\n"
	"\n"
	"   # indented comment\n"
	"foreground  Yes\n"
	"MilterSocket \"inet:8890@127.0.0.1\"   # trailing comment\n"
	"Children\t16\n"
	"Offset -9223372036854775808\n"
	"MaxSize 2g\n"
	"Timeout 2h\r\n"
	"SpamdHosts inet:783@10.0.0.1, inet:783@10.0.0.2\n"
	"SpamdHosts local:/run/spamd.sock\n";

	assert_int_equal(PARSE(&c, text, err), 0);
	assert_int_equal(c.fork, 1);
	assert_string_equal(c.socket, "inet:8890@127.0.0.1");
	assert_true(c.children == 16);
	assert_true(c.offset == INT64_MIN);
	assert_true(c.max_size == 2ULL * 1024 * 1024 * 1024);
	assert_true(c.timeout == 7200);
	/* the file's list replaces the default; a repeated LIST key appends */
	assert_int_equal(c.hosts.n, 3);
	assert_string_equal(c.hosts.items[0], "inet:783@10.0.0.1");
	assert_string_equal(c.hosts.items[1], "inet:783@10.0.0.2");
	assert_string_equal(c.hosts.items[2], "local:/run/spamd.sock");
	mw_cfg_free(table, &c);
}

static void
test_units(void **state)
{
	struct conf c;
	char	err[MW_CFG_ERR_MAX];

	assert_int_equal(PARSE(&c, "MaxSize 512\nTimeout 1d\n", err), 0);
	assert_true(c.max_size == 512);
	assert_true(c.timeout == 86400);
	mw_cfg_free(table, &c);
	assert_int_equal(PARSE(&c, "MaxSize 10K\nTimeout 5m\n", err), 0);
	assert_true(c.max_size == 10240);
	assert_true(c.timeout == 300);
	mw_cfg_free(table, &c);
}

/* expect_error - the text must fail with exactly this message */

static void
expect_error(const char *text, size_t len, const char *want)
{
	struct conf c;
	char	err[MW_CFG_ERR_MAX];

	err[0] = '\0';
	assert_int_equal(parse(&c, text, len, 0, err), -1);
	assert_string_equal(err, want);
	mw_cfg_free(table, &c);
}

#define EXPECT_ERROR(text, want) expect_error((text), strlen(text), (want))

static void
test_bad_input(void **state)
{
	EXPECT_ERROR("Foreground yes\nBogus 1\n", "t.conf:2: unknown parameter \"Bogus\"");
	EXPECT_ERROR("Foreground maybe\n", "t.conf:1: Foreground: bad boolean \"maybe\" (expected yes or no)");
	EXPECT_ERROR("Children\n", "t.conf:1: parameter Children has no value");
	EXPECT_ERROR("Children 4\n\nchildren 5\n", "t.conf:3: duplicate parameter Children (first set on line 1)");
	EXPECT_ERROR("Children 0\n", "t.conf:1: Children: value \"0\" out of range [1..64]");
	EXPECT_ERROR("Children 65\n", "t.conf:1: Children: value \"65\" out of range [1..64]");
	EXPECT_ERROR("Children 4x\n", "t.conf:1: Children: bad integer \"4x\"");
	EXPECT_ERROR("Children -\n", "t.conf:1: Children: bad integer \"-\"");
	EXPECT_ERROR("Offset 9223372036854775808\n", "t.conf:1: Offset: value \"9223372036854775808\" is too large");
	EXPECT_ERROR("Offset -9223372036854775809\n", "t.conf:1: Offset: value \"-9223372036854775809\" is too large");
	EXPECT_ERROR("Offset 99999999999999999999999\n", "t.conf:1: Offset: value \"99999999999999999999999\" is too large");
	EXPECT_ERROR("MaxSize 12X\n", "t.conf:1: MaxSize: bad size \"12X\" (expected a number with an optional unit, one of \"kmg\")");
	EXPECT_ERROR("MaxSize 12 M\n", "t.conf:1: MaxSize: bad size \"12 M\" (expected a number with an optional unit, one of \"kmg\")");
	EXPECT_ERROR("MaxSize 12MB\n", "t.conf:1: MaxSize: bad size \"12MB\" (expected a number with an optional unit, one of \"kmg\")");
	EXPECT_ERROR("MaxSize -1\n", "t.conf:1: MaxSize: bad size \"-1\" (expected a number with an optional unit, one of \"kmg\")");
	EXPECT_ERROR("MaxSize 17179869184G\n", "t.conf:1: MaxSize: value \"17179869184G\" is too large");
	EXPECT_ERROR("Timeout 0\n", "t.conf:1: Timeout: value \"0\" out of range [1..86400]");
	EXPECT_ERROR("Timeout 2w\n", "t.conf:1: Timeout: bad time \"2w\" (expected a number with an optional unit, one of \"smhd\")");
	EXPECT_ERROR("Timeout 1e\n", "t.conf:1: Timeout: bad time \"1e\" (expected a number with an optional unit, one of \"smhd\")");
	EXPECT_ERROR("9Lives 1\n", "t.conf:1: bad parameter name \"9Lives\"");
	EXPECT_ERROR("Max-Size 1\n", "t.conf:1: bad parameter name \"Max-Size\"");
	EXPECT_ERROR("Max\x1bSize 1\n", "t.conf:1: bad parameter name \"Max?Size\"");
	expect_error("Children 4\nMaxSize 1\0K\n", 24, "t.conf:2: line contains a NUL byte");
}

static void
test_long_line(void **state)
{
	size_t	len = MW_CFG_LINE_MAX + 100;
	char   *text = malloc(len + 1);

	assert_non_null(text);
	memcpy(text, "MilterSocket ", 13);
	memset(text + 13, 'a', len - 14);
	text[len - 1] = '\n';
	text[len] = '\0';
	expect_error(text, len, "t.conf:1: line too long (over 4096 bytes)");
	free(text);
}

static void
test_unknown_warns_at_reload(void **state)
{
	struct conf c;
	char	err[MW_CFG_ERR_MAX];
	const char *text = "NewKey 1\nChildren 8\n";

	assert_int_equal(parse(&c, text, strlen(text), MW_CFG_UNKNOWN_WARN, err), 0);
	assert_true(c.children == 8);
	mw_cfg_free(table, &c);
}

static void
test_set_and_lookup(void **state)
{
	struct conf c;
	char	err[MW_CFG_ERR_MAX];
	const struct mw_cfg_entry *e;

	memset(&c, 0, sizeof(c));
	assert_int_equal(mw_cfg_defaults(table, &c, err, sizeof(err)), 0);
	assert_non_null(e = mw_cfg_lookup(table, "miltersocket"));
	assert_int_equal(mw_cfg_set(e, &c, "local:/x", err, sizeof(err)), 0);
	assert_string_equal(c.socket, "local:/x");
	assert_null(mw_cfg_lookup(table, "nothing"));
	assert_non_null(e = mw_cfg_lookup(table, "Children"));
	assert_int_equal(mw_cfg_set(e, &c, "100", err, sizeof(err)), -1);
	assert_string_equal(err, "value \"100\" out of range [1..64]");
	assert_true(c.children == 4);
	mw_cfg_free(table, &c);
}

static void
test_bad_default_is_reported(void **state)
{
	static const struct mw_cfg_entry bad[] = {
		{"Children", MW_CFG_INT, "many", offsetof(struct conf, children), 0, 0},
		MW_CFG_END,
	};
	struct conf c;
	char	err[MW_CFG_ERR_MAX];

	memset(&c, 0, sizeof(c));
	assert_int_equal(mw_cfg_defaults(bad, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "default for Children: bad integer \"many\"");
}

static void
test_check_entry_point(void **state)
{
	char	path[] = "/tmp/mw-test-cfg-XXXXXX";
	char	out[1024];
	FILE   *fp;
	int	fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "Children 8\nTimeout 1m\n", 22), 22);
	close(fd);
	fp = fmemopen(out, sizeof(out), "w");
	assert_int_equal(mw_cfg_check(table, sizeof(struct conf), path, fp), 0);
	fclose(fp);
	assert_non_null(strstr(out, ": OK"));

	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	assert_int_equal(write(fd, "Children 9\n", 11), 11);
	close(fd);
	fp = fmemopen(out, sizeof(out), "w");
	assert_int_equal(mw_cfg_check(table, sizeof(struct conf), path, fp), 1);
	fclose(fp);
	assert_non_null(strstr(out, ":3: duplicate parameter Children (first set on line 1)"));
	unlink(path);

	fp = fmemopen(out, sizeof(out), "w");
	assert_int_equal(mw_cfg_check(table, sizeof(struct conf), "/nonexistent/x.conf", fp), 1);
	fclose(fp);
	assert_string_equal(out, "/nonexistent/x.conf: cannot open: No such file or directory\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_types),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_unknown_warns_at_reload),
		cmocka_unit_test(test_set_and_lookup),
		cmocka_unit_test(test_bad_default_is_reported),
		cmocka_unit_test(test_check_entry_point),
	};

	/* warnings from MW_CFG_UNKNOWN_WARN go to stderr, not the TAP stream */
	mw_msg_open("test_cfg", MW_MSG_STDERR);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
