/*++
/* NAME
/*	fuzz_spam_prefs_hdr 1
/* SUMMARY
/*	libFuzzer target for the spam_prefs X-Spam-Score header scanner
/* DESCRIPTION
/*	The first input byte chooses a piece size (1..64); the rest is a
/*	message, fed to spam_prefs_hdr_scan() in pieces of that size as
/*	the plugin feeds a mail stream.  Checks that the scanner never
/*	claims more bytes than it was given, that a value is printable
/*	of at most SPAM_PREFS_HDR_VALUE_MAX bytes, and that the result
/*	does not depend on the piece size (the whole message in one
/*	piece gives the same value); the same for every field at once
/*	(X-Spam-Score, Message-ID, X-Mailwarren-Stamp, From), each
/*	within its field's limit.
/*--*/

#include "config.h"

#include "fuzz.h"
#include "spam-prefs-util.h"

static const char *
scan_fields(struct spam_prefs_hdr_scan *s, unsigned int wanted,
	    const unsigned char *msg, size_t len, size_t piece)
{
	size_t	off = 0;
	size_t	n;
	size_t	used;

	spam_prefs_hdr_scan_init_fields(s, wanted);
	while (off < len) {
		n = len - off < piece ? len - off : piece;
		used = spam_prefs_hdr_scan(s, msg + off, n);
		fuzz_check(used <= n);
		off += n;
		if (used < n)
			break;
	}
	return (spam_prefs_hdr_scan_value(s));
}

static const char *
scan(struct spam_prefs_hdr_scan *s, const unsigned char *msg, size_t len, size_t piece)
{
	return (scan_fields(s, SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_SCORE), msg, len, piece));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spam_prefs_hdr_scan a;
	struct spam_prefs_hdr_scan b;
	unsigned char *msg;
	const char *va;
	const char *vb;

	if (size < 1)
		return (0);
	if ((msg = malloc(size)) == NULL)
		return (0);
	memcpy(msg, data + 1, size - 1);
	va = scan(&a, msg, size - 1, (size_t) (data[0] % 64) + 1);
	vb = scan(&b, msg, size - 1, size);
	fuzz_check((va == NULL) == (vb == NULL));
	if (va != NULL) {
		fuzz_check(strlen(va) <= SPAM_PREFS_HDR_VALUE_MAX);
		fuzz_check(strcmp(va, vb) == 0);
	}
	/* every field at once */
	scan_fields(&a, SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_COUNT) - 1, msg, size - 1,
		    (size_t) (data[0] % 64) + 1);
	scan_fields(&b, SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_COUNT) - 1, msg, size - 1, size);
	for (unsigned int f = 0; f < SPAM_PREFS_HDR_COUNT; f++) {
		va = spam_prefs_hdr_scan_field(&a, (enum spam_prefs_hdr_field) f);
		vb = spam_prefs_hdr_scan_field(&b, (enum spam_prefs_hdr_field) f);
		fuzz_check((va == NULL) == (vb == NULL));
		if (va != NULL) {
			fuzz_check(strlen(va) <= SPAM_PREFS_HDR_MSGID_MAX);
			fuzz_check(strcmp(va, vb) == 0);
		}
	}
	free(msg);
	return (0);
}
