/* mw-doveadm.c - the doveadm part of the Dovecot version layer. */

#include "lib.h"
#include "doveadm-mail.h"
#include "doveadm-cmd.h"
#include "mw-doveadm.h"

#if !DOVECOT_PREREQ(2, 4, 0)
/* mw_doveadm_parse_arg - 2.3: doveadm turns each short option back into
   getopt form and refuses the command unless parse_arg accepts it; the
   value is read by name in init(), as on 2.4 */
static bool mw_doveadm_parse_arg(struct doveadm_mail_cmd_context *ctx, int c)
{
	return c != ':' && strchr(ctx->getopt_args, c) != NULL;
}
#endif

void mw_doveadm_accept_options(struct doveadm_mail_cmd_context *ctx,
			       const char *getopt_args)
{
#if DOVECOT_PREREQ(2, 4, 0)
	(void)ctx;
	(void)getopt_args;
#else
	ctx->getopt_args = p_strdup(ctx->pool, getopt_args);
	ctx->v.parse_arg = mw_doveadm_parse_arg;
#endif
}

const char *mw_doveadm_param_str(struct doveadm_mail_cmd_context *ctx,
				 const char *name)
{
	const char *value;

	if (ctx->cctx == NULL || !doveadm_cmd_param_str(ctx->cctx, name, &value))
		return NULL;
	return value;
}
