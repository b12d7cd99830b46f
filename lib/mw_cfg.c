/*++
/* NAME
/*	mw_cfg 3
/* SUMMARY
/*	table-driven "KeyName Value" configuration files
/* SYNOPSIS
/*	#include "mw_cfg.h"
/*
/*	int	mw_cfg_load(table, conf, path, flags, err, errlen)
/*	const struct mw_cfg_entry *table;
/*	void	*conf;
/*	const char *path;
/*	int	flags;
/*	char	*err;
/*	size_t	errlen;
/*
/*	int	mw_cfg_parse(table, conf, fp, path, flags, err, errlen)
/*	FILE	*fp;
/*
/*	int	mw_cfg_defaults(table, conf, err, errlen)
/*
/*	int	mw_cfg_set(entry, conf, value, err, errlen)
/*	const struct mw_cfg_entry *entry;
/*	const char *value;
/*
/*	void	mw_cfg_free(table, conf)
/*
/*	int	mw_cfg_check(table, conf_size, path, out)
/*	size_t	conf_size;
/*	FILE	*out;
/*
/*	const struct mw_cfg_entry *mw_cfg_lookup(table, name)
/* DESCRIPTION
/*	Each program describes its configuration with one table of
/*	struct mw_cfg_entry, ended by MW_CFG_END: the key name, its type,
/*	its default (written as in the file) and the offset of the typed
/*	member in the program's own configuration structure.
/*
/*	File format, as clamav-milter and OpenDKIM: one "KeyName Value"
/*	per line, name and value separated by white space.  Blank lines
/*	and lines whose first non-blank character is "#" are ignored; a
/*	"#" preceded by white space starts a comment that runs to the end
/*	of the line.  Key names match without regard to case.  Value types:
/* .IP BOOL
/*	yes, no, true, false, on, off, 1, 0 (any case).
/* .IP STRING
/*	the rest of the line; one pair of surrounding double quotes is
/*	removed.
/* .IP INT
/*	a decimal integer, optionally signed, within the entry's range.
/* .IP SIZE
/*	a byte count with an optional suffix K, M or G (powers of 1024).
/* .IP TIME
/*	seconds, with an optional suffix s, m, h or d.
/* .IP LIST
/*	items separated by commas and/or white space; a repeated LIST key
/*	adds to the list.
/* .PP
/*	Any other repeated key is an error, as are an unknown key (unless
/*	flags has MW_CFG_UNKNOWN_WARN, used at reload: then a warning is
/*	logged and the key ignored), a missing or malformed value, a value
/*	outside the entry's range or one that overflows, a line longer
/*	than MW_CFG_LINE_MAX and a NUL byte.
/*
/*	mw_cfg_load() fills conf with the defaults, then reads path.
/*	mw_cfg_parse() reads an open stream (path names it in errors).
/*	mw_cfg_defaults() sets every entry to its default.  mw_cfg_set()
/*	parses one value for one entry, replacing its current value (a
/*	LIST value is appended).  mw_cfg_free() releases the strings and
/*	lists in conf (after success or failure alike).
/*
/*	mw_cfg_check() is the "-t" entry point: it loads path into a
/*	scratch structure of conf_size bytes, prints "path: OK" or the
/*	error to out, frees everything and returns the exit status
/*	(0 or 1).
/*
/*	mw_cfg_lookup() finds an entry by name (case-insensitive).
/* DIAGNOSTICS
/*	The functions that can fail return 0 on success and -1 on error,
/*	with one line in err: "path:line: reason" for file errors, or the
/*	reason alone from mw_cfg_set().
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Utility library. */

#include "mw_cfg.h"
#include "mw_msg.h"
#include "mw_str.h"

#define CFG_MEMBER(conf, e, type) ((type *) ((char *) (conf) + (e)->offset))

/* cfg_range - check a value against the entry's bounds, if it has any */

static int
cfg_range(const struct mw_cfg_entry *e, long long val, const char *value,
	  char *err, size_t errlen)
{
	if (e->min < e->max && (val < e->min || val > e->max))
		return (mw_err(err, errlen, "value \"%s\" out of range [%lld..%lld]",
				 value, e->min, e->max));
	return (0);
}

