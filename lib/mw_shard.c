/*++
/* NAME
/*	mw_shard 3
/* SUMMARY
/*	mail shard placement: user -> volume -> hashed directory
/* SYNOPSIS
/*	#include "mw_shard.h"
/*
/*	uint64_t mw_shard_hash(data, len)
/*	const void *data;
/*	size_t	len;
/*
/*	int	mw_shard_normalize(user, len, out, why)
/*	const char *user;
/*	size_t	len;
/*	char	out[MW_SHARD_USER_MAX + 1];
/*	const char **why;
/*
/*	int	mw_shard_path_normalize(path, out, why)
/*	const char *path;
/*	char	out[MW_SHARD_PATH_MAX];
/*	const char **why;
/*
/*	MW_SHARD *mw_shard_create(volumes, layout, err)
/*	const char *volumes;
/*	const char *layout;
/*	char	err[MW_SHARD_ERR_MAX];
/*
/*	void	mw_shard_free(shard)
/*	MW_SHARD *shard;
/*
/*	int	mw_shard_pick(shard, norm_user)
/*	const MW_SHARD *shard;
/*	const char *norm_user;
/*
/*	int	mw_shard_pick_skip(shard, norm_user, skip)
/*	const MW_SHARD *shard;
/*	const char *norm_user;
/*	const unsigned char *skip;
/*
/*	MW_SHARD *mw_shard_create_set(names, weights, count, err)
/*	const char *const *names;
/*	const unsigned *weights;
/*	int	count;
/*	char	err[MW_SHARD_ERR_MAX];
/*
/*	int	mw_shard_find(shard, name)
/*	const MW_SHARD *shard;
/*	const char *name;
/*
/*	int	mw_shard_place(shard, user, pin_volume, pin_path, place, err)
/*	const MW_SHARD *shard;
/*	const char *user;
/*	const char *pin_volume;
/*	const char *pin_path;
/*	MW_SHARD_PLACE *place;
/*	char	err[MW_SHARD_ERR_MAX];
/*
/*	int	mw_shard_location(place, maildir, index_dir, loc, err)
/*	const MW_SHARD_PLACE *place;
/*	const char *maildir;
/*	const char *index_dir;
/*	MW_SHARD_LOC *loc;
/*	char	err[MW_SHARD_ERR_MAX];
/*
/*	int	mw_shard_volume_ready(name, path, err)
/*	const char *name;
/*	const char *path;
/*	char	err[MW_SHARD_ERR_MAX];
/*
/*	const char *mw_shard_reason_name(reason)
/*	int	reason;
/* DESCRIPTION
/*	This module decides where a user's mail lives; the Dovecot
/*	plugin, the doveadm command and any other tool use it, so that
/*	they all agree.  It has no Dovecot dependency.  The algorithm is
/*	specified in mailshard(7) precisely enough to reimplement it:
/*
/*	The key is the normalised username.  mw_shard_hash() is
/*	SipHash-2-4 with the fixed key 00 01 02 ... 0f (the key of the
/*	SipHash reference test vectors).  A volume's score for a user is
/*	fmix64(hash(user) ^ hash(volume name)); with u = ((score >> 11)
/*	+ 0.5) / 2^53, the user goes to the volume of weight w > 0 with
/*	the smallest -ln(u) / w (weighted rendezvous hashing; ties go to
/*	the volume listed first).  Inside the volume the directories are
/*	the first LEVELS groups of WIDTH digits of hash(user) written as
/*	16 lowercase hex digits ("hash:LEVELS:WIDTH"), or the first N
/*	characters of the name ("letters:N"; a character other than a-z
/*	or 0-9, or a missing one, becomes "_"), then the name itself.
/*
/*	mw_shard_normalize() validates len bytes of user and writes the
/*	normalised name (ASCII letters lowercased; other bytes kept) to
/*	out.  Refused: empty, longer than MW_SHARD_USER_MAX, NUL, ASCII
/*	or C1 control characters, white space, "/", ":" (Dovecot's
/*	location separator), a leading "." (so "." and ".." too), and
/*	bytes that are not well-formed UTF-8 (after a refusal, out holds
/*	no name).  Non-ASCII letters are not case-folded (that would
/*	depend on the Unicode version); such names are kept byte for
/*	byte.
/*
/*	mw_shard_path_normalize() checks an absolute path (volume roots,
/*	mailshard_path pins): it collapses repeated "/", drops a trailing
/*	"/", and refuses relative paths, "." or ".." components, control
/*	characters, white space, ":" and the root directory itself.
/*	Symbolic links are not resolved.
/*
/*	mw_shard_create() parses a volume list "NAME=PATH[:WEIGHT] ..."
/*	(white space or comma separated; WEIGHT 0 to MW_SHARD_WEIGHT_MAX,
/*	default 1; weight 0 volumes take pinned users only) and a layout
/*	("hash:LEVELS:WIDTH" with LEVELS*WIDTH <= 16, "letters:N" with N
/*	<= MW_SHARD_LETTERS_MAX; NULL or "" means hash:2:2).  Volume
/*	names are letters, digits, ".", "_" and "-" and must be unique;
/*	no volume may lie inside another; one at least must have a
/*	weight above 0.  mw_shard_free() releases the result.
/*
/*	mw_shard_pick() returns the index of the hashed volume of a
/*	normalised name; mw_shard_find() the index of a volume by name,
/*	or -1.  mw_shard_pick_skip() is mw_shard_pick() over the volumes
/*	i with skip[i] == 0 only (skip has one byte per volume; NULL
/*	skips none): the same rule, so a user whose first choice is
/*	skipped gets its next choice and everybody else keeps theirs.
/*	It returns -1 when every volume of weight above 0 is skipped.
/*
/*	mw_shard_create_set() makes the same rendezvous set from count
/*	names (volume name syntax, unique) and weights (0 to
/*	MW_SHARD_WEIGHT_MAX, one at least above 0), without paths: the
/*	Dovecot proxy tier picks backends with it (a name's score does
/*	not depend on its path, so volumes and backends of the same
/*	names and weights pick alike).  mw_shard_place() must not be
/*	used on such a set.
/*
/*	mw_shard_place() computes the directory of user: a non-empty
/*	pin_path (must lie strictly inside a configured volume) wins,
/*	then a non-empty pin_volume (a configured volume, of any weight:
/*	the hashed directories stay the same), then the hash.
/*
/*	mw_shard_location() turns a place into the strings Dovecot
/*	needs, for every route that sets them (the mail plugin, the
/*	auth module, on Dovecot 2.3 and 2.4), so that the routes agree
/*	byte for byte: the home (place->path), the maildir
/*	HOME/MAILDIR (maildir: relative to the home, normalised as a
/*	path; NULL or "" means "Maildir"), the index directory
/*	INDEX_DIR/VOLUME/<place->path below the volume's path>
/*	(index_dir: absolute, normalised; NULL or "" means none, and
/*	index_path is ""), and the 2.3 mail location
/*	"maildir:MAIL_PATH" with ":INDEX=INDEX_PATH" when an index
/*	directory is set.
/*
/*	mw_shard_volume_ready() checks that the volume name at path
/*	holds its marker file MW_SHARD_MARKER (created by the operator
/*	on the filer itself, so that it is missing when the filesystem
/*	is not mounted): every route refuses a user of a volume without
/*	it, temporarily, instead of creating an empty maildir on a bare
/*	mount point.
/* DIAGNOSTICS
/*	mw_shard_normalize(), mw_shard_path_normalize(),
/*	mw_shard_place(), mw_shard_location() and
/*	mw_shard_volume_ready() return 0, or -1 with
/*	the reason in *why or err;
/*	mw_shard_create() returns NULL with the reason in err.
/* SEE ALSO
/*	mailshard(7), mw_siphash(3)
/*--*/

