/*++
/* NAME
/*	fuzz 3h
/* SUMMARY
/*	helpers shared by the libFuzzer targets
/* DESCRIPTION
/*	fuzz_str() is an exact-size heap copy of the input with a NUL
/*	after it (strings end at the first NUL), so that ASan sees any
/*	read past the end; fuzz_split() cuts such a copy at the first
/*	separator byte; fuzz_file() writes the input to a private temp
/*	file for the loaders that read a path; fuzz_check() aborts (a
/*	crash for libFuzzer, a failed replay) when a promise is broken.
/*--*/
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define fuzz_check(cond) do { \
	if (!(cond)) { \
	    fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond); \
	    abort(); \
	} \
    } while (0)

static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char   *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return (s);
}

/* the rest after the first sep (sep becomes NUL), or "" */
static inline char *
fuzz_split(char *s, int sep)
{
	char   *cp = strchr(s, sep);

	if (cp == NULL)
		return (s + strlen(s));
	*cp = '\0';
	return (cp + 1);
}

/* the path of a private file holding exactly the input */
static inline const char *
fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		snprintf(path, sizeof(path), "/tmp/mw-fuzz-XXXXXX");
		if ((fd = mkstemp(path)) < 0)
			abort();
		/* gone from /tmp at once; open it again through /proc */
		unlink(path);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
		abort();
	return (path);
}

#endif
