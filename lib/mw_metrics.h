/*++
/* NAME
/*	mw_metrics 3h
/* SUMMARY
/*	Prometheus counters, gauges and histograms; text exposition
/* SYNOPSIS
/*	#include "mw_metrics.h"
/* DESCRIPTION
/*	See mw_metrics.c and mw_metrics_http.c.
/*--*/
#ifndef MW_METRICS_H
#define MW_METRICS_H

#include <stddef.h>
#include <time.h>

#include "mw_endpoint.h"

#define MW_METRIC_COUNTER	0
#define MW_METRIC_GAUGE		1
#define MW_METRIC_HISTOGRAM	2

#define MW_METRICS_STRIPES	16	/* per-thread slots of the counters */
#define MW_METRICS_BUCKETS_MAX	16	/* histogram buckets, +Inf not counted */

 /*
  * One metric: its name, help text, type, at most two labels, each with a
  * fixed, NULL-terminated list of values (the label sets are their
  * product), and for a histogram the upper bounds of its buckets, in
  * seconds, ascending.
  */
struct mw_metric_def {
	const char *name;
	const char *help;
	int	type;			/* MW_METRIC_* */
	const char *label1;		/* NULL: no labels */
	const char *const *values1;
	const char *label2;		/* NULL: one label at most */
	const char *const *values2;
	const double *buckets;		/* histograms */
	int	nbuckets;
};

struct mw_metrics;

 /*
  * A collector runs just before each exposition, in the thread that
  * renders it: it sets the gauges computed from state (ages, hosts up).
  */
typedef void (*mw_metrics_collect_fn) (struct mw_metrics *, void *);

extern struct mw_metrics *mw_metrics_create(const struct mw_metric_def *, int, char *, size_t);
extern void mw_metrics_free(struct mw_metrics *);
extern void mw_metrics_set_collector(struct mw_metrics *, mw_metrics_collect_fn, void *);
extern void mw_metrics_add(struct mw_metrics *, int, int, unsigned long long);
extern void mw_metrics_observe(struct mw_metrics *, int, int, double);
extern void mw_metrics_observe_since(struct mw_metrics *, int, int, const struct timespec *);
extern void mw_metrics_set(struct mw_metrics *, int, int, long long);
extern long long mw_metrics_get(struct mw_metrics *, int, int);
extern int mw_metrics_label(const struct mw_metric_def *, const char *, const char *);
extern char *mw_metrics_render(struct mw_metrics *, size_t *);

#define mw_metrics_inc(m, id, set)	mw_metrics_add((m), (id), (set), 1)
#define MW_METRICS_SET(v1, n2, v2)	((v1) * (n2) + (v2))

 /*
  * The HTTP listener (mw_metrics_http.c).
  */
#define MW_METRICS_HTTP_CONNS	16	/* scrapers served at once */
#define MW_METRICS_HTTP_REQ_MAX	8192	/* request head, bytes */
#define MW_METRICS_HTTP_TIMEOUT	2000	/* ms to send a request and read the answer */

struct mw_metrics_http;

extern int mw_metrics_listen_parse(const char *, struct mw_endpoint *, char *, size_t);
extern int mw_metrics_http_open(const struct mw_endpoint *, char *, size_t);
extern int mw_metrics_http_bind(const char *, char *, size_t, char *, size_t);
extern struct mw_metrics_http *mw_metrics_http_start(struct mw_metrics *, int, char *, size_t);
extern void mw_metrics_http_stop(struct mw_metrics_http *);

#endif
