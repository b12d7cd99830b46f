/* mw-dovecot.c - the Dovecot version layer of mw-dovecot.h: the only
   file of the mail plugins with code for one Dovecot version only. */

#include "lib.h"
#include "mail-user.h"
#include "mail-storage-settings.h"
#if DOVECOT_PREREQ(2, 4, 0)
#  include "settings.h"
#  include "mail-storage-service.h"
#  include "mw-settings.h"
#else
#  include "fsync-mode.h"
#endif
#include "mw-dovecot.h"

struct mw_settings {
#if DOVECOT_PREREQ(2, 4, 0)
	const struct setting_parser_info *info;
	const void *set;	/* from settings_get() */
	pool_t pool;		/* the set's pool, for settings_free() */
#else
	struct mail_user *user;
#endif
};

/* mw_userdb_find - the value of the userdb reply's field KEY (maybe
   empty), or NULL when it has none */
static const char *mw_userdb_find(struct mail_user *user, const char *key)
{
	const char *const *field;
	size_t len = strlen(key);

	if (user->userdb_fields == NULL)
		return NULL;
	for (field = user->userdb_fields; *field != NULL; field++) {
		if (strncmp(*field, key, len) == 0 && (*field)[len] == '=')
			return *field + len + 1;
	}
	return NULL;
}

/* mw_userdb_has - the userdb reply carries the field KEY */
static bool mw_userdb_has(struct mail_user *user, const char *key)
{
	return mw_userdb_find(user, key) != NULL;
}

const char *mw_user_userdb_field(struct mail_user *user, const char *key)
{
	const char *value = mw_userdb_find(user, key);

	return value == NULL || *value == '\0' ? NULL : value;
}

#if DOVECOT_PREREQ(2, 4, 0)

/* ------------------------------------------------------------------ */
/* Dovecot 2.4: declared settings, settings overrides                  */
/* ------------------------------------------------------------------ */

/* The start of every settings struct of mw-settings.h (for settings_get(),
   which checks that the struct begins with its pool). */
struct mw_settings_head {
	pool_t pool;
};

/* mw_settings_get_event - a group's settings as event sees them */
static struct mw_settings *
mw_settings_get_event(struct event *event, enum mw_settings_group group,
		      const char **error_r)
{
	const struct mw_settings_head *head;
	struct mw_settings *mset;
	const struct setting_parser_info *info;
	const char *error;

	info = group == MW_SETTINGS_MAILSHARD ?
		&mw_mailshard_setting_parser_info :
		&mw_spam_prefs_setting_parser_info;
	if (settings_get(event, info, 0, &head, &error) < 0) {
		*error_r = error;
		return NULL;
	}
	mset = i_new(struct mw_settings, 1);
	mset->info = info;
	mset->set = head;
	mset->pool = head->pool;
	return mset;
}

struct mw_settings *
mw_settings_get(struct mail_user *user, enum mw_settings_group group,
		const char **error_r)
{
	return mw_settings_get_event(user->event, group, error_r);
}

struct mw_settings *
mw_settings_get_userdb(struct mail_user *user, enum mw_settings_group group,
		       const char *userdb, const char **error_r)
{
	struct mw_settings *mset;
	struct event *event;

	/* the filters the auth process puts on the userdb's event (auth.c
	   auth_userdb_preinit()): the block's values, else the top-level
	   ones (a userdb field overrides only the latter, see the .h) */
	event = event_create(user->event);
	settings_event_add_filter_name(event,
		t_strconcat("userdb_", userdb, NULL));
	settings_event_add_list_filter_name(event, "userdb", userdb);
	mset = mw_settings_get_event(event, group, error_r);
	event_unref(&event);
	return mset;
}

const char *mw_settings_str(const struct mw_settings *set, const char *name)
{
	const struct setting_define *def;
	const char *value;

	for (def = set->info->defines; def->key != NULL; def++) {
		if (def->type == SET_STR && strcmp(def->key, name) == 0) {
			value = *(const char *const *)
				CONST_PTR_OFFSET(set->set, def->offset);
			return value == NULL || *value == '\0' ? NULL : value;
		}
	}
	i_panic("mw_settings_str(%s): not a setting of %s",
		name, set->info->name);
}

void mw_settings_free(struct mw_settings **_set)
{
	struct mw_settings *set = *_set;

	if (set == NULL)
		return;
	*_set = NULL;
	pool_unref(&set->pool);
	i_free(set);
}

bool mw_user_has_userdb_location(struct mail_user *user)
{
	return mw_userdb_has(user, "mail_driver") ||
		mw_userdb_has(user, "mail_path");
}

/* mw_override - a CODE override, which wins over the configuration and
   over userdb; its value is taken as it is, never %-expanded (a user
   named "a%{home}" lives in .../a%{home}, as on 2.3: t-mailshard) */
