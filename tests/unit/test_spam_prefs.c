/* test_spam_prefs - spam_prefs decisions: score parsing, sender lists,
   the decision table, the header scanner (plugins/spam-prefs/
   spam-prefs-util.c); the stamp keys and check (spam-prefs-stamp.c) */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spam-prefs-util.h"
#include "spam-prefs-stamp.h"

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
		/* required_score as SpamAssassin and the webmail plugins
		   write it into the userpref table */
		{"-1.5", 0, -1500}, {"10.00", 0, 10000}, {"5,0", -1, 0},
		{"5 0", -1, 0}, {"5\n", -1, 0}, {"0x5", -1, 0}, {"five", -1, 0},
		{"inf", -1, 0}, {"nan", -1, 0},
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

/* SpamAssassin's whitelist_from / blacklist_from patterns, as the userpref
   table holds them: globs over the whole address, several per value */
static void
test_list_glob(void **state)
{
	static const struct {
		const char *list, *sender;
		bool	match;
	} cases[] = {
		{"*@example.com", "joe@example.com", true},
		{"*@example.com", "JOE@EXAMPLE.COM", true},
		{"*@example.com", "joe@sub.example.com", false},
		{"*@example.com", "joe@example.com.evil", false},
		{"*@*.example.org", "joe@mail.example.org", true},
		{"*@*.example.org", "joe@example.org", false},
		{"joe@*.example.org", "joe@a.b.example.org", true},
		{"joe@*.example.org", "xjoe@a.example.org", false},
		{"*.example.net", "a@host.example.net", true},	/* SA's doc */
		{"jo?@example.com", "joe@example.com", true},
		{"jo?@example.com", "jo@example.com", false},
		{"jo?@example.com", "joey@example.com", false},
		{"*", "anyone@anywhere", true},
		{"**@x.org", "a@x.org", true},
		{"*@", "a@x.org", false},
		{"a*b*c@x", "abc@x", true},
		{"a*b*c@x", "aXbYc@x", true},
		{"a*b*c@x", "aXcYb@x", false},
		/* several per value, separated by spaces (SA), tabs, commas */
		{"nobody@a.example  *@friends.example\tboss@work.example", "x@friends.example", true},
		{"nobody@a.example *@friends.example", "x@foes.example", false},
		/* the old entries keep their meaning */
		{"@example.com", "joe@example.com", true},
		{"@example.com", "joe@sub.example.com", false},
		/* '.' and other regex characters are themselves */
		{"joe@example.com", "joe@exampleXcom", false},
		{"j+e@x.org", "j+e@x.org", true},
		{"j+e@x.org", "jje@x.org", false},
		{"[a]@x.org", "a@x.org", false},
		{"(a)@x.org", "(a)@x.org", true},
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (spam_prefs_list_match(cases[i].list, cases[i].sender) != cases[i].match)
			fail_msg("case %zu: \"%s\" against \"%s\": want %d", i,
				 cases[i].list, cases[i].sender, cases[i].match);
	}
}

/* hostile patterns: a naive backtracking glob takes time exponential in
   the number of '*'; this one at most pattern x address (the test would
   not finish otherwise) */
static void
test_list_glob_hostile(void **state)
{
	char	pat[SPAM_PREFS_LIST_MAX + 1], addr[1001];
	size_t	i;

	/* "*a*a*a...*a" 50 times, then "b": a naive matcher tries every way
	   of splitting 1000 a's among 50 stars */
	for (i = 0; i < 100; i += 2) {
		pat[i] = '*';
		pat[i + 1] = 'a';
	}
	pat[i++] = 'b';
	pat[i] = '\0';
	memset(addr, 'a', sizeof(addr) - 1);
	addr[sizeof(addr) - 1] = '\0';
	for (i = 0; i < 100; i++)
		assert_false(spam_prefs_list_match(pat, addr));
	addr[sizeof(addr) - 2] = 'b';
	assert_true(spam_prefs_list_match(pat, addr));
	/* the longest list there can be: 1999 times "*a", then "b" */
	for (i = 0; i + 2 < SPAM_PREFS_LIST_MAX; i += 2) {
		pat[i] = '*';
		pat[i + 1] = 'a';
	}
	pat[i++] = 'b';
	pat[i] = '\0';
	assert_int_equal(spam_prefs_list_check(pat, NULL, 0), 0);
	addr[sizeof(addr) - 2] = 'a';
	assert_false(spam_prefs_list_match(pat, addr));
	/* a run of stars before a literal that never comes */
	memset(pat, '*', 2000);
	memcpy(pat + 2000, "a*a*a*x@y", 10);
	assert_false(spam_prefs_list_match(pat, addr));
}

