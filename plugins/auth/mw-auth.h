#ifndef MW_AUTH_H
#define MW_AUTH_H

/* mw-auth.h - what mailwarren's Dovecot auth modules (userdb mailshard,
   passdb mailshard_proxy) share, on Dovecot 2.3 and 2.4: the fields an
   earlier passdb or userdb of the chain returned, a temporary failure
   that no result_* rule can turn into success, and the module's
   settings, from the 2.3 "args" string or from 2.4 settings_get(). */

#include "auth-common.h"
#include "auth-request.h"

/* A field of the reply so far: NULL when unset or empty. */
const char *mw_auth_userdb_field(const struct auth_request *req,
				 const char *key);
const char *mw_auth_passdb_field(const struct auth_request *req,
				 const char *key);
/* The userdb reply so far has the field key (empty or not). */
bool mw_auth_userdb_has(const struct auth_request *req, const char *key);

/* Mark the userdb lookup as failed temporarily: the final reply is FAIL
   (LMTP 451, login "temporary failure") whatever the result_* rules of
   the chain, and it is never cached. The caller then reports
   USERDB_RESULT_INTERNAL_FAILURE. */
void mw_auth_userdb_tempfail(struct auth_request *req);

/* One string setting of a module: name is its Dovecot 2.4 setting
   ("mailshard_volumes"), arg its key in the 2.3 args string
   ("volumes"). value is the result: NULL when not set (or empty). */
struct mw_auth_setting {
	const char *name;
	const char *arg;
	const char *value;
};

#if DOVECOT_PREREQ(2, 4, 0)
struct setting_parser_info;

/* Fill table (ended by a NULL name) from settings_get(event, info): the
   values as the config gives them at top level or in the db's filter,
   copied to pool. Every name must be a string setting of info. */
int mw_auth_settings_read(pool_t pool, struct event *event,
			  const struct setting_parser_info *info,
			  struct mw_auth_setting *table, const char **error_r);
#endif

/* Fill table (ended by a NULL name) from a 2.3 args string:
   white-space separated KEY=VALUE words, VALUE optionally in double
   quotes (then it may hold spaces; no escapes). An unknown key, a word
   without "=", a key given twice or an unterminated quote is an error;
   values are copied to pool. Available on both versions (pure text). */
int mw_auth_args_parse(pool_t pool, const char *args,
		       struct mw_auth_setting *table, const char **error_r);

#endif
