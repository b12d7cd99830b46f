/* spam-prefs-util.c - spam_prefs decisions: score parsing, sender lists
   and the decision table, with no Dovecot dependency (unit tested by
   tests/unit/test_spam_prefs.c).

   Decision, first match wins:
     sender on spam_prefs_allow      -> INBOX        (reason allow)
       (unless scored at or above spam_prefs_allow_max_score)
     sender on spam_prefs_deny       -> the action   (reason deny)
     no or unparsable X-Spam-Score   -> INBOX        (reason no-score)
     score >= spam_prefs_threshold   -> the action   (reason score)
     otherwise                       -> INBOX        (reason below) */

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spam-prefs-util.h"

#define SCORE_LIMIT 1000000L	/* scores are tens; bound the arithmetic */

/* spam_prefs_parse_score - locale-free decimal to thousandths */
int spam_prefs_parse_score(const char *str, long *milli_r)
{
	long ip = 0, frac = 0, scale = 1000;
	bool neg = false, digits = false;

	while (*str == ' ' || *str == '\t')
		str++;
	if (*str == '-' || *str == '+')
		neg = *str++ == '-';
	for (; *str >= '0' && *str <= '9'; str++) {
		ip = ip * 10 + (*str - '0');
		if (ip > SCORE_LIMIT)
			return -1;
		digits = true;
	}
	if (*str == '.') {
		for (str++; *str >= '0' && *str <= '9'; str++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*str - '0') * scale;
			}
			digits = true;
		}
	}
	while (*str == ' ' || *str == '\t')
		str++;
	if (!digits || *str != '\0')
		return -1;
	*milli_r = (neg ? -1 : 1) * (ip * 1000 + frac);
	return 0;
}

/* spam_prefs_format_score - thousandths to "[-]N.NNN" */
const char *spam_prefs_format_score(long milli, char *buf)
{
	unsigned long v = milli < 0 ? 0UL - (unsigned long) milli
		: (unsigned long) milli;
	char *cp = buf + SPAM_PREFS_SCORE_BUF - 1;
	int digits = 0;

	*cp = '\0';
	do {
		if (digits++ == 3)
			*--cp = '.';
		*--cp = (char) ('0' + v % 10);
		v /= 10;
	} while (v > 0 || digits < 4);
	if (milli < 0)
		*--cp = '-';
	return cp;
}

/* spam_prefs_parse_action - junk|discard|keep */
int spam_prefs_parse_action(const char *str, enum spam_prefs_action *action_r)
{
	if (strcmp(str, "junk") == 0)
		*action_r = SPAM_PREFS_ACTION_JUNK;
	else if (strcmp(str, "discard") == 0)
		*action_r = SPAM_PREFS_ACTION_DISCARD;
	else if (strcmp(str, "keep") == 0)
		*action_r = SPAM_PREFS_ACTION_KEEP;
	else
		return -1;
	return 0;
}

/* spam_prefs_action_name - for the log line */
const char *spam_prefs_action_name(enum spam_prefs_action action)
{
	switch (action) {
	case SPAM_PREFS_ACTION_JUNK:
		return "junk";
	case SPAM_PREFS_ACTION_DISCARD:
		return "discard";
	case SPAM_PREFS_ACTION_KEEP:
		break;
	}
	return "keep";
}

/* spam_prefs_reason_name - for the log line */
const char *spam_prefs_reason_name(enum spam_prefs_reason reason)
{
	switch (reason) {
	case SPAM_PREFS_REASON_BELOW:
		return "below-threshold";
	case SPAM_PREFS_REASON_SCORE:
		return "score";
	case SPAM_PREFS_REASON_ALLOW:
		return "allow";
	case SPAM_PREFS_REASON_DENY:
		return "deny";
	case SPAM_PREFS_REASON_NO_STAMP:
		return "no-stamp";
	case SPAM_PREFS_REASON_BAD_STAMP:
		return "bad-stamp";
	case SPAM_PREFS_REASON_KEY_ERROR:
		return "stamp-key-error";
	case SPAM_PREFS_REASON_NO_SCORE:
		break;
	}
	return "no-score";
}

