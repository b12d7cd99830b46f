/* doveadm-mailshard.c - "doveadm mailshard where" and "doveadm mailshard
   plan": where users live, and who would move if a volume were added.

   Both are mail commands: doveadm looks each user up and runs the mail
   plugins' hooks, so mailshard (which must be in mail_plugins) has placed
   the user by the time run() is called; mailshard_user_get_info() comes
   from lib20_mailshard_plugin.so, which doveadm loads before it loads this
   plugin a second time (the first attempt fails quietly on that symbol).
   plan recomputes the hashed volume with lib/mw_shard.c over the user's
   own mailshard_volumes plus the new volume; pinned users never move. */

#include "lib.h"
#include "doveadm-mail.h"
#include "doveadm-print.h"
#include "mail-user.h"
#include "mw-dovecot.h"
#include "mw-doveadm.h"
#include "mw-place.h"
#include "mailshard-plugin.h"

const char *doveadm_mailshard_plugin_version = DOVECOT_ABI_VERSION;

void doveadm_mailshard_plugin_init(struct module *module);
void doveadm_mailshard_plugin_deinit(void);

struct plan_cmd_context {
	struct doveadm_mail_cmd_context ctx;
	const char *add_volume;
	unsigned int users, moving;
};

/* cmd_where_run - one row: user, volume, reason, home, mail */
static int
cmd_where_run(struct doveadm_mail_cmd_context *ctx ATTR_UNUSED,
	      struct mail_user *user)
{
	const struct mailshard_user_info *info = mailshard_user_get_info(user);
	const char *home;

	if (mail_user_get_home(user, &home) <= 0)
		home = "";
	doveadm_print(user->username);
	doveadm_print(info == NULL ? "-" : info->volume);
	doveadm_print(info == NULL ? "userdb-mail" : info->reason);
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

/* cmd_plan_run - a row for each hashed user whose volume would change */
static int
cmd_plan_run(struct doveadm_mail_cmd_context *_ctx, struct mail_user *user)
{
	struct plan_cmd_context *ctx = (struct plan_cmd_context *)_ctx;
	const struct mailshard_user_info *info = mailshard_user_get_info(user);
	struct mw_place_settings pset;
	struct mw_place place;
	struct mw_settings *set;
	const char *error;
	int ret;

	ctx->users++;
	if (info == NULL || strcmp(info->reason, "hash") != 0)
		return 0;	/* pinned or userdb mail: never moves */
	if ((set = mw_settings_get(user, MW_SETTINGS_MAILSHARD, &error)) == NULL) {
		i_error("mailshard plan: %s", error);
		doveadm_mail_failed_error(_ctx, MAIL_ERROR_TEMP);
		return -1;
	}
	/* the user's own settings, with the new volume; no pins (hashed) */
	i_zero(&pset);
	pset.volumes = t_strconcat(mw_settings_str(set, "mailshard_volumes"),
				   " ", ctx->add_volume, NULL);
	pset.layout = mw_settings_str(set, "mailshard_layout");
	pset.maildir = mw_settings_str(set, "mailshard_maildir");
	ret = mw_place_user(&pset, user->username, &place, &error);
	mw_settings_free(&set);
	if (ret < 0) {
		i_error("mailshard plan: %s", error);
		doveadm_mail_failed_error(_ctx, MAIL_ERROR_PARAMS);
		return -1;
	}
	if (strcmp(place.volume, info->volume) != 0) {
		ctx->moving++;
		doveadm_print(user->username);
		doveadm_print(info->volume);
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
