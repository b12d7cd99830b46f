/* test_shard - mw_shard placement: hash vectors, hostile names, bad specs,
   layouts, pins, and the statistics of issue 6 over 1,000,000 names */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "mw_siphash.h"
#include "mw_shard.h"

#define NAMES	1000000

/* siphash_vectors - the reference vectors of the SipHash paper */

static void
test_siphash_vectors(void **state)
{
	unsigned char in[64];
	int	i;

	for (i = 0; i < 64; i++)
		in[i] = (unsigned char) i;
	/* vectors[0], [7], [8], [15] of the reference vectors.h, little-endian */
	assert_true(mw_shard_hash(in, 0) == UINT64_C(0x726fdb47dd0e0e31));
	assert_true(mw_shard_hash(in, 7) == UINT64_C(0xab0200f58b01d137));
	assert_true(mw_shard_hash(in, 8) == UINT64_C(0x93f5f5799a932462));
	assert_true(mw_shard_hash(in, 15) == UINT64_C(0xa129ca6149be45e5));
	/* the finalizer is a bijection that fixes 0 */
	assert_true(mw_fmix64(0) == 0);
	assert_true(mw_fmix64(1) != 1);
}

/* normalize - lowercasing and what is refused, with the reason */

static void
test_normalize(void **state)
{
	static const struct {
		const char *in;
		size_t	len;
		const char *out;	/* NULL: refused */
		const char *why;	/* substring of the reason */
	} cases[] = {
		{"Juan", 4, "juan", 0},
		{"JUAN.Perez@Example.COM", 22, "juan.perez@example.com", 0},
		{"\xc3\x89ric", 5, "\xc3\x89ric", 0},	/* Éric: kept, not folded */
		{"a..b", 4, "a..b", 0},			/* one component, harmless */
		{"", 0, 0, "empty"},
		{".", 1, 0, "'.'"},
		{"..", 2, 0, "'.'"},
		{".hidden", 7, 0, "'.'"},
		{"../etc", 6, 0, "'.'"},
		{"a/b", 3, 0, "'/'"},
		{"a/../../etc", 11, 0, "'/'"},
		{"a\0b", 3, 0, "NUL"},
		{"a\nb", 3, 0, "control"},
		{"a\x1b[31m", 6, 0, "control"},
		{"a\x7f", 2, 0, "control"},
		{"a b", 3, 0, "space"},
		{"a:b", 3, 0, "':'"},
		{"\xc2\x85x", 3, 0, "UTF-8"},		/* C1 NEL */
		{"\xc0\xaf", 2, 0, "UTF-8"},		/* overlong '/' */
		{"\xed\xa0\x80", 3, 0, "UTF-8"},	/* surrogate */
		{"\xff", 1, 0, "UTF-8"},
		{"ab\xc3", 3, 0, "UTF-8"},		/* truncated */
	};
	char	out[MW_SHARD_USER_MAX + 1];
	char	longname[MW_SHARD_USER_MAX + 2];
	const char *why;
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		int	ret = mw_shard_normalize(cases[i].in, cases[i].len, out, &why);

		if (cases[i].out != NULL) {
			assert_int_equal(ret, 0);
			assert_string_equal(out, cases[i].out);
		} else {
			assert_int_equal(ret, -1);
			assert_non_null(why);
			if (strstr(why, cases[i].why) == NULL)
				fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, why,
					 cases[i].why);
		}
	}
	memset(longname, 'a', sizeof(longname));
	assert_int_equal(mw_shard_normalize(longname, MW_SHARD_USER_MAX, out, &why), 0);
	assert_int_equal(mw_shard_normalize(longname, MW_SHARD_USER_MAX + 1, out, &why), -1);
	assert_non_null(strstr(why, "longer"));
}

/* path_normalize - absolute, tidy, no dot components */

static void
test_path_normalize(void **state)
{
	char	out[MW_SHARD_PATH_MAX];
	const char *why;

	assert_int_equal(mw_shard_path_normalize("//srv//mail/v1/", out, &why), 0);
	assert_string_equal(out, "/srv/mail/v1");
	assert_int_equal(mw_shard_path_normalize("/srv/a..b/.x", out, &why), 0);
	assert_string_equal(out, "/srv/a..b/.x");
	assert_int_equal(mw_shard_path_normalize("srv/mail", out, &why), -1);
	assert_int_equal(mw_shard_path_normalize("/srv/mail/../etc", out, &why), -1);
	assert_int_equal(mw_shard_path_normalize("/srv/./mail", out, &why), -1);
	assert_int_equal(mw_shard_path_normalize("/srv/ma\nil", out, &why), -1);
	assert_int_equal(mw_shard_path_normalize("/", out, &why), -1);
	assert_int_equal(mw_shard_path_normalize("///", out, &why), -1);
	assert_int_equal(mw_shard_path_normalize("", out, &why), -1);
}