/* cfg_scaled - parse number plus unit suffix; shared by SIZE and TIME */

static int
cfg_scaled(const struct mw_cfg_entry *e, const char *value, const char *units,
	   const unsigned long long *factors, const char *what,
	   unsigned long long *result, char *err, size_t errlen)
{
	unsigned long long val;
	unsigned long long factor = 1;
	const char *end;
	const char *unit;
	int	rc;

	rc = mw_parse_ull(value, &val, &end);
	if (rc == 0 && *end != '\0') {
		int	ch = (*end >= 'A' && *end <= 'Z') ? *end - 'A' + 'a' : *end;

		if (end[1] != '\0' || ch == '\0' || (unit = strchr(units, ch)) == NULL)
			rc = -1;
		else
			factor = factors[unit - units];
	}
	if (rc == -1)
		return (mw_err(err, errlen, "bad %s \"%s\" (expected a number with an optional unit, one of \"%s\")",
				 what, value, units));
	if (rc == -2 || val > ULLONG_MAX / factor || val * factor > (unsigned long long) LLONG_MAX)
		return (mw_err(err, errlen, "value \"%s\" is too large", value));
	val *= factor;
	if (cfg_range(e, (long long) val, value, err, errlen) < 0)
		return (-1);
	*result = val;
	return (0);
}

/* cfg_list_add - split a LIST value and append the items */

static int
cfg_list_add(struct mw_cfg_list *list, const char *value, char *err, size_t errlen)
{
	const char *cp = value;
	size_t	len;
	char  **items;

	for (;;) {
		cp += strspn(cp, ", \t");
		if (*cp == '\0')
			return (0);
		len = strcspn(cp, ", \t");
		if ((items = realloc(list->items, (list->n + 1) * sizeof(*items))) == NULL)
			return (mw_err(err, errlen, "out of memory"));
		list->items = items;
		if ((items[list->n] = strndup(cp, len)) == NULL)
			return (mw_err(err, errlen, "out of memory"));
		list->n++;
		cp += len;
	}
}

/* cfg_free_entry - release what one entry holds */

static void
cfg_free_entry(const struct mw_cfg_entry *e, void *conf)
{
	struct mw_cfg_list *list;
	char  **str;
	size_t	i;

	switch (e->type) {
	case MW_CFG_STRING:
		str = CFG_MEMBER(conf, e, char *);
		free(*str);
		*str = NULL;
		break;
	case MW_CFG_LIST:
		list = CFG_MEMBER(conf, e, struct mw_cfg_list);
		for (i = 0; i < list->n; i++)
			free(list->items[i]);
		free(list->items);
		list->items = NULL;
		list->n = 0;
		break;
	default:
		break;
	}
}

/* mw_cfg_set - parse and store one value */

