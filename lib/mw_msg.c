/*++
/* NAME
/*	mw_msg 3
/* SUMMARY
/*	diagnostics to syslog (LOG_MAIL) and stderr
/* SYNOPSIS
/*	#include "mw_msg.h"
/*
/*	int	mw_verbose;
/*
/*	void	mw_msg_open(progname, flags)
/*	const char *progname;
/*	int	flags;
/*
/*	void	mw_msg_close(void)
/*
/*	void	mw_debug(format, ...)
/*	void	mw_info(format, ...)
/*	void	mw_warn(format, ...)
/*	void	mw_error(format, ...)
/*	void	mw_fatal(format, ...)
/*	void	mw_panic(format, ...)
/*	const char *format;
/*
/*	void	mw_vlog(level, format, ap)
/*
/*	void	mw_msg_set_sink(sink)
/*	void	(*sink)(int level, const char *text);
/*
/*	void	mw_msg_set_exit(hook)
/*	void	(*hook)(int status);
/* DESCRIPTION
/*	This module reports diagnostics with Postfix's levels.
/*
/*	mw_msg_open() names the program and chooses the destinations:
/*	MW_MSG_SYSLOG opens syslog with facility LOG_MAIL and LOG_NDELAY,
/*	so the log socket is connected at once and keeps working after a
/*	chroot(2) (call it before mw_privs_drop()); MW_MSG_STDERR also
/*	writes each line to stderr, as a daemon in the foreground does.
/*	Both together would log every line twice under systemd, whose
/*	journal takes stderr and syslog alike: when stderr is the stream
/*	that the JOURNAL_STREAM environment variable names (its device
/*	and inode, see systemd.exec(5)), MW_MSG_STDERR is dropped in
/*	favour of syslog.  Before mw_msg_open() is called, messages go
/*	to stderr.
/*
/*	mw_debug() logs only when mw_verbose is non-zero.  mw_info()
/*	reports normal events and decisions.  mw_warn() reports a problem
/*	with input or a peer that is handled and the program continues.
/*	mw_error() reports a problem that the program survives but an
/*	operator must fix.  mw_fatal() reports an unrecoverable condition
/*	(bad configuration, resource exhaustion at start) and exits with
/*	status 1.  mw_panic() reports an internal inconsistency (a bug)
/*	and aborts, leaving a core dump where allowed.
/*
/*	Lines are prefixed as Postfix does ("warning: ", "error: ",
/*	"fatal: ", "panic: "; nothing for info).  A line is cut at
/*	MW_MSG_LINE_MAX bytes, and CR or LF inside a message becomes a
/*	space, so one call is always exactly one log line.  Peer data
/*	echoed in a message must still be passed through mw_printable().
/*	Each line is written with a single write(2), so lines of
/*	concurrent threads do not interleave on stderr.
/*
/*	mw_msg_set_sink() installs a function that receives every line
/*	(level and text without prefix) in addition to the destinations;
/*	tests use it.  mw_msg_set_exit() replaces the exit of mw_fatal()
/*	and mw_panic(); the hook must not return (a test longjmp()s).
/*
/*	The format may use %m for strerror(errno).
/* SEE ALSO
/*	syslog(3), postfix msg(3)
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* Utility library. */

#include "mw_msg.h"

int	mw_verbose;

static const char *mw_msg_progname = "mailwarren";
static int mw_msg_flags = MW_MSG_STDERR;
static void (*mw_msg_sink) (int, const char *);
static void (*mw_msg_exit) (int);

static const struct {
	const char *prefix;
	const char *name;
	int	priority;
}       mw_msg_levels[] = {
	{"", "debug", LOG_DEBUG},
	{"", "info", LOG_INFO},
	{"warning: ", "warning", LOG_WARNING},
	{"error: ", "error", LOG_ERR},
	{"fatal: ", "fatal", LOG_CRIT},
	{"panic: ", "panic", LOG_ALERT},
};

/* stderr_is_journal - stderr is systemd's journal stream (JOURNAL_STREAM=dev:ino) */

static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev;
	unsigned long long ino;
	struct stat st;

	return (js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2
		&& fstat(STDERR_FILENO, &st) == 0
		&& (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino);
}

/* mw_msg_open - choose program name and destinations */

