/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Is a device in use by the host: network links, mounts, swap, dm/md, displays. */
#pragma once

#include "group.h"

/* What one run has read of the host's network, mount and swap tables. */
struct inuse;

struct inuse *inuse_new(const struct sysroot *r);
void inuse_free(struct inuse *u);

/*
 * Returns a one-line reason (malloc'ed) why taking the device from its driver would hurt
 * the host, or NULL when nothing uses it. On a --sysroot tree only what sysfs records is
 * checked: network and mount state belong to the running system. A table that cannot be
 * read is a reason: nothing is taken on a guess.
 */
char *inuse_reason(struct inuse *u, const struct pci_device *d);
