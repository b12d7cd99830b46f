/*++
/* NAME
/*	fuzz_redis_reply 1
/* SUMMARY
/*	libFuzzer target for the Redis (RESP) reply reader
/* DESCRIPTION
/*	Feeds arbitrary bytes to policy_resp_parse() as redis_replies()
/*	does: reply after reply from an exact-size buffer that is not
/*	NUL-terminated.  Checks that every reply lies within the input,
/*	that the answer is a rate outcome (an item, -1 only for the
/*	integer 0, or POLICY_RATE_ERROR), and that an incomplete reply
/*	stays incomplete or becomes complete as bytes are added, never
/*	longer than what was there.
/*--*/

#include "config.h"

#include "fuzz.h"
#include "policy_reply.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char   *buf;
	size_t	off = 0;
	ssize_t	n;
	long long value;
	int	type;
	int	outcome;

	/* exactly size bytes and no NUL after them */
	if ((buf = malloc(size ? size : 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	while (off < size && (n = policy_resp_parse(buf + off, size - off, &type, &value)) > 0) {
		fuzz_check((size_t) n <= size - off);
		outcome = policy_resp_outcome(type, value);
		fuzz_check(outcome == POLICY_RATE_ERROR
			   || (outcome >= -1 && outcome < POLICY_RATE_ITEMS));
		fuzz_check(outcome != -1 || (type == ':' && value == 0));
		/* the same reply, cut short, is incomplete (or already bad) */
		if (n > 1)
			fuzz_check(policy_resp_parse(buf + off, (size_t) n - 1, &type, &value) <= 0);
		off += (size_t) n;
	}
	free(buf);
	return (0);
}
