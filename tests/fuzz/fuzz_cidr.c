/*++
/* NAME
/*	fuzz_cidr 1
/* SUMMARY
/*	libFuzzer target for address parsing and the CIDR table loader
/* DESCRIPTION
/*	Loads the input as a CustomerNetworks file with mw_cidr_load(),
/*	then feeds each line to mw_addr_parse() and looks it up, as a
/*	client address would be.  Checks that a parsed address is IPv4
/*	or IPv6 (IPv4-mapped IPv6 folded to IPv4), that after a
/*	successful load every listed network's own address finds a
/*	value, and that the table frees cleanly (LeakSanitizer).
/*--*/

#include "config.h"

#include "fuzz.h"
#include "mw_cidr.h"
#include "mw_str.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	err[512];
	struct mw_addr addr;
	mw_cidr *table;
	char   *text = fuzz_str(data, size);
	char   *line;
	char   *next;
	char   *net;
	char   *cp;
	int	loaded;

	if ((table = mw_cidr_create()) == NULL)
		abort();
	loaded = mw_cidr_load(table, fuzz_file(data, size), err, sizeof(err)) == 0;
	fuzz_check(loaded || err[0] != '\0');
	for (line = text; *line != '\0'; line = next) {
		next = fuzz_split(line, '\n');
		if (mw_addr_parse(line, &addr) == 0) {
			fuzz_check(addr.family == 4 || addr.family == 6);
			(void) mw_cidr_lookup(table, &addr);
		}
		if (!loaded)
			continue;
		if ((cp = strchr(line, '#')) != NULL)
			*cp = '\0';
		net = mw_trim(line);
		if (*net == '\0')
			continue;
		net[strcspn(net, " \t/")] = '\0';
		fuzz_check(mw_addr_parse(net, &addr) == 0);
		fuzz_check(mw_cidr_lookup(table, &addr) != NULL);
	}
	mw_cidr_free(table);
	free(text);
	return (0);
}