/* The header scanner's states: at the start of a line, after a CR at
   the start of a line, in a field name, between the name and the colon,
   in a wanted field's value, in any other line. */
enum {
	HDR_LINE_START, HDR_LINE_CR, HDR_NAME, HDR_NAME_BLANK, HDR_VALUE,
	HDR_SKIP,
};

/* by enum spam_prefs_hdr_field; no name is a prefix of another */
static const struct {
	const char *name;		/* lower case */
	size_t len, max;
} hdr_fields[SPAM_PREFS_HDR_COUNT] = {
	{ "x-spam-score", 12, SPAM_PREFS_HDR_VALUE_MAX },
	{ "message-id", 10, SPAM_PREFS_HDR_MSGID_MAX },
	{ "x-mailwarren-stamp", 18, SPAM_PREFS_HDR_VALUE_MAX },
	{ "from", 4, SPAM_PREFS_HDR_MSGID_MAX },
};

/* spam_prefs_hdr_scan_init_fields - before the first byte */
void spam_prefs_hdr_scan_init_fields(struct spam_prefs_hdr_scan *scan,
				     unsigned int wanted)
{
	scan->state = HDR_LINE_START;
	scan->matched = 0;
	scan->candidates = 0;
	scan->wanted = wanted & (SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_COUNT) - 1);
	scan->found = 0;
	scan->cur = -1;
	scan->done = false;
	for (unsigned int i = 0; i < SPAM_PREFS_HDR_COUNT; i++) {
		scan->f[i].too_long = false;
		scan->f[i].len = 0;
		scan->f[i].value[0] = '\0';
	}
}

/* spam_prefs_hdr_scan_init - X-Spam-Score only */
void spam_prefs_hdr_scan_init(struct spam_prefs_hdr_scan *scan)
{
	spam_prefs_hdr_scan_init_fields(scan,
		SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_SCORE));
}

/* hdr_lower - ASCII lower case, no locale */
static char hdr_lower(unsigned char c)
{
	return (char) (c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c);
}

/* hdr_value_add - one byte of the current field's value */
static void hdr_value_add(struct spam_prefs_hdr_scan *scan, unsigned char c)
{
	unsigned int i = (unsigned int) scan->cur;

	if (scan->f[i].len == 0 && (c == ' ' || c == '\t'))
		return;		/* the blanks after the colon */
	if (scan->f[i].len == hdr_fields[i].max) {
		scan->f[i].too_long = true;
		return;
	}
	scan->f[i].value[scan->f[i].len++] = c == '\0' ? (char) 0x80 : (char) c;
}

/* hdr_name_byte - one more byte of a field name: narrows the candidates */
static void hdr_name_byte(struct spam_prefs_hdr_scan *scan, unsigned char c)
{
	char lc = hdr_lower(c);

	for (unsigned int i = 0; i < SPAM_PREFS_HDR_COUNT; i++) {
		if ((scan->candidates & SPAM_PREFS_HDR_BIT(i)) != 0 &&
		    (scan->matched >= hdr_fields[i].len ||
		     hdr_fields[i].name[scan->matched] != lc))
			scan->candidates &= ~SPAM_PREFS_HDR_BIT(i);
	}
	scan->matched++;
}

/* hdr_name_end - the candidate whose whole name was seen, or -1 */
static int hdr_name_end(const struct spam_prefs_hdr_scan *scan)
{
	for (unsigned int i = 0; i < SPAM_PREFS_HDR_COUNT; i++) {
		if ((scan->candidates & SPAM_PREFS_HDR_BIT(i)) != 0 &&
		    scan->matched == hdr_fields[i].len)
			return (int) i;
	}
	return -1;
}

