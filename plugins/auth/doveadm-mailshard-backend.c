/* doveadm-mailshard-backend.c - "doveadm mailshard backend
   status|down|up|return|where": the states of the proxy tier's backends
   (mailshard-proxy(8)), on the proxy where passdb mailshard_proxy runs.

   The states and the away records live in the passdb's store, reached
   here with Dovecot's dict API through the same dict as the passdb (2.3:
   plugin { mailshard_proxy_dict }, the URI of the passdb's dict= arg;
   2.4: the dict { } filter inside passdb mailshard_proxy { }); their
   stored forms are read and written only by lib/mw_proxy.c, which also
   decides when an away record still binds a user. Sessions are listed
   and kicked through each backend's doveadm server (doveadm who, doveadm
   kick; doveadm_port and doveadm_password of this configuration).

   A change is a read-modify-write of the one "backends" value: the
   changing commands hold an exclusive lock (base_dir/mailshard-backend.lock)
   and must run on one proxy only. After each state change they wait
   hold_msecs for decisions and proxy connections in flight. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "dict.h"
#include "doveadm.h"
#include "doveadm-cmd.h"
#include "doveadm-print.h"
#include "doveadm-settings.h"
#include "module-dir.h"
#if DOVECOT_PREREQ(2, 4, 0)
#  include "settings.h"
#  include "mw-settings.h"
#else
#  include "doveadm-util.h"
#endif
#include "doveadm-server-client.h"
#include "mw_shard.h"
#include "mw_proxy.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* exit status: done, but users kept away (they have sessions elsewhere) */
#define MSB_EXIT_KEPT_AWAY	3
#define MSB_DOVEADM_TIMEOUT_MSECS	10000

const char *doveadm_mailshard_backend_plugin_version = DOVECOT_ABI_VERSION;

void doveadm_mailshard_backend_plugin_init(struct module *module);
void doveadm_mailshard_backend_plugin_deinit(void);

struct msb {
	MW_PROXY *proxy;
	struct dict *dict;
	const char *prefix;		/* "shared/" + key_prefix */
	unsigned int hold_msecs;
	MW_PROXY_STATE *states;		/* as last read */
	int lock_fd;
#if DOVECOT_PREREQ(2, 4, 0)
	struct event *event;
#endif
};

/* msb_fail - an error line and the exit status */
static int ATTR_FORMAT(2, 3) msb_fail(int code, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	i_error("mailshard backend: %s", t_strdup_vprintf(fmt, args));
	va_end(args);
	doveadm_exit_code = code;
	return -1;
}

/* msb_configure - what the passdb uses: backends, key_prefix; and the
   hold time */
static int msb_configure(struct msb *msb, const char *backends,
			 const char *prefix, unsigned int hold_msecs,
			 const char *where)
{
	char err[MW_SHARD_ERR_MAX];

	if (backends == NULL || *backends == '\0')
		return msb_fail(EX_CONFIG, "%sbackends is not set", where);
	if ((msb->proxy = mw_proxy_create(backends, err)) == NULL)
		return msb_fail(EX_CONFIG, "%sbackends: %s", where, err);
	if (prefix == NULL || *prefix == '\0')
		prefix = MW_PROXY_DEFAULT_PREFIX;
	if (prefix[0] == '/' || strstr(prefix, "..") != NULL)
		return msb_fail(EX_CONFIG, "%skey_prefix must be relative",
				where);
	msb->prefix = p_strconcat(default_pool, "shared/", prefix, NULL);
	if (hold_msecs == 0)
		return msb_fail(EX_CONFIG, "%shold_msecs must be above 0", where);
	msb->hold_msecs = hold_msecs;
	msb->states = i_new(MW_PROXY_STATE, msb->proxy->count);
	return 0;
}

#if DOVECOT_PREREQ(2, 4, 0)
/* msb_init - 2.4: the settings and the dict { } of passdb mailshard_proxy
   { }, seen as the auth process sees them */
