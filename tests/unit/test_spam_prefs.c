/* test_spam_prefs - spam_prefs decisions: score parsing, sender lists,
   the decision table (plugins/spam-prefs/spam-prefs-util.c) */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "spam-prefs-util.h"

static void
test_parse_score(void **state)
{
	static const struct {
		const char *in;
		int	ret;
		long	milli;
	} cases[] = {
		{"7.3", 0, 7300}, {"5", 0, 5000}, {"5.0", 0, 5000},
		{"-0.5", 0, -500}, {"+12", 0, 12000}, {" 9.1 ", 0, 9100},
		{"4.9999", 0, 4999}, {".5", 0, 500}, {"0", 0, 0},
		{"", -1, 0}, {"-", -1, 0}, {".", -1, 0}, {"abc", -1, 0},
		{"7,3", -1, 0}, {"7.3x", -1, 0}, {"1e3", -1, 0},
		{"--1", -1, 0}, {"99999999999999999999", -1, 0}, {"1000001", -1, 0},
	};
	long	milli;
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		milli = 0;
		if (spam_prefs_parse_score(cases[i].in, &milli) != cases[i].ret)
			fail_msg("case \"%s\": wrong verdict", cases[i].in);
		if (cases[i].ret == 0 && milli != cases[i].milli)
			fail_msg("case \"%s\": %ld", cases[i].in, milli);
	}
}

static void
test_parse_action(void **state)
{
	enum spam_prefs_action a;

	assert_int_equal(spam_prefs_parse_action("junk", &a), 0);
	assert_int_equal(a, SPAM_PREFS_ACTION_JUNK);
	assert_int_equal(spam_prefs_parse_action("discard", &a), 0);
	assert_int_equal(a, SPAM_PREFS_ACTION_DISCARD);
	assert_int_equal(spam_prefs_parse_action("keep", &a), 0);
	assert_int_equal(a, SPAM_PREFS_ACTION_KEEP);
	assert_int_equal(spam_prefs_parse_action("reject", &a), -1);
	assert_int_equal(spam_prefs_parse_action("", &a), -1);
	assert_string_equal(spam_prefs_action_name(SPAM_PREFS_ACTION_DISCARD), "discard");
}

static void
test_list_match(void **state)
{
	const char *list = "boss@Example.com, @friends.example\t@x.org";

	assert_true(spam_prefs_list_match(list, "boss@example.com"));
	assert_true(spam_prefs_list_match(list, "BOSS@EXAMPLE.COM"));
	assert_true(spam_prefs_list_match(list, "anyone@friends.example"));
	assert_true(spam_prefs_list_match(list, "a@X.ORG"));
	assert_false(spam_prefs_list_match(list, "boss@example.comx"));
	assert_false(spam_prefs_list_match(list, "xboss@example.com"));
	assert_false(spam_prefs_list_match(list, "a@sub.friends.example"));
	assert_false(spam_prefs_list_match(list, "a@evilfriends.example"));
	assert_false(spam_prefs_list_match(list, "friends.example"));
	assert_false(spam_prefs_list_match(list, NULL));
	assert_false(spam_prefs_list_match(list, ""));
	assert_false(spam_prefs_list_match(NULL, "a@x.org"));
	assert_false(spam_prefs_list_match("", "a@x.org"));
	assert_false(spam_prefs_list_match(" , ", "a@x.org"));
}

static void
test_decide(void **state)
{
	static const struct {
		int	allow, deny, have;
		long	score, thr;
		enum spam_prefs_reason reason;
		int	spam;
	} cases[] = {
		{0, 0, 1, 5000, 5000, SPAM_PREFS_REASON_SCORE, 1},	/* at threshold */
		{0, 0, 1, 4999, 5000, SPAM_PREFS_REASON_BELOW, 0},
		{0, 0, 1, 9100, 5000, SPAM_PREFS_REASON_SCORE, 1},
		{0, 0, 1, -2000, -1000, SPAM_PREFS_REASON_BELOW, 0},
		{0, 0, 0, 0, 5000, SPAM_PREFS_REASON_NO_SCORE, 0},
		{1, 0, 1, 20000, 5000, SPAM_PREFS_REASON_ALLOW, 0},	/* allow wins */
		{1, 1, 1, 20000, 5000, SPAM_PREFS_REASON_ALLOW, 0},	/* over deny too */
		{0, 1, 1, 0, 5000, SPAM_PREFS_REASON_DENY, 1},		/* regardless of score */
		{0, 1, 0, 0, 5000, SPAM_PREFS_REASON_DENY, 1},		/* or of no score */
	};
	struct spam_prefs_decision d;
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = spam_prefs_decide(cases[i].allow, cases[i].deny, cases[i].have,
				      cases[i].score, cases[i].thr);
		if (d.reason != cases[i].reason || d.spam != cases[i].spam)
			fail_msg("case %zu: reason %s spam %d", i,
				 spam_prefs_reason_name(d.reason), d.spam);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_score),
		cmocka_unit_test(test_parse_action),
		cmocka_unit_test(test_list_match),
		cmocka_unit_test(test_decide),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
