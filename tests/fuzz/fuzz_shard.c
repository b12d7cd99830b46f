/*++
/* NAME
/*	fuzz_shard 1
/* SUMMARY
/*	libFuzzer target for username, volume and path normalisation
/* DESCRIPTION
/*	The input is up to five LF-separated fields: a volume list, a
/*	layout, a username, a pinned volume and a pinned path.  Feeds
/*	the username to mw_shard_normalize() (all of its bytes, NULs
/*	included), the path to mw_shard_path_normalize(), the list and
/*	layout to mw_shard_create(), and all of them to
/*	mw_shard_place().  Checks the documented promises: a normalised
/*	name has no upper-case ASCII letter, control byte, "/" or ":",
/*	and does not start with "."; normalising is idempotent; a
/*	normalised path is absolute with no "//", no trailing "/" and no
/*	"." or ".." component; a placed path lies inside its volume.
/*--*/

#include "config.h"

#include "fuzz.h"
#include "mw_shard.h"

static void
check_path(const char *p)
{
	size_t	len = strlen(p);

	fuzz_check(p[0] == '/' && len > 1 && len < MW_SHARD_PATH_MAX);
	fuzz_check(strstr(p, "//") == NULL && p[len - 1] != '/');
	fuzz_check(strstr(p, "/./") == NULL && strstr(p, "/../") == NULL);
	fuzz_check(!(len >= 2 && strcmp(p + len - 2, "/.") == 0));
	fuzz_check(!(len >= 3 && strcmp(p + len - 3, "/..") == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	user[MW_SHARD_USER_MAX + 1];
	char	again[MW_SHARD_USER_MAX + 1];
	char	path[MW_SHARD_PATH_MAX];
	char	err[MW_SHARD_ERR_MAX];
	MW_SHARD_PLACE place;
	const char *why;
	char   *vols = fuzz_str(data, size);
	char   *layout = fuzz_split(vols, '\n');
	char   *name = fuzz_split(layout, '\n');
	char   *pin_vol = fuzz_split(name, '\n');
	char   *pin_path = fuzz_split(pin_vol, '\n');
	const unsigned char *cp;
	MW_SHARD *shard;
	int	i;

	(void) fuzz_split(pin_path, '\n');

	/* the raw input as a username, NULs and all */
	if (mw_shard_normalize((const char *) data, size, user, &why) == 0) {
		fuzz_check(size > 0 && size <= MW_SHARD_USER_MAX && strlen(user) == size);
		fuzz_check(user[0] != '.' && strpbrk(user, "/: \t") == NULL);
		for (cp = (const unsigned char *) user; *cp; cp++)
			fuzz_check(*cp >= 0x20 && *cp != 0x7f && !(*cp >= 'A' && *cp <= 'Z'));
		fuzz_check(mw_shard_normalize(user, strlen(user), again, &why) == 0
			   && strcmp(user, again) == 0);
	}
	if (mw_shard_path_normalize(pin_path, path, &why) == 0) {
		check_path(path);
		fuzz_check(mw_shard_path_normalize(path, again[0] ? path : path, &why) == 0);
	}
	if ((shard = mw_shard_create(vols, layout, err)) != NULL) {
		fuzz_check(shard->count > 0 && shard->count <= MW_SHARD_VOLUMES_MAX);
		for (i = 0; i < shard->count; i++) {
			check_path(shard->volumes[i].path);
			fuzz_check(mw_shard_find(shard, shard->volumes[i].name) == i);
		}
		if (mw_shard_place(shard, name, pin_vol, pin_path, &place, err) == 0) {
			fuzz_check(place.volume != NULL);
			check_path(place.path);
			fuzz_check(strncmp(place.path, place.volume->path, place.volume->path_len) == 0
				   && place.path[place.volume->path_len] == '/');
			if (*pin_path == '\0' && *pin_vol == '\0')
				fuzz_check(place.reason == MW_SHARD_BY_HASH
					   && place.volume->weight > 0);
		}
		mw_shard_free(shard);
	}
	free(vols);
	return (0);
}
