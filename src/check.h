/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check: can a group be passed through, and what stops it. Findings about the host (the
 * IOMMU, interrupt remapping, the VFIO modules and nodes), each group (whether
 * claim-group would take it, why it is shared) and each device (resets, power, ROM,
 * SR-IOV), read from sysfs, /proc and the kernel's own files below the root; nothing is
 * written.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "group.h"

enum severity {
	SEV_OK,
	SEV_INFO,
	SEV_WARNING,
	SEV_BLOCKED,
};

struct finding {
	enum severity severity;
	const char *code; /* a stable word: "interrupt-remapping", "no-reset", ... */
	char *message;	  /* one line, each name from the system escaped */
	char *evidence;	  /* what it was read from, or NULL */
	char *hint;	  /* what to do about it, or NULL */
};

struct findings {
	struct finding *v;
	size_t n;
};

struct check_device {
	const struct pci_device *d;
	char **reset_methods; /* as reset_method lists them; NULL when it has none */
	size_t n_reset_methods;
	bool reset_known; /* the kernel has reset_method (5.15 and later) */
	struct findings f;
};

struct check_group {
	const struct iommu_group *g;
	struct findings f;
	struct check_device *devs;
	size_t n_devs;
	enum severity verdict; /* the worst of its own and its devices' findings */
};

struct check_report {
	struct findings host;
	enum severity host_verdict;
	struct check_group *groups;
	size_t n_groups;
};

struct check_opts {
	const char *owner;	   /* --owner USER: can they open /dev/vfio/N */
	unsigned long long memory; /* --memory SIZE: the guest RAM that VFIO pins, or 0 */
};

/* The host's findings: the IOMMU, interrupt remapping, the VFIO modules and nodes. */
void check_host(const struct sysroot *r, const struct model *m, struct findings *f);
/* The findings of group G and of each of its devices into *cg (claimable: the words of
 * claim-group's refusal, or NULL when it would take the group). */
void check_group(const struct sysroot *r, const struct model *m,
		 const struct iommu_group *g, const char *refusal,
		 const struct check_opts *o, struct check_group *cg);
void check_group_free(struct check_group *cg);
void check_report_free(struct check_report *rep);
/*
 * claim-group's refusal of group G, in the words that it prints (a dry run of its own
 * plan: one rule, one message), or NULL when it would take the group or has it.
 */
char *check_claim_refusal(const struct sysroot *r, const struct iommu_group *g,
			  double timeout);

/* "ready", "ready with warnings" or "blocked" */
const char *check_verdict_name(enum severity worst);
const char *check_severity_name(enum severity s);
enum severity findings_worst(const struct findings *f);
