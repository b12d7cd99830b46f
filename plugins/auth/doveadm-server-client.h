#ifndef DOVEADM_SERVER_CLIENT_H
#define DOVEADM_SERVER_CLIENT_H

/* doveadm-server-client.h - one doveadm command on a remote doveadm
   server (a backend's "service doveadm" inet listener), over the doveadm
   protocol that doveadm -D and the director use: VERSION handshake,
   PLAIN authentication as "doveadm" with doveadm_password, one command
   line, result rows until "+" (success) or "-" (failure). Blocking, with
   a timeout on each connect, read and write: doveadm mailshard backend
   runs it from the doveadm command line process only. */

#include "array.h"
#include "net.h"

ARRAY_DEFINE_TYPE(mw_dsc_row, const char *const *);

/* Run args (args[0] the command, e.g. "who" or "kick") on host:port.
   The result rows (each a NULL-terminated array of the row's unescaped
   fields) are appended to rows, allocated from the data stack. 0 when the
   server answered "+", -1 with *error_r otherwise (unreachable, refused
   password, command failed, timeout). */
int mw_doveadm_server_run(const char *host, in_port_t port,
			  const char *password, unsigned int timeout_msecs,
			  const char *const *args,
			  ARRAY_TYPE(mw_dsc_row) *rows, const char **error_r);

#endif
