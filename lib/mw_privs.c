/*++
/* NAME
/*	mw_privs 3
/* SUMMARY
/*	privilege drop, pid files, background mode
/* SYNOPSIS
/*	#include "mw_privs.h"
/*
/*	int	mw_privs_drop(user, group, chroot_dir, err, errlen)
/*	const char *user;
/*	const char *group;
/*	const char *chroot_dir;
/*	char	*err;
/*	size_t	errlen;
/*
/*	int	mw_privs_chown(path, user, group, err, errlen)
/*	const char *path;
/*
/*	int	mw_pidfile_open(pf, path, err, errlen)
/*	struct mw_pidfile *pf;
/*	const char *path;
/*
/*	int	mw_pidfile_write(pf, err, errlen)
/*
/*	void	mw_pidfile_close(pf, remove)
/*	int	remove;
/*
/*	int	mw_daemonize(err, errlen)
/* DESCRIPTION
/*	mw_privs_drop() makes a process that started as root run as an
/*	unprivileged user, in the order OpenBSD's daemons follow: look up
/*	user (and group, default: the user's login group) while the
/*	password database is still reachable, chroot(2) to chroot_dir
/*	when it is not NULL and chdir("/"), set the supplementary groups
/*	to the user's groups (plus group), then setresgid() and
/*	setresuid() to the target ids for real, effective and saved ids,
/*	and finally verify that root cannot be regained.  Call
/*	mw_msg_open() before this, so syslog still works in the chroot.
/*	With user NULL, a process that is not root stays as it is and one
/*	that is root is refused ("refusing to run as root: set User"): a
/*	daemon is never root by omission.  A process that is not root may
/*	only "drop" to its own user (a no-op), so the same configuration
/*	works in a non-root test run; anything else is an error.
/*
/*	mw_privs_chown() gives path (a UNIX socket bound as root) to user
/*	and group (default: the user's login group), the ids
/*	mw_privs_drop() will switch to, so that the MTA's group can use it
/*	under SocketMode; it does nothing when user is NULL or the process
/*	is not root.
/*
/*	mw_pidfile_open() creates or opens path (mode 0644, never through
/*	a symbolic link) and takes an exclusive flock() on it, so that a
/*	second instance fails with "already running (pid N)".  Open it
/*	before dropping privileges when its directory is root's.
/*	mw_pidfile_write() truncates the file and writes the current pid;
/*	call it after mw_daemonize(), whose forks change the pid.  flock()
/*	rather than fcntl() locks, because the lock belongs to the open
/*	file and so survives the fork, and is not lost when any other
/*	descriptor of the same file is closed.  mw_pidfile_close()
/*	releases the lock and, with remove set, unlinks the file.
/*
/*	mw_daemonize() puts the process in the background: fork, setsid,
/*	fork again so it can never reacquire a terminal, chdir("/") and
/*	stdin, stdout, stderr to /dev/null.  The parent exits with status
/*	0 once the child is running.  Foreground mode (-f, systemd's
/*	Type=simple) simply does not call it.
/* DIAGNOSTICS
/*	The functions return 0 (mw_pidfile_open: 0) on success and -1 on
/*	error with one line in err.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* Utility library. */

#include "mw_str.h"
#include "mw_privs.h"

/* privs_lookup - the ids of user and group (default: the login group) */

static int
privs_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char **name,
	             char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		return (mw_err(err, errlen, "unknown user \"%s\"%s%s", user,
				   errno ? ": " : "", errno ? strerror(errno) : ""));
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (name != NULL)
		*name = pw->pw_name;
	if (group != NULL && *group != '\0') {
		errno = 0;
		if ((gr = getgrnam(group)) == NULL)
			return (mw_err(err, errlen, "unknown group \"%s\"%s%s", group,
					   errno ? ": " : "", errno ? strerror(errno) : ""));
		*gid = gr->gr_gid;
	}
	return (0);
}

/* mw_privs_chown - give a file (a UNIX socket) to user and group */

int
mw_privs_chown(const char *path, const char *user, const char *group, char *err, size_t errlen)
{
	uid_t	uid;
	gid_t	gid;

	if (user == NULL || *user == '\0' || geteuid() != 0)
		return (0);
	if (privs_lookup(user, group, &uid, &gid, NULL, err, errlen) < 0)
		return (-1);
	if (chown(path, uid, gid) < 0)
		return (mw_err(err, errlen, "chown %s: %s", path, strerror(errno)));
	return (0);
}

/* mw_privs_drop - chroot and become an unprivileged user */

