/*++
/* NAME
/*	fuzz_spam_prefs_list 1
/* SUMMARY
/*	libFuzzer target for the spam_prefs sender list matcher
/* DESCRIPTION
/*	The input is a list, a LF and a sender.  Checks that
/*	spam_prefs_list_match() ignores case (the upper-cased list and
/*	sender give the same answer) and that a list always matches a
/*	sender it names exactly.
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
	free(list);
	free(ulist);
	free(usender);
	return (0);
}
