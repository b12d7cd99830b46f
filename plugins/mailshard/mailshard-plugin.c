/* mailshard-plugin.c - put each user's mail on a filer volume, in hashed
   directories, for every Dovecot entry point (IMAP, POP3, LMTP, LDA,
   doveadm).

   The mail_user_created hook runs after the userdb reply and the
   settings are final and before any namespace or storage exists. There
   we compute the user's directory with mw_place_user() (over
   lib/mw_shard.c, shared with every other tool, see mailshard(7)) and set
   both the home and the mail location through the version layer
   (plugins/common/mw-dovecot.h: mail_location on Dovecot 2.3,
   mail_driver/mail_path/mail_index_path/mail_home on 2.4), so the
   configuration keeps the location empty. An explicit userdb location
   (2.3 "mail", 2.4 "mail_driver"/"mail_path") wins: such users are left
   alone. Any failure sets user->error, which Dovecot turns into a
   temporary failure of the session (LMTP 451, POP3 -ERR [SYS/TEMP], IMAP
   refused) with our text in the log; nothing is created. */

#include "lib.h"
#include "module-context.h"
#include "mail-user.h"
#include "mail-storage-hooks.h"
#include "mw-dovecot.h"
#include "mw-place.h"
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

/* mailshard_placement_event - the named event "mailshard_placement"
   (fields volume, reason: hash, pin-volume, pin-path), which Dovecot's
   metric blocks count; logged at debug level */
static void
mailshard_placement_event(struct mail_user *user,
			  const struct mailshard_user_info *info)
{
	struct event *event = event_create(user->event);

	event_set_name(event, "mailshard_placement");
	event_add_str(event, "volume", info->volume);
	event_add_str(event, "reason", info->reason);
	e_debug(event, "mailshard: volume=%s reason=%s home=%s mail=%s",
		info->volume, info->reason, info->path, info->location);
	event_unref(&event);
}

/* mailshard_place_user - compute, check and apply the user's directory */
static void mailshard_place_user(struct mail_user *user)
{
	struct mailshard_user *muser;
	struct mw_settings *set;
	struct mw_place_settings pset;
	struct mw_place place;
	enum mailshard_nfs_check nfs_mode;
	const char *value, *error;

	if ((set = mw_settings_get(user, MW_SETTINGS_MAILSHARD, &error)) == NULL) {
		user->error = p_strdup_printf(user->pool, "mailshard: %s", error);
		return;
	}
	value = mw_settings_str(set, "mailshard_nfs_check");
	if (mailshard_nfs_check_parse(value, &nfs_mode) < 0) {
		user->error = p_strdup_printf(user->pool,
			"mailshard: invalid mailshard_nfs_check '%s' "
			"(strict, warn or off)", value);
		mw_settings_free(&set);
		return;
	}
	i_zero(&pset);
	pset.volumes = mw_settings_str(set, "mailshard_volumes");
	pset.layout = mw_settings_str(set, "mailshard_layout");
	pset.maildir = mw_settings_str(set, "mailshard_maildir");
	pset.index_dir = mw_settings_str(set, "mailshard_index_dir");
	pset.pin_volume = mw_settings_str(set, "mailshard_volume");
	pset.pin_path = mw_settings_str(set, "mailshard_path");
	if (mw_place_user(&pset, user->username, &place, &error) < 0) {
		user->error = p_strdup(user->pool, error);
		mw_settings_free(&set);
		return;
	}
	mw_settings_free(&set);

	if (mailshard_volume_check(user, place.volume, place.volume_path,
				   nfs_mode) < 0)
		return;
	if (mw_user_set_location(user, place.home, place.maildir,
				 place.index_dir, &error) < 0) {
		user->error = p_strdup_printf(user->pool, "mailshard: %s", error);
		return;
	}

	muser = p_new(user->pool, struct mailshard_user, 1);
	muser->info.volume = p_strdup(user->pool, place.volume);
	muser->info.volume_path = p_strdup(user->pool, place.volume_path);
	muser->info.path = p_strdup(user->pool, place.home);
	muser->info.location = p_strdup(user->pool, place.location);
	muser->info.reason = place.reason;
	MODULE_CONTEXT_SET(user, mailshard_user_module, muser);
	mailshard_placement_event(user, &muser->info);
}

/* mailshard_mail_user_created - the hook */
static void mailshard_mail_user_created(struct mail_user *user)
{
	if (user->autocreated) {
		/* LDA/LMTP's raw mail user, shared-mailbox owners */
		return;
	}
	if (mw_user_has_userdb_location(user)) {
		e_debug(user->event, "mailshard: userdb returned mail, "
			"leaving the location alone");
		return;
	}
	T_BEGIN {
		mailshard_place_user(user);
	} T_END;
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
	mw_place_deinit();
}
