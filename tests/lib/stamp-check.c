/*
 * stamp-check - test helper: does a delivered message carry a stamp that
 * verifies (mw_stamp_verify, as spam_prefs checks it)?
 *
 * usage: stamp-check KEYFILE MESSAGE-FILE
 * Prints "ok score=S" and exits 0, or "bad: REASON" and exits 1 ("bad: no
 * stamp" without an X-Mailwarren-Stamp header); 2 on usage or I/O errors.
 * The first Message-ID and the first stamp are read, as the delivery side
 * reads them; folded lines are unfolded, CR LF or LF.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mw_stamp.h"

/* header - the first value of name in the header block, unfolded */

static char *
header(const char *hdrs, const char *name)
{
	size_t	nlen = strlen(name);
	const char *cp, *end;
	char   *val;
	size_t	n = 0;

	for (cp = hdrs; *cp != '\0'; cp = strchr(cp, '\n') ? strchr(cp, '\n') + 1 : cp + strlen(cp)) {
		if (strncasecmp(cp, name, nlen) != 0 || cp[nlen] != ':')
			continue;
		cp += nlen + 1;
		for (end = cp; *end != '\0'; end++)
			if (*end == '\n' && end[1] != ' ' && end[1] != '\t')
				break;
		if ((val = malloc((size_t) (end - cp) + 1)) == NULL)
			return (NULL);
		for (; cp < end; cp++)
			val[n++] = *cp;
		val[n] = '\0';
		return (val);
	}
	return (NULL);
}

int
main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct mw_stamp_key key;
	struct mw_stamp_info info;
	char	err[256];
	char   *stamp, *msgid, *cp;
	size_t	n;
	FILE   *fp;

	if (argc != 3) {
		fprintf(stderr, "usage: stamp-check KEYFILE MESSAGE\n");
		return (2);
	}
	if (mw_stamp_key_load(argv[1], &key, err, sizeof(err)) < 0) {
		fprintf(stderr, "stamp-check: %s\n", err);
		return (2);
	}
	if ((fp = fopen(argv[2], "r")) == NULL) {
		perror(argv[2]);
		return (2);
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* the header block only: up to the first empty line */
	for (cp = buf; *cp != '\0'; cp++) {
		if (cp[0] == '\n' && (cp[1] == '\n' || (cp[1] == '\r' && cp[2] == '\n'))) {
			cp[1] = '\0';
			break;
		}
	}
	if ((stamp = header(buf, MW_STAMP_HEADER)) == NULL) {
		printf("bad: no stamp\n");
		return (1);
	}
	msgid = header(buf, "Message-ID");
	for (cp = stamp; *cp != '\0'; cp++)
		if (*cp == '\r' || *cp == '\n')
			*cp = ' ';
	if (mw_stamp_verify(&key, 1, stamp, msgid, 0, 0, &info, err, sizeof(err)) < 0) {
		printf("bad: %s\n", err);
		free(stamp);
		free(msgid);
		return (1);
	}
	printf("ok score=%s\n", info.score_text);
	free(stamp);
	free(msgid);
	return (0);
}