int
mw_privs_drop(const char *user, const char *group, const char *chroot_dir,
	      char *err, size_t errlen)
{
	char   *pwname;
	uid_t	uid;
	gid_t	gid;

	if (user == NULL || *user == '\0') {
		if (chroot_dir != NULL)
			return (mw_err(err, errlen, "chroot %s requires a user to run as", chroot_dir));
		/* A daemon that talks to the network never stays root by default. */
		if (geteuid() == 0 || getuid() == 0)
			return (mw_err(err, errlen, "refusing to run as root: set User "
				       "(the packages run as mailwarren), or start as that user"));
		return (0);
	}

	/* Look up everything before chroot hides /etc. */
	if (privs_lookup(user, group, &uid, &gid, &pwname, err, errlen) < 0)
		return (-1);
	if (uid == 0)
		return (mw_err(err, errlen, "refusing to run as root (user \"%s\")", user));

	if (geteuid() != 0) {
		if (geteuid() == uid && getegid() == gid && chroot_dir == NULL)
			return (0);
		return (mw_err(err, errlen, "cannot switch to user \"%s\": not running as root", user));
	}

	/* Supplementary groups: the user's own, with the chosen group first. */
	if (initgroups(pwname, gid) < 0)
		return (mw_err(err, errlen, "initgroups(%s): %s", user, strerror(errno)));

	if (chroot_dir != NULL) {
		if (chroot(chroot_dir) < 0)
			return (mw_err(err, errlen, "chroot(%s): %s", chroot_dir, strerror(errno)));
		if (chdir("/") < 0)
			return (mw_err(err, errlen, "chdir(/) in %s: %s", chroot_dir, strerror(errno)));
	}

	if (setresgid(gid, gid, gid) < 0)
		return (mw_err(err, errlen, "setresgid(%ld): %s", (long) gid, strerror(errno)));
	if (setresuid(uid, uid, uid) < 0)
		return (mw_err(err, errlen, "setresuid(%ld): %s", (long) uid, strerror(errno)));

	/* Paranoia: the saved set-user-id must not bring root back. */
	if (setuid(0) == 0 || seteuid(0) == 0)
		return (mw_err(err, errlen, "privileges could be regained after dropping them"));
	return (0);
}

/* pidfile_lock - take an exclusive flock() without waiting */

static int
pidfile_lock(int fd)
{
	int	rc;

	do {
		rc = flock(fd, LOCK_EX | LOCK_NB);
	} while (rc < 0 && errno == EINTR);
	return (rc);
}

/* mw_pidfile_open - open and lock a pid file */

int
mw_pidfile_open(struct mw_pidfile *pf, const char *path, char *err, size_t errlen)
{
	char	buf[32];
	ssize_t	n;
	int	saved;

	pf->fd = -1;
	pf->path = NULL;
	if ((pf->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
		return (mw_err(err, errlen, "pid file %s: %s", path, strerror(errno)));
	if (pidfile_lock(pf->fd) < 0) {
		saved = errno;
		n = pread(pf->fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		close(pf->fd);
		pf->fd = -1;
		if (saved == EWOULDBLOCK)
			return (mw_err(err, errlen, "pid file %s: already running (pid %s)",
					   path, *buf ? buf : "unknown"));
		return (mw_err(err, errlen, "pid file %s: lock: %s", path, strerror(saved)));
	}
	if ((pf->path = strdup(path)) == NULL) {
		close(pf->fd);
		pf->fd = -1;
		return (mw_err(err, errlen, "pid file %s: out of memory", path));
	}
	return (0);
}

/* mw_pidfile_write - record the current pid */

int
mw_pidfile_write(struct mw_pidfile *pf, char *err, size_t errlen)
{
	char	buf[32];
	int	len;

	if (pf->fd < 0)
		return (mw_err(err, errlen, "pid file not open"));
	len = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
	if (ftruncate(pf->fd, 0) < 0 || pwrite(pf->fd, buf, (size_t) len, 0) != len)
		return (mw_err(err, errlen, "pid file %s: write: %s", pf->path, strerror(errno)));
	return (0);
}

/* mw_pidfile_close - unlock, optionally remove */

void
mw_pidfile_close(struct mw_pidfile *pf, int remove)
{
	if (pf->fd >= 0) {
		if (remove && pf->path != NULL)
			(void) unlink(pf->path);
		close(pf->fd);
	}
	free(pf->path);
	pf->fd = -1;
	pf->path = NULL;
}

/* mw_daemonize - detach from the terminal */

int
mw_daemonize(char *err, size_t errlen)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) < 0)
		return (mw_err(err, errlen, "fork: %s", strerror(errno)));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return (mw_err(err, errlen, "setsid: %s", strerror(errno)));
	if ((pid = fork()) < 0)
		return (mw_err(err, errlen, "fork: %s", strerror(errno)));
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return (mw_err(err, errlen, "chdir(/): %s", strerror(errno)));
	if ((fd = open("/dev/null", O_RDWR)) < 0)
		return (mw_err(err, errlen, "/dev/null: %s", strerror(errno)));
	if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0
	    || dup2(fd, STDERR_FILENO) < 0)
		return (mw_err(err, errlen, "dup2: %s", strerror(errno)));
	if (fd > STDERR_FILENO)
		close(fd);
	return (0);
}
