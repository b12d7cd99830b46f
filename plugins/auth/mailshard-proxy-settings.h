/* mailshard-proxy-settings.h - Dovecot 2.4 only: the declared settings of
   passdb mailshard_proxy, written inside its passdb block, e.g.
       passdb mailshard_proxy {
         mailshard_proxy_backends = b1=10.0.0.11 b2=10.0.0.12
         dict proxy { ... }
       }
   Compiled into the auth module (settings_get()) and into the settings
   module that the config process loads (or doveconf reports "Unknown
   setting"). */
#ifndef MAILSHARD_PROXY_SETTINGS_H
#define MAILSHARD_PROXY_SETTINGS_H

#include "settings-parser.h"

struct mailshard_proxy_settings {
	pool_t pool;
	const char *passdb_mailshard_proxy_backends;
	const char *passdb_mailshard_proxy_key_prefix;
	const char *passdb_mailshard_proxy_store_failure;
	unsigned int passdb_mailshard_proxy_max_decision_msecs;
	const char *passdb_mailshard_proxy_pin_field;
};

extern const struct setting_parser_info mailshard_proxy_setting_parser_info;

#endif
