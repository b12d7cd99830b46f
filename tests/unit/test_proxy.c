/* test_proxy - mw_proxy: backend lists, stored values, and the routing
   decision of the proxy tier (home, pins, down, hold, returning, away) */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mw_shard.h"
#include "mw_proxy.h"

#define THREE	"b1=127.0.2.1:143 b2=127.0.2.2:143 b3=127.0.2.3:143"

static void
test_parse(void **state)
{
	static const struct {
		const char *spec;
		const char *err;	/* NULL: accepted */
	} bad[] = {
		{"", "no backends"},
		{"b1", "expected NAME=HOST"},
		{"b1=", "expected NAME=HOST"},
		{"b1=h:x", "port \"x\""},
		{"b1=h:70000", "port \"70000\""},
		{"b1=h:1:x", "weight \"x\""},
		{"b1=h:1:1000001", "weight \"1000001\""},
		{"b1=h/x", "bad host"},
		{"b1=[::1", "without"},
		{"b1=[::1]x", "after"},
		{"b/1=h", "b/1"},
		{"b1=h b1=g", "twice"},
		{"b1=h:1:0", "weight above 0"},
	};
	char	err[MW_SHARD_ERR_MAX];
	MW_PROXY *p;
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = mw_proxy_create(bad[i].spec, err);
		if (p != NULL || strstr(err, bad[i].err) == NULL)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", bad[i].spec,
				 p ? "accepted" : err, bad[i].err);
	}
	p = mw_proxy_create("b1=10.0.0.1, b2=mail2.example:1143:3 b3=[2001:db8::1]:24 "
			    "old=10.0.0.9:143:0", err);
	assert_non_null(p);
	assert_int_equal(p->count, 4);
	assert_string_equal(p->backends[0].host, "10.0.0.1");
	assert_int_equal(p->backends[0].port, 0);
	assert_int_equal(p->backends[0].weight, 1);
	assert_string_equal(p->backends[1].host, "mail2.example");
	assert_int_equal(p->backends[1].port, 1143);
	assert_int_equal(p->backends[1].weight, 3);
	assert_string_equal(p->backends[2].host, "2001:db8::1");
	assert_int_equal(p->backends[2].port, 24);
	assert_int_equal(p->backends[3].weight, 0);
	assert_int_equal(mw_proxy_find(p, "old"), 3);
	assert_int_equal(mw_proxy_find(p, "nope"), -1);
	mw_proxy_free(p);
}

