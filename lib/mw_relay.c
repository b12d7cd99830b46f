/*++
/* NAME
/*	mw_relay 3
/* SUMMARY
/*	relay-for-customers decision
/* SYNOPSIS
/*	#include "mw_relay.h"
/*
/*	void	mw_relay_decide(tables, req, result)
/*	const struct mw_relay_tables *tables;
/*	const struct mw_relay_req *req;
/*	struct mw_relay_result *result;
/*
/*	enum mw_rcpt_class mw_relay_rcpt_class(hosted, recipient)
/*	const mw_map *hosted;
/*	const char *recipient;
/*
/*	int	mw_relay_hosted(hosted, domain, len)
/*	const char *domain;
/*	size_t	len;
/*
/*	int	mw_relay_sender_owned(sender_logins, sender, login)
/*	const char *sender;
/*	const char *login;
/*
/*	int	mw_relay_account_login(tables, sasl_username, login, len)
/*	char	*login;
/*	size_t	len;
/* DESCRIPTION
/*	mw_relay_decide() is THE relay decision of mailwarren, used by
/*	mailwarren-policyd for Postfix and by mailwarren-milter for
/*	Sendmail.  It looks at one recipient of one message and applies,
/*	first match wins:
/* .IP 0.
/*	with SenderOwnership userdb or Suspension userdb, a login whose
/*	userdb entry (req->account, see mw_account(3)) could not be had
/*	(NULL, or the directory failed: down, slow, garbage) gets
/*	MW_RELAY_TEMPFAIL, "451 4.7.1 Account directory unavailable, try
/*	again later" (the log reason adds the account's fail_why, when
/*	set); one with a value that mw_account(3) refuses gets
/*	MW_RELAY_TEMPFAIL, "451 4.7.1 Account data invalid, try again
/*	later", with the field and the reason in the log reason ("invalid
/*	mailwarren_senders: a control character"); a login the directory
/*	does not know is treated as suspended (1.), since an account
/*	removed from the directory must not keep relaying;
/* .IP 1.
/*	the login (sasl_username, case-insensitive) or the customer id is
/*	in the suspended set, or (Suspension userdb) the login's
/*	mailwarren_suspended is yes: MW_RELAY_SUSPENDED, "550 5.7.1 Account
/*	suspended, contact support" (hosted recipients too);
/* .IP 2.
/*	a login uses a non-null sender that the sender-login map does not
/*	give to it (or, with SenderOwnership userdb, that the login's
/*	mailwarren_senders does not list: mw_account_owns()):
/*	MW_RELAY_NOT_OWNER, "553 5.7.1 Sender address <s> not owned by
/*	user <login>" (only when the map or the userdb is configured);
/* .IP 3.
/*	the recipient is neither hosted nor unqualified and the client is
/*	neither a customer nor logged in: MW_RELAY_DENIED, "554 5.7.1
/*	Relay access denied";
/* .IP 4.
/*	a hosted or unqualified recipient: MW_RELAY_INBOUND;
/* .IP 5.
/*	otherwise (a customer or a login relays): MW_RELAY_OUTBOUND.
/* .PP
/*	Rate limits, which come between 3 and 4, are the caller's: the
/*	result names the identities to count (login, customer).
/*	shown_login is the login with every byte that is not printable
/*	ASCII replaced by "?", as senders are: the form that logs and
/*	replies to clients show (the login counts and matches as sent).
/*
/*	The customer is the longest-prefix match of client_address in the
/*	customer networks (IPv4, IPv6, IPv4-mapped IPv6; "unknown" or junk
/*	is no customer); when there is none, the login's
/*	mailwarren_customer from the userdb, if it has one.
/*
/*	mw_relay_account_login() tells the caller whether the decision
/*	needs the login's userdb entry (SenderOwnership or Suspension
/*	userdb, and a login in sasl_username): 1 with the name to look up
/*	(the login lowercased) in login, else 0.
/*
/*	mw_relay_rcpt_class() classifies a recipient as Postfix hands it
/*	over (brackets and source routes already removed): no "@" at all
/*	is MW_RCPT_UNQUALIFIED; a leading "@", an "@", "%" or "!" in the
/*	local part (the domain is after the LAST "@"), an address literal
/*	"[...]" or an empty domain is MW_RCPT_ROUTED, never hosted (as
/*	Postfix with allow_untrusted_routing=no); a domain that
/*	mw_relay_hosted() accepts is MW_RCPT_HOSTED; anything else is
/*	MW_RCPT_FOREIGN.
/*
/*	mw_relay_hosted() compares the domain ASCII-lowercased, with one
/*	trailing dot removed, byte for byte (no IDNA) with the hosted
/*	set: an entry "example.com" matches that domain only, an entry
/*	".example.com" every subdomain of it but not example.com itself.
/*
/*	mw_relay_sender_owned() implements Postfix's smtpd_sender_login_maps
/*	lookup: the keys "local+ext@domain", "local@domain" and "@domain"
/*	are tried in that order (case-insensitively); the first entry
/*	found decides, and the sender is owned when its owner list
/*	(separated by commas and/or spaces) names login (case-insensitive).
/*	A sender with no entry is not owned.
/*
/*	mw_relay_rcpt_user() gives the name under which a hosted
/*	recipient is looked up in the user directory: the local part
/*	without its extension (cut at the first of the delimiter
/*	characters that is not its first byte, as Postfix's
/*	recipient_delimiter does; no cut when delimiters is NULL or
/*	empty), "@", and the domain ASCII-lowercased with one trailing dot
/*	removed.  The local part keeps its case (the directory folds it
/*	if it wants to).  It returns -1 when rcpt has no "@" or the name
/*	does not fit in len bytes.
/* SEE ALSO
/*	mailwarren-policyd(8), Postfix SMTPD_POLICY_README, access(5)
/*--*/

