/*++
/* NAME
/*	mailwarren-milter 8
/* SUMMARY
/*	SMTP-time virus rejection (libclamav) and spam scoring (spamd)
/* SYNOPSIS
/*	mailwarren-milter [-fhtv] [-c FILE] [--help] [--version]
/* DESCRIPTION
/*	mailwarren-milter is a milter for Postfix (smtpd_milters) and
/*	Sendmail (INPUT_MAIL_FILTER).  It scans every message, headers and
/*	body, with one libclamav engine loaded in its own process, and
/*	rejects infected mail at the end of DATA, before the sending
/*	server disconnects.  Clean mail is scored once by a farm of
/*	SpamAssassin spamd hosts over the SPAMC/1.5 protocol, tagged with
/*	SpamAssassin's X-Spam-* headers and optionally rejected above a
/*	site-wide score.
/*
/*	Options:
/* .IP "-c FILE"
/*	Read FILE instead of /etc/mailwarren/mailwarren-milter.conf.
/* .IP -f
/*	Stay in the foreground and also log to stderr (systemd).
/* .IP -t
/*	Check the configuration file, print "FILE: OK" or the error, and
/*	exit with status 0 or 1.
/* .IP -v
/*	Verbose logging.
/* .IP "-h, --help"
/*	Print the usage line on stdout and exit 0.
/* .IP --version
/*	Print the version (and libclamav's and libmilter's) and exit 0.
/* SIGNALS
/*	SIGHUP reloads the configuration file, the relay tables it names
/*	and the ClamAV database, without dropping a connection: messages
/*	in flight finish with the configuration they started with, and a
/*	bad file keeps the old configuration (logged as file:line: reason).
/*	Settings that need a restart are listed in
/*	mailwarren-milter.conf(5).  SIGUSR1 reloads the ClamAV database
/*	only.  SIGTERM and SIGINT stop the milter.
/* SECURITY
/*	Started as root, the milter binds its socket, writes its pid file,
/*	then runs as User/Group.  The database directory must be readable
/*	by that user.
/* DIAGNOSTICS
/*	Syslog facility LOG_MAIL: one line per message; warnings for
/*	scanner and spamd trouble; fatal errors for a bad configuration or
/*	an unusable database at start.
/* SEE ALSO
/*	mailwarren-milter.conf(5), spamd(8p), clamscan(1)
/* LICENSE
/*	GPL-2.0-or-later.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <getopt.h>

/* Utility library. */

#include "mw_cfg.h"
#include "mw_endpoint.h"
#include "mw_fdlimit.h"
#include "mw_msg.h"
#include "mw_privs.h"
#include "mw_spamc.h"

/* Application-specific. */

#include "milter.h"
#include "milter_negotiate.h"

#include <clamav.h>

/* usage - the usage line; exit 0 (asked for) or 2 (a bad command line) */

static void
usage(const char *progname, int asked)
{
	fprintf(asked ? stdout : stderr, "usage: %s [-fhtv] [-c config_file] [--help] [--version]\n",
		progname);
	exit(asked ? 0 : 2);
}

/* open_socket - bind the milter socket (stale UNIX socket removed) */

static void
open_socket(const struct milter_conf *conf, struct mw_endpoint *epp)
{
	struct mw_endpoint ep;
	char	conn[MW_EP_STR_MAX];
	char	err[512];
	int	fd;

	if (mw_endpoint_parse(conf->milter_socket, &ep, err, sizeof(err)) < 0)
		mw_fatal("MilterSocket: %s", err);
	if (ep.type == MW_EP_UNIX && (fd = mw_endpoint_connect(&ep, 1000, err, sizeof(err))) >= 0) {
		close(fd);
		mw_fatal("MilterSocket %s: another process accepts connections there", conf->milter_socket);
	}
	mw_endpoint_str(&ep, conn, sizeof(conn));
	if (smfi_setconn(conn) == MI_FAILURE)
		mw_fatal("smfi_setconn %s failed", conn);
	if (smfi_register(milter_desc) == MI_FAILURE)
		mw_fatal("smfi_register failed");
	/* true: remove a stale UNIX socket (none answered above) */
	if (smfi_opensocket(1) == MI_FAILURE)
		mw_fatal("cannot listen on MilterSocket %s (see the messages above)", conn);
	if (ep.type == MW_EP_UNIX && chmod(ep.path, (mode_t) conf->socket_mode_bits) < 0)
		mw_fatal("chmod %s: %m", ep.path);
	/* Started as root: the socket belongs to User/Group, as the process will. */
	if (ep.type == MW_EP_UNIX && mw_privs_chown(ep.path, conf->user, conf->group, err, sizeof(err)) < 0)
		mw_fatal("MilterSocket: %s", err);
	if (ep.type != MW_EP_UNIX && milter_nodelay_listeners() > 0)
		mw_warn("TCP_NODELAY on the milter socket: %m");
	smfi_settimeout((int) conf->milter_timeout);
	smfi_setbacklog(128);
	*epp = ep;
}

