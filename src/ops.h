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

struct ops_result {
	char *message; /* one line: what was done, or why it was refused or failed */
	char **plan;   /* the sysfs writes, in order, one a line */
	size_t n_plan;
};

/*
 * Runs one operation. Returns an exit code of exitcode.h (EXIT_DONE, EXIT_FAILED,
 * EXIT_USAGE, EXIT_REFUSED, EXIT_JOURNAL); never prints: the caller shows res.
 */
int ops_run(const struct sysroot *r, const struct ops_request *req,
	    struct ops_result *res);
void ops_result_free(struct ops_result *res);

struct pci_device;
/* --driver auto: the VFIO variant driver whose vfio_pci: alias matches, else vfio-pci. */
char *ops_auto_driver(const struct sysroot *r, const struct pci_device *d);

/*
 * Finishes (finish) or rolls back the operation that the journal records; dry_run only
 * plans, and reads the journal of a --sysroot tree too.
 */
int ops_recover(const struct sysroot *r, bool finish, bool dry_run, double timeout,
		struct ops_result *res);