/* System library. */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Utility library. */

#include "mw_relay.h"
#include "mw_str.h"

#define RELAY_DOMAIN_MAX	512	/* longer domains are never hosted */

/* mw_relay_hosted - is the domain (len bytes) in the hosted set */

int
mw_relay_hosted(const mw_map *hosted, const char *domain, size_t len)
{
	char	buf[RELAY_DOMAIN_MAX + 2];
	const char *dot;

	if (hosted == NULL)
		return (0);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > RELAY_DOMAIN_MAX)
		return (0);
	memcpy(buf, domain, len);
	buf[len] = '\0';
	mw_lowercase(buf);
	if (mw_map_get(hosted, buf) != NULL)
		return (1);
	/* ".parent" entries: try every proper parent, nearest first */
	for (dot = strchr(buf + 1, '.'); dot != NULL; dot = strchr(dot + 1, '.'))
		if (mw_map_get(hosted, dot) != NULL)
			return (1);
	return (0);
}

/* mw_relay_rcpt_user - the directory's name for a hosted recipient */

int
mw_relay_rcpt_user(const char *rcpt, const char *delimiters, char *buf, size_t len)
{
	const char *at = strrchr(rcpt, '@');
	size_t	local_len;
	size_t	dom_len;
	size_t	cut;

	if (at == NULL)
		return (-1);
	local_len = (size_t) (at - rcpt);
	if (delimiters != NULL && *delimiters != '\0' && local_len > 1) {
		cut = 1 + strcspn(rcpt + 1, delimiters);
		if (cut < local_len)
			local_len = cut;
	}
	dom_len = strlen(at + 1);
	if (dom_len > 0 && at[dom_len] == '.')
		dom_len--;
	if (local_len + 1 + dom_len + 1 > len)
		return (-1);
	memcpy(buf, rcpt, local_len);
	buf[local_len] = '@';
	memcpy(buf + local_len + 1, at + 1, dom_len);
	buf[local_len + 1 + dom_len] = '\0';
	mw_lowercase(buf + local_len + 1);
	return (0);
}

/* mw_relay_rcpt_class - hosted, unqualified, routed or foreign */