static int msb_init(struct doveadm_cmd_context *cctx, struct msb *msb)
{
	const struct mw_mailshard_proxy_settings *set;
	const char *error;
	int ret;

	msb->event = event_create(cctx->event);
	settings_event_add_filter_name(msb->event, "passdb_mailshard_proxy");
	settings_event_add_list_filter_name(msb->event, "passdb",
					    "mailshard_proxy");
	if (settings_get(msb->event, &mw_mailshard_proxy_setting_parser_info,
			 0, &set, &error) < 0)
		return msb_fail(EX_CONFIG, "passdb mailshard_proxy: %s", error);
	ret = msb_configure(msb, set->passdb_mailshard_proxy_backends,
			    set->passdb_mailshard_proxy_key_prefix,
			    set->passdb_mailshard_proxy_hold_msecs,
			    "passdb mailshard_proxy: ");
	settings_free(set);
	if (ret < 0)
		return -1;
	dict_drivers_register_builtin();
	if (dict_init_auto(msb->event, &msb->dict, &error) <= 0)
		return msb_fail(EX_CONFIG, "passdb mailshard_proxy: the store "
				"(dict { } inside the passdb): %s", error);
	return 0;
}
#else
/* msb_init - 2.3: plugin { mailshard_proxy_* }, the values of the
   passdb's args (which only the auth process reads) */
static int msb_init(struct doveadm_cmd_context *cctx ATTR_UNUSED,
		    struct msb *msb)
{
	struct dict_settings set;
	const char *uri, *hold, *error;
	unsigned int hold_msecs = MW_PROXY_DEFAULT_HOLD_MSECS;

	hold = doveadm_plugin_getenv("mailshard_proxy_hold_msecs");
	if (hold != NULL && *hold != '\0' && str_to_uint(hold, &hold_msecs) < 0)
		return msb_fail(EX_CONFIG, "plugin { mailshard_proxy_hold_msecs "
				"= %s }: not a number", hold);
	if (msb_configure(msb, doveadm_plugin_getenv("mailshard_proxy_backends"),
			  doveadm_plugin_getenv("mailshard_proxy_key_prefix"),
			  hold_msecs, "plugin { mailshard_proxy_ }: ") < 0)
		return -1;
	uri = doveadm_plugin_getenv("mailshard_proxy_dict");
	if (uri == NULL || *uri == '\0')
		return msb_fail(EX_CONFIG, "plugin { mailshard_proxy_dict } "
				"is not set (the passdb's dict=)");
	dict_drivers_register_builtin();
	i_zero(&set);
	set.base_dir = doveadm_settings->base_dir;
	if (dict_init(uri, &set, &msb->dict, &error) < 0)
		return msb_fail(EX_CONFIG, "mailshard_proxy_dict %s: %s", uri,
				error);
	return 0;
}
#endif

static void msb_deinit(struct msb *msb)
{
	if (msb->dict != NULL)
		dict_deinit(&msb->dict);
	mw_proxy_free(msb->proxy);
	i_free(msb->states);
	if (msb->lock_fd > 0)
		i_close_fd(&msb->lock_fd);
#if DOVECOT_PREREQ(2, 4, 0)
	event_unref(&msb->event);
#endif
}

/* msb_lookup - a stored value: 1 found, 0 none, -1 failed */
static int msb_lookup(struct msb *msb, const char *key, const char **value_r)
{
	struct dict_op_settings set;
	const char *error;
	int ret;

	i_zero(&set);
	ret = dict_lookup(msb->dict, &set, pool_datastack_create(),
			  t_strconcat(msb->prefix, key, NULL), value_r, &error);
	if (ret < 0)
		return msb_fail(EX_TEMPFAIL, "store: lookup %s: %s", key, error);
	return ret;
}

static int msb_store(struct msb *msb, const char *key, const char *value)
{
	struct dict_op_settings set;
	struct dict_transaction_context *trans;
	const char *error;

	i_zero(&set);
	trans = dict_transaction_begin(msb->dict, &set);
	dict_set(trans, t_strconcat(msb->prefix, key, NULL), value);
	if (dict_transaction_commit(&trans, &error) < 0)
		return msb_fail(EX_TEMPFAIL, "store: set %s: %s", key, error);
	return 0;
}

/* msb_read_states - the backends' states, as the passdb reads them */
static int msb_read_states(struct msb *msb)
{
	const char *value, *why;
	int ret;

	if ((ret = msb_lookup(msb, "backends", &value)) < 0)
		return -1;
	if (mw_proxy_states_parse(msb->proxy, ret > 0 ? value : NULL,
				  msb->states, &why) < 0)
		return msb_fail(EX_DATAERR, "store: backends \"%s\": %s",
				value, why);
	return 0;
}

