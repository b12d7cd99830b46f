#ifndef MAILSHARD_VOLUME_H
#define MAILSHARD_VOLUME_H

/* mailshard-volume.h - checks on a volume before a user is put on it */

struct mail_user;

enum mailshard_nfs_check {
	MAILSHARD_NFS_CHECK_STRICT,
	MAILSHARD_NFS_CHECK_WARN,
	MAILSHARD_NFS_CHECK_OFF,
};

int mailshard_nfs_check_parse(const char *value,
			      enum mailshard_nfs_check *mode_r);

/* 0 if the volume may be used; -1 with user->error set otherwise. */
int mailshard_volume_check(struct mail_user *user, const char *name,
			   const char *path, enum mailshard_nfs_check mode);

#endif
