/* spam-prefs-plugin.c - per-user spam filing at delivery (LMTP and
   dovecot-lda).

   The delivery hook reads the score mailwarren-milter gave the message:
   with spam_prefs_stamp_key_file set, only the score in an
   X-Mailwarren-Stamp that verifies against the first Message-ID with one
   of the keys (spam-prefs-stamp.c; anything else, X-Spam-Score included,
   is not believed and the message is unscored); without it, the first
   X-Spam-Score header (trusted as it stands: see spam_prefs(7)). It decides
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
#include "str-sanitize.h"
#include "mail-storage.h"
#include "mail-namespace.h"
#include "mail-user.h"
#include "mail-deliver.h"
#include "mw-dovecot.h"
#include "spam-prefs-util.h"
#include "spam-prefs-stamp.h"
#include "spam-prefs-plugin.h"

#include <time.h>

const char *spam_prefs_plugin_version = DOVECOT_ABI_VERSION;
/* mail_deliver_hook_set() lives in libdovecot-lda: only lda and lmtp */
const char spam_prefs_plugin_binary_dependency[] = "lda lmtp";

static deliver_mail_func_t *next_deliver_mail;
static struct module *spam_prefs_module;

/* The keys of the last spam_prefs_stamp_key_file that loaded: a process
   delivers to many users with the same setting, so the files are read
   again only when the string changes. A failure is not cached: the next
   delivery tries again (and logs again) until the files are fixed. */
static struct {
	char *files;			/* i_strdup()ed; NULL: nothing loaded */
	struct spam_prefs_stamp_keys keys;
} spam_prefs_key_cache;

static void spam_prefs_key_cache_free(void)
{
	i_free(spam_prefs_key_cache.files);
	i_zero(&spam_prefs_key_cache);
}

/* spam_prefs_stamp_keys - the keys of files, or NULL with *error_r */
static const struct spam_prefs_stamp_keys *
spam_prefs_stamp_keys(const char *files, const char **error_r)
{
	struct spam_prefs_stamp_keys keys;
	char err[512];

	if (spam_prefs_key_cache.files != NULL &&
	    strcmp(spam_prefs_key_cache.files, files) == 0)
		return &spam_prefs_key_cache.keys;
	if (spam_prefs_stamp_keys_load(files, &keys, err, sizeof(err)) < 0) {
		*error_r = t_strdup(err);
		return NULL;
	}
	spam_prefs_key_cache_free();
	spam_prefs_key_cache.files = i_strdup(files);
	spam_prefs_key_cache.keys = keys;
	return &spam_prefs_key_cache.keys;
}

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

/* spam_prefs_read_header - the first X-Spam-Score, Message-ID and
   X-Mailwarren-Stamp fields asked for: 0, or -1 with *error_r

   Scans the incoming message's header block with the small scanner of
   spam-prefs-util.c and stops when every field asked for was read, or at
   the end of the header: Dovecot's header parser
   (message_parse_header_next()) spent about 1,500 instructions per header
   line on work this does not need, and mail_get_first_header() on the raw
   delivery mail three to four times as much. */
static int
spam_prefs_read_header(struct mail *mail, struct spam_prefs_hdr_scan *scan,
		       unsigned int wanted, const char **error_r)
{
	struct istream *input;
	const unsigned char *data;
	size_t size;

	spam_prefs_hdr_scan_init_fields(scan, wanted);
	if (mail_get_hdr_stream(mail, NULL, &input) < 0) {
		*error_r = mailbox_get_last_internal_error(mail->box, NULL);
		return -1;
	}
	while (!scan->done && i_stream_read_more(input, &data, &size) > 0)
		i_stream_skip(input, spam_prefs_hdr_scan(scan, data, size));
	if (!scan->done && input->stream_errno != 0) {
		*error_r = i_stream_get_error(input);
		return -1;
	}
	return 0;
}

/* spam_prefs_score - the score to believe: true with *score_r, or false
   with *reason_r (why none) and *why_r (detail for the log, or NULL) */
static bool
spam_prefs_score(struct mail_deliver_context *ctx, const char *key_files,
		 const char *max_age_str, long *score_r,
		 enum spam_prefs_reason *reason_r, const char **why_r)
{
	struct spam_prefs_hdr_scan *scan;
	const struct spam_prefs_stamp_keys *keys = NULL;
	const char *errstr, *value;
	long long max_age = 0;
	char err[256];