/* bad_specs - each bad volume list or layout is refused with a reason */

static void
test_bad_specs(void **state)
{
	static const struct {
		const char *volumes;
		const char *layout;
		const char *why;
	} cases[] = {
		{"", 0, "no volumes"},
		{"   ", 0, "no volumes"},
		{"v1", 0, "NAME=PATH"},
		{"v1=", 0, "NAME=PATH"},
		{"=/srv/v1", 0, "volume name"},
		{"v/1=/srv/v1", 0, "volume name"},
		{".v=/srv/v1", 0, "volume name"},
		{"v1=srv/v1", 0, "absolute"},
		{"v1=/srv/../etc", 0, "'..'"},
		{"v1=/", 0, "root"},
		{"v1=/srv/v1:x", 0, "weight"},
		{"v1=/srv/v1:-1", 0, "weight"},
		{"v1=/srv/v1:1000001", 0, "weight"},
		{"v1=/srv/v1:", 0, "weight"},
		{"v1=/srv/v1 v1=/srv/v2", 0, "twice"},
		{"v1=/srv/v1 v2=/srv/v1/", 0, "overlap"},
		{"v1=/srv/mail v2=/srv/mail/v2", 0, "overlap"},
		{"legacy=/srv/legacy:0", 0, "weight above 0"},
		{"v1=/srv/v1", "hash:0:2", "LEVELS"},
		{"v1=/srv/v1", "hash:3:6", "LEVELS"},
		{"v1=/srv/v1", "hash:2", "expected"},
		{"v1=/srv/v1", "hash:2:x", "LEVELS"},
		{"v1=/srv/v1", "letters:0", "letters:N"},
		{"v1=/srv/v1", "letters:9", "letters:N"},
		{"v1=/srv/v1", "md5", "expected"},
	};
	char	err[MW_SHARD_ERR_MAX];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (mw_shard_create(cases[i].volumes, cases[i].layout, err) != NULL)
			fail_msg("case %zu (%s | %s) accepted", i, cases[i].volumes,
				 cases[i].layout ? cases[i].layout : "-");
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, cases[i].why);
	}
}

/* good_spec - volumes, weights, separators */

static void
test_good_spec(void **state)
{
	char	err[MW_SHARD_ERR_MAX];
	MW_SHARD *s;

	s = mw_shard_create("v1=/srv/mail/v1 v2=/srv/mail/v2:2,\tlegacy=/srv/legacy:0",
			    NULL, err);
	assert_non_null(s);
	assert_int_equal(s->count, 3);
	assert_string_equal(s->volumes[1].name, "v2");
	assert_string_equal(s->volumes[1].path, "/srv/mail/v2");
	assert_int_equal(s->volumes[1].weight, 2);
	assert_int_equal(s->volumes[2].weight, 0);
	assert_int_equal(s->levels, 2);
	assert_int_equal(s->width, 2);
	assert_int_equal(mw_shard_find(s, "legacy"), 2);
	assert_int_equal(mw_shard_find(s, "v3"), -1);
	mw_shard_free(s);
}

/* volume_count - the table fits the list: 256 volumes, not 257 */

static void
test_volume_count(void **state)
{
	char	err[MW_SHARD_ERR_MAX];
	char	spec[MW_SHARD_VOLUMES_MAX * 24 + 32];
	size_t	len = 0;
	MW_SHARD *s;
	int	i;

	for (i = 0; i < MW_SHARD_VOLUMES_MAX; i++)
		len += (size_t) snprintf(spec + len, sizeof(spec) - len,
					 ",, v%d=/srv/v%d", i, i);
	s = mw_shard_create(spec, NULL, err);
	assert_non_null(s);
	assert_int_equal(s->count, MW_SHARD_VOLUMES_MAX);
	assert_string_equal(s->volumes[MW_SHARD_VOLUMES_MAX - 1].path, "/srv/v255");
	mw_shard_free(s);
	snprintf(spec + len, sizeof(spec) - len, " last=/srv/last ");
	err[0] = '\0';
	assert_null(mw_shard_create(spec, NULL, err));
	assert_non_null(strstr(err, "more than 256 volumes"));
	s = mw_shard_create(" \t v1=/srv/v1 ,", NULL, err);
	assert_non_null(s);
	assert_int_equal(s->count, 1);
	mw_shard_free(s);
}

