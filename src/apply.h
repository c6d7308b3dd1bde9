/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The apply command: claims every group that the boot configuration names. */
#pragma once

#include "dmaownctl.h"

int cmd_apply(struct ctl *c);

struct conf;
struct conf_entry;
struct model;
/*
 * Each group that the configuration names, and whether it is as the entry asks now:
 * fn(arg, group, NULL, entry, reason) with reason NULL when it is, else "not-claimed"
 * (an endpoint is not on a VFIO driver), "owner" (its node is not owner='s, mode 0660)
 * or "conflict" (two entries ask for different things); a configured device in no IOMMU
 * group comes as fn(arg, -1, its address, entry, "no-iommu-group"). Reads only; what
 * apply would decide.
 */
void apply_drift(struct ctl *c, const struct model *m, const struct conf *conf,
		 void (*fn)(void *arg, int group, const char *device,
			    const struct conf_entry *e, const char *reason),
		 void *arg);