/* hdr_value_start - the colon after a wanted name */
static void hdr_value_start(struct spam_prefs_hdr_scan *scan, int field)
{
	scan->cur = field;
	scan->found |= SPAM_PREFS_HDR_BIT(field);
	scan->state = HDR_VALUE;
}

/* spam_prefs_hdr_scan - feed bytes of the message */
size_t spam_prefs_hdr_scan(struct spam_prefs_hdr_scan *scan,
			   const unsigned char *data, size_t size)
{
	const unsigned char *p = data, *end = data + size, *nl, *stop;
	unsigned char c;
	int field;

	while (p < end && !scan->done) {
		/* the rest of a line: to its end in one step */
		if (scan->state == HDR_SKIP || scan->state == HDR_VALUE) {
			nl = memchr(p, '\n', (size_t) (end - p));
			stop = nl == NULL ? end : nl;
			if (scan->state == HDR_VALUE) {
				for (; p < stop; p++) {
					if (*p != '\r')
						hdr_value_add(scan, *p);
				}
			}
			p = stop;
			if (nl != NULL) {
				scan->state = HDR_LINE_START;
				p++;
			}
			continue;
		}
		c = *p++;
		switch (scan->state) {
		case HDR_LINE_START:
			if (c == ' ' || c == '\t') {
				/* a continuation line: part of the value if the
				   previous line was a wanted field */
				if (scan->cur >= 0)
					hdr_value_add(scan, c);
				scan->state = scan->cur >= 0 ? HDR_VALUE : HDR_SKIP;
				break;
			}
			/* a field that was read ended here */
			scan->cur = -1;
			if (scan->found == scan->wanted || c == '\n') {
				/* every wanted field read, or the header ended */
				scan->done = true;
				p--;
				break;
			}
			if (c == '\r') {
				scan->state = HDR_LINE_CR;
				break;
			}
			/* the first of each wanted field only */
			scan->candidates = scan->wanted & ~scan->found;
			scan->matched = 0;
			scan->state = HDR_NAME;
			/* fall through */
		case HDR_NAME:
			if (c == '\n') {
				scan->state = HDR_LINE_START;
			} else if (c == ':' || c == ' ' || c == '\t') {
				if ((field = hdr_name_end(scan)) < 0)
					scan->state = HDR_SKIP;
				else if (c == ':')
					hdr_value_start(scan, field);
				else
					scan->state = HDR_NAME_BLANK;
			} else {
				hdr_name_byte(scan, c);
				if (scan->candidates == 0)
					scan->state = HDR_SKIP;
			}
			break;
		case HDR_LINE_CR:
			/* CR LF: the empty line; CR and more: some other line */
			if (c == '\n')
				scan->done = true;
			else
				scan->state = HDR_SKIP;
			break;
		case HDR_NAME_BLANK:
			if (c == ':')
				hdr_value_start(scan, hdr_name_end(scan));
			else if (c == '\n')
				scan->state = HDR_LINE_START;
			else if (c != ' ' && c != '\t')
				scan->state = HDR_SKIP;
			break;
		}
	}
	return (size_t) (p - data);
}

/* spam_prefs_hdr_scan_field - a wanted field's value found, or NULL */
const char *spam_prefs_hdr_scan_field(struct spam_prefs_hdr_scan *scan,
				      enum spam_prefs_hdr_field field)
{
	if ((unsigned int) field >= SPAM_PREFS_HDR_COUNT ||
	    (scan->found & SPAM_PREFS_HDR_BIT(field)) == 0 ||
	    scan->f[field].too_long)
		return NULL;
	scan->f[field].value[scan->f[field].len] = '\0';
	return scan->f[field].value;
}

/* spam_prefs_hdr_scan_value - the X-Spam-Score value found, or NULL */
const char *spam_prefs_hdr_scan_value(struct spam_prefs_hdr_scan *scan)
{
	return spam_prefs_hdr_scan_field(scan, SPAM_PREFS_HDR_SCORE);
}

