/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A plan carried out against sysfs, with the kernel's uevents and driver links as judges.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "plan.h"
#include "sysfs.h"

struct kmod_ctx;
struct udev;
struct udev_monitor;

struct exec {
	const struct sysroot *r;
	struct udev *udev;
	struct udev_monitor *mon;
	struct kmod_ctx *kmod;
	double timeout;
	int lockfd;	 /* rewritten at each step: the sign of life that waiters see */
	char *error;	 /* the first failure, one line */
	long stop_after; /* test hook: die after this many steps, -1 never */
	size_t done;
};

/*
 * Opens the uevent monitor (kernel events: there may be no udevd);
 * DMAOWNCTL_TEST_STOP_AFTER (test builds) sets stop_after. 0 or -errno; exec_close() in
 * any case.
 */
int exec_open(struct exec *e, const struct sysroot *r, double timeout);
void exec_close(struct exec *e);
/*
 * Runs the steps from FROM on, rewriting the lock file before each; the first failure's
 * -errno, with e->error saying it in one line.
 */
int plan_execute(struct exec *e, const struct plan *p, size_t from);
/* Plans the way from what sysfs says now to each device's state "before" (or "want"). */
void plan_restore(const struct sysroot *r, const struct plan *from, struct plan *to,
		  bool forward);
/* Whether every device's driver is the plan's "before" (or "want"); a kernel's choice
 * matches any. */
bool state_matches(const struct sysroot *r, const struct plan *p, bool forward);
/* The device's driver now, from its link; NULL when unbound. */
char *current_driver(const struct sysroot *r, const char *addr);
/* driver_override as the kernel holds it, byte for byte; NULL when it is clear. */
char *override_read(const struct sysroot *r, const char *addr);