	*reason_r = SPAM_PREFS_REASON_NO_SCORE;
	*why_r = NULL;
	if (key_files != NULL &&
	    (keys = spam_prefs_stamp_keys(key_files, &errstr)) == NULL) {
		e_error(ctx->event, "spam_prefs: spam_prefs_stamp_key_file: "
			"%s: no score is believed (the message goes to "
			"INBOX)", errstr);
		*reason_r = SPAM_PREFS_REASON_KEY_ERROR;
		return FALSE;
	}
	if (keys != NULL && max_age_str != NULL &&
	    spam_prefs_parse_age(max_age_str, &max_age) < 0) {
		e_error(ctx->event, "spam_prefs: invalid "
			"spam_prefs_stamp_max_age '%s' (seconds, or with s, m, "
			"h or d): no score is believed (the message goes to "
			"INBOX)", max_age_str);
		*reason_r = SPAM_PREFS_REASON_KEY_ERROR;
		return FALSE;
	}
	scan = t_new(struct spam_prefs_hdr_scan, 1);
	if (spam_prefs_read_header(ctx->src_mail, scan, keys == NULL ?
			SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_SCORE) :
			SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_MSGID) |
			SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_STAMP), &errstr) < 0) {
		e_error(ctx->event, "spam_prefs: reading the header failed: "
			"%s", errstr);
		return FALSE;
	}
	if (keys == NULL) {
		/* no key: X-Spam-Score as it stands */
		value = spam_prefs_hdr_scan_value(scan);
		return value != NULL && spam_prefs_parse_score(value, score_r) == 0;
	}
	if (spam_prefs_stamp_score(keys,
			spam_prefs_hdr_scan_field(scan, SPAM_PREFS_HDR_STAMP),
			spam_prefs_hdr_scan_field(scan, SPAM_PREFS_HDR_MSGID),
			(long long) time(NULL), max_age, score_r, reason_r,
			err, sizeof(err)) < 0) {
		if (*reason_r == SPAM_PREFS_REASON_BAD_STAMP)
			*why_r = t_strdup(err);
		return FALSE;
	}
	return TRUE;
}

/* spam_prefs_decide_mail - 1 to discard, 0 to go on (maybe to Junk) */
static int
spam_prefs_decide_mail(struct mail_deliver_context *ctx,
		       const struct mw_settings *set)
{
	struct spam_prefs_decision d;
	struct event *event;
	enum spam_prefs_action action;
	enum spam_prefs_reason unscored;
	const char *thr_str, *act_str, *mailbox, *sender, *key_files, *why;
	char score_buf[SPAM_PREFS_SCORE_BUF];
	long score = 0, threshold;
	bool have_score;

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

	key_files = mw_settings_str(set, "spam_prefs_stamp_key_file");
	have_score = spam_prefs_score(ctx, key_files,
		mw_settings_str(set, "spam_prefs_stamp_max_age"),
		&score, &unscored, &why);

	sender = ctx->mail_from == NULL || smtp_address_isnull(ctx->mail_from) ?
		NULL : smtp_address_encode(ctx->mail_from);
	d = spam_prefs_decide(
		spam_prefs_list_match(mw_settings_str(set,
					"spam_prefs_allow"), sender),
		spam_prefs_list_match(mw_settings_str(set,
					"spam_prefs_deny"), sender),
		have_score, score, threshold);
	if (d.reason == SPAM_PREFS_REASON_NO_SCORE)
		d.reason = unscored;	/* no-stamp, bad-stamp, ... */

	/* the named event "spam_prefs_filing" (fields action: inbox, junk,
	   discard, keep; reason), which Dovecot's metric blocks count */
	event = event_create(ctx->event);
	event_set_name(event, "spam_prefs_filing");
	event_add_str(event, "action", !d.spam ? "inbox" :
		      spam_prefs_action_name(action));
	event_add_str(event, "reason", spam_prefs_reason_name(d.reason));
	e_info(event, "spam_prefs: from=<%s> score=%s threshold=%s "
	       "action=%s reason=%s%s%s%s", sender == NULL ? "" : sender,
	       !have_score ? "none" : spam_prefs_format_score(score, score_buf),
	       thr_str, !d.spam ? "inbox" :
	       action == SPAM_PREFS_ACTION_JUNK ?
	       t_strdup_printf("junk:%s", mailbox) :
	       spam_prefs_action_name(action),
	       spam_prefs_reason_name(d.reason),
	       key_files == NULL ? "" : have_score ? " stamp=ok" : "",
	       why == NULL ? "" : " stamp=\"", why == NULL ? "" :
	       t_strconcat(str_sanitize_utf8(why, 200), "\"", NULL));
	event_unref(&event);
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
	spam_prefs_key_cache_free();
}