/* place_hash - shape of hashed paths, stable across calls and case */

static void
test_place_hash(void **state)
{
	char	err[MW_SHARD_ERR_MAX];
	char	want[MW_SHARD_PATH_MAX];
	char	hex[17];
	MW_SHARD_PLACE p, q;
	MW_SHARD *s;

	s = mw_shard_create("v1=/srv/mail/v1 v2=/srv/mail/v2", "hash:2:2", err);
	assert_non_null(s);
	assert_int_equal(mw_shard_place(s, "Juan", NULL, NULL, &p, err), 0);
	assert_int_equal(mw_shard_place(s, "juan", "", "", &q, err), 0);
	assert_string_equal(p.path, q.path);
	assert_string_equal(p.user, "juan");
	assert_int_equal(p.reason, MW_SHARD_BY_HASH);
	snprintf(hex, sizeof(hex), "%016llx",
		 (unsigned long long) mw_shard_hash("juan", 4));
	snprintf(want, sizeof(want), "/srv/mail/%s/%.2s/%.2s/juan", p.volume->name,
		 hex, hex + 2);
	assert_string_equal(p.path, want);
	mw_shard_free(s);

	s = mw_shard_create("v1=/srv/mail/v1", "hash:3:1", err);
	assert_non_null(s);
	assert_int_equal(mw_shard_place(s, "juan", NULL, NULL, &p, err), 0);
	snprintf(want, sizeof(want), "/srv/mail/v1/%c/%c/%c/juan", hex[0], hex[1], hex[2]);
	assert_string_equal(p.path, want);
	mw_shard_free(s);
}

/* place_letters - the classic layout, with odd characters made safe */

static void
test_place_letters(void **state)
{
	static const char *const cases[][2] = {
		{"juan", "/srv/v1/j/u/a/juan"},
		{"Jo", "/srv/v1/j/o/_/jo"},
		{"a..b", "/srv/v1/a/_/_/a..b"},
		{"\xc3\xa9ric", "/srv/v1/_/r/i/\xc3\xa9ric"},
		{"x-~", "/srv/v1/x/_/_/x-~"},
	};
	char	err[MW_SHARD_ERR_MAX];
	MW_SHARD_PLACE p;
	MW_SHARD *s;
	size_t	i;

	s = mw_shard_create("v1=/srv/v1", "letters:3", err);
	assert_non_null(s);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(mw_shard_place(s, cases[i][0], NULL, NULL, &p, err), 0);
		assert_string_equal(p.path, cases[i][1]);
	}
	mw_shard_free(s);
}

/* place_pins - volume pins keep the subdirs, path pins must be inside */

static void
test_place_pins(void **state)
{
	char	err[MW_SHARD_ERR_MAX];
	MW_SHARD_PLACE h, p;
	MW_SHARD *s;

	s = mw_shard_create("v1=/srv/mail/v1 v2=/srv/mail/v2 legacy=/srv/legacy:0",
			    NULL, err);
	assert_non_null(s);
	assert_int_equal(mw_shard_place(s, "maria", NULL, NULL, &h, err), 0);
	assert_int_equal(mw_shard_place(s, "maria", "legacy", NULL, &p, err), 0);
	assert_int_equal(p.reason, MW_SHARD_BY_PIN_VOLUME);
	assert_string_equal(p.volume->name, "legacy");
	/* same hashed subdirectories, other volume */
	assert_string_equal(p.path + strlen("/srv/legacy"),
			    h.path + strlen(h.volume->path));

	assert_int_equal(mw_shard_place(s, "maria", "v1", "/srv/legacy//m/a/maria/",
					&p, err), 0);
	assert_int_equal(p.reason, MW_SHARD_BY_PIN_PATH);
	assert_string_equal(p.path, "/srv/legacy/m/a/maria");
	assert_string_equal(p.volume->name, "legacy");

	assert_int_equal(mw_shard_place(s, "maria", NULL, "/srv/legacy", &p, err), -1);
	assert_non_null(strstr(err, "not inside"));
	assert_int_equal(mw_shard_place(s, "maria", NULL, "/srv/legacyX/m", &p, err), -1);
	assert_int_equal(mw_shard_place(s, "maria", NULL, "/etc/cron.d", &p, err), -1);
	assert_int_equal(mw_shard_place(s, "maria", NULL, "/srv/legacy/../../etc",
					&p, err), -1);
	assert_non_null(strstr(err, "'..'"));
	assert_int_equal(mw_shard_place(s, "maria", NULL, "legacy/m", &p, err), -1);
	assert_int_equal(mw_shard_place(s, "maria", "v9", NULL, &p, err), -1);
	assert_non_null(strstr(err, "not a configured volume"));
	assert_int_equal(mw_shard_place(s, "../x", NULL, NULL, &p, err), -1);
	assert_non_null(strstr(err, "refused"));
	assert_int_equal(mw_shard_place(s, "a\x1b", NULL, NULL, &p, err), -1);
	assert_null(strchr(err, '\x1b'));	/* echoed safely */
	mw_shard_free(s);
}

