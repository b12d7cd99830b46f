/*++
/* NAME
/*	policy_proto 3
/* SUMMARY
/*	Postfix policy delegation protocol reader
/* SYNOPSIS
/*	#include "policy.h"
/*
/*	ssize_t	policy_proto_parse(buf, len, max_line, max_attrs, req, err, errlen)
/*	char	*buf;
/*	size_t	len;
/*	size_t	max_line;
/*	unsigned max_attrs;
/*	struct policy_req *req;
/*	char	*err;
/*	size_t	errlen;
/* DESCRIPTION
/*	policy_proto_parse() looks for one complete request at the start
/*	of buf: "name=value" lines ended by LF, and an empty line that ends
/*	the request (SMTPD_POLICY_README).  Attributes may come in any
/*	order; unknown names are skipped (newer Postfix versions add
/*	attributes); of a repeated name the last value counts.
/*
/*	When the request is complete, its lines are split in place (the
/*	LF and the first "=" of each line become NUL), the known
/*	attributes of req point into buf, and the size of the request is
/*	returned so that the caller can go on with the next one (several
/*	requests may arrive in one read).  While it is incomplete nothing
/*	in buf is changed.
/* DIAGNOSTICS
/*	The result is the number of bytes of the request, 0 when more
/*	input is needed, or -1 for a protocol error, with the reason in
/*	err: a line longer than max_line bytes (also while incomplete), more
/*	than max_attrs attributes, a line without "=", an empty attribute
/*	name, a NUL byte, or a "request" attribute that is missing or not
/*	"smtpd_access_policy".  The caller must then log the reason and
/*	close the connection without a reply, as the README prescribes.
/*
/*	policy_req_save() turns the pointers of a parsed req into offsets
/*	from base (the start of its request), so that a request can wait
/*	for a lookup while its buffer moves (realloc); policy_req_restore()
/*	makes them pointers into the buffer's new place again.  Absent
/*	attributes stay "".
/*--*/

/* System library. */

#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Utility library. */

#include "mw_str.h"

/* Application-specific. */

#include "policy.h"

#define A(name, member) { name, sizeof(name) - 1, offsetof(struct policy_req, member) }

/*
 * The attributes we use; Postfix sends about 29 a request, so names are
 * compared by length first.
 */
static const struct {
	const char *name;
	size_t	len;
	size_t	offset;
}       proto_attrs[] = {
	A("request", request),
	A("protocol_state", protocol_state),
	A("client_address", client_address),
	A("client_name", client_name),
	A("sasl_username", sasl_username),
	A("sender", sender),
	A("recipient", recipient),
	A("recipient_count", recipient_count),
	A("queue_id", queue_id),
	A("instance", instance),
	A("policy_context", policy_context),
	{NULL, 0, 0},
};

/* proto_scan - find the end of the request; check limits on the way */

static ssize_t
proto_scan(const char *buf, size_t len, size_t max_line, unsigned max_attrs,
	   char *err, size_t errlen)
{
	const char *line = buf;
	const char *end = buf + len;
	const char *nl;
	unsigned lines = 0;

	while (line < end) {
		nl = memchr(line, '\n', (size_t) (end - line));
		if ((size_t) ((nl ? nl : end) - line) > max_line)
			return (mw_err(err, errlen, "line longer than %zu bytes", max_line));
		if (nl == NULL)
			return (0);
		if (nl == line)
			return ((ssize_t) (nl + 1 - buf));
		if (memchr(line, '\0', (size_t) (nl - line)) != NULL)
			return (mw_err(err, errlen, "NUL byte in attribute"));
		if (++lines > max_attrs)
			return (mw_err(err, errlen, "more than %u attributes", max_attrs));
		line = nl + 1;
	}
	return (0);
}

/* policy_proto_parse - one request from the start of buf */

ssize_t
policy_proto_parse(char *buf, size_t len, size_t max_line, unsigned max_attrs,
		           struct policy_req *req, char *err, size_t errlen)
{
	ssize_t	size;
	char   *line;
	char   *nl;
	char   *eq;
	int	i;

	if ((size = proto_scan(buf, len, max_line, max_attrs, err, errlen)) <= 0)
		return (size);

	for (i = 0; proto_attrs[i].name != NULL; i++)
		*(const char **) ((char *) req + proto_attrs[i].offset) = "";
	req->nattrs = 0;

	/* proto_scan() saw a newline at the end of every line, and no NUL. */
	for (line = buf; *line != '\n'; line = nl + 1) {
		nl = memchr(line, '\n', (size_t) (buf + size - line));
		*nl = '\0';
		if ((eq = memchr(line, '=', (size_t) (nl - line))) == NULL)
			return (mw_err(err, errlen, "attribute without \"=\""));
		if (eq == line)
			return (mw_err(err, errlen, "empty attribute name"));
		*eq = '\0';
		req->nattrs++;
		for (i = 0; proto_attrs[i].name != NULL; i++) {
			if (proto_attrs[i].len == (size_t) (eq - line)
			    && memcmp(line, proto_attrs[i].name, proto_attrs[i].len) == 0) {
				*(const char **) ((char *) req + proto_attrs[i].offset) = eq + 1;
				break;
			}
		}
	}
	if (*req->request == '\0')
		return (mw_err(err, errlen, "missing request attribute"));
	if (strcmp(req->request, "smtpd_access_policy") != 0)
		return (mw_err(err, errlen, "unknown request type"));
	return (size);
}

_Static_assert(sizeof(proto_attrs) / sizeof(proto_attrs[0]) - 1 == POLICY_REQ_ATTRS,
	       "POLICY_REQ_ATTRS counts the attributes of struct policy_req");

/* policy_req_save - the request's attributes as offsets from base */

void
policy_req_save(const struct policy_req *req, const char *base, size_t len,
		        struct policy_req_saved *saved)
{
	size_t	i;

	for (i = 0; proto_attrs[i].name != NULL; i++) {
		const char *v = *(const char *const *) ((const char *) req + proto_attrs[i].offset);
		uintptr_t off = (uintptr_t) v - (uintptr_t) base;

		saved->off[i] = v >= base && off < len ? (long) off : -1;
	}
	saved->nattrs = req->nattrs;
}

/* policy_req_restore - pointers again, into base */

void
policy_req_restore(const struct policy_req_saved *saved, const char *base, struct policy_req *req)
{
	size_t	i;

	for (i = 0; proto_attrs[i].name != NULL; i++)
		*(const char **) ((char *) req + proto_attrs[i].offset) =
			saved->off[i] < 0 ? "" : base + saved->off[i];
	req->nattrs = saved->nattrs;
}
