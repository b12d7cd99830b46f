/* mailshard-plugin.c - put each user's mail on a filer volume, in hashed
   directories, for every Dovecot entry point (IMAP, POP3, LMTP, LDA,
   doveadm).

   The mail_user_created hook runs after the userdb reply and the plugin
   settings are final and before any namespace or storage exists. There
   we compute the user's directory with mw_shard_place() (lib/mw_shard.c,
   shared with every other tool, see mailshard(7)) and set both the home
   and mail_location, so the configuration keeps mail_location empty and
   never needs %h. An explicit userdb "mail" field wins: such users are
   left alone. Any failure sets user->error, which Dovecot turns into a
   temporary failure of the session (LMTP 451, POP3 -ERR [SYS/TEMP], IMAP
   refused) with our text in the log; nothing is created. */

#include "lib.h"
#include "module-context.h"
#include "mail-user.h"
#include "mail-storage-hooks.h"
#include "mail-storage-settings.h"
#include "mw_shard.h"
#include "mailshard-volume.h"
#include "mailshard-plugin.h"

#define MAILSHARD_USER_CONTEXT(obj) \
	MODULE_CONTEXT(obj, mailshard_user_module)

struct mailshard_user {
	union mail_user_module_context module_ctx;
	struct mailshard_user_info info;
};

const char *mailshard_plugin_version = DOVECOT_ABI_VERSION;

static MODULE_CONTEXT_DEFINE_INIT(mailshard_user_module,
				  &mail_user_module_register);

/* The parsed mailshard_volumes and mailshard_layout of the last session:
   an lmtp process serves many users with the same settings, so they are
   parsed again only when either string changes. */
static struct {
	char *volumes, *layout;		/* i_strdup()ed; layout may be NULL */
	MW_SHARD *shard;
} mailshard_cache;

/* mailshard_cache_clear - forget the cached configuration */
static void mailshard_cache_clear(void)
{
	mw_shard_free(mailshard_cache.shard);
	i_free(mailshard_cache.volumes);
	i_free(mailshard_cache.layout);
	i_zero(&mailshard_cache);
}

/* mailshard_shard - the parsed configuration, from the cache if the same;
   NULL with err set if it does not parse */
static const MW_SHARD *
mailshard_shard(const char *volumes, const char *layout, char *err)
{
	MW_SHARD *shard;

	if (mailshard_cache.shard != NULL &&
	    strcmp(mailshard_cache.volumes, volumes) == 0 &&
	    null_strcmp(mailshard_cache.layout, layout) == 0)
		return mailshard_cache.shard;
	if ((shard = mw_shard_create(volumes, layout, err)) == NULL)
		return NULL;
	mailshard_cache_clear();
	mailshard_cache.volumes = i_strdup(volumes);
	mailshard_cache.layout = i_strdup(layout);
	mailshard_cache.shard = shard;
	return shard;
}

/* mailshard_userdb_has - the userdb reply carries the field key */
static bool mailshard_userdb_has(struct mail_user *user, const char *key)
{
	const char *const *field;
	size_t len = strlen(key);

	if (user->userdb_fields == NULL)
		return FALSE;
	for (field = user->userdb_fields; *field != NULL; field++) {
		if (strncmp(*field, key, len) == 0 && (*field)[len] == '=')
			return TRUE;
	}
	return FALSE;
}

/* mailshard_getenv - a plugin setting, NULL when unset or empty */
static const char *mailshard_getenv(struct mail_user *user, const char *name)
{
	const char *value = mail_user_plugin_getenv(user, name);

	return value == NULL || *value == '\0' ? NULL : value;
}

/* mailshard_location - "maildir:DIR/MAILDIR[:INDEX=...]", built by
   mw_shard_location() as the auth module builds it (byte-identical) */
static const char *
mailshard_location(struct mail_user *user, const MW_SHARD_PLACE *place)
{
	char err[MW_SHARD_ERR_MAX];
	MW_SHARD_LOC *loc = t_new(MW_SHARD_LOC, 1);

	if (mw_shard_location(place,
			      mailshard_getenv(user, "mailshard_maildir"),
			      mailshard_getenv(user, "mailshard_index_dir"),
			      loc, err) < 0) {
		user->error = p_strdup_printf(user->pool, "mailshard: %s", err);
		return NULL;
	}
	return loc->location;
}

