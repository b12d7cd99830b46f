/* mw-settings.c - Dovecot 2.4 only: the setting_parser_infos of
   mw-settings.h. The defaults here are the ones the plugins apply to an
   empty value, so that doveconf -a shows them; see mailshard(7) and
   spam_prefs(7) and mailshard-proxy(8). */

#include "lib.h"
#include "settings-parser.h"
#include "mw_shard.h"
#include "mw_proxy.h"
#include "spam-prefs-util.h"
#include "mw-settings.h"

#undef DEF
#define DEF(name) \
	SETTING_DEFINE_STRUCT_STR(#name, name, struct mw_mailshard_settings)

static const struct setting_define mw_mailshard_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "mailshard" },
	DEF(mailshard_volumes),
	DEF(mailshard_layout),
	DEF(mailshard_maildir),
	DEF(mailshard_index_dir),
	DEF(mailshard_nfs_check),
	DEF(mailshard_volume),
	DEF(mailshard_path),
	SETTING_DEFINE_LIST_END
};

static const struct mw_mailshard_settings mw_mailshard_default_settings = {
	.mailshard_volumes = "",
	.mailshard_layout = MW_SHARD_DEFAULT_LAYOUT,
	.mailshard_maildir = "Maildir",
	.mailshard_index_dir = "",
	.mailshard_nfs_check = "warn",
	.mailshard_volume = "",
	.mailshard_path = "",
};

const struct setting_parser_info mw_mailshard_setting_parser_info = {
	.name = "mailshard",
	.defines = mw_mailshard_setting_defines,
	.defaults = &mw_mailshard_default_settings,
	.struct_size = sizeof(struct mw_mailshard_settings),
	.pool_offset1 = 1 + offsetof(struct mw_mailshard_settings, pool),
};

#undef DEF
#define DEF(name) \
	SETTING_DEFINE_STRUCT_STR(#name, name, struct mw_spam_prefs_settings)

static const struct setting_define mw_spam_prefs_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "spam_prefs" },
	DEF(spam_prefs_threshold),
	DEF(spam_prefs_action),
	DEF(spam_prefs_mailbox),
	DEF(spam_prefs_allow),
	DEF(spam_prefs_deny),
	DEF(spam_prefs_allow_max_score),
	DEF(spam_prefs_stamp_key_file),
	DEF(spam_prefs_stamp_max_age),
	SETTING_DEFINE_LIST_END
};

static const struct mw_spam_prefs_settings mw_spam_prefs_default_settings = {
	.spam_prefs_threshold = SPAM_PREFS_DEFAULT_THRESHOLD,
	.spam_prefs_action = "junk",
	.spam_prefs_mailbox = SPAM_PREFS_DEFAULT_MAILBOX,
	.spam_prefs_allow = "",
	.spam_prefs_deny = "",
	.spam_prefs_allow_max_score = SPAM_PREFS_DEFAULT_ALLOW_MAX_SCORE,
	.spam_prefs_stamp_key_file = "",
	.spam_prefs_stamp_max_age = "0",
};

const struct setting_parser_info mw_spam_prefs_setting_parser_info = {
	.name = "spam_prefs",
	.defines = mw_spam_prefs_setting_defines,
	.defaults = &mw_spam_prefs_default_settings,
	.struct_size = sizeof(struct mw_spam_prefs_settings),
	.pool_offset1 = 1 + offsetof(struct mw_spam_prefs_settings, pool),
};

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct mw_mailshard_proxy_settings)

static const struct setting_define mw_mailshard_proxy_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "passdb_mailshard_proxy" },
	DEF(STR, passdb_mailshard_proxy_backends),
	DEF(STR, passdb_mailshard_proxy_key_prefix),
	DEF(ENUM, passdb_mailshard_proxy_store_failure),
	DEF(UINT, passdb_mailshard_proxy_max_decision_msecs),
	DEF(STR, passdb_mailshard_proxy_pin_field),
	DEF(UINT, passdb_mailshard_proxy_hold_msecs),
	SETTING_DEFINE_LIST_END
};

static const struct mw_mailshard_proxy_settings mw_mailshard_proxy_default_settings = {
	.passdb_mailshard_proxy_backends = "",
	.passdb_mailshard_proxy_key_prefix = MW_PROXY_DEFAULT_PREFIX,
	.passdb_mailshard_proxy_store_failure = "tempfail:hash",
	.passdb_mailshard_proxy_max_decision_msecs = MW_PROXY_DEFAULT_MAX_DECISION_MSECS,
	.passdb_mailshard_proxy_pin_field = MW_PROXY_DEFAULT_PIN_FIELD,
	.passdb_mailshard_proxy_hold_msecs = MW_PROXY_DEFAULT_HOLD_MSECS,
};

const struct setting_parser_info mw_mailshard_proxy_setting_parser_info = {
	.name = "passdb_mailshard_proxy",
	.defines = mw_mailshard_proxy_setting_defines,
	.defaults = &mw_mailshard_proxy_default_settings,
	.struct_size = sizeof(struct mw_mailshard_proxy_settings),
	.pool_offset1 = 1 + offsetof(struct mw_mailshard_proxy_settings, pool),
};