static void
test_values(void **state)
{
	char	err[MW_SHARD_ERR_MAX], buf[MW_PROXY_VALUE_MAX];
	MW_PROXY *p = mw_proxy_create(THREE, err);
	MW_PROXY_STATE st[3];
	MW_PROXY_AWAY aw;
	const char *why;

	assert_non_null(p);
	assert_int_equal(mw_proxy_states_parse(p, NULL, st, &why), 0);
	assert_int_equal(st[0].state, MW_PROXY_UP);
	assert_int_equal(mw_proxy_states_parse(p, "b2=down:7  b9=hold:1 b3=returning:18446744073709551615",
					       st, &why), 0);
	assert_int_equal(st[0].state, MW_PROXY_UP);
	assert_true(st[0].epoch == 0);
	assert_int_equal(st[1].state, MW_PROXY_DOWN);
	assert_true(st[1].epoch == 7);
	assert_int_equal(st[2].state, MW_PROXY_RETURNING);
	/* the written form: what parse reads back; unknown names dropped */
	assert_int_equal(mw_proxy_states_format(p, st, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "b2=down:7 b3=returning:18446744073709551615");
	assert_int_equal(mw_proxy_states_format(p, st, buf, 12), -1);
	st[0].epoch = 2;
	assert_int_equal(mw_proxy_states_format(p, st, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "b1=up:2 b2=down:7 b3=returning:18446744073709551615");
	/* an away record binds while it names the home at its epoch or later
	   and its AT is another backend, not down */
	aw.at = 2; aw.home = 0; aw.epoch = 2;
	assert_true(mw_proxy_away_valid(&aw, 0, st));
	assert_false(mw_proxy_away_valid(&aw, 1, st));
	aw.epoch = 1;
	assert_false(mw_proxy_away_valid(&aw, 0, st));
	aw.at = 1; aw.epoch = 2;
	assert_false(mw_proxy_away_valid(&aw, 0, st));
	aw.at = 0;
	assert_false(mw_proxy_away_valid(&aw, 0, st));
	st[0].epoch = 0;
	st[1].state = MW_PROXY_UP; st[1].epoch = 0;
	st[2].state = MW_PROXY_UP; st[2].epoch = 0;
	assert_int_equal(mw_proxy_states_format(p, st, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(mw_proxy_states_parse(p, "", st, &why), 0);
	assert_int_equal(st[1].state, MW_PROXY_UP);
	assert_int_equal(mw_proxy_states_parse(p, "b1=sideways:1", st, &why), -1);
	assert_int_equal(mw_proxy_states_parse(p, "b1=down", st, &why), -1);
	assert_int_equal(mw_proxy_states_parse(p, "b1=down:", st, &why), -1);
	assert_int_equal(mw_proxy_states_parse(p, "b1=down:x", st, &why), -1);
	assert_int_equal(mw_proxy_states_parse(p, "b1 down 1", st, &why), -1);
	assert_int_equal(mw_proxy_states_parse(p, "=down:1", st, &why), -1);
	assert_int_equal(mw_proxy_states_parse(p, "b1=down:1 b1=up:2", st, &why), -1);
	assert_int_equal(mw_proxy_states_parse(p, "sideways", st, &why), -1);

	assert_int_equal(mw_proxy_away_parse(p, "b2 b1 3", &aw, &why), 0);
	assert_int_equal(aw.at, 1);
	assert_int_equal(aw.home, 0);
	assert_true(aw.epoch == 3);
	mw_proxy_away_format(p, &aw, buf, sizeof(buf));
	assert_string_equal(buf, "b2 b1 3");
	assert_int_equal(mw_proxy_away_parse(p, "b9 b1 3", &aw, &why), -1);
	assert_int_equal(mw_proxy_away_parse(p, "b2 b1", &aw, &why), -1);
	assert_int_equal(mw_proxy_away_parse(p, "b2 b1 -1", &aw, &why), -1);
	mw_proxy_free(p);
}

/* find_user - a user whose rendezvous home is want */

static const char *
find_user(const MW_PROXY *p, int want, char *buf)
{
	int	i;

	for (i = 0;; i++) {
		sprintf(buf, "user%d", i);
		if (mw_shard_pick(p->set, buf) == want)
			return (buf);
	}
}

static void
test_decide(void **state)
{
	char	err[MW_SHARD_ERR_MAX], name[32];
	MW_PROXY *p = mw_proxy_create(THREE, err);
	MW_PROXY_STATE st[3] = {{0, 0}, {0, 0}, {0, 0}};
	MW_PROXY_AWAY aw;
	MW_PROXY_DECISION d;
	const char *u;

	assert_non_null(p);
	u = find_user(p, 0, name);

	/* all up: home, no record */
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, NULL, &d, err), 0);
	assert_int_equal(d.backend, 0);
	assert_int_equal(d.reason, MW_PROXY_BY_HASH);
	assert_int_equal(d.write_away, 0);

	/* pins: any configured backend; an unknown one is an error */
	assert_int_equal(mw_proxy_decide(p, u, "b3", st, NULL, &d, err), 0);
	assert_int_equal(d.backend, 2);
	assert_int_equal(d.reason, MW_PROXY_BY_PIN);
	assert_int_equal(mw_proxy_decide(p, u, "b9", st, NULL, &d, err), -1);
	assert_non_null(strstr(err, "b9"));

	/* home down: next choice, with the record to store */
	st[0].state = MW_PROXY_DOWN;
	st[0].epoch = 4;
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, NULL, &d, err), 0);
	assert_int_not_equal(d.backend, 0);
	assert_int_equal(d.reason, MW_PROXY_BY_MOVED);
	assert_int_equal(d.write_away, 1);
	assert_int_equal(d.away.at, d.backend);
	assert_int_equal(d.away.home, 0);
	assert_true(d.away.epoch == 4);
	aw = d.away;

	/* home and its next choice down: the third */
	st[aw.at].state = MW_PROXY_DOWN;
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, NULL, &d, err), 0);
	assert_int_equal(d.backend, 3 - aw.at);
	/* ... and the stale record (AT down) is ignored */
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, &aw, &d, err), 0);
	assert_int_equal(d.backend, 3 - aw.at);
	assert_int_equal(d.write_away, 1);
	/* all down: wait */
	st[3 - aw.at].state = MW_PROXY_DOWN;
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, NULL, &d, err), 0);
	assert_int_equal(d.reason, MW_PROXY_TEMPFAIL);
	st[3 - aw.at].state = MW_PROXY_UP;
	st[aw.at].state = MW_PROXY_UP;

	/* home on hold: wait, unless a valid record says where it is */
	st[0].state = MW_PROXY_HOLD;
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, NULL, &d, err), 0);
	assert_int_equal(d.reason, MW_PROXY_TEMPFAIL);
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, &aw, &d, err), 0);
	assert_int_equal(d.backend, aw.at);
	assert_int_equal(d.reason, MW_PROXY_BY_AWAY);

	/* home up again: the record still wins (sessions may be there) */
	st[0].state = MW_PROXY_UP;
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, &aw, &d, err), 0);
	assert_int_equal(d.backend, aw.at);
	assert_int_equal(d.write_away, 0);
	/* returning: the record's users wait, the others go home */
	st[0].state = MW_PROXY_RETURNING;
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, &aw, &d, err), 0);
	assert_int_equal(d.reason, MW_PROXY_TEMPFAIL);
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, NULL, &d, err), 0);
	assert_int_equal(d.backend, 0);
	/* the return completed (epoch raised): the old record is stale */
	st[0].state = MW_PROXY_UP;
	st[0].epoch = 5;
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, &aw, &d, err), 0);
	assert_int_equal(d.backend, 0);
	/* a record rewritten at the new epoch (sessions seen) still wins */
	aw.epoch = 5;
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, &aw, &d, err), 0);
	assert_int_equal(d.backend, aw.at);
	/* the record's backend on hold: wait */
	st[aw.at].state = MW_PROXY_HOLD;
	assert_int_equal(mw_proxy_decide(p, u, NULL, st, &aw, &d, err), 0);
	assert_int_equal(d.reason, MW_PROXY_TEMPFAIL);
	st[aw.at].state = MW_PROXY_UP;
	/* a record for another home (a pin changed) is ignored */
	assert_int_equal(mw_proxy_decide(p, u, "b3", st, &aw, &d, err), 0);
	assert_int_equal(d.backend, 2);
	mw_proxy_free(p);
}

/* test_down_moves_only_its_users - over many users */

static void
test_down_moves_only_its_users(void **state)
{
	char	err[MW_SHARD_ERR_MAX], name[32];
	MW_PROXY *p = mw_proxy_create(THREE, err);
	MW_PROXY_STATE st[3] = {{0, 0}, {MW_PROXY_DOWN, 0}, {0, 0}};
	MW_PROXY_DECISION d;
	int	i, home, moved = 0;

	assert_non_null(p);
	for (i = 0; i < 30000; i++) {
		sprintf(name, "u%d", i);
		home = mw_shard_pick(p->set, name);
		assert_int_equal(mw_proxy_decide(p, name, NULL, st, NULL, &d, err), 0);
		if (home == 1) {
			assert_int_not_equal(d.backend, 1);
			moved++;
		} else {
			assert_int_equal(d.backend, home);
		}
	}
	printf("# b2 down: %d of 30000 users moved\n", moved);
	assert_true(moved > 9000 && moved < 11000);
	mw_proxy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_down_moves_only_its_users),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
