#ifndef SPAM_PREFS_PLUGIN_H
#define SPAM_PREFS_PLUGIN_H

/* spam-prefs-plugin.h - the spam_prefs Dovecot plugin's exports */

struct module;

extern const char *spam_prefs_plugin_version;
extern const char spam_prefs_plugin_binary_dependency[];

void spam_prefs_plugin_init(struct module *module);
void spam_prefs_plugin_deinit(void);

#endif
