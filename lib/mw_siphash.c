/*++
/* NAME
/*	mw_siphash 3
/* SUMMARY
/*	SipHash-2-4 and a 64-bit finalizer
/* SYNOPSIS
/*	#include "mw_siphash.h"
/*
/*	uint64_t mw_siphash24(k0, k1, data, len)
/*	uint64_t k0;
/*	uint64_t k1;
/*	const void *data;
/*	size_t	len;
/*
/*	uint64_t mw_fmix64(x)
/*	uint64_t x;
/* DESCRIPTION
/*	mw_siphash24() is SipHash-2-4 (Aumasson and Bernstein, 2012) of
/*	len bytes of data under the 128-bit key whose little-endian
/*	halves are k0 (key bytes 0-7) and k1 (key bytes 8-15).  The
/*	result is the 64-bit value v0^v1^v2^v3 of the reference code, so
/*	the reference test vectors (as little-endian byte strings) apply.
/*	The result does not depend on the host byte order.
/*
/*	mw_fmix64() (inline, in mw_siphash.h) is the MurmurHash3 64-bit finalizer, a bijection
/*	with full avalanche, used to derive further well-mixed values
/*	from a SipHash result cheaply.
/* SEE ALSO
/*	https://www.aumasson.jp/siphash/siphash.pdf
/*--*/

/* System library. */

#include <stddef.h>
#include <stdint.h>

/* Utility library. */

#include "mw_siphash.h"

#define ROTL(x, b)	(uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
    } while (0)

/* load_le64 - read 8 bytes as a little-endian number */

static uint64_t
load_le64(const unsigned char *p)
{
	return ((uint64_t) p[0] | (uint64_t) p[1] << 8
		| (uint64_t) p[2] << 16 | (uint64_t) p[3] << 24
		| (uint64_t) p[4] << 32 | (uint64_t) p[5] << 40
		| (uint64_t) p[6] << 48 | (uint64_t) p[7] << 56);
}

/* mw_siphash24 - SipHash-2-4 of data under key (k0, k1) */

uint64_t
mw_siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	const unsigned char *in = data;
	const unsigned char *end = in + (len - len % 8);
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k0;
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k1;
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k0;
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ k1;
	uint64_t b = (uint64_t) len << 56;
	uint64_t m;
	int	i;

	/*
	 * Whole 8-byte words: two compression rounds each.
	 */
	for (; in != end; in += 8) {
		m = load_le64(in);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}

	/*
	 * The last 0-7 bytes, with the length in the top byte.
	 */
	for (i = (int) (len % 8) - 1; i >= 0; i--)
		b |= (uint64_t) in[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;

	/*
	 * Finalization: four rounds.
	 */
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return (v0 ^ v1 ^ v2 ^ v3);
}
