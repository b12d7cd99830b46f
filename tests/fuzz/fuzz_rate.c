/*++
/* NAME
/*	fuzz_rate 1
/* SUMMARY
/*	libFuzzer target for rate specs and the in-memory counters
/* DESCRIPTION
/*	Parses the input (up to its first NUL) with mw_rate_parse().
/*	Checks that a parsed spec has at most MW_RATE_WINDOWS_MAX windows of
/*	non-zero length (none for an empty spec), that mw_rate_str() writes it back in a form
/*	that parses to the same limits, and that the counters keep it: a
/*	fresh key is over the first limit with one event more than it
/*	allows (unless that overflows), within it after as many as it
/*	allows, over it after that.
/*--*/

#include "config.h"

#include "fuzz.h"
#include "mw_rate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_rate_limits l;
	struct mw_rate_limits again;
	unsigned long long have;
	unsigned long long lim;
	char	err[256];
	char	buf[512];
	char   *spec = fuzz_str(data, size);
	mw_rate *rate;
	size_t	w;
	size_t	i;

	err[0] = '\0';
	if (mw_rate_parse(spec, &l, err, sizeof(err)) < 0) {
		fuzz_check(err[0] != '\0');
		free(spec);
		return (0);
	}
	fuzz_check(l.n <= MW_RATE_WINDOWS_MAX);
	if (l.n == 0) {			/* empty: no limit */
		free(spec);
		return (0);
	}
	for (i = 0; i < l.n; i++)
		fuzz_check(l.w[i].seconds > 0);
	mw_rate_str(&l, buf, sizeof(buf));
	fuzz_check(mw_rate_parse(buf, &again, err, sizeof(err)) == 0 && again.n == l.n);
	for (i = 0; i < l.n; i++)
		fuzz_check(again.w[i].limit == l.w[i].limit && again.w[i].seconds == l.w[i].seconds);

	/* the counters, for limits small enough to count to */
	lim = l.w[0].limit;
	if ((rate = mw_rate_create()) == NULL)
		abort();
	if (lim < 1000000) {
		fuzz_check(mw_rate_over(rate, "k", &l, lim + 1, 1000000, &have, &w) == 1);
		if (mw_rate_over(rate, "k", &l, lim, 1000000, &have, &w) == 0) {
			fuzz_check(mw_rate_add(rate, "k", &l, lim, 1000000) == 0);
			fuzz_check(lim == 0 || mw_rate_over(rate, "k", &l, 1, 1000000, &have, &w) == 1);
		}
	}
	(void) mw_rate_expire(rate, 2000000);
	mw_rate_free(rate);
	free(spec);
	return (0);
}
