/* doveadm-server-client.c - one command on a remote doveadm server (see
   doveadm-server-client.h), for doveadm mailshard backend: "who" to list
   a backend's sessions and "kick" to end a user's, through the backend's
   own doveadm server (doveadm_port, doveadm_password), as doveadm -D and
   the director do. Same protocol on Dovecot 2.3 and 2.4. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "strescape.h"
#include "base64.h"
#include "buffer.h"
/* istream.h declares a callback type without a prototype */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include "istream.h"
#pragma GCC diagnostic pop
#include "write-full.h"
#include "doveadm-server-client.h"

#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DSC_HANDSHAKE "VERSION\tdoveadm-server\t1\t0\n"

/* dsc_connect - a blocking TCP connection with timeouts on every call
   (on Linux SO_SNDTIMEO also bounds connect()) */
static int dsc_connect(const char *host, in_port_t port,
		       unsigned int timeout_msecs, int *fd_r,
		       const char **error_r)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv;
	int fd = -1, ret, err = ECONNREFUSED;

	i_zero(&hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((ret = getaddrinfo(host, dec2str(port), &hints, &res)) != 0) {
		*error_r = t_strdup_printf("%s: %s", host, gai_strerror(ret));
		return -1;
	}
	tv.tv_sec = timeout_msecs / 1000;
	tv.tv_usec = (timeout_msecs % 1000) * 1000;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
		    connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			err = errno;
			i_close_fd(&fd);
			continue;
		}
		break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		*error_r = t_strdup_printf("connect(%s:%u) failed: %s", host,
			port, err == EINPROGRESS || err == EAGAIN ?
			"timed out" : strerror(err));
		return -1;
	}
	*fd_r = fd;
	return 0;
}

/* dsc_line - the next line, or NULL with *error_r */
static const char *dsc_line(struct istream *input, const char **error_r)
{
	const char *line;

	if ((line = i_stream_read_next_line(input)) != NULL)
		return line;
	if (input->stream_errno != 0)
		*error_r = i_stream_get_error(input);
	else if (input->eof)
		*error_r = "the server closed the connection";
	else
		*error_r = "timed out";
	return NULL;
}

static int dsc_write(int fd, const string_t *str, const char **error_r)
{
	if (write_full(fd, str_data(str), str_len(str)) < 0) {
		*error_r = t_strdup_printf("write() failed: %s",
			errno == EAGAIN ? "timed out" : strerror(errno));
		return -1;
	}
	return 0;
}

/* dsc_talk - handshake, authenticate, run, read the rows */
static int dsc_talk(int fd, struct istream *input, const char *password,
		    const char *const *args, ARRAY_TYPE(mw_dsc_row) *rows,
		    const char **error_r)
{
	string_t *str = t_str_new(256);
	buffer_t *plain = t_buffer_create(64);
	const char *line, *const *fields;
	unsigned int i, count;

	str_append(str, DSC_HANDSHAKE);
	if (dsc_write(fd, str, error_r) < 0 ||
	    (line = dsc_line(input, error_r)) == NULL)
		return -1;
	if (strcmp(line, "-") == 0) {
		/* authentication wanted: PLAIN as user "doveadm" */
		buffer_append_c(plain, '\0');
		buffer_append(plain, "doveadm", 7);
		buffer_append_c(plain, '\0');
		buffer_append(plain, password, strlen(password));
		str_truncate(str, 0);
		str_append(str, "PLAIN\t");
		base64_encode(plain->data, plain->used, str);
		str_append_c(str, '\n');
		if (dsc_write(fd, str, error_r) < 0 ||
		    (line = dsc_line(input, error_r)) == NULL)
			return -1;
	}
	if (strcmp(line, "+") != 0) {
		*error_r = "the server refused the password (doveadm_password)";
		return -1;
	}
	/* flags, user (none: a server command), command and its args */
	str_truncate(str, 0);
	str_append(str, "\t");
	for (i = 0; args[i] != NULL; i++) {
		str_append_c(str, '\t');
		str_append_tabescaped(str, args[i]);
	}
	str_append_c(str, '\n');
	if (dsc_write(fd, str, error_r) < 0)
		return -1;
	for (;;) {
		if ((line = dsc_line(input, error_r)) == NULL)
			return -1;
		if (strcmp(line, "+") == 0)
			return 0;
		if (line[0] == '-') {
			*error_r = t_strdup_printf("%s failed: %s", args[0],
				line[1] == '\0' ? "(no reason)" : line + 1);
			return -1;
		}
		/* each value is followed by a tab: drop the empty last one */
		fields = t_strsplit_tabescaped(line);
		count = str_array_length(fields);
		if (count > 0 && fields[count - 1][0] == '\0') {
			const char **copy = t_new(const char *, count);

			memcpy(copy, fields, (count - 1) * sizeof(*copy));
			fields = copy;
		}
		if (fields[0] != NULL)
			array_push_back(rows, &fields);
	}
}

int mw_doveadm_server_run(const char *host, in_port_t port,
			  const char *password, unsigned int timeout_msecs,
			  const char *const *args,
			  ARRAY_TYPE(mw_dsc_row) *rows, const char **error_r)
{
	struct istream *input;
	int fd, ret;

	if (dsc_connect(host, port, timeout_msecs, &fd, error_r) < 0) {
		*error_r = t_strdup_printf("doveadm server: %s", *error_r);
		return -1;
	}
	input = i_stream_create_fd(fd, 65536);
	ret = dsc_talk(fd, input, password, args, rows, error_r);
	if (ret < 0)
		*error_r = t_strdup_printf("doveadm server %s:%u: %s", host,
					   port, *error_r);
	i_stream_destroy(&input);
	i_close_fd(&fd);
	return ret;
}
