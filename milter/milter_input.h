/*++
/* NAME
/*	milter_input 3h
/* SUMMARY
/*	what the MTA hands mailwarren-milter: header lines, addresses
/* SYNOPSIS
/*	#include "milter_input.h"
/* DESCRIPTION
/*	See milter_input.c.  Pure functions without libmilter, so that
/*	the fuzz target (tests/fuzz/fuzz_milter_hdr.c) links them alone.
/*--*/
#ifndef MILTER_INPUT_H
#define MILTER_INPUT_H

#include <stddef.h>

 /*
  * One header for the scan copy.
  */
#define MILTER_HDR_OK		0
#define MILTER_HDR_NAME_BREAK	1	/* CR or LF in the name */
#define MILTER_HDR_BARE_CR	2	/* a CR not followed by LF */
#define MILTER_HDR_NOT_FOLDED	3	/* a line break not followed by SP/HTAB */
#define MILTER_HDR_END_BREAK	4	/* the value ends with a line break */

typedef void (*milter_hdr_put) (void *, const void *, size_t);

extern int milter_hdr_copy(const char *, const char *, milter_hdr_put, void *);
extern const char *milter_hdr_why(int);

 /*
  * Inbound X-Spam-* and X-Mailwarren-Stamp names, and how often each came.
  */
struct milter_hdrseen {
	char   *name;			/* as first seen */
	int	count;			/* occurrences in this message */
};

struct milter_hdrset {
	struct milter_hdrseen *v;
	int	n;
	int	cap;
};

extern int milter_hdr_is_spam(const char *);
extern int milter_hdrset_add(struct milter_hdrset *, const char *);
extern void milter_hdrset_free(struct milter_hdrset *);

 /*
  * Envelope and connection addresses.
  */
extern int milter_addr_bare(const char *, char *, size_t);
extern const char *milter_addr_spamd_user(const char *, char *, size_t);
extern void milter_addr_client(char *);

#endif
