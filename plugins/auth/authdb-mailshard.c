/* authdb-mailshard.c - libauthdb_mailshard.so, the userdb driver
   "mailshard": placement in Dovecot's long-lived auth process instead of
   in every mail process (one source for Dovecot 2.3 and 2.4).

   Chained after the site's own userdb (passwd-file, LDAP, SQL, ... with
   result_success = continue-ok), it adds the user's home and mail
   location to that reply, computed by mw_place_user()
   (plugins/common/mw-place.c, with lib/mw_shard.c's mw_shard_place() and
   mw_shard_location()), the function the mailshard mail plugin calls: the
   two routes give the same bytes. Every
   protocol and doveadm then get them from the userdb reply, so no
   mailwarren code runs in the imap, pop3 or lmtp processes, and %h works
   in any setting.

   Per user, the earlier userdb's fields mailshard_volume and
   mailshard_path pin the user, and mailshard_volumes, mailshard_layout,
   mailshard_maildir and mailshard_index_dir override the module's
   settings, as they override the plugin's. A reply that already has a
   mail location (2.3 "mail", 2.4 "mail_driver" or "mail_path") is left
   alone. A user no earlier userdb found stays unknown: this userdb never
   invents users. A refused username, a bad pin or setting, or a volume
   without its marker file (not mounted) fails the lookup temporarily
   (LMTP 451, IMAP and POP3 temporary failure, nothing created) with one
   error line naming the user (in the log prefix), the volume and the
   reason.

   Settings: on 2.3 from the userdb's args string (mw_auth_args_parse():
   volumes= layout= maildir= index_dir=), parse errors are fatal when the
   auth process starts; on 2.4 the plugin's own settings (mailshard_volumes,
   ...) at top level or inside the userdb's block. */

#include "auth-common.h"
#include "userdb.h"
#include "auth-fields.h"
#include "mw-auth.h"
#include "mw_shard.h"
#include "mw-place.h"
#if DOVECOT_PREREQ(2, 4, 0)
#  include "mw-settings.h"
#endif

/* the auth process refuses a module built for another ABI */
extern const char *authdb_mailshard_version;
const char *authdb_mailshard_version = DOVECOT_ABI_VERSION;

void authdb_mailshard_init(void);
void authdb_mailshard_deinit(void);

enum mailshard_set {
	MAILSHARD_SET_VOLUMES,
	MAILSHARD_SET_LAYOUT,
	MAILSHARD_SET_MAILDIR,
	MAILSHARD_SET_INDEX_DIR,
	MAILSHARD_SET_COUNT
};

/* The settings, by their 2.4 names (also the per-user field names) and
   their 2.3 args keys; in enum mailshard_set order. */
static const struct mw_auth_setting mailshard_settings[] = {
	{ "mailshard_volumes", "volumes", NULL },
	{ "mailshard_layout", "layout", NULL },
	{ "mailshard_maildir", "maildir", NULL },
	{ "mailshard_index_dir", "index_dir", NULL },
	{ NULL, NULL, NULL }
};

struct mailshard_userdb_module {
	struct userdb_module module;
	/* the configured values, NULL when unset */
	const char *set[MAILSHARD_SET_COUNT];
};

/* What the reply so far says about the user: overrides of the settings
   (by enum mailshard_set), pins (NULL when unset or empty), and whether
   it sets the mail location (2.3 "mail", 2.4 "mail_driver" or
   "mail_path"; set even when empty). */
struct mailshard_user {
	const char *set[MAILSHARD_SET_COUNT];
	const char *pin_volume, *pin_path;
	bool has_location;
};

/* mailshard_is_location - key sets the mail location */
static bool mailshard_is_location(const char *key)
{
#if DOVECOT_PREREQ(2, 4, 0)
	return strcmp(key, "mail_driver") == 0 || strcmp(key, "mail_path") == 0;
#else
	return strcmp(key, "mail") == 0;
#endif
}

/* mailshard_user_read - one pass over the reply so far, not one
   auth_fields_find() (a scan of the reply) per field: this runs once per
   login and delivery. The same answers as mw_auth_userdb_field() and
   mw_auth_userdb_has(). */
