/*++
/* NAME
/*	fuzz_redis_reply 1
/* SUMMARY
/*	libFuzzer target for reading what a Redis server sends
/* DESCRIPTION
/*	Feeds arbitrary bytes to hiredis' reply reader (redisReader) with
/*	the limits mailwarren-policyd puts on it (policy_resp_guard(3)),
/*	as a connection does, and turns every reply into a rate outcome
/*	(policy_resp_outcome(3)).  Checks that each reply stays within the
/*	limits (arrays nested at most POLICY_RESP_DEPTH_MAX deep, at most
/*	POLICY_RESP_ELEMENTS_MAX elements, strings of at most
/*	POLICY_RESP_BULK_MAX bytes, RESP2 types only), that the outcome is
/*	a rate outcome (an item, -1 only for the integer 0, or
/*	POLICY_RATE_ERROR), that no more replies come than were expected,
/*	and that the same bytes fed in small pieces give the same replies
/*	and the same end (an error or not) as fed at once.
/*--*/

#include "config.h"

#include "fuzz.h"
#include "policy.h"
#include "policy_hiredis.h"

#define EXPECT		64		/* replies a connection waits for */
#define SMALL_INPUT	65536		/* fed byte by byte up to this size */

struct run {
	int	outcomes[EXPECT + 1];
	size_t	n;
	int	failed;
};

/* reply_ok - the reply and its parts are within the limits (arrays in at most 7 others) */

static void
reply_ok(const redisReply *r, int depth)
{
	size_t	i;

	switch (r->type) {
	case REDIS_REPLY_ARRAY:
		fuzz_check(depth < POLICY_RESP_DEPTH_MAX);
		fuzz_check(r->elements <= POLICY_RESP_ELEMENTS_MAX);
		for (i = 0; i < r->elements; i++)
			reply_ok(r->element[i], depth + 1);
		break;
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		fuzz_check(r->len <= POLICY_RESP_BULK_MAX);
		break;
	case REDIS_REPLY_INTEGER:
	case REDIS_REPLY_NIL:
		break;
	default:
		fuzz_check(!"a RESP3 type");
	}
}

/* run - feed the input in pieces of step bytes (0: at once) */

static void
run(const uint8_t *data, size_t size, size_t step, struct run *out)
{
	struct policy_resp_guard guard;
	redisReader *r;
	void   *reply;
	size_t	off = 0;
	size_t	len;
	int	outcome;

	memset(out, 0, sizeof(*out));
	if ((r = redisReaderCreate()) == NULL)
		abort();
	policy_resp_guard(r, &guard);
	guard.expect = EXPECT;
	while (!out->failed && off < size) {
		len = step == 0 || size - off < step ? size - off : step;
		if (redisReaderFeed(r, (const char *) data + off, len) != REDIS_OK)
			out->failed = 1;
		off += len;
		while (!out->failed) {
			if (redisReaderGetReply(r, &reply) != REDIS_OK) {
				out->failed = 1;
				break;
			}
			if (reply == NULL)
				break;
			reply_ok(reply, 0);
			outcome = policy_resp_outcome(reply);
			fuzz_check(outcome == POLICY_RATE_ERROR
				   || (outcome >= -1 && outcome < POLICY_RATE_ITEMS));
			fuzz_check(outcome != -1 || (((redisReply *) reply)->type == REDIS_REPLY_INTEGER
					   && ((redisReply *) reply)->integer == 0));
			fuzz_check(out->n < EXPECT);
			out->outcomes[out->n++] = outcome;
			freeReplyObject(reply);
		}
	}
	/* a refusal is the guard's reason or hiredis' own error */
	fuzz_check(!out->failed || r->err != 0);
	redisReaderFree(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole;
	struct run pieces;
	size_t	i;

	/* no reply at all is "within limits" */
	fuzz_check(policy_resp_outcome(NULL) == POLICY_RATE_ERROR);
	run(data, size, 0, &whole);
	run(data, size, size <= SMALL_INPUT ? 1 : 4096, &pieces);
	fuzz_check(whole.failed == pieces.failed);
	fuzz_check(whole.n == pieces.n);
	for (i = 0; i < whole.n; i++)
		fuzz_check(whole.outcomes[i] == pieces.outcomes[i]);
	return (0);
}
