/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Copies the PCI and IOMMU part of sysfs, /dev/vfio and the holders' /proc into a tree.
 */
#pragma once

#include "sysfs.h"

struct snapshot_stats {
	size_t devices, groups, holders, files;
	size_t links_dropped; /* links of the source that lead out of the tree */
};

/*
 * Writes the snapshot into DEST, a directory that it makes itself (mode 0700): -EEXIST
 * when DEST exists, -ENOENT or -ENOTDIR when its parent does not, -ESTALE when DEST was
 * replaced while it was being made. Every write stays beneath DEST; when one fails, the
 * error is returned and DEST is removed again.
 */
int snapshot_write(const struct sysroot *r, const char *dest, struct snapshot_stats *st);