/* System library. */

#include <sys/stat.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "mw_siphash.h"
#include "mw_str.h"
#include "mw_shard.h"

 /*
  * The SipHash key: bytes 00 01 02 ... 0f, as little-endian halves.
  */
#define SHARD_K0	UINT64_C(0x0706050403020100)
#define SHARD_K1	UINT64_C(0x0f0e0d0c0b0a0908)

#define SHARD_SPACE(c)	((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

/* shard_err - format an error text */

static void
shard_err(char *err, const char *fmt,...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, MW_SHARD_ERR_MAX, fmt, ap);
	va_end(ap);
}

/* mw_shard_hash - the documented, stable 64-bit hash */

uint64_t
mw_shard_hash(const void *data, size_t len)
{
	return (mw_siphash24(SHARD_K0, SHARD_K1, data, len));
}

/* utf8_len - length of a well-formed, non-control UTF-8 sequence, or 0 */

static size_t
utf8_len(const unsigned char *s, size_t left)
{
	unsigned cp;
	size_t	n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return (0);
	if (n > left)
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF, C1 controls */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
	    || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff
	    || (cp >= 0x80 && cp <= 0x9f))
		return (0);
	return (n);
}

/* mw_shard_normalize - validate a username and lowercase it */

int
mw_shard_normalize(const char *user, size_t len, char *out, const char **why)
{
	const unsigned char *s = (const unsigned char *) user;
	unsigned c;
	size_t	i, n;

	if (len == 0)
		return (*why = "empty username", -1);
	if (len > MW_SHARD_USER_MAX)
		return (*why = "username longer than 255 bytes", -1);
	if (s[0] == '.')
		return (*why = "username starts with '.'", -1);
	for (i = 0; i < len; i += n) {
		n = 1;
		/* the common case first: printable ASCII other than / and : */
		c = s[i];
		if (c - 0x21 < 0x7f - 0x21 && c != '/' && c != ':') {
			out[i] = (char) (c - 'A' < 26 ? c + 0x20 : c);
			continue;
		}
		if (s[i] == '\0')
			return (*why = "NUL byte in username", -1);
		if (s[i] == ' ')
			return (*why = "space in username", -1);
		if (s[i] < 0x20 || s[i] == 0x7f)
			return (*why = "control character in username", -1);
		if (s[i] == '/')
			return (*why = "'/' in username", -1);
		if (s[i] == ':')
			return (*why = "':' in username", -1);
		if (s[i] >= 0x80 && (n = utf8_len(s + i, len - i)) == 0)
			return (*why = "invalid UTF-8 or C1 control in username", -1);
		memcpy(out + i, s + i, n);
	}
	out[len] = '\0';
	return (0);
}

