/*++
/* NAME
/*	fuzz_spam_prefs_list 1
/* SUMMARY
/*	libFuzzer target for the spam_prefs sender list matcher
/* DESCRIPTION
/*	The input is a list, a LF and a sender.  Checks that
/*	spam_prefs_list_match() ignores case (the upper-cased list and
/*	sender give the same answer), that a list always matches a
/*	sender it names exactly (a SpamAssassin glob matches itself),
/*	that "*" matches every sender, and that spam_prefs_list_check()
/*	passes only lists within SPAM_PREFS_LIST_MAX bytes.  The seeds
/*	include SpamAssassin whitelist_from globs and hostile patterns
/*	("*a*a*a...b" against a long run of a's): libFuzzer's -timeout
/*	catches a matcher that is not linear in each of its inputs.
/*--*/

#include "config.h"

#include <ctype.h>

#include "fuzz.h"
#include "spam-prefs-util.h"

static void
upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char) (*s - 'a' + 'A');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char   *list = fuzz_str(data, size);
	char   *sender = fuzz_split(list, '\n');
	char   *ulist = strdup(list);
	char   *usender = strdup(sender);
	char	why[128];
	bool	m;

	if (ulist == NULL || usender == NULL)
		abort();
	m = spam_prefs_list_match(list, sender);
	upper(ulist);
	upper(usender);
	fuzz_check(spam_prefs_list_match(ulist, usender) == m);
	/* a sender without separators, listed on its own, matches */
	if (*sender != '\0' && strcspn(sender, " \t,\r\n") == strlen(sender) && *sender != '@')
		fuzz_check(spam_prefs_list_match(sender, sender));
	fuzz_check(spam_prefs_list_match("*", sender) == (*sender != '\0'));
	if (spam_prefs_list_check(list, why, sizeof(why)) == 0)
		fuzz_check(strlen(list) <= SPAM_PREFS_LIST_MAX);
	else
		fuzz_check(why[0] != '\0');
	free(list);
	free(ulist);
	free(usender);
	return (0);
}
