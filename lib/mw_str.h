/*++
/* NAME
/*	mw_str 3h
/* SUMMARY
/*	small string utilities
/* SYNOPSIS
/*	#include "mw_str.h"
/* DESCRIPTION
/*	See mw_str.c.
/*--*/
#ifndef MW_STR_H
#define MW_STR_H

#include <stddef.h>
#include <stdint.h>

extern size_t mw_strlcpy(char *, const char *, size_t);
extern char *mw_printable(char *, size_t, const char *, size_t);
extern char *mw_trim(char *);
extern void mw_lowercase(char *);
extern int mw_parse_ull(const char *, unsigned long long *, const char **);
extern uint64_t mw_hash(const void *, size_t);
extern long long mw_now_ms(void);
extern int mw_err(char *, size_t, const char *,...) __attribute__((format(printf, 3, 4)));

#endif