/* mw_shard_path_normalize - check and tidy an absolute path */

int
mw_shard_path_normalize(const char *path, char *out, const char **why)
{
	const char *cp = path;
	size_t	o = 0, n;

	if (*cp != '/')
		return (*why = "not an absolute path", -1);
	while (*cp != '\0') {
		while (*cp == '/')
			cp++;
		if (*cp == '\0')
			break;
		for (n = 0; cp[n] != '\0' && cp[n] != '/'; n++) {
			unsigned char ch = (unsigned char) cp[n];

			if (ch < 0x20 || ch == 0x7f || ch == ' ')
				return (*why = "control character or space in path", -1);
			if (ch == ':')
				return (*why = "':' in path", -1);
		}
		if ((n == 1 && cp[0] == '.') || (n == 2 && cp[0] == '.' && cp[1] == '.'))
			return (*why = "'.' or '..' component in path", -1);
		if (o + 1 + n >= MW_SHARD_PATH_MAX)
			return (*why = "path too long", -1);
		out[o++] = '/';
		memcpy(out + o, cp, n);
		o += n;
		cp += n;
	}
	if (o == 0)
		return (*why = "path is the root directory", -1);
	out[o] = '\0';
	return (0);
}

/* parse_uint - decimal number in [lo, hi], whole string */

static int
parse_uint(const char *str, unsigned lo, unsigned hi, unsigned *val)
{
	unsigned long long v;
	const char *end;

	if (mw_parse_ull(str, &v, &end) < 0 || *end != '\0' || v < lo || v > hi)
		return (-1);
	*val = (unsigned) v;
	return (0);
}

/* parse_layout - hash:LEVELS:WIDTH or letters:N */

static int
parse_layout(MW_SHARD *shard, const char *layout, char *err)
{
	char	buf[64];
	char   *colon;
	unsigned a, b;

	if (layout == NULL || *layout == '\0')
		layout = MW_SHARD_DEFAULT_LAYOUT;
	if (strcmp(layout, "hash") == 0)
		layout = MW_SHARD_DEFAULT_LAYOUT;
	if (strcmp(layout, "letters") == 0)
		layout = "letters:3";
	if (mw_strlcpy(buf, layout, sizeof(buf)) >= sizeof(buf))
		return (shard_err(err, "layout too long"), -1);
	if (strncmp(buf, "letters:", 8) == 0) {
		if (parse_uint(buf + 8, 1, MW_SHARD_LETTERS_MAX, &a) < 0) {
			shard_err(err, "layout \"%s\": N in letters:N must be 1 to %d",
				  buf, MW_SHARD_LETTERS_MAX);
			return (-1);
		}
		shard->letters = (int) a;
		return (0);
	}
	if (strncmp(buf, "hash:", 5) == 0 && (colon = strchr(buf + 5, ':')) != NULL) {
		*colon = '\0';
		if (parse_uint(buf + 5, 1, 16, &a) == 0
		    && parse_uint(colon + 1, 1, 16, &b) == 0 && a * b <= 16) {
			shard->levels = (int) a;
			shard->width = (int) b;
			return (0);
		}
		*colon = ':';
		shard_err(err, "layout \"%s\": LEVELS and WIDTH must be at least 1 "
			  "and LEVELS*WIDTH at most 16", buf);
		return (-1);
	}
	shard_err(err, "layout \"%s\": expected hash:LEVELS:WIDTH or letters:N", buf);
	return (-1);
}