/* hostile_names_stay_inside - every accepted name maps below its volume */

static void
test_hostile_names_stay_inside(void **state)
{
	static const char *const names[] = {
		"..", "../..", "a/../..", "~root", "%2e%2e", "a..", "..a", "-rf",
		"*", "?", "$HOME", "`id`", "a\\..\\b", "\xe2\x88\x95" "etc",	/* U+2215 */
		"con", "x@y", "A@B.C",
	};
	const char *layouts[] = {"hash:2:2", "letters:3", "hash:8:2"};
	char	err[MW_SHARD_ERR_MAX];
	MW_SHARD_PLACE p;
	MW_SHARD *s;
	size_t	i, l;

	for (l = 0; l < 3; l++) {
		s = mw_shard_create("v1=/srv/v1", layouts[l], err);
		assert_non_null(s);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (mw_shard_place(s, names[i], NULL, NULL, &p, err) < 0)
				continue;
			const char *why;
			char	norm[MW_SHARD_PATH_MAX];

			/* no dot components, below the volume, ends in the name */
			assert_int_equal(mw_shard_path_normalize(p.path, norm, &why), 0);
			assert_string_equal(norm, p.path);
			assert_memory_equal(p.path, "/srv/v1/", 8);
			assert_string_equal(strrchr(p.path, '/') + 1, p.user);
		}
		mw_shard_free(s);
	}
}

/* synth_name - deterministic, name-like usernames (for the letters skew) */

static void
synth_name(char *buf, size_t len, unsigned i)
{
	static const char *const first[] = {
		"maria", "juan", "jose", "ana", "carlos", "laura", "david", "sara",
		"pedro", "lucia", "john", "mary", "james", "linda", "robert", "emma",
		"ahmed", "fatima", "wei", "li", "olga", "ivan", "kenji", "yuki",
	};
	static const char *const last[] = {
		"garcia", "smith", "lopez", "martin", "wang", "kim", "silva",
		"muller", "rossi", "dubois", "nowak", "sato", "khan", "perez",
	};

	snprintf(buf, len, "%s.%s%u", first[i % 24], last[(i / 24) % 14], i / 336);
}

/* test_balance - fullest directory vs the mean at 1,000,000 names */

