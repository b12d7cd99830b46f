/* mw-place.c - a user's home, maildir and index directory from the
   mailshard settings (see mw-place.h). The volume and the user's
   directory are mw_shard_place()'s; this adds the maildir below it and
   the index directory INDEX_DIR/VOLUME/<the user's path in the volume>,
   after checking both settings. */

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

/* mw_place_subpath - check mailshard_maildir (relative) or
   mailshard_index_dir (absolute); the normalised path, or NULL */
static const char *
mw_place_subpath(const char *name, const char *value, bool absolute,
		 const char **error_r)
{
	char norm[MW_SHARD_PATH_MAX];
	const char *why;

	if (!absolute && value[0] == '/') {
		*error_r = t_strdup_printf("mailshard: invalid %s '%s': "
			"must be relative to the user's directory", name, value);
		return NULL;
	}
	if (mw_shard_path_normalize(absolute ? value :
				    t_strconcat("/", value, NULL),
				    norm, &why) < 0) {
		*error_r = t_strdup_printf("mailshard: invalid %s '%s': %s",
					   name, value, why);
		return NULL;
	}
	return t_strdup(absolute ? norm : norm + 1);
}

static const char *mw_place_nonempty(const char *value)
{
	return value == NULL || *value == '\0' ? NULL : value;
}

int mw_place_user(const struct mw_place_settings *set, const char *username,
		  struct mw_place *place_r, const char **error_r)
{
	char err[MW_SHARD_ERR_MAX];
	const char *maildir, *index_dir;
	const MW_SHARD *shard;
	MW_SHARD_PLACE place;

	i_zero(place_r);
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
			   mw_place_nonempty(set->pin_path), &place, err) < 0) {
		*error_r = t_strdup_printf("mailshard: %s", err);
		return -1;
	}

	maildir = mw_place_nonempty(set->maildir);
	maildir = mw_place_subpath("mailshard_maildir",
				   maildir == NULL ? "Maildir" : maildir,
				   FALSE, error_r);
	if (maildir == NULL)
		return -1;
	index_dir = mw_place_nonempty(set->index_dir);
	if (index_dir != NULL) {
		index_dir = mw_place_subpath("mailshard_index_dir", index_dir,
					     TRUE, error_r);
		if (index_dir == NULL)
			return -1;
		/* INDEX_DIR/VOLUME/<path in volume> */
		index_dir = t_strconcat(index_dir, "/", place.volume->name,
			place.path + place.volume->path_len, NULL);
	}

	place_r->volume = t_strdup(place.volume->name);
	place_r->volume_path = t_strdup(place.volume->path);
	place_r->home = t_strdup(place.path);
	place_r->maildir = t_strconcat(place.path, "/", maildir, NULL);
	place_r->index_dir = index_dir;
	place_r->location = index_dir == NULL ?
		t_strconcat("maildir:", place_r->maildir, NULL) :
		t_strconcat("maildir:", place_r->maildir, ":INDEX=",
			    index_dir, NULL);
	place_r->reason = mw_shard_reason_name(place.reason);
	return 0;
}