/* valid_name - volume name syntax */

static int
valid_name(const char *name)
{
	const char *cp;

	if (*name == '\0' || *name == '.' || strlen(name) > MW_SHARD_NAME_MAX)
		return (0);
	for (cp = name; *cp != '\0'; cp++)
		if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')
		      || (*cp >= '0' && *cp <= '9') || *cp == '.' || *cp == '_'
		      || *cp == '-'))
			return (0);
	return (1);
}

/* path_inside - dir is inside (or equal to, if allowed) root */

static int
path_inside(const char *dir, const char *root, int equal_ok)
{
	size_t	len = strlen(root);

	return (strncmp(dir, root, len) == 0
		&& (dir[len] == '/' || (equal_ok && dir[len] == '\0')));
}

/* parse_volume - one NAME=PATH[:WEIGHT] token */

static int
parse_volume(MW_SHARD *shard, char *tok, char *err)
{
	MW_SHARD_VOLUME *vol = shard->volumes + shard->count;
	char   *eq, *colon;
	const char *why;
	int	i;

	if ((eq = strchr(tok, '=')) == NULL || eq[1] == '\0') {
		shard_err(err, "volume \"%.64s\": expected NAME=PATH[:WEIGHT]", tok);
		return (-1);
	}
	*eq = '\0';
	if (!valid_name(tok)) {
		shard_err(err, "volume name \"%.64s\": use 1-64 letters, digits, "
			  "'.', '_', '-' (not starting with '.')", tok);
		return (-1);
	}
	mw_strlcpy(vol->name, tok, sizeof(vol->name));
	vol->weight = 1;
	if ((colon = strrchr(eq + 1, ':')) != NULL) {
		*colon = '\0';
		if (parse_uint(colon + 1, 0, MW_SHARD_WEIGHT_MAX, &vol->weight) < 0) {
			shard_err(err, "volume %s: weight \"%.32s\" is not a number "
				  "from 0 to %d", vol->name, colon + 1, MW_SHARD_WEIGHT_MAX);
			return (-1);
		}
	}
	if (mw_shard_path_normalize(eq + 1, vol->path, &why) < 0) {
		shard_err(err, "volume %s: path \"%.128s\": %s", vol->name, eq + 1, why);
		return (-1);
	}
	for (i = 0; i < shard->count; i++) {
		const MW_SHARD_VOLUME *old = shard->volumes + i;

		if (strcmp(old->name, vol->name) == 0) {
			shard_err(err, "volume %s is defined twice", vol->name);
			return (-1);
		}
		if (path_inside(vol->path, old->path, 1)
		    || path_inside(old->path, vol->path, 1)) {
			shard_err(err, "volumes %s and %s overlap (%.128s, %.128s)",
				  old->name, vol->name, old->path, vol->path);
			return (-1);
		}
	}
	vol->name_hash = mw_shard_hash(vol->name, strlen(vol->name));
	vol->path_len = strlen(vol->path);
	shard->count++;
	return (0);
}

/* count_words - the number of words in s, separated by bytes of sep */

static int
count_words(const char *s, const char *sep)
{
	int	n = 0;

	for (s += strspn(s, sep); *s != '\0'; s += strspn(s, sep)) {
		n++;
		s += strcspn(s, sep);
	}
	return (n);
}

/* shard_group - group the volumes of weight > 0 by weight */

