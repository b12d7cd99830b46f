#ifndef MAILSHARD_PLUGIN_H
#define MAILSHARD_PLUGIN_H

/* mailshard-plugin.h - the mailshard Dovecot plugin's exports */

struct module;
struct mail_user;

/* Where mailshard put a user (its log line). */
struct mailshard_user_info {
	const char *volume;	/* volume name */
	const char *volume_path;
	const char *path;	/* the user's directory (home) */
	const char *location;	/* mail_location it set */
	const char *reason;	/* hash, pin-volume, pin-path */
};

extern const char *mailshard_plugin_version;

void mailshard_plugin_init(struct module *module);
void mailshard_plugin_deinit(void);

#endif
