/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The apply command: claims every group that the boot configuration names. */
#pragma once

#include "dmaownctl.h"

int cmd_apply(struct ctl *c);
