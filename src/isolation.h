/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Why a group holds more than one device: the bridge or function without ACS isolation.
 */
#pragma once

#include "group.h"

/* Sentences, each naming the device that joins the group and why; NULL-terminated. */
char **isolation_explain(const struct model *m, const struct iommu_group *g);