static void
test_balance(void **state)
{
	char	err[MW_SHARD_ERR_MAX];
	char	name[64];
	MW_SHARD_PLACE p;
	MW_SHARD *s, *l, *w;
	static unsigned top[256], leaf[65536], letter[37], vol[4], wvol[3];
	unsigned i, max_top = 0, max_leaf = 0, max_letter = 0, max_vol = 0;
	double	mean_top = NAMES / 256.0, mean_leaf = NAMES / 65536.0;
	double	chi_top = 0, chi_leaf = 0;

	s = mw_shard_create("v1=/a v2=/b v3=/c v4=/d", "hash:2:2", err);
	l = mw_shard_create("v1=/a", "letters:1", err);
	w = mw_shard_create("v1=/a v2=/b:2 legacy=/c:0", "hash:2:2", err);
	assert_non_null(s);
	assert_non_null(l);
	assert_non_null(w);
	for (i = 0; i < NAMES; i++) {
		synth_name(name, sizeof(name), i);
		assert_int_equal(mw_shard_place(s, name, NULL, NULL, &p, err), 0);
		unsigned t = (unsigned) strtoul(p.path + 3, NULL, 16);
		unsigned u = (unsigned) strtoul(p.path + 6, NULL, 16);

		top[t]++;
		leaf[t * 256 + u]++;
		vol[p.volume - s->volumes]++;
		assert_int_equal(mw_shard_place(l, name, NULL, NULL, &p, err), 0);
		letter[p.path[3] == '_' ? 36 : p.path[3] >= 'a' ? p.path[3] - 'a'
		       : 26 + p.path[3] - '0']++;
		wvol[mw_shard_pick(w, p.user)]++;
	}
	for (i = 0; i < 256; i++) {
		max_top = top[i] > max_top ? top[i] : max_top;
		chi_top += (top[i] - mean_top) * (top[i] - mean_top) / mean_top;
	}
	for (i = 0; i < 65536; i++) {
		max_leaf = leaf[i] > max_leaf ? leaf[i] : max_leaf;
		chi_leaf += (leaf[i] - mean_leaf) * (leaf[i] - mean_leaf) / mean_leaf;
	}
	for (i = 0; i < 37; i++)
		max_letter = letter[i] > max_letter ? letter[i] : max_letter;
	for (i = 0; i < 4; i++)
		max_vol = vol[i] > max_vol ? vol[i] : max_vol;

	printf("# hash:2:2 volumes (4): fullest %u, mean %.0f, ratio %.4f\n",
	       max_vol, NAMES / 4.0, max_vol / (NAMES / 4.0));
	printf("# hash:2:2 level 1 (256 dirs): fullest %u, mean %.1f, ratio %.4f, "
	       "chi2 %.0f (df 255)\n", max_top, mean_top, max_top / mean_top, chi_top);
	printf("# hash:2:2 leaves (65536 dirs): fullest %u, mean %.1f, ratio %.2f, "
	       "chi2 %.0f (df 65535)\n", max_leaf, mean_leaf, max_leaf / mean_leaf,
	       chi_leaf);
	printf("# letters:1 (contrast): fullest %u, mean over 37 dirs %.0f, ratio %.2f\n",
	       max_letter, NAMES / 37.0, max_letter / (NAMES / 37.0));
	printf("# weights v1:1 v2:2 legacy:0 -> %u %u %u (v2 share %.4f, want 0.6667)\n",
	       wvol[0], wvol[1], wvol[2], wvol[1] / (double) NAMES);

	/*
	 * Volumes (mean 250,000) are where 1.05x is meaningful: Poisson
	 * noise there is 0.2%.  A directory level of 256 (mean 3906) has
	 * noise of 1.6% per directory, and the fullest of 256 is expected
	 * near mean + 3.3 sigma (1.053x) even for a perfect hash, so there
	 * we check against that bound (mean + 5 sigma) and a chi-square
	 * test; at 65536 leaves (mean 15) only chi-square means anything.
	 * The literal criterion of issue 6 (fullest of the 256 <= 1.05x)
	 * holds for these fixed names (1.048x) and is asserted too; another
	 * set of synthetic names could miss it by chance alone.
	 */
	assert_true(max_vol <= 1.05 * NAMES / 4.0);
	assert_true(max_top <= mean_top + 5 * sqrt(mean_top));
	assert_true(max_top <= 1.05 * mean_top);
	assert_true(fabs(chi_top - 255) <= 5 * sqrt(2 * 255.0));
	assert_true(fabs(chi_leaf - 65535) <= 5 * sqrt(2 * 65535.0));
	/* the contrast: first letters are far from uniform */
	assert_true(max_letter >= 2 * NAMES / 37.0);
	assert_int_equal(wvol[2], 0);
	assert_true(fabs(wvol[1] / (double) NAMES - 2.0 / 3) <= 0.01);
	mw_shard_free(s);
	mw_shard_free(l);
	mw_shard_free(w);
}

/* test_balance_hash11 - 16 top directories: the 1.05x bound applies */

