/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A plan: where each device of an operation starts and ends, and the writes between. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sysfs.h"

/* The driver the kernel picks by itself, through drivers_probe. */
#define KERNEL_CHOICE "*"

enum step_kind {
	STEP_LOAD_MODULE,
	STEP_SET_OVERRIDE,
	STEP_UNBIND,
	STEP_BIND,
	STEP_PROBE,
	STEP_CHOWN,
};

struct step {
	enum step_kind kind;
	char addr[PCI_ADDR_MAX];
	char *driver; /* module, override value ("" clears), or driver to (un)bind */
};

/* Where each device starts and where the plan takes it. */
struct devstate {
	char addr[PCI_ADDR_MAX];
	char *driver, *override;	   /* before */
	char *want_driver, *want_override; /* after; KERNEL_CHOICE: the kernel's pick */
	char **netifs; /* its network interfaces, NULL-terminated, or NULL */
	size_t n_netifs;
};

struct plan {
	struct step *steps;
	size_t n_steps;
	struct devstate *devs;
	size_t n_devs;
	int group;
	uid_t uid;
	gid_t gid;
	bool chown;
};

void plan_free(struct plan *p);
void plan_add(struct plan *p, enum step_kind kind, const char *addr, const char *driver);

struct pci_device;
struct devstate *plan_dev(struct plan *p, const struct pci_device *d,
			  const char *want_driver, const char *want_override);

/*
 * The writes that take the device ADDR from (cur_drv, cur_ov) to (want_drv, want_ov); a
 * want_drv of KERNEL_CHOICE is a drivers_probe, NULL an unbind.
 */
void plan_converge(struct plan *p, const char *addr, const char *cur_drv,
		   const char *cur_ov, const char *want_drv, const char *want_ov);
/* The step as a shell line, safe to paste: every name in it is quoted. */
char *plan_step_text(const struct plan *p, const struct step *s);
