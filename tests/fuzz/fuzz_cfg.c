/*++
/* NAME
/*	fuzz_cfg 1
/* SUMMARY
/*	libFuzzer target for the configuration file parser
/* DESCRIPTION
/*	Parses the input as a configuration file with mw_cfg_parse(),
/*	against a table with one key of each type and range, the way
/*	both daemons do (unknown keys fatal, then warned).  Checks that
/*	a value that parsed lies within its range, that an error comes
/*	with a reason, and that everything is freed (LeakSanitizer).
/*--*/

#include "config.h"

#include <stddef.h>

#include "fuzz.h"
#include "mw_cfg.h"

struct conf {
	int	flag;
	char   *name;
	long long count;
	unsigned long long size;
	unsigned long long secs;
	struct mw_cfg_list list;
	long long wide;
};

static const struct mw_cfg_entry table[] = {
	{"Flag", MW_CFG_BOOL, "no", offsetof(struct conf, flag), 0, 0},
	{"Name", MW_CFG_STRING, NULL, offsetof(struct conf, name), 0, 0},
	{"Count", MW_CFG_INT, "10", offsetof(struct conf, count), 1, 1000},
	{"Size", MW_CFG_SIZE, "1M", offsetof(struct conf, size), 1024, 1LL << 40},
	{"Timeout", MW_CFG_TIME, "30s", offsetof(struct conf, secs), 1, 86400},
	{"Items", MW_CFG_LIST, "a, b", offsetof(struct conf, list), 0, 0},
	{"Wide", MW_CFG_INT, "0", offsetof(struct conf, wide), 0, 0},
	MW_CFG_END,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	char	err[MW_CFG_ERR_MAX];
	FILE   *fp;
	size_t	i;
	int	flags;
	int	rc;

	for (flags = 0; flags <= MW_CFG_UNKNOWN_WARN; flags += MW_CFG_UNKNOWN_WARN) {
		memset(&c, 0, sizeof(c));
		err[0] = '\0';
		fuzz_check(mw_cfg_defaults(table, &c, err, sizeof(err)) == 0);
		static char empty[1];

		if ((fp = fmemopen(size ? (void *) data : empty, size ? size : 1, "r")) == NULL)
			abort();
		if (size == 0)
			(void) fgetc(fp);	/* the one NUL: then end of file */
		rc = mw_cfg_parse(table, &c, fp, "fuzz.conf", flags, err, sizeof(err));
		fclose(fp);
		fuzz_check(rc == 0 || rc == -1);
		if (rc < 0)
			fuzz_check(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		fuzz_check(c.flag == 0 || c.flag == 1);
		fuzz_check(c.count >= 1 && c.count <= 1000);
		fuzz_check(c.size >= 1024 && c.size <= (1ULL << 40));
		fuzz_check(c.secs >= 1 && c.secs <= 86400);
		for (i = 0; i < c.list.n; i++)
			fuzz_check(c.list.items[i] != NULL);
		mw_cfg_free(table, &c);
	}
	return (0);
}
