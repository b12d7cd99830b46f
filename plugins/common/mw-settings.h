#ifndef MW_SETTINGS_H
#define MW_SETTINGS_H

/* mw-settings.h - Dovecot 2.4 only: mailwarren's declared settings.

   Each group is a setting_parser_info with a named filter, so that in
   dovecot.conf a setting is written at top level (mailshard_volumes =
   ...) or inside the filter (mailshard { volumes = ... }), and a userdb
   field named exactly like a setting overrides it for that user
   (passwd-file userdb_mailshard_volume=v2, an LDAP/SQL field
   mailshard_volume). The infos are compiled into every module that reads
   them with settings_get() (the mail plugins, and the auth module) and
   listed by the config process's settings module
   MODULEDIR/settings/libmailwarren_settings.so
   (mw-settings-module.c), without which doveconf refuses every one of
   these names as "Unknown setting".

   All values are strings; empty means the plugin's default (which the
   info's defaults also show, for doveconf -a). */

#include "settings-parser.h"

struct mw_mailshard_settings {
	pool_t pool;
	const char *mailshard_volumes;	/* NAME=PATH[:WEIGHT] ... */
	const char *mailshard_layout;	/* hash:L:W | letters:N */
	const char *mailshard_maildir;	/* below the user's directory */
	const char *mailshard_index_dir;	/* index files on local disk */
	const char *mailshard_nfs_check;	/* strict | warn | off */
	/* per-user pins, normally from userdb */
	const char *mailshard_volume;
	const char *mailshard_path;
};

struct mw_spam_prefs_settings {
	pool_t pool;
	const char *spam_prefs_threshold;
	const char *spam_prefs_action;	/* junk | discard | keep */
	const char *spam_prefs_mailbox;
	const char *spam_prefs_allow;
	const char *spam_prefs_deny;
	const char *spam_prefs_allow_max_score;	/* allow only below it */
	const char *spam_prefs_stamp_key_file;	/* key files, space separated */
	const char *spam_prefs_stamp_max_age;	/* seconds, or Ns Nm Nh Nd */
};

/* passdb mailshard_proxy (mailshard-proxy(8)), written inside its
   passdb block, e.g.
       passdb mailshard_proxy {
         backends = b1=10.0.0.11 b2=10.0.0.12
         dict proxy { ... }
       }
   Typed (not all strings); the defaults are the 2.3 args' defaults.
   hold_msecs is read by doveadm mailshard backend only, from the same
   block, so that the passdb and the command share one configuration. */
struct mw_mailshard_proxy_settings {
	pool_t pool;
	const char *passdb_mailshard_proxy_backends;
	const char *passdb_mailshard_proxy_key_prefix;
	const char *passdb_mailshard_proxy_store_failure;
	unsigned int passdb_mailshard_proxy_max_decision_msecs;
	const char *passdb_mailshard_proxy_pin_field;
	unsigned int passdb_mailshard_proxy_hold_msecs;
};

/* filter "mailshard" */
extern const struct setting_parser_info mw_mailshard_setting_parser_info;
/* filter "spam_prefs" */
extern const struct setting_parser_info mw_spam_prefs_setting_parser_info;
/* filter "passdb_mailshard_proxy" */
extern const struct setting_parser_info mw_mailshard_proxy_setting_parser_info;

#endif
