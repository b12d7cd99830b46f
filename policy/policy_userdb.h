/*++
/* NAME
/*	policy_userdb 3h
/* SUMMARY
/*	Dovecot auth-userdb lookups inside mailwarren-policyd's event loop
/* SYNOPSIS
/*	#include "policy_userdb.h"
/* DESCRIPTION
/*	See policy_userdb.c.
/*--*/
#ifndef POLICY_USERDB_H
#define POLICY_USERDB_H

struct policy_userdb;

#include <stddef.h>

extern struct policy_userdb *policy_userdb_create(const char *, int, void *, char *, size_t);
extern int policy_userdb_submit(struct policy_userdb *, const char *, const char *, int,
				        void (*) (void *, int), void *, long long);
extern const char *policy_userdb_line(const struct policy_userdb *);
extern void policy_userdb_io(struct policy_userdb *, int, long long);
extern void policy_userdb_tick(struct policy_userdb *, long long);
extern int policy_userdb_busy(const struct policy_userdb *);
extern void policy_userdb_free(struct policy_userdb *);

#endif
