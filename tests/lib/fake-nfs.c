/* fake-nfs.c - test-only LD_PRELOAD shim: statfs() says "NFS" for the
   paths under $MW_FAKE_NFS (a directory; several separated by ':').

   Why: the test machines' kernel has no NFS client (CONFIG_NFS_FS unset,
   no module support), so no real NFS mount can exist there, and a FUSE
   NFS client would report FUSE's magic, not NFS's. mailshard decides
   "this volume is on NFS" from statfs().f_type == NFS_SUPER_MAGIC alone,
   so reporting that magic for a chosen directory runs exactly the
   plugin's NFS branch, unchanged. Everything else in the real statfs()
   result is kept.

   The plugin itself has no test hook: this file is built only for
   "make check" (never installed) and acts only where a test preloads it
   and sets MW_FAKE_NFS, e.g. through Dovecot's import_environment. */

#undef _FILE_OFFSET_BITS	/* define statfs and statfs64 themselves */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* RTLD_NEXT */
#endif

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#define FAKE_NFS_SUPER_MAGIC 0x6969	/* <linux/magic.h> NFS_SUPER_MAGIC */

int	statfs(const char *, struct statfs *);
int	statfs64(const char *, struct statfs64 *);

/* fake_nfs_path - path is one of $MW_FAKE_NFS's directories, or below one */

static int
fake_nfs_path(const char *path)
{
	const char *list = getenv("MW_FAKE_NFS");
	const char *dir, *end;
	size_t	len;

	if (list == NULL || path == NULL)
		return (0);
	for (dir = list; *dir != '\0'; dir = *end ? end + 1 : end) {
		end = strchrnul(dir, ':');
		len = (size_t) (end - dir);
		if (len > 0 && strncmp(path, dir, len) == 0
		    && (path[len] == '\0' || path[len] == '/'))
			return (1);
	}
	return (0);
}

int
statfs(const char *path, struct statfs *buf)
{
	static int (*real) (const char *, struct statfs *);
	int	ret;

	if (real == NULL
	    && (real = (int (*) (const char *, struct statfs *))
		dlsym(RTLD_NEXT, "statfs")) == NULL) {
		errno = ENOSYS;
		return (-1);
	}
	if ((ret = real(path, buf)) == 0 && fake_nfs_path(path))
		buf->f_type = FAKE_NFS_SUPER_MAGIC;
	return (ret);
}

int
statfs64(const char *path, struct statfs64 *buf)
{
	static int (*real) (const char *, struct statfs64 *);
	int	ret;

	if (real == NULL
	    && (real = (int (*) (const char *, struct statfs64 *))
		dlsym(RTLD_NEXT, "statfs64")) == NULL) {
		errno = ENOSYS;
		return (-1);
	}
	if ((ret = real(path, buf)) == 0 && fake_nfs_path(path))
		buf->f_type = FAKE_NFS_SUPER_MAGIC;
	return (ret);
}
