/*++
/* NAME
/*	milter_accept 3
/* SUMMARY
/*	connection cap and accept() back-off under libmilter's listener
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	int	milter_accept_init(conf, err, errlen)
/*	const struct milter_conf *conf;
/*	char	*err;
/*	size_t	errlen;
/*
/*	int	accept(fd, addr, len)
/*	int	close(fd)
/* DESCRIPTION
/*	libmilter's listener (listener.c, mi_listener()) poll()s its socket
/*	and calls accept(); when accept() fails with EMFILE, ENFILE,
/*	ENOBUFS, ENOMEM, EAGAIN or ECONNABORTED it goes straight back to
/*	poll(), which says "readable" again at once: a spin at 100% CPU
/*	while the descriptors are exhausted.  It has no connection cap and
/*	no hook between poll() and accept(), and every session descriptor
/*	it closes goes through close() (mi_clr_ctx(), closesocket).
/*
/*	So this module defines accept() and close() in the executable: the
/*	definitions there take precedence over the C library's for
/*	libmilter's calls (as milter_signal.c does for sigwait()), and call
/*	the C library's own.  accept() counts the sessions it hands out and
/*	close() counts them back.  When MaxConnections sessions are open,
/*	accept() takes every caller waiting and closes it at once (the MTA
/*	sees the connection closed during option negotiation and applies
/*	its default action: Postfix milter_default_action, Sendmail F=T),
/*	then sleeps ACCEPT_PAUSE_MS and returns EAGAIN, which libmilter
/*	ignores.  When accept() fails for want of descriptors it spends a
/*	reserved descriptor to close the callers waiting the same way;
/*	for want of memory it only waits.  Sessions already open are served
/*	by libmilter's workers meanwhile.  Each kind of trouble is logged
/*	at most once per OVERLOAD_LOG_SECONDS, with a count.
/*
/*	milter_accept_init() raises the descriptor limit to what
/*	MaxConnections needs (mw_fdlimit_raise(): MILTER_FD_NEED) and arms
/*	the cap; before it, accept() and close() only pass calls on.  Call
/*	it before smfi_main(), before any thread exists.
/* DIAGNOSTICS
/*	milter_accept_init() returns 0, or -1 with the reason in err.
/*--*/

/* System library. */

#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Utility library. */

#include "mw_fdlimit.h"
#include "mw_msg.h"

/* Application-specific. */

#include "milter.h"

#define ACCEPT_PAUSE_MS	100
#define REFUSE_BATCH	256		/* callers closed per pause: bounds the CPU a storm costs */
#define OVERLOAD_LOG_SECONDS 60
#define TRACK_MAX	(1 << 22)	/* descriptors watched at most */

static int (*next_accept) (int, struct sockaddr *, socklen_t *);
static int (*next_close) (int);
static _Atomic unsigned char *tracked;	/* per descriptor: a session */
static size_t ntracked;
static atomic_long sessions;
static long long max_sessions;		/* 0: not armed */
static int reserve_fd = -1;
static int listener_ready;		/* O_NONBLOCK set on the listener */

 /* The listener thread alone uses these. */
static struct mw_ratelog cap_log = MW_RATELOG_INIT(OVERLOAD_LOG_SECONDS);
static struct mw_ratelog fail_log = MW_RATELOG_INIT(OVERLOAD_LOG_SECONDS);
static int fail_errno;

/* real_accept - the C library's accept() */

static int
real_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	if (next_accept != NULL)
		return (next_accept(fd, sa, len));
	return ((int) syscall(SYS_accept, fd, sa, len));
}

/* real_close - the C library's close() */

static int
real_close(int fd)
{
	if (next_close != NULL)
		return (next_close(fd));
	return ((int) syscall(SYS_close, fd));
}

/* close - count a session's descriptor back, then close it */

int
close(int fd)
{
	if (fd >= 0 && (size_t) fd < ntracked && atomic_exchange(&tracked[fd], 0))
		atomic_fetch_sub(&sessions, 1);
	return (real_close(fd));
}

