/* doveadm-mailshard.c - "doveadm mailshard where" and "doveadm mailshard
   plan": where users live, and who would move if a volume were added.

   Both are mail commands: doveadm looks each user up (the auth process's
   userdb, the auth module "mailshard" included) and runs the mail
   plugins' hooks (the mailshard plugin, if loaded, included), so the user
   has its final home and mail location by the time run() is called. The
   placement is recomputed here with the same function as both routes
   (mw_place_user(), plugins/common/mw-place.c) from the settings as the
   userdb "mailshard" sees them (mw_settings_get_userdb()), and reported
   only when it gives exactly the home and location the user has: then
   the user was placed by mailshard, by the auth module or by the plugin,
   and where and plan show what doveadm user shows. A user whose userdb
   set another location is "userdb-mail"; one with neither is "unplaced".
   plan recomputes the hashed volume with the user's own mailshard_volumes
   plus the new volume; pinned users never move. This plugin needs no
   other mailwarren module loaded. */

#include "lib.h"
#include "doveadm-mail.h"
#include "doveadm-print.h"
#include "mail-user.h"
#include "mw-dovecot.h"
#include "mw-doveadm.h"
#include "mw-place.h"

/* the userdb block whose settings the auth module reads (2.4) */
#define MSD_USERDB	"mailshard"

const char *doveadm_mailshard_plugin_version = DOVECOT_ABI_VERSION;

void doveadm_mailshard_plugin_init(struct module *module);
void doveadm_mailshard_plugin_deinit(void);

/* Where mailshard put a user, as recomputed; strings on the data stack. */
struct msd_place {
	const char *volume;	/* "-" unless placed */
	const char *reason;	/* hash, pin-volume, pin-path, userdb-mail,
				   unplaced */
	/* the settings it was placed with */
	struct mw_place_settings set;
};

/* msd_str - the user's userdb field NAME, else the setting, as the auth
   module takes them; copied to the data stack (it outlives the lookup) */
static const char *msd_str(struct mail_user *user,
			   const struct mw_settings *set, const char *name)
{
	const char *value = mw_user_userdb_field(user, name);

	if (value == NULL)
		value = mw_settings_str(set, name);
	return value == NULL ? NULL : t_strdup(value);
}

/* msd_placement - the user's placement, if mailshard gave it the home and
   location it has; -1 only when Dovecot gave no settings */
static int msd_placement(struct mail_user *user, struct msd_place *r,
			 const char **error_r)
{
	struct mw_settings *set;
	struct mw_place place;
	const char *home, *error;

	i_zero(r);
	r->volume = "-";
	r->reason = mw_user_has_userdb_location(user) ? "userdb-mail" :
		"unplaced";
	set = mw_settings_get_userdb(user, MW_SETTINGS_MAILSHARD, MSD_USERDB,
				     error_r);
	if (set == NULL)
		return -1;
	r->set.volumes = msd_str(user, set, "mailshard_volumes");
	r->set.layout = msd_str(user, set, "mailshard_layout");
	r->set.maildir = msd_str(user, set, "mailshard_maildir");
	r->set.index_dir = msd_str(user, set, "mailshard_index_dir");
	r->set.pin_volume = msd_str(user, set, "mailshard_volume");
	r->set.pin_path = msd_str(user, set, "mailshard_path");
	mw_settings_free(&set);
	if (r->set.volumes == NULL ||
	    mw_place_user(&r->set, user->username, &place, &error) < 0 ||
	    mail_user_get_home(user, &home) <= 0 ||
	    strcmp(home, place.home) != 0 ||
	    strcmp(mw_user_mail_location(user), place.location) != 0)
		return 0;
	r->volume = place.volume;
	r->reason = place.reason;
	return 0;
}

/* cmd_where_run - one row: user, volume, reason, home, mail */
static int
cmd_where_run(struct doveadm_mail_cmd_context *ctx, struct mail_user *user)
{
	struct msd_place pl;
	const char *home, *error;

	if (msd_placement(user, &pl, &error) < 0) {
		i_error("mailshard where: %s", error);
		doveadm_mail_failed_error(ctx, MAIL_ERROR_TEMP);
		return -1;
	}
	if (mail_user_get_home(user, &home) <= 0)
		home = "";
	doveadm_print(user->username);
	doveadm_print(pl.volume);
	doveadm_print(pl.reason);
	doveadm_print(home);
	doveadm_print(mw_user_mail_location(user));
	return 0;
}

static void cmd_where_init(MW_DOVEADM_INIT_ARGS(ctx ATTR_UNUSED))
{
	doveadm_print_header_simple("user");
	doveadm_print_header_simple("volume");
	doveadm_print_header_simple("reason");
	doveadm_print_header_simple("home");
	doveadm_print_header_simple("mail");
}

