/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Operations that move devices and groups between drivers: plan, journal, execute,
 * verify. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sysfs.h"

enum ops_kind {
	OPS_CLAIM_GROUP, /* arg: GROUP|DEVICE; driver: vfio driver or "auto" */
	OPS_RELEASE,	 /* arg: GROUP|DEVICE */
	OPS_UNBIND,	 /* arg: DEVICE */
	OPS_BIND,	 /* arg: DEVICE; driver */
	OPS_OVERRIDE,	 /* arg: DEVICE; driver, or NULL to clear */
};

struct ops_request {
	enum ops_kind kind;
	const char *arg;
	const char *driver;
	const char *owner; /* USER[:GROUP] for /dev/vfio/N, or NULL */
	bool force;	   /* skip the host-safety checks, never a predicted rejection */
	bool allow_noiommu;
	bool dry_run;	/* plan only: nothing is written */
	double timeout; /* seconds to wait for each uevent and for the lock */
};

/* What the command line gives every operation alike. */
struct ops_options {
	bool force; /* skip the host-safety checks, never a predicted rejection */
	bool allow_noiommu;
	bool dry_run;	/* plan only: nothing is written */
	double timeout; /* seconds to wait for each uevent and for the lock */
};

/* The request for KIND on ARG (a group, a device), with DRIVER and OWNER where KIND takes
 * them (else NULL), and the options that every operation takes. */
struct ops_request ops_request_make(enum ops_kind kind, const char *arg,
				    const char *driver, const char *owner,
				    const struct ops_options *o);

/*
 * How an operation ended, and why. Which exit code and which closing words each gets is
 * the command line's choice (outcome.h), not the operation's.
 */
enum ops_outcome {
	OPS_DONE,	    /* done as asked */
	OPS_NOTHING_TO_DO,  /* it is as asked already */
	OPS_PLANNED,	    /* --dry-run: planned, nothing written */
	OPS_BAD_REQUEST,    /* a name that is not valid or not there; not root; a tree */
	OPS_BAD_TREE,	    /* a --sysroot tree that is not one */
	OPS_DAMAGED_RECORD, /* a device's claimed record cannot be read */
	OPS_NO_GROUP,	    /* the device is in no IOMMU group: VFIO refuses it */
	OPS_REJECTED,	    /* the kernel would reject it (err: its errno, when known) */
	OPS_HELD,	    /* user space holds the group or device (err: EBUSY, if so) */
	OPS_NOIOMMU,	    /* a noiommu group, without --allow-noiommu */
	OPS_UNSAFE,	    /* it would hurt the host or a user: --force does it anyway */
	OPS_HARMFUL,	    /* it would hurt the host, and --force does not change that */
	OPS_NO_MODULE,	    /* a driver not loaded that no module provides */
	OPS_LOCKED,	    /* another dmaownctl holds the lock and makes no progress */
	OPS_UNTOUCHED,	    /* failed before the first write (err) */
	OPS_RESTORED,	    /* failed, and everything is back as it was */
	OPS_NOT_RESTORED,   /* failed half way, and the rollback failed: recover */
	OPS_JOURNAL_PENDING, /* an interrupted operation waits for recover */
	OPS_JOURNAL_DAMAGED, /* recover: the journal cannot be read */
	OPS_JOURNAL_KEPT,    /* recover failed: the journal is kept */
};

struct ops_result {
	enum ops_outcome outcome;
	int err;       /* the errno behind the outcome, or 0 */
	char *message; /* one line of facts: what was done, or why not */
	char **plan;   /* the sysfs writes, in order, one a line */
	size_t n_plan;
};

/* The outcomes that did what was asked, or found it done. */
static inline bool ops_succeeded(enum ops_outcome o)
{
	return o == OPS_DONE || o == OPS_NOTHING_TO_DO || o == OPS_PLANNED;
}

/* Runs one operation; never prints: the caller shows res. Returns res->outcome. */
enum ops_outcome ops_run(const struct sysroot *r, const struct ops_request *req,
			 struct ops_result *res);
void ops_result_free(struct ops_result *res);

struct pci_device;
/* --driver auto: the VFIO variant driver whose vfio_pci: alias matches, else vfio-pci. */
char *ops_auto_driver(const struct sysroot *r, const struct pci_device *d);

/*
 * Finishes (finish) or rolls back the operation that the journal records; dry_run only
 * plans, and reads the journal of a --sysroot tree too.
 */
enum ops_outcome ops_recover(const struct sysroot *r, bool finish, bool dry_run,
			     double timeout, struct ops_result *res);
