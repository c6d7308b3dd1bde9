/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The metrics command: the state for Prometheus. */
#pragma once

#include "dmaownctl.h"

int cmd_metrics(struct ctl *c);
