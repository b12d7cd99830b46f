/*++
/* NAME
/*	milter_signal 3
/* SUMMARY
/*	signals and the database reload thread
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	void	milter_signal_block(void)
/*
/*	void	milter_signal_start(path, ep)
/*	const char *path;
/*	const struct mw_endpoint *ep;
/*
/*	void	milter_signal_stop(void)
/*
/*	int	sigwait(set, sig)
/*	const sigset_t *set;
/*	int	*sig;
/* DESCRIPTION
/*	libmilter runs its own signal thread, which sigwait()s for SIGHUP,
/*	SIGTERM and SIGINT and stops the milter on any of them.  SIGHUP is
/*	to reload, as for every other daemon, so this module defines
/*	sigwait() itself: the definition in the executable takes
/*	precedence over the C library's for libmilter's call, and it waits
/*	for the same set minus SIGHUP.  SIGTERM and SIGINT still stop the
/*	milter through libmilter (smfi_stop), which lets sessions finish.
/*	libmilter's listener looks at its stop flag only every 5 seconds
/*	(its poll timeout), so on SIGTERM or SIGINT a thread connects to
/*	the milter's own socket (ep, MilterSocket) every 100 ms until
/*	smfi_main() returns: the listener wakes, sees the flag and stops,
/*	and an idle milter exits at once instead of after up to 5 s.
/*
/*	milter_signal_block() blocks SIGHUP, SIGTERM, SIGINT, SIGUSR1 and
/*	SIGUSR2 and ignores SIGPIPE; call it before any thread exists, so
/*	that every thread inherits the mask and no signal can land on a
/*	thread that does not expect it.
/*
/*	milter_signal_start() starts the reload thread: it waits for
/*	SIGHUP (reload the configuration file path, then the ClamAV
/*	database with the settings now in force) or SIGUSR1 (reload the
/*	ClamAV database only) and, every DatabaseCheckInterval seconds
/*	(0 = never), checks the database directory for changes.  milter_signal_stop() ends it (at once, or
/*	after a reload in progress) before the process frees
/*	what it uses.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Utility library. */

#include "mw_endpoint.h"
#include "mw_msg.h"

/* Application-specific. */

#include "milter.h"

static pthread_t signal_tid;
static int signal_stop;
static const char *signal_path;		/* the configuration file */
static struct mw_endpoint stop_ep;	/* MilterSocket, to wake the listener */
static int stop_started;		/* the wake thread runs */
static int stop_done;			/* smfi_main() returned */
static pthread_t stop_tid;

/* stop_thread - wake libmilter's listener until it has stopped */

static void *
stop_thread(void *arg)
{
	struct timespec gap = {0, 100 * 1000 * 1000};
	char	err[256];
	int	fd;
	int	i;

	(void) arg;
	mw_debug("stopping: waking libmilter's listener");
	for (i = 0; i < 100 && !__atomic_load_n(&stop_done, __ATOMIC_SEQ_CST); i++) {
		nanosleep(&gap, NULL);
		if (__atomic_load_n(&stop_done, __ATOMIC_SEQ_CST))
			break;
		if ((fd = mw_endpoint_connect(&stop_ep, 500, err, sizeof(err))) >= 0)
			close(fd);
	}
	return (NULL);
}

/* sigwait - libmilter's signal thread: everything but SIGHUP */

int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t mine = *set;
	int	rc;

	sigdelset(&mine, SIGHUP);
	do {
		rc = sigwaitinfo(&mine, NULL);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return (errno);
	if ((rc == SIGTERM || rc == SIGINT)
	    && !__atomic_exchange_n(&stop_started, 1, __ATOMIC_SEQ_CST)
	    && pthread_create(&stop_tid, NULL, stop_thread, NULL) != 0)
		stop_started = 0;		/* libmilter still stops, later */
	*sig = rc;
	return (0);
}

/* milter_signal_block - block the signals we handle synchronously */

void
milter_signal_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		mw_fatal("pthread_sigmask: %m");
	signal(SIGPIPE, SIG_IGN);
}

/* signal_thread - reload on signal, check the database periodically */

static void *
signal_thread(void *arg)
{
	struct timespec tick = {1, 0};
	struct timespec last;
	struct timespec now;
	struct milter_live *lv;
	sigset_t set;
	int	sig;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);		/* milter_signal_stop(): look at signal_stop */
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (!__atomic_load_n(&signal_stop, __ATOMIC_RELAXED)) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGUSR2) {
			/* from milter_signal_stop(), or from the operator */
			if (!__atomic_load_n(&signal_stop, __ATOMIC_RELAXED))
				milter_metrics_summary();
			continue;
		}
		if (sig == SIGHUP || sig == SIGUSR1) {
			mw_info("signal %s: reloading", sig == SIGHUP ? "SIGHUP" : "SIGUSR1");
			if (sig == SIGHUP)
				milter_metrics_reload("config", milter_live_reload(signal_path) == 0);
			lv = milter_live_get();
			milter_clam_slots(&lv->conf);
			milter_clam_reload(&lv->conf, 1);
			milter_live_put(lv);
			clock_gettime(CLOCK_MONOTONIC, &last);
			continue;
		}
		lv = milter_live_get();
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (lv->conf.database_check_interval > 0
		    && (unsigned long long) (now.tv_sec - last.tv_sec) >= lv->conf.database_check_interval) {
			milter_clam_check(&lv->conf);
			last = now;
		}
		milter_live_put(lv);
	}
	return (NULL);
}

/* milter_signal_start - start the reload thread */

void
milter_signal_start(const char *path, const struct mw_endpoint *ep)
{
	int	rc;

	signal_path = path;
	stop_ep = *ep;
	if ((rc = pthread_create(&signal_tid, NULL, signal_thread, NULL)) != 0)
		mw_fatal("cannot start the reload thread: %s", strerror(rc));
}

/* milter_signal_stop - end the reload thread */

void
milter_signal_stop(void)
{
	__atomic_store_n(&signal_stop, 1, __ATOMIC_RELAXED);
	pthread_kill(signal_tid, SIGUSR2);	/* not after its 1 s tick */
	pthread_join(signal_tid, NULL);
	__atomic_store_n(&stop_done, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&stop_started, __ATOMIC_SEQ_CST))
		pthread_join(stop_tid, NULL);
}