static void
test_balance_hash11(void **state)
{
	char	err[MW_SHARD_ERR_MAX];
	char	name[64];
	MW_SHARD_PLACE p;
	MW_SHARD *s;
	unsigned dirs[16] = {0}, i, max = 0;

	s = mw_shard_create("v1=/a", "hash:1:1", err);
	assert_non_null(s);
	for (i = 0; i < NAMES; i++) {
		synth_name(name, sizeof(name), i);
		assert_int_equal(mw_shard_place(s, name, NULL, NULL, &p, err), 0);
		dirs[strtoul(p.path + 3, NULL, 16)]++;
	}
	for (i = 0; i < 16; i++)
		max = dirs[i] > max ? dirs[i] : max;
	printf("# hash:1:1 (16 dirs): fullest %u, mean %.0f, ratio %.4f\n",
	       max, NAMES / 16.0, max / (NAMES / 16.0));
	assert_true(max <= 1.05 * NAMES / 16.0);
	mw_shard_free(s);
}

/* movement - adding a volume moves only its share, only onto it */

static void
check_movement(const char *before, const char *after, int n, unsigned new_weight,
	               unsigned total_after)
{
	char	err[MW_SHARD_ERR_MAX];
	char	name[64];
	MW_SHARD *a, *b;
	unsigned i, moved = 0, between_old = 0;
	double	want = (double) new_weight / total_after;

	a = mw_shard_create(before, NULL, err);
	b = mw_shard_create(after, NULL, err);
	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < NAMES; i++) {
		synth_name(name, sizeof(name), i);
		int	x = mw_shard_pick(a, name), y = mw_shard_pick(b, name);

		if (strcmp(a->volumes[x].name, b->volumes[y].name) != 0) {
			moved++;
			if (y != n)	/* the new volume is listed last */
				between_old++;
		}
	}
	printf("# %d -> %d volumes: moved %u of %u (%.4f, fair share %.4f), "
	       "between old volumes %u\n", n, n + 1, moved, NAMES,
	       moved / (double) NAMES, want, between_old);
	assert_int_equal(between_old, 0);
	assert_true(moved / (double) NAMES <= want + 0.01);
	mw_shard_free(a);
	mw_shard_free(b);
}

static void
test_movement(void **state)
{
	check_movement("v1=/a", "v1=/a v2=/b", 1, 1, 2);
	check_movement("v1=/a v2=/b", "v1=/a v2=/b v3=/c", 2, 1, 3);
	check_movement("v1=/a v2=/b v3=/c v4=/d", "v1=/a v2=/b v3=/c v4=/d v5=/e",
		       4, 1, 5);
	check_movement("v1=/a v2=/b v3=/c v4=/d v5=/e v6=/f v7=/g v8=/h",
		       "v1=/a v2=/b v3=/c v4=/d v5=/e v6=/f v7=/g v8=/h v9=/i",
		       8, 1, 9);
	check_movement("v1=/a v2=/b:2 legacy=/l:0", "v1=/a v2=/b:2 legacy=/l:0 v3=/c",
		       3, 1, 4);
}

/* ref_pick - mailshard(7) literally: one log() per volume */

static int
ref_pick(const MW_SHARD *shard, const char *norm_user)
{
	uint64_t h = mw_shard_hash(norm_user, strlen(norm_user));
	double	key, best_key = 0;
	int	i, best = -1;

	for (i = 0; i < shard->count; i++) {
		const MW_SHARD_VOLUME *vol = shard->volumes + i;

		if (vol->weight == 0)
			continue;
		key = -log(((double) (mw_fmix64(h ^ vol->name_hash) >> 11) + 0.5)
			   / 9007199254740992.0) / vol->weight;
		if (best < 0 || key < best_key) {
			best = i;
			best_key = key;
		}
	}
	return (best);
}

/* rnd - xorshift64*, deterministic */

static uint64_t
rnd(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (*state * UINT64_C(0x2545f4914f6cdd1d));
}

/* test_pick_reference - the grouped pick agrees with one log() per volume */