static void
test_list_match_any(void **state)
{
	const char *addrs[] = { NULL, "a@x.org", "boss@work.example" };

	assert_int_equal(spam_prefs_list_match_any("*@work.example", addrs, 3), 2);
	assert_int_equal(spam_prefs_list_match_any("@x.org *@work.example", addrs, 3), 1);
	assert_int_equal(spam_prefs_list_match_any("@y.org", addrs, 3), -1);
	assert_int_equal(spam_prefs_list_match_any(NULL, addrs, 3), -1);
	assert_int_equal(spam_prefs_list_match_any("*", addrs, 1), -1);	/* <> */
}

/* a list from the directory: bounded, no control characters */
static void
test_list_check(void **state)
{
	char	list[SPAM_PREFS_LIST_MAX + 2], why[128];

	assert_int_equal(spam_prefs_list_check("", why, sizeof(why)), 0);
	assert_int_equal(spam_prefs_list_check("a@x.org *@y.org\t@z.org, b@\xc3\xa9.example",
					       why, sizeof(why)), 0);
	assert_int_equal(spam_prefs_list_check("a@x.org\nb@y.org", why, sizeof(why)), -1);
	assert_string_equal(why, "control character 0x0a at byte 7");
	assert_int_equal(spam_prefs_list_check("a@x.org\r", why, sizeof(why)), -1);
	assert_int_equal(spam_prefs_list_check("\x1b[31m@x.org", why, sizeof(why)), -1);
	assert_string_equal(why, "control character 0x1b at byte 0");
	assert_int_equal(spam_prefs_list_check("a@x\x7f.org", why, sizeof(why)), -1);
	memset(list, 'a', SPAM_PREFS_LIST_MAX);
	list[SPAM_PREFS_LIST_MAX] = '\0';
	assert_int_equal(spam_prefs_list_check(list, why, sizeof(why)), 0);
	list[SPAM_PREFS_LIST_MAX] = 'a';
	list[SPAM_PREFS_LIST_MAX + 1] = '\0';
	assert_int_equal(spam_prefs_list_check(list, why, sizeof(why)), -1);
	assert_string_equal(why, "4001 bytes long, over the limit of 4000");
}

