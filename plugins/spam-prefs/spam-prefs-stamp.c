/* spam-prefs-stamp.c - spam_prefs_stamp_key_file and the stamp check:
   with the key set, the only score spam_prefs believes is the one in an
   X-Mailwarren-Stamp that verifies (mw_stamp(3): mailwarren-milter's
   keyed stamp over the score, the time and the Message-ID); X-Spam-Score
   headers are not looked at. No Dovecot dependency (unit tested by
   tests/unit/test_spam_prefs.c). */

#include <stdbool.h>
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

#define AGE_LIMIT (10LL * 366 * 86400)

/* spam_prefs_parse_age - "3600", "90m", "2d" */
int spam_prefs_parse_age(const char *str, long long *secs_r)
{
	long long v = 0, unit = 1;
	bool digits = false;

	for (; *str >= '0' && *str <= '9'; str++) {
		v = v * 10 + (*str - '0');
		if (v > AGE_LIMIT)
			return -1;
		digits = true;
	}
	switch (*str) {
	case 's': unit = 1; str++; break;
	case 'm': unit = 60; str++; break;
	case 'h': unit = 3600; str++; break;
	case 'd': unit = 86400; str++; break;
	default: break;
	}
	if (!digits || *str != '\0' || v * unit > AGE_LIMIT)
		return -1;
	*secs_r = v * unit;
	return 0;
}

/* spam_prefs_stamp_score - the verified score, or why there is none */
int spam_prefs_stamp_score(const struct spam_prefs_stamp_keys *keys,
			   const char *stamp, const char *msgid, long long now,
			   long long max_age, long *milli_r, enum spam_prefs_reason *reason_r,
			   char *err, size_t errlen)
{
	struct mw_stamp_info info;

	if (stamp == NULL) {
		*reason_r = SPAM_PREFS_REASON_NO_STAMP;
		snprintf(err, errlen, "no %s header", MW_STAMP_HEADER);
		return -1;
	}
	*reason_r = SPAM_PREFS_REASON_BAD_STAMP;
	if (mw_stamp_verify(keys->key, keys->n, stamp, msgid, now, max_age,
			    &info, err, errlen) < 0)
		return -1;
	/* mw_stamp's score syntax is a subset of spam_prefs_parse_score's */
	if (spam_prefs_parse_score(info.score_text, milli_r) < 0) {
		snprintf(err, errlen, "unusable score %s", info.score_text);
		return -1;
	}
	return 0;
}
