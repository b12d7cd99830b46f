/*++
/* NAME
/*	authdb-mailshard-proxy 3
/* SUMMARY
/*	passdb mailshard_proxy: pin users to Dovecot backends, no director
/* SYNOPSIS
/*	$(moduledir)/auth/libauthdb_mailshard_proxy.so
/*
/*	passdb {
/*	  driver = passwd-file		# the site's own passdb
/*	  result_success = continue-ok
/*	  ...
/*	}
/*	passdb {
/*	  driver = mailshard_proxy
/*	  args = backends=b1=10.0.0.1,b2=10.0.0.2 dict=redis:host=...
/*	}
/* DESCRIPTION
/*	Dovecot's auth process loads this module when a passdb names the
/*	driver mailshard_proxy.  The passdb never authenticates anyone:
/*	it answers only when an earlier passdb of the chain has already
/*	verified the credentials (auth_request passdb_success), and then
/*	adds proxy=y, host and port of the user's backend, as decided by
/*	mw_proxy_decide() (lib/mw_proxy.c) from the backends' states and
/*	the user's away record in the shared store, which it reads with
/*	Dovecot's dict API (asynchronous lookups where the dict driver
/*	has them, e.g. proxy: to the dict service).  A user moved away
/*	from a down home gets its away record stored before the answer.
/*
/*	All decisions, the store layout and the failure behaviour are
/*	documented in mailshard-proxy(8).
/* DIAGNOSTICS
/*	One info line per decision (user, home, backend, reason); an
/*	unreachable store or a value that does not parse is an error
/*	line and, by default (store_failure=tempfail), a temporary
/*	failure of the login or delivery.
/* SEE ALSO
/*	mw_proxy(3), mailshard-proxy(8)
/*--*/

#include "auth-common.h"
#include "array.h"
#include "str.h"
#include "strfuncs.h"
#include "dict.h"
#include "passdb.h"
#include "auth-request.h"
#if DOVECOT_PREREQ(2, 4, 0)
#  include "settings.h"
#  include "mw-settings.h"
#endif
#include "mw-auth.h"

#include <time.h>

#include "mw_shard.h"
#include "mw_proxy.h"


void authdb_mailshard_proxy_init(void);
void authdb_mailshard_proxy_deinit(void);

struct msp_passdb_module {
	struct passdb_module module;
	MW_PROXY *proxy;
	const char *dict_uri;
	struct dict *dict;
	const char *prefix;		/* "shared/" + key_prefix */
	const char *pin_field;
	unsigned int max_msecs;
	bool fail_open;			/* store_failure=hash */
};

struct msp_lookup {
	struct auth_request *req;
	struct msp_passdb_module *module;
	verify_plain_callback_t *verify_callback;
	lookup_credentials_callback_t *credentials_callback;
	const char *user;		/* normalised */
	const char *pin;
	MW_PROXY_STATE *states;
	const char *away_value;		/* NULL: no record */
	MW_PROXY_DECISION dec;
	const char *store_error;	/* first one */
	unsigned int pending;
	long long start_ms;
};

/* msp_now_ms - a monotonic clock (sync dict drivers stall the ioloop's) */

static long long msp_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		i_fatal("clock_gettime(CLOCK_MONOTONIC): %m");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* msp_reply - the final answer to the passdb chain */

static void msp_reply(struct msp_lookup *lk, enum passdb_result result)
{
	struct auth_request *req = lk->req;

	if (lk->verify_callback != NULL)
		lk->verify_callback(result, req);
	else
		lk->credentials_callback(result, uchar_empty_ptr, 0, req);
	auth_request_unref(&req);
}

/* msp_answer - proxy to the decided backend */

