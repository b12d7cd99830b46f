/* spam-prefs-stamp.c - spam_prefs_stamp_key_file and the stamp check:
   with the key set, the only score spam_prefs believes is the one in an
   X-Mailwarren-Stamp that verifies (mw_stamp(3): mailwarren-milter's
   keyed stamp over the score, the time and the Message-ID); X-Spam-Score
   headers are not looked at. No Dovecot dependency (unit tested by
   tests/unit/test_spam_prefs.c). */

#include <stdio.h>
#include <string.h>

#include "spam-prefs-stamp.h"

/* spam_prefs_stamp_keys_load - every key of the list, or none */
int spam_prefs_stamp_keys_load(const char *files,
			       struct spam_prefs_stamp_keys *keys,
			       char *err, size_t errlen)
{
	char path[4096];
	size_t len;

	keys->n = 0;
	for (;;) {
		files += strspn(files, " \t,");
		if (*files == '\0')
			break;
		len = strcspn(files, " \t,");
		if (len >= sizeof(path)) {
			snprintf(err, errlen, "spam_prefs_stamp_key_file: "
				 "a path is too long");
			keys->n = 0;
			return -1;
		}
		if (keys->n == SPAM_PREFS_STAMP_KEYS_MAX) {
			snprintf(err, errlen, "spam_prefs_stamp_key_file: "
				 "more than %d files", SPAM_PREFS_STAMP_KEYS_MAX);
			keys->n = 0;
			return -1;
		}
		memcpy(path, files, len);
		path[len] = '\0';
		if (mw_stamp_key_load(path, &keys->key[keys->n], err, errlen) < 0) {
			keys->n = 0;
			return -1;	/* err starts with the path */
		}
		keys->n++;
		files += len;
	}
	if (keys->n == 0) {
		snprintf(err, errlen, "spam_prefs_stamp_key_file: no file");
		return -1;
	}
	return 0;
}

/* spam_prefs_stamp_score - the verified score, or why there is none */
int spam_prefs_stamp_score(const struct spam_prefs_stamp_keys *keys,
			   const char *stamp, const char *msgid, long long now,
			   long *milli_r, enum spam_prefs_reason *reason_r,
			   char *err, size_t errlen)
{
	struct mw_stamp_info info;

	if (stamp == NULL) {
		*reason_r = SPAM_PREFS_REASON_NO_STAMP;
		snprintf(err, errlen, "no %s header", MW_STAMP_HEADER);
		return -1;
	}
	*reason_r = SPAM_PREFS_REASON_BAD_STAMP;
	if (mw_stamp_verify(keys->key, keys->n, stamp, msgid, now, 0,
			    &info, err, errlen) < 0)
		return -1;
	/* mw_stamp's score syntax is a subset of spam_prefs_parse_score's */
	if (spam_prefs_parse_score(info.score_text, milli_r) < 0) {
		snprintf(err, errlen, "unusable score %s", info.score_text);
		return -1;
	}
	return 0;
}
