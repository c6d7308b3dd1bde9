/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Copies the PCI and IOMMU part of sysfs, /dev/vfio and the holders' /proc into a tree. */
#pragma once

#include "sysfs.h"

struct snapshot_stats {
	size_t devices, groups, holders, files;
};

/* dest must not exist or be an empty directory: -EEXIST otherwise. */
int snapshot_write(const struct sysroot *r, const char *dest, struct snapshot_stats *st);