enum mw_rcpt_class
mw_relay_rcpt_class(const mw_map *hosted, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	const char *domain;
	size_t	local_len;

	if (at == NULL)
		return (MW_RCPT_UNQUALIFIED);
	domain = at + 1;
	local_len = (size_t) (at - rcpt);
	if (rcpt[0] == '@' || *domain == '\0' || *domain == '[')
		return (MW_RCPT_ROUTED);
	if (memchr(rcpt, '@', local_len) != NULL || memchr(rcpt, '%', local_len) != NULL
	    || memchr(rcpt, '!', local_len) != NULL)
		return (MW_RCPT_ROUTED);
	if (mw_relay_hosted(hosted, domain, strlen(domain)))
		return (MW_RCPT_HOSTED);
	return (MW_RCPT_FOREIGN);
}

/* owner_listed - does a comma/space separated owner list name login */

static int
owner_listed(const char *owners, const char *login)
{
	size_t	llen = strlen(login);
	size_t	len;

	for (;;) {
		owners += strspn(owners, ", \t");
		if (*owners == '\0')
			return (0);
		len = strcspn(owners, ", \t");
		if (len == llen && strncasecmp(owners, login, len) == 0)
			return (1);
		owners += len;
	}
}

/* mw_relay_sender_owned - smtpd_sender_login_maps semantics */

int
mw_relay_sender_owned(const mw_map *map, const char *sender, const char *login)
{
	char	key[RELAY_DOMAIN_MAX * 2];
	const char *owners;
	const char *at = strrchr(sender, '@');
	const char *plus;
	size_t	local_len;

	if (strlen(sender) >= sizeof(key))
		return (0);
	/* 1. the address as given */
	if ((owners = mw_map_get(map, sender)) != NULL)
		return (owner_listed(owners, login));
	if (at == NULL)
		return (0);
	/* 2. without the address extension */
	local_len = (size_t) (at - sender);
	if ((plus = memchr(sender, '+', local_len)) != NULL && plus > sender) {
		snprintf(key, sizeof(key), "%.*s%s", (int) (plus - sender), sender, at);
		if ((owners = mw_map_get(map, key)) != NULL)
			return (owner_listed(owners, login));
	}
	/* 3. the whole domain */
	if ((owners = mw_map_get(map, at)) != NULL)
		return (owner_listed(owners, login));
	return (0);
}

/* mw_relay_account_login - the login to look up in the userdb, if any */

int
mw_relay_account_login(const struct mw_relay_tables *tables, const char *sasl_username,
		               char *login, size_t len)
{
	if (!tables->ownership_userdb && !tables->suspension_userdb)
		return (0);
	if (sasl_username == NULL || *sasl_username == '\0' || strlen(sasl_username) >= len
	    || strlen(sasl_username) >= MW_RELAY_ID_MAX)
		return (0);
	mw_strlcpy(login, sasl_username, len);
	mw_lowercase(login);
	return (1);
}

/* relay_account - step 0: the login's userdb entry; 1 when that decides */

static int
relay_account(const struct mw_relay_tables *tables, const struct mw_account *acct,
	              struct mw_relay_result *res)
{
	if (!*res->login || (!tables->ownership_userdb && !tables->suspension_userdb))
		return (0);
	if (acct == NULL || acct->status == MW_ACCOUNT_FAIL) {
		res->verdict = MW_RELAY_TEMPFAIL;
		snprintf(res->reason_buf, sizeof(res->reason_buf), "account directory unavailable%s%s",
			 acct != NULL && *acct->fail_why ? ": " : "", acct != NULL ? acct->fail_why : "");
		res->reason = res->reason_buf;
		snprintf(res->text, sizeof(res->text), "451 4.7.1 Account directory unavailable, try again later");
		return (1);
	}
	if (acct->status == MW_ACCOUNT_INVALID) {
		res->verdict = MW_RELAY_TEMPFAIL;
		snprintf(res->reason_buf, sizeof(res->reason_buf), "invalid %s: %s",
			 acct->field ? acct->field : "field", acct->why ? acct->why : "refused");
		res->reason = res->reason_buf;
		snprintf(res->text, sizeof(res->text), "451 4.7.1 Account data invalid, try again later");
		return (1);
	}
	if (acct->status == MW_ACCOUNT_NOTFOUND) {
		res->verdict = MW_RELAY_SUSPENDED;
		res->reason = "login not in the directory";
		snprintf(res->text, sizeof(res->text), "550 5.7.1 Account suspended, contact support");
		return (1);
	}
	if (!*res->customer && *acct->customer)
		mw_strlcpy(res->customer, acct->customer, sizeof(res->customer));
	return (0);
}