static int
shard_group(MW_SHARD *shard)
{
	MW_SHARD_GROUP *g;
	int	i, j, n = 0;

	if ((shard->groups = calloc(shard->count, sizeof(*shard->groups))) == NULL
	    || (shard->members = calloc(shard->count, sizeof(*shard->members))) == NULL)
		return (-1);
	for (i = 0; i < shard->count; i++) {
		if (shard->volumes[i].weight == 0)
			continue;
		for (j = 0; j < shard->group_count; j++)
			if (shard->groups[j].weight == shard->volumes[i].weight)
				break;
		if (j == shard->group_count)
			shard->groups[shard->group_count++].weight = shard->volumes[i].weight;
	}
	for (g = shard->groups; g < shard->groups + shard->group_count; g++) {
		g->first = n;
		for (i = 0; i < shard->count; i++)
			if (shard->volumes[i].weight == g->weight)
				shard->members[n++] = i;
		g->count = n - g->first;
	}
	return (0);
}

/* mw_shard_create - parse the volume list and the layout */

#define SHARD_VOLUME_SEP	" \t\r\n,"

MW_SHARD *
mw_shard_create(const char *volumes, const char *layout, char *err)
{
	MW_SHARD *shard;
	char   *copy = NULL, *tok, *save;
	int	i, hashed = 0, words;

	/*
	 * The Dovecot plugin parses the list at every session start: size
	 * the table to the list (a volume entry is over 1 KB), not to
	 * MW_SHARD_VOLUMES_MAX, whose zeroing cost more than the rest of
	 * the placement.
	 */
	if (volumes == NULL)
		volumes = "";
	words = count_words(volumes, SHARD_VOLUME_SEP);
	if ((shard = calloc(1, sizeof(*shard))) == NULL) {
		shard_err(err, "out of memory");
		return (NULL);
	}
	if (parse_layout(shard, layout, err) < 0)
		goto bad;
	if (words > MW_SHARD_VOLUMES_MAX) {
		shard_err(err, "more than %d volumes", MW_SHARD_VOLUMES_MAX);
		goto bad;
	}
	/* parse_volume() sets every field: no need to zero over 1 KB each */
	if ((shard->volumes = malloc((words > 0 ? words : 1)
				     * sizeof(*shard->volumes))) == NULL
	    || (copy = strdup(volumes)) == NULL) {
		shard_err(err, "out of memory");
		goto bad;
	}
	for (tok = strtok_r(copy, SHARD_VOLUME_SEP, &save); tok != NULL;
	     tok = strtok_r(NULL, SHARD_VOLUME_SEP, &save)) {
		if (parse_volume(shard, tok, err) < 0)
			goto bad;
	}
	if (shard->count == 0) {
		shard_err(err, "no volumes configured (NAME=PATH[:WEIGHT] ...)");
		goto bad;
	}
	for (i = 0; i < shard->count; i++)
		hashed += shard->volumes[i].weight > 0;
	if (hashed == 0) {
		shard_err(err, "no volume has a weight above 0");
		goto bad;
	}
	if (shard_group(shard) < 0) {
		shard_err(err, "out of memory");
		goto bad;
	}
	free(copy);
	return (shard);

bad:
	free(copy);
	mw_shard_free(shard);
	return (NULL);
}

/* mw_shard_create_set - a rendezvous set of names and weights, no paths */

MW_SHARD *
mw_shard_create_set(const char *const *names, const unsigned *weights,
		            int count, char *err)
{
	MW_SHARD *shard;
	MW_SHARD_VOLUME *vol;
	int	i, j, hashed = 0;

	if (count <= 0 || count > MW_SHARD_VOLUMES_MAX) {
		shard_err(err, "%d members: expected 1 to %d", count, MW_SHARD_VOLUMES_MAX);
		return (NULL);
	}
	if ((shard = calloc(1, sizeof(*shard))) == NULL
	    || (shard->volumes = calloc(count, sizeof(*shard->volumes))) == NULL) {
		shard_err(err, "out of memory");
		mw_shard_free(shard);
		return (NULL);
	}
	shard->levels = 2, shard->width = 2;	/* unused: no directories */
	for (i = 0; i < count; i++) {
		vol = shard->volumes + i;
		if (!valid_name(names[i])) {
			shard_err(err, "name \"%.64s\": use 1-64 letters, digits, "
				  "'.', '_', '-' (not starting with '.')", names[i]);
			goto bad;
		}
		if (weights[i] > MW_SHARD_WEIGHT_MAX) {
			shard_err(err, "%s: weight %u is above %d", names[i], weights[i],
				  MW_SHARD_WEIGHT_MAX);
			goto bad;
		}
		for (j = 0; j < i; j++)
			if (strcmp(shard->volumes[j].name, names[i]) == 0) {
				shard_err(err, "%s is defined twice", names[i]);
				goto bad;
			}
		mw_strlcpy(vol->name, names[i], sizeof(vol->name));
		vol->weight = weights[i];
		vol->name_hash = mw_shard_hash(vol->name, strlen(vol->name));
		hashed += vol->weight > 0;
		shard->count++;
	}
	if (hashed == 0) {
		shard_err(err, "no member has a weight above 0");
		goto bad;
	}
	if (shard_group(shard) < 0) {
		shard_err(err, "out of memory");
		goto bad;
	}
	return (shard);

bad:
	mw_shard_free(shard);
	return (NULL);
}

