/*++
/* NAME
/*	fuzz_spamc_reply 1
/* SUMMARY
/*	libFuzzer target for the spamd reply parser
/* SYNOPSIS
/*	make fuzz-spamc-reply (clang -fsanitize=fuzzer)
/*	tests/fuzz/fuzz_spamc_reply [libFuzzer options] [corpus...]
/* DESCRIPTION
/*	Feeds arbitrary bytes to mw_spamc_parse_reply() and checks what
/*	the parser promises: it never reads outside the buffer (ASan),
/*	returns 0, -1 or -2, and on success leaves a NUL-terminated,
/*	printable symbol list without white space and finite scores.
/*	The same function runs in "make check" over the seed corpus
/*	through replay_main.c, with the regular compiler.
/*--*/

#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw_spamc.h"

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_spamc_result res;
	char	err[256];
	char   *copy;
	size_t	i;
	int	rc;

	/* An exact-size heap copy, so ASan sees any read past the end. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return (0);
	memcpy(copy, data, size);
	err[0] = '\0';
	rc = mw_spamc_parse_reply(copy, size, &res, err, sizeof(err));
	if (rc != 0 && rc != -1 && rc != -2)
		abort();
	if (rc != 0 && (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL))
		abort();
	if (rc == 0) {
		if (memchr(res.symbols, '\0', sizeof(res.symbols)) == NULL)
			abort();
		for (i = 0; res.symbols[i] != '\0'; i++)
			if (res.symbols[i] <= ' ' || res.symbols[i] > '~')
				abort();
		if (!isfinite(res.score) || !isfinite(res.required) || (res.spam != 0 && res.spam != 1))
			abort();
	}
	free(copy);
	return (0);
}
