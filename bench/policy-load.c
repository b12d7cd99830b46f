/*++
/* NAME
/*	policy-load 1
/* SUMMARY
/*	load generator for Postfix policy servers
/* SYNOPSIS
/*	policy-load [-x] [-c conns] [-n requests] [-t seconds] [-m mix]
/*		[-l logins] [-o domain] -C customer-ips -H hosted-domains socket
/* DESCRIPTION
/*	policy-load keeps conns persistent connections to a policy server
/*	(socket: inet:PORT@HOST or local:/path), each with one request in
/*	flight as Postfix's smtpd does, and sends the exact 29-attribute
/*	requests of Postfix 3.7 at RCPT.  The mix (-m IN,CUST,SASL,STRANGER,
/*	percentages, default 50,30,10,10) is inbound mail from strangers to
/*	hosted domains, relay by customers (client addresses from -C), relay
/*	by SASL logins, and relay attempts by strangers; each session has 1
/*	to 5 recipients.  SASL sessions log in as userN, N below logins (-l,
/*	default 100000), with the null sender, or with -o as userN@domain (the
/*	address the login owns: the ownership check is made).
/*
/*	Every answer is checked against the relay decision (DUNNO for
/*	inbound, OK for customers and logins, a 554 or REJECT for strangers)
/*	unless -x is given (for a do-nothing server).  At the end one line
/*	reports requests, seconds, requests/s, p50/p90/p99/max latency in
/*	microseconds and mismatches.
/*--*/

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define KIND_INBOUND	0
#define KIND_CUSTOMER	1
#define KIND_SASL	2
#define KIND_STRANGER	3

struct conn {
	int	fd;
	int	kind;			/* of the current session */
	int	rcpts_left;
	char	client[64];
	char	login[32];
	char	out[2048];
	size_t	out_len;
	size_t	out_off;
	char	in[1024];
	size_t	in_len;
	double	sent;			/* time the request was written */
};

static char **customers;
static size_t ncustomers;
static char **hosted;
static size_t nhosted;
static int mix[4] = {50, 30, 10, 10};
static int no_check;
static unsigned nlogins = 100000;
static const char *own_domain;		/* -o: SASL senders userN@domain */
static double *lat;
static long nlat;
static long mismatches;
static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((unsigned) (rng % n));
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e6 + ts.tv_nsec / 1e3);
}

static char **
read_lines(const char *path, size_t *n)
{
	FILE   *fp = fopen(path, "r");
	char  **v = NULL;
	char	line[512];
	size_t	cap = 0;

	if (fp == NULL) {
		perror(path);
		exit(1);
	}
	*n = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = strdup(line);
	}
	fclose(fp);
	if (*n == 0) {
		fprintf(stderr, "%s: empty\n", path);
		exit(1);
	}
	return (v);
}

/* new_session - pick the kind of the next session */

static void
new_session(struct conn *c)
{
	unsigned r = rnd(100);

	c->kind = r < (unsigned) mix[0] ? KIND_INBOUND : r < (unsigned) (mix[0] + mix[1]) ? KIND_CUSTOMER
	    : r < (unsigned) (mix[0] + mix[1] + mix[2]) ? KIND_SASL : KIND_STRANGER;
	c->rcpts_left = 1 + (int) rnd(5);
	c->login[0] = '\0';
	if (c->kind == KIND_CUSTOMER)
		snprintf(c->client, sizeof(c->client), "%s", customers[rnd((unsigned) ncustomers)]);
	else
		snprintf(c->client, sizeof(c->client), "198.51.%u.%u", rnd(256), 1 + rnd(254));
	if (c->kind == KIND_SASL)
		snprintf(c->login, sizeof(c->login), "user%u", rnd(nlogins));
}

/* build - the next RCPT request of the session */

static void
build(struct conn *c)
{
	char	rcpt[300];
	char	sender[300];

	if (c->rcpts_left-- <= 0)
		new_session(c);
	if (c->kind == KIND_INBOUND)
		snprintf(rcpt, sizeof(rcpt), "u%u@%s", rnd(1000), hosted[rnd((unsigned) nhosted)]);
	else
		snprintf(rcpt, sizeof(rcpt), "u%u@foreign%u.example", rnd(1000), rnd(1000));
	if (c->kind != KIND_SASL)
		snprintf(sender, sizeof(sender), "a@sender.example");
	else if (own_domain != NULL)
		snprintf(sender, sizeof(sender), "%s@%s", c->login, own_domain);
	else
		sender[0] = '\0';
	c->out_len = (size_t) snprintf(c->out, sizeof(c->out),
	    "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
	    "client_address=%s\nclient_name=unknown\nclient_port=%u\n"
	    "reverse_client_name=unknown\nserver_address=127.0.0.1\nserver_port=25\n"
	    "helo_name=client.test\nsender=%s\nrecipient=%s\nrecipient_count=0\n"
	    "queue_id=\ninstance=%x.6b038864.ae09c.0\nsize=0\netrn_domain=\nstress=\n"
	    "sasl_method=%s\nsasl_username=%s\nsasl_sender=\nccert_subject=\nccert_issuer=\n"
	    "ccert_fingerprint=\nccert_pubkey_fingerprint=\nencryption_protocol=\n"
	    "encryption_cipher=\nencryption_keysize=0\npolicy_context=\n\n",
	    c->client, 1024 + rnd(60000), sender,
	    rcpt, rnd(1 << 30), c->kind == KIND_SASL ? "PLAIN" : "", c->login);
	c->out_off = 0;
}

