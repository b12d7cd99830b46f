/*++
/* NAME
/*	spam-prefs-list-bench 1
/* SUMMARY
/*	time the spam_prefs allow/deny list matcher
/* SYNOPSIS
/*	bench/spam-prefs-list-bench [rounds]
/* DESCRIPTION
/*	Matches addresses against spam_prefs lists with
/*	spam_prefs_list_match() (plugins/spam-prefs/spam-prefs-util.c)
/*	and prints the microseconds per match, best of five rounds of
/*	rounds matches (default 2000), in CPU time:
/* .IP typical
/*	a 20-entry list of addresses, @domains and SpamAssassin globs,
/*	against an address on none of them (every entry is tried);
/* .IP hostile-stars
/*	the longest list spam_prefs takes (4000 bytes): "*a" 1999
/*	times, then "b", against a 1000-byte run of a's (exponential for
/*	a naive backtracking glob);
/* .IP hostile-tail
/*	one "*" and 500 a's, then "b", against 1000 a's: the worst case
/*	of the greedy matcher (each of the 500 restarts of the "*" compares
/*	up to 500 bytes).
/* .PP
/*	Build without --enable-sanitizers for figures worth quoting.
/*--*/

/* System library. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Application-specific. */

#include "spam-prefs-util.h"

/* now_ns - the process's CPU clock in nanoseconds */

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (ts.tv_sec * 1e9 + ts.tv_nsec);
}

/* bench - best of five rounds of n matches, microseconds per match */

static double
bench(const char *name, const char *list, const char *addr, unsigned n)
{
	double	t0, best = 0;
	unsigned i, round, hits = 0;

	for (round = 0; round < 5; round++) {
		t0 = now_ns();
		for (i = 0; i < n; i++)
			hits += spam_prefs_list_match(list, addr);
		t0 = (now_ns() - t0) / n / 1000;
		if (round == 0 || t0 < best)
			best = t0;
	}
	printf("spam-prefs-list-bench: %-13s list %4zu bytes, address %4zu bytes: "
	       "%9.3f us CPU per match (best of 5 x %u; %u hits)\n", name,
	       strlen(list), strlen(addr), best, n, hits);
	return (best);
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned) strtoul(argv[1], NULL, 10) : 2000;
	static char list[SPAM_PREFS_LIST_MAX + 1], addr[1001];
	size_t	i;

	if (n == 0) {
		fprintf(stderr, "spam-prefs-list-bench: bad count\n");
		return (1);
	}
	bench("typical",
	      "boss@work.example @partner.example *@*.friends.example "
	      "jo?@mail.example news@list.example *@bank.example "
	      "alice@a.example bob@b.example carol@c.example *@d.example "
	      "@e.example dave@*.f.example erin@g.example *.h.example "
	      "frank@i.example @j.example grace@k.example *@l.example "
	      "heidi@m.example ivan@*.n.example",
	      "Someone.Else@mail.other.example", n * 100);
	for (i = 0; i + 2 < SPAM_PREFS_LIST_MAX; i += 2) {
		list[i] = '*';
		list[i + 1] = 'a';
	}
	list[i++] = 'b';
	list[i] = '\0';
	memset(addr, 'a', sizeof(addr) - 1);
	bench("hostile-stars", list, addr, n);
	list[0] = '*';
	memset(list + 1, 'a', 500);
	list[501] = 'b';
	list[502] = '\0';
	bench("hostile-tail", list, addr, n);
	return (0);
}
