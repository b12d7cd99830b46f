/*++
/* NAME
/*	null-policyd 1
/* SUMMARY
/*	do-nothing policy server: the loopback ceiling
/* SYNOPSIS
/*	null-policyd socket
/* DESCRIPTION
/*	Answers every request ("...\n\n") with "action=DUNNO\n\n" and does
/*	nothing else, with the same event loop shape as mailwarren-policyd
/*	(epoll, non-blocking, one read and one write per request), so that
/*	a benchmark can report a policy server's rate as a ratio of what
/*	the machine's loopback and the load client allow.  socket is
/*	inet:PORT@HOST or local:/path.
/*--*/

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct conn {
	int	fd;
	size_t	len;
	char	buf[8192];
};

int
main(int argc, char **argv)
{
	struct epoll_event ev;
	struct epoll_event evs[256];
	int	lfd;
	int	epfd;
	int	on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s inet:PORT@HOST|local:/path\n", argv[0]);
		return (2);
	}
	signal(SIGPIPE, SIG_IGN);
	if (strncmp(argv[1], "local:", 6) == 0) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1] + 6);
		unlink(sun.sun_path);
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(lfd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
			perror("bind");
			return (1);
		}
	} else {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short) atoi(argv[1] + 5));
		inet_pton(AF_INET, strchr(argv[1], '@') ? strchr(argv[1], '@') + 1 : "127.0.0.1", &sin.sin_addr);
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(lfd, (struct sockaddr *) &sin, sizeof(sin)) < 0) {
			perror("bind");
			return (1);
		}
	}
	listen(lfd, 1024);
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	epfd = epoll_create1(0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int	n = epoll_wait(epfd, evs, 256, -1);
		int	i;

		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t	got;
			size_t	off;
			char   *end;

			if (c == NULL) {
				int	fd;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			got = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
			if (got < 0 && errno == EAGAIN)
				continue;
			if (got <= 0) {
				close(c->fd);
				free(c);
				continue;
			}
			c->len += (size_t) got;
			c->buf[c->len] = '\0';
			off = 0;
			while ((end = strstr(c->buf + off, "\n\n")) != NULL) {
				if (write(c->fd, "action=DUNNO\n\n", 14) < 0)
					break;
				off = (size_t) (end + 2 - c->buf);
			}
			memmove(c->buf, c->buf + off, c->len - off);
			c->len -= off;
		}
	}
}
