/*++
/* NAME
/*	fuzz_spam_prefs_score 1
/* SUMMARY
/*	libFuzzer target for the spam_prefs score parser
/* DESCRIPTION
/*	Parses the input (up to its first NUL) with
/*	spam_prefs_parse_score().  Checks the documented bound (a score
/*	within +-1000000, in thousandths), that the formatted score
/*	parses back to the same number, and that the decision table
/*	answers for it (score against itself is spam).
/*--*/

#include "config.h"

#include "fuzz.h"
#include "spam-prefs-util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	buf[SPAM_PREFS_SCORE_BUF];
	char   *s = fuzz_str(data, size);
	struct spam_prefs_decision d;
	long	milli = 0;
	long	again = 0;
	const char *shown;

	if (spam_prefs_parse_score(s, &milli) == 0) {
		fuzz_check(milli >= -1000000L * 1000 - 999 && milli <= 1000000L * 1000 + 999);
		shown = spam_prefs_format_score(milli, buf);
		fuzz_check(shown >= buf && shown < buf + sizeof(buf));
		fuzz_check(spam_prefs_parse_score(shown, &again) == 0 && again == milli);
		d = spam_prefs_decide(false, false, true, milli, milli, milli);
		fuzz_check(d.spam && d.reason == SPAM_PREFS_REASON_SCORE);
	}
	free(s);
	return (0);
}
