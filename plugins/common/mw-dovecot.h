#ifndef MW_DOVECOT_H
#define MW_DOVECOT_H

/* mw-dovecot.h - the one layer where Dovecot 2.3 and 2.4 differ for
   mailwarren's plugins: a user's plugin settings, setting a user's home
   and mail location, the storage settings the NFS check reads, and the
   doveadm command parameters. Everything else in the plugins is written
   once against the Dovecot API common to both versions (2.3.16 and
   later, 2.4.1).

   The doveadm part of the layer is mw-doveadm.h (only the doveadm
   plugin may refer to doveadm's symbols).

   2.3: settings come from plugin { } through mail_user_plugin_getenv()
   (userdb fields named like a setting override it); the location is the
   mail_location string of the user's storage settings.
   2.4: settings come from settings_get() on the setting_parser_infos of
   mw-settings.h, declared to the config process by the settings module
   libmailwarren_settings.so (userdb fields named like a setting override
   it); the location is a set of CODE overrides (mail_driver, mail_path,
   mail_index_path, mail_home) in the user's settings instance. */

struct mail_user;

/* Which declared settings a lookup is about (2.4: which
   setting_parser_info; 2.3: only the prefix of the plugin {} keys). */
enum mw_settings_group {
	MW_SETTINGS_MAILSHARD,		/* mailshard_* */
	MW_SETTINGS_SPAM_PREFS,		/* spam_prefs_* */
};

/* One lookup of a group's settings for a user, %-variables expanded and
   userdb fields applied. Free with mw_settings_free(): the strings that
   mw_settings_str() returned are gone then. */
struct mw_settings;

/* NULL with *error_r set if Dovecot could not give the settings (2.4:
   settings_get() failed, e.g. a variable did not expand). */
struct mw_settings *
mw_settings_get(struct mail_user *user, enum mw_settings_group group,
		const char **error_r);
/* The value of NAME (a full setting name, "mailshard_volumes"), NULL when
   unset or empty. NAME must be a setting of the group (2.4 panics
   otherwise: a programming error, not a configuration one). */
/* The settings as the auth process's userdb USERDB (2.4: the block
   "userdb USERDB { }") sees them: the values inside that block, else the
   top-level ones (2.4 applies the user's userdb fields to the top-level
   values only: take those first with mw_user_userdb_field(), as the auth
   module does). 2.3: the same
   as mw_settings_get() (plugin { }): the userdb's args are the auth
   process's own. For doveadm, to recompute what the userdb placed. */
struct mw_settings *
mw_settings_get_userdb(struct mail_user *user, enum mw_settings_group group,
		       const char *userdb, const char **error_r);
const char *mw_settings_str(const struct mw_settings *set, const char *name);
void mw_settings_free(struct mw_settings **set);

/* The value of the userdb reply's field KEY, NULL when absent or empty. */
const char *mw_user_userdb_field(struct mail_user *user, const char *key);

/* The userdb reply gave this user an explicit mail location (2.3: "mail";
   2.4: "mail_driver" or "mail_path"): placement leaves the user alone. */
bool mw_user_has_userdb_location(struct mail_user *user);

/* Makes HOME the user's home and maildir:MAILDIR the location of every
   namespace without its own, with the index files under INDEX_DIR when
   not NULL (2.3: mail_location = maildir:MAILDIR[:INDEX=INDEX_DIR];
   2.4: mail_driver, mail_path, mail_index_path, mail_home). Only from the
   mail_user_created hook: storages read the location after it. -1 with
   *error_r set if Dovecot refused it. */
int mw_user_set_location(struct mail_user *user, const char *home,
			 const char *maildir, const char *index_dir,
			 const char **error_r);

/* The user's mail location as one string, "DRIVER:PATH[:INDEX=DIR]" (the
   2.3 mail_location syntax, also on 2.4), for doveadm mailshard where. */
const char *mw_user_mail_location(struct mail_user *user);

/* The storage settings that matter on NFS. */
struct mw_storage_nfs_settings {
	bool mmap_disable;
	bool fsync_always;		/* mail_fsync = always */
	const char *mail_fsync;		/* as configured */
};
int mw_user_storage_nfs_settings(struct mail_user *user,
				 struct mw_storage_nfs_settings *set_r,
				 const char **error_r);

#endif
