/*++
/* NAME
/*	fuzz_userdb_reply 1
/* SUMMARY
/*	libFuzzer target for the auth-userdb (auth master) reply reader
/* DESCRIPTION
/*	Splits the input into lines as userdb_replies() does and feeds
/*	each to policy_userdb_reply().  Checks that an answer has an id
/*	of 1..4294967295 that is exactly the decimal number on the line
/*	(no id is cut to 32 bits), and that every other result is one
/*	of the documented ones.
/*--*/

#include "config.h"

#include <limits.h>

#include "fuzz.h"
#include "policy_reply.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char   *buf = fuzz_str(data, size);
	char   *line = buf;
	char   *next;
	char   *tab;
	unsigned id;
	int	rc;

	while (*line != '\0') {
		next = fuzz_split(line, '\n');
		id = 0;
		rc = policy_userdb_reply(line, &id);
		fuzz_check(rc == POLICY_REPLY_OTHER || rc == POLICY_REPLY_BAD || rc == POLICY_USER_FOUND
			   || rc == POLICY_USER_UNKNOWN || rc == POLICY_USER_ERROR);
		if (rc != POLICY_REPLY_OTHER && rc != POLICY_REPLY_BAD) {
			tab = strchr(line, '\t');
			fuzz_check(tab != NULL && id != 0);
			fuzz_check(strtoull(tab + 1, NULL, 10) == id);
		}
		line = next;
	}
	free(buf);
	return (0);
}