/* msb_set_state - one backend's state: read, change, write back (under
   the lock) */
static int msb_set_state(struct msb *msb, int be, int state,
			 unsigned long long epoch)
{
	char value[MW_PROXY_STATES_MAX];

	if (msb_read_states(msb) < 0)
		return -1;
	msb->states[be].state = state;
	msb->states[be].epoch = epoch;
	if (mw_proxy_states_format(msb->proxy, msb->states, value,
				   sizeof(value)) < 0)
		return msb_fail(EX_SOFTWARE, "backends: value too long");
	if (msb_store(msb, "backends", value) < 0)
		return -1;
	i_info("mailshard backend: %s: %s (epoch %llu)",
	       msb->proxy->backends[be].name, mw_proxy_state_name(state), epoch);
	return 0;
}

/* msb_hold - wait for decisions and connections in flight */
static void msb_hold(struct msb *msb, const char *what)
{
	struct timespec ts;

	i_info("mailshard backend: waiting %u ms for decisions and "
	       "connections in flight (%s)", msb->hold_msecs, what);
	ts.tv_sec = msb->hold_msecs / 1000;
	ts.tv_nsec = (long)(msb->hold_msecs % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) ;
}

/* msb_lock - one changing command at a time on this proxy */
static int msb_lock(struct msb *msb)
{
	const char *path = t_strconcat(doveadm_settings->base_dir,
				       "/mailshard-backend.lock", NULL);

	msb->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (msb->lock_fd < 0)
		return msb_fail(EX_TEMPFAIL, "open(%s) failed: %m", path);
	if (flock(msb->lock_fd, LOCK_EX) < 0)
		return msb_fail(EX_TEMPFAIL, "flock(%s) failed: %m", path);
	return 0;
}

/* msb_server - a backend's doveadm server: run one command */
static int msb_server(struct msb *msb, int be, const char *const *args,
		      ARRAY_TYPE(mw_dsc_row) *rows, const char **error_r)
{
	const MW_PROXY_BACKEND *b = &msb->proxy->backends[be];

	if (doveadm_settings->doveadm_port == 0) {
		*error_r = "doveadm_port is not set (the backends' doveadm "
			"server port)";
		return -1;
	}
	return mw_doveadm_server_run(b->host, doveadm_settings->doveadm_port,
				     doveadm_settings->doveadm_password,
				     MSB_DOVEADM_TIMEOUT_MSECS, args, rows,
				     error_r);
}

/* msb_who - the normalised names of the users with sessions on be */
static int msb_who(struct msb *msb, int be, ARRAY_TYPE(const_string) *users,
		   const char **error_r)
{
	static const char *const args[] = { "who", NULL };
	ARRAY_TYPE(mw_dsc_row) rows;
	const char *const *row, *user;
	char norm[MW_SHARD_USER_MAX + 1];
	const char *why;

	t_array_init(&rows, 64);
	t_array_init(users, 64);
	if (msb_server(msb, be, args, &rows, error_r) < 0)
		return -1;
	array_foreach_elem(&rows, row) {
		if (mw_shard_normalize(row[0], strlen(row[0]), norm, &why) < 0)
			continue;	/* no away record can name it */
		user = t_strdup(norm);
		if (!array_lsearch(users, &user, i_strcmp_p))
			array_push_back(users, &user);
	}
	return 0;
}

static int msb_kick(struct msb *msb, int be, const char *user,
		    const char **error_r)
{
	const char *args[] = { "kick", user, NULL };
	ARRAY_TYPE(mw_dsc_row) rows;

	t_array_init(&rows, 4);
	return msb_server(msb, be, args, &rows, error_r);
}

/* msb_backend - the index of a configured backend, or -1 (reported) */
static int msb_backend(struct msb *msb, const char *name)
{
	int be = mw_proxy_find(msb->proxy, name);

	if (be < 0)
		(void)msb_fail(DOVEADM_EX_NOTFOUND, "%s is not a configured "
			       "backend", name);
	return be;
}

static bool msb_still_there(const ARRAY_TYPE(const_string) *now,
			    const char *user)
{
	return array_lsearch(now, &user, i_strcmp_p) != NULL;
}

