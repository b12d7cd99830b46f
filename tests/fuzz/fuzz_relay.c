/*++
/* NAME
/*	fuzz_relay 1
/* SUMMARY
/*	libFuzzer target for the address handling of the relay decision
/* DESCRIPTION
/*	The input is up to five LF-separated fields: client address,
/*	SASL login, sender, recipient and recipient delimiters, handed to
/*	mw_relay_decide() (the decision of both mailwarren-policyd and
/*	mailwarren-milter), mw_relay_rcpt_class() and
/*	mw_relay_rcpt_user() with small fixed tables.  Checks that the
/*	verdict is a known one, that the SMTP reply text and the login
/*	shown in logs and replies hold printable ASCII only (no CR, LF or
/*	ESC from a client ever reaches Postfix or the log), that a refusal
/*	has a reply, and that a recipient's directory name has a lower-
/*	case domain.
/*--*/

#include "config.h"

#include "fuzz.h"
#include "mw_relay.h"

static struct mw_relay_tables tables;

static void
tables_init(void)
{
	char	err[256];

	if (tables.hosted != NULL)
		return;
	if ((tables.hosted = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE)) == NULL
	    || (tables.suspended = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE)) == NULL
	    || (tables.sender_logins = mw_map_create(MW_MAP_LOWERCASE)) == NULL
	    || (tables.customers = mw_cidr_create()) == NULL
	    || mw_map_put(tables.hosted, "example.com", "", err, sizeof(err)) < 0
	    || mw_map_put(tables.hosted, ".example.org", "", err, sizeof(err)) < 0
	    || mw_map_put(tables.suspended, "evil", "", err, sizeof(err)) < 0
	    || mw_map_put(tables.suspended, "cust9", "", err, sizeof(err)) < 0
	    || mw_map_put(tables.sender_logins, "@example.com", "alice, bob", err, sizeof(err)) < 0
	    || mw_map_put(tables.sender_logins, "carol@example.net", "carol", err, sizeof(err)) < 0
	    || mw_cidr_add(tables.customers, "192.0.2.0/24", "cust1", err, sizeof(err)) < 0
	    || mw_cidr_add(tables.customers, "2001:db8::/32", "cust6", err, sizeof(err)) < 0
	    || mw_cidr_add(tables.customers, "198.51.100.7", "cust9", err, sizeof(err)) < 0)
		abort();
}

static void
check_printable(const char *s)
{
	for (; *s; s++)
		fuzz_check(*s >= 0x20 && *s < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_relay_result res;
	struct mw_relay_req req = {0};
	char	user[512];
	char   *client = fuzz_str(data, size);
	char   *login = fuzz_split(client, '\n');
	char   *sender = fuzz_split(login, '\n');
	char   *rcpt = fuzz_split(sender, '\n');
	char   *delim = fuzz_split(rcpt, '\n');
	const char *at;

	(void) fuzz_split(delim, '\n');
	tables_init();
	req.client_address = client;
	req.sasl_username = login;
	req.sender = sender;
	req.recipient = rcpt;
	mw_relay_decide(&tables, &req, &res);
	fuzz_check(res.verdict >= MW_RELAY_SUSPENDED && res.verdict <= MW_RELAY_OUTBOUND);
	fuzz_check(res.reason != NULL);
	check_printable(res.text);
	check_printable(res.shown_login);
	check_printable(res.customer);
	fuzz_check((res.login[0] == '\0') == (res.shown_login[0] == '\0'));
	if (res.verdict <= MW_RELAY_DENIED)
		fuzz_check(res.text[0] == '5');
	fuzz_check(mw_relay_rcpt_class(tables.hosted, rcpt) == res.rcpt_class);
	if (mw_relay_rcpt_user(rcpt, delim, user, sizeof(user)) == 0) {
		fuzz_check((at = strrchr(user, '@')) != NULL);
		for (at++; *at; at++)
			fuzz_check(!(*at >= 'A' && *at <= 'Z'));
	}
	free(client);
	return (0);
}
