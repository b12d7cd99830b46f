#ifndef MW_PLACE_H
#define MW_PLACE_H

/* mw-place.h - where mailshard puts a user: the settings that decide it,
   and the home, maildir and index directory that follow from
   mw_shard_place() (lib/mw_shard.c, mailshard(7)). Version-neutral and
   shared by every route that places users (the mailshard mail plugin,
   the auth module's userdb), so that they give byte-identical paths.
   Needs a Dovecot process (data stack). */

#include "mw_shard.h"

/* The inputs, as configured (NULL or "" when unset). */
struct mw_place_settings {
	const char *volumes;		/* mailshard_volumes (required) */
	const char *layout;		/* mailshard_layout */
	const char *maildir;		/* mailshard_maildir */
	const char *index_dir;		/* mailshard_index_dir */
	const char *pin_volume;		/* mailshard_volume (userdb) */
	const char *pin_path;		/* mailshard_path (userdb) */
};

/* The result; strings on the data stack. */
struct mw_place {
	const char *volume;		/* volume name */
	const char *volume_path;	/* volume root */
	const char *home;		/* the user's directory */
	const char *maildir;		/* HOME/MAILDIR */
	const char *index_dir;		/* INDEX_DIR/VOLUME/..., or NULL */
	/* "maildir:MAILDIR[:INDEX=INDEX_DIR]": Dovecot 2.3's mail_location
	   (and userdb "mail"), shown by doveadm mailshard where */
	const char *location;
	const char *reason;		/* hash, pin-volume, pin-path */
};

/* 0 and *place_r, or -1 with *error_r ("mailshard: ...", for the log).
   The parsed volumes are cached between calls with the same volumes
   and layout. */
int mw_place_user(const struct mw_place_settings *set, const char *username,
		  struct mw_place *place_r, const char **error_r);
/* The same placement into the caller's buffers, without copying the
   strings to the data stack: for the auth module, which copies them into
   the reply anyway (once per login and delivery). mw_place_user() is
   this function plus the copies, so both give the same bytes. */
int mw_place_user_loc(const struct mw_place_settings *set,
		      const char *username, MW_SHARD_PLACE *place_r,
		      MW_SHARD_LOC *loc_r, const char **error_r);
/* Frees the cache (at module deinit). */
void mw_place_deinit(void);

#endif
