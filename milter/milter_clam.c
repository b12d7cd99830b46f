/*++
/* NAME
/*	milter_clam 3
/* SUMMARY
/*	in-process libclamav engine: load, hot reload, bounded scans
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	void	milter_clam_init(conf)
/*	const struct milter_conf *conf;
/*
/*	void	milter_clam_check(conf)
/*
/*	void	milter_clam_reload(conf, force)
/*	int	force;
/*
/*	void	milter_clam_slots(conf)
/*
/*	int	milter_clam_scan(ctx, conf, qid, data, len, virname, vlen)
/*	SMFICTX	*ctx;
/*	const struct milter_conf *conf;
/*	const char *qid;
/*	const char *data;
/*	size_t	len;
/*	char	*virname;
/*	size_t	vlen;
/*
/*	const char *milter_clam_limit(virname)
/*	const char *virname;
/*
/*	void	milter_clam_version(buf, len)
/*	char	*buf;
/*	size_t	len;
/*
/*	void	milter_clam_done(void)
/* DESCRIPTION
/*	One compiled engine serves every libmilter worker thread.  Each
/*	scan holds a reference (cl_engine_addref), so a reload can swap in
/*	a new engine at any time and the old one is freed by the last scan
/*	that still uses it.
/*
/*	The functions that take conf (the reload thread's and main's) read
/*	the database settings from it: a configuration reload changes the
/*	database directory, the limits and the number of scan slots.
/*
/*	milter_clam_init() loads DatabaseDirectory.  A missing directory,
/*	one without database files, or a database that does not load is a
/*	fatal error at start.
/*
/*	milter_clam_check() is called periodically (DatabaseCheckInterval)
/*	by the reload thread; it reloads when cl_statchkdir() reports a
/*	change, or when the number of database files changed (it misses
/*	deleted files).  milter_clam_reload() reloads now.  With ReloadMode
/*	concurrent the new engine is compiled beside the old one (twice
/*	the memory for a while) and a failed reload keeps the old engine.
/*	With ReloadMode blocking, new scans wait (calling smfi_progress()
/*	every second; once the reload waits for the scans in progress, no
/*	new scan starts before it, however steady the traffic), the old
/*	engine is freed first and the new one loaded (half the peak memory);
/*	if that load
/*	fails there is no engine and scans end as OnScanError says until a
/*	later reload succeeds.
/*
/*	milter_clam_scan() scans one message held in memory, which must
/*	start with MILTER_FROM_LINE, as mail, with archive and MIME
/*	unpacking.  At most MaxConcurrentScans scans run at once (default:
/*	the number of cores); a session that has to wait calls
/*	smfi_progress() at once and then once a second, so that the MTA
/*	does not time out.  With -v every wait and every scan start is
/*	logged with the number of scans running, which shows the limit.
/*	A blocking reload logs "blocking reload: scans paused (N waiting)"
/*	once it holds the lock and "... scans resume" before it lets go;
/*	with -v a session that found the lock taken logs that it waits,
/*	and how long it waited.
/*	milter_clam_slots() applies a new MaxConcurrentScans (reload); scans
/*	running keep their slots.
/*
/*	A scan is complete only if libclamav had room to extract every
/*	part: libclamav ignores some failed writes of extracted parts (an
/*	unchecked fflush) and then scans what was written, a truncated or
/*	empty file, as clean.  So TemporaryDirectory (conf, the message's
/*	configuration) is checked before the scan (writable, not
/*	read-only, at least TemporaryDirectoryMinFree bytes and one inode
/*	free), again each time libclamav is about to scan a part it
/*	extracted (that part is still on disk then: if it was cut short by
/*	a full file system, the file system is still full), and libclamav's
/*	own errors about temporary files are caught (its message callback,
/*	which names the scan that caused them).  A scan that found a virus
/*	stands; any other scan touched by one of these is SCAN_ERROR, with
/*	a warning that names the directory and says what was short.
/*
/*	Exceeded limits (MaxRecursion, MaxFiles, MaxFileSize, MaxScanSize,
/*	the scan time, libclamav's e-mail limits) and encrypted archives
/*	are reported by libclamav as heuristic alerts
/*	(CL_SCAN_HEURISTIC_EXCEEDS_MAX, CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE;
/*	a signature match found elsewhere in the message wins over them):
/*	SCAN_LIMIT, with libclamav's name of the alert in virname;
/*	milter_clam_limit() gives the limit's short name ("MaxRecursion",
/*	"Encrypted.Zip") for such a name, or NULL for any other.
/*
/*	milter_clam_scan() returns SCAN_CLEAN, SCAN_VIRUS (the name copied
/*	into virname), SCAN_LIMIT or SCAN_ERROR (logged).
/*
/*	milter_clam_version() describes the engine for X-Virus-Scanned:
/*	"ClamAV 1.4.6/27000".  milter_clam_done() drops the engine.
/*--*/

