/* mw-auth.c - shared pieces of mailwarren's Dovecot auth modules, one
   source for Dovecot 2.3 and 2.4 (see mw-auth.h).

   Both versions keep the reply of a userdb chain in
   request->fields.userdb_reply and the passdb extra fields in
   request->fields.extra_fields: a later db of the chain (after
   result_success = continue-ok) sees what the earlier ones returned. A
   lookup marked with the userdb field "tempfail" ends in FAIL for the
   whole chain: result_internalfail = continue on the last userdb would
   otherwise let an earlier continue-ok turn our failure into a success
   without our fields. */

#include "mw-auth.h"
#include "str.h"
#include "auth-fields.h"
#if DOVECOT_PREREQ(2, 4, 0)
#  include "settings.h"
#  include "settings-parser.h"
#endif

/* mw_auth_find - a non-empty field of fields, or NULL */
static const char *mw_auth_find(struct auth_fields *fields, const char *key)
{
	const char *value;

	if (fields == NULL)
		return NULL;
	value = auth_fields_find(fields, key);
	return value == NULL || *value == '\0' ? NULL : value;
}

const char *mw_auth_userdb_field(const struct auth_request *req,
				 const char *key)
{
	return mw_auth_find(req->fields.userdb_reply, key);
}

const char *mw_auth_passdb_field(const struct auth_request *req,
				 const char *key)
{
	return mw_auth_find(req->fields.extra_fields, key);
}

bool mw_auth_userdb_has(const struct auth_request *req, const char *key)
{
	return req->fields.userdb_reply != NULL &&
		auth_fields_exists(req->fields.userdb_reply, key);
}

void mw_auth_userdb_tempfail(struct auth_request *req)
{
	/* the documented "tempfail" field sets userdb_lookup_tempfailed
	   (auth_request_set_userdb_field() in both versions) */
	auth_request_set_userdb_field(req, "tempfail", "");
}

/* mw_auth_setting_find - the entry for a name or 2.3 arg, or NULL */
static struct mw_auth_setting *
mw_auth_setting_find(struct mw_auth_setting *table, const char *arg,
		     size_t len)
{
	for (; table->name != NULL; table++) {
		if (strncmp(table->arg, arg, len) == 0 &&
		    table->arg[len] == '\0')
			return table;
	}
	return NULL;
}

/* mw_auth_known - "volumes, layout, ..." for error texts */
static const char *mw_auth_known(const struct mw_auth_setting *table)
{
	string_t *str = t_str_new(128);

	for (; table->name != NULL; table++) {
		if (str_len(str) > 0)
			str_append(str, ", ");
		str_append(str, table->arg);
	}
	return str_c(str);
}

int mw_auth_args_parse(pool_t pool, const char *args,
		       struct mw_auth_setting *table, const char **error_r)
{
	struct mw_auth_setting *set;
	const char *p = args == NULL ? "" : args, *word, *eq, *value, *end;

	for (set = table; set->name != NULL; set++)
		set->value = NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		word = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '=')
			p++;
		if (*p != '=') {
			*error_r = t_strdup_printf(
				"args: '%s' is not KEY=VALUE (keys: %s)",
				t_strcut(word, ' '), mw_auth_known(table));
			return -1;
		}
		eq = p;
		if ((set = mw_auth_setting_find(table, word, eq - word)) == NULL) {
			*error_r = t_strdup_printf(
				"args: unknown key '%s' (keys: %s)",
				t_strdup_until(word, eq), mw_auth_known(table));
			return -1;
		}
		if (set->value != NULL) {
			*error_r = t_strdup_printf("args: %s given twice",
						   set->arg);
			return -1;
		}
		p = eq + 1;
		if (*p == '"') {
			/* "..." may hold spaces; it ends at the next quote */
			value = p + 1;
			if ((end = strchr(value, '"')) == NULL) {
				*error_r = t_strdup_printf(
					"args: %s: unterminated '\"'", set->arg);
				return -1;
			}
			p = end + 1;
			if (*p != '\0' && *p != ' ' && *p != '\t') {
				*error_r = t_strdup_printf(
					"args: %s: text after the closing '\"'",
					set->arg);
				return -1;
			}
		} else {
			value = p;
			while (*p != '\0' && *p != ' ' && *p != '\t')
				p++;
			end = p;
		}
		/* "key=" sets nothing: the value stays "" (not NULL) so that
		   a second one is still refused */
		set->value = p_strdup_until(pool, value, end);
	}
	for (set = table; set->name != NULL; set++) {
		if (set->value != NULL && set->value[0] == '\0')
			set->value = NULL;
	}
	return 0;
}

#if DOVECOT_PREREQ(2, 4, 0)
/* mw_auth_define - the string setting name of info, or NULL */
static const struct setting_define *
mw_auth_define(const struct setting_parser_info *info, const char *name)
{
	const struct setting_define *def;

	for (def = info->defines; def->key != NULL; def++) {
		if (def->type == SET_STR && strcmp(def->key, name) == 0)
			return def;
	}
	return NULL;
}

int mw_auth_settings_read(pool_t pool, struct event *event,
			  const struct setting_parser_info *info,
			  struct mw_auth_setting *table, const char **error_r)
{
	/* any settings struct: settings_get() wants one with a pool */
	const struct mw_auth_any_settings { pool_t pool; } *set;
	const struct setting_define *def;
	const char *value;
	pool_t set_pool;

	if (settings_get(event, info, 0, &set, error_r) < 0)
		return -1;
	set_pool = *(const pool_t *)CONST_PTR_OFFSET(set, info->pool_offset1 - 1);
	for (; table->name != NULL; table++) {
		if ((def = mw_auth_define(info, table->name)) == NULL) {
			*error_r = t_strdup_printf(
				"%s is not a string setting of %s",
				table->name, info->name);
			pool_unref(&set_pool);
			return -1;
		}
		value = *(const char *const *)CONST_PTR_OFFSET(set, def->offset);
		table->value = value == NULL || *value == '\0' ? NULL :
			p_strdup(pool, value);
	}
	pool_unref(&set_pool);
	return 0;
}
#endif
