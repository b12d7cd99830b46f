/*++
/* NAME
/*	policy_rtopo 3h
/* SUMMARY
/*	hiredis replies as mw_rtopo(3) reads them
/* SYNOPSIS
/*	#include "policy_rtopo.h"
/* DESCRIPTION
/*	See policy_rtopo.c.
/*--*/
#ifndef POLICY_RTOPO_H
#define POLICY_RTOPO_H

#include "mw_rtopo.h"
#include "policy_hiredis.h"

extern struct mw_resp *policy_rtopo_view(const redisReply *);

#endif
