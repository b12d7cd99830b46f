/* test_endpoint - mw_endpoint: syntax, listen/connect, stale sockets */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>
#include <cmocka.h>

#include "mw_endpoint.h"

static char err[512];

/* ok_parse - spec parses, canonical form is want */

static void
ok_parse(const char *spec, int type, const char *want)
{
	struct mw_endpoint ep;
	char	buf[MW_EP_STR_MAX];

	if (mw_endpoint_parse(spec, &ep, err, sizeof(err)) != 0)
		fail_msg("%s: %s", spec, err);
	assert_int_equal(ep.type, type);
	assert_string_equal(mw_endpoint_str(&ep, buf, sizeof(buf)), want);
}

static void
bad_parse(const char *spec, const char *want)
{
	struct mw_endpoint ep;

	err[0] = '\0';
	assert_int_equal(mw_endpoint_parse(spec, &ep, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void
test_parse_good(void **state)
{
	ok_parse("local:/run/mw/milter.sock", MW_EP_UNIX, "local:/run/mw/milter.sock");
	ok_parse("unix:/var/spool/postfix/mw/sock", MW_EP_UNIX, "local:/var/spool/postfix/mw/sock");
	ok_parse("inet:8890@127.0.0.1", MW_EP_INET, "inet:8890@127.0.0.1");
	ok_parse("inet:8890@localhost", MW_EP_INET, "inet:8890@localhost");
	ok_parse("inet:10040", MW_EP_INET, "inet:10040");
	ok_parse("inet6:8890@[::1]", MW_EP_INET6, "inet6:8890@[::1]");
	ok_parse("inet6:8890@::1", MW_EP_INET6, "inet6:8890@[::1]");
	ok_parse("inet:65535@10.0.0.1", MW_EP_INET, "inet:65535@10.0.0.1");
}

static void
test_parse_bad(void **state)
{
	char	longpath[200];

	bad_parse("", ": unknown socket type (expected local:/path, inet:port@host or inet6:port@[addr])");
	bad_parse("tcp:1@x", "tcp:1@x: unknown socket type (expected local:/path, inet:port@host or inet6:port@[addr])");
	bad_parse("local:relative/sock", "local:relative/sock: socket path must be absolute");
	bad_parse("local:", "local:: socket path must be absolute");
	bad_parse("inet:127.0.0.1:10040", "inet:127.0.0.1:10040: expected inet:port@host (this looks like Postfix's inet:host:port)");
	bad_parse("inet:0@127.0.0.1", "inet:0@127.0.0.1: bad port (expected 1..65535)");
	bad_parse("inet:65536@127.0.0.1", "inet:65536@127.0.0.1: bad port (expected 1..65535)");
	bad_parse("inet:99999999999999999999@h", "inet:99999999999999999999@h: bad port (expected 1..65535)");
	bad_parse("inet:-1@h", "inet:-1@h: bad port (expected 1..65535)");
	bad_parse("inet:@h", "inet:@h: bad port (expected 1..65535)");
	bad_parse("inet:25@", "inet:25@: empty host after \"@\"");
	bad_parse("inet6:25@[]", "inet6:25@[]: empty host after \"@\"");
	bad_parse("inet:25@a b", "inet:25@a b: bad character in host");
	bad_parse("inet:25@a@b", "inet:25@a@b: bad character in host");
	bad_parse("inet:25@h\x1b", "inet:25@h?: bad character in host");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	{
		char	spec[256];
		struct mw_endpoint ep;

		snprintf(spec, sizeof(spec), "local:%s", longpath);
		assert_int_equal(mw_endpoint_parse(spec, &ep, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "socket path longer than 107 bytes"));
	}
}

/* roundtrip - listen on ep, connect, exchange a byte */

static void
roundtrip(struct mw_endpoint *ep)
{
	int	lfd;
	int	cfd;
	int	afd;
	char	ch = 0;

	if ((lfd = mw_endpoint_listen(ep, 5, 0660, err, sizeof(err))) < 0)
		fail_msg("listen: %s", err);
	if ((cfd = mw_endpoint_connect(ep, 2000, err, sizeof(err))) < 0)
		fail_msg("connect: %s", err);
	assert_true((afd = accept(lfd, NULL, NULL)) >= 0);
	assert_int_equal(write(cfd, "x", 1), 1);
	assert_int_equal(read(afd, &ch, 1), 1);
	assert_int_equal(ch, 'x');
	close(afd);
	close(cfd);
	close(lfd);
}

static void
test_unix_listen_connect_and_stale(void **state)
{
	char	dir[] = "/tmp/mw-test-ep-XXXXXX";
	char	spec[256];
	struct mw_endpoint ep;
	struct stat st;
	int	lfd;
	int	fd;

	assert_non_null(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "local:%s/s.sock", dir);
	assert_int_equal(mw_endpoint_parse(spec, &ep, err, sizeof(err)), 0);

	/* first listener; a second one must refuse and leave it alone */
	assert_true((lfd = mw_endpoint_listen(&ep, 5, 0660, err, sizeof(err))) >= 0);
	assert_int_equal(stat(ep.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(mw_endpoint_listen(&ep, 5, -1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "socket in use by another process"));
	assert_true((fd = mw_endpoint_connect(&ep, 1000, err, sizeof(err))) >= 0);
	close(fd);

	/* listener gone, socket file left behind: stale, removed, reused */
	close(lfd);
	assert_int_equal(stat(ep.path, &st), 0);
	roundtrip(&ep);

	/* a regular file in the way is never removed */
	unlink(ep.path);
	assert_true((fd = open(ep.path, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	assert_int_equal(mw_endpoint_listen(&ep, 5, -1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exists and is not a socket; not removed"));
	assert_int_equal(stat(ep.path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(ep.path);

	/* nobody there: connect fails with a clear error */
	assert_int_equal(mw_endpoint_connect(&ep, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "connect: No such file or directory"));
	rmdir(dir);
}

/* free_port - a TCP port nobody listens on right now */

static unsigned
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int	fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
	close(fd);
	return (ntohs(sin.sin_port));
}

static void
test_inet_listen_connect(void **state)
{
	struct mw_endpoint ep;
	char	spec[64];
	int	lfd;

	snprintf(spec, sizeof(spec), "inet:%u@127.0.0.1", free_port());
	assert_int_equal(mw_endpoint_parse(spec, &ep, err, sizeof(err)), 0);
	roundtrip(&ep);

	/* a port in use is an error naming the address */
	assert_true((lfd = mw_endpoint_listen(&ep, 5, -1, err, sizeof(err))) >= 0);
	assert_int_equal(mw_endpoint_listen(&ep, 5, -1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bind: Address already in use"));
	assert_non_null(strstr(err, spec));
	close(lfd);

	/* nothing listening: refused, not a hang */
	assert_int_equal(mw_endpoint_connect(&ep, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Connection refused"));

	/* a name that cannot resolve */
	assert_int_equal(mw_endpoint_parse("inet:25@no-such-host.invalid", &ep, err, sizeof(err)), 0);
	assert_int_equal(mw_endpoint_connect(&ep, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot resolve host"));

	/* listening on every address has nothing to connect to */
	assert_int_equal(mw_endpoint_parse("inet:25", &ep, err, sizeof(err)), 0);
	assert_int_equal(mw_endpoint_connect(&ep, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no host to connect to"));
}

static void
test_inet6_listen_connect(void **state)
{
	struct mw_endpoint ep;
	char	spec[64];
	int	fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sin6;

	/* skip where the host has no IPv6 loopback */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	if (fd < 0 || bind(fd, (struct sockaddr *) &sin6, sizeof(sin6)) < 0) {
		if (fd >= 0)
			close(fd);
		skip();
	}
	close(fd);
	snprintf(spec, sizeof(spec), "inet6:%u@[::1]", free_port());
	assert_int_equal(mw_endpoint_parse(spec, &ep, err, sizeof(err)), 0);
	roundtrip(&ep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_unix_listen_connect_and_stale),
		cmocka_unit_test(test_inet_listen_connect),
		cmocka_unit_test(test_inet6_listen_connect),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