int
mw_cfg_set(const struct mw_cfg_entry *e, void *conf, const char *value,
	   char *err, size_t errlen)
{
	static const unsigned long long size_factors[] = {1024ULL, 1024ULL * 1024, 1024ULL * 1024 * 1024};
	static const unsigned long long time_factors[] = {1, 60, 3600, 86400};
	unsigned long long val;
	long long sval;
	const char *end;
	char   *copy;
	size_t	len;
	int	neg;
	int	rc;

	switch (e->type) {
	case MW_CFG_BOOL:
		if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0
		    || strcasecmp(value, "on") == 0 || strcmp(value, "1") == 0)
			*CFG_MEMBER(conf, e, int) = 1;
		else if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0
		     || strcasecmp(value, "off") == 0 || strcmp(value, "0") == 0)
			*CFG_MEMBER(conf, e, int) = 0;
		else
			return (mw_err(err, errlen, "bad boolean \"%s\" (expected yes or no)", value));
		return (0);

	case MW_CFG_STRING:
		len = strlen(value);
		if (len >= 2 && value[0] == '"' && value[len - 1] == '"')
			copy = strndup(value + 1, len - 2);
		else
			copy = strdup(value);
		if (copy == NULL)
			return (mw_err(err, errlen, "out of memory"));
		cfg_free_entry(e, conf);
		*CFG_MEMBER(conf, e, char *) = copy;
		return (0);

	case MW_CFG_INT:
		neg = (*value == '-');
		rc = mw_parse_ull(value + (neg || *value == '+'), &val, &end);
		if (rc == -1 || (rc == 0 && *end != '\0'))
			return (mw_err(err, errlen, "bad integer \"%s\"", value));
		if (rc == -2 || val > (unsigned long long) LLONG_MAX + (neg ? 1 : 0))
			return (mw_err(err, errlen, "value \"%s\" is too large", value));
		sval = neg ? (long long) (0 - val) : (long long) val;
		if (cfg_range(e, sval, value, err, errlen) < 0)
			return (-1);
		*CFG_MEMBER(conf, e, long long) = sval;
		return (0);

	case MW_CFG_SIZE:
		return (cfg_scaled(e, value, "kmg", size_factors, "size",
				   CFG_MEMBER(conf, e, unsigned long long), err, errlen));

	case MW_CFG_TIME:
		return (cfg_scaled(e, value, "smhd", time_factors, "time",
				   CFG_MEMBER(conf, e, unsigned long long), err, errlen));

	case MW_CFG_LIST:
		return (cfg_list_add(CFG_MEMBER(conf, e, struct mw_cfg_list), value, err, errlen));
	}
	mw_panic("mw_cfg_set: entry \"%s\" has unknown type %d", e->name, (int) e->type);
}

/* mw_cfg_lookup - find an entry by name */

const struct mw_cfg_entry *
mw_cfg_lookup(const struct mw_cfg_entry *table, const char *name)
{
	for (; table->name != NULL; table++)
		if (strcasecmp(table->name, name) == 0)
			return (table);
	return (NULL);
}

/* mw_cfg_defaults - set every entry to its default */

int
mw_cfg_defaults(const struct mw_cfg_entry *table, void *conf, char *err, size_t errlen)
{
	const struct mw_cfg_entry *e;
	char	why[MW_CFG_ERR_MAX];

	for (e = table; e->name != NULL; e++) {
		cfg_free_entry(e, conf);
		if (e->def != NULL && mw_cfg_set(e, conf, e->def, why, sizeof(why)) < 0)
			return (mw_err(err, errlen, "default for %s: %s", e->name, why));
	}
	return (0);
}

/* cfg_split - split a line into key and value; strip comments */

static int
cfg_split(char *line, char **key, char **value)
{
	char   *cp;

	/* A '#' at the start or after white space begins a comment. */
	for (cp = line; *cp != '\0'; cp++)
		if (*cp == '#' && (cp == line || *(cp - 1) == ' ' || *(cp - 1) == '\t')) {
			*cp = '\0';
			break;
		}
	line = mw_trim(line);
	if (*line == '\0')
		return (0);
	*key = line;
	cp = line + strcspn(line, " \t");
	if (*cp != '\0')
		*cp++ = '\0';
	*value = mw_trim(cp);
	return (1);
}

/* cfg_name_ok - a key name is a letter followed by letters, digits, _ */

