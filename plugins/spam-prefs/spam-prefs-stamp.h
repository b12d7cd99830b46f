#ifndef SPAM_PREFS_STAMP_H
#define SPAM_PREFS_STAMP_H

/* spam-prefs-stamp.h - spam_prefs_stamp_key_file: the keys, and the score
   of a message's X-Mailwarren-Stamp (lib/mw_stamp.c), no Dovecot
   dependency */

#include <stddef.h>
#include "mw_stamp.h"
#include "spam-prefs-util.h"

#define SPAM_PREFS_STAMP_KEYS_MAX 8	/* files in spam_prefs_stamp_key_file */

struct spam_prefs_stamp_keys {
	size_t n;
	struct mw_stamp_key key[SPAM_PREFS_STAMP_KEYS_MAX];
};

/* Loads each file of a list separated by white space (mw_stamp_key_load:
   32 hex digits, not readable by others). 0, or -1 with err naming the
   file that failed (or the list: empty, too many files) and keys->n 0. */
int spam_prefs_stamp_keys_load(const char *files,
			       struct spam_prefs_stamp_keys *keys,
			       char *err, size_t errlen);

/* spam_prefs_stamp_max_age: seconds, with an optional unit s, m, h or d
   ("2d"); 0 for no limit. 0 with *secs_r, or -1 (not such a value, or
   beyond 10 years). */
int spam_prefs_parse_age(const char *str, long long *secs_r);

/* The score a message's stamp carries: 0 with *milli_r when stamp (the
   first X-Mailwarren-Stamp value, NULL if none) verifies against msgid
   (the first Message-ID value, NULL if none) with one of the keys and,
   with max_age > 0, was made at most max_age seconds before now (and no
   more than 300 s after it); -1
   otherwise, with *reason_r SPAM_PREFS_REASON_NO_STAMP (no stamp) or
   SPAM_PREFS_REASON_BAD_STAMP (err says why: malformed, no Message-ID,
   stale, bad mac - forged, replayed from another message, another key). */
int spam_prefs_stamp_score(const struct spam_prefs_stamp_keys *keys,
			   const char *stamp, const char *msgid, long long now,
			   long long max_age, long *milli_r, enum spam_prefs_reason *reason_r,
			   char *err, size_t errlen);

#endif