/* System library. */

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <clamav.h>

/* Utility library. */

#include "mw_msg.h"
#include "mw_str.h"

/* Application-specific. */

#include "milter.h"

static pthread_mutex_t clam_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * ReloadMode blocking: scans hold it shared, the reload exclusively.  It
 * prefers the writer: once a reload waits, new scans wait behind it, so a
 * steady stream of overlapping scans cannot starve the reload (glibc's
 * default lock prefers readers).
 */
static pthread_rwlock_t clam_block = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct cl_engine *clam_engine;	/* the holder's reference */
static char clam_version[64];
static struct cl_stat clam_stat;
static unsigned clam_files;

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static long slots_max;			/* MaxConcurrentScans, resolved */
static long slots_used;			/* scans holding a slot */
static long scans_running;		/* inside libclamav (atomic) */
static long scans_paused;		/* held by a blocking reload (atomic) */

 /*
  * Sessions waiting for a slot, in arrival order; each lives on its
  * waiting thread's stack.  A freed slot goes to the first waiting message
  * of the smallest size class (below 64 KB, below 256 KB, below 1 MB, ...:
  * a factor of four each), so that a queue of large messages does not hold
  * up small ones while messages of much the same size are served in the
  * order they came (strict smallest-first made a 25 KB message wait as
  * long as 20 KB ones kept coming); a message that has waited SLOT_AGE_MS
  * goes first whatever its size, so that a steady stream of small ones
  * cannot starve it.  And with two slots or more, large messages
  * (SLOT_LARGE bytes or more) hold at most all slots but one: one is
  * always left for small messages.  Only the waiter given the slot is
  * woken.
  */
struct slot_waiter {
	struct slot_waiter *next;
	size_t	size;			/* message bytes */
	int	class;			/* slot_class(size) */
	long long since;		/* mw_now_ms() when it began to wait */
	int	granted;		/* the slot is ours */
	pthread_cond_t cond;		/* signalled when granted */
};
static struct slot_waiter *slot_waiters;
static struct slot_waiter **slot_tail = &slot_waiters;
static long slots_large;		/* slots held by large messages */

#define SLOT_AGE_MS	5000
#define SLOT_LARGE	(512 * 1024)

/* clam_count_files - number of database files in the directory */

static unsigned
clam_count_files(const char *dir)
{
	static const char *const ext[] = {".cvd", ".cld", ".cud", ".hdb", ".hsb", ".hdu",
		".hsu", ".mdb", ".msb", ".mdu", ".msu", ".ndb", ".ndu", ".ldb", ".ldu",
		".idb", ".cdb", ".fp", ".sfp", ".ign", ".ign2", ".ftm", ".cfg", ".pdb",
		".gdb", ".wdb", ".crb", ".cbc", ".yar", ".yara", ".imp", ".info", NULL};
	struct dirent *d;
	const char *dot;
	unsigned n = 0;
	DIR    *dp;
	int	i;

	if ((dp = opendir(dir)) == NULL)
		return (0);
	while ((d = readdir(dp)) != NULL) {
		if ((dot = strrchr(d->d_name, '.')) == NULL)
			continue;
		for (i = 0; ext[i] != NULL; i++) {
			if (strcmp(dot, ext[i]) == 0) {
				n++;
				break;
			}
		}
	}
	closedir(dp);
	return (n);
}