/* msb_down - hold, end the backend's sessions (-k) or refuse, down */
static int msb_down(struct msb *msb, int be, bool kick)
{
	const char *name = msb->proxy->backends[be].name;
	MW_PROXY_STATE old;
	ARRAY_TYPE(const_string) users, left;
	const char *user, *error;

	if (msb_read_states(msb) < 0)
		return -1;
	old = msb->states[be];
	if (old.state == MW_PROXY_DOWN) {
		i_info("mailshard backend: %s is already down", name);
		return 0;
	}
	/* hold: its users wait while decisions that saw it up finish */
	if (msb_set_state(msb, be, MW_PROXY_HOLD, old.epoch) < 0)
		return -1;
	msb_hold(msb, t_strconcat("down ", name, NULL));
	if (msb_who(msb, be, &users, &error) < 0) {
		i_info("mailshard backend: %s; taken as not running", error);
		t_array_init(&users, 1);
	}
	if (array_count(&users) > 0 && !kick) {
		(void)msb_set_state(msb, be, old.state, old.epoch);
		return msb_fail(EX_TEMPFAIL, "%s still has sessions of %u users "
				"(%s, ...): kick them with -k, or stop the "
				"backend first", name, array_count(&users),
				array_idx_elem(&users, 0));
	}
	if (array_count(&users) > 0) {
		array_foreach_elem(&users, user) {
			if (msb_kick(msb, be, user, &error) < 0) {
				(void)msb_set_state(msb, be, old.state, old.epoch);
				return msb_fail(EX_TEMPFAIL, "%s", error);
			}
		}
		if (msb_who(msb, be, &left, &error) < 0)
			t_array_init(&left, 1);
		if (array_count(&left) > 0) {
			(void)msb_set_state(msb, be, old.state, old.epoch);
			return msb_fail(EX_TEMPFAIL, "%s: %u users still have "
					"sessions after the kick", name,
					array_count(&left));
		}
		i_info("mailshard backend: %s: kicked the sessions of %u users",
		       name, array_count(&users));
	}
	return msb_set_state(msb, be, MW_PROXY_DOWN, old.epoch);
}

/* msb_return_from - the away users of home with sessions on other: kick
   them (-k); those still there keep following their sessions (their
   records are rewritten with the next epoch) */
static int msb_return_from(struct msb *msb, int home, int other, bool kick,
			   unsigned int *kicked, unsigned int *kept)
{
	ARRAY_TYPE(const_string) users, away, now;
	MW_PROXY_AWAY rec;
	char value[MW_PROXY_VALUE_MAX];
	const char *user, *stored, *why, *error;
	int ret;

	if (msb_who(msb, other, &users, &error) < 0)
		return msb_fail(EX_TEMPFAIL, "%s", error);
	t_array_init(&away, 16);
	array_foreach_elem(&users, user) {
		if ((ret = msb_lookup(msb, t_strconcat("away/", user, NULL),
				      &stored)) < 0)
			return -1;
		if (ret == 0 ||
		    mw_proxy_away_parse(msb->proxy, stored, &rec, &why) < 0)
			continue;
		if (rec.at == other && mw_proxy_away_valid(&rec, home, msb->states))
			array_push_back(&away, &user);
	}
	if (kick && array_count(&away) > 0) {
		array_foreach_elem(&away, user) {
			if (msb_kick(msb, other, user, &error) < 0)
				return msb_fail(EX_TEMPFAIL, "%s", error);
		}
		if (msb_who(msb, other, &now, &error) < 0)
			return msb_fail(EX_TEMPFAIL, "%s", error);
	} else {
		t_array_init(&now, 1);
		array_append_array(&now, &away);
	}
	array_foreach_elem(&away, user) {
		if (!msb_still_there(&now, user)) {
			(*kicked)++;
			continue;
		}
		rec.at = other;
		rec.home = home;
		rec.epoch = msb->states[home].epoch + 1;
		mw_proxy_away_format(msb->proxy, &rec, value, sizeof(value));
		if (msb_store(msb, t_strconcat("away/", user, NULL), value) < 0)
			return -1;
		(*kept)++;
	}
	return 0;
}

/* msb_return - returning, keep or kick the away users, up with the next
   epoch: every other away record of this home becomes stale */