/* mw_shard_free - release a parsed configuration */

void
mw_shard_free(MW_SHARD *shard)
{
	if (shard != NULL) {
		free(shard->volumes);
		free(shard->groups);
		free(shard->members);
		free(shard);
	}
}

/* shard_key - a volume's rendezvous key: -ln(u) / weight */

static double
shard_key(uint64_t x, unsigned weight)
{
	return (-log(((double) x + 0.5) / 9007199254740992.0) / weight);
}

/* pick_hashed - weighted rendezvous over volumes of weight > 0, not skipped */

static int
pick_hashed(const MW_SHARD *shard, uint64_t user_hash, const unsigned char *skip)
{
	uint64_t x[MW_SHARD_VOLUMES_MAX], top, low;
	const MW_SHARD_GROUP *g;
	const int *m;
	double	key, best_key = 0;
	int	i, j, best = -1;

	/*
	 * The rule (mailshard(7)): the smallest k = -ln(u) / w, on an
	 * exact tie the volume listed first, where u grows with x = s >> 11.
	 * Inside a group of equal weight, k falls as x grows, so only the
	 * group's largest x and the x close to it can have the smallest k
	 * or tie with it: one log() per distinct weight instead of one per
	 * volume.  "Close" is within top / 2^32 + 2: below that, u is
	 * smaller by a factor of at least 1 - 2^-32, so the exact k is
	 * larger by more than 2^-38 of itself (k <= 37.5 / w), far beyond
	 * the few units in the last place (2^-52) that log() and the
	 * division may err by, and the computed k is strictly larger too.
	 * The candidates' keys are computed exactly as the rule says and
	 * compared by (k, position in the list), so the result is the
	 * rule's, bit for bit, ties included.
	 */
	for (i = 0; i < shard->group_count; i++) {
		g = shard->groups + i;
		m = shard->members + g->first;
		top = 0;
		for (j = 0; j < g->count; j++) {
			if (skip != NULL && skip[m[j]])
				continue;
			x[j] = mw_fmix64(user_hash ^ shard->volumes[m[j]].name_hash) >> 11;
			if (x[j] > top)
				top = x[j];
		}
		low = top - (top >> 32);
		low = low > 2 ? low - 2 : 0;
		for (j = 0; j < g->count; j++) {
			if ((skip != NULL && skip[m[j]]) || x[j] < low)
				continue;
			key = shard_key(x[j], g->weight);
			if (best < 0 || key < best_key || (key == best_key && m[j] < best)) {
				best = m[j];
				best_key = key;
			}
		}
	}
	return (best);
}

/* mw_shard_pick - the hashed volume of a normalised name */

int
mw_shard_pick(const MW_SHARD *shard, const char *norm_user)
{
	return (pick_hashed(shard, mw_shard_hash(norm_user, strlen(norm_user)), NULL));
}

/* mw_shard_pick_skip - the same, over the volumes not marked in skip */

int
mw_shard_pick_skip(const MW_SHARD *shard, const char *norm_user,
		           const unsigned char *skip)
{
	return (pick_hashed(shard, mw_shard_hash(norm_user, strlen(norm_user)), skip));
}

/* mw_shard_find - a volume by name */

int
mw_shard_find(const MW_SHARD *shard, const char *name)
{
	int	i;

	for (i = 0; i < shard->count; i++)
		if (strcmp(shard->volumes[i].name, name) == 0)
			return (i);
	return (-1);
}

/* shard_subdirs - the layout's directories, each followed by "/" */

