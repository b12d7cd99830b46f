/*++
/* NAME
/*	fuzz_policy_proto 1
/* SUMMARY
/*	libFuzzer target for the policy protocol reader
/* DESCRIPTION
/*	Feeds arbitrary bytes to policy_proto_parse() as the daemon does:
/*	as many requests as the buffer holds, with the daemon's default
/*	limits, checking that every consumed size lies within the input and
/*	that a parsed request has the mandatory attribute.
/*--*/

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_req req;
	char	err[256];
	char   *buf;
	size_t	off = 0;
	ssize_t	n;

	/* exactly size bytes: ASan catches any read beyond them */
	if ((buf = malloc(size ? size : 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	while (off < size) {
		n = policy_proto_parse(buf + off, size - off, 8192, 256, &req, err, sizeof(err));
		if (n <= 0)
			break;
		if ((size_t) n > size - off || strcmp(req.request, "smtpd_access_policy") != 0)
			abort();
		off += (size_t) n;
	}
	free(buf);
	return (0);
}
