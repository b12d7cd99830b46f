/* test_spam_prefs - spam_prefs decisions: score parsing, sender lists,
   the decision table (plugins/spam-prefs/spam-prefs-util.c) */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
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

static void
test_format_score(void **state)
{
	static const struct {
		long	milli;
		const char *out;
	} cases[] = {
		{0, "0.000"}, {5, "0.005"}, {500, "0.500"}, {-500, "-0.500"},
		{-1, "-0.001"}, {1000, "1.000"}, {9100, "9.100"}, {-12345, "-12.345"},
		{1000000000, "1000000.000"}, {LONG_MIN, NULL}, {LONG_MAX, NULL},
	};
	char	buf[SPAM_PREFS_SCORE_BUF], want[64];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].out == NULL) {	/* the extremes: like printf */
			snprintf(want, sizeof(want), "%s%lu.%03lu", cases[i].milli < 0 ? "-" : "",
				 (cases[i].milli < 0 ? 0UL - (unsigned long) cases[i].milli
				  : (unsigned long) cases[i].milli) / 1000,
				 (cases[i].milli < 0 ? 0UL - (unsigned long) cases[i].milli
				  : (unsigned long) cases[i].milli) % 1000);
			assert_string_equal(spam_prefs_format_score(cases[i].milli, buf), want);
		} else {
			assert_string_equal(spam_prefs_format_score(cases[i].milli, buf),
					    cases[i].out);
		}
	}
}

/* scan - run the header scanner over msg in pieces of step bytes */
static const char *
scan(struct spam_prefs_hdr_scan *sc, const char *msg, size_t len, size_t step)
{
	size_t off = 0, n, used;

	spam_prefs_hdr_scan_init(sc);
	while (off < len && !sc->done) {
		n = len - off < step ? len - off : step;
		used = spam_prefs_hdr_scan(sc, (const unsigned char *) msg + off, n);
		assert_true(used <= n);
		if (used < n)
			assert_true(sc->done);
		off += used;
	}
	return spam_prefs_hdr_scan_value(sc);
}

static void
test_hdr_scan(void **state)
{
	static const struct {
		const char *msg;
		const char *value;	/* NULL: no usable field */
	} cases[] = {
		{"X-Spam-Score: 7.5\n\nbody\n", "7.5"},
		{"From: a\r\nX-Spam-Score: 7.5\r\nSubject: s\r\n\r\n", "7.5"},
		{"From: a\nx-spam-score:6\n\n", "6"},
		{"From: a\nX-SPAM-SCORE:\t -1.25 \n\n", "-1.25 "},
		{"Subject: f\nX-Spam-Score:\n\t 9.1\n\n", "9.1"},
		{"X-Spam-Score:\r\n 9.1\r\nTo: b\r\n\r\n", "9.1"},
		{"X-Spam-Score: 1.0\nX-Spam-Score: 9.0\n\n", "1.0"},
		{"X-Spam-Score : 4\n\n", "4"},
		{"X-Spam-Score\t\t: 4\n\n", "4"},
		{"Subject: body\n\nX-Spam-Score: 9\n", NULL},
		{"Subject: body\r\n\r\nX-Spam-Score: 9\r\n", NULL},
		{"X-Spam-Scores: 9\n\n", NULL},
		{"X-Spam-Scor: 9\n\n", NULL},
		{"XX-Spam-Score: 9\n\n", NULL},
		{"X\rSpam-Score: 9\n\n", NULL},
		{"X-Spam-Score 9\nX-Spam-Score: 3\n\n", "3"},
		{"Subject: x\n X-Spam-Score: 9\n\n", NULL},	/* a continuation */
		{"Subject: no newline at the end\nX-Spam-Score: 2", "2"},
		{"", NULL},
		{"\n", NULL},
		{"Subject: s\n\n", NULL},
		{"X-Spam-Score: 5\0x\n\n", "5\x80x"},
	};
	struct spam_prefs_hdr_scan sc;
	static const size_t steps[] = {1, 2, 3, 7, 100000};
	char	big[600];
	const char *v;
	size_t	i, k, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* the NUL case: its length is known */
		len = i == sizeof(cases) / sizeof(cases[0]) - 1 ? 21 : strlen(cases[i].msg);
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			v = scan(&sc, cases[i].msg, len, steps[k]);
			if (cases[i].value == NULL ? v != NULL
			    : v == NULL || strcmp(v, cases[i].value) != 0)
				fail_msg("case %zu step %zu: \"%s\", want \"%s\"", i,
					 steps[k], v == NULL ? "(none)" : v,
					 cases[i].value == NULL ? "(none)" : cases[i].value);
		}
	}
	/* the scan stops at the field's end: the body is not fed */
	v = scan(&sc, "X-Spam-Score: 8\nTo: b\n\nbody", 27, 100);
	assert_true(sc.done);
	assert_string_equal(v, "8");
	/* a value beyond the limit is unusable; at the limit it is kept */
	for (len = SPAM_PREFS_HDR_VALUE_MAX; len <= SPAM_PREFS_HDR_VALUE_MAX + 1; len++) {
		k = (size_t) snprintf(big, sizeof(big), "X-Spam-Score: %0*d\n\n", (int) len, 5);
		v = scan(&sc, big, k, 64);
		if (len == SPAM_PREFS_HDR_VALUE_MAX) {
			assert_non_null(v);
			assert_int_equal(strlen(v), len);
		} else {
			assert_null(v);
		}
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
		cmocka_unit_test(test_format_score),
		cmocka_unit_test(test_hdr_scan),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