static void
mailshard_user_read(const struct auth_request *req,
		    struct mailshard_user *user_r)
{
	const ARRAY_TYPE(auth_field) *fields;
	const struct auth_field *field;
	const char *value;
	unsigned int i;

	i_zero(user_r);
	if (req->fields.userdb_reply == NULL)
		return;
	fields = auth_fields_export(req->fields.userdb_reply);
	array_foreach(fields, field) {
		/* every field that matters starts with "mail" */
		if (strncmp(field->key, "mail", 4) != 0)
			continue;
		if (mailshard_is_location(field->key)) {
			user_r->has_location = TRUE;
			continue;
		}
		value = field->value;
		if (value == NULL || *value == '\0' ||
		    strncmp(field->key + 4, "shard_", 6) != 0)
			continue;
		if (strcmp(field->key, "mailshard_volume") == 0)
			user_r->pin_volume = value;
		else if (strcmp(field->key, "mailshard_path") == 0)
			user_r->pin_path = value;
		else for (i = 0; i < MAILSHARD_SET_COUNT; i++) {
			if (strcmp(field->key, mailshard_settings[i].name) == 0) {
				user_r->set[i] = value;
				break;
			}
		}
	}
}

/* mailshard_set_location - add home and the mail location to the reply */
static void
mailshard_set_location(struct auth_request *req, const MW_SHARD_LOC *loc)
{
	auth_request_set_userdb_field(req, "home", loc->home);
#if DOVECOT_PREREQ(2, 4, 0)
	auth_request_set_userdb_field(req, "mail_driver", "maildir");
	auth_request_set_userdb_field(req, "mail_path", loc->mail_path);
	if (loc->index_path[0] != '\0') {
		auth_request_set_userdb_field(req, "mail_index_path",
					      loc->index_path);
	}
#else
	auth_request_set_userdb_field(req, "mail", loc->location);
#endif
}

/* mailshard_error - an error of mw-place.c without its "mailshard: ": the
   auth log prefix already names the driver (and the user) */
static const char *mailshard_error(const char *error)
{
	return strncmp(error, "mailshard: ", 11) == 0 ? error + 11 : error;
}

/* mailshard_settings_for - the module's settings with the user's
   overrides and pins from the reply so far */
static void
mailshard_settings_for(const struct mailshard_userdb_module *module,
		       const struct mailshard_user *user,
		       struct mw_place_settings *pset)
{
	const char *set[MAILSHARD_SET_COUNT];
	unsigned int i;

	for (i = 0; i < MAILSHARD_SET_COUNT; i++)
		set[i] = user->set[i] != NULL ? user->set[i] : module->set[i];
	i_zero(pset);
	pset->volumes = set[MAILSHARD_SET_VOLUMES];
	pset->layout = set[MAILSHARD_SET_LAYOUT];
	pset->maildir = set[MAILSHARD_SET_MAILDIR];
	pset->index_dir = set[MAILSHARD_SET_INDEX_DIR];
	pset->pin_volume = user->pin_volume;
	pset->pin_path = user->pin_path;
}

/* mailshard_place - place the user; 0, or -1 with *error_r set */
static int
mailshard_place(const struct mailshard_userdb_module *module,
		struct auth_request *req, const struct mailshard_user *user,
		const char **error_r)
{
	struct mw_place_settings pset;
	MW_SHARD_PLACE place;
	/* on the C stack (see mw_place_user()); the reply copies the
	   strings, so they are not copied to the data stack first */
	MW_SHARD_LOC loc;
	char err[MW_SHARD_ERR_MAX];

	mailshard_settings_for(module, user, &pset);
	if (mw_place_user_loc(&pset, req->fields.user, &place, &loc,
			      error_r) < 0)
		return -1;
	if (mw_shard_volume_ready(place.volume->name, place.volume->path,
				  err) < 0) {
		*error_r = t_strdup(err);
		return -1;
	}
	mailshard_set_location(req, &loc);
	e_debug(authdb_event(req),
		"mailshard: volume=%s reason=%s home=%s mail=%s",
		place.volume->name, mw_shard_reason_name(place.reason),
		loc.home, loc.location);
	return 0;
}