int
main(int argc, char **argv)
{
	const char *path = MILTER_CONF;
	struct mw_pidfile pf = {-1, NULL};
	const struct milter_conf *conf;
	struct milter_live *live;
	struct mw_endpoint ep;
	char	err[1024];
	int	foreground = 0;
	int	test_only = 0;
	unsigned long long limit;
	int	ch;
	int	rc;

	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	char	ver[96];
	unsigned int major, minor, pl;

	while ((ch = getopt_long(argc, argv, "c:fhtv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(argv[0], 1);
			break;
		case 'V':
			smfi_version(&major, &minor, &pl);
			snprintf(ver, sizeof(ver), "libclamav %s, libmilter %u.%u.%u", cl_retver(),
				 major, minor, pl);
			printf("%s %s (%s)\n", MILTER_NAME, PACKAGE_VERSION, ver);
			return (0);
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			test_only = 1;
			break;
		case 'v':
			mw_verbose++;
			break;
		default:
			usage(argv[0], 0);
		}
	}
	if (optind != argc)
		usage(argv[0], 0);

	/* -t: check the file (and the tables it names), report on stdout. */
	if (test_only) {
		if ((live = milter_live_load(path, err, sizeof(err))) != NULL
		    && mw_fdlimit_raise(MILTER_FD_NEED(live->conf.max_connections), "MaxConnections",
			 live->conf.max_connections, &limit, err, sizeof(err)) < 0) {
			printf("%s: %s\n", path, err);
			milter_live_put(live);
			return (1);
		}
		if (live != NULL)
			printf("%s: OK\n", path);
		else
			printf("%s\n", err);
		milter_live_put(live);
		return (live != NULL ? 0 : 1);
	}

	mw_msg_open(argv[0], MW_MSG_SYSLOG | (foreground ? MW_MSG_STDERR : 0));
	if ((live = milter_live_load(path, err, sizeof(err))) == NULL)
		mw_fatal("%s", err);
	milter_live_install(live);
	live = milter_live_get();		/* main's reference: the start-up settings */
	conf = &live->conf;
	if (milter_accept_init(conf, err, sizeof(err)) < 0)
		mw_fatal("%s: %s", path, err);

	/* As root: pid file, socket; then drop privileges. */
	if (conf->pid_file != NULL && mw_pidfile_open(&pf, conf->pid_file, err, sizeof(err)) < 0)
		mw_fatal("PidFile: %s", err);
	open_socket(conf, &ep);
	milter_metrics_init(conf);
	if (mw_privs_drop(conf->user, conf->group, NULL, err, sizeof(err)) < 0)
		mw_fatal("%s", err);

	/* Load the database before going to the background: errors show. */
	milter_clam_init(conf);
	milter_account_init(conf);
	if (live->spamc == NULL)
		mw_info("SpamdHosts none: spam scoring is off");
	milter_live_describe(live, "", path);
	if (!foreground && mw_daemonize(err, sizeof(err)) < 0)
		mw_fatal("%s", err);
	if (pf.fd >= 0 && mw_pidfile_write(&pf, err, sizeof(err)) < 0)
		mw_fatal("PidFile: %s", err);

	/* Signals are blocked before the first thread exists. */
	milter_signal_block();
	milter_signal_start(path, &ep);
	milter_metrics_start(conf);
	mw_info("%s started on %s", MILTER_NAME, conf->milter_socket);
	rc = smfi_main();
	mw_info("%s stopping", MILTER_NAME);
	milter_signal_stop();
	milter_metrics_stop();

	milter_clam_done();
	milter_account_done();
	if (pf.fd >= 0)
		mw_pidfile_close(&pf, 1);
	milter_live_put(live);
	milter_live_install(NULL);
	return (rc == MI_SUCCESS ? 0 : 1);
}