static void
test_pick_reference(void **state)
{
	static const char *const mixes[] = {
		"v1=/a",
		"v1=/a v2=/b v3=/c v4=/d",
		"v1=/a v2=/b:2 v3=/c v4=/d",
		"a=/a:3 b=/b:3 c=/c:3 d=/d:3 e=/e:3",
		"v1=/a:1 v2=/b:2 v3=/c:3 v4=/d:4 v5=/e:5",
		"old=/o:0 v1=/a:7 v2=/b:7 v3=/c:1 v4=/d:1000000 v5=/e:7",
		"legacy=/l:0 v1=/a v2=/b:2",
	};
	char	err[MW_SHARD_ERR_MAX], spec[16 * 24], name[48];
	MW_SHARD *s;
	uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
	unsigned i, m, n, checked = 0;

	/* fixed mixes: equal, unequal and zero weights */
	for (m = 0; m < sizeof(mixes) / sizeof(mixes[0]); m++) {
		s = mw_shard_create(mixes[m], NULL, err);
		assert_non_null(s);
		for (i = 0; i < 200000; i++) {
			snprintf(name, sizeof(name), "u%llx@d%u",
				 (unsigned long long) rnd(&seed), i % 97);
			if (mw_shard_pick(s, name) != ref_pick(s, name))
				fail_msg("%s: %s picks %d, reference %d", mixes[m], name,
					 mw_shard_pick(s, name), ref_pick(s, name));
			checked++;
		}
		mw_shard_free(s);
	}
	/* random mixes of 1 to 16 volumes with weights from a small set */
	for (m = 0; m < 300; m++) {
		size_t	o = 0;
		unsigned nvol = 1 + (unsigned) (rnd(&seed) % 16);
		static const unsigned weights[] = {0, 1, 1, 1, 2, 2, 3, 10, 999999};

		for (n = 0; n < nvol; n++)
			o += (size_t) snprintf(spec + o, sizeof(spec) - o, "v%u=/v%u:%u ", n, n,
					       n == 0 ? 1 : weights[rnd(&seed) % 9]);
		s = mw_shard_create(spec, NULL, err);
		assert_non_null(s);
		for (i = 0; i < 2000; i++) {
			snprintf(name, sizeof(name), "r%llx", (unsigned long long) rnd(&seed));
			if (mw_shard_pick(s, name) != ref_pick(s, name))
				fail_msg("%s: %s picks %d, reference %d", spec, name,
					 mw_shard_pick(s, name), ref_pick(s, name));
			checked++;
		}
		mw_shard_free(s);
	}
	printf("# grouped pick = per-volume reference for %u placements\n", checked);
}

/* fmix64_inverse - the inverse bijection, to craft near-ties below */

static uint64_t
inverse_mul(uint64_t c)
{
	uint64_t inv = c;
	int	i;

	for (i = 0; i < 6; i++)
		inv *= 2 - c * inv;
	return (inv);
}

static uint64_t
fmix64_inverse(uint64_t x)
{
	x ^= x >> 33;
	x *= inverse_mul(UINT64_C(0xc4ceb9fe1a85ec53));
	x ^= x >> 33;
	x *= inverse_mul(UINT64_C(0xff51afd7ed558ccd));
	x ^= x >> 33;
	return (x);
}

/* test_pick_ties - equal and nearly equal u: the rule's tie-break */

static void
test_pick_ties(void **state)
{
	static const char *const specs[] = {
		"v1=/a v2=/b v3=/c", "v1=/a:3 v2=/b:3 v3=/c:3",
		"v1=/a:7 v2=/b:7 v3=/c:2",
	};
	static const int64_t deltas[] = {0, 1, -1, 2, -2, 3, 5, -7, 64, -4096};
	char	err[MW_SHARD_ERR_MAX], name[32];
	uint64_t h, s1;
	unsigned i, d, k, ties = 0;
	MW_SHARD *s;

	assert_true(fmix64_inverse(mw_fmix64(UINT64_C(0x0123456789abcdef)))
		    == UINT64_C(0x0123456789abcdef));
	for (k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		s = mw_shard_create(specs[k], NULL, err);
		assert_non_null(s);
		for (i = 0; i < 3000; i++) {
			snprintf(name, sizeof(name), "tie%u", i);
			h = mw_shard_hash(name, strlen(name));
			for (d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++) {
				/* make volume 3's x (or v2's) land right next to v1's */
				s1 = mw_fmix64(h ^ s->volumes[0].name_hash);
				if (i % 2 == 0)		/* large x: u rounds to even */
					s1 |= UINT64_C(1) << 63;
				s->volumes[0].name_hash = h ^ fmix64_inverse(s1);
				s->volumes[2 - i % 2].name_hash =
				    h ^ fmix64_inverse(s1 + (uint64_t) (deltas[d] * 2048));
				if (mw_shard_pick(s, name) != ref_pick(s, name))
					fail_msg("%s: %s delta %lld: pick %d, reference %d",
						 specs[k], name, (long long) deltas[d],
						 mw_shard_pick(s, name), ref_pick(s, name));
				ties += mw_shard_pick(s, name) == 0 && deltas[d] <= 0;
			}
		}
		mw_shard_free(s);
	}
	printf("# crafted near-ties agree with the reference (%u won by the first)\n",
	       ties);
}

