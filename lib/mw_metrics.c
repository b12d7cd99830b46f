/*++
/* NAME
/*	mw_metrics 3
/* SUMMARY
/*	Prometheus counters, gauges and histograms; text exposition
/* SYNOPSIS
/*	#include "mw_metrics.h"
/*
/*	struct mw_metrics *mw_metrics_create(defs, ndefs, err, errlen)
/*	const struct mw_metric_def *defs;
/*	int	ndefs;
/*
/*	void	mw_metrics_free(m)
/*	struct mw_metrics *m;
/*
/*	void	mw_metrics_set_collector(m, fn, arg)
/*	mw_metrics_collect_fn fn;
/*	void	*arg;
/*
/*	void	mw_metrics_add(m, id, set, n)
/*	int	id;
/*	int	set;
/*	unsigned long long n;
/*
/*	void	mw_metrics_inc(m, id, set)
/*
/*	void	mw_metrics_observe(m, id, set, seconds)
/*	double	seconds;
/*
/*	void	mw_metrics_observe_since(m, id, set, t0)
/*	const struct timespec *t0;
/*
/*	void	mw_metrics_set(m, id, set, value)
/*	long long value;
/*
/*	long long mw_metrics_get(m, id, set)
/*
/*	int	mw_metrics_label(def, value1, value2)
/*	const struct mw_metric_def *def;
/*	const char *value1;
/*	const char *value2;
/*
/*	char	*mw_metrics_render(m, len)
/*	size_t	*len;
/*
/*	int	mw_metrics_listen_parse(spec, ep, err, errlen)
/*	const char *spec;
/*	struct mw_endpoint *ep;
/* DESCRIPTION
/*	A daemon describes its metrics once, in a table (defs): name,
/*	help, type, up to two labels whose values come from fixed lists
/*	(so a label can never carry an address, a login or a virus name),
/*	and for a histogram its bucket bounds in seconds.  id is the
/*	metric's index in that table; set is the label set's index:
/*	MW_METRICS_SET(i1, n2, i2) for value i1 of the first label and i2
/*	of the second (n2 values), i1 for one label, 0 for none.
/*
/*	Counters and histograms are kept in MW_METRICS_STRIPES copies;
/*	each thread adds to its own copy with a relaxed atomic add (no
/*	lock, no shared cache line between two threads unless more
/*	threads than stripes run), and the exposition sums the copies.
/*	So the mail path never waits for another worker or for a scrape.
/*	Gauges (and counters a collector reads from elsewhere) hold one
/*	value, stored with mw_metrics_set(); a counter's value is the sum
/*	of both.  A histogram's sum is kept in microseconds.
/*
/*	mw_metrics_add() adds n to a counter; mw_metrics_observe() counts
/*	one observation of a histogram (mw_metrics_observe_since(): the
/*	time since t0, CLOCK_MONOTONIC); mw_metrics_set() sets a gauge.
/*	Each does nothing when m is NULL (metrics off), or for an id or
/*	set out of range.  mw_metrics_get() reads one value (a histogram:
/*	its count).
/*
/*	mw_metrics_label() finds the set index of a pair of label values
/*	(value2 NULL for a metric with one label), or -1.
/*
/*	mw_metrics_render() runs the collector, then writes the text
/*	exposition format 0.0.4: for each metric "# HELP", "# TYPE", then
/*	one sample per label set (every set, zero included, so that
/*	rate() sees a series from its start); histograms as cumulative
/*	_bucket{le=".."} samples with +Inf, then _sum and _count.  The
/*	result is malloc()ed, NUL-terminated, its length in *len.
/*
/*	mw_metrics_listen_parse() reads the MetricsListen setting: a port
/*	("9100": 127.0.0.1, loopback only), inet:PORT (loopback too),
/*	inet:PORT@HOST or inet6:PORT@[ADDR] (the address the operator
/*	chose, e.g. 0.0.0.0 for every interface).  It returns 0, or -1
/*	with err set.
/* DIAGNOSTICS
/*	mw_metrics_create() returns NULL with err set for a bad table (a
/*	name that is not a Prometheus metric name, too many buckets, a
/*	label without values) or want of memory.  mw_metrics_render()
/*	returns NULL for want of memory.
/*--*/

