/* replay_main - run a libFuzzer target over a corpus, as TAP (make check) */

/*
 * With arguments, each is a file to replay.  Without, every file of the
 * directory $top_srcdir/REPLAY_CORPUS is.  The target aborts when the code
 * under test breaks a promise; ASan/UBSan report memory errors.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define REPLAY_MAX	(1 << 20)

/* replay - one file; 0 or -1 */

static int
replay(const char *path)
{
	unsigned char *buf;
	size_t	len;
	FILE   *fp;

	if ((fp = fopen(path, "rb")) == NULL)
		return (-1);
	if ((buf = malloc(REPLAY_MAX)) == NULL) {
		fclose(fp);
		return (-1);
	}
	len = fread(buf, 1, REPLAY_MAX, fp);
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return (0);
}

int
main(int argc, char **argv)
{
	char	dir[4096];
	char	path[8192];
	const char *top = getenv("top_srcdir");
	struct dirent *d;
	DIR    *dp;
	int	n = 0;
	int	i;

	if (argc > 1) {
		printf("1..%d\n", argc - 1);
		for (i = 1; i < argc; i++)
			printf("%s %d - %s\n", replay(argv[i]) == 0 ? "ok" : "not ok", i, argv[i]);
		return (0);
	}
	snprintf(dir, sizeof(dir), "%s/%s", top ? top : ".", REPLAY_CORPUS);
	if ((dp = opendir(dir)) == NULL) {
		printf("1..1\nnot ok 1 - cannot open %s\n", dir);
		return (1);
	}
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n++;
		printf("%s %d - %s\n", replay(path) == 0 ? "ok" : "not ok", n, d->d_name);
	}
	closedir(dp);
	printf("1..%d\n", n);
	return (n > 0 ? 0 : 1);
}
