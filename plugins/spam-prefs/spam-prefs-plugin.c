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
   A user's setting that does not parse (a threshold, action or allow
   bound that is not one, an allow or deny list with control characters
   or too long: the userdb values come from a directory the user edits)
   is refused with a log line naming the user and the field, and the
   delivery to that user tempfails (LMTP 451, dovecot-lda EX_TEMPFAIL)
   rather than filing the mail by a guess. Any other problem (unreadable
   header or key, Junk not creatable) leaves the delivery to the normal
   path: mail is never lost here.
   The lists match the envelope sender and the From: addresses, with
   SpamAssassin's whitelist_from patterns; an allowed sender wins only
   below spam_prefs_allow_max_score (spam_prefs(7) FORGED SENDERS). */

#include "lib.h"
/* istream.h declares a callback type without a prototype */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include "istream.h"
#pragma GCC diagnostic pop
#include "smtp-address.h"
#include "message-address.h"
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
   with *reason_r (why none) and *why_r (detail for the log, or NULL);
   with want_from, *from_r is the first From: value (NULL if none) */
static bool
spam_prefs_score(struct mail_deliver_context *ctx, const char *key_files,
		 const char *max_age_str, bool want_from, long *score_r,
		 enum spam_prefs_reason *reason_r, const char **why_r,
		 const char **from_r)
{
	struct spam_prefs_hdr_scan *scan;
	const struct spam_prefs_stamp_keys *keys = NULL;
	const char *errstr, *value;
	long long max_age = 0;
	unsigned int wanted;
	bool key_error;
	char err[256];

	*reason_r = SPAM_PREFS_REASON_NO_SCORE;
	*why_r = NULL;
	*from_r = NULL;
	if (key_files != NULL &&
	    (keys = spam_prefs_stamp_keys(key_files, &errstr)) == NULL) {
		e_error(ctx->event, "spam_prefs: spam_prefs_stamp_key_file: "
			"%s: no score is believed (the message goes to "
			"INBOX)", errstr);
		*reason_r = SPAM_PREFS_REASON_KEY_ERROR;
	} else if (keys != NULL && max_age_str != NULL &&
		   spam_prefs_parse_age(max_age_str, &max_age) < 0) {
		e_error(ctx->event, "spam_prefs: invalid "
			"spam_prefs_stamp_max_age '%s' (seconds, or with s, m, "
			"h or d): no score is believed (the message goes to "
			"INBOX)", max_age_str);
		*reason_r = SPAM_PREFS_REASON_KEY_ERROR;
	}
	key_error = *reason_r == SPAM_PREFS_REASON_KEY_ERROR;
	if (key_error && !want_from)
		return FALSE;

	/* what to read: From: for the lists; the score's fields unless
	   no score can be believed */
	wanted = want_from ? SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_FROM) : 0;
	if (!key_error && keys == NULL)
		wanted |= SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_SCORE);
	else if (!key_error)
		wanted |= SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_MSGID) |
			SPAM_PREFS_HDR_BIT(SPAM_PREFS_HDR_STAMP);
	scan = t_new(struct spam_prefs_hdr_scan, 1);
	if (spam_prefs_read_header(ctx->src_mail, scan, wanted, &errstr) < 0) {
		e_error(ctx->event, "spam_prefs: reading the header failed: "
			"%s", errstr);
		return FALSE;
	}
	if (want_from &&
	    (value = spam_prefs_hdr_scan_field(scan, SPAM_PREFS_HDR_FROM)) != NULL)
		*from_r = t_strdup(value);
	if (key_error)
		return FALSE;
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

/* A user's settings, checked before anything is read: thresholds,
   action and lists come from the userdb, i.e. from a directory that the
   user edits (SpamAssassin's userpref table through the webmail), so a
   value that does not parse is refused and the user's mail tempfailed
   (LMTP 451, dovecot-lda EX_TEMPFAIL) until it is fixed: filing it with
   a guessed setting could misfile it. */
struct spam_prefs_user {
	const char *thr_str, *mailbox, *allow, *deny;
	long threshold, allow_max;
	enum spam_prefs_action action;
};