/* System library. */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Utility library. */

#include "mw_endpoint.h"
#include "mw_metrics.h"
#include "mw_str.h"

struct mw_metrics {
	const struct mw_metric_def *defs;
	int	ndefs;
	int    *base;			/* first slot of each metric */
	int    *nsets;			/* label sets of each metric */
	int    *width;			/* slots per label set */
	size_t	stride;			/* slots per stripe, a cache line multiple */
	unsigned long long *stripes;	/* MW_METRICS_STRIPES x stride */
	long long *direct;		/* stride: gauges, collected counters */
	mw_metrics_collect_fn collect;
	void   *collect_arg;
};

static unsigned next_stripe;		/* stripes handed out; atomic */
static __thread int my_stripe = -1;	/* this thread's stripe */

/* metrics_nvalues - number of values in a NULL-terminated list */

static int
metrics_nvalues(const char *const *values)
{
	int	n = 0;

	while (values != NULL && values[n] != NULL)
		n++;
	return (n);
}

/* metrics_name_ok - [a-zA-Z_:][a-zA-Z0-9_:]* */

static int
metrics_name_ok(const char *name)
{
	const char *cp;

	if (name == NULL || *name == '\0' || (*name >= '0' && *name <= '9'))
		return (0);
	for (cp = name; *cp != '\0'; cp++)
		if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')
		      || (*cp >= '0' && *cp <= '9') || *cp == '_' || *cp == ':'))
			return (0);
	return (1);
}

/* mw_metrics_create - lay out the slots of a table of metrics */

struct mw_metrics *
mw_metrics_create(const struct mw_metric_def *defs, int ndefs, char *err, size_t errlen)
{
	const struct mw_metric_def *d;
	struct mw_metrics *m;
	size_t	slots = 0;
	int	n1;
	int	n2;
	int	i;
	int	j;

	if ((m = calloc(1, sizeof(*m))) == NULL
	    || (m->base = calloc((size_t) ndefs + 1, sizeof(int))) == NULL
	    || (m->nsets = calloc((size_t) ndefs + 1, sizeof(int))) == NULL
	    || (m->width = calloc((size_t) ndefs + 1, sizeof(int))) == NULL) {
		mw_err(err, errlen, "out of memory");
		goto fail;
	}
	m->defs = defs;
	m->ndefs = ndefs;
	for (i = 0; i < ndefs; i++) {
		d = defs + i;
		if (!metrics_name_ok(d->name) || d->help == NULL
		    || d->type < MW_METRIC_COUNTER || d->type > MW_METRIC_HISTOGRAM) {
			mw_err(err, errlen, "metric %d (%s): bad name, help or type", i,
			       d->name ? d->name : "null");
			goto fail;
		}
		n1 = d->label1 ? metrics_nvalues(d->values1) : 1;
		n2 = d->label2 ? metrics_nvalues(d->values2) : 1;
		if (n1 == 0 || n2 == 0 || (d->label1 && !metrics_name_ok(d->label1))
		    || (d->label2 && (!d->label1 || !metrics_name_ok(d->label2)))) {
			mw_err(err, errlen, "metric %s: a label without a name or values", d->name);
			goto fail;
		}
		if (d->type == MW_METRIC_HISTOGRAM) {
			if (d->nbuckets < 1 || d->nbuckets > MW_METRICS_BUCKETS_MAX || d->buckets == NULL) {
				mw_err(err, errlen, "metric %s: 1 to %d buckets", d->name,
				       MW_METRICS_BUCKETS_MAX);
				goto fail;
			}
			for (j = 1; j < d->nbuckets; j++)
				if (!(d->buckets[j] > d->buckets[j - 1])) {
					mw_err(err, errlen, "metric %s: buckets not ascending", d->name);
					goto fail;
				}
			/* the buckets, +Inf, the sum */
			m->width[i] = d->nbuckets + 2;
		} else {
			m->width[i] = 1;
		}
		m->nsets[i] = n1 * n2;
		m->base[i] = (int) slots;
		slots += (size_t) m->nsets[i] * (size_t) m->width[i];
	}
	/* 8 slots of 8 bytes: one cache line; stripes never share one */
	m->stride = (slots + 7) & ~(size_t) 7;
	if (m->stride == 0)
		m->stride = 8;
	if ((m->stripes = calloc(MW_METRICS_STRIPES * m->stride, sizeof(*m->stripes))) == NULL
	    || (m->direct = calloc(m->stride, sizeof(*m->direct))) == NULL) {
		mw_err(err, errlen, "out of memory");
		goto fail;
	}
	return (m);

fail:
	mw_metrics_free(m);
	return (NULL);
}