static int msb_return(struct msb *msb, int be, unsigned long long epoch,
		      bool kick)
{
	const char *name = msb->proxy->backends[be].name;
	unsigned int kicked = 0, kept = 0;
	int other;

	/* returning: the home's users with an away record wait; the others
	   are served at home */
	if (msb_set_state(msb, be, MW_PROXY_RETURNING, epoch) < 0)
		return -1;
	msb_hold(msb, t_strconcat("return to ", name, NULL));
	if (msb_read_states(msb) < 0)
		return -1;
	for (other = 0; other < msb->proxy->count; other++) {
		if (other == be || msb->states[other].state == MW_PROXY_DOWN)
			continue;
		if (msb_return_from(msb, be, other, kick, &kicked, &kept) < 0) {
			/* the away records stay valid: nobody moved */
			(void)msb_set_state(msb, be, MW_PROXY_UP, epoch);
			return -1;
		}
	}
	if (msb_set_state(msb, be, MW_PROXY_UP, epoch + 1) < 0)
		return -1;
	i_info("mailshard backend: %s: users home; %u kicked, %u kept away "
	       "(sessions elsewhere)", name, kicked, kept);
	if (kept > 0)
		doveadm_exit_code = MSB_EXIT_KEPT_AWAY;
	return 0;
}

static int msb_up(struct msb *msb, int be, bool kick)
{
	const char *name = msb->proxy->backends[be].name;
	MW_PROXY_STATE old;

	if (msb_read_states(msb) < 0)
		return -1;
	old = msb->states[be];
	if (old.state == MW_PROXY_DOWN || old.state == MW_PROXY_HOLD) {
		/* hold: no more away records are written for its users
		   while the decisions that saw it down finish (those records
		   must exist before anybody goes home) */
		if (msb_set_state(msb, be, MW_PROXY_HOLD, old.epoch) < 0)
			return -1;
		msb_hold(msb, t_strconcat("up ", name, NULL));
	}
	return msb_return(msb, be, old.epoch, kick);
}

/* msb_run - the changing commands: down, up, return */
static void msb_run(struct doveadm_cmd_context *cctx, const char *verb)
{
	struct msb msb;
	const char *name;
	bool kick = FALSE;
	int be;

	i_zero(&msb);
	if (!doveadm_cmd_param_str(cctx, "backend", &name)) {
		doveadm_exit_code = EX_USAGE;
		i_error("mailshard backend %s: missing the backend's name", verb);
		return;
	}
	(void)doveadm_cmd_param_bool(cctx, "kick", &kick);
	if (msb_init(cctx, &msb) == 0 && (be = msb_backend(&msb, name)) >= 0 &&
	    msb_lock(&msb) == 0) {
		if (strcmp(verb, "down") == 0)
			(void)msb_down(&msb, be, kick);
		else if (strcmp(verb, "up") == 0)
			(void)msb_up(&msb, be, kick);
		else if (msb_read_states(&msb) == 0) {
			if (msb.states[be].state == MW_PROXY_DOWN)
				(void)msb_fail(EX_TEMPFAIL, "%s is down: use up",
					       name);
			else
				(void)msb_return(&msb, be, msb.states[be].epoch,
						 kick);
		}
	}
	msb_deinit(&msb);
}

static void cmd_backend_down(struct doveadm_cmd_context *cctx)
{
	msb_run(cctx, "down");
}

static void cmd_backend_up(struct doveadm_cmd_context *cctx)
{
	msb_run(cctx, "up");
}

static void cmd_backend_return(struct doveadm_cmd_context *cctx)
{
	msb_run(cctx, "return");
}

/* status: one row per configured backend */
static void cmd_backend_status(struct doveadm_cmd_context *cctx)
{
	struct msb msb;
	int be;

	i_zero(&msb);
	if (msb_init(cctx, &msb) == 0 && msb_read_states(&msb) == 0) {
		doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
		doveadm_print_header_simple("backend");
		doveadm_print_header_simple("host");
		doveadm_print_header_simple("state");
		doveadm_print_header_simple("epoch");
		for (be = 0; be < msb.proxy->count; be++) {
			doveadm_print(msb.proxy->backends[be].name);
			doveadm_print(msb.proxy->backends[be].host);
			doveadm_print(mw_proxy_state_name(msb.states[be].state));
			doveadm_print(dec2str(msb.states[be].epoch));
		}
	}
	msb_deinit(&msb);
}