/*
 * One scan's context, for libclamav's callbacks (cb_ctx: the pre-cache
 * callback gets it as an argument, the message callback from libclamav's
 * per-thread scan context).
 */
struct clam_scan {
	const char *qid;
	const char *tmpdir;		/* TemporaryDirectory */
	unsigned long long min_free;	/* TemporaryDirectoryMinFree */
	int	short_of_room;		/* the scan may have missed parts */
	char	why[256];		/* what was short, for the warning */
};

/* clam_room - is there room in the temporary directory? 0, or -1 + why */

static int
clam_room(const char *dir, unsigned long long min_free, char *why, size_t len)
{
	unsigned long long avail;
	struct statvfs sv;

	if (access(dir, W_OK | X_OK) < 0) {
		snprintf(why, len, "not writable: %m");
		return (-1);
	}
	if (statvfs(dir, &sv) < 0) {
		snprintf(why, len, "statvfs: %m");
		return (-1);
	}
	if (sv.f_flag & ST_RDONLY) {
		snprintf(why, len, "read-only file system");
		return (-1);
	}
	avail = (unsigned long long) sv.f_bavail * sv.f_frsize;
	if (avail == 0 || avail < min_free) {
		snprintf(why, len, "%llu bytes free, below TemporaryDirectoryMinFree %llu",
			 avail, min_free);
		return (-1);
	}
	/* f_files 0: the file system does not count inodes */
	if (sv.f_files != 0 && sv.f_favail == 0) {
		snprintf(why, len, "no free inodes");
		return (-1);
	}
	return (0);
}

/* clam_short - remember the first reason a scan may be incomplete */

static void
clam_short(struct clam_scan *cs, const char *why)
{
	if (!cs->short_of_room) {
		cs->short_of_room = 1;
		mw_strlcpy(cs->why, why, sizeof(cs->why));
	}
}

/* clam_pre_cache - before each layer: is an extracted part complete? */

static cl_error_t
clam_pre_cache(int fd, const char *type, void *context)
{
	struct clam_scan *cs = context;
	char	why[200];

	(void) type;
	/* fd < 0: the message itself, from memory (checked before the scan) */
	if (cs != NULL && fd >= 0 && !cs->short_of_room
	    && clam_room(cs->tmpdir, cs->min_free, why, sizeof(why)) < 0)
		clam_short(cs, why);
	return (CL_CLEAN);
}

/* clam_msg - libclamav's messages: catch trouble with temporary files */

static void
clam_msg(enum cl_msg severity, const char *fullmsg, const char *msg, void *context)
{
	static const char *const words[] = {"temporary", "can't write", "can't create",
		"no space left", "read-only file system", "too many open files", "quota", NULL};
	struct clam_scan *cs = context;
	char	why[200];
	size_t	len;
	int	i;

	if (cs == NULL || severity < CL_MSG_WARN) {
		/* not during one of our scans: as libclamav does by default */
		fputs(fullmsg, stderr);
		return;
	}
	len = strcspn(msg, "\r\n");
	for (i = 0; words[i] != NULL; i++) {
		if (strcasestr(msg, words[i]) != NULL) {
			snprintf(why, sizeof(why), "libclamav: %.*s", (int) (len > 150 ? 150 : len), msg);
			clam_short(cs, why);
			return;
		}
	}
	mw_debug("%s: libclamav: %.*s", cs->qid, (int) len, msg);
}

/* clam_build - load and compile a new engine, or NULL (logged) */

