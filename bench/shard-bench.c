/*++
/* NAME
/*	shard-bench 1
/* SUMMARY
/*	time shard placement per user
/* SYNOPSIS
/*	bench/shard-bench [names [layout [volumes | count]]]
/* DESCRIPTION
/*	Places names synthetic usernames (default 1000000) with
/*	mw_shard_place() and prints the nanoseconds per placement, best
/*	of five rounds, in CPU time (so that a busy machine's other work
/*	does not count) and in wall-clock time.  Build without
/*	--enable-sanitizers for figures worth quoting.  The default volume
/*	list has four volumes, one of weight 2; a number instead of a list
/*	makes that many volumes of weight 1 (v1=/srv/mail/v1 ...).
/*--*/

/* System library. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Utility library. */

#include "mw_shard.h"

/* now_ns - a clock in nanoseconds */

static double
now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (ts.tv_sec * 1e9 + ts.tv_nsec);
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned) strtoul(argv[1], NULL, 10) : 1000000;
	const char *layout = argc > 2 ? argv[2] : NULL;
	const char *volumes = argc > 3 ? argv[3]
	    : "v1=/srv/mail/v1 v2=/srv/mail/v2 v3=/srv/mail/v3:2 v4=/srv/mail/v4";
	char	err[MW_SHARD_ERR_MAX];
	char	list[MW_SHARD_VOLUMES_MAX * 32];
	MW_SHARD_PLACE place;
	MW_SHARD *shard;
	char  (*names)[32];
	double	t0, c0, best = 0, best_cpu = 0;
	unsigned i, round, sum = 0;

	if (n == 0 || (names = malloc((size_t) n * sizeof(*names))) == NULL) {
		fprintf(stderr, "shard-bench: bad count or out of memory\n");
		return (1);
	}
	if (strspn(volumes, "0123456789") == strlen(volumes)) {
		unsigned count = (unsigned) strtoul(volumes, NULL, 10);
		size_t	o = 0;

		for (i = 1; i <= count && i <= MW_SHARD_VOLUMES_MAX; i++)
			o += (size_t) snprintf(list + o, sizeof(list) - o,
					       "v%u=/srv/mail/v%u ", i, i);
		list[o] = '\0';
		volumes = list;
	}
	if ((shard = mw_shard_create(volumes, layout, err)) == NULL) {
		fprintf(stderr, "shard-bench: %s\n", err);
		return (1);
	}
	for (i = 0; i < n; i++)
		snprintf(names[i], sizeof(names[i]), "User%u.Name@example.com", i);
	for (round = 0; round < 5; round++) {
		t0 = now_ns(CLOCK_MONOTONIC);
		c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		for (i = 0; i < n; i++) {
			if (mw_shard_place(shard, names[i], NULL, NULL, &place, err) < 0) {
				fprintf(stderr, "shard-bench: %s\n", err);
				return (1);
			}
			sum += (unsigned char) place.path[14];
		}
		c0 = (now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / n;
		t0 = (now_ns(CLOCK_MONOTONIC) - t0) / n;
		if (round == 0 || t0 < best)
			best = t0;
		if (round == 0 || c0 < best_cpu)
			best_cpu = c0;
	}
	printf("shard-bench: %u names, layout %s, %d volumes: %.1f ns CPU per placement "
	       "(%.1f ns wall; best of 5; checksum %u)\n", n,
	       layout ? layout : MW_SHARD_DEFAULT_LAYOUT, shard->count, best_cpu,
	       best, sum);
	mw_shard_free(shard);
	free(names);
	return (0);
}