/* spam_prefs_refuse - log the bad field, tempfail the delivery: -1 */
static int
spam_prefs_refuse(struct mail_deliver_context *ctx, const char *field,
		  const char *value, const char *why)
{
	e_error(ctx->event, "spam_prefs: user=%s: invalid %s '%s'%s%s%s: "
		"mail to this user is tempfailed until it is fixed",
		ctx->rcpt_user->username, field, str_sanitize(value, 64),
		why == NULL ? "" : " (", why == NULL ? "" : why,
		why == NULL ? "" : ")");
	ctx->tempfail_error = p_strdup_printf(ctx->pool,
		"spam_prefs: invalid %s for this user", field);
	return -1;
}

/* spam_prefs_user_get - the user's settings: 0, or -1 (refused) */
static int
spam_prefs_user_get(struct mail_deliver_context *ctx,
		    const struct mw_settings *set, struct spam_prefs_user *u)
{
	const char *act_str, *max_str;
	char why[128];

	u->thr_str = spam_prefs_setting(set, "spam_prefs_threshold",
					SPAM_PREFS_DEFAULT_THRESHOLD);
	act_str = spam_prefs_setting(set, "spam_prefs_action", "junk");
	max_str = spam_prefs_setting(set, "spam_prefs_allow_max_score",
				     SPAM_PREFS_DEFAULT_ALLOW_MAX_SCORE);
	u->mailbox = spam_prefs_setting(set, "spam_prefs_mailbox",
					SPAM_PREFS_DEFAULT_MAILBOX);
	u->allow = mw_settings_str(set, "spam_prefs_allow");
	u->deny = mw_settings_str(set, "spam_prefs_deny");

	if (spam_prefs_parse_score(u->thr_str, &u->threshold) < 0)
		return spam_prefs_refuse(ctx, "spam_prefs_threshold",
					 u->thr_str, "a decimal: 5, 5.0, -1.5");
	if (spam_prefs_parse_action(act_str, &u->action) < 0)
		return spam_prefs_refuse(ctx, "spam_prefs_action", act_str,
					 "junk, discard or keep");
	if (spam_prefs_parse_score(max_str, &u->allow_max) < 0)
		return spam_prefs_refuse(ctx, "spam_prefs_allow_max_score",
					 max_str, "a decimal");
	if (u->allow != NULL &&
	    spam_prefs_list_check(u->allow, why, sizeof(why)) < 0)
		return spam_prefs_refuse(ctx, "spam_prefs_allow", u->allow, why);
	if (u->deny != NULL &&
	    spam_prefs_list_check(u->deny, why, sizeof(why)) < 0)
		return spam_prefs_refuse(ctx, "spam_prefs_deny", u->deny, why);
	return 0;
}

/* The sender addresses the lists are matched against: the envelope
   sender, then the addresses of the first From: field (as SpamAssassin's
   whitelist_from checks both), at most SPAM_PREFS_FROM_MAX of them. */
#define SPAM_PREFS_FROM_MAX 4

/* spam_prefs_senders - fills addrs[0..], returns how many */
static unsigned int
spam_prefs_senders(struct mail_deliver_context *ctx, const char *from_hdr,
		   const char *addrs[1 + SPAM_PREFS_FROM_MAX])
{
	const struct message_address *addr;
	unsigned int n = 0;

	addrs[n++] = ctx->mail_from == NULL ||
		smtp_address_isnull(ctx->mail_from) ?
		NULL : smtp_address_encode(ctx->mail_from);
	if (from_hdr == NULL)
		return n;
	addr = message_address_parse(pool_datastack_create(),
				     (const unsigned char *) from_hdr,
				     strlen(from_hdr), SPAM_PREFS_FROM_MAX, 0);
	for (; addr != NULL && n < 1 + SPAM_PREFS_FROM_MAX; addr = addr->next) {
		if (addr->invalid_syntax || addr->mailbox == NULL ||
		    addr->domain == NULL || *addr->mailbox == '\0' ||
		    *addr->domain == '\0')
			continue;
		addrs[n++] = t_strconcat(addr->mailbox, "@", addr->domain, NULL);
	}
	return n;
}

