/* test_msg - mw_msg: levels, prefixes, one line per call, fatal/panic */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "mw_msg.h"
#include "mw_str.h"

static int last_level = -1;
static char last_text[MW_MSG_LINE_MAX];
static jmp_buf exit_jmp;
static int exit_status = -1;

static void
sink(int level, const char *text)
{
	last_level = level;
	mw_strlcpy(last_text, text, sizeof(last_text));
}

static void
exit_hook(int status)
{
	exit_status = status;
	longjmp(exit_jmp, 1);
}

/* capture - run fn with stderr redirected to a temp file; return its text */

static char *
capture(void (*fn) (void))
{
	static char out[MW_MSG_LINE_MAX * 2];
	FILE   *tmp = tmpfile();
	int	saved = dup(STDERR_FILENO);
	size_t	n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return (out);
}

static void
log_levels(void)
{
	mw_info("%s: accept: from=<%s>", "4XyzQ1", "a@example.com");
	mw_warn("peer sent %d bad lines", 3);
	mw_error("disk %s", "full");
	errno = ENOENT;
	mw_warn("open x: %m");
	mw_debug("invisible unless verbose");
}

static void
test_stderr_prefixes(void **state)
{
	char   *out;

	mw_msg_open("/usr/sbin/mailwarren-test", MW_MSG_STDERR);
	out = capture(log_levels);
	assert_string_equal(out,
			    "mailwarren-test: 4XyzQ1: accept: from=<a@example.com>\n"
			    "mailwarren-test: warning: peer sent 3 bad lines\n"
			    "mailwarren-test: error: disk full\n"
			    "mailwarren-test: warning: open x: No such file or directory\n");
}

static void
log_debug_verbose(void)
{
	mw_verbose = 1;
	mw_debug("now %s", "visible");
	mw_verbose = 0;
}

static void
test_debug_only_when_verbose(void **state)
{
	mw_msg_open("t", MW_MSG_STDERR);
	assert_string_equal(capture(log_debug_verbose), "t: now visible\n");
}

static void
log_newlines(void)
{
	mw_warn("injected\r\nfatal: fake line\n");
}

static void
test_one_line_per_call(void **state)
{
	mw_msg_open("t", MW_MSG_STDERR);
	assert_string_equal(capture(log_newlines), "t: warning: injected  fatal: fake line \n");
}

static void
log_long(void)
{
	static char big[MW_MSG_LINE_MAX * 3];

	memset(big, 'x', sizeof(big) - 1);
	mw_info("%s", big);
}

static void
test_long_line_is_cut(void **state)
{
	char   *out;

	mw_msg_open("t", MW_MSG_STDERR);
	out = capture(log_long);
	assert_true(strlen(out) < MW_MSG_LINE_MAX + 16);
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_int_equal(strncmp(out, "t: xxxx", 7), 0);
}

/* open_under_journal - mw_msg_open() with JOURNAL_STREAM naming stderr (or not) */

static int journal_matches;

static void
open_under_journal(void)
{
	struct stat st;
	char	js[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long) st.st_dev,
		 (unsigned long long) st.st_ino + (journal_matches ? 0 : 1));
	setenv("JOURNAL_STREAM", js, 1);
	mw_msg_open("t", MW_MSG_SYSLOG | MW_MSG_STDERR);
	mw_warn("once");
	mw_msg_close();
	unsetenv("JOURNAL_STREAM");
}

static void
test_no_duplicates_under_journal(void **state)
{
	/* stderr is the journal: syslog only, or every line would be there twice */
	journal_matches = 1;
	assert_string_equal(capture(open_under_journal), "");
	/* another stream (a terminal, a file): both */
	journal_matches = 0;
	assert_string_equal(capture(open_under_journal), "t: warning: once\n");
}

static void
test_sink_and_syslog(void **state)
{
	char	buf[32];

	/* syslog only: nothing on stderr, the sink still sees it */
	mw_msg_open("t", MW_MSG_SYSLOG);
	mw_msg_set_sink(sink);
	mw_warn("peer said \"%s\"", mw_printable(buf, sizeof(buf), "bad\0\x1b[31mred", 12));
	assert_int_equal(last_level, MW_LOG_WARN);
	assert_string_equal(last_text, "peer said \"bad??[31mred\"");
	mw_msg_close();
	mw_msg_set_sink(NULL);
	assert_string_equal(mw_msg_level_name(MW_LOG_FATAL), "fatal");
	assert_string_equal(mw_msg_level_name(42), "unknown");
}

static void
test_fatal_and_panic_exit(void **state)
{
	mw_msg_open("t", MW_MSG_SYSLOG);
	mw_msg_set_sink(sink);
	mw_msg_set_exit(exit_hook);
	if (setjmp(exit_jmp) == 0) {
		mw_fatal("bad config %s", "x");
		fail_msg("mw_fatal returned");
	}
	assert_int_equal(exit_status, 1);
	assert_int_equal(last_level, MW_LOG_FATAL);
	assert_string_equal(last_text, "bad config x");
	if (setjmp(exit_jmp) == 0) {
		mw_panic("bug %d", 7);
		fail_msg("mw_panic returned");
	}
	assert_int_equal(exit_status, 2);
	assert_int_equal(last_level, MW_LOG_PANIC);
	mw_msg_set_exit(NULL);
	mw_msg_set_sink(NULL);
	mw_msg_close();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stderr_prefixes),
		cmocka_unit_test(test_debug_only_when_verbose),
		cmocka_unit_test(test_one_line_per_call),
		cmocka_unit_test(test_long_line_is_cut),
		cmocka_unit_test(test_no_duplicates_under_journal),
		cmocka_unit_test(test_sink_and_syslog),
		cmocka_unit_test(test_fatal_and_panic_exit),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
