/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who holds a group: the scan of /proc, and the words for what it found. */
#ifndef DMAOWNCTL_HOLDERS_H
#define DMAOWNCTL_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "group.h"
#include "sysfs.h"

/*
 * Fills the holders of groups (n_groups of them, sorted by number) from /proc below the
 * root: a device fd is counted against the group of its device, found in devs (n_devs
 * of them, sorted by address). Every process, or with among those of its n_among pids
 * alone. *partial is set when some processes' fds could not be read. Returns 0 or -errno.
 */
int holders_scan(const struct sysroot *r, struct iommu_group *groups, size_t n_groups,
		 const struct pci_device *devs, size_t n_devs, const pid_t *among,
		 size_t n_among, bool *partial);

const char *holder_kind_name(enum holder_kind k);
/* Whether a process has the device addr (NULL: any member) of g open, through a cdev or a
 * device fd: what makes its unbind block. */
bool group_has_device_fd_holder(const struct iommu_group *g, const char *addr);

enum holders_style {
	HOLDERS_CELL,	  /* "PID COMMAND (VM)", every process: list's column, top */
	HOLDERS_SENTENCE, /* "pid PID (COMMAND, VM NAME)", the first few: messages */
};
/*
 * The processes that hold g, one entry a process however many fds it has, joined by
 * ", "; NULL when none does. A sentence names the first HOLDERS_NAMED and counts the
 * rest.
 */
#define HOLDERS_NAMED 8
char *holders_join(const struct iommu_group *g, enum holders_style style);

#endif
