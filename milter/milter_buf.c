/*++
/* NAME
/*	milter_buf 3
/* SUMMARY
/*	message buffer that spills to an unlinked temporary file
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	void	milter_buf_init(buf, conf)
/*	struct milter_buf *buf;
/*	const struct milter_conf *conf;
/*
/*	int	milter_buf_add(buf, data, len)
/*	const void *data;
/*	size_t	len;
/*
/*	const char *milter_buf_map(buf)
/*
/*	void	milter_buf_reset(buf)
/* DESCRIPTION
/*	A message is kept in memory while it is at most MemorySpoolMax
/*	bytes.  The first write past that moves it into a temporary file
/*	in TemporaryDirectory that is unlinked at once (nobody else can
/*	open it, and it vanishes with the descriptor), so that large
/*	messages do not grow the heap.  The memory buffer grows by
/*	doubling from 16 KB, never past MemorySpoolMax.
/*
/*	milter_buf_init() makes an empty buffer with the limits of conf
/*	(which must outlive the buffer's content).  milter_buf_add() appends.  milter_buf_map() returns the whole
/*	content as one read-only block (the memory buffer, or an mmap(2)
/*	of the file), valid until the next add or reset.
/*	milter_buf_reset() frees everything and starts afresh, with the
/*	same limits.
/* DIAGNOSTICS
/*	milter_buf_add() returns -1 (logged) when memory or the file
/*	cannot take the data; milter_buf_map() returns NULL when the file
/*	cannot be mapped.
/*--*/

/* System library. */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Utility library. */

#include "mw_msg.h"

/* Application-specific. */

#include "milter.h"

#define BUF_FIRST	16384

/* milter_buf_init - empty buffer */

void
milter_buf_init(struct milter_buf *buf, const struct milter_conf *conf)
{
	memset(buf, 0, sizeof(*buf));
	buf->fd = -1;
	buf->tmpdir = conf->temporary_directory;
	buf->spool_max = conf->memory_spool_max;
}

/* buf_unmap - drop a mapping */

static void
buf_unmap(struct milter_buf *buf)
{
	if (buf->map != NULL) {
		munmap(buf->map, buf->maplen);
		buf->map = NULL;
		buf->maplen = 0;
	}
}

/* buf_write - write all of data to the spool file */

static int
buf_write(struct milter_buf *buf, const char *data, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(buf->fd, data, len)) < 0) {
			if (errno == EINTR)
				continue;
			mw_warn("write to spool file in %s: %m", buf->tmpdir);
			return (-1);
		}
		data += n;
		len -= (size_t) n;
	}
	return (0);
}

/* buf_spill - move the memory content into a new unlinked file */

static int
buf_spill(struct milter_buf *buf)
{
	buf->fd = open(buf->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (buf->fd < 0) {
		mw_warn("cannot create spool file in %s: %m", buf->tmpdir);
		return (-1);
	}
	if (buf_write(buf, buf->mem, buf->len) < 0)
		return (-1);
	free(buf->mem);
	buf->mem = NULL;
	buf->cap = 0;
	return (0);
}

/* milter_buf_add - append data */

int
milter_buf_add(struct milter_buf *buf, const void *data, size_t len)
{
	size_t	cap;
	char   *mem;

	buf_unmap(buf);
	if (buf->fd < 0 && buf->len + len > buf->spool_max
	    && buf_spill(buf) < 0)
		return (-1);
	if (buf->fd >= 0) {
		if (buf_write(buf, data, len) < 0)
			return (-1);
		buf->len += len;
		return (0);
	}
	if (buf->len + len > buf->cap) {
		for (cap = buf->cap ? buf->cap : BUF_FIRST; cap < buf->len + len; cap *= 2)
			 /* void */ ;
		if (cap > buf->spool_max && buf->spool_max >= buf->len + len)
			cap = buf->spool_max;
		if ((mem = realloc(buf->mem, cap)) == NULL) {
			mw_warn("out of memory for a %zu-byte message", buf->len + len);
			return (-1);
		}
		buf->mem = mem;
		buf->cap = cap;
	}
	memcpy(buf->mem + buf->len, data, len);
	buf->len += len;
	return (0);
}

/* milter_buf_map - the whole content as one block */

const char *
milter_buf_map(struct milter_buf *buf)
{
	if (buf->fd < 0)
		return (buf->mem != NULL ? buf->mem : "");
	if (buf->map == NULL) {
		buf->map = mmap(NULL, buf->len, PROT_READ, MAP_SHARED, buf->fd, 0);
		if (buf->map == MAP_FAILED) {
			buf->map = NULL;
			mw_warn("cannot map %zu-byte spool file: %m", buf->len);
			return (NULL);
		}
		buf->maplen = buf->len;
	}
	return (buf->map);
}

/* milter_buf_reset - release everything */

void
milter_buf_reset(struct milter_buf *buf)
{
	buf_unmap(buf);
	if (buf->fd >= 0)
		close(buf->fd);
	free(buf->mem);
	buf->mem = NULL;
	buf->fd = -1;
	buf->len = buf->cap = 0;
}