/* glob_lower - ASCII lower case, no locale */
static unsigned char glob_lower(unsigned char c)
{
	return (unsigned char) (c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c);
}

/* glob_match - the whole of str against a SpamAssassin address pattern
   ('*' any string, '?' any one byte, anything else itself, ignoring ASCII
   case).

   The greedy scan that, on a mismatch, only moves the last '*' one byte
   further: a later '*' can absorb anything an earlier one could, so no
   older choice needs revisiting, and the work is at most
   pattern length x string length ("*a*a*a*...b" against a long run of
   a's included), never exponential. */
static bool
glob_match(const char *pat, size_t plen, const char *str, size_t slen)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, star_si = 0;

	while (si < slen) {
		if (pi < plen && pat[pi] == '*') {
			/* remember it; first try matching nothing */
			star = ++pi;
			star_si = si;
		} else if (pi < plen && (pat[pi] == '?' ||
			   glob_lower((unsigned char) pat[pi]) ==
			   glob_lower((unsigned char) str[si]))) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			/* the last '*' takes one more byte */
			pi = star;
			si = ++star_si;
		} else {
			return false;
		}
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

/* entry_match - one list entry: "@domain" or a pattern */
static bool entry_match(const char *entry, size_t len, const char *sender)
{
	const char *at;

	if (len == 0)
		return false;
	if (entry[0] == '@') {
		/* the sender's domain, exactly */
		at = strrchr(sender, '@');
		return at != NULL && strlen(at) == len &&
			strncasecmp(at, entry, len) == 0;
	}
	return glob_match(entry, len, sender, strlen(sender));
}

/* spam_prefs_list_match - sender on an allow or deny list */
bool spam_prefs_list_match(const char *list, const char *sender)
{
	size_t len;

	if (list == NULL || sender == NULL || *sender == '\0')
		return false;
	while (*list != '\0') {
		len = strcspn(list, " \t,");
		if (entry_match(list, len, sender))
			return true;
		list += len;
		list += strspn(list, " \t,");
	}
	return false;
}

/* spam_prefs_list_match_any - the first of several addresses listed */
int spam_prefs_list_match_any(const char *list, const char *const *addrs,
			      unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		if (spam_prefs_list_match(list, addrs[i]))
			return (int) i;
	}
	return -1;
}

/* spam_prefs_list_check - a list from the directory, before any use */
int spam_prefs_list_check(const char *list, char *why, size_t whysize)
{
	size_t len = strlen(list);
	const unsigned char *p;

	if (len > SPAM_PREFS_LIST_MAX) {
		snprintf(why, whysize, "%zu bytes long, over the limit of %d",
			 len, SPAM_PREFS_LIST_MAX);
		return -1;
	}
	for (p = (const unsigned char *) list; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			snprintf(why, whysize, "control character 0x%02x at "
				 "byte %zu", *p,
				 (size_t) (p - (const unsigned char *) list));
			return -1;
		}
	}
	return 0;
}

/* spam_prefs_decide - the decision table above */
struct spam_prefs_decision
spam_prefs_decide(bool allowed, bool denied, bool have_score,
		  long score, long threshold, long allow_max)
{
	struct spam_prefs_decision d;

	/* a (forgeable) allowed sender does not rescue certain spam */
	d.allow_ignored = allowed && have_score && score >= allow_max;
	if (d.allow_ignored)
		allowed = false;
	if (allowed)
		d.reason = SPAM_PREFS_REASON_ALLOW;
	else if (denied)
		d.reason = SPAM_PREFS_REASON_DENY;
	else if (!have_score)
		d.reason = SPAM_PREFS_REASON_NO_SCORE;
	else if (score >= threshold)
		d.reason = SPAM_PREFS_REASON_SCORE;
	else
		d.reason = SPAM_PREFS_REASON_BELOW;
	d.spam = d.reason == SPAM_PREFS_REASON_DENY ||
		d.reason == SPAM_PREFS_REASON_SCORE;
	return d;
}