static void msp_answer(struct msp_lookup *lk)
{
	const MW_PROXY_BACKEND *be =
		&lk->module->proxy->backends[lk->dec.backend];
	const MW_PROXY_BACKEND *home =
		&lk->module->proxy->backends[lk->dec.home];
	unsigned int port = be->port;

	if (port == 0)
		port = lk->req->fields.local_port;
	auth_request_set_field(lk->req, "proxy", "y", NULL);
	auth_request_set_field(lk->req, "host", be->host, NULL);
	if (port != 0)
		auth_request_set_field(lk->req, "port", dec2str(port), NULL);
	e_info(authdb_event(lk->req),
	       "mailshard_proxy: user=%s home=%s backend=%s reason=%s",
	       lk->user, home->name, be->name,
	       mw_proxy_reason_name(lk->dec.reason));
	msp_reply(lk, PASSDB_RESULT_OK);
}

static void msp_tempfail(struct msp_lookup *lk, const char *why)
{
	/* The earlier passdb's success must not carry the login through:
	   with result_internalfail = continue (the default) or return, the
	   chain would end in success without proxy fields and the proxy
	   would serve the user itself. Without passdb_success the request
	   ends in an internal failure (a temporary failure for the client)
	   unless the rule is return-ok or continue-ok, which msp_start()
	   refuses. */
	lk->req->passdb_success = FALSE;
	e_info(authdb_event(lk->req),
	       "mailshard_proxy: user=%s home=%s reason=tempfail (%s)",
	       lk->user, lk->dec.home >= 0 ?
	       lk->module->proxy->backends[lk->dec.home].name : "-", why);
	msp_reply(lk, PASSDB_RESULT_INTERNAL_FAILURE);
}

static void msp_commit_callback(const struct dict_commit_result *result,
				struct msp_lookup *lk)
{
	long long took = msp_now_ms() - lk->start_ms;

	if (result->ret != DICT_COMMIT_RET_OK) {
		e_error(authdb_event(lk->req),
			"mailshard_proxy: storing the away record of %s failed: %s",
			lk->user, result->error != NULL ? result->error :
			"not stored");
		msp_tempfail(lk, "away record not stored");
		return;
	}
	/* mailshard-proxy(8) waits hold_secs for decisions in flight:
	   one that took longer may have read a state that has changed */
	if (took > (long long)lk->module->max_msecs) {
		e_warning(authdb_event(lk->req),
			  "mailshard_proxy: decision for %s took %lld ms "
			  "(max_decision_msecs=%u)", lk->user, took,
			  lk->module->max_msecs);
		msp_tempfail(lk, "decision too slow");
		return;
	}
	msp_answer(lk);
}

/* msp_decide - all lookups are in: decide, store, answer */

static void msp_decide(struct msp_lookup *lk)
{
	struct msp_passdb_module *module = lk->module;
	MW_PROXY *proxy = module->proxy;
	MW_PROXY_AWAY away;
	char err[MW_SHARD_ERR_MAX], value[MW_PROXY_VALUE_MAX];
	const char *why;
	bool have_away = FALSE;
	int i;

	lk->dec.home = -1;
	if (lk->store_error == NULL) {
		if (lk->away_value != NULL) {
			if (mw_proxy_away_parse(proxy, lk->away_value, &away,
						&why) < 0) {
				lk->store_error = t_strdup_printf(
					"away record of %s \"%s\": %s",
					lk->user, lk->away_value, why);
			} else {
				have_away = TRUE;
			}
		}
	}
	if (lk->store_error != NULL) {
		e_error(authdb_event(lk->req), "mailshard_proxy: store: %s",
			lk->store_error);
		if (!module->fail_open) {
			msp_tempfail(lk, "store unavailable");
			return;
		}
		/* store_failure=hash: the pure hash (or pin), no states */
		for (i = 0; i < proxy->count; i++) {
			lk->states[i].state = MW_PROXY_UP;
			lk->states[i].epoch = 0;
		}
		have_away = FALSE;
	}
	if (mw_proxy_decide(proxy, lk->user, lk->pin, lk->states,
			    have_away ? &away : NULL, &lk->dec, err) < 0) {
		e_error(authdb_event(lk->req), "mailshard_proxy: %s", err);
		lk->dec.home = -1;
		msp_tempfail(lk, "bad pin");
		return;
	}
	if (lk->dec.reason == MW_PROXY_TEMPFAIL) {
		msp_tempfail(lk, lk->dec.why);
		return;
	}
	if (lk->dec.write_away && lk->store_error == NULL) {
		struct dict_op_settings set;
		struct dict_transaction_context *trans;

		i_zero(&set);
		mw_proxy_away_format(proxy, &lk->dec.away, value, sizeof(value));
		trans = dict_transaction_begin(module->dict, &set);
		dict_set(trans, t_strconcat(module->prefix, "away/", lk->user,
					    NULL), value);
		dict_transaction_commit_async(&trans, msp_commit_callback, lk);
		return;
	}
	msp_answer(lk);
}

