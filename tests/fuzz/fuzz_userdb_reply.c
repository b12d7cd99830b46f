/*++
/* NAME
/*	fuzz_userdb_reply 1
/* SUMMARY
/*	libFuzzer target for the auth-userdb (auth master) reply reader
/* DESCRIPTION
/*	Splits the input into lines as the clients do and feeds each to
/*	mw_userdb_reply() (lib/mw_userdb.c).  Checks that an answer has an
/*	id of 1..4294967295 that is exactly the decimal number on the line
/*	(no id is cut to 32 bits), and that every other result is one of
/*	the documented ones.  A USER line also goes through
/*	mw_account_from_reply() (lib/mw_account.c): the facts it keeps are
/*	clean (no control byte, no escape, lists within their bounds) or
/*	the account is refused, and mw_account_owns() never reads past
/*	them.
/*--*/

#include "config.h"

#include <limits.h>

#include "fuzz.h"
#include "mw_account.h"
#include "mw_userdb.h"

/* clean - printable ASCII only */

static int
clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
			return (0);
	return (1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_account acct;
	char   *buf = fuzz_str(data, size);
	char   *line = buf;
	char   *next;
	char   *tab;
	unsigned id;
	int	rc;

	while (*line != '\0') {
		next = fuzz_split(line, '\n');
		id = 0;
		rc = mw_userdb_reply(line, &id);
		fuzz_check(rc == MW_USERDB_OTHER || rc == MW_USERDB_BAD || rc == MW_USERDB_FOUND
			   || rc == MW_USERDB_NOTFOUND || rc == MW_USERDB_FAIL);
		if (rc != MW_USERDB_OTHER && rc != MW_USERDB_BAD) {
			tab = strchr(line, '\t');
			fuzz_check(tab != NULL && id != 0);
			fuzz_check(strtoull(tab + 1, NULL, 10) == id);
		}
		if (rc == MW_USERDB_FOUND) {
			mw_account_from_reply(&acct, rc, line);
			fuzz_check(acct.status == MW_ACCOUNT_FOUND || acct.status == MW_ACCOUNT_INVALID);
			if (acct.status == MW_ACCOUNT_FOUND) {
				fuzz_check(clean(acct.senders) && clean(acct.customer));
				fuzz_check(strchr(acct.customer, ' ') == NULL);
				(void) mw_account_owns(&acct, "user+tag@example.com");
			} else {
				fuzz_check(acct.field != NULL && acct.why != NULL);
			}
		}
		line = next;
	}
	free(buf);
	return (0);
}