/* mw_relay_decide - the relay-for-customers decision for one recipient */

void
mw_relay_decide(const struct mw_relay_tables *tables, const struct mw_relay_req *req,
		        struct mw_relay_result *res)
{
	struct mw_addr addr;
	const char *cust = NULL;
	const char *login = req->sasl_username ? req->sasl_username : "";
	const char *sender = req->sender ? req->sender : "";
	char	shown_sender[200];

	memset(res, 0, sizeof(*res));

	/* Identities: the login (lowercased) and the customer. */
	if (*login != '\0' && strlen(login) < sizeof(res->login)) {
		mw_strlcpy(res->login, login, sizeof(res->login));
		mw_lowercase(res->login);
		/* what the client sent, made safe for logs and replies */
		mw_printable(res->shown_login, sizeof(res->shown_login), res->login,
			     strlen(res->login));
	}
	if (tables->customers != NULL && req->client_address != NULL
	    && mw_addr_parse(req->client_address, &addr) == 0
	    && (cust = mw_cidr_lookup(tables->customers, &addr)) != NULL)
		mw_strlcpy(res->customer, cust, sizeof(res->customer));
	res->rcpt_class = mw_relay_rcpt_class(tables->hosted,
					      req->recipient ? req->recipient : "");

	/* 0. The directory's facts about the login, when they are used. */
	if (relay_account(tables, req->account, res))
		return;

	/* 1. Suspension stops the identity, whatever the recipient. */
	if ((tables->suspended != NULL
	     && ((*res->login && mw_map_get(tables->suspended, res->login) != NULL)
		 || (*res->customer && mw_map_get(tables->suspended, res->customer) != NULL)))
	    || (*res->login && tables->suspension_userdb && req->account->suspended)) {
		res->verdict = MW_RELAY_SUSPENDED;
		res->reason = "suspended";
		snprintf(res->text, sizeof(res->text), "550 5.7.1 Account suspended, contact support");
		return;
	}

	/* 2. A login may only use the sender addresses it owns. */
	if (*res->login && *sender
	    && (tables->ownership_userdb ? !mw_account_owns(req->account, sender)
		: tables->sender_logins != NULL
		&& !mw_relay_sender_owned(tables->sender_logins, sender, res->login))) {
		res->verdict = MW_RELAY_NOT_OWNER;
		res->reason = "sender not owned";
		snprintf(res->text, sizeof(res->text),
			 "553 5.7.1 Sender address <%s> not owned by user <%s>",
			 mw_printable(shown_sender, sizeof(shown_sender), sender, strlen(sender)),
			 res->shown_login);
		return;
	}

	/* 3. Strangers may only send to hosted (or unqualified) addresses. */
	if (res->rcpt_class != MW_RCPT_HOSTED && res->rcpt_class != MW_RCPT_UNQUALIFIED
	    && !*res->login && !*res->customer) {
		res->verdict = MW_RELAY_DENIED;
		res->reason = res->rcpt_class == MW_RCPT_ROUTED ? "routed recipient" : "relay";
		snprintf(res->text, sizeof(res->text), "554 5.7.1 Relay access denied");
		return;
	}

	/* 4, 5. Inbound is open to all; customers and logins relay. */
	if (res->rcpt_class == MW_RCPT_HOSTED || res->rcpt_class == MW_RCPT_UNQUALIFIED) {
		res->verdict = MW_RELAY_INBOUND;
		res->reason = res->rcpt_class == MW_RCPT_HOSTED ? "hosted" : "unqualified";
	} else {
		res->verdict = MW_RELAY_OUTBOUND;
		res->reason = *res->login ? "sasl relay" : "customer relay";
	}
}