static struct cl_engine *
clam_build(const struct milter_conf *conf, char *version, size_t vlen)
{
	const char *dir = conf->database_directory;
	struct cl_engine *e;
	struct timespec t0;
	unsigned sigs = 0;
	cl_error_t rc;
	int	err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (clam_count_files(dir) == 0) {
		mw_error("DatabaseDirectory %s: no ClamAV database files (*.cvd, *.cld, *.hdb, *.ndb, ...)", dir);
		return (NULL);
	}
	if ((e = cl_engine_new()) == NULL) {
		mw_error("cl_engine_new: out of memory");
		return (NULL);
	}
	cl_engine_set_num(e, CL_ENGINE_MAX_SCANSIZE, (long long) conf->max_scan_size);
	cl_engine_set_num(e, CL_ENGINE_MAX_FILESIZE, (long long) conf->max_file_size);
	cl_engine_set_num(e, CL_ENGINE_MAX_RECURSION, conf->max_recursion);
	cl_engine_set_num(e, CL_ENGINE_MAX_FILES, conf->max_files);
	if (conf->disable_cache)
		cl_engine_set_num(e, CL_ENGINE_DISABLE_CACHE, 1);
	cl_engine_set_str(e, CL_ENGINE_TMPDIR, conf->temporary_directory);
	cl_engine_set_clcb_pre_cache(e, clam_pre_cache);
	if ((rc = cl_load(dir, e, &sigs, CL_DB_STDOPT)) != CL_SUCCESS) {
		mw_error("cannot load ClamAV database %s: %s", dir, cl_strerror(rc));
		cl_engine_free(e);
		return (NULL);
	}
	if ((rc = cl_engine_compile(e)) != CL_SUCCESS) {
		mw_error("cannot compile ClamAV database %s: %s", dir, cl_strerror(rc));
		cl_engine_free(e);
		return (NULL);
	}
	snprintf(version, vlen, "ClamAV %s/%lld", cl_retver(),
		 (long long) cl_engine_get_num(e, CL_ENGINE_DB_VERSION, &err));
	mw_info("ClamAV database %s loaded: %u signatures in %ld ms", dir, sigs, milter_ms_since(&t0));
	milter_metrics_database(sigs, (long long) cl_engine_get_num(e, CL_ENGINE_DB_TIME, &err),
				(long long) cl_engine_get_num(e, CL_ENGINE_DB_VERSION, &err));
	return (e);
}

/* clam_swap - install a new engine; drop the holder's old reference */

static void
clam_swap(struct cl_engine *e, const char *version)
{
	struct cl_engine *old;

	pthread_mutex_lock(&clam_lock);
	old = clam_engine;
	clam_engine = e;
	if (version != NULL)
		mw_strlcpy(clam_version, version, sizeof(clam_version));
	pthread_mutex_unlock(&clam_lock);
	if (old != NULL)
		cl_engine_free(old);		/* freed by its last scan */
}

/* clam_stat_reset - remember the directory state of the loaded DB */

static void
clam_stat_reset(const struct milter_conf *conf)
{
	if (clam_stat.dir != NULL)
		cl_statfree(&clam_stat);
	memset(&clam_stat, 0, sizeof(clam_stat));
	cl_statinidir(conf->database_directory, &clam_stat);
	clam_files = clam_count_files(conf->database_directory);
}

/* slot_class - size class: 0 below 64 KB, then one more per factor 4 */

static int
slot_class(size_t size)
{
	int	class = 0;

	for (size >>= 16; size != 0; size >>= 2)
		class++;
	return (class);
}

/* slot_may_take - may a message of this size take a free slot? */

static int
slot_may_take(size_t size)
{
	return (slots_used < slots_max
		&& (size < SLOT_LARGE || slots_max < 2 || slots_large < slots_max - 1));
}

/* slot_take - count a slot as taken */

static void
slot_take(size_t size)
{
	slots_used++;
	if (size >= SLOT_LARGE)
		slots_large++;
}

/* slot_grant_locked - hand free slots to waiters; slot_lock held */

static void
slot_grant_locked(void)
{
	struct slot_waiter **pick, **pp, *w;
	long long now;

	if (slot_waiters == NULL)		/* the usual case: nobody waits */
		return;
	now = mw_now_ms();
	while (slots_used < slots_max && slot_waiters != NULL) {
		pick = NULL;
		if (now - slot_waiters->since >= SLOT_AGE_MS
		    && slot_may_take(slot_waiters->size))
			pick = &slot_waiters;
		else
			for (pp = &slot_waiters; *pp != NULL; pp = &(*pp)->next)
				if (slot_may_take((*pp)->size)
				    && (pick == NULL || (*pp)->class < (*pick)->class))
					pick = pp;
		if (pick == NULL)
			break;
		w = *pick;
		if ((*pick = w->next) == NULL)
			slot_tail = pick;
		w->granted = 1;
		slot_take(w->size);
		pthread_cond_signal(&w->cond);
	}
}