static struct doveadm_mail_cmd_context *cmd_where_alloc(void)
{
	struct doveadm_mail_cmd_context *ctx;

	ctx = doveadm_mail_cmd_alloc(struct doveadm_mail_cmd_context);
	ctx->v.init = cmd_where_init;
	ctx->v.run = cmd_where_run;
	doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
	return ctx;
}

struct plan_cmd_context {
	struct doveadm_mail_cmd_context ctx;
	const char *add_volume;
	unsigned int users, moving;
};

/* cmd_plan_run - a row for each hashed user whose volume would change */
static int
cmd_plan_run(struct doveadm_mail_cmd_context *_ctx, struct mail_user *user)
{
	struct plan_cmd_context *ctx = (struct plan_cmd_context *)_ctx;
	struct msd_place pl;
	struct mw_place_settings pset;
	struct mw_place place;
	const char *error;

	if (msd_placement(user, &pl, &error) < 0) {
		i_error("mailshard plan: %s", error);
		doveadm_mail_failed_error(_ctx, MAIL_ERROR_TEMP);
		return -1;
	}
	ctx->users++;
	if (strcmp(pl.reason, "hash") != 0)
		return 0;	/* pinned, userdb mail or unplaced: never moves */
	/* the user's own settings, with the new volume; no pins (hashed) */
	i_zero(&pset);
	pset.volumes = t_strconcat(pl.set.volumes, " ", ctx->add_volume, NULL);
	pset.layout = pl.set.layout;
	pset.maildir = pl.set.maildir;
	if (mw_place_user(&pset, user->username, &place, &error) < 0) {
		i_error("mailshard plan: %s", error);
		doveadm_mail_failed_error(_ctx, MAIL_ERROR_PARAMS);
		return -1;
	}
	if (strcmp(place.volume, pl.volume) != 0) {
		ctx->moving++;
		doveadm_print(user->username);
		doveadm_print(pl.volume);
		doveadm_print(place.volume);
		doveadm_print(place.home);
	}
	return 0;
}

static void cmd_plan_init(MW_DOVEADM_INIT_ARGS(_ctx))
{
	struct plan_cmd_context *ctx = (struct plan_cmd_context *)_ctx;

	ctx->add_volume = mw_doveadm_param_str(_ctx, "add-volume");
	if (ctx->add_volume == NULL || ctx->add_volume[0] == '\0')
		doveadm_mail_help_name("mailshard plan");
	doveadm_print_header_simple("user");
	doveadm_print_header_simple("from");
	doveadm_print_header_simple("to");
	doveadm_print_header_simple("new home");
}

/* cmd_plan_deinit - the summary: count and fraction */
static void cmd_plan_deinit(struct doveadm_mail_cmd_context *_ctx)
{
	struct plan_cmd_context *ctx = (struct plan_cmd_context *)_ctx;

	if (ctx->users == 0)
		return;
	doveadm_print_flush();
	printf("mailshard plan: adding %s moves %u of %u users (%.2f%%)\n",
	       ctx->add_volume, ctx->moving, ctx->users,
	       100.0 * ctx->moving / ctx->users);
}

static struct doveadm_mail_cmd_context *cmd_plan_alloc(void)
{
	struct plan_cmd_context *ctx;

	ctx = doveadm_mail_cmd_alloc(struct plan_cmd_context);
	mw_doveadm_accept_options(&ctx->ctx, "a:");
	ctx->ctx.v.init = cmd_plan_init;
	ctx->ctx.v.run = cmd_plan_run;
	ctx->ctx.v.deinit = cmd_plan_deinit;
	doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
	return &ctx->ctx;
}

static struct doveadm_cmd_ver2 mailshard_commands[] = {
	{
		.name = "mailshard where",
		.usage = DOVEADM_CMD_MAIL_USAGE_PREFIX,
		.mail_cmd = cmd_where_alloc,
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_MAIL_COMMON
DOVEADM_CMD_PARAMS_END
	},
	{
		.name = "mailshard plan",
		.usage = DOVEADM_CMD_MAIL_USAGE_PREFIX
			"--add-volume <name>=<path>[:<weight>]",
		.mail_cmd = cmd_plan_alloc,
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_MAIL_COMMON
DOVEADM_CMD_PARAM('a', "add-volume", CMD_PARAM_STR, 0)
DOVEADM_CMD_PARAMS_END
	},
};

void doveadm_mailshard_plugin_init(struct module *module ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(mailshard_commands); i++)
		doveadm_cmd_register_ver2(&mailshard_commands[i]);
}

void doveadm_mailshard_plugin_deinit(void)
{
}
