/*++
/* NAME
/*	fuzz_map 1
/* SUMMARY
/*	libFuzzer target for the map and list loaders
/* DESCRIPTION
/*	Loads the input with mw_map_load_file() as a "key value" map and
/*	as a key-only set, with and without case folding, and (up to its
/*	first NUL, without "/" so that no other file is read) with
/*	mw_map_load_list().  Checks that after a successful load every
/*	key of the input is found, and that maps free cleanly.
/*--*/

#include "config.h"

#include "fuzz.h"
#include "mw_map.h"
#include "mw_str.h"

static void
check_keys(const mw_map *map, const char *text, int keys_only)
{
	char   *copy = strdup(text);
	char   *line;
	char   *next;
	char   *key;

	if (copy == NULL)
		abort();
	for (line = copy; *line != '\0'; line = next) {
		next = fuzz_split(line, '\n');
		key = mw_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		key[strcspn(key, " \t")] = '\0';
		fuzz_check(mw_map_get(map, key) != NULL);
		if (keys_only)
			fuzz_check(*mw_map_get(map, key) == '\0');
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int flags[] = {0, MW_MAP_KEYS_ONLY, MW_MAP_LOWERCASE, MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE};
	char	err[512];
	char   *text = fuzz_str(data, size);
	const char *path = fuzz_file(data, size);
	mw_map *map;
	size_t	i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if ((map = mw_map_create(flags[i])) == NULL)
			abort();
		err[0] = '\0';
		if (mw_map_load_file(map, path, err, sizeof(err)) == 0)
			check_keys(map, text, flags[i] & MW_MAP_KEYS_ONLY);
		else
			fuzz_check(err[0] != '\0');
		mw_map_free(map);
	}
	if (strchr(text, '/') == NULL) {
		if ((map = mw_map_create(MW_MAP_KEYS_ONLY | MW_MAP_LOWERCASE)) == NULL)
			abort();
		err[0] = '\0';
		if (mw_map_load_list(map, text, err, sizeof(err)) < 0)
			fuzz_check(err[0] != '\0');
		mw_map_free(map);
	}
	free(text);
	return (0);
}