static void msp_lookup_done(struct msp_lookup *lk)
{
	i_assert(lk->pending > 0);
	if (--lk->pending == 0)
		msp_decide(lk);
}

static void msp_states_callback(const struct dict_lookup_result *result,
			        struct msp_lookup *lk)
{
	const char *why;

	if (result->ret < 0) {
		if (lk->store_error == NULL)
			lk->store_error = p_strdup(lk->req->pool, result->error);
	} else if (mw_proxy_states_parse(lk->module->proxy,
					 result->ret > 0 ? result->value : NULL,
					 lk->states, &why) < 0) {
		if (lk->store_error == NULL)
			lk->store_error = p_strdup_printf(lk->req->pool,
				"backend states \"%s\": %s", result->value, why);
	}
	msp_lookup_done(lk);
}

static void msp_away_callback(const struct dict_lookup_result *result,
			      struct msp_lookup *lk)
{
	if (result->ret < 0) {
		if (lk->store_error == NULL)
			lk->store_error = p_strdup(lk->req->pool, result->error);
	} else if (result->ret > 0) {
		lk->away_value = p_strdup(lk->req->pool, result->value);
	}
	msp_lookup_done(lk);
}

/* msp_field - a pin from the earlier passdb's fields or its userdb_ ones */

static const char *msp_field(struct auth_request *req, const char *name)
{
	const char *value = mw_auth_passdb_field(req, name);

	return value != NULL ? value : mw_auth_userdb_field(req, name);
}

static void msp_start(struct auth_request *req, struct msp_lookup *lk)
{
	struct msp_passdb_module *module =
		(struct msp_passdb_module *)req->passdb->passdb;
	struct dict_op_settings set;
	char norm[MW_SHARD_USER_MAX + 1];
	const char *why;

	lk->req = req;
	lk->module = module;
	lk->dec.home = -1;
	lk->start_ms = msp_now_ms();
	auth_request_ref(req);

	if (req->passdb->result_internalfail == AUTH_DB_RULE_RETURN_OK ||
	    req->passdb->result_internalfail == AUTH_DB_RULE_CONTINUE_OK) {
		/* a failure would become a success without proxy fields */
		e_error(authdb_event(req), "mailshard_proxy: "
			"result_internalfail must not be return-ok or continue-ok");
		req->passdb_success = FALSE;
		msp_reply(lk, PASSDB_RESULT_INTERNAL_FAILURE);
		return;
	}
	if (!req->passdb_success) {
		/* never authenticate by ourselves: no earlier passdb
		   verified this user */
		e_debug(authdb_event(req), "mailshard_proxy: "
			"not authenticated by an earlier passdb");
		msp_reply(lk, PASSDB_RESULT_USER_UNKNOWN);
		return;
	}
#if DOVECOT_PREREQ(2, 4, 0)
	if (auth_request_set_passdb_fields(req, NULL) < 0) {
		req->passdb_success = FALSE;
		msp_reply(lk, PASSDB_RESULT_INTERNAL_FAILURE);
		return;
	}
#endif
	if (mw_shard_normalize(req->fields.user, strlen(req->fields.user),
			       norm, &why) < 0) {
		e_error(authdb_event(req), "mailshard_proxy: username refused: %s",
			why);
		req->passdb_success = FALSE;
		msp_reply(lk, PASSDB_RESULT_INTERNAL_FAILURE);
		return;
	}
	lk->user = p_strdup(req->pool, norm);
	lk->pin = msp_field(req, module->pin_field);
	if (lk->pin != NULL)
		lk->pin = p_strdup(req->pool, lk->pin);
	lk->states = p_new(req->pool, MW_PROXY_STATE, module->proxy->count);

	/* two lookups, the backends' states and the away record, whatever
	   the number of backends; a synchronous driver calls back before
	   dict_lookup_async() returns, so count one more until both are
	   issued */
	i_zero(&set);
	lk->pending = 3;
	dict_lookup_async(module->dict, &set,
			  t_strconcat(module->prefix, "backends", NULL),
			  msp_states_callback, lk);
	dict_lookup_async(module->dict, &set,
			  t_strconcat(module->prefix, "away/", lk->user, NULL),
			  msp_away_callback, lk);
	msp_lookup_done(lk);
}