static void
mailshard_lookup(struct auth_request *req, userdb_callback_t *callback)
{
	const struct mailshard_userdb_module *module =
		(const struct mailshard_userdb_module *)req->userdb->userdb;
	enum userdb_result result = USERDB_RESULT_OK;
	struct mailshard_user user;
	const char *error;

#if DOVECOT_PREREQ(2, 4, 0)
	/* this userdb's own "fields { }", as the built-in drivers apply it */
	if (auth_request_set_userdb_fields(req, NULL) < 0) {
		mw_auth_userdb_tempfail(req);
		callback(USERDB_RESULT_INTERNAL_FAILURE, req);
		return;
	}
#endif
	if (!req->userdb_success) {
		/* no earlier userdb found the user (or none ran) */
		e_debug(authdb_event(req),
			"mailshard: no earlier userdb returned the user");
		callback(USERDB_RESULT_USER_UNKNOWN, req);
		return;
	}
	mailshard_user_read(req, &user);
	if (user.has_location) {
		e_debug(authdb_event(req), "mailshard: the userdb returned "
			"a mail location, leaving the user alone");
		callback(USERDB_RESULT_OK, req);
		return;
	}
	T_BEGIN {
		if (mailshard_place(module, req, &user, &error) < 0) {
			e_error(authdb_event(req), "%s", mailshard_error(error));
			mw_auth_userdb_tempfail(req);
			result = USERDB_RESULT_INTERNAL_FAILURE;
		}
	} T_END;
	callback(result, req);
}

/* mailshard_module_new - check the settings: they must place a made-up
   user (volumes, layout, maildir and index_dir as every lookup uses them) */
static int
mailshard_module_new(pool_t pool, const struct mw_auth_setting *table,
		     struct userdb_module **module_r, const char **error_r)
{
	struct mailshard_userdb_module *module;
	struct mw_place_settings pset;
	struct mw_place place;
	const char *error;
	unsigned int i;
	int ret;

	module = p_new(pool, struct mailshard_userdb_module, 1);
	for (i = 0; i < MAILSHARD_SET_COUNT; i++)
		module->set[i] = table[i].value;
	i_zero(&pset);
	pset.volumes = module->set[MAILSHARD_SET_VOLUMES];
	pset.layout = module->set[MAILSHARD_SET_LAYOUT];
	pset.maildir = module->set[MAILSHARD_SET_MAILDIR];
	pset.index_dir = module->set[MAILSHARD_SET_INDEX_DIR];
	T_BEGIN {
		ret = mw_place_user(&pset, "x", &place, &error);
		if (ret < 0)
			*error_r = p_strdup(pool, mailshard_error(error));
	} T_END;
	if (ret < 0)
		return -1;
	/* no caching key: every lookup checks the volume's marker again */
	*module_r = &module->module;
	return 0;
}

#if DOVECOT_PREREQ(2, 4, 0)
static int
mailshard_preinit(pool_t pool, struct event *event,
		  struct userdb_module **module_r, const char **error_r)
{
	struct mw_auth_setting table[N_ELEMENTS(mailshard_settings)];
	const char *error;

	memcpy(table, mailshard_settings, sizeof(table));
	/* the auth process prefixes "userdb NAME: " itself */
	if (mw_auth_settings_read(pool, event, &mw_mailshard_setting_parser_info,
				  table, &error) < 0 ||
	    mailshard_module_new(pool, table, module_r, &error) < 0) {
		*error_r = error;
		return -1;
	}
	return 0;
}
#else
static struct userdb_module *
mailshard_preinit(pool_t pool, const char *args)
{
	struct mw_auth_setting table[N_ELEMENTS(mailshard_settings)];
	struct userdb_module *module;
	const char *error;

	memcpy(table, mailshard_settings, sizeof(table));
	if (mw_auth_args_parse(pool, args, table, &error) < 0 ||
	    mailshard_module_new(pool, table, &module, &error) < 0)
		i_fatal("userdb mailshard: %s", error);
	return module;
}
#endif

static struct userdb_module_interface mailshard_userdb = {
	.name = "mailshard",
	.preinit = mailshard_preinit,
	.lookup = mailshard_lookup,
};

void authdb_mailshard_init(void)
{
	userdb_register_module(&mailshard_userdb);
}

void authdb_mailshard_deinit(void)
{
	userdb_unregister_module(&mailshard_userdb);
	mw_place_deinit();
}