/* mw_metrics_free - release */

void
mw_metrics_free(struct mw_metrics *m)
{
	if (m == NULL)
		return;
	free(m->base);
	free(m->nsets);
	free(m->width);
	free(m->stripes);
	free(m->direct);
	free(m);
}

/* mw_metrics_set_collector - the function run before each exposition */

void
mw_metrics_set_collector(struct mw_metrics *m, mw_metrics_collect_fn fn, void *arg)
{
	if (m == NULL)
		return;
	m->collect = fn;
	m->collect_arg = arg;
}

/* metrics_stripe - this thread's copy of the counters */

static unsigned long long *
metrics_stripe(struct mw_metrics *m)
{
	if (my_stripe < 0)
		my_stripe = (int) (__atomic_fetch_add(&next_stripe, 1, __ATOMIC_RELAXED)
				   % MW_METRICS_STRIPES);
	return (m->stripes + (size_t) my_stripe * m->stride);
}

/* metrics_slot - first slot of a label set, or -1 */

static int
metrics_slot(const struct mw_metrics *m, int id, int set)
{
	if (m == NULL || id < 0 || id >= m->ndefs || set < 0 || set >= m->nsets[id])
		return (-1);
	return (m->base[id] + set * m->width[id]);
}

/* mw_metrics_add - add to a counter */

void
mw_metrics_add(struct mw_metrics *m, int id, int set, unsigned long long n)
{
	int	slot;

	if ((slot = metrics_slot(m, id, set)) < 0 || m->defs[id].type != MW_METRIC_COUNTER)
		return;
	__atomic_fetch_add(metrics_stripe(m) + slot, n, __ATOMIC_RELAXED);
}

/* mw_metrics_observe - one observation, in seconds */