/* milter_clam_slots - apply MaxConcurrentScans */

void
milter_clam_slots(const struct milter_conf *conf)
{
	long	n = (long) conf->max_concurrent_scans;
	long	ncpu;

	if (n <= 0)
		n = (ncpu = sysconf(_SC_NPROCESSORS_ONLN)) > 0 ? ncpu : 1;
	pthread_mutex_lock(&slot_lock);
	if (n != slots_max && slots_max == 0)
		mw_info("at most %ld concurrent scans", n);
	else if (n != slots_max)
		mw_info("at most %ld concurrent scans (was %ld)", n, slots_max);
	slots_max = n;
	slot_grant_locked();
	pthread_mutex_unlock(&slot_lock);
}

/* milter_clam_init - first load; fatal on failure */

void
milter_clam_init(const struct milter_conf *conf)
{
	const char *dir = conf->database_directory;
	struct cl_engine *e;
	char	version[64];
	cl_error_t rc;

	if ((rc = cl_init(CL_INIT_DEFAULT)) != CL_SUCCESS)
		mw_fatal("cl_init: %s", cl_strerror(rc));
	cl_set_clcb_msg(clam_msg);
	if (access(dir, R_OK | X_OK) < 0)
		mw_fatal("DatabaseDirectory %s: %m (install ClamAV signatures, e.g. with freshclam)", dir);
	if (access(conf->temporary_directory, W_OK | X_OK) < 0)
		mw_fatal("TemporaryDirectory %s: %m", conf->temporary_directory);
	if ((e = clam_build(conf, version, sizeof(version))) == NULL)
		mw_fatal("DatabaseDirectory %s: no usable ClamAV database; not starting", dir);
	clam_swap(e, version);
	clam_stat_reset(conf);
	milter_clam_slots(conf);
	mw_info("ReloadMode %s", conf->reload_mode);
}

/* milter_clam_reload - load the database again, now */

void
milter_clam_reload(const struct milter_conf *conf, int force)
{
	struct cl_engine *e;
	char	version[64];

	mw_info("reloading ClamAV database %s (%s)", conf->database_directory,
		force ? "signal" : "directory changed");
	clam_stat_reset(conf);
	if (conf->reload_code == RELOAD_BLOCKING) {
		/* From here on new scans wait: the lock prefers the writer. */
		pthread_rwlock_wrlock(&clam_block);
		mw_info("blocking reload: scans paused (%ld waiting)",
			__atomic_load_n(&scans_paused, __ATOMIC_SEQ_CST));
		clam_swap(NULL, NULL);
		if ((e = clam_build(conf, version, sizeof(version))) != NULL)
			clam_swap(e, version);
		else
			mw_error("reload failed: no ClamAV engine; scans fail as OnScanError says until a reload succeeds");
		mw_info("blocking reload: scans resume (%ld waiting)",
			__atomic_load_n(&scans_paused, __ATOMIC_SEQ_CST));
		milter_metrics_reload("database", e != NULL);
		pthread_rwlock_unlock(&clam_block);
		return;
	}
	if ((e = clam_build(conf, version, sizeof(version))) != NULL)
		clam_swap(e, version);
	else
		mw_error("reload failed: keeping the ClamAV engine loaded before");
	milter_metrics_reload("database", e != NULL);
}

/* milter_clam_check - reload when the database directory changed */

void
milter_clam_check(const struct milter_conf *conf)
{
	if (cl_statchkdir(&clam_stat) == 1
	    || clam_count_files(conf->database_directory) != clam_files)
		milter_clam_reload(conf, 0);
	else if (clam_engine == NULL && conf->reload_code == RELOAD_BLOCKING)
		milter_clam_reload(conf, 0);
}

/* milter_clam_version - engine and database version */

