/*++
/* NAME
/*	mw_map 3
/* SUMMARY
/*	in-memory string tables loaded from lists and files
/* SYNOPSIS
/*	#include "mw_map.h"
/*
/*	mw_map	*mw_map_create(flags)
/*	int	flags;
/*
/*	void	mw_map_free(map)
/*	mw_map	*map;
/*
/*	int	mw_map_put(map, key, value, err, errlen)
/*	const char *key;
/*	const char *value;
/*
/*	const char *mw_map_get(map, key)
/*
/*	size_t	mw_map_count(map)
/*
/*	int	mw_map_load_file(map, path, err, errlen)
/*	int	mw_map_load_list(map, list, err, errlen)
/* DESCRIPTION
/*	A map is a hash table from keys to string values, built once and
/*	then only read (the daemons build a new one on reload and swap).
/*	With MW_MAP_KEYS_ONLY it is a set and every value is "".  With
/*	MW_MAP_LOWERCASE keys are folded to ASCII lower case when stored
/*	and when looked up (UTF-8 bytes are compared as they are).
/*
/*	mw_map_put() adds a key; a key that is already present is an
/*	error.  mw_map_get() returns the value or NULL.
/*
/*	mw_map_load_file() reads a file in Postfix's table source form:
/*	one "key value" per line (white space between; the value is the
/*	rest of the line), or the key alone for a set; blank lines and
/*	lines starting with "#" are ignored.  mw_map_load_list() takes
/*	what a configuration file says for a set: items separated by
/*	commas and/or white space, each either a key or, when it starts
/*	with "/", the path of a file of keys read as above.
/* DIAGNOSTICS
/*	Functions that can fail return 0 or -1 with one line in err:
/*	"path:line: reason" for file errors.  mw_map_create() returns
/*	NULL when out of memory.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "mw_map.h"
#include "mw_str.h"

#define MAP_KEY_MAX	1024		/* longest key */

struct map_slot {
	char   *key;			/* NULL: empty */
	char   *value;
};

struct mw_map {
	struct map_slot *slots;
	size_t	size;			/* power of two */
	size_t	used;
	int	flags;
};

/* map_hash - mw_hash() of the key, case-folded when the map folds */

static size_t
map_hash(const char *key, int fold)
{
	char	buf[MAP_KEY_MAX + 1];
	size_t	len = strlen(key);

	if (!fold || len > MAP_KEY_MAX)
		return ((size_t) mw_hash(key, len));
	memcpy(buf, key, len + 1);
	mw_lowercase(buf);
	return ((size_t) mw_hash(buf, len));
}

/* map_equal - key comparison, optionally case-folded */

static int
map_equal(const char *stored, const char *key, int fold)
{
	if (!fold)
		return (strcmp(stored, key) == 0);
	for (; *stored != '\0'; stored++, key++) {
		unsigned char a = (unsigned char) *stored;
		unsigned char b = (unsigned char) *key;

		if (b >= 'A' && b <= 'Z')
			b = (unsigned char) (b - 'A' + 'a');
		if (a != b)
			return (0);
	}
	return (*key == '\0');
}

/* map_find - slot of key, or the empty slot where it goes */

static struct map_slot *
map_find(const mw_map *map, const char *key)
{
	size_t	mask = map->size - 1;
	int	fold = map->flags & MW_MAP_LOWERCASE;
	size_t	i = map_hash(key, fold) & mask;

	while (map->slots[i].key != NULL && !map_equal(map->slots[i].key, key, fold))
		i = (i + 1) & mask;
	return (&map->slots[i]);
}

/* map_grow - double the table */

static int
map_grow(mw_map *map)
{
	struct map_slot *old = map->slots;
	size_t	old_size = map->size;
	size_t	i;

	if ((map->slots = calloc(old_size * 2, sizeof(*old))) == NULL) {
		map->slots = old;
		return (-1);
	}
	map->size = old_size * 2;
	for (i = 0; i < old_size; i++)
		if (old[i].key != NULL)
			*map_find(map, old[i].key) = old[i];
	free(old);
	return (0);
}

/* mw_map_create - empty map */

