/* mailshard-proxy-settings.c - Dovecot 2.4 only: the settings of passdb
   mailshard_proxy (see mailshard-proxy-settings.h and mailshard-proxy(8));
   their defaults are the 2.3 args' defaults. */

#include "lib.h"
#include "settings-parser.h"
#include "mailshard-proxy-settings.h"

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct mailshard_proxy_settings)

static const struct setting_define mailshard_proxy_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "passdb_mailshard_proxy" },
	DEF(STR, passdb_mailshard_proxy_backends),
	DEF(STR, passdb_mailshard_proxy_key_prefix),
	DEF(ENUM, passdb_mailshard_proxy_store_failure),
	DEF(UINT, passdb_mailshard_proxy_max_decision_msecs),
	DEF(STR, passdb_mailshard_proxy_pin_field),
	SETTING_DEFINE_LIST_END
};

static const struct mailshard_proxy_settings mailshard_proxy_default_settings = {
	.passdb_mailshard_proxy_backends = "",
	.passdb_mailshard_proxy_key_prefix = "mailshard-proxy/",
	.passdb_mailshard_proxy_store_failure = "tempfail:hash",
	.passdb_mailshard_proxy_max_decision_msecs = 2000,
	.passdb_mailshard_proxy_pin_field = "mailshard_backend",
};

const struct setting_parser_info mailshard_proxy_setting_parser_info = {
	.name = "passdb_mailshard_proxy",
	.defines = mailshard_proxy_setting_defines,
	.defaults = &mailshard_proxy_default_settings,
	.struct_size = sizeof(struct mailshard_proxy_settings),
	.pool_offset1 = 1 + offsetof(struct mailshard_proxy_settings, pool),
};
