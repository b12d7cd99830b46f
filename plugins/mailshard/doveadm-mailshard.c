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
#include "mail-storage-settings.h"
#include "mw_shard.h"
#include "mailshard-plugin.h"

#include <getopt.h>

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
	doveadm_print(mail_user_set_get_storage_set(user)->mail_location);
	return 0;
}

static void
cmd_where_init(struct doveadm_mail_cmd_context *ctx ATTR_UNUSED,
	       const char *const args[] ATTR_UNUSED)
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
	const char *volumes;
	char err[MW_SHARD_ERR_MAX];
	MW_SHARD_PLACE place;
	MW_SHARD *shard;
	int ret = 0;

	ctx->users++;
	if (info == NULL || strcmp(info->reason, "hash") != 0)
		return 0;	/* pinned or userdb mail: never moves */
	volumes = t_strconcat(mail_user_plugin_getenv(user, "mailshard_volumes"),
			      " ", ctx->add_volume, NULL);
	shard = mw_shard_create(volumes,
		mail_user_plugin_getenv(user, "mailshard_layout"), err);
	if (shard == NULL) {
		i_error("mailshard plan: %s", err);
		doveadm_mail_failed_error(_ctx, MAIL_ERROR_PARAMS);
		return -1;
	}
	if (mw_shard_place(shard, user->username, NULL, NULL, &place, err) < 0) {
		i_error("mailshard plan: %s", err);
		ret = -1;
	} else if (strcmp(place.volume->name, info->volume) != 0) {
		ctx->moving++;
		doveadm_print(user->username);
		doveadm_print(info->volume);
		doveadm_print(place.volume->name);
		doveadm_print(place.path);
	}
	mw_shard_free(shard);
	return ret;
}

static bool cmd_plan_parse_arg(struct doveadm_mail_cmd_context *_ctx, int c)
{
	struct plan_cmd_context *ctx = (struct plan_cmd_context *)_ctx;

	if (c != 'a')
		return FALSE;
	ctx->add_volume = p_strdup(_ctx->pool, optarg);
	return TRUE;
}

static void
cmd_plan_init(struct doveadm_mail_cmd_context *_ctx,
	      const char *const args[] ATTR_UNUSED)
{
	struct plan_cmd_context *ctx = (struct plan_cmd_context *)_ctx;

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
	ctx->ctx.getopt_args = "a:";
	ctx->ctx.v.parse_arg = cmd_plan_parse_arg;
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
