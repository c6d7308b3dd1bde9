/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Is a device in use by the host: network links, mounts, swap, dm/md, displays. */
#pragma once

#include "group.h"

/*
 * Returns a one-line reason (malloc'ed) why taking the device from its driver would hurt
 * the host, or NULL when nothing uses it. On a --sysroot tree only what sysfs records is
 * checked: network and mount state belong to the running system.
 */
char *inuse_reason(const struct sysroot *r, const struct pci_device *d);
