/*++
/* NAME
/*	rtopo-read 1
/* SUMMARY
/*	read a live server's raw reply as mailwarren-policyd reads topology
/* SYNOPSIS
/*	rtopo-read slots KEY <reply
/*	rtopo-read sentinel|role|error <reply
/* DESCRIPTION
/*	Test tool: reads one RESP reply from standard input through
/*	hiredis' reader (policy_resp_guard(3)) and policy_rtopo_view(3),
/*	and prints what mw_rtopo(3) makes of it, so that tests check our
/*	parsers against real Redis, Sentinel and Cluster answers:
/*	slots: "COVERED NODES SLOT PORT" (KEY's slot and its master);
/*	sentinel: "HOST:PORT" or "unknown"; role: "master", "replica
/*	HOST:PORT" or "sentinel"; error: "moved SLOT HOST:PORT", "ask SLOT
/*	HOST:PORT", "readonly" or "other".  A refused reply prints
/*	"refused: WHY" and exits 1.
/*--*/

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mw_rtopo.h"
#include "policy_rtopo.h"

static int
refused(const char *why)
{
	printf("refused: %s\n", why);
	return (1);
}

int
main(int argc, char **argv)
{
	static struct mw_rtopo_slotmap map;
	static char buf[1024 * 1024];
	struct policy_resp_guard guard;
	struct mw_rtopo_redirect rd;
	const struct mw_rtopo_addr *o;
	struct mw_rtopo_addr a;
	struct mw_resp *v;
	redisReader *r;
	void   *reply = NULL;
	char	err[256];
	size_t	n;
	unsigned slot;
	int	rc;

	if (argc < 2 || (strcmp(argv[1], "slots") == 0 && argc != 3)) {
		fprintf(stderr, "usage: rtopo-read slots KEY | sentinel | role | error <reply\n");
		return (2);
	}
	n = fread(buf, 1, sizeof(buf), stdin);
	if ((r = redisReaderCreate()) == NULL)
		return (refused("out of memory"));
	policy_resp_guard(r, &guard);
	guard.expect = 1;
	if (redisReaderFeed(r, buf, n) != REDIS_OK || redisReaderGetReply(r, &reply) != REDIS_OK
	    || reply == NULL)
		return (refused("no complete reply"));
	if ((v = policy_rtopo_view(reply)) == NULL)
		return (refused("too deep"));
	if (strcmp(argv[1], "slots") == 0) {
		if (mw_rtopo_slots(v, "127.0.0.1", &map, err, sizeof(err)) < 0)
			return (refused(err));
		slot = mw_rtopo_keyslot(argv[2], strlen(argv[2]));
		o = mw_rtopo_owner(&map, slot);
		printf("%u %zu %u %d\n", map.covered, map.nnodes, slot, o ? o->port : 0);
	} else if (strcmp(argv[1], "sentinel") == 0) {
		if ((rc = mw_rtopo_sentinel_master(v, &a, err, sizeof(err))) < 0)
			return (refused(err));
		if (rc == MW_RTOPO_UNKNOWN)
			printf("unknown\n");
		else
			printf("%s:%d\n", a.host, a.port);
	} else if (strcmp(argv[1], "role") == 0) {
		switch (mw_rtopo_role(v, &a, err, sizeof(err))) {
		case MW_RTOPO_ROLE_MASTER:
			printf("master\n");
			break;
		case MW_RTOPO_ROLE_REPLICA:
			printf("replica %s:%d\n", a.host, a.port);
			break;
		case MW_RTOPO_ROLE_SENTINEL:
			printf("sentinel\n");
			break;
		default:
			return (refused(err));
		}
	} else {
		if (v->type != MW_RESP_ERROR)
			return (refused("not an error reply"));
		switch (mw_rtopo_redirect(v->str, v->len, &rd)) {
		case MW_RTOPO_MOVED:
			printf("moved %u %s:%d\n", rd.slot, rd.to.host, rd.to.port);
			break;
		case MW_RTOPO_ASK:
			printf("ask %u %s:%d\n", rd.slot, rd.to.host, rd.to.port);
			break;
		case MW_RTOPO_BAD:
			return (refused("a MOVED or ASK that does not parse"));
		default:
			printf("%s\n", mw_rtopo_readonly(v->str, v->len) ? "readonly" : "other");
		}
	}
	free(v);
	freeReplyObject(reply);
	redisReaderFree(r);
	return (0);
}
