/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The check command: can a group be passed through, and what stops it. */
#pragma once

#include "dmaownctl.h"

int cmd_check(struct ctl *c);