static size_t
shard_subdirs(const MW_SHARD *shard, const char *user, uint64_t hash,
	              char *out)
{
	static const char hexdigits[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *) user;
	int	i, j, o = 0, digit = 0;

	if (shard->letters > 0) {
		for (i = 0; i < shard->letters; i++) {
			out[o++] = ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
			    ? (char) *s : '_';
			out[o++] = '/';
			if (*s != '\0') {
				/* next character: skip UTF-8 continuation bytes */
				for (s++; (*s & 0xc0) == 0x80; s++)
					 /* void */ ;
			}
		}
	} else {
		/* hex digits of hash, most significant first */
		for (i = 0; i < shard->levels; i++) {
			for (j = 0; j < shard->width; j++, digit++)
				out[o++] = hexdigits[(hash >> (60 - 4 * digit)) & 0xf];
			out[o++] = '/';
		}
	}
	out[o] = '\0';
	return ((size_t) o);
}

/* mw_shard_place - where a user's directory is, and why */

int
mw_shard_place(const MW_SHARD *shard, const char *user, const char *pin_volume,
	               const char *pin_path, MW_SHARD_PLACE *place, char *err)
{
	char	shown[64];
	char	subdirs[2 * 16 + 1];
	const char *why;
	uint64_t hash;
	size_t	vlen, slen, ulen;
	int	i;

	ulen = strlen(user);
	if (mw_shard_normalize(user, ulen, place->user, &why) < 0) {
		mw_printable(shown, sizeof(shown), user, ulen);
		shard_err(err, "username \"%s\" refused: %s", shown, why);
		return (-1);
	}

	/*
	 * A whole-path pin: the directory itself, inside some volume.
	 */
	if (pin_path != NULL && *pin_path != '\0') {
		if (mw_shard_path_normalize(pin_path, place->path, &why) < 0) {
			mw_printable(shown, sizeof(shown), pin_path, strlen(pin_path));
			shard_err(err, "mailshard_path \"%s\": %s", shown, why);
			return (-1);
		}
		for (i = 0; i < shard->count; i++)
			if (path_inside(place->path, shard->volumes[i].path, 0))
				break;
		if (i == shard->count) {
			shard_err(err, "mailshard_path %.128s is not inside a "
				  "configured volume", place->path);
			return (-1);
		}
		place->volume = shard->volumes + i;
		place->reason = MW_SHARD_BY_PIN_PATH;
		return (0);
	}

	/*
	 * A volume pin keeps the hashed directories; otherwise hash.
	 */
	hash = mw_shard_hash(place->user, ulen);
	if (pin_volume != NULL && *pin_volume != '\0') {
		if ((i = mw_shard_find(shard, pin_volume)) < 0) {
			mw_printable(shown, sizeof(shown), pin_volume, strlen(pin_volume));
			shard_err(err, "mailshard_volume \"%s\" is not a configured volume",
				  shown);
			return (-1);
		}
		place->reason = MW_SHARD_BY_PIN_VOLUME;
	} else {
		i = pick_hashed(shard, hash, NULL);
		place->reason = MW_SHARD_BY_HASH;
	}
	place->volume = shard->volumes + i;
	slen = shard_subdirs(shard, place->user, hash, subdirs);
	vlen = place->volume->path_len;
	if (vlen + 1 + slen + ulen >= sizeof(place->path)) {
		shard_err(err, "path of user %s on volume %s is too long",
			  place->user, place->volume->name);
		return (-1);
	}
	memcpy(place->path, place->volume->path, vlen);
	place->path[vlen] = '/';
	memcpy(place->path + vlen + 1, subdirs, slen);
	memcpy(place->path + vlen + 1 + slen, place->user, ulen + 1);
	return (0);
}

/* location_err - a refused mailshard_maildir or mailshard_index_dir */

static int
location_err(char *err, const char *name, const char *value, const char *why)
{
	char	shown[64];

	mw_printable(shown, sizeof(shown), value, strlen(value));
	shard_err(err, "invalid %s '%s': %s", name, shown, why);
	return (-1);
}

/* loc_append - append len bytes of s to buf (size bytes, *used in use) */

static int
loc_append(char *buf, size_t size, size_t *used, const char *s, size_t len)
{
	if (len >= size - *used)
		return (-1);
	memcpy(buf + *used, s, len);
	*used += len;
	buf[*used] = '\0';
	return (0);
}

/* mw_shard_location - home, maildir, index dir and 2.3 mail location */

