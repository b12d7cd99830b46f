/*++
/* NAME
/*	milter_negotiate 3h
/* SUMMARY
/*	mailwarren-milter's protocol negotiation
/* SYNOPSIS
/*	#include "milter_negotiate.h"
/* DESCRIPTION
/*	See milter_negotiate.c.
/*--*/
#ifndef MILTER_NEGOTIATE_H
#define MILTER_NEGOTIATE_H

#include <libmilter/mfapi.h>

/* The actions registered in xxfi_flags (negotiation adds SETSYMLIST). */
#define MILTER_FLAGS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)

extern sfsistat milter_negotiate(SMFICTX *, unsigned long, unsigned long, unsigned long,
				         unsigned long, unsigned long *, unsigned long *,
				         unsigned long *, unsigned long *);
extern int milter_nodelay_listeners(void);

#endif