/* check - is the answer the relay decision */

static void
check(const struct conn *c, const char *reply)
{
	int	good;

	if (no_check)
		return;
	switch (c->kind) {
	case KIND_INBOUND:
		good = strncasecmp(reply, "action=DUNNO", 12) == 0;
		break;
	case KIND_CUSTOMER:
	case KIND_SASL:
		good = strncasecmp(reply, "action=OK", 9) == 0;
		break;
	default:
		good = strncmp(reply, "action=554", 10) == 0 || strncasecmp(reply, "action=REJECT", 13) == 0;
		break;
	}
	if (!good && mismatches++ < 5)
		fprintf(stderr, "mismatch: kind %d client %s: %.60s\n", c->kind, c->client, reply);
}

static int
dial(const char *spec)
{
	int	fd;
	int	on = 1;

	if (strncmp(spec, "local:", 6) == 0 || strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", strchr(spec, ':') + 1);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
			perror(spec);
			exit(1);
		}
	} else if (strncmp(spec, "inet:", 5) == 0 && strchr(spec, '@') != NULL) {
		struct addrinfo hints, *res;
		char	port[16];

		snprintf(port, sizeof(port), "%.*s", (int) (strchr(spec, '@') - spec - 5), spec + 5);
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(strchr(spec, '@') + 1, port, &hints, &res) != 0) {
			fprintf(stderr, "%s: cannot resolve\n", spec);
			exit(1);
		}
		fd = socket(res->ai_family, SOCK_STREAM, 0);
		if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
			perror(spec);
			exit(1);
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		freeaddrinfo(res);
	} else {
		fprintf(stderr, "bad socket %s (inet:PORT@HOST or local:/path)\n", spec);
		exit(1);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return (fd);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *) a;
	double	y = *(const double *) b;

	return (x < y ? -1 : x > y);
}

static void
send_some(struct conn *c)
{
	ssize_t	n;

	while (c->out_off < c->out_len) {
		n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			perror("write");
			exit(1);
		}
		c->out_off += (size_t) n;
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event ev;
	struct epoll_event evs[256];
	struct conn *conns;
	long	total = 100000;
	long	done = 0;
	double	max_secs = 60;
	double	start;
	double	elapsed;
	int	nconns = 8;
	int	epfd;
	int	ch;
	int	i;

	while ((ch = getopt(argc, argv, "c:n:t:m:l:o:C:H:x")) != -1) {
		switch (ch) {
		case 'c':
			nconns = atoi(optarg);
			break;
		case 'n':
			total = atol(optarg);
			break;
		case 't':
			max_secs = atof(optarg);
			break;
		case 'm':
			if (sscanf(optarg, "%d,%d,%d,%d", &mix[0], &mix[1], &mix[2], &mix[3]) != 4) {
				fprintf(stderr, "bad -m\n");
				return (2);
			}
			break;
		case 'l':
			if ((nlogins = (unsigned) atoi(optarg)) == 0)
				nlogins = 1;
			break;
		case 'o':
			own_domain = optarg;
			break;
		case 'C':
			customers = read_lines(optarg, &ncustomers);
			break;
		case 'H':
			hosted = read_lines(optarg, &nhosted);
			break;
		case 'x':
			no_check = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-x] [-c conns] [-n requests] [-t secs] [-m in,cust,sasl,stranger] [-l logins] [-o domain] -C customer-ips -H hosted socket\n", argv[0]);
			return (2);
		}
	}
	if (optind != argc - 1 || customers == NULL || hosted == NULL) {
		fprintf(stderr, "usage: %s [-x] [-c conns] [-n requests] [-t secs] [-m mix] [-l logins] [-o domain] -C customer-ips -H hosted socket\n", argv[0]);
		return (2);
	}
	lat = malloc(sizeof(*lat) * (size_t) total);
	conns = calloc((size_t) nconns, sizeof(*conns));
	epfd = epoll_create1(0);
	start = now_us();
	for (i = 0; i < nconns; i++) {
		conns[i].fd = dial(argv[optind]);
		conns[i].rcpts_left = 0;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &conns[i];
		epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i].fd, &ev);
		build(&conns[i]);
		conns[i].sent = now_us();
		send_some(&conns[i]);
	}
	while (done < total && now_us() - start < max_secs * 1e6) {
		int	n = epoll_wait(epfd, evs, 256, 1000);

		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t	got = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
			char   *end;

			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (got <= 0) {
				fprintf(stderr, "server closed a connection after %ld requests\n", done);
				return (1);
			}
			c->in_len += (size_t) got;
			c->in[c->in_len] = '\0';
			if ((end = strstr(c->in, "\n\n")) == NULL)
				continue;
			lat[nlat++] = now_us() - c->sent;
			check(c, c->in);
			c->in_len = 0;
			done++;
			if (done + nconns > total && done >= total)
				continue;
			build(c);
			c->sent = now_us();
			send_some(c);
		}
	}
	elapsed = (now_us() - start) / 1e6;
	qsort(lat, (size_t) nlat, sizeof(*lat), cmp_double);
	if (nlat == 0) {
		printf("requests=0\n");
		return (1);
	}
	printf("requests=%ld seconds=%.2f rate=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f mismatches=%ld\n",
	       nlat, elapsed, nlat / elapsed, lat[nlat / 2], lat[(long) (nlat * 0.9)],
	       lat[(long) (nlat * 0.99)], lat[nlat - 1], mismatches);
	return (mismatches > 0);
}
