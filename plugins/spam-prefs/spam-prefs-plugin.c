/* spam-prefs-plugin.c - per-user spam filing at delivery (LMTP and
   dovecot-lda).

   The delivery hook reads the first X-Spam-Score header (written by
   mailwarren-milter, which strips forged copies at the border), decides
   with spam-prefs-util.c from the user's settings (userdb extra fields
   over the site's spam_prefs_* settings: plugin { } on Dovecot 2.3,
   declared settings on 2.4, read through plugins/common/mw-dovecot.h),
   logs one line per decision and then:
     junk    - creates and subscribes spam_prefs_mailbox on first use and
               makes it the default mailbox, so the next hook's implicit
               keep (Pigeonhole's) or mail_deliver()'s own save files there;
     discard - returns 1 ("handled"): the message is accepted and stored
               nowhere; the next hook is not run;
     keep    - changes nothing.
   Pigeonhole's hook never calls the one it replaced, so this plugin must
   initialise after lib90_sieve: its file is lib95_spam_prefs_plugin.so.
   Any problem (bad setting, unreadable header, Junk not creatable) leaves
   the delivery to the normal path: mail is never lost here. */

#include "lib.h"
/* istream.h declares a callback type without a prototype */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include "istream.h"
#pragma GCC diagnostic pop
#include "smtp-address.h"
#include "mail-storage.h"
#include "mail-namespace.h"
#include "mail-user.h"
#include "mail-deliver.h"
#include "mw-dovecot.h"
#include "spam-prefs-util.h"
#include "spam-prefs-plugin.h"

const char *spam_prefs_plugin_version = DOVECOT_ABI_VERSION;
/* mail_deliver_hook_set() lives in libdovecot-lda: only lda and lmtp */
const char spam_prefs_plugin_binary_dependency[] = "lda lmtp";

static deliver_mail_func_t *next_deliver_mail;
static struct module *spam_prefs_module;

/* spam_prefs_setting - a setting, or its default when unset or empty */
static const char *
spam_prefs_setting(const struct mw_settings *set, const char *name,
		   const char *def)
{
	const char *value = mw_settings_str(set, name);

	return value == NULL ? def : value;
}

/* spam_prefs_mailbox_ensure - create and subscribe the mailbox if missing */
static int
spam_prefs_mailbox_ensure(struct mail_deliver_context *ctx, const char *name)
{
	struct mail_namespace *ns;
	struct mailbox *box;
	enum mail_error error;
	const char *errstr;
	int ret = 0;

	ns = mail_namespace_find(ctx->rcpt_user->namespaces, name);
	box = mailbox_alloc(ns->list, name, 0);
	if (mailbox_create(box, NULL, FALSE) < 0) {
		errstr = mailbox_get_last_error(box, &error);
		if (error != MAIL_ERROR_EXISTS) {
			e_error(ctx->event, "spam_prefs: cannot create mailbox "
				"%s: %s", name, errstr);
			ret = -1;
		}
	} else if (mailbox_set_subscribed(box, TRUE) < 0) {
		e_error(ctx->event, "spam_prefs: cannot subscribe mailbox "
			"%s: %s", name, mailbox_get_last_internal_error(box, NULL));
	} else {
		e_info(ctx->event, "spam_prefs: created and subscribed %s", name);
	}
	mailbox_free(&box);
	return ret;
}

/* spam_prefs_score_header - the first X-Spam-Score: 1 found, 0 none,
   -1 error (*error_r says why)

   Scans the incoming message's header block with the small scanner of
   spam-prefs-util.c and stops at the field, or at the end of the header:
   Dovecot's header parser (message_parse_header_next()) spent about
   1,500 instructions per header line on work this does not need, and
   mail_get_first_header() on the raw delivery mail three to four times
   as much. */
static int
spam_prefs_score_header(struct mail *mail, const char **value_r,
			const char **error_r)
{
	struct spam_prefs_hdr_scan scan;
	struct istream *input;
	const unsigned char *data;
	const char *value;
	size_t size;

	*value_r = NULL;
	if (mail_get_hdr_stream(mail, NULL, &input) < 0) {
		*error_r = mailbox_get_last_internal_error(mail->box, NULL);
		return -1;
	}
	spam_prefs_hdr_scan_init(&scan);
	while (!scan.done && i_stream_read_more(input, &data, &size) > 0)
		i_stream_skip(input, spam_prefs_hdr_scan(&scan, data, size));
	if (!scan.done && input->stream_errno != 0) {
		*error_r = i_stream_get_error(input);
		return -1;
	}
	if ((value = spam_prefs_hdr_scan_value(&scan)) == NULL)
		return 0;
	*value_r = t_strdup(value);
	return 1;
}