static void msp_verify_plain(struct auth_request *req,
			     const char *password ATTR_UNUSED,
			     verify_plain_callback_t *callback)
{
	struct msp_lookup *lk = p_new(req->pool, struct msp_lookup, 1);

	lk->verify_callback = callback;
	msp_start(req, lk);
}

static void msp_lookup_credentials(struct auth_request *req,
				   lookup_credentials_callback_t *callback)
{
	struct msp_lookup *lk = p_new(req->pool, struct msp_lookup, 1);

	/* no credentials of our own: the earlier passdb's are used */
	lk->credentials_callback = callback;
	msp_start(req, lk);
}

/* msp_configure - shared by the 2.3 args and the 2.4 settings */

static const char *
msp_configure(struct msp_passdb_module *module, pool_t pool,
	      const char *backends, const char *dict_uri, const char *prefix,
	      const char *store_failure, unsigned int max_msecs,
	      const char *pin_field)
{
	char err[MW_SHARD_ERR_MAX];

	if (backends == NULL || *backends == '\0')
		return "backends not set (NAME=HOST[:PORT[:WEIGHT]],...)";
	if ((module->proxy = mw_proxy_create(backends, err)) == NULL)
		return t_strdup(err);
	if (dict_uri == NULL || *dict_uri == '\0')
		return "dict not set (a dict URI, e.g. redis:host=127.0.0.1:port=6379)";
	module->dict_uri = p_strdup(pool, dict_uri);
	if (prefix == NULL)
		prefix = MW_PROXY_DEFAULT_PREFIX;
	if (strchr(prefix, '/') == prefix || strstr(prefix, "..") != NULL)
		return "key_prefix must be relative (e.g. mailshard-proxy/)";
	module->prefix = p_strconcat(pool, "shared/", prefix, NULL);
	if (store_failure == NULL || strcmp(store_failure, "tempfail") == 0)
		module->fail_open = FALSE;
	else if (strcmp(store_failure, "hash") == 0)
		module->fail_open = TRUE;
	else
		return "store_failure must be tempfail or hash";
	if (max_msecs == 0)
		return "max_decision_msecs must be above 0";
	module->max_msecs = max_msecs;
	module->pin_field = p_strdup(pool, pin_field != NULL && *pin_field != '\0' ?
				     pin_field : MW_PROXY_DEFAULT_PIN_FIELD);
	return NULL;
}

#if DOVECOT_PREREQ(2, 4, 0)
static int msp_preinit(pool_t pool, struct event *event,
		       struct passdb_module **module_r, const char **error_r)
{
	const struct mw_mailshard_proxy_settings *set;
	struct msp_passdb_module *module;
	const char *error;