mw_map *
mw_map_create(int flags)
{
	mw_map *map;

	if ((map = calloc(1, sizeof(*map))) == NULL)
		return (NULL);
	map->flags = flags;
	map->size = 16;
	if ((map->slots = calloc(map->size, sizeof(*map->slots))) == NULL) {
		free(map);
		return (NULL);
	}
	return (map);
}

/* mw_map_free - release a map */

void
mw_map_free(mw_map *map)
{
	size_t	i;

	if (map == NULL)
		return;
	for (i = 0; i < map->size; i++) {
		free(map->slots[i].key);
		free(map->slots[i].value);
	}
	free(map->slots);
	free(map);
}

/* mw_map_count - number of keys */

size_t
mw_map_count(const mw_map *map)
{
	return (map->used);
}

/* mw_map_put - add a key */

int
mw_map_put(mw_map *map, const char *key, const char *value, char *err, size_t errlen)
{
	struct map_slot *slot;
	char	shown[80];

	if (*key == '\0' || strlen(key) > MAP_KEY_MAX)
		return (mw_err(err, errlen, "key empty or longer than %d bytes", MAP_KEY_MAX));
	if ((map->used + 1) * 2 > map->size && map_grow(map) < 0)
		return (mw_err(err, errlen, "out of memory"));
	slot = map_find(map, key);
	if (slot->key != NULL)
		return (mw_err(err, errlen, "\"%s\" listed twice",
				 mw_printable(shown, sizeof(shown), key, strlen(key))));
	if ((slot->key = strdup(key)) == NULL
	    || (slot->value = strdup(map->flags & MW_MAP_KEYS_ONLY ? "" : value)) == NULL) {
		free(slot->key);
		slot->key = NULL;
		return (mw_err(err, errlen, "out of memory"));
	}
	if (map->flags & MW_MAP_LOWERCASE)
		mw_lowercase(slot->key);
	map->used++;
	return (0);
}

/* mw_map_get - look up a key */

const char *
mw_map_get(const mw_map *map, const char *key)
{
	const struct map_slot *slot = map_find(map, key);

	return (slot->key != NULL ? slot->value : NULL);
}

/* mw_map_load_file - read "key value" lines */

int
mw_map_load_file(mw_map *map, const char *path, char *err, size_t errlen)
{
	char	why[256];
	char   *line = NULL;
	size_t	cap = 0;
	ssize_t	len;
	unsigned lineno = 0;
	char   *key;
	char   *value;
	FILE   *fp;
	int	rc = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return (mw_err(err, errlen, "%s: cannot open: %s", path, strerror(errno)));
	while (rc == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (memchr(line, '\0', (size_t) len) != NULL) {
			rc = mw_err(err, errlen, "%s:%u: line contains a NUL byte", path, lineno);
			break;
		}
		key = mw_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		value = key + strcspn(key, " \t");
		if (*value != '\0')
			*value++ = '\0';
		value = mw_trim(value);
		if ((map->flags & MW_MAP_KEYS_ONLY) && *value != '\0')
			rc = mw_err(err, errlen, "%s:%u: expected one entry per line", path, lineno);
		else if (!(map->flags & MW_MAP_KEYS_ONLY) && *value == '\0')
			rc = mw_err(err, errlen, "%s:%u: expected \"key value\"", path, lineno);
		else if (mw_map_put(map, key, value, why, sizeof(why)) < 0)
			rc = mw_err(err, errlen, "%s:%u: %s", path, lineno, why);
	}
	if (rc == 0 && ferror(fp))
		rc = mw_err(err, errlen, "%s: read error: %s", path, strerror(errno));
	free(line);
	fclose(fp);
	return (rc);
}

/* mw_map_load_list - add list items: names, or files named by absolute path */

int
mw_map_load_list(mw_map *map, const char *list, char *err, size_t errlen)
{
	char	item[MAP_KEY_MAX + 1];
	size_t	len;

	for (;;) {
		list += strspn(list, ", \t");
		if (*list == '\0')
			return (0);
		len = strcspn(list, ", \t");
		if (len > MAP_KEY_MAX)
			return (mw_err(err, errlen, "list entry longer than %d bytes", MAP_KEY_MAX));
		memcpy(item, list, len);
		item[len] = '\0';
		if (item[0] == '/' ? mw_map_load_file(map, item, err, errlen) < 0
		    : mw_map_put(map, item, "", err, errlen) < 0)
			return (-1);
		list += len;
	}
}
