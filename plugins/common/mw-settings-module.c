/* mw-settings-module.c - Dovecot 2.4 only: libmailwarren_settings.so,
   installed in MODULEDIR/settings/. The config process (and doveconf)
   loads every module there and adds the infos of its
   <module>_set_infos[] to the settings it knows (config-parser.c
   config_parse_load_modules()), so that mailshard_* and spam_prefs_* (and
   passdb mailshard_proxy's mailshard_proxy_*) are valid settings, shown
   by doveconf -n, checked for typos, and passed to the mail processes
   (and the auth process). */

#include "lib.h"
#include "settings-parser.h"
#include "mw-settings.h"

extern const char *mailwarren_settings_version;
extern const struct setting_parser_info *mailwarren_settings_set_infos[];

const char *mailwarren_settings_version = DOVECOT_ABI_VERSION;
const struct setting_parser_info *mailwarren_settings_set_infos[] = {
	&mw_mailshard_setting_parser_info,
	&mw_spam_prefs_setting_parser_info,
	&mw_mailshard_proxy_setting_parser_info,
	NULL
};
