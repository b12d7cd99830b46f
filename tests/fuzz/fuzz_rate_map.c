/*++
/* NAME
/*	fuzz_rate_map 1
/* SUMMARY
/*	libFuzzer target for the RateLimitMap loader of mailwarren-policyd
/* DESCRIPTION
/*	Loads the input as a RateLimitMap file ("id messages=LIMITS
/*	recipients=LIMITS") with policy_tables_load(), as the daemon does
/*	at start and on reload, with the defaults of every other setting.
/*	Checks that a failure has a reason, that after a success every id
/*	of the file has windows (policy_limits_for() succeeds, as the
/*	decision code assumes), and that the tables free cleanly.
/*--*/

#include "config.h"

#include "fuzz.h"
#include "mw_str.h"
#include "policy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_conf conf;
	struct policy_tables *t;
	struct mw_rate_limits m;
	struct mw_rate_limits r;
	char	err[1024];
	char   *text = fuzz_str(data, size);
	char   *line;
	char   *next;
	char   *key;

	memset(&conf, 0, sizeof(conf));
	if (mw_cfg_defaults(policy_conf_table, &conf, err, sizeof(err)) < 0
	    || mw_cfg_set(mw_cfg_lookup(policy_conf_table, "HostedDomains"), &conf,
			  "example.com", err, sizeof(err)) < 0
	    || mw_cfg_set(mw_cfg_lookup(policy_conf_table, "RateLimitMap"), &conf,
			  fuzz_file(data, size), err, sizeof(err)) < 0)
		abort();
	err[0] = '\0';
	if ((t = policy_tables_load(&conf, err, sizeof(err))) == NULL) {
		fuzz_check(err[0] != '\0');
	} else {
		for (line = text; *line != '\0'; line = next) {
			next = fuzz_split(line, '\n');
			key = mw_trim(line);
			if (*key == '\0' || *key == '#')
				continue;
			key[strcspn(key, " \t")] = '\0';
			fuzz_check(policy_limits_for(t, key, &m, &r) == 0);
			fuzz_check(m.n <= MW_RATE_WINDOWS_MAX && r.n <= MW_RATE_WINDOWS_MAX);
		}
		policy_tables_free(t);
	}
	mw_cfg_free(policy_conf_table, &conf);
	free(text);
	return (0);
}