static int
cfg_name_ok(const char *name)
{
	const char *cp;

	if (!((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z')))
		return (0);
	for (cp = name + 1; *cp != '\0'; cp++)
		if (!((*cp >= 'A' && *cp <= 'Z') || (*cp >= 'a' && *cp <= 'z')
		      || (*cp >= '0' && *cp <= '9') || *cp == '_'))
			return (0);
	return (1);
}

/* mw_cfg_parse - read "KeyName Value" lines from a stream */

int
mw_cfg_parse(const struct mw_cfg_entry *table, void *conf, FILE *fp,
	     const char *path, int flags, char *err, size_t errlen)
{
	const struct mw_cfg_entry *e;
	char	why[MW_CFG_ERR_MAX];
	char	shown[64];
	char   *line = NULL;
	size_t	cap = 0;
	ssize_t	len;
	size_t	count;
	unsigned *seen;
	unsigned lineno = 0;
	char   *key;
	char   *value;
	int	rc = -1;

	for (count = 0; table[count].name != NULL; count++)
		 /* void */ ;
	if ((seen = calloc(count + 1, sizeof(*seen))) == NULL)
		return (mw_err(err, errlen, "%s: out of memory", path));

	errno = 0;
	while ((len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if ((size_t) len > MW_CFG_LINE_MAX) {
			mw_err(err, errlen, "%s:%u: line too long (over %d bytes)",
				 path, lineno, MW_CFG_LINE_MAX);
			goto out;
		}
		if (memchr(line, '\0', (size_t) len) != NULL) {
			mw_err(err, errlen, "%s:%u: line contains a NUL byte", path, lineno);
			goto out;
		}
		if (cfg_split(line, &key, &value) == 0)
			continue;
		if (!cfg_name_ok(key)) {
			mw_err(err, errlen, "%s:%u: bad parameter name \"%s\"", path, lineno,
				 mw_printable(shown, sizeof(shown), key, strlen(key)));
			goto out;
		}
		if ((e = mw_cfg_lookup(table, key)) == NULL) {
			if (flags & MW_CFG_UNKNOWN_WARN) {
				mw_warn("%s:%u: unknown parameter \"%s\", ignored", path, lineno,
					mw_printable(shown, sizeof(shown), key, strlen(key)));
				continue;
			}
			mw_err(err, errlen, "%s:%u: unknown parameter \"%s\"", path, lineno,
				 mw_printable(shown, sizeof(shown), key, strlen(key)));
			goto out;
		}
		if (*value == '\0') {
			mw_err(err, errlen, "%s:%u: parameter %s has no value", path, lineno, e->name);
			goto out;
		}
		if (seen[e - table] != 0 && e->type != MW_CFG_LIST) {
			mw_err(err, errlen, "%s:%u: duplicate parameter %s (first set on line %u)",
				 path, lineno, e->name, seen[e - table]);
			goto out;
		}
		/* The first LIST line in the file replaces the default list. */
		if (seen[e - table] == 0 && e->type == MW_CFG_LIST)
			cfg_free_entry(e, conf);
		if (mw_cfg_set(e, conf, value, why, sizeof(why)) < 0) {
			mw_err(err, errlen, "%s:%u: %s: %s", path, lineno, e->name, why);
			goto out;
		}
		seen[e - table] = lineno;
	}
	if (ferror(fp)) {
		mw_err(err, errlen, "%s: read error: %s", path, strerror(errno ? errno : EIO));
		goto out;
	}
	rc = 0;

out:
	free(line);
	free(seen);
	return (rc);
}

/* mw_cfg_load - defaults, then the file */

int
mw_cfg_load(const struct mw_cfg_entry *table, void *conf, const char *path,
	    int flags, char *err, size_t errlen)
{
	FILE   *fp;
	int	rc;

	if (mw_cfg_defaults(table, conf, err, errlen) < 0)
		return (-1);
	if ((fp = fopen(path, "r")) == NULL)
		return (mw_err(err, errlen, "%s: cannot open: %s", path, strerror(errno)));
	rc = mw_cfg_parse(table, conf, fp, path, flags, err, errlen);
	fclose(fp);
	return (rc);
}

/* mw_cfg_free - release strings and lists */

void
mw_cfg_free(const struct mw_cfg_entry *table, void *conf)
{
	for (; table->name != NULL; table++)
		cfg_free_entry(table, conf);
}

/* mw_cfg_check - the "-t" entry point: load, report, exit status */

int
mw_cfg_check(const struct mw_cfg_entry *table, size_t conf_size,
	     const char *path, FILE *out)
{
	char	err[MW_CFG_ERR_MAX];
	void   *conf;
	int	rc;

	if ((conf = calloc(1, conf_size)) == NULL) {
		fprintf(out, "%s: out of memory\n", path);
		return (1);
	}
	rc = mw_cfg_load(table, conf, path, 0, err, sizeof(err));
	if (rc == 0)
		fprintf(out, "%s: OK\n", path);
	else
		fprintf(out, "%s\n", err);
	mw_cfg_free(table, conf);
	free(conf);
	return (rc == 0 ? 0 : 1);
}