/* ref_pick_skip - ref_pick over the volumes not skipped */

static int
ref_pick_skip(const MW_SHARD *shard, const char *norm_user,
	              const unsigned char *skip)
{
	uint64_t h = mw_shard_hash(norm_user, strlen(norm_user));
	double	key, best_key = 0;
	int	i, best = -1;

	for (i = 0; i < shard->count; i++) {
		const MW_SHARD_VOLUME *vol = shard->volumes + i;

		if (vol->weight == 0 || skip[i])
			continue;
		key = -log(((double) (mw_fmix64(h ^ vol->name_hash) >> 11) + 0.5)
			   / 9007199254740992.0) / vol->weight;
		if (best < 0 || key < best_key) {
			best = i;
			best_key = key;
		}
	}
	return (best);
}

/* test_pick_skip - a skipped member's users go to their next choice, and
   nobody else moves; the set of names alone picks as the volumes do */

static void
test_pick_skip(void **state)
{
	static const char *const names[] = {"b1", "b2", "b3", "b4"};
	static const unsigned weights[] = {1, 2, 1, 0};
	unsigned char skip[4];
	char	err[MW_SHARD_ERR_MAX], name[32];
	MW_SHARD *vols, *set;
	int	i, k, p, moved[4] = {0};

	vols = mw_shard_create("b1=/a b2=/b:2 b3=/c b4=/d:0", NULL, err);
	set = mw_shard_create_set(names, weights, 4, err);
	assert_non_null(vols);
	assert_non_null(set);
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		p = mw_shard_pick(vols, name);
		assert_int_equal(mw_shard_pick_skip(vols, name, NULL), p);
		assert_int_equal(mw_shard_pick(set, name), p);
		for (k = 0; k < 3; k++) {
			memset(skip, 0, sizeof(skip));
			skip[k] = 1;
			if (p != k) {
				assert_int_equal(mw_shard_pick_skip(set, name, skip), p);
			} else {
				assert_int_equal(mw_shard_pick_skip(set, name, skip),
						 ref_pick_skip(set, name, skip));
				moved[k]++;
			}
		}
		memset(skip, 1, sizeof(skip));
		assert_int_equal(mw_shard_pick_skip(set, name, skip), -1);
		skip[3] = 0;		/* weight 0: never picked */
		assert_int_equal(mw_shard_pick_skip(set, name, skip), -1);
	}
	printf("# skipping b1, b2, b3 moves %d, %d, %d of 100000 users\n",
	       moved[0], moved[1], moved[2]);
	mw_shard_free(vols);
	mw_shard_free(set);
}

/* test_create_set - bad sets are refused with the reason */

static void
test_create_set(void **state)
{
	static const char *const dup[] = {"a", "a"};
	static const char *const bad[] = {"a", "b/c"};
	static const char *const ok2[] = {"a", "b"};
	static const unsigned w11[] = {1, 1}, w00[] = {0, 0}, wbig[] = {1, 1000001};
	char	err[MW_SHARD_ERR_MAX];

	assert_null(mw_shard_create_set(dup, w11, 2, err));
	assert_non_null(strstr(err, "twice"));
	assert_null(mw_shard_create_set(bad, w11, 2, err));
	assert_non_null(strstr(err, "b/c"));
	assert_null(mw_shard_create_set(ok2, w00, 2, err));
	assert_non_null(strstr(err, "weight above 0"));
	assert_null(mw_shard_create_set(ok2, wbig, 2, err));
	assert_non_null(strstr(err, "1000001"));
	assert_null(mw_shard_create_set(ok2, w11, 0, err));
	mw_shard_free(mw_shard_create_set(ok2, w11, 2, err));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_path_normalize),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_good_spec),
		cmocka_unit_test(test_volume_count),
		cmocka_unit_test(test_place_hash),
		cmocka_unit_test(test_place_letters),
		cmocka_unit_test(test_place_pins),
		cmocka_unit_test(test_hostile_names_stay_inside),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_balance_hash11),
		cmocka_unit_test(test_movement),
		cmocka_unit_test(test_pick_reference),
		cmocka_unit_test(test_pick_ties),
		cmocka_unit_test(test_pick_skip),
		cmocka_unit_test(test_create_set),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