void
mw_msg_open(const char *progname, int flags)
{
	const char *slash = strrchr(progname, '/');

	mw_msg_progname = slash != NULL ? slash + 1 : progname;
	if ((flags & MW_MSG_SYSLOG) && (flags & MW_MSG_STDERR) && stderr_is_journal())
		flags &= ~MW_MSG_STDERR;
	mw_msg_flags = flags;
	if (flags & MW_MSG_SYSLOG)
		openlog(mw_msg_progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* mw_msg_close - close the syslog connection */

void
mw_msg_close(void)
{
	if (mw_msg_flags & MW_MSG_SYSLOG)
		closelog();
	mw_msg_flags = MW_MSG_STDERR;
}

/* mw_msg_set_sink - copy every line to a function (tests) */

void
mw_msg_set_sink(void (*sink) (int, const char *))
{
	mw_msg_sink = sink;
}

/* mw_msg_set_exit - replace the exit of fatal and panic (tests) */

void
mw_msg_set_exit(void (*hook) (int))
{
	mw_msg_exit = hook;
}

/* mw_msg_level_name - name of a level, for log lines and tests */

const char *
mw_msg_level_name(int level)
{
	if (level < MW_LOG_DEBUG || level > MW_LOG_PANIC)
		return ("unknown");
	return (mw_msg_levels[level].name);
}

/* mw_vlog - format one line and send it to every destination */

void
mw_vlog(int level, const char *fmt, va_list ap)
{
	char	text[MW_MSG_LINE_MAX];
	char	line[MW_MSG_LINE_MAX + 128];
	char   *cp;
	int	saved_errno = errno;
	int	len;

	if (level < MW_LOG_DEBUG || level > MW_LOG_PANIC)
		level = MW_LOG_PANIC;

	/*
	 * Format, keeping errno for %m, and make the result one line.
	 */
	errno = saved_errno;
	if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
		snprintf(text, sizeof(text), "(unformattable message: %s)", fmt);
	for (cp = text; *cp != '\0'; cp++)
		if (*cp == '\n' || *cp == '\r')
			*cp = ' ';

	if (mw_msg_flags & MW_MSG_SYSLOG)
		syslog(mw_msg_levels[level].priority, "%s%s",
		       mw_msg_levels[level].prefix, text);
	if (mw_msg_flags & MW_MSG_STDERR) {
		len = snprintf(line, sizeof(line), "%s: %s%s\n", mw_msg_progname,
			       mw_msg_levels[level].prefix, text);
		if (len > 0) {
			if ((size_t) len >= sizeof(line)) {
				len = sizeof(line) - 1;
				line[len - 1] = '\n';
			}
			if (write(STDERR_FILENO, line, (size_t) len) < 0) {
				/* Nowhere left to report this. */
			}
		}
	}
	if (mw_msg_sink != NULL)
		mw_msg_sink(level, text);
	errno = saved_errno;
}

/* Wrappers per level. */

#define MW_MSG_WRAP(name, level) \
void name(const char *fmt, ...) \
{ \
	va_list	ap; \
	va_start(ap, fmt); \
	mw_vlog(level, fmt, ap); \
	va_end(ap); \
}

void
mw_debug(const char *fmt,...)
{
	va_list	ap;

	if (mw_verbose == 0)
		return;
	va_start(ap, fmt);
	mw_vlog(MW_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

MW_MSG_WRAP(mw_info, MW_LOG_INFO)
MW_MSG_WRAP(mw_warn, MW_LOG_WARN)
MW_MSG_WRAP(mw_error, MW_LOG_ERROR)

/* mw_fatal - report an unrecoverable condition and exit */

void
mw_fatal(const char *fmt,...)
{
	va_list	ap;

	va_start(ap, fmt);
	mw_vlog(MW_LOG_FATAL, fmt, ap);
	va_end(ap);
	if (mw_msg_exit != NULL)
		mw_msg_exit(1);
	exit(1);
}

/* mw_panic - report a bug and abort */

void
mw_panic(const char *fmt,...)
{
	va_list	ap;

	va_start(ap, fmt);
	mw_vlog(MW_LOG_PANIC, fmt, ap);
	va_end(ap);
	if (mw_msg_exit != NULL)
		mw_msg_exit(2);
	abort();
}