/* mailshard_place_user - compute, check and apply the user's directory */
static void mailshard_place_user(struct mail_user *user)
{
	struct mail_storage_settings *mail_set;
	struct mailshard_user *muser;
	enum mailshard_nfs_check nfs_mode;
	const char *volumes, *location, *value;
	char err[MW_SHARD_ERR_MAX];
	MW_SHARD_PLACE place;
	const MW_SHARD *shard;
	int ret;

	if ((volumes = mailshard_getenv(user, "mailshard_volumes")) == NULL) {
		user->error = p_strdup(user->pool,
			"mailshard: mailshard_volumes is not set");
		return;
	}
	value = mailshard_getenv(user, "mailshard_nfs_check");
	if (mailshard_nfs_check_parse(value, &nfs_mode) < 0) {
		user->error = p_strdup_printf(user->pool,
			"mailshard: invalid mailshard_nfs_check '%s' "
			"(strict, warn or off)", value);
		return;
	}
	shard = mailshard_shard(volumes,
				mailshard_getenv(user, "mailshard_layout"), err);
	if (shard == NULL) {
		user->error = p_strdup_printf(user->pool,
			"mailshard: mailshard_volumes/mailshard_layout: %s", err);
		return;
	}
	ret = mw_shard_place(shard, user->username,
			     mailshard_getenv(user, "mailshard_volume"),
			     mailshard_getenv(user, "mailshard_path"),
			     &place, err);
	if (ret < 0) {
		user->error = p_strdup_printf(user->pool, "mailshard: %s", err);
		return;
	}

	/* the user's own copy of the settings, already %-expanded; namespaces
	   with an empty location take mail_location from it later */
	mail_set = (struct mail_storage_settings *)
		mail_user_set_get_storage_set(user);
	if (mailshard_volume_check(user, place.volume->name,
				   place.volume->path, nfs_mode, mail_set) < 0 ||
	    (location = mailshard_location(user, &place)) == NULL)
		return;

	muser = p_new(user->pool, struct mailshard_user, 1);
	muser->info.volume = p_strdup(user->pool, place.volume->name);
	muser->info.volume_path = p_strdup(user->pool, place.volume->path);
	muser->info.path = p_strdup(user->pool, place.path);
	muser->info.location = p_strdup(user->pool, location);
	muser->info.reason = mw_shard_reason_name(place.reason);

	mail_set->mail_location = muser->info.location;
	mail_user_set_home(user, muser->info.path);
	MODULE_CONTEXT_SET(user, mailshard_user_module, muser);
	e_debug(user->event, "mailshard: volume=%s reason=%s home=%s mail=%s",
		muser->info.volume, muser->info.reason, muser->info.path,
		muser->info.location);
}

/* mailshard_mail_user_created - the hook */
static void mailshard_mail_user_created(struct mail_user *user)
{
	if (user->autocreated) {
		/* LDA/LMTP's raw mail user, shared-mailbox owners */
		return;
	}
	if (mailshard_userdb_has(user, "mail")) {
		e_debug(user->event, "mailshard: userdb returned mail, "
			"leaving the location alone");
		return;
	}
	T_BEGIN {
		mailshard_place_user(user);
	} T_END;
}

/* mailshard_user_get_info - for doveadm mailshard where */
const struct mailshard_user_info *
mailshard_user_get_info(struct mail_user *user)
{
	struct mailshard_user *muser = MAILSHARD_USER_CONTEXT(user);

	return muser == NULL ? NULL : &muser->info;
}

static struct mail_storage_hooks mailshard_mail_storage_hooks = {
	.mail_user_created = mailshard_mail_user_created,
};

void mailshard_plugin_init(struct module *module)
{
	mail_storage_hooks_add(module, &mailshard_mail_storage_hooks);
}

void mailshard_plugin_deinit(void)
{
	mail_storage_hooks_remove(&mailshard_mail_storage_hooks);
	mailshard_cache_clear();
}