/* spam_prefs_decide_mail - 1 to discard, 0 to go on (maybe to Junk) */
static int
spam_prefs_decide_mail(struct mail_deliver_context *ctx,
		       const struct mw_settings *set)
{
	struct spam_prefs_decision d;
	enum spam_prefs_action action;
	const char *thr_str, *act_str, *mailbox, *header = NULL, *sender;
	const char *errstr;
	char score_buf[SPAM_PREFS_SCORE_BUF];
	long score = 0, threshold;
	bool have_score;
	int ret;

	thr_str = spam_prefs_setting(set, "spam_prefs_threshold",
				     SPAM_PREFS_DEFAULT_THRESHOLD);
	act_str = spam_prefs_setting(set, "spam_prefs_action", "junk");
	mailbox = spam_prefs_setting(set, "spam_prefs_mailbox",
				     SPAM_PREFS_DEFAULT_MAILBOX);
	if (spam_prefs_parse_score(thr_str, &threshold) < 0 ||
	    spam_prefs_parse_action(act_str, &action) < 0) {
		e_error(ctx->event, "spam_prefs: invalid spam_prefs_threshold "
			"'%s' or spam_prefs_action '%s' (junk|discard|keep): "
			"delivering normally", thr_str, act_str);
		return 0;
	}

	ret = spam_prefs_score_header(ctx->src_mail, &header, &errstr);
	if (ret < 0) {
		e_error(ctx->event, "spam_prefs: reading X-Spam-Score failed: "
			"%s", errstr);
		header = NULL;
	}
	have_score = header != NULL && ret > 0 &&
		spam_prefs_parse_score(header, &score) == 0;

	sender = ctx->mail_from == NULL || smtp_address_isnull(ctx->mail_from) ?
		NULL : smtp_address_encode(ctx->mail_from);
	d = spam_prefs_decide(
		spam_prefs_list_match(mw_settings_str(set,
					"spam_prefs_allow"), sender),
		spam_prefs_list_match(mw_settings_str(set,
					"spam_prefs_deny"), sender),
		have_score, score, threshold);

	e_info(ctx->event, "spam_prefs: from=<%s> score=%s threshold=%s "
	       "action=%s reason=%s", sender == NULL ? "" : sender,
	       !have_score ? "none" : spam_prefs_format_score(score, score_buf),
	       thr_str, !d.spam ? "inbox" :
	       action == SPAM_PREFS_ACTION_JUNK ?
	       t_strdup_printf("junk:%s", mailbox) :
	       spam_prefs_action_name(action),
	       spam_prefs_reason_name(d.reason));
	if (!d.spam)
		return 0;

	switch (action) {
	case SPAM_PREFS_ACTION_DISCARD:
		return 1;
	case SPAM_PREFS_ACTION_JUNK:
		/* if it cannot be created, mail_deliver() falls back to INBOX */
		if (spam_prefs_mailbox_ensure(ctx, mailbox) == 0)
			ctx->rcpt_default_mailbox = p_strdup(ctx->pool, mailbox);
		return 0;
	case SPAM_PREFS_ACTION_KEEP:
		break;
	}
	return 0;
}

/* spam_prefs_deliver_mail - the delivery hook; chains to the next one */
static int spam_prefs_deliver_mail(struct mail_deliver_context *ctx,
				   struct mail_storage **storage_r)
{
	struct mw_settings *set;
	const char *error;
	int ret = 0;

	/* the hook is per process; honour per-user mail_plugins */
	if (mail_user_is_plugin_loaded(ctx->rcpt_user, spam_prefs_module)) {
		T_BEGIN {
			set = mw_settings_get(ctx->rcpt_user,
					      MW_SETTINGS_SPAM_PREFS, &error);
			if (set == NULL) {
				e_error(ctx->event, "spam_prefs: reading the "
					"settings failed: %s: delivering "
					"normally", error);
			} else {
				ret = spam_prefs_decide_mail(ctx, set);
				mw_settings_free(&set);
			}
		} T_END;
	}
	if (ret > 0)
		return ret;	/* discarded: handled, nothing saved */
	if (next_deliver_mail != NULL)
		return next_deliver_mail(ctx, storage_r);
	/* 0: mail_deliver() saves to ctx->rcpt_default_mailbox */
	return 0;
}

void spam_prefs_plugin_init(struct module *module)
{
	spam_prefs_module = module;
	next_deliver_mail = mail_deliver_hook_set(spam_prefs_deliver_mail);
}

void spam_prefs_plugin_deinit(void)
{
	mail_deliver_hook_set(next_deliver_mail);
}