int
mw_shard_location(const MW_SHARD_PLACE *place, const char *maildir,
		          const char *index_dir, MW_SHARD_LOC *loc, char *err)
{
	char	raw[MW_SHARD_PATH_MAX + 1];
	char	norm[MW_SHARD_PATH_MAX];
	const char *why;
	size_t	plen, mlen, ilen, n;

	/*
	 * Built with memcpy, not snprintf(): this runs once per login and
	 * delivery in Dovecot's auth process, where snprintf() was a third
	 * of the placement's instructions (bench/dovecot-callgrind.py).
	 */
	/* the maildir: one or more components below the user's directory */
	if (maildir == NULL || *maildir == '\0')
		maildir = MW_SHARD_DEFAULT_MAILDIR;
	if (*maildir == '/')
		return (location_err(err, "mailshard_maildir", maildir,
				     "must be relative to the user's directory"));
	raw[0] = '/';
	if (mw_strlcpy(raw + 1, maildir, sizeof(raw) - 1) >= sizeof(raw) - 1)
		return (location_err(err, "mailshard_maildir", maildir, "path too long"));
	if (mw_shard_path_normalize(raw, norm, &why) < 0)
		return (location_err(err, "mailshard_maildir", maildir, why));
	plen = strlen(place->path);
	memcpy(loc->home, place->path, plen + 1);
	/* norm is "/MAILDIR": it brings its own separator */
	mlen = 0;
	if (loc_append(loc->mail_path, sizeof(loc->mail_path), &mlen,
		       place->path, plen) < 0 ||
	    loc_append(loc->mail_path, sizeof(loc->mail_path), &mlen,
		       norm, strlen(norm)) < 0)
		return (shard_err(err, "maildir of user %s is too long", place->user), -1);

	/* index files elsewhere: INDEX_DIR/VOLUME/<path in volume> */
	loc->index_path[0] = '\0';
	ilen = 0;
	if (index_dir != NULL && *index_dir != '\0') {
		if (mw_shard_path_normalize(index_dir, norm, &why) < 0)
			return (location_err(err, "mailshard_index_dir", index_dir, why));
		n = place->volume->path_len;
		if (loc_append(loc->index_path, sizeof(loc->index_path), &ilen,
			       norm, strlen(norm)) < 0 ||
		    loc_append(loc->index_path, sizeof(loc->index_path), &ilen,
			       "/", 1) < 0 ||
		    loc_append(loc->index_path, sizeof(loc->index_path), &ilen,
			       place->volume->name, strlen(place->volume->name)) < 0 ||
		    loc_append(loc->index_path, sizeof(loc->index_path), &ilen,
			       place->path + n, plen - n) < 0)
			return (shard_err(err, "index path of user %s is too long",
					  place->user), -1);
	}
	n = 0;
	if (loc_append(loc->location, sizeof(loc->location), &n,
		       "maildir:", 8) < 0 ||
	    loc_append(loc->location, sizeof(loc->location), &n,
		       loc->mail_path, mlen) < 0 ||
	    (ilen > 0 &&
	     (loc_append(loc->location, sizeof(loc->location), &n,
			 ":INDEX=", 7) < 0 ||
	      loc_append(loc->location, sizeof(loc->location), &n,
			 loc->index_path, ilen) < 0)))
		return (shard_err(err, "mail location of user %s is too long",
				  place->user), -1);
	return (0);
}

/* mw_shard_volume_ready - the volume's marker file is there */

int
mw_shard_volume_ready(const char *name, const char *path, char *err)
{
	char	marker[MW_SHARD_PATH_MAX + sizeof(MW_SHARD_MARKER) + 1];
	struct stat st;

	snprintf(marker, sizeof(marker), "%s/%s", path, MW_SHARD_MARKER);
	if (stat(marker, &st) < 0) {
		shard_err(err, "volume %s not mounted or not initialised: "
			  "stat(%.160s) failed: %s", name, marker, strerror(errno));
		return (-1);
	}
	return (0);
}

/* mw_shard_reason_name - "hash", "pin-volume", "pin-path" */

const char *
mw_shard_reason_name(int reason)
{
	switch (reason) {
	case MW_SHARD_BY_PIN_VOLUME:
		return ("pin-volume");
	case MW_SHARD_BY_PIN_PATH:
		return ("pin-path");
	default:
		return ("hash");
	}
}