void
milter_clam_version(char *buf, size_t len)
{
	pthread_mutex_lock(&clam_lock);
	mw_strlcpy(buf, clam_version, len);
	pthread_mutex_unlock(&clam_lock);
}

/* clam_slot_get - wait for a scan slot, keeping the MTA informed */

static void
clam_slot_get(SMFICTX *ctx, const char *qid, size_t size)
{
	struct slot_waiter self;
	struct timespec ts;
	struct timespec t0;
	long	progress = 0;

	pthread_mutex_lock(&slot_lock);
	if (slot_waiters == NULL && slot_may_take(size)) {
		slot_take(size);
		pthread_mutex_unlock(&slot_lock);
		return;
	}
	/* Others wait: queue up, in case one of them should go first. */
	self.next = NULL;
	self.size = size;
	self.class = slot_class(size);
	self.since = mw_now_ms();
	self.granted = 0;
	pthread_cond_init(&self.cond, NULL);
	*slot_tail = &self;
	slot_tail = &self.next;
	slot_grant_locked();
	if (self.granted) {
		pthread_mutex_unlock(&slot_lock);
		pthread_cond_destroy(&self.cond);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mw_debug("%s: waiting for a scan slot (%ld of %ld in use, %ld by large messages, %zu bytes)",
		 qid, slots_used, slots_max, slots_large, size);
	while (!self.granted) {
		/* At once, then every second: the MTA must not time out. */
		if (ctx != NULL) {
			/* A write to the MTA: not while holding up the others. */
			pthread_mutex_unlock(&slot_lock);
			if (smfi_progress(ctx) == MI_SUCCESS)
				progress++;
			pthread_mutex_lock(&slot_lock);
			if (self.granted)
				break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		(void) pthread_cond_timedwait(&self.cond, &slot_lock, &ts);
		if (!self.granted)
			slot_grant_locked();	/* SLOT_AGE_MS may have passed */
	}
	mw_debug("%s: got a scan slot after %ld progress notes", qid, progress);
	pthread_mutex_unlock(&slot_lock);
	milter_metrics_slot_wait(&t0);
	/* Nobody signals it now: it is off the list. */
	pthread_cond_destroy(&self.cond);
}

/* clam_slot_put - give a scan slot back */

static void
clam_slot_put(size_t size)
{
	pthread_mutex_lock(&slot_lock);
	slots_used--;
	if (size >= SLOT_LARGE)
		slots_large--;
	slot_grant_locked();
	pthread_mutex_unlock(&slot_lock);
}

/* milter_clam_limit - the limit a heuristic alert stands for, or NULL */

const char *
milter_clam_limit(const char *vir)
{
	static const char limits[] = "Heuristics.Limits.Exceeded.";
	static const char encrypted[] = "Heuristics.";

	if (strncmp(vir, limits, sizeof(limits) - 1) == 0)
		return (vir + sizeof(limits) - 1);
	if (strncmp(vir, encrypted, sizeof(encrypted) - 1) == 0
	    && strncmp(vir + sizeof(encrypted) - 1, "Encrypted.", 10) == 0)
		return (vir + sizeof(encrypted) - 1);
	return (NULL);
}

/* clam_block_wait - take clam_block shared; tell the MTA while a reload runs */

static void
clam_block_wait(SMFICTX *ctx, const char *qid)
{
	struct timespec t0;
	struct timespec ts;
	long	notes = 0;
	int	rc;

	/* No writer holds or waits for the lock: the common case. */
	if (pthread_rwlock_tryrdlock(&clam_block) == 0)
		return;
	__atomic_add_fetch(&scans_paused, 1, __ATOMIC_SEQ_CST);
	mw_debug("%s: scan waits for a blocking reload", qid);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if ((rc = pthread_rwlock_timedrdlock(&clam_block, &ts)) == 0)
			break;
		if (rc != ETIMEDOUT) {
			pthread_rwlock_rdlock(&clam_block);
			break;
		}
		/* a blocking reload: the MTA must not time out meanwhile */
		if (ctx != NULL)
			(void) smfi_progress(ctx);
		notes++;
	}
	__atomic_sub_fetch(&scans_paused, 1, __ATOMIC_SEQ_CST);
	mw_debug("%s: waited %ld ms for a blocking reload (%ld progress notes)", qid,
		 milter_ms_since(&t0), notes);
}

/* milter_clam_scan - scan one message from memory */

int
milter_clam_scan(SMFICTX *ctx, const struct milter_conf *conf, const char *qid,
		         const char *data, size_t len, char *virname, size_t vlen)
{
	struct cl_scan_options opts;
	struct clam_scan cs;
	struct cl_engine *e;
	const char *vir = NULL;
	const char *limit = NULL;
	unsigned long scanned = 0;
	cl_fmap_t *map;
	cl_error_t rc;
	char	why[200];

	memset(&cs, 0, sizeof(cs));
	cs.qid = qid;
	cs.tmpdir = conf->temporary_directory;
	cs.min_free = conf->temporary_min_free;
	clam_slot_get(ctx, qid, len);
	clam_block_wait(ctx, qid);
	if (clam_room(cs.tmpdir, cs.min_free, why, sizeof(why)) < 0)
		clam_short(&cs, why);		/* scan anyway: a virus found stands */
	pthread_mutex_lock(&clam_lock);
	if ((e = clam_engine) != NULL)
		cl_engine_addref(e);
	pthread_mutex_unlock(&clam_lock);
	if (e == NULL) {
		rc = CL_ENULLARG;
		mw_warn("no ClamAV engine loaded (failed reload)");
	} else if ((map = cl_fmap_open_memory(data, len)) == NULL) {
		rc = CL_EMEM;
	} else {
		memset(&opts, 0, sizeof(opts));
		opts.general = CL_SCAN_GENERAL_HEURISTICS;
		opts.parse = ~0U;
		/* Limits and encrypted archives: alerts, which OnScanLimit handles. */
		opts.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE;
		/* Counted apart from the slots: what -v shows is what ran. */
		mw_debug("%s: scan starts, %ld running", qid,
			 __atomic_add_fetch(&scans_running, 1, __ATOMIC_SEQ_CST));
		rc = cl_scanmap_callback(map, "message.eml", &vir, &scanned, e, &opts, &cs);
		__atomic_sub_fetch(&scans_running, 1, __ATOMIC_SEQ_CST);
		/* libclamav counts in units of CL_COUNT_PRECISION bytes */
		mw_debug("%s: scan done, %llu bytes scanned", qid,
			 (unsigned long long) scanned * CL_COUNT_PRECISION);
		if (rc == CL_VIRUS) {
			if (vir == NULL)
				vir = "unknown";
			limit = milter_clam_limit(vir);
			mw_strlcpy(virname, vir, vlen);
		}
		cl_fmap_close(map);
	}
	if (e != NULL)
		cl_engine_free(e);
	pthread_rwlock_unlock(&clam_block);
	/* After the scan, before the slot goes: the last parts were scanned. */
	if (rc == CL_CLEAN && !cs.short_of_room
	    && clam_room(cs.tmpdir, cs.min_free, why, sizeof(why)) < 0)
		clam_short(&cs, why);
	clam_slot_put(len);
	if (rc == CL_VIRUS && limit == NULL)
		return (SCAN_VIRUS);
	if (cs.short_of_room) {
		mw_warn("%s: TemporaryDirectory %s: %s; the scan may have missed parts: not accepted",
			qid, cs.tmpdir, cs.why);
		return (SCAN_ERROR);
	}
	if (rc == CL_VIRUS)
		return (SCAN_LIMIT);
	if (rc == CL_CLEAN)
		return (SCAN_CLEAN);
	if (e != NULL)
		mw_warn("ClamAV scan error: %s", cl_strerror(rc));
	return (SCAN_ERROR);
}

/* milter_clam_running - scans inside libclamav now */

long
milter_clam_running(void)
{
	return (__atomic_load_n(&scans_running, __ATOMIC_RELAXED));
}

/* milter_clam_done - drop the engine at exit */

void
milter_clam_done(void)
{
	/* clam_stat stays: the reload thread may still be looking at it. */
	clam_swap(NULL, NULL);
}