/* spam_prefs_decide_mail - 1 to discard, 0 to go on (maybe to Junk), -1
   to tempfail (ctx->tempfail_error set) */
static int
spam_prefs_decide_mail(struct mail_deliver_context *ctx,
		       const struct mw_settings *set)
{
	struct spam_prefs_user u;
	struct spam_prefs_decision d;
	struct event *event;
	enum spam_prefs_reason unscored;
	const char *sender, *key_files, *why, *from_hdr, *listed = NULL;
	const char *addrs[1 + SPAM_PREFS_FROM_MAX];
	char score_buf[SPAM_PREFS_SCORE_BUF];
	long score = 0;
	unsigned int n;
	int allow_i, deny_i;
	bool have_score;

	if (spam_prefs_user_get(ctx, set, &u) < 0)
		return -1;

	key_files = mw_settings_str(set, "spam_prefs_stamp_key_file");
	have_score = spam_prefs_score(ctx, key_files,
		mw_settings_str(set, "spam_prefs_stamp_max_age"),
		u.allow != NULL || u.deny != NULL,
		&score, &unscored, &why, &from_hdr);

	n = spam_prefs_senders(ctx, from_hdr, addrs);
	sender = addrs[0];
	allow_i = spam_prefs_list_match_any(u.allow, addrs, n);
	deny_i = spam_prefs_list_match_any(u.deny, addrs, n);
	d = spam_prefs_decide(allow_i >= 0, deny_i >= 0, have_score, score,
			      u.threshold, u.allow_max);
	if (d.reason == SPAM_PREFS_REASON_NO_SCORE)
		d.reason = unscored;	/* no-stamp, bad-stamp, ... */
	if (d.reason == SPAM_PREFS_REASON_ALLOW)
		listed = t_strdup_printf(" allowed=<%s>",
			str_sanitize(addrs[allow_i], 200));
	else if (d.reason == SPAM_PREFS_REASON_DENY)
		listed = t_strdup_printf(" denied=<%s>",
			str_sanitize(addrs[deny_i], 200));
	else if (d.allow_ignored)
		listed = t_strdup_printf(" allow-ignored=<%s>",
			str_sanitize(addrs[allow_i], 200));

	/* the named event "spam_prefs_filing" (fields action: inbox, junk,
	   discard, keep; reason), which Dovecot's metric blocks count */
	event = event_create(ctx->event);
	event_set_name(event, "spam_prefs_filing");
	event_add_str(event, "action", !d.spam ? "inbox" :
		      spam_prefs_action_name(u.action));
	event_add_str(event, "reason", spam_prefs_reason_name(d.reason));
	e_info(event, "spam_prefs: from=<%s> score=%s threshold=%s "
	       "action=%s reason=%s%s%s%s%s", sender == NULL ? "" : sender,
	       !have_score ? "none" : spam_prefs_format_score(score, score_buf),
	       u.thr_str, !d.spam ? "inbox" :
	       u.action == SPAM_PREFS_ACTION_JUNK ?
	       t_strdup_printf("junk:%s", u.mailbox) :
	       spam_prefs_action_name(u.action),
	       spam_prefs_reason_name(d.reason),
	       key_files == NULL ? "" : have_score ? " stamp=ok" : "",
	       why == NULL ? "" : " stamp=\"", why == NULL ? "" :
	       t_strconcat(str_sanitize_utf8(why, 200), "\"", NULL),
	       listed == NULL ? "" : listed);
	event_unref(&event);
	if (!d.spam)
		return 0;

	switch (u.action) {
	case SPAM_PREFS_ACTION_DISCARD:
		return 1;
	case SPAM_PREFS_ACTION_JUNK:
		/* if it cannot be created, mail_deliver() falls back to INBOX */
		if (spam_prefs_mailbox_ensure(ctx, u.mailbox) == 0)
			ctx->rcpt_default_mailbox = p_strdup(ctx->pool, u.mailbox);
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
	if (ret < 0)
		return -1;	/* tempfail: ctx->tempfail_error says why */
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
