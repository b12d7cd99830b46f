/*++
/* NAME
/*	fuzz_rtopo_reply 1
/* SUMMARY
/*	libFuzzer target for the Cluster and Sentinel replies
/* DESCRIPTION
/*	Feeds arbitrary bytes to hiredis' reply reader with the daemon's
/*	limits (policy_resp_guard(3)) and reads every reply as
/*	mailwarren-policyd reads topology (policy_rtopo_view(3),
/*	mw_rtopo(3)): as CLUSTER SLOTS, as SENTINEL
/*	get-master-addr-by-name, as ROLE and, for an error, as MOVED/ASK
/*	and READONLY.  The input as a string is also read as a MOVED/ASK
/*	text and as a RateStore sentinel:// or cluster:// value.  Checks
/*	that every accepted answer is in range: slots 0-16383 owned by
/*	known masters only, ports 1-65535, host names NUL-terminated
/*	within MW_RTOPO_HOST_MAX, a refusal with a reason, and the slot
/*	map all or nothing.
/*--*/

#include "config.h"

#include "fuzz.h"
#include "mw_rtopo.h"
#include "policy_rtopo.h"

#define EXPECT		64

static void
addr_ok(const struct mw_rtopo_addr *a, int empty_ok)
{
	size_t	len = strnlen(a->host, sizeof(a->host));

	fuzz_check(len < sizeof(a->host));
	fuzz_check(empty_ok || len > 0);
	fuzz_check(a->port >= 1 && a->port <= 65535);
}

static void
read_reply(const redisReply *reply)
{
	static struct mw_rtopo_slotmap map;
	struct mw_rtopo_redirect rd;
	struct mw_rtopo_addr a;
	struct mw_resp *v;
	char	err[256];
	int	rc;
	unsigned s, covered = 0;
	const struct mw_rtopo_addr *o;

	if ((v = policy_rtopo_view(reply)) == NULL)
		return;
	err[0] = 0;
	rc = mw_rtopo_slots(v, "127.0.0.1", &map, err, sizeof(err));
	if (rc < 0) {
		fuzz_check(err[0] != 0);
		fuzz_check(map.covered == 0 && map.nnodes == 0);
	} else {
		fuzz_check((unsigned) rc == map.covered && map.covered <= MW_RTOPO_SLOTS);
		fuzz_check(map.nnodes <= MW_RTOPO_NODES_MAX);
		for (s = 0; s < MW_RTOPO_SLOTS; s++) {
			fuzz_check(map.owner[s] <= map.nnodes);
			if ((o = mw_rtopo_owner(&map, s)) != NULL) {
				addr_ok(o, 0);
				covered++;
			}
		}
		fuzz_check(covered == map.covered);
	}
	err[0] = 0;
	rc = mw_rtopo_sentinel_master(v, &a, err, sizeof(err));
	fuzz_check(rc == 1 || rc == MW_RTOPO_UNKNOWN || (rc == -1 && err[0] != 0));
	if (rc == 1)
		addr_ok(&a, 0);
	err[0] = 0;
	rc = mw_rtopo_role(v, &a, err, sizeof(err));
	fuzz_check(rc == MW_RTOPO_ROLE_MASTER || rc == MW_RTOPO_ROLE_REPLICA
		   || rc == MW_RTOPO_ROLE_SENTINEL || (rc == -1 && err[0] != 0));
	if (rc == MW_RTOPO_ROLE_REPLICA)
		addr_ok(&a, 0);
	if (v->type == MW_RESP_ERROR) {
		rc = mw_rtopo_redirect(v->str, v->len, &rd);
		if (rc == MW_RTOPO_MOVED || rc == MW_RTOPO_ASK) {
			fuzz_check(rd.slot < MW_RTOPO_SLOTS);
			addr_ok(&rd.to, 1);
		}
		(void) mw_rtopo_readonly(v->str, v->len);
	}
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_resp_guard guard;
	struct mw_rtopo_redirect rd;
	struct mw_rtopo_seeds seeds;
	redisReader *r;
	void   *reply;
	char   *str;
	char	err[256];
	size_t	i;
	int	rc;

	/* the whole input as an error text and as a setting */
	rc = mw_rtopo_redirect((const char *) data, size, &rd);
	if (rc == MW_RTOPO_MOVED || rc == MW_RTOPO_ASK) {
		fuzz_check(rd.slot < MW_RTOPO_SLOTS);
		addr_ok(&rd.to, 1);
	}
	fuzz_check(mw_rtopo_keyslot((const char *) data, size) < MW_RTOPO_SLOTS);
	str = fuzz_str(data, size);
	err[0] = 0;
	if (mw_rtopo_seeds_parse(str, &seeds, err, sizeof(err)) == 0) {
		fuzz_check(seeds.n >= 1 && seeds.n <= MW_RTOPO_SEEDS_MAX);
		for (i = 0; i < seeds.n; i++)
			addr_ok(seeds.addr + i, 0);
		fuzz_check(seeds.kind != MW_RTOPO_SENTINEL || seeds.name[0] != 0);
	} else {
		fuzz_check(err[0] != 0);
	}
	free(str);

	/* as replies */
	if ((r = redisReaderCreate()) == NULL)
		abort();
	policy_resp_guard(r, &guard);
	guard.expect = EXPECT;
	if (redisReaderFeed(r, (const char *) data, size) == REDIS_OK) {
		while (redisReaderGetReply(r, &reply) == REDIS_OK && reply != NULL) {
			read_reply(reply);
			freeReplyObject(reply);
		}
	}
	redisReaderFree(r);
	return (0);
}
