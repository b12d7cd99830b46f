#ifndef SPAM_PREFS_UTIL_H
#define SPAM_PREFS_UTIL_H

/* spam-prefs-util.h - spam_prefs decisions, no Dovecot dependency */

#include <stdbool.h>
#include <stddef.h>

#define SPAM_PREFS_DEFAULT_THRESHOLD "5.0"
#define SPAM_PREFS_DEFAULT_MAILBOX "Junk"
/* an allow entry is honoured only below this score (spam_prefs(7)
   FORGED SENDERS) */
#define SPAM_PREFS_DEFAULT_ALLOW_MAX_SCORE "15"

enum spam_prefs_action {
	SPAM_PREFS_ACTION_JUNK,		/* file into spam_prefs_mailbox */
	SPAM_PREFS_ACTION_DISCARD,	/* accept, store nowhere */
	SPAM_PREFS_ACTION_KEEP,		/* deliver as usual, log only */
};

enum spam_prefs_reason {
	SPAM_PREFS_REASON_NO_SCORE,	/* no (usable) X-Spam-Score: INBOX */
	SPAM_PREFS_REASON_BELOW,	/* score below threshold: INBOX */
	SPAM_PREFS_REASON_SCORE,	/* score at or above threshold: action */
	SPAM_PREFS_REASON_ALLOW,	/* sender on the allow list: INBOX */
	SPAM_PREFS_REASON_DENY,		/* sender on the deny list: action */
	/* with spam_prefs_stamp_key_file (spam-prefs-stamp.h): no score
	   believed, INBOX */
	SPAM_PREFS_REASON_NO_STAMP,	/* no X-Mailwarren-Stamp */
	SPAM_PREFS_REASON_BAD_STAMP,	/* a stamp that does not verify */
	SPAM_PREFS_REASON_KEY_ERROR,	/* the key file(s) could not be read */
};

struct spam_prefs_decision {
	enum spam_prefs_reason reason;
	bool spam;			/* apply the action */
	bool allow_ignored;		/* allowed, but scored at or above the
					   allow bound */
};

/* "7.3", "-0.5", "+12", " 5 " -> thousandths (extra digits are cut);
   -1 for anything else, or beyond +-1000000. No locale involved. */
int spam_prefs_parse_score(const char *str, long *milli_r);
/* Thousandths as a decimal with three digits after the point, for the
   log line ("-0.500"); buf has room for any long. */
#define SPAM_PREFS_SCORE_BUF 32
const char *spam_prefs_format_score(long milli, char *buf);
int spam_prefs_parse_action(const char *str, enum spam_prefs_action *action_r);
const char *spam_prefs_action_name(enum spam_prefs_action action);
const char *spam_prefs_reason_name(enum spam_prefs_reason reason);

/* Sender (NULL for the null sender <>) on an allow or deny list: entries
   separated by white space or commas, each either "@domain" (the
   sender's domain, exactly) or a SpamAssassin whitelist_from pattern
   matched against the whole address ("boss@example.com",
   "*@example.com", "joe@*.example.org": '*' any string, '?' any one
   byte, everything else itself), all ignoring ASCII case. The time is
   bounded by the list's length times the sender's, whatever the
   patterns. */
bool spam_prefs_list_match(const char *list, const char *sender);
/* The first of count addresses (NULL entries skipped) on the list, or -1 */
int spam_prefs_list_match_any(const char *list, const char *const *addrs,
			      unsigned int count);

/* An allow or deny list as it came from the userdb (a directory the user
   writes): 0 if usable, or -1 with why (NUL-terminated, at most whysize
   bytes) when it is longer than SPAM_PREFS_LIST_MAX bytes or holds a
   control character (a byte below 0x20 other than tab, or DEL). */
#define SPAM_PREFS_LIST_MAX 4000
int spam_prefs_list_check(const char *list, char *why, size_t whysize);

/* The first X-Spam-Score field of a message header (and, on request,
   the first Message-ID and X-Mailwarren-Stamp fields), found by feeding
   the message from its first byte in pieces of any size, up to the empty
   line that ends the header (the body is never looked at). Names match
   ignoring case, with optional blanks before the colon; folded lines are
   unfolded (line breaks dropped, blanks kept, except those before the
   first character of the value), CRs dropped, NULs turned into 0x80. A
   value longer than its field's limit is unusable: SPAM_PREFS_HDR_VALUE_MAX
   bytes for a score or a stamp (a few dozen characters),
   SPAM_PREFS_HDR_MSGID_MAX for a Message-ID or a From (RFC 5322's line
   length). */
#define SPAM_PREFS_HDR_VALUE_MAX 255
#define SPAM_PREFS_HDR_MSGID_MAX 998

enum spam_prefs_hdr_field {
	SPAM_PREFS_HDR_SCORE,		/* X-Spam-Score */
	SPAM_PREFS_HDR_MSGID,		/* Message-ID */
	SPAM_PREFS_HDR_STAMP,		/* X-Mailwarren-Stamp */
	SPAM_PREFS_HDR_FROM,		/* From (for the allow/deny lists) */
	SPAM_PREFS_HDR_COUNT
};
#define SPAM_PREFS_HDR_BIT(field) (1U << (field))

struct spam_prefs_hdr_scan {
	int state;			/* where in a line we are */
	unsigned int matched;		/* bytes of the field name seen */
	unsigned int candidates;	/* wanted names still matching */
	unsigned int wanted;		/* SPAM_PREFS_HDR_BIT()s to find */
	unsigned int found;		/* ... found (the first of each) */
	int cur;			/* field being read, or -1 */
	bool done;			/* nothing more to read */
	struct {
		bool too_long;
		size_t len;
		char value[SPAM_PREFS_HDR_MSGID_MAX + 1];
	} f[SPAM_PREFS_HDR_COUNT];
};

/* X-Spam-Score only */
void spam_prefs_hdr_scan_init(struct spam_prefs_hdr_scan *scan);
/* The fields of a mask of SPAM_PREFS_HDR_BIT()s (not 0) */
void spam_prefs_hdr_scan_init_fields(struct spam_prefs_hdr_scan *scan,
				     unsigned int wanted);
/* Feeds size bytes; returns how many were used. Once scan->done (every
   wanted field read, or the header ended), the rest of the message need
   not be fed. */
size_t spam_prefs_hdr_scan(struct spam_prefs_hdr_scan *scan,
			   const unsigned char *data, size_t size);
/* The X-Spam-Score value after the last byte (or end of input): NULL if
   the header has no X-Spam-Score field or its value is too long. */
const char *spam_prefs_hdr_scan_value(struct spam_prefs_hdr_scan *scan);
/* The same for any wanted field. */
const char *spam_prefs_hdr_scan_field(struct spam_prefs_hdr_scan *scan,
				      enum spam_prefs_hdr_field field);

/* The decision: allow wins (unless the score is at or above allow_max:
   then allow_ignored, and the table goes on), then deny, then the score.
   Scores in thousandths. */
struct spam_prefs_decision
spam_prefs_decide(bool allowed, bool denied, bool have_score,
		  long score, long threshold, long allow_max);

#endif
