/* mailshard-volume.c - is a volume mounted, and safe for this mail setup?

   A volume's root holds the marker file .mailshard-volume, created by the
   operator on the filer itself: when the filesystem is not mounted the
   marker is missing, and the user's session fails with a temporary error
   instead of creating an empty maildir on the bare mount point.

   On NFS, Dovecot needs mmap_disable = yes and mail_fsync = always (and
   each user served by one backend at a time, which the director or proxy
   guarantees; nothing here can check that). mailshard_nfs_check says what
   an unsafe setting does: strict fails the session (temporary error),
   warn logs one error line per session and goes on, off checks nothing. */

#include "lib.h"
#include "mail-user.h"
#include "mw_shard.h"
#include "mw-dovecot.h"
#include "mailshard-volume.h"

#include <sys/stat.h>
#include <sys/vfs.h>

#ifndef NFS_SUPER_MAGIC
#  define NFS_SUPER_MAGIC 0x6969	/* <linux/magic.h> */
#endif

/* mailshard_nfs_check_parse - strict|warn|off; unset means warn */
int mailshard_nfs_check_parse(const char *value,
			      enum mailshard_nfs_check *mode_r)
{
	if (value == NULL || *value == '\0' || strcmp(value, "warn") == 0)
		*mode_r = MAILSHARD_NFS_CHECK_WARN;
	else if (strcmp(value, "strict") == 0)
		*mode_r = MAILSHARD_NFS_CHECK_STRICT;
	else if (strcmp(value, "off") == 0)
		*mode_r = MAILSHARD_NFS_CHECK_OFF;
	else
		return -1;
	return 0;
}

/* mailshard_nfs_unsafe - the first unsafe setting for NFS, or NULL */
static const char *
mailshard_nfs_unsafe(const struct mw_storage_nfs_settings *set)
{
	if (!set->mmap_disable)
		return "mmap_disable = no (need yes)";
	if (!set->fsync_always)
		return t_strdup_printf("mail_fsync = %s (need always)",
				       set->mail_fsync);
	return NULL;
}

/* mailshard_volume_check - marker present; NFS settings safe */
int mailshard_volume_check(struct mail_user *user, const char *name,
			   const char *path, enum mailshard_nfs_check mode)
{
	struct mw_storage_nfs_settings nfs_set;
	const char *marker, *unsafe, *error;
	struct statfs sfs;
	struct stat st;

	marker = t_strconcat(path, "/", MW_SHARD_MARKER, NULL);
	if (stat(marker, &st) < 0) {
		user->error = p_strdup_printf(user->pool,
			"mailshard: volume %s not mounted or not initialised: "
			"stat(%s) failed: %m", name, marker);
		return -1;
	}
	if (mode == MAILSHARD_NFS_CHECK_OFF)
		return 0;
	if (statfs(path, &sfs) < 0) {
		user->error = p_strdup_printf(user->pool,
			"mailshard: volume %s: statfs(%s) failed: %m", name, path);
		return -1;
	}
	if (sfs.f_type != NFS_SUPER_MAGIC)
		return 0;
	if (mw_user_storage_nfs_settings(user, &nfs_set, &error) < 0) {
		user->error = p_strdup_printf(user->pool,
			"mailshard: volume %s: reading the storage settings "
			"failed: %s", name, error);
		return -1;
	}
	if ((unsafe = mailshard_nfs_unsafe(&nfs_set)) == NULL)
		return 0;
	if (mode == MAILSHARD_NFS_CHECK_STRICT) {
		user->error = p_strdup_printf(user->pool,
			"mailshard: volume %s (%s) is on NFS but %s "
			"(mailshard_nfs_check = strict)", name, path, unsafe);
		return -1;
	}
	e_error(user->event, "mailshard: volume %s (%s) is on NFS but %s",
		  name, path, unsafe);
	return 0;
}
