/*++
/* NAME
/*	mw_privs 3h
/* SUMMARY
/*	privilege drop, pid files, background mode
/* SYNOPSIS
/*	#include "mw_privs.h"
/* DESCRIPTION
/*	See mw_privs.c.
/*--*/
#ifndef MW_PRIVS_H
#define MW_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

struct mw_pidfile {
	int	fd;			/* open and locked, or -1 */
	char   *path;
};

extern int mw_privs_drop(const char *, const char *, const char *, char *, size_t);
extern int mw_privs_chown(const char *, const char *, const char *, char *, size_t);
extern int mw_pidfile_open(struct mw_pidfile *, const char *, char *, size_t);
extern int mw_pidfile_write(struct mw_pidfile *, char *, size_t);
extern void mw_pidfile_close(struct mw_pidfile *, int);
extern int mw_daemonize(char *, size_t);

#endif