static void
mw_override(struct settings_instance *inst, const char *key, const char *value)
{
	settings_override(inst, key, value, SETTINGS_OVERRIDE_TYPE_CODE);
}

int mw_user_set_location(struct mail_user *user, const char *home,
			 const char *maildir, const char *index_dir,
			 const char **error_r)
{
	struct settings_instance *inst;

	if (user->service_user == NULL) {
		*error_r = "user has no storage service user";
		return -1;
	}
	inst = mail_storage_service_user_get_settings_instance(
		user->service_user);
	/* "*" + "/": in every filter (namespace inbox { } ...) as well */
	mw_override(inst, "*/mail_driver", "maildir");
	mw_override(inst, "*/mail_path", maildir);
	if (index_dir != NULL)
		mw_override(inst, "*/mail_index_path", index_dir);
	mw_override(inst, "mail_home", home);
	mail_user_set_home(user, home);
	return 0;
}

const char *mw_user_mail_location(struct mail_user *user)
{
	const struct mail_storage_settings *set;
	const char *error, *location;

	if (settings_get(user->event, &mail_storage_setting_parser_info, 0,
			 &set, &error) < 0)
		return t_strdup_printf("(%s)", error);
	location = t_strdup_printf("%s:%s", set->mail_driver, set->mail_path);
	if (set->mail_index_path[0] != '\0')
		location = t_strconcat(location, ":INDEX=",
				       set->mail_index_path, NULL);
	settings_free(set);
	return location;
}

int mw_user_storage_nfs_settings(struct mail_user *user,
				 struct mw_storage_nfs_settings *set_r,
				 const char **error_r)
{
	const struct mail_storage_settings *set;
	const char *error;

	if (settings_get(user->event, &mail_storage_setting_parser_info, 0,
			 &set, &error) < 0) {
		*error_r = error;
		return -1;
	}
	set_r->mmap_disable = set->mmap_disable;
	set_r->fsync_always = set->parsed_fsync_mode == FSYNC_MODE_ALWAYS;
	set_r->mail_fsync = t_strdup(set->mail_fsync);
	settings_free(set);
	return 0;
}

#else

/* ------------------------------------------------------------------ */
/* Dovecot 2.3: plugin { } settings, mail_location                     */
/* ------------------------------------------------------------------ */

struct mw_settings *
mw_settings_get(struct mail_user *user,
		enum mw_settings_group group ATTR_UNUSED,
		const char **error_r ATTR_UNUSED)
{
	struct mw_settings *set = i_new(struct mw_settings, 1);

	set->user = user;
	return set;
}

struct mw_settings *
mw_settings_get_userdb(struct mail_user *user, enum mw_settings_group group,
		       const char *userdb ATTR_UNUSED, const char **error_r)
{
	/* 2.3: the auth module reads its args, which no mail process sees;
	   plugin { } must repeat them */
	return mw_settings_get(user, group, error_r);
}

const char *mw_settings_str(const struct mw_settings *set, const char *name)
{
	const char *value = mail_user_plugin_getenv(set->user, name);

	return value == NULL || *value == '\0' ? NULL : value;
}

void mw_settings_free(struct mw_settings **_set)
{
	i_free(*_set);
}

bool mw_user_has_userdb_location(struct mail_user *user)
{
	return mw_userdb_has(user, "mail");
}

int mw_user_set_location(struct mail_user *user, const char *home,
			 const char *maildir, const char *index_dir,
			 const char **error_r ATTR_UNUSED)
{
	struct mail_storage_settings *mail_set;

	/* the user's own copy of the settings, already %-expanded;
	   namespaces with an empty location take mail_location from it */
	mail_set = (struct mail_storage_settings *)
		mail_user_set_get_storage_set(user);
	mail_set->mail_location = index_dir == NULL ?
		p_strconcat(user->pool, "maildir:", maildir, NULL) :
		p_strconcat(user->pool, "maildir:", maildir,
			    ":INDEX=", index_dir, NULL);
	mail_user_set_home(user, home);
	return 0;
}

const char *mw_user_mail_location(struct mail_user *user)
{
	return mail_user_set_get_storage_set(user)->mail_location;
}

int mw_user_storage_nfs_settings(struct mail_user *user,
				 struct mw_storage_nfs_settings *set_r,
				 const char **error_r ATTR_UNUSED)
{
	const struct mail_storage_settings *set =
		mail_user_set_get_storage_set(user);

	set_r->mmap_disable = set->mmap_disable;
	set_r->fsync_always = set->parsed_fsync_mode == FSYNC_MODE_ALWAYS;
	set_r->mail_fsync = set->mail_fsync;
	return 0;
}

#endif
