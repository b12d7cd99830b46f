/* test_privs - mw_privs: privilege drop, chroot, pid files, background */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "mw_privs.h"

static char err[512];

/* in_child - run fn in a child process; return its exit status */

static int
in_child(int (*fn) (void *), void *arg)
{
	pid_t	pid;
	int	status;

	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(fn(arg));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return (WEXITSTATUS(status));
}

static void
test_no_user_is_noop(void **state)
{
	uid_t	uid = getuid();

	if (geteuid() == 0) {
		/* root without a user to become: refused, nothing changes */
		assert_int_equal(mw_privs_drop(NULL, NULL, NULL, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "refusing to run as root: set User"));
	} else {
		assert_int_equal(mw_privs_drop(NULL, NULL, NULL, err, sizeof(err)), 0);
	}
	assert_int_equal(getuid(), uid);
	assert_int_equal(mw_privs_drop(NULL, NULL, "/tmp", err, sizeof(err)), -1);
	assert_string_equal(err, "chroot /tmp requires a user to run as");
}

static void
test_bad_names(void **state)
{
	assert_int_equal(mw_privs_drop("no-such-user-mw", NULL, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown user \"no-such-user-mw\"");
	assert_int_equal(mw_privs_drop("nobody", "no-such-group-mw", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown group \"no-such-group-mw\"");
	assert_int_equal(mw_privs_drop("root", NULL, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "refusing to run as root (user \"root\")");
}

/* drop_to_nobody - child: drop, then prove it cannot come back */

static int
drop_to_nobody(void *arg)
{
	const char *dir = arg;
	struct passwd *pw = getpwnam("nobody");
	uid_t	r, e, s;
	gid_t	gr, ge, gs;

	if (pw == NULL)
		return (10);
	if (mw_privs_drop("nobody", "nogroup", dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "drop: %s\n", err);
		return (11);
	}
	if (getresuid(&r, &e, &s) != 0 || r != pw->pw_uid || e != pw->pw_uid || s != pw->pw_uid)
		return (12);
	if (getresgid(&gr, &ge, &gs) != 0 || gr != ge || ge != gs)
		return (13);
	if (setuid(0) == 0 || seteuid(0) == 0)
		return (14);
	if (dir != NULL && access("/marker", F_OK) != 0)
		return (15);			/* chroot did not happen */
	return (0);
}

static void
test_drop_as_root(void **state)
{
	char	dir[] = "/tmp/mw-test-privs-XXXXXX";
	char	marker[64];
	int	fd;

	if (geteuid() != 0 || getpwnam("nobody") == NULL)
		skip();
	assert_int_equal(in_child(drop_to_nobody, NULL), 0);

	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(marker, sizeof(marker), "%s/marker", dir);
	assert_true((fd = open(marker, O_CREAT | O_WRONLY, 0644)) >= 0);
	close(fd);
	assert_int_equal(in_child(drop_to_nobody, dir), 0);
	unlink(marker);
	rmdir(dir);
}

/* switch_when_not_root - child: as a user, only "dropping" to oneself works */

static int
switch_when_not_root(void *arg)
{
	struct passwd *pw;

	if (geteuid() == 0 && mw_privs_drop("nobody", NULL, NULL, err, sizeof(err)) != 0)
		return (10);
	if ((pw = getpwuid(geteuid())) == NULL)
		return (11);
	if (mw_privs_drop(pw->pw_name, NULL, NULL, err, sizeof(err)) != 0)
		return (12);
	if (mw_privs_drop(strcmp(pw->pw_name, "daemon") ? "daemon" : "bin", NULL, NULL,
			  err, sizeof(err)) != -1 || strstr(err, "not running as root") == NULL)
		return (13);
	if (mw_privs_drop(pw->pw_name, NULL, "/", err, sizeof(err)) != -1
	    || strstr(err, "not running as root") == NULL)
		return (14);
	return (0);
}

static void
test_non_root_cannot_switch(void **state)
{
	if (getpwnam("nobody") == NULL || getpwnam("daemon") == NULL)
		skip();
	assert_int_equal(in_child(switch_when_not_root, NULL), 0);
}

/* second_instance - child: the pid file must be locked by the parent */

static int
second_instance(void *arg)
{
	struct mw_pidfile pf;

	if (mw_pidfile_open(&pf, arg, err, sizeof(err)) == 0)
		return (1);
	return (strstr(err, "already running (pid ") != NULL ? 0 : 2);
}

static void
test_pidfile(void **state)
{
	char	path[] = "/tmp/mw-test-pid-XXXXXX";
	struct mw_pidfile pf;
	char	buf[32];
	char	want[32];
	ssize_t	n;
	int	fd;

	assert_true((fd = mkstemp(path)) >= 0);
	/* stale content from a dead instance is overwritten */
	assert_int_equal(write(fd, "99999999\n", 9), 9);
	close(fd);
	assert_int_equal(mw_pidfile_open(&pf, path, err, sizeof(err)), 0);
	assert_int_equal(mw_pidfile_write(&pf, err, sizeof(err)), 0);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "%ld\n", (long) getpid());
	assert_string_equal(buf, want);

	assert_int_equal(in_child(second_instance, path), 0);

	mw_pidfile_close(&pf, 1);
	assert_int_equal(access(path, F_OK), -1);

	/* a symlink is refused (O_NOFOLLOW) */
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(mw_pidfile_open(&pf, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	unlink(path);

	assert_int_equal(mw_pidfile_open(&pf, "/nonexistent-dir/x.pid", err, sizeof(err)), -1);
	assert_string_equal(err, "pid file /nonexistent-dir/x.pid: No such file or directory");
}

/* background - child: daemonize, write our pid to a file, exit */

static int
background(void *arg)
{
	struct mw_pidfile pf;

	if (mw_pidfile_open(&pf, arg, err, sizeof(err)) != 0)
		return (1);
	if (mw_daemonize(err, sizeof(err)) != 0)
		return (2);
	/* the grandchild: not a session leader, so never gets a terminal */
	if (getsid(0) == getpid())
		return (3);
	if (mw_pidfile_write(&pf, err, sizeof(err)) != 0)
		return (4);
	sleep(1);
	mw_pidfile_close(&pf, 0);
	return (0);
}

static void
test_daemonize(void **state)
{
	char	path[] = "/tmp/mw-test-daemon-XXXXXX";
	char	buf[32];
	long	pid = 0;
	int	fd;
	int	i;

	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	/* the parent of the daemon returns 0 at once */
	assert_int_equal(in_child(background, path), 0);
	for (i = 0; i < 50 && pid == 0; i++) {
		ssize_t	n;

		fd = open(path, O_RDONLY);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		pid = atol(buf);
		if (pid == 0)
			usleep(100000);
	}
	assert_true(pid > 1);
	assert_true(pid != getpid());
	/* the daemon is a different process that runs on its own */
	assert_int_equal(kill((pid_t) pid, 0), 0);
	for (i = 0; i < 50 && kill((pid_t) pid, 0) == 0; i++)
		usleep(100000);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_user_is_noop),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_drop_as_root),
		cmocka_unit_test(test_non_root_cannot_switch),
		cmocka_unit_test(test_pidfile),
		cmocka_unit_test(test_daemonize),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
