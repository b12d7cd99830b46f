/* mw-place.c - a user's home, maildir and index directory from the
   mailshard settings (see mw-place.h). The volume and the user's
   directory are mw_shard_place()'s, the maildir below it and the index
   directory INDEX_DIR/VOLUME/<the user's path in the volume>
   mw_shard_location()'s (lib/mw_shard.c, which checks both settings). */

#include "lib.h"
#include "mw_shard.h"
#include "mw-place.h"

/* The parsed mailshard_volumes and mailshard_layout of the last call: a
   process serves many users with the same settings, so they are parsed
   again only when either string changes. */
static struct {
	char *volumes, *layout;		/* i_strdup()ed; layout may be NULL */
	MW_SHARD *shard;
} mw_place_cache;

void mw_place_deinit(void)
{
	mw_shard_free(mw_place_cache.shard);
	i_free(mw_place_cache.volumes);
	i_free(mw_place_cache.layout);
	i_zero(&mw_place_cache);
}

/* mw_place_shard - the parsed configuration, from the cache if the same;
   NULL with err set if it does not parse */
static const MW_SHARD *
mw_place_shard(const char *volumes, const char *layout, char *err)
{
	MW_SHARD *shard;

	if (mw_place_cache.shard != NULL &&
	    strcmp(mw_place_cache.volumes, volumes) == 0 &&
	    null_strcmp(mw_place_cache.layout, layout) == 0)
		return mw_place_cache.shard;
	if ((shard = mw_shard_create(volumes, layout, err)) == NULL)
		return NULL;
	mw_place_deinit();
	mw_place_cache.volumes = i_strdup(volumes);
	mw_place_cache.layout = i_strdup(layout);
	mw_place_cache.shard = shard;
	return shard;
}

static const char *mw_place_nonempty(const char *value)
{
	return value == NULL || *value == '\0' ? NULL : value;
}

int mw_place_user_loc(const struct mw_place_settings *set,
		      const char *username, MW_SHARD_PLACE *place_r,
		      MW_SHARD_LOC *loc_r, const char **error_r)
{
	char err[MW_SHARD_ERR_MAX];
	const MW_SHARD *shard;

	if (mw_place_nonempty(set->volumes) == NULL) {
		*error_r = "mailshard: mailshard_volumes is not set";
		return -1;
	}
	shard = mw_place_shard(set->volumes, mw_place_nonempty(set->layout),
			       err);
	if (shard == NULL) {
		*error_r = t_strdup_printf(
			"mailshard: mailshard_volumes/mailshard_layout: %s", err);
		return -1;
	}
	if (mw_shard_place(shard, username, mw_place_nonempty(set->pin_volume),
			   mw_place_nonempty(set->pin_path), place_r, err) < 0) {
		*error_r = t_strdup_printf("mailshard: %s", err);
		return -1;
	}
	/* the strings: lib/mw_shard.c's mw_shard_location(), the one
	   builder of every route (unit-tested in tests/unit/test_shard) */
	if (mw_shard_location(place_r, mw_place_nonempty(set->maildir),
			      mw_place_nonempty(set->index_dir), loc_r, err) < 0) {
		*error_r = t_strdup_printf("mailshard: %s", err);
		return -1;
	}
	return 0;
}

int mw_place_user(const struct mw_place_settings *set, const char *username,
		  struct mw_place *place_r, const char **error_r)
{
	MW_SHARD_PLACE place;
	/* On the C stack, not t_new(): mw_shard_location() fills every
	   field, and zeroing 12 KB on the data stack cost more than the
	   whole placement (callgrind, bench/dovecot-callgrind.py) */
	MW_SHARD_LOC loc;

	i_zero(place_r);
	if (mw_place_user_loc(set, username, &place, &loc, error_r) < 0)
		return -1;
	place_r->volume = t_strdup(place.volume->name);
	place_r->volume_path = t_strdup(place.volume->path);
	place_r->home = t_strdup(loc.home);
	place_r->maildir = t_strdup(loc.mail_path);
	place_r->index_dir = loc.index_path[0] == '\0' ? NULL :
		t_strdup(loc.index_path);
	place_r->location = t_strdup(loc.location);
	place_r->reason = mw_shard_reason_name(place.reason);
	return 0;
}
