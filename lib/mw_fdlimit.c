/*++
/* NAME
/*	mw_fdlimit 3
/* SUMMARY
/*	descriptor limit and rate-limited overload warnings
/* SYNOPSIS
/*	#include "mw_fdlimit.h"
/*
/*	int	mw_fdlimit_raise(need, setting, value, limit, err, errlen)
/*	unsigned long long need;
/*	const char *setting;
/*	long long value;
/*	unsigned long long *limit;
/*	char	*err;
/*	size_t	errlen;
/*
/*	unsigned long long mw_ratelog_add(r, now, n)
/*	struct mw_ratelog *r;
/*	time_t	now;
/*	unsigned long long n;
/*
/*	unsigned long long mw_ratelog_flush(r, now)
/*	struct mw_ratelog *r;
/*	time_t	now;
/* DESCRIPTION
/*	mw_fdlimit_raise() makes sure the process may open need
/*	descriptors: it raises the soft RLIMIT_NOFILE to need when it is
/*	lower (never above the hard limit, never lowers it) and stores the
/*	soft limit now in force in *limit.  When even the hard limit is
/*	below need, it changes nothing and fails with a message that names
/*	the setting and its value (the connection cap that needs them),
/*	need, and the limit.
/*
/*	A struct mw_ratelog turns a storm of events (refused connections,
/*	failed accepts) into one log line per interval.  mw_ratelog_add()
/*	counts n more events at time now; it returns the number to log
/*	(those counted since the last line, these included) when a line is
/*	due, else 0.  The first event of a storm is due at once, later ones
/*	at most once per interval.  mw_ratelog_flush() returns the events
/*	not yet logged when a line is due (the storm is over), else 0.
/* DIAGNOSTICS
/*	mw_fdlimit_raise() returns 0, or -1 with the reason in err.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* Utility library. */

#include "mw_fdlimit.h"

/* mw_fdlimit_raise - raise the soft descriptor limit to need, or say why not */

int
mw_fdlimit_raise(unsigned long long need, const char *setting, long long value,
		 unsigned long long *limit, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		snprintf(err, errlen, "getrlimit RLIMIT_NOFILE: %s", strerror(errno));
		return (-1);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
			snprintf(err, errlen, "%s %lld needs %llu descriptors, but the descriptor "
				 "limit is %llu (hard limit %llu); lower %s or raise the limit "
				 "(systemd LimitNOFILE, ulimit -n)", setting, value, need,
				 (unsigned long long) rl.rlim_cur,
				 (unsigned long long) rl.rlim_max, setting);
			return (-1);
		}
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			snprintf(err, errlen, "%s %lld needs %llu descriptors: setrlimit "
				 "RLIMIT_NOFILE %llu: %s", setting, value, need, need, strerror(errno));
			return (-1);
		}
	}
	*limit = rl.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long) rl.rlim_cur;
	return (0);
}

/* mw_ratelog_add - count n events; what to log now, or 0 */

unsigned long long
mw_ratelog_add(struct mw_ratelog *r, time_t now, unsigned long long n)
{
	r->count += n;
	return (mw_ratelog_flush(r, now));
}

/* mw_ratelog_flush - the events not yet logged, if a line is due; else 0 */

unsigned long long
mw_ratelog_flush(struct mw_ratelog *r, time_t now)
{
	unsigned long long n;

	if (r->count == 0 || now < r->next)
		return (0);
	n = r->count;
	r->count = 0;
	r->next = now + r->interval;
	return (n);
}
