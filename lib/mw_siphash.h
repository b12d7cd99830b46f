/*++
/* NAME
/*	mw_siphash 3h
/* SUMMARY
/*	SipHash-2-4, 64-bit output
/* SYNOPSIS
/*	#include "mw_siphash.h"
/* DESCRIPTION
/*	See mw_siphash.c.
/*--*/
#ifndef MW_SIPHASH_H
#define MW_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

extern uint64_t mw_siphash24(uint64_t, uint64_t, const void *, size_t);

/* mw_fmix64 - MurmurHash3 64-bit finalizer (inline: one per volume per
   placement) */

static inline uint64_t
mw_fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return (x);
}

#endif