/* pause_accepting - leave the callers in the backlog a moment */

static void
pause_accepting(void)
{
	struct timespec ts = {0, ACCEPT_PAUSE_MS * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		 /* void */ ;
}

/* refuse_pending - close the callers waiting (the listener is non-blocking) */

static unsigned long long
refuse_pending(int lfd)
{
	unsigned long long n = 0;
	int	fd;

	while (n < REFUSE_BATCH && (fd = real_accept(lfd, NULL, NULL)) >= 0) {
		(void) real_close(fd);
		milter_metrics_connection(0);
		n++;
	}
	return (n);
}

/* overload_log - one line per interval for each kind of trouble */

static void
overload_log(time_t now, unsigned long long capped, unsigned long long failed)
{
	unsigned long long n;

	if ((capped > 0 || cap_log.count > 0) && (n = mw_ratelog_add(&cap_log, now, capped)) > 0)
		mw_warn("MaxConnections (%lld) reached: %llu MTA connection(s) closed at once "
			"since the last warning (the MTA applies its milter default action); "
			"accepting paused %d ms at a time", max_sessions, n, ACCEPT_PAUSE_MS);
	if ((failed > 0 || fail_log.count > 0) && (n = mw_ratelog_add(&fail_log, now, failed)) > 0)
		mw_warn("accept: %s: %llu MTA connection(s) refused since the last warning; "
			"accepting paused %d ms at a time", strerror(fail_errno), n, ACCEPT_PAUSE_MS);
}

/* accept - libmilter's listener: a session under the cap, or a pause */

int
accept(int lfd, struct sockaddr *sa, socklen_t *len)
{
	unsigned long long n;
	int	saved;
	int	fd;

	if (max_sessions == 0)
		return (real_accept(lfd, sa, len));
	if (!listener_ready) {
		/* libmilter poll()s first: a caller gone meanwhile must not block it. */
		(void) fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
		listener_ready = 1;
	}
	if (atomic_load(&sessions) >= max_sessions) {
		overload_log(time(NULL), refuse_pending(lfd), 0);
		pause_accepting();
		errno = EAGAIN;
		return (-1);
	}
	if ((fd = real_accept(lfd, sa, len)) >= 0) {
		if ((size_t) fd < ntracked) {
			atomic_store(&tracked[fd], 1);
			atomic_fetch_add(&sessions, 1);
		}
		milter_metrics_connection(1);
		overload_log(time(NULL), 0, 0);
		return (fd);
	}
	saved = errno;
	if (saved != EMFILE && saved != ENFILE && saved != ENOBUFS && saved != ENOMEM) {
		errno = saved;
		return (-1);
	}
	fail_errno = saved;
	n = 0;
	if ((saved == EMFILE || saved == ENFILE) && reserve_fd >= 0) {
		(void) real_close(reserve_fd);
		n = refuse_pending(lfd);
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	overload_log(time(NULL), 0, n > 0 ? n : 1);
	pause_accepting();
	errno = EAGAIN;
	return (-1);
}

/* milter_accept_sessions - MTA sessions open now */

long long
milter_accept_sessions(void)
{
	return ((long long) atomic_load(&sessions));
}

/* milter_accept_init - room for MaxConnections; arm the cap */

int
milter_accept_init(const struct milter_conf *conf, char *err, size_t errlen)
{
	unsigned long long limit;

	if (mw_fdlimit_raise(MILTER_FD_NEED(conf->max_connections), "MaxConnections",
			     conf->max_connections, &limit, err, errlen) < 0)
		return (-1);
	*(void **) &next_accept = dlsym(RTLD_NEXT, "accept");
	*(void **) &next_close = dlsym(RTLD_NEXT, "close");
	ntracked = limit < TRACK_MAX ? (size_t) limit : TRACK_MAX;
	if ((tracked = calloc(ntracked, sizeof(*tracked))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if ((reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "open /dev/null: %s", strerror(errno));
		return (-1);
	}
	max_sessions = conf->max_connections;
	return (0);
}
