/*++
/* NAME
/*	mw_msg 3h
/* SUMMARY
/*	diagnostics to syslog (LOG_MAIL) and stderr
/* SYNOPSIS
/*	#include "mw_msg.h"
/* DESCRIPTION
/*	See mw_msg.c.
/*--*/
#ifndef MW_MSG_H
#define MW_MSG_H

#include <stdarg.h>

#define MW_MSG_SYSLOG	(1 << 0)	/* log to syslog, facility LOG_MAIL */
#define MW_MSG_STDERR	(1 << 1)	/* log to stderr (foreground) */

#define MW_LOG_DEBUG	0
#define MW_LOG_INFO	1
#define MW_LOG_WARN	2
#define MW_LOG_ERROR	3
#define MW_LOG_FATAL	4
#define MW_LOG_PANIC	5

#define MW_MSG_LINE_MAX	2048		/* one log line, longer is cut */

#define MW_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define MW_NORETURN	__attribute__((noreturn))

extern int mw_verbose;

extern void mw_msg_open(const char *, int);
extern void mw_msg_close(void);
extern void mw_msg_set_sink(void (*) (int, const char *));
extern void mw_msg_set_exit(void (*) (int));
extern const char *mw_msg_level_name(int);

extern void mw_debug(const char *,...) MW_PRINTF(1, 2);
extern void mw_info(const char *,...) MW_PRINTF(1, 2);
extern void mw_warn(const char *,...) MW_PRINTF(1, 2);
extern void mw_error(const char *,...) MW_PRINTF(1, 2);
extern void mw_fatal(const char *,...) MW_PRINTF(1, 2) MW_NORETURN;
extern void mw_panic(const char *,...) MW_PRINTF(1, 2) MW_NORETURN;
extern void mw_vlog(int, const char *, va_list) MW_PRINTF(2, 0);

#endif
