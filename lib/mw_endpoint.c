/*++
/* NAME
/*	mw_endpoint 3
/* SUMMARY
/*	milter-style socket addresses
/* SYNOPSIS
/*	#include "mw_endpoint.h"
/*
/*	int	mw_endpoint_parse(spec, ep, err, errlen)
/*	const char *spec;
/*	struct mw_endpoint *ep;
/*	char	*err;
/*	size_t	errlen;
/*
/*	const char *mw_endpoint_str(ep, buf, len)
/*
/*	int	mw_endpoint_listen(ep, backlog, mode, err, errlen)
/*	int	backlog;
/*	int	mode;
/*
/*	int	mw_endpoint_connect(ep, timeout_ms, err, errlen)
/*	int	timeout_ms;
/* DESCRIPTION
/*	Socket addresses are written as in the milter world (libmilter,
/*	clamav-milter, OpenDKIM):
/* .IP "local:/path, unix:/path"
/*	a UNIX-domain socket; the path must be absolute.
/* .IP inet:port@host
/*	TCP over IPv4; host is a dotted address or a name, and may be
/*	left out ("inet:port") to listen on every address.
/* .IP "inet6:port@[addr], inet6:port@addr"
/*	TCP over IPv6.
/* .PP
/*	mw_endpoint_parse() checks the syntax and fills ep.  Postfix's
/*	"inet:host:port" form is refused with a hint, because it would be
/*	silently misread.
/*
/*	mw_endpoint_str() writes ep back in canonical form.
/*
/*	mw_endpoint_listen() creates, binds and listens on a socket.  For
/*	a UNIX socket an existing path is handled as clamav-milter's
/*	FixStaleSocket does: if nothing accepts connections on it the
/*	stale socket is removed; if a process answers, or the path is not
/*	a socket, it is an error and nothing is removed.  mode, when not
/*	-1, is applied to the new UNIX socket (e.g. 0660 so that the MTA's
/*	group can connect).  TCP listeners set SO_REUSEADDR.
/*
/*	mw_endpoint_connect() connects with a deadline of timeout_ms
/*	milliseconds (name resolution excepted) and returns a blocking
/*	socket with TCP_NODELAY set on TCP.
/*
/*	All sockets are close-on-exec.
/* DIAGNOSTICS
/*	mw_endpoint_parse() returns 0 or -1; the listen and connect
/*	functions return a file descriptor or -1.  On error, err holds one
/*	line naming the address and the reason.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Utility library. */

#include "mw_endpoint.h"
#include "mw_str.h"

/* ep_parse_port - parse 1..65535, all digits */

static int
ep_parse_port(const char *str, size_t len, unsigned *port)
{
	unsigned long long val;
	const char *end;
	char	buf[8];

	if (len == 0 || len >= sizeof(buf))
		return (-1);
	memcpy(buf, str, len);
	buf[len] = '\0';
	if (mw_parse_ull(buf, &val, &end) != 0 || *end != '\0' || val < 1 || val > 65535)
		return (-1);
	*port = (unsigned) val;
	return (0);
}

/* mw_endpoint_parse - parse a milter-style socket specification */

