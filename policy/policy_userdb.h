/*++
/* NAME
/*	policy_userdb 3h
/* SUMMARY
/*	recipient validation through Dovecot's auth-userdb socket
/* SYNOPSIS
/*	#include "policy_userdb.h"
/* DESCRIPTION
/*	See policy_userdb.c.
/*--*/
#ifndef POLICY_USERDB_H
#define POLICY_USERDB_H

#include "policy.h"			/* POLICY_USER_* */

struct policy_userdb;

extern struct policy_userdb *policy_userdb_create(const char *, int, int, void *, char *, size_t);
extern int policy_userdb_submit(struct policy_userdb *, const char *, void (*) (void *, int),
				        void *, long long);
extern void policy_userdb_io(struct policy_userdb *, int, long long);
extern void policy_userdb_tick(struct policy_userdb *, long long);
extern int policy_userdb_busy(const struct policy_userdb *);
extern void policy_userdb_free(struct policy_userdb *);

#endif