static void
test_decide(void **state)
{
	static const struct {
		int	allow, deny, have;
		long	score, thr;
		enum spam_prefs_reason reason;
		int	spam;
		int	ignored;	/* allow_ignored */
	} cases[] = {
		{0, 0, 1, 5000, 5000, SPAM_PREFS_REASON_SCORE, 1, 0},	/* at threshold */
		{0, 0, 1, 4999, 5000, SPAM_PREFS_REASON_BELOW, 0, 0},
		{0, 0, 1, 9100, 5000, SPAM_PREFS_REASON_SCORE, 1, 0},
		{0, 0, 1, -2000, -1000, SPAM_PREFS_REASON_BELOW, 0, 0},
		{0, 0, 0, 0, 5000, SPAM_PREFS_REASON_NO_SCORE, 0, 0},
		{1, 0, 1, 9000, 5000, SPAM_PREFS_REASON_ALLOW, 0, 0},	/* allow wins */
		{1, 1, 1, 9000, 5000, SPAM_PREFS_REASON_ALLOW, 0, 0},	/* over deny too */
		{0, 1, 1, 0, 5000, SPAM_PREFS_REASON_DENY, 1, 0},		/* regardless of score */
		{0, 1, 0, 0, 5000, SPAM_PREFS_REASON_DENY, 1, 0},		/* or of no score */
		/* the allow bound (15 here): at or above it, allow is ignored */
		{1, 0, 1, 14999, 5000, SPAM_PREFS_REASON_ALLOW, 0, 0},
		{1, 0, 1, 15000, 5000, SPAM_PREFS_REASON_SCORE, 1, 1},
		{1, 1, 1, 15000, 5000, SPAM_PREFS_REASON_DENY, 1, 1},
		{1, 0, 0, 0, 5000, SPAM_PREFS_REASON_ALLOW, 0, 0},	/* no score: allow */
		{0, 0, 1, 20000, 5000, SPAM_PREFS_REASON_SCORE, 1, 0},
	};
	struct spam_prefs_decision d;
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = spam_prefs_decide(cases[i].allow, cases[i].deny, cases[i].have,
				      cases[i].score, cases[i].thr, 15000);
		if (d.reason != cases[i].reason || d.spam != cases[i].spam ||
		    d.allow_ignored != cases[i].ignored)
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

/* scan_fields - the scanner for a mask of fields, in pieces of step */
static void
scan_fields(struct spam_prefs_hdr_scan *sc, unsigned int wanted,
	    const char *msg, size_t len, size_t step)
{
	size_t off = 0, n, used;

	spam_prefs_hdr_scan_init_fields(sc, wanted);
	while (off < len && !sc->done) {
		n = len - off < step ? len - off : step;
		used = spam_prefs_hdr_scan(sc, (const unsigned char *) msg + off, n);
		assert_true(used <= n);
		if (used < n)
			assert_true(sc->done);
		off += used;
	}
}

#define B(f) SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_ ## f)

static void
test_hdr_scan_fields(void **state)
{
	static const struct {
		const char *msg;
		const char *score, *msgid, *stamp;	/* NULL: none */
	} cases[] = {
		{"Message-ID: <a@b>\nX-Mailwarren-Stamp: v=1; t=1\nX-Spam-Score: 3\n\n",
		 "3", "<a@b>", "v=1; t=1"},
		/* the first of each; folded; any case; blanks before the colon */
		{"message-id :\n <first@x>\nMessage-ID: <second@x>\n"
		 "X-MAILWARREN-STAMP: s1\n\tmore\nX-Mailwarren-Stamp: s2\n\n",
		 NULL, "<first@x>", "s1\tmore"},
		/* near misses of each name */
		{"Message-IDs: <a>\nMessage-I: <b>\nX-Mailwarren-Stam: c\n"
		 "X-Mailwarren-Stamps: d\nX-Spam-Scores: 1\nX-Message-ID: <e>\n\n",
		 NULL, NULL, NULL},
		/* only the header: not in the body */
		{"Subject: s\r\n\r\nMessage-ID: <b@x>\r\nX-Mailwarren-Stamp: v\r\n",
		 NULL, NULL, NULL},
		{"X-Spam-Score: 9\r\nMessage-ID: <c@x>\r\n\r\n", "9", "<c@x>", NULL},
	};
	static const size_t steps[] = {1, 2, 5, 100000};
	struct spam_prefs_hdr_scan sc;
	char	msg[8192], want[32];
	const char *v;
	size_t	i, k, len;
	int	j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			scan_fields(&sc, B(SCORE) | B(MSGID) | B(STAMP), cases[i].msg,
				    strlen(cases[i].msg), steps[k]);
#define CHECK_FIELD(f, w) do { \
			v = spam_prefs_hdr_scan_field(&sc, SPAM_PREFS_HDR_ ## f); \
			if ((w) == NULL ? v != NULL : v == NULL || strcmp(v, (w)) != 0) \
				fail_msg("case %zu step %zu " #f ": \"%s\", want \"%s\"", \
					 i, steps[k], v == NULL ? "(none)" : v, \
					 (w) == NULL ? "(none)" : (w)); \
		} while (0)
			CHECK_FIELD(SCORE, cases[i].score);
			CHECK_FIELD(MSGID, cases[i].msgid);
			CHECK_FIELD(STAMP, cases[i].stamp);
		}
	}
	/* only what was asked for: the score is not read for MSGID|STAMP */
	scan_fields(&sc, B(MSGID) | B(STAMP), cases[0].msg, strlen(cases[0].msg), 3);
	assert_null(spam_prefs_hdr_scan_value(&sc));
	assert_string_equal(spam_prefs_hdr_scan_field(&sc, SPAM_PREFS_HDR_STAMP), "v=1; t=1");
	/* the scan stops when every field was read: the body is not fed */
	len = (size_t) snprintf(msg, sizeof(msg), "X-Mailwarren-Stamp: s\nMessage-ID: <m>\n"
				"To: b\n\nbody");
	scan_fields(&sc, B(MSGID) | B(STAMP), msg, len, 100000);
	assert_true(sc.done);
	/* the 64-junk-header message: 64 forged X-Spam-* fields (and 64
	   stamps) before and after the one the milter wrote; the first
	   of each is read, however many there are */
	len = (size_t) snprintf(msg, sizeof(msg), "Message-ID: <junk@x>\n");
	for (j = 0; j < 64; j++)
		len += (size_t) snprintf(msg + len, sizeof(msg) - len,
					 "X-Spam-%s: %d\n", j % 2 ? "Score" : "Flag", j);
	len += (size_t) snprintf(msg + len, sizeof(msg) - len, "X-Mailwarren-Stamp: real\n");
	for (j = 0; j < 64; j++)
		len += (size_t) snprintf(msg + len, sizeof(msg) - len,
					 "X-Mailwarren-Stamp: forged %d\n", j);
	len += (size_t) snprintf(msg + len, sizeof(msg) - len, "\nbody\n");
	assert_true(len < sizeof(msg) - 1);
	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		scan_fields(&sc, B(SCORE) | B(MSGID) | B(STAMP), msg, len, steps[k]);
		assert_string_equal(spam_prefs_hdr_scan_field(&sc, SPAM_PREFS_HDR_STAMP), "real");
		assert_string_equal(spam_prefs_hdr_scan_field(&sc, SPAM_PREFS_HDR_MSGID), "<junk@x>");
		snprintf(want, sizeof(want), "%d", 1);
		assert_string_equal(spam_prefs_hdr_scan_value(&sc), want);
	}
	/* limits: a Message-ID up to 998 bytes, a stamp up to 255 */
	for (len = SPAM_PREFS_HDR_MSGID_MAX; len <= SPAM_PREFS_HDR_MSGID_MAX + 1; len++) {
		k = (size_t) snprintf(msg, sizeof(msg), "Message-ID: %0*d\nX-Mailwarren-Stamp: %0*d\n\n",
				      (int) len, 7, (int) (len - SPAM_PREFS_HDR_MSGID_MAX + SPAM_PREFS_HDR_VALUE_MAX), 7);
		scan_fields(&sc, B(MSGID) | B(STAMP), msg, k, 64);
		if (len == SPAM_PREFS_HDR_MSGID_MAX) {
			assert_int_equal(strlen(spam_prefs_hdr_scan_field(&sc, SPAM_PREFS_HDR_MSGID)), len);
			assert_int_equal(strlen(spam_prefs_hdr_scan_field(&sc, SPAM_PREFS_HDR_STAMP)),
					 SPAM_PREFS_HDR_VALUE_MAX);
		} else {
			assert_null(spam_prefs_hdr_scan_field(&sc, SPAM_PREFS_HDR_MSGID));
			assert_null(spam_prefs_hdr_scan_field(&sc, SPAM_PREFS_HDR_STAMP));
		}
	}
	/* From: the first one, folded, not From_ lines or near misses */
	len = (size_t) snprintf(msg, sizeof(msg), "Fro: x\nFrom-X: y\nFrom :\n \"Boss\" <boss@work.example>\n"
				"From: second@x\nX-Spam-Score: 2\n\n");
	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		scan_fields(&sc, B(FROM) | B(SCORE), msg, len, steps[k]);
		assert_string_equal(spam_prefs_hdr_scan_field(&sc, SPAM_PREFS_HDR_FROM),
				    "\"Boss\" <boss@work.example>");
		assert_string_equal(spam_prefs_hdr_scan_value(&sc), "2");
	}
	/* not a field */
	assert_null(spam_prefs_hdr_scan_field(&sc, SPAM_PREFS_HDR_COUNT));
}