int
mw_endpoint_parse(const char *spec, struct mw_endpoint *ep, char *err, size_t errlen)
{
	char	shown[128];
	const char *rest;
	const char *at;
	const char *host;
	size_t	hlen;
	size_t	i;

	memset(ep, 0, sizeof(*ep));
	mw_printable(shown, sizeof(shown), spec, strlen(spec));

	if (strncmp(spec, "local:", 6) == 0 || strncmp(spec, "unix:", 5) == 0) {
		rest = strchr(spec, ':') + 1;
		if (*rest != '/')
			return (mw_err(err, errlen, "%s: socket path must be absolute", shown));
		if (strlen(rest) >= sizeof(ep->path))
			return (mw_err(err, errlen, "%s: socket path longer than %zu bytes",
					shown, sizeof(ep->path) - 1));
		ep->type = MW_EP_UNIX;
		mw_strlcpy(ep->path, rest, sizeof(ep->path));
		return (0);
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		ep->type = MW_EP_INET;
		rest = spec + 5;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		ep->type = MW_EP_INET6;
		rest = spec + 6;
	} else {
		return (mw_err(err, errlen, "%s: unknown socket type (expected local:/path, "
			   "inet:port@host or inet6:port@[addr])", shown));
	}

	/* port[@host] */
	at = strchr(rest, '@');
	if (ep_parse_port(rest, at != NULL ? (size_t) (at - rest) : strlen(rest), &ep->port) < 0) {
		if (ep->type == MW_EP_INET && at == NULL && strchr(rest, ':') != NULL)
			return (mw_err(err, errlen, "%s: expected inet:port@host "
					"(this looks like Postfix's inet:host:port)", shown));
		return (mw_err(err, errlen, "%s: bad port (expected 1..65535)", shown));
	}
	if (at == NULL)
		return (0);
	host = at + 1;
	hlen = strlen(host);
	if (ep->type == MW_EP_INET6 && hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (hlen == 0)
		return (mw_err(err, errlen, "%s: empty host after \"@\"", shown));
	if (hlen >= sizeof(ep->host))
		return (mw_err(err, errlen, "%s: host name too long", shown));
	for (i = 0; i < hlen; i++)
		if ((unsigned char) host[i] <= ' ' || (unsigned char) host[i] >= 0x7f
		    || strchr("[]@/", host[i]) != NULL)
			return (mw_err(err, errlen, "%s: bad character in host", shown));
	memcpy(ep->host, host, hlen);
	ep->host[hlen] = '\0';
	return (0);
}

/* mw_endpoint_str - canonical text form */

const char *
mw_endpoint_str(const struct mw_endpoint *ep, char *buf, size_t len)
{
	switch (ep->type) {
	case MW_EP_UNIX:
		snprintf(buf, len, "local:%s", ep->path);
		break;
	case MW_EP_INET:
		snprintf(buf, len, "inet:%u%s%s", ep->port, *ep->host ? "@" : "", ep->host);
		break;
	case MW_EP_INET6:
		snprintf(buf, len, "inet6:%u%s%s%s", ep->port, *ep->host ? "@[" : "",
			 ep->host, *ep->host ? "]" : "");
		break;
	default:
		snprintf(buf, len, "(invalid endpoint)");
		break;
	}
	return (buf);
}

/* ep_resolve - getaddrinfo() for a TCP endpoint */

static int
ep_resolve(const struct mw_endpoint *ep, int passive, struct addrinfo **res,
	   char *err, size_t errlen)
{
	struct addrinfo hints;
	char	port[8];
	char	shown[MW_EP_STR_MAX];
	int	rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = ep->type == MW_EP_INET6 ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	snprintf(port, sizeof(port), "%u", ep->port);
	if ((rc = getaddrinfo(*ep->host ? ep->host : NULL, port, &hints, res)) != 0)
		return (mw_err(err, errlen, "%s: cannot resolve host: %s",
				mw_endpoint_str(ep, shown, sizeof(shown)), gai_strerror(rc)));
	return (0);
}

/* ep_unix_addr - fill a sockaddr_un */

static socklen_t
ep_unix_addr(const struct mw_endpoint *ep, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	mw_strlcpy(sun->sun_path, ep->path, sizeof(sun->sun_path));
	return ((socklen_t) sizeof(*sun));
}

/* ep_unix_stale - remove a UNIX socket that nobody listens on */

static int
ep_unix_stale(const struct mw_endpoint *ep, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	socklen_t len;
	int	fd;
	int	rc;

	if (lstat(ep->path, &st) < 0)
		return (errno == ENOENT ? 0 :
		    mw_err(err, errlen, "local:%s: stat: %s", ep->path, strerror(errno)));
	if (!S_ISSOCK(st.st_mode))
		return (mw_err(err, errlen, "local:%s: exists and is not a socket; not removed",
				ep->path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (mw_err(err, errlen, "socket: %s", strerror(errno)));
	len = ep_unix_addr(ep, &sun);
	rc = connect(fd, (struct sockaddr *) &sun, len);
	close(fd);
	if (rc == 0)
		return (mw_err(err, errlen, "local:%s: socket in use by another process", ep->path));
	if (errno != ECONNREFUSED)
		return (mw_err(err, errlen, "local:%s: cannot probe existing socket: %s",
				ep->path, strerror(errno)));
	if (unlink(ep->path) < 0 && errno != ENOENT)
		return (mw_err(err, errlen, "local:%s: cannot remove stale socket: %s",
				ep->path, strerror(errno)));
	return (0);
}

/* mw_endpoint_listen - bind and listen */

int
mw_endpoint_listen(const struct mw_endpoint *ep, int backlog, int mode,
		   char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct addrinfo *res;
	struct addrinfo *ai;
	char	shown[MW_EP_STR_MAX];
	int	on = 1;
	int	saved;
	int	fd = -1;

	mw_endpoint_str(ep, shown, sizeof(shown));
	if (ep->type == MW_EP_UNIX) {
		if (ep_unix_stale(ep, err, errlen) < 0)
			return (-1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return (mw_err(err, errlen, "%s: socket: %s", shown, strerror(errno)));
		if (bind(fd, (struct sockaddr *) &sun, ep_unix_addr(ep, &sun)) < 0) {
			saved = errno;
			close(fd);
			return (mw_err(err, errlen, "%s: bind: %s", shown, strerror(saved)));
		}
		if (mode != -1 && chmod(ep->path, (mode_t) mode) < 0) {
			saved = errno;
			close(fd);
			unlink(ep->path);
			return (mw_err(err, errlen, "%s: chmod: %s", shown, strerror(saved)));
		}
	} else {
		if (ep_resolve(ep, 1, &res, err, errlen) < 0)
			return (-1);
		saved = 0;
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
					 ai->ai_protocol)) < 0) {
				saved = errno;
				continue;
			}
			(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
			if (ai->ai_family == AF_INET6)
				(void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			saved = errno;
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
		if (fd < 0)
			return (mw_err(err, errlen, "%s: bind: %s", shown, strerror(saved)));
	}
	if (listen(fd, backlog) < 0) {
		saved = errno;
		close(fd);
		if (ep->type == MW_EP_UNIX)
			unlink(ep->path);
		return (mw_err(err, errlen, "%s: listen: %s", shown, strerror(saved)));
	}
	return (fd);
}

/* ep_connect_one - non-blocking connect with a deadline */

static int
ep_connect_one(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	struct pollfd pfd;
	socklen_t elen = sizeof(int);
	int	flags;
	int	error = 0;
	int	rc;

	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return (-1);
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS)
			return (-1);
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do {
			rc = poll(&pfd, 1, timeout_ms);
		} while (rc < 0 && errno == EINTR);
		if (rc == 0) {
			errno = ETIMEDOUT;
			return (-1);
		}
		if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &elen) < 0)
			return (-1);
		if (error != 0) {
			errno = error;
			return (-1);
		}
	}
	return (fcntl(fd, F_SETFL, flags));
}

/* mw_endpoint_connect - connect with a deadline */

int
mw_endpoint_connect(const struct mw_endpoint *ep, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct addrinfo *res;
	struct addrinfo *ai;
	char	shown[MW_EP_STR_MAX];
	int	on = 1;
	int	saved = 0;
	int	fd = -1;

	mw_endpoint_str(ep, shown, sizeof(shown));
	if (ep->type == MW_EP_UNIX) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return (mw_err(err, errlen, "%s: socket: %s", shown, strerror(errno)));
		if (ep_connect_one(fd, (struct sockaddr *) &sun, ep_unix_addr(ep, &sun), timeout_ms) < 0) {
			saved = errno;
			close(fd);
			return (mw_err(err, errlen, "%s: connect: %s", shown, strerror(saved)));
		}
		return (fd);
	}
	if (*ep->host == '\0')
		return (mw_err(err, errlen, "%s: no host to connect to", shown));
	if (ep_resolve(ep, 0, &res, err, errlen) < 0)
		return (-1);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)) < 0) {
			saved = errno;
			continue;
		}
		if (ep_connect_one(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return (mw_err(err, errlen, "%s: connect: %s", shown, strerror(saved)));
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return (fd);
}