void
mw_metrics_observe(struct mw_metrics *m, int id, int set, double seconds)
{
	const struct mw_metric_def *d;
	unsigned long long *s;
	int	slot;
	int	b;

	if ((slot = metrics_slot(m, id, set)) < 0 || m->defs[id].type != MW_METRIC_HISTOGRAM)
		return;
	d = m->defs + id;
	if (!(seconds >= 0))			/* NaN too */
		seconds = 0;
	for (b = 0; b < d->nbuckets && seconds > d->buckets[b]; b++)
		 /* void */ ;
	s = metrics_stripe(m) + slot;
	__atomic_fetch_add(s + b, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(s + d->nbuckets + 1, (unsigned long long) (seconds * 1e6 + 0.5),
			   __ATOMIC_RELAXED);
}

/* mw_metrics_observe_since - one observation: the time since t0 */

void
mw_metrics_observe_since(struct mw_metrics *m, int id, int set, const struct timespec *t0)
{
	struct timespec now;

	if (m == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	mw_metrics_observe(m, id, set, (double) (now.tv_sec - t0->tv_sec)
			   + (double) (now.tv_nsec - t0->tv_nsec) / 1e9);
}

/* mw_metrics_set - set a gauge (or a counter read from elsewhere) */

void
mw_metrics_set(struct mw_metrics *m, int id, int set, long long value)
{
	int	slot;

	if ((slot = metrics_slot(m, id, set)) < 0 || m->defs[id].type == MW_METRIC_HISTOGRAM)
		return;
	__atomic_store_n(m->direct + slot, value, __ATOMIC_RELAXED);
}

/* metrics_sum - one slot over every stripe */

static unsigned long long
metrics_sum(const struct mw_metrics *m, int slot)
{
	unsigned long long sum = 0;
	int	i;

	for (i = 0; i < MW_METRICS_STRIPES; i++)
		sum += __atomic_load_n(m->stripes + (size_t) i * m->stride + slot, __ATOMIC_RELAXED);
	return (sum);
}

/* mw_metrics_get - a value: counter, gauge, histogram count */

long long
mw_metrics_get(struct mw_metrics *m, int id, int set)
{
	const struct mw_metric_def *d;
	unsigned long long n = 0;
	int	slot;
	int	b;

	if ((slot = metrics_slot(m, id, set)) < 0)
		return (0);
	d = m->defs + id;
	if (d->type == MW_METRIC_GAUGE)
		return (__atomic_load_n(m->direct + slot, __ATOMIC_RELAXED));
	if (d->type == MW_METRIC_COUNTER)
		return ((long long) (metrics_sum(m, slot)
				     + (unsigned long long) __atomic_load_n(m->direct + slot,
								       __ATOMIC_RELAXED)));
	for (b = 0; b <= d->nbuckets; b++)
		n += metrics_sum(m, slot + b);
	return ((long long) n);
}

/* mw_metrics_label - the set index of label values, or -1 */

int
mw_metrics_label(const struct mw_metric_def *d, const char *v1, const char *v2)
{
	int	i1;
	int	i2 = 0;
	int	n2 = 1;

	if (d->label1 == NULL)
		return (v1 == NULL ? 0 : -1);
	for (i1 = 0; d->values1[i1] != NULL && strcmp(d->values1[i1], v1 ? v1 : "") != 0; i1++)
		 /* void */ ;
	if (d->values1[i1] == NULL)
		return (-1);
	if (d->label2 != NULL) {
		n2 = metrics_nvalues(d->values2);
		for (i2 = 0; d->values2[i2] != NULL && strcmp(d->values2[i2], v2 ? v2 : "") != 0; i2++)
			 /* void */ ;
		if (d->values2[i2] == NULL)
			return (-1);
	} else if (v2 != NULL) {
		return (-1);
	}
	return (MW_METRICS_SET(i1, n2, i2));
}

 /*
  * The output buffer: grows; a failed allocation sticks.
  */
struct metrics_out {
	char   *buf;
	size_t	len;
	size_t	cap;
	int	failed;
};

/* out_printf - append formatted text */

static void __attribute__((format(printf, 2, 3)))
out_printf(struct metrics_out *o, const char *fmt,...)
{
	va_list	ap;
	size_t	cap;
	char   *nb;
	int	n;

	for (;;) {
		if (o->failed)
			return;
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = 1;
			return;
		}
		if ((size_t) n < o->cap - o->len) {
			o->len += (size_t) n;
			return;
		}
		cap = o->cap * 2 + (size_t) n;
		if ((nb = realloc(o->buf, cap)) == NULL) {
			o->failed = 1;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
}

/* out_escaped - a HELP text or label value, escaped as the format says */

static void
out_escaped(struct metrics_out *o, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			out_printf(o, "\\\\");
		else if (*s == '\n')
			out_printf(o, "\\n");
		else if (*s == '"' && quote)
			out_printf(o, "\\\"");
		else
			out_printf(o, "%c", *s);
	}
}

/* out_labels - {a="x",b="y"[,le="..."]}, or nothing */

static void
out_labels(struct metrics_out *o, const struct mw_metric_def *d, int set, int n2, const char *le)
{
	if (d->label1 == NULL && le == NULL)
		return;
	out_printf(o, "{");
	if (d->label1 != NULL) {
		out_printf(o, "%s=\"", d->label1);
		out_escaped(o, d->values1[set / n2], 1);
		out_printf(o, "\"");
	}
	if (d->label2 != NULL) {
		out_printf(o, ",%s=\"", d->label2);
		out_escaped(o, d->values2[set % n2], 1);
		out_printf(o, "\"");
	}
	if (le != NULL)
		out_printf(o, "%sle=\"%s\"", d->label1 ? "," : "", le);
	out_printf(o, "}");
}

/* out_histogram - cumulative buckets, sum, count of one label set */

static void
out_histogram(struct metrics_out *o, const struct mw_metrics *m, int id, int set, int n2)
{
	const struct mw_metric_def *d = m->defs + id;
	int	slot = m->base[id] + set * m->width[id];
	unsigned long long cum = 0;
	unsigned long long us;
	char	le[32];
	int	b;

	for (b = 0; b <= d->nbuckets; b++) {
		cum += metrics_sum(m, slot + b);
		if (b < d->nbuckets)
			snprintf(le, sizeof(le), "%g", d->buckets[b]);
		else
			mw_strlcpy(le, "+Inf", sizeof(le));
		out_printf(o, "%s_bucket", d->name);
		out_labels(o, d, set, n2, le);
		out_printf(o, " %llu\n", cum);
	}
	us = metrics_sum(m, slot + d->nbuckets + 1);
	out_printf(o, "%s_sum", d->name);
	out_labels(o, d, set, n2, NULL);
	out_printf(o, " %llu.%06llu\n", us / 1000000, us % 1000000);
	out_printf(o, "%s_count", d->name);
	out_labels(o, d, set, n2, NULL);
	out_printf(o, " %llu\n", cum);
}

/* mw_metrics_render - the text exposition format 0.0.4 */

char   *
mw_metrics_render(struct mw_metrics *m, size_t *lenp)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	const struct mw_metric_def *d;
	struct metrics_out o;
	int	n2;
	int	set;
	int	i;

	if (m->collect != NULL)
		m->collect(m, m->collect_arg);
	memset(&o, 0, sizeof(o));
	o.cap = 16384;
	if ((o.buf = malloc(o.cap)) == NULL)
		return (NULL);
	o.buf[0] = '\0';
	for (i = 0; i < m->ndefs; i++) {
		d = m->defs + i;
		n2 = d->label2 ? metrics_nvalues(d->values2) : 1;
		out_printf(&o, "# HELP %s ", d->name);
		out_escaped(&o, d->help, 0);
		out_printf(&o, "\n# TYPE %s %s\n", d->name, types[d->type]);
		for (set = 0; set < m->nsets[i]; set++) {
			if (d->type == MW_METRIC_HISTOGRAM) {
				out_histogram(&o, m, i, set, n2);
				continue;
			}
			out_printf(&o, "%s", d->name);
			out_labels(&o, d, set, n2, NULL);
			out_printf(&o, " %lld\n", mw_metrics_get(m, i, set));
		}
	}
	if (o.failed) {
		free(o.buf);
		return (NULL);
	}
	*lenp = o.len;
	return (o.buf);
}

/* mw_metrics_listen_parse - MetricsListen: PORT, inet:PORT[@HOST], inet6:... */

int
mw_metrics_listen_parse(const char *spec, struct mw_endpoint *ep, char *err, size_t errlen)
{
	char	buf[MW_EP_STR_MAX];
	const char *cp;

	if (spec == NULL || *spec == '\0')
		return (mw_err(err, errlen, "empty"));
	for (cp = spec; *cp >= '0' && *cp <= '9'; cp++)
		 /* void */ ;
	if (*cp == '\0') {
		snprintf(buf, sizeof(buf), "inet:%s@127.0.0.1", spec);
		spec = buf;
	}
	if (mw_endpoint_parse(spec, ep, err, errlen) < 0)
		return (-1);
	if (ep->type == MW_EP_UNIX)
		return (mw_err(err, errlen, "%s: not a TCP address (PORT, inet:PORT@HOST)", spec));
	/* no address: loopback, never every interface by accident */
	if (ep->host[0] == '\0')
		mw_strlcpy(ep->host, ep->type == MW_EP_INET6 ? "::1" : "127.0.0.1", sizeof(ep->host));
	return (0);
}
