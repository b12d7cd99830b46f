#ifndef MW_DOVEADM_H
#define MW_DOVEADM_H

/* mw-doveadm.h - the doveadm part of the Dovecot version layer (see
   mw-dovecot.h): mail command parameters, which 2.3 passes through
   getopt and 2.4 only by name. */

#include "doveadm-mail.h"

/* doveadm mail commands. A command's init() is declared
	static void cmd_x_init(MW_DOVEADM_INIT_ARGS(ctx))
   and its string options (DOVEADM_CMD_PARAM('a', "add-volume",
   CMD_PARAM_STR, 0)) are read there with mw_doveadm_param_str(); the
   command's alloc() calls mw_doveadm_accept_options(ctx, "a:") with the
   getopt letters of those options (2.3 still runs them through getopt
   and refuses the command without a parse_arg; 2.4 has no getopt). */
#if DOVECOT_PREREQ(2, 4, 0)
#  define MW_DOVEADM_INIT_ARGS(ctx) struct doveadm_mail_cmd_context *ctx
#else
#  define MW_DOVEADM_INIT_ARGS(ctx) struct doveadm_mail_cmd_context *ctx, \
	const char *const mw_doveadm_args[] ATTR_UNUSED
#endif
void mw_doveadm_accept_options(struct doveadm_mail_cmd_context *ctx,
			       const char *getopt_args);
/* The value of the string parameter NAME, NULL if not given. */
const char *mw_doveadm_param_str(struct doveadm_mail_cmd_context *ctx,
				 const char *name);

#endif
