/*
 * stamp-make - test helper: the X-Mailwarren-Stamp value mailwarren-milter
 * writes (mw_stamp_make, the milter's own code) for a Message-ID and score.
 *
 * usage: stamp-make KEYFILE MESSAGE-ID SCORE [UNIXTIME]
 * Prints the value and exits 0; 2 on usage errors, a bad key file or a
 * Message-ID or score mw_stamp_make refuses. UNIXTIME defaults to now.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mw_stamp.h"

int
main(int argc, char **argv)
{
	struct mw_stamp_key key;
	char	value[MW_STAMP_VALUE_MAX];
	char	err[256];
	long long t;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: stamp-make KEYFILE MESSAGE-ID SCORE [UNIXTIME]\n");
		return (2);
	}
	if (mw_stamp_key_load(argv[1], &key, err, sizeof(err)) < 0) {
		fprintf(stderr, "stamp-make: %s\n", err);
		return (2);
	}
	t = argc == 5 ? strtoll(argv[4], NULL, 10) : (long long) time(NULL);
	if (mw_stamp_make(&key, argv[2], argv[3], t, value, sizeof(value)) < 0) {
		fprintf(stderr, "stamp-make: cannot stamp score \"%s\" for \"%s\"\n", argv[3], argv[2]);
		return (2);
	}
	printf("%s\n", value);
	return (0);
}