/* where: the user's rendezvous home, its away record, and where the
   passdb sends it now (without a pin: pins come from the site's passdb)
   by mw_proxy_decide() itself */
static void cmd_backend_where(struct doveadm_cmd_context *cctx)
{
	struct msb msb;
	MW_PROXY_AWAY away;
	MW_PROXY_DECISION dec;
	char norm[MW_SHARD_USER_MAX + 1], err[MW_SHARD_ERR_MAX];
	const char *user, *stored = NULL, *why;
	bool have_away = FALSE;
	int ret;

	i_zero(&msb);
	if (!doveadm_cmd_param_str(cctx, "username", &user)) {
		doveadm_exit_code = EX_USAGE;
		i_error("mailshard backend where: missing the user name");
		return;
	}
	if (mw_shard_normalize(user, strlen(user), norm, &why) < 0) {
		doveadm_exit_code = EX_DATAERR;
		i_error("mailshard backend where: user name refused: %s", why);
		return;
	}
	if (msb_init(cctx, &msb) < 0 || msb_read_states(&msb) < 0 ||
	    (ret = msb_lookup(&msb, t_strconcat("away/", norm, NULL),
			      &stored)) < 0) {
		msb_deinit(&msb);
		return;
	}
	if (ret > 0) {
		if (mw_proxy_away_parse(msb.proxy, stored, &away, &why) < 0) {
			(void)msb_fail(EX_DATAERR, "store: away record of %s "
				       "\"%s\": %s", norm, stored, why);
			msb_deinit(&msb);
			return;
		}
		have_away = TRUE;
	}
	if (mw_proxy_decide(msb.proxy, norm, NULL, msb.states,
			    have_away ? &away : NULL, &dec, err) < 0) {
		(void)msb_fail(EX_SOFTWARE, "%s", err);
		msb_deinit(&msb);
		return;
	}
	doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
	doveadm_print_header_simple("user");
	doveadm_print_header_simple("home");
	doveadm_print_header_simple("away");
	doveadm_print_header_simple("away_home");
	doveadm_print_header_simple("away_epoch");
	doveadm_print_header_simple("now");
	doveadm_print_header_simple("reason");
	doveadm_print(norm);
	doveadm_print(msb.proxy->backends[dec.home].name);
	doveadm_print(have_away ? msb.proxy->backends[away.at].name : "-");
	doveadm_print(have_away ? msb.proxy->backends[away.home].name : "-");
	doveadm_print(have_away ? dec2str(away.epoch) : "-");
	doveadm_print(dec.backend < 0 ? "-" :
		      msb.proxy->backends[dec.backend].name);
	doveadm_print(dec.reason == MW_PROXY_TEMPFAIL ?
		      t_strdup_printf("tempfail (%s)", dec.why) :
		      mw_proxy_reason_name(dec.reason));
	msb_deinit(&msb);
}

#define MSB_CHANGE_CMD(verb, func) { \
	.name = "mailshard backend " verb, \
	.cmd = func, \
	.usage = "[-k] <backend>", \
DOVEADM_CMD_PARAMS_START \
DOVEADM_CMD_PARAM('k', "kick", CMD_PARAM_BOOL, 0) \
DOVEADM_CMD_PARAM('\0', "backend", CMD_PARAM_STR, CMD_PARAM_FLAG_POSITIONAL) \
DOVEADM_CMD_PARAMS_END \
	}

static struct doveadm_cmd_ver2 mailshard_backend_commands[] = {
	{
		.name = "mailshard backend status",
		.cmd = cmd_backend_status,
		.usage = "",
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_PARAMS_END
	},
	{
		.name = "mailshard backend where",
		.cmd = cmd_backend_where,
		.usage = "<user>",
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_PARAM('\0', "username", CMD_PARAM_STR, CMD_PARAM_FLAG_POSITIONAL)
DOVEADM_CMD_PARAMS_END
	},
	MSB_CHANGE_CMD("down", cmd_backend_down),
	MSB_CHANGE_CMD("up", cmd_backend_up),
	MSB_CHANGE_CMD("return", cmd_backend_return),
};

void doveadm_mailshard_backend_plugin_init(struct module *module ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(mailshard_backend_commands); i++)
		doveadm_cmd_register_ver2(&mailshard_backend_commands[i]);
}

void doveadm_mailshard_backend_plugin_deinit(void)
{
}