/* write_key - a key file of mode mode in dir; its path */
static const char *
write_key(const char *dir, const char *name, const char *text, mode_t mode)
{
	static char path[4][512];
	static int slot;
	char   *p = path[slot++ % 4];
	FILE   *fp;

	snprintf(p, 512, "%s/%s", dir, name);
	assert_non_null(fp = fopen(p, "w"));
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

static void
test_parse_age(void **state)
{
	static const struct {
		const char *in;
		int	ret;
		long long secs;
	} cases[] = {
		{"0", 0, 0}, {"3600", 0, 3600}, {"90s", 0, 90}, {"90m", 0, 5400},
		{"36h", 0, 129600}, {"2d", 0, 172800}, {"3660d", 0, 3660LL * 86400},
		{"", -1, 0}, {"d", -1, 0}, {"-1", -1, 0}, {"1w", -1, 0},
		{"1 d", -1, 0}, {"1dd", -1, 0}, {"3661d", -1, 0},
		{"99999999999999999999", -1, 0}, {" 5", -1, 0},
	};
	long long v;
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -7;
		assert_int_equal(spam_prefs_parse_age(cases[i].in, &v), cases[i].ret);
		if (cases[i].ret == 0)
			assert_int_equal(v, cases[i].secs);
	}
}

static void
test_stamp(void **state)
{
	static const char k1hex[] = "000102030405060708090a0b0c0d0e0f\n";
	static const char k2hex[] = "f0e0d0c0b0a090807060504030201000\n";
	struct spam_prefs_stamp_keys keys, one;
	struct mw_stamp_key k1, k2;
	enum spam_prefs_reason why;
	char	dir[] = "/tmp/test_spam_prefs.XXXXXX";
	char	list[2048], err[512], stamp[MW_STAMP_VALUE_MAX];
	const char *f1, *f2, *fbad, *fopen_;
	long	milli;

	assert_non_null(mkdtemp(dir));
	f1 = write_key(dir, "k1", k1hex, 0640);
	f2 = write_key(dir, "k2", k2hex, 0600);
	fbad = write_key(dir, "bad", "xyz\n", 0600);
	fopen_ = write_key(dir, "open", k1hex, 0644);
	assert_int_equal(mw_stamp_key_parse(k1hex, &k1, NULL, 0), 0);
	assert_int_equal(mw_stamp_key_parse(k2hex, &k2, NULL, 0), 0);

	/* a list (rotation: old and new key), separated by blanks */
	snprintf(list, sizeof(list), "  %s\t%s ", f2, f1);
	assert_int_equal(spam_prefs_stamp_keys_load(list, &keys, err, sizeof(err)), 0);
	assert_int_equal(keys.n, 2);
	assert_int_equal(spam_prefs_stamp_keys_load(f1, &one, err, sizeof(err)), 0);
	assert_int_equal(one.n, 1);
	/* bad lists: the error names the file; no key is kept */
	snprintf(list, sizeof(list), "%s %s", f1, fbad);
	assert_int_equal(spam_prefs_stamp_keys_load(list, &keys, err, sizeof(err)), -1);
	assert_int_equal(keys.n, 0);
	assert_non_null(strstr(err, fbad));
	assert_int_equal(spam_prefs_stamp_keys_load(fopen_, &keys, err, sizeof(err)), -1);
	assert_non_null(strstr(err, fopen_));
	assert_non_null(strstr(err, "others"));
	snprintf(list, sizeof(list), "%s/missing", dir);
	assert_int_equal(spam_prefs_stamp_keys_load(list, &keys, err, sizeof(err)), -1);
	assert_non_null(strstr(err, list));
	assert_int_equal(spam_prefs_stamp_keys_load(" \t ", &keys, err, sizeof(err)), -1);
	snprintf(list, sizeof(list), "%s %s %s %s %s %s %s %s %s", f1, f1, f1, f1, f1, f1, f1, f1, f1);
	assert_int_equal(spam_prefs_stamp_keys_load(list, &keys, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than"));

	/* the check: the milter's stamp (mw_stamp_make) of 20 for <m@x> */
	snprintf(list, sizeof(list), "%s %s", f2, f1);
	assert_int_equal(spam_prefs_stamp_keys_load(list, &keys, err, sizeof(err)), 0);
	assert_int_equal(mw_stamp_make(&k1, "<m@x>", "20", 1700000000, stamp, sizeof(stamp)), 0);
	milli = 0;
	assert_int_equal(spam_prefs_stamp_score(&keys, stamp, " <m@x>", 1800000000, 0,
						&milli, &why, err, sizeof(err)), 0);
	assert_int_equal(milli, 20000);
	/* negative scores too, with the second key of the list */
	assert_int_equal(mw_stamp_make(&k2, "<n@x>", "-1.5", 1700000000, stamp, sizeof(stamp)), 0);
	assert_int_equal(spam_prefs_stamp_score(&keys, stamp, "<n@x>", 0, 0,
						&milli, &why, err, sizeof(err)), 0);
	assert_int_equal(milli, -1500);
	/* replayed onto another Message-ID, or none */
	assert_int_equal(spam_prefs_stamp_score(&keys, stamp, "<other@x>", 0, 0,
						&milli, &why, err, sizeof(err)), -1);
	assert_int_equal(why, SPAM_PREFS_REASON_BAD_STAMP);
	assert_non_null(strstr(err, "bad mac"));
	assert_int_equal(spam_prefs_stamp_score(&keys, stamp, NULL, 0, 0,
						&milli, &why, err, sizeof(err)), -1);
	assert_int_equal(why, SPAM_PREFS_REASON_BAD_STAMP);
	/* a key not on the list */
	assert_int_equal(spam_prefs_stamp_score(&one, stamp, "<n@x>", 0, 0,
						&milli, &why, err, sizeof(err)), -1);
	assert_int_equal(why, SPAM_PREFS_REASON_BAD_STAMP);
	/* forged: the score changed, or garbage */
	assert_int_equal(spam_prefs_stamp_score(&keys,
		"v=1; t=1700000000; score=-100; mac=0123456789abcdef", "<n@x>", 0, 0,
		&milli, &why, err, sizeof(err)), -1);
	assert_int_equal(why, SPAM_PREFS_REASON_BAD_STAMP);
	assert_int_equal(spam_prefs_stamp_score(&keys, "100", "<n@x>", 0, 0,
						&milli, &why, err, sizeof(err)), -1);
	assert_int_equal(why, SPAM_PREFS_REASON_BAD_STAMP);
	assert_non_null(strstr(err, "malformed"));
	/* max age: 3600 s; made at 1700000000 */
	assert_int_equal(spam_prefs_stamp_score(&keys, stamp, "<n@x>", 1700003600, 3600,
						&milli, &why, err, sizeof(err)), 0);
	assert_int_equal(spam_prefs_stamp_score(&keys, stamp, "<n@x>", 1700003601, 3600,
						&milli, &why, err, sizeof(err)), -1);
	assert_int_equal(why, SPAM_PREFS_REASON_BAD_STAMP);
	assert_non_null(strstr(err, "stale"));
	assert_int_equal(spam_prefs_stamp_score(&keys, stamp, "<n@x>", 1699999000, 3600,
						&milli, &why, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "stale"));	/* from the future */
	/* no stamp */
	assert_int_equal(spam_prefs_stamp_score(&keys, NULL, "<n@x>", 0, 0,
						&milli, &why, err, sizeof(err)), -1);
	assert_int_equal(why, SPAM_PREFS_REASON_NO_STAMP);
	assert_string_equal(spam_prefs_reason_name(SPAM_PREFS_REASON_NO_STAMP), "no-stamp");
	assert_string_equal(spam_prefs_reason_name(SPAM_PREFS_REASON_BAD_STAMP), "bad-stamp");
	assert_string_equal(spam_prefs_reason_name(SPAM_PREFS_REASON_KEY_ERROR), "stamp-key-error");

	unlink(f1);
	unlink(f2);
	unlink(fbad);
	unlink(fopen_);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_score),
		cmocka_unit_test(test_parse_action),
		cmocka_unit_test(test_list_match),
		cmocka_unit_test(test_list_glob),
		cmocka_unit_test(test_list_glob_hostile),
		cmocka_unit_test(test_list_match_any),
		cmocka_unit_test(test_list_check),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_format_score),
		cmocka_unit_test(test_hdr_scan),
		cmocka_unit_test(test_hdr_scan_fields),
		cmocka_unit_test(test_parse_age),
		cmocka_unit_test(test_stamp),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