	/* passdb mailshard_proxy { mailshard_proxy_* = ...  dict NAME { } } */
	if (settings_get(event, &mw_mailshard_proxy_setting_parser_info, 0,
			 &set, error_r) < 0)
		return -1;
	module = p_new(pool, struct msp_passdb_module, 1);
	error = msp_configure(module, pool,
			      set->passdb_mailshard_proxy_backends, "dict { }",
			      set->passdb_mailshard_proxy_key_prefix,
			      set->passdb_mailshard_proxy_store_failure,
			      set->passdb_mailshard_proxy_max_decision_msecs,
			      set->passdb_mailshard_proxy_pin_field);
	settings_free(set);
	if (error == NULL) {
		/* the store: the dict { } filter inside this passdb */
		if (dict_init_auto(event, &module->dict, &error) <= 0)
			error = t_strconcat("the store (dict { } inside the "
					    "passdb): ", error, NULL);
	}
	if (error != NULL) {
		mw_proxy_free(module->proxy);
		*error_r = t_strconcat("passdb mailshard_proxy: ", error, NULL);
		return -1;
	}
	*module_r = &module->module;
	return 0;
}
#else
static struct passdb_module *msp_preinit(pool_t pool, const char *args)
{
	/* 2.3: args = key=value ... (backends comma-separated) */
	struct mw_auth_setting table[] = {
		{ .name = "backends", .arg = "backends" },
		{ .name = "dict", .arg = "dict" },
		{ .name = "key_prefix", .arg = "key_prefix" },
		{ .name = "store_failure", .arg = "store_failure" },
		{ .name = "max_decision_msecs", .arg = "max_decision_msecs" },
		{ .name = "pin_field", .arg = "pin_field" },
		{ .name = NULL }
	};
	struct msp_passdb_module *module;
	unsigned int max_msecs = MW_PROXY_DEFAULT_MAX_DECISION_MSECS;
	const char *error;

	if (mw_auth_args_parse(pool, args, table, &error) < 0)
		i_fatal("passdb mailshard_proxy: %s", error);
	if (table[4].value != NULL && str_to_uint(table[4].value, &max_msecs) < 0)
		i_fatal("passdb mailshard_proxy: args: max_decision_msecs=%s: "
			"not a number", table[4].value);
	module = p_new(pool, struct msp_passdb_module, 1);
	error = msp_configure(module, pool, table[0].value, table[1].value,
			      table[2].value, table[3].value, max_msecs,
			      table[5].value);
	if (error != NULL)
		i_fatal("passdb mailshard_proxy: args: %s", error);
	return &module->module;
}
#endif

static void msp_init(struct passdb_module *_module)
{
#if DOVECOT_PREREQ(2, 4, 0)
	/* 2.4: the dict was made by msp_preinit() from its settings */
	(void)_module;
#else
	struct msp_passdb_module *module = (struct msp_passdb_module *)_module;
	struct dict_settings set;
	const char *error;

	i_zero(&set);
	set.base_dir = global_auth_settings->base_dir;
	if (dict_init(module->dict_uri, &set, &module->dict, &error) < 0)
		i_fatal("passdb mailshard_proxy: dict %s: %s",
			module->dict_uri, error);
#endif
}

static void msp_deinit(struct passdb_module *_module)
{
	struct msp_passdb_module *module = (struct msp_passdb_module *)_module;

	if (module->dict != NULL) {
		dict_wait(module->dict);
		dict_deinit(&module->dict);
	}
	mw_proxy_free(module->proxy);
	module->proxy = NULL;
}

static struct passdb_module_interface msp_passdb = {
	.name = "mailshard_proxy",
	.preinit = msp_preinit,
	.init = msp_init,
	.deinit = msp_deinit,
	.verify_plain = msp_verify_plain,
	.lookup_credentials = msp_lookup_credentials,
};

void authdb_mailshard_proxy_init(void)
{
	passdb_register_module(&msp_passdb);
}

void authdb_mailshard_proxy_deinit(void)
{
	passdb_unregister_module(&msp_passdb);
}
